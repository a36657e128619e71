//! thinbench's CI regression gate: is a candidate's set of runs worse than a baseline's?
//!
//! ```no_run
//! # fn main() -> Result<(), thinbench_gate::GateError> {
//! use std::path::{Path, PathBuf};
//! let outcome = thinbench_gate::run_gate(&thinbench_gate::GateRequest {
//!     baseline: &[PathBuf::from("ci/baselines")],
//!     candidate: &[PathBuf::from("runs/ci")],
//!     config: Some(Path::new("ci/gate.toml")),
//!     out: Path::new("runs/ci/gate"),
//! })?;
//! println!("{:?}: {}", outcome.report.verdict, outcome.files.markdown.display());
//! # Ok(()) }
//! ```
//!
//! The layers, data flowing one way:
//!
//! - `load`: sample sets (run directories, `--repeat` and `merge` outputs, baseline
//!   stores) → [`LoadedRun`]s; incomplete runs refused;
//! - `figures`: each run → `(case, step, figure) → value`, with unit, kind, direction;
//! - `config`: `ci/gate.toml` → per-figure policy (direction, noise, floor, samples);
//! - `stats` and `verdict`: medians, bootstrap interval of the relative change of the
//!   median, Mann-Whitney U; the rules that turn them into verdicts;
//! - `analysis`: runs grouped by environment [`Fingerprint`], every figure judged, one
//!   [`GateReport`];
//! - `render`: JSON, JUnit XML, Markdown, Bencher and github-action-benchmark exports;
//! - `baseline` and `merge`: the files CI keeps and combines.
//!
//! Library code never prints; the CLI (`thinbench gate`, `baseline update`, `merge`) does.
#![warn(missing_docs)]

pub mod analysis;
pub mod baseline;
pub mod config;
mod error;
pub mod figures;
pub mod fingerprint;
pub mod load;
pub mod merge;
pub mod render;
pub mod stats;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use analysis::{compare, GateReport, Overall, Row, GATE_FORMAT_VERSION};
pub use error::GateError;
pub use fingerprint::Fingerprint;
pub use load::{find_run_dirs, load_sample_set, LoadedRun};
pub use render::OutputFiles;

/// What to gate.
#[derive(Debug, Clone, Copy)]
pub struct GateRequest<'a> {
    /// Baseline sample sets (run directories, or directories holding them, or a store).
    pub baseline: &'a [PathBuf],
    /// Candidate sample sets.
    pub candidate: &'a [PathBuf],
    /// Gate config; `None`: the built-in defaults.
    pub config: Option<&'a Path>,
    /// Where the outputs go.
    pub out: &'a Path,
}

/// What the gate found and wrote.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// The analysis.
    pub report: GateReport,
    /// The files written.
    pub files: OutputFiles,
}

/// Load both sets and the config, compare, and write every output.
pub fn run_gate(req: &GateRequest<'_>) -> Result<GateOutcome, GateError> {
    let config = match req.config {
        Some(p) => config::load_config(p)?,
        None => config::GateConfig::default(),
    };
    let baseline = load_sample_set(req.baseline)?;
    let candidate = load_sample_set(req.candidate)?;
    let report = compare(&baseline, &candidate, &config)?;
    let files = render::write_outputs(&report, &candidate, req.out)?;
    Ok(GateOutcome { report, files })
}

//! thinbench's reports: load a run directory, analyse it once into a [`ReportModel`],
//! and render that as Markdown (with PNG plots; fit for a CI job summary), self-contained
//! HTML (inline SVG) and CSV. Two runs of one scenario can be [`compare`]d figure by figure.
//!
//! ```no_run
//! # fn main() -> Result<(), thinbench_reports::ReportError> {
//! use std::path::Path;
//! let run = thinbench_reports::load_run(Path::new("runs/20261123T124914-44da-smoke"))?;
//! let model = thinbench_reports::build_model(&[run]);
//! let files = thinbench_reports::write_report(&model, Path::new("out"))?;
//! println!("{}", files.html.display());
//! # Ok(()) }
//! ```
//!
//! The layers follow criterion's "analysis before rendering": `load` reads and checks
//! the format version; `analysis` and `model` compute every figure once; `render`
//! lays the model out as a document that dumb renderers translate, with plots drawn by
//! plotters behind a `Plotter` trait (SVG for HTML, PNG for Markdown).
//!
//! Plot text needs a TrueType font at run time: DejaVu Sans from the Debian package
//! `fonts-dejavu-core`, or the file named by `THINBENCH_FONT`. Library code never prints.
#![warn(missing_docs)]

mod analysis;
mod error;
mod fault_window;
mod model;
mod render;
mod run_info;

pub use analysis::compare::{
    compare_sets, figure_addresses, CompareRules, Comparison, ComparisonRow, EnvDifference,
    FigureAddress, FigureId, FigureRule, Treatment, MIN_TIMING_SAMPLES, NOISE_PCT,
};
pub use analysis::kernels::{compare_kernels, KernelColumn, KernelComparison, KernelRow};
pub use analysis::pairing::{KindComparisonRow, KindValue};
pub use analysis::stats::{Nanos, Percentile};
pub use error::ReportError;
pub use thinbench_schema::load::LoadedRun;

/// Read the run in `dir` with the results contract's loader (`thinbench_schema::load`).
pub fn load_run(dir: &std::path::Path) -> Result<LoadedRun, ReportError> {
    Ok(thinbench_schema::load::load_run(dir)?)
}
pub use model::{
    build_model, DeferredInfo, ExpectationCounts, MarkKind, MetricRow, ModelCheck, PhaseEntry,
    PhaseGroup, PoolView, Problem, ReportModel, StepSpan, Timeline, TimelineMark, UsagePoint,
    UsageSource, WorkloadEntry, WorkloadGroup, DEFERRED_COUNT_METRIC, LOW_WATER_MARK_METRIC,
    MIN_FREE_SPACE_METRIC,
};
pub use render::markdown::{ImageLinks, IMAGE_BASE_ENV};
pub use render::plots::FONT_ENV;
pub use render::{
    comparison_markdown, kernel_comparison_markdown, report_markdown, report_markdown_with,
    write_comparison, write_kernel_comparison, write_report, write_report_with, ReportFiles,
};
pub use run_info::{clock_label, RunInfo};

/// Compare run `b` against baseline `a` (the same scenario, twice): every metric and
/// workload figure side by side with its change in percent, and the scenario or
/// environment differences that make the comparison doubtful. Sets of runs and rules
/// from a config: [`compare_sets`].
pub fn compare(a: &LoadedRun, b: &LoadedRun) -> Comparison {
    analysis::compare::compare(a, b)
}

//! Baselines kept in the repository, one directory per environment fingerprint:
//!
//! ```text
//! ci/baselines/
//!   <fingerprint slug>/
//!     baseline.json               what is here: fingerprint, runs (written by `update`)
//!     <scenario>/<run-id>/summary.json
//! ```
//!
//! `update` writes the runs given into their fingerprint's directory, replacing that
//! scenario's previous samples there and leaving other scenarios alone. The gate reads a
//! store like any sample set; grouping runs by fingerprint is what picks the baseline
//! matching the candidate (and refuses when there is none).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thinbench_schema::record::Status;

use crate::error::GateError;
use crate::fingerprint::Fingerprint;
use crate::load::{find_run_dirs, load_run, safe_run_id, safe_scenario, LoadedRun};

/// The manifest file of a fingerprint directory.
pub const MANIFEST: &str = "baseline.json";
/// Version of `baseline.json`.
pub const BASELINE_FORMAT_VERSION: u32 = 1;

/// `baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`BASELINE_FORMAT_VERSION`].
    pub format_version: u32,
    /// The environment every run here was measured in.
    pub fingerprint: Fingerprint,
    /// The runs, by scenario then path.
    pub runs: Vec<ManifestRun>,
}

/// One run of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRun {
    /// Scenario name.
    pub scenario: String,
    /// Run id.
    pub run_id: String,
    /// When it finished (RFC 3339).
    pub finished_at: Option<String>,
    /// thinbench commit that ran it, when known.
    pub thinbench_commit: Option<String>,
    /// Directory relative to the manifest.
    pub path: String,
}

/// What `update` wrote into one fingerprint directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The fingerprint directory.
    pub dir: PathBuf,
    /// Its environment.
    pub fingerprint: Fingerprint,
    /// Scenarios replaced, with their new sample count.
    pub scenarios: BTreeMap<String, usize>,
}

/// The result of `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    /// One per fingerprint written.
    pub updated: Vec<Updated>,
    /// Things worth saying (a failed run became a baseline sample).
    pub warnings: Vec<String>,
}

/// Write `runs` (complete, checked by the caller) into the store at `store`.
pub fn update(store: &Path, runs: &[LoadedRun]) -> Result<UpdateOutcome, GateError> {
    let mut by_fp: BTreeMap<Fingerprint, Vec<&LoadedRun>> = BTreeMap::new();
    for r in runs {
        by_fp
            .entry(Fingerprint::of(&r.summary.environment))
            .or_default()
            .push(r);
    }
    let mut warnings = Vec::new();
    let mut updated = Vec::new();
    for (fp, runs) in by_fp {
        let dir = store.join(fp.slug());
        let mut scenarios: BTreeMap<String, Vec<&LoadedRun>> = BTreeMap::new();
        for r in &runs {
            scenarios.entry(safe_scenario(r)?).or_default().push(r);
            safe_run_id(r)?;
            if r.summary.status != Status::Passed {
                warnings.push(format!(
                    "{}: run {} {:?} — its failures become the baseline's (a failure the \
                     candidate shares will not fail the gate)",
                    r.dir.display(),
                    r.summary.run_id,
                    r.summary.status
                ));
            }
        }
        let mut counts = BTreeMap::new();
        for (scenario, sruns) in &scenarios {
            let sdir = dir.join(scenario);
            if sdir.exists() {
                fs::remove_dir_all(&sdir).map_err(|e| GateError::write(&sdir, e))?;
            }
            for r in sruns {
                let rdir = sdir.join(safe_run_id(r)?);
                fs::create_dir_all(&rdir).map_err(|e| GateError::write(&rdir, e))?;
                let to = rdir.join("summary.json");
                fs::copy(r.dir.join("summary.json"), &to).map_err(|e| GateError::write(&to, e))?;
            }
            counts.insert(scenario.clone(), sruns.len());
        }
        write_manifest(&dir, &fp)?;
        updated.push(Updated {
            dir,
            fingerprint: fp,
            scenarios: counts,
        });
    }
    Ok(UpdateOutcome { updated, warnings })
}

/// Rewrite `dir/baseline.json` from the runs in `dir`.
fn write_manifest(dir: &Path, fp: &Fingerprint) -> Result<(), GateError> {
    let mut runs = Vec::new();
    for d in find_run_dirs(dir)? {
        let r = load_run(&d)?;
        let s = &r.summary;
        runs.push(ManifestRun {
            scenario: s.scenario.name.clone(),
            run_id: s.run_id.clone(),
            finished_at: s.finished_at.clone(),
            thinbench_commit: s.environment.thinbench_commit.clone(),
            path: d
                .strip_prefix(dir)
                .unwrap_or(&d)
                .to_string_lossy()
                .into_owned(),
        });
    }
    let m = Manifest {
        format_version: BASELINE_FORMAT_VERSION,
        fingerprint: fp.clone(),
        runs,
    };
    let path = dir.join(MANIFEST);
    let mut text = serde_json::to_string_pretty(&m).expect("manifest serialises");
    text.push('\n');
    fs::write(&path, text).map_err(|e| GateError::write(&path, e))
}

//! Sample sets: the runs given as a baseline or a candidate. A path is either a run
//! directory (it has `summary.json`) or a directory holding run directories at any depth
//! (`run --repeat N` writes `OUT/sample-1..N/`, `merge` writes `OUT/<scenario>/<run-id>/`,
//! a baseline store `ci/baselines/<fingerprint>/<scenario>/<run-id>/`). Only
//! `summary.json` is read: every figure the gate compares is in it.

use std::fs;
use std::path::{Path, PathBuf};

use thinbench_schema::record::Status;

use crate::error::GateError;

/// One run of a sample set: the results contract's loaded run, of which the gate reads
/// only `summary.json` (every figure it compares is there).
pub use thinbench_schema::load::LoadedRun;

/// Run directories under `root`, sorted by path: `root` itself when it is one, else every
/// directory below it that has a `summary.json` (not looking inside a run directory).
pub fn find_run_dirs(root: &Path) -> Result<Vec<PathBuf>, GateError> {
    let mut found = Vec::new();
    walk(root, &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), GateError> {
    // Anything named summary.json makes a run directory, so that reading it says what
    // is wrong with it (a FIFO, a device, a symlink out) instead of passing it over.
    if dir.join("summary.json").symlink_metadata().is_ok() {
        found.push(dir.to_path_buf());
        return Ok(());
    }
    let rd = fs::read_dir(dir).map_err(|e| GateError::read(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| GateError::read(dir, e))?;
        // Symlinked directories are not followed: a link back up would loop.
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            walk(&entry.path(), found)?;
        }
    }
    Ok(())
}

/// Read one run directory's `summary.json`, version first (a newer writer may have
/// changed the shape, and "newer format" is the useful message then).
pub fn load_run(dir: &Path) -> Result<LoadedRun, GateError> {
    Ok(thinbench_schema::load::load_summary(dir)?)
}

/// Every run under `paths`, in path order; each path must hold at least one. Refuses
/// incomplete runs and a run given twice.
pub fn load_sample_set(paths: &[PathBuf]) -> Result<Vec<LoadedRun>, GateError> {
    let mut runs: Vec<LoadedRun> = Vec::new();
    for p in paths {
        let dirs = find_run_dirs(p)?;
        if dirs.is_empty() {
            return Err(GateError::NoRuns { path: p.clone() });
        }
        for d in dirs {
            let run = load_run(&d)?;
            refuse_incomplete(&run)?;
            if let Some(other) = runs.iter().find(|r| r.summary.run_id == run.summary.run_id) {
                return Err(GateError::DuplicateRun {
                    run_id: run.summary.run_id.clone(),
                    first: other.dir.clone(),
                    second: run.dir.clone(),
                });
            }
            runs.push(run);
        }
    }
    Ok(runs)
}

/// An incomplete run is partial: comparing it would report every figure it did not reach
/// as missing, which is a symptom of the crash, not a regression to triage.
pub fn refuse_incomplete(run: &LoadedRun) -> Result<(), GateError> {
    let s = &run.summary;
    let case_incomplete = s.cases.iter().find(|c| c.status == Status::Incomplete);
    if s.status == Status::Incomplete || s.finished_at.is_none() || case_incomplete.is_some() {
        let why = s
            .error
            .clone()
            .or_else(|| case_incomplete.map(|c| format!("case {} did not finish", c.id)))
            .unwrap_or_else(|| "it never finished".into());
        return Err(GateError::Incomplete {
            path: run.dir.clone(),
            run_id: s.run_id.clone(),
            why,
        });
    }
    Ok(())
}

/// The run's id, checked to be safe as a directory name (thinbench writes
/// `20261123T124914-44da`: letters, digits, `-`).
pub(crate) fn safe_run_id(run: &LoadedRun) -> Result<&str, GateError> {
    let id = run.summary.run_id.as_str();
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(GateError::Output {
            path: run.dir.clone(),
            why: format!(
                "run id `{id}` is not a thinbench run id: refusing to use it as a directory name"
            ),
        });
    }
    Ok(id)
}

/// The run's scenario name, checked to be safe as a directory name (scenario names are
/// identifiers: letters, digits, `-`, `_`).
pub(crate) fn safe_scenario(run: &LoadedRun) -> Result<String, GateError> {
    thinbench_schema::ids::Ident::new(&run.summary.scenario.name)
        .map(|i| i.to_string())
        .map_err(|why| GateError::Output {
            path: run.dir.clone(),
            why: format!("scenario name {why}: refusing to use it as a directory name"),
        })
}

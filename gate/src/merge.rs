//! Merging result directories (the shards of a CI matrix) into one directory that
//! `report` and `gate` read as one set:
//!
//! ```text
//! OUT/
//!   merge.json                    where each run came from
//!   <scenario>/<run-id>/…         each run directory, copied whole
//! ```
//!
//! Run ids are unique per run, so shards never collide; a run found twice (the same
//! artifact downloaded twice) is refused rather than counted as two samples. Incomplete
//! runs are copied and named in the warnings: the gate refuses them, with the reason.

use std::fs;
use std::path::{Path, PathBuf};
use thinbench_schema::untrusted;

use serde::Serialize;
use thinbench_schema::record::Status;

use crate::error::GateError;
use crate::load::{find_run_dirs, load_run, refuse_incomplete, safe_run_id, safe_scenario};

/// The manifest merge writes.
pub const MERGE_MANIFEST: &str = "merge.json";

/// One run copied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedRun {
    /// Scenario name.
    pub scenario: String,
    /// Run id.
    pub run_id: String,
    /// Its verdict.
    pub status: Status,
    /// Where it was.
    pub from: PathBuf,
    /// Where it is now, relative to the output.
    pub to: PathBuf,
}

/// What `merge` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeOutcome {
    /// Format of `merge.json`.
    pub format_version: u32,
    /// Every run, in input order.
    pub runs: Vec<MergedRun>,
    /// Inputs with no runs, incomplete runs.
    pub warnings: Vec<String>,
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), GateError> {
    fs::create_dir_all(to).map_err(|e| GateError::write(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| GateError::read(from, e))? {
        let entry = entry.map_err(|e| GateError::read(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let t = entry.file_type().map_err(|e| GateError::read(&src, e))?;
        if t.is_dir() {
            copy_tree(&src, &dst)?;
        } else if t.is_file() {
            // Bounded and type-checked: a results directory is another run's, untrusted.
            let (mut f, _) =
                untrusted::open(&src, untrusted::limit::RESULT_FILE).map_err(GateError::Refused)?;
            let mut out = fs::File::create(&dst).map_err(|e| GateError::write(&dst, e))?;
            std::io::copy(&mut f, &mut out).map_err(|e| GateError::write(&dst, e))?;
        } else {
            // A symlink could copy a file from outside the results into them; thinbench
            // writes none, nor FIFOs or devices.
            return Err(GateError::Refused(untrusted::ReadError::NotRegular {
                path: src,
                kind: if t.is_symlink() {
                    "a symlink"
                } else {
                    "not a file"
                },
            }));
        }
    }
    Ok(())
}

/// Copy every run under `inputs` into `out`, which must not exist or be empty.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<MergeOutcome, GateError> {
    if out.exists() {
        let mut rd = fs::read_dir(out).map_err(|e| GateError::read(out, e))?;
        if rd.next().is_some() {
            return Err(GateError::Output {
                path: out.to_path_buf(),
                why: "exists and is not empty: merge into a new directory".into(),
            });
        }
    }
    let mut warnings = Vec::new();
    let mut found: Vec<(PathBuf, crate::load::LoadedRun)> = Vec::new();
    for input in inputs {
        let dirs = find_run_dirs(input)?;
        if dirs.is_empty() {
            // An empty shard (more shards than matrix entries) is not an error.
            warnings.push(format!("{}: no runs", input.display()));
        }
        for d in dirs {
            let run = load_run(&d)?;
            if let Some((_, other)) = found
                .iter()
                .find(|(_, r)| r.summary.run_id == run.summary.run_id)
            {
                return Err(GateError::DuplicateRun {
                    run_id: run.summary.run_id.clone(),
                    first: other.dir.clone(),
                    second: run.dir.clone(),
                });
            }
            if let Err(e) = refuse_incomplete(&run) {
                warnings.push(format!("{e} (copied; the gate will refuse it)"));
            }
            found.push((d, run));
        }
    }
    let mut runs = Vec::new();
    for (from, run) in found {
        let s = &run.summary;
        let scenario = safe_scenario(&run)?;
        let rel = PathBuf::from(&scenario).join(safe_run_id(&run)?);
        copy_tree(&from, &out.join(&rel))?;
        runs.push(MergedRun {
            scenario,
            run_id: s.run_id.clone(),
            status: s.status,
            from,
            to: rel,
        });
    }
    let outcome = MergeOutcome {
        format_version: 1,
        runs,
        warnings,
    };
    fs::create_dir_all(out).map_err(|e| GateError::write(out, e))?;
    let path = out.join(MERGE_MANIFEST);
    let mut text = serde_json::to_string_pretty(&outcome).expect("manifest serialises");
    text.push('\n');
    fs::write(&path, text).map_err(|e| GateError::write(&path, e))?;
    Ok(outcome)
}

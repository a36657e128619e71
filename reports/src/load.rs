//! Reading a run directory (`summary.json`, `samples.csv`, `events.jsonl`) with the
//! version check first, so a newer format fails with a clear message instead of a
//! confusing parse error.

use crate::error::ReportError;
use std::path::{Path, PathBuf};
use thinbench_schema::record::{PoolSample, RunEvent, RunSummary};
use thinbench_schema::untrusted;
use thinbench_schema::FORMAT_VERSION;

/// One run's results, as read from its directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadedRun {
    /// The run directory.
    pub dir: PathBuf,
    /// `summary.json`.
    pub summary: RunSummary,
    /// `samples.csv` rows, in file order (empty when the file is absent).
    pub samples: Vec<PoolSample>,
    /// `events.jsonl`, in file order (empty when the file is absent).
    pub events: Vec<RunEvent>,
    /// Things tolerated while reading (absent files, a torn last event line, event
    /// kinds newer than this reader); reports show them.
    pub warnings: Vec<String>,
}

impl LoadedRun {
    /// A run from parts already in memory (tests, or a caller that has them).
    pub fn new(
        dir: PathBuf,
        summary: RunSummary,
        samples: Vec<PoolSample>,
        events: Vec<RunEvent>,
    ) -> LoadedRun {
        LoadedRun {
            dir,
            summary,
            samples,
            events,
            warnings: Vec::new(),
        }
    }
}

/// Read the run in `dir`. `summary.json` is required; `samples.csv` and `events.jsonl`
/// may be missing (a run that died early), which is noted in [`LoadedRun::warnings`].
pub fn load_run(dir: &Path) -> Result<LoadedRun, ReportError> {
    let mut warnings = Vec::new();
    let summary = read_summary(&dir.join("summary.json"))?;

    let samples_path = dir.join("samples.csv");
    let samples = if samples_path.exists() {
        read_samples(&samples_path)?
    } else {
        warnings.push(format!(
            "{} is absent: no usage-over-time plot",
            samples_path.display()
        ));
        Vec::new()
    };

    let events_path = dir.join("events.jsonl");
    let events = if events_path.exists() {
        read_events(&events_path, &mut warnings)?
    } else {
        warnings.push(format!(
            "{} is absent: no mode changes or kernel log marks",
            events_path.display()
        ));
        Vec::new()
    };

    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        summary,
        samples,
        events,
        warnings,
    })
}

fn read_text(path: &Path, limit: u64) -> Result<String, ReportError> {
    untrusted::read_text(path, limit).map_err(ReportError::Read)
}

fn read_summary(path: &Path) -> Result<RunSummary, ReportError> {
    let text = read_text(path, untrusted::limit::SUMMARY_JSON)?;
    let bad = |source| ReportError::Summary {
        path: path.to_path_buf(),
        source,
    };
    // The version first, from an untyped read: a newer writer may have changed the
    // shape, and "newer format" is the useful message then, not a missing field.
    let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    if let Some(found) = value.get("format_version").and_then(|v| v.as_u64()) {
        if found > u64::from(FORMAT_VERSION) {
            return Err(ReportError::UnsupportedVersion {
                path: path.to_path_buf(),
                found,
                supported: FORMAT_VERSION,
            });
        }
    }
    serde_json::from_value(value).map_err(bad)
}

fn read_samples(path: &Path) -> Result<Vec<PoolSample>, ReportError> {
    let (f, _) = untrusted::open(path, untrusted::limit::EVENT_LOG).map_err(ReportError::Read)?;
    let mut rd = csv::Reader::from_reader(f);
    rd.deserialize()
        .collect::<Result<Vec<PoolSample>, _>>()
        .map_err(|source| ReportError::Sample {
            path: path.to_path_buf(),
            source,
        })
}

fn read_events(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<RunEvent>, ReportError> {
    let text = read_text(path, untrusted::limit::EVENT_LOG)?;
    let torn_tail = !text.is_empty() && !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut events = Vec::with_capacity(lines.len());
    let mut unknown = 0usize;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RunEvent>(line) {
            Ok(e) => events.push(e),
            Err(err) => match serde_json::from_str::<serde_json::Value>(line) {
                // Valid JSON of a kind this reader does not know: events are additive.
                Ok(_) => unknown += 1,
                // A run killed mid-write leaves its last line torn: tolerate that one.
                Err(_) if torn_tail && i + 1 == lines.len() => warnings.push(format!(
                    "{}: last line is cut off (the run was killed while writing it)",
                    path.display()
                )),
                Err(_) => {
                    return Err(ReportError::Event {
                        path: path.to_path_buf(),
                        line: i + 1,
                        source: err,
                    })
                }
            },
        }
    }
    if unknown > 0 {
        warnings.push(format!(
            "{}: skipped {unknown} event(s) of a kind this thinbench does not know",
            path.display()
        ));
    }
    Ok(events)
}

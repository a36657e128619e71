//! Reading a run directory (`summary.json`, `samples.csv`, `events.jsonl`) through
//! [`crate::untrusted`], the format version first, so a newer format fails with a clear
//! message instead of a confusing parse error. The one loader of the results readers:
//! reports read everything, the gate only `summary.json` ([`load_summary`]).

use std::path::{Path, PathBuf};

use crate::record::{PoolSample, RunEvent, RunSummary};
use crate::untrusted::{self, ReadError};
use crate::FORMAT_VERSION;

/// One run's results, as read from its directory.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadedRun {
    /// The run directory.
    pub dir: PathBuf,
    /// `summary.json`.
    pub summary: RunSummary,
    /// `samples.csv` rows, in file order (empty when absent or not read).
    pub samples: Vec<PoolSample>,
    /// `events.jsonl`, in file order (empty when absent or not read).
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

    /// A run of which only the summary is known (tests, simulations, the gate).
    pub fn summary_only(dir: PathBuf, summary: RunSummary) -> LoadedRun {
        LoadedRun::new(dir, summary, Vec::new(), Vec::new())
    }
}

/// Why a run directory could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// A result file could not be read, or was refused before reading: not a regular
    /// file, a kernel file, too large, not text (docs/security.md).
    Read(ReadError),
    /// `summary.json` is not JSON, or not a run summary of a known shape.
    Summary {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The run was written by a newer thinbench whose format this reader does not know.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u64,
        /// Newest version this reader knows.
        supported: u32,
    },
    /// A line of `events.jsonl` is not JSON.
    Event {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
    /// A row of `samples.csv` does not parse.
    Sample {
        /// The file.
        path: PathBuf,
        /// Why (the csv error names the row).
        source: csv::Error,
    },
}

// By hand, not thiserror: this crate stays serde-only for outside readers.
impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Read(e) => write!(f, "cannot read {}", e.path().display()),
            LoadError::Summary { path, .. } => {
                write!(f, "{} is not a thinbench run summary", path.display())
            }
            LoadError::UnsupportedVersion {
                path,
                found,
                supported,
            } => write!(
                f,
                "{} has format_version {found}, newer than the {supported} this thinbench \
                 reads: read it with a thinbench at least as new as the one that ran it",
                path.display()
            ),
            LoadError::Event { path, line, .. } => {
                write!(f, "{}, line {line}: not a JSON event", path.display())
            }
            LoadError::Sample { path, .. } => {
                write!(f, "{}: bad pool sample row", path.display())
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Read(e) => Some(e),
            LoadError::Summary { source, .. } | LoadError::Event { source, .. } => Some(source),
            LoadError::Sample { source, .. } => Some(source),
            LoadError::UnsupportedVersion { .. } => None,
        }
    }
}

/// Read the run in `dir`. `summary.json` is required; `samples.csv` and `events.jsonl`
/// may be missing (a run that died early), which is noted in [`LoadedRun::warnings`].
pub fn load_run(dir: &Path) -> Result<LoadedRun, LoadError> {
    let mut run = load_summary(dir)?;

    let samples_path = dir.join("samples.csv");
    if samples_path.exists() {
        run.samples = read_samples(&samples_path)?;
    } else {
        run.warnings.push(format!(
            "{} is absent: no usage-over-time plot",
            samples_path.display()
        ));
    }

    let events_path = dir.join("events.jsonl");
    if events_path.exists() {
        run.events = read_events(&events_path, &mut run.warnings)?;
    } else {
        run.warnings.push(format!(
            "{} is absent: no mode changes or kernel log marks",
            events_path.display()
        ));
    }
    Ok(run)
}

/// Read only `summary.json` of the run in `dir` (every figure a comparison needs is in it).
pub fn load_summary(dir: &Path) -> Result<LoadedRun, LoadError> {
    let summary = read_summary(&dir.join("summary.json"))?;
    Ok(LoadedRun::summary_only(dir.to_path_buf(), summary))
}

fn read_summary(path: &Path) -> Result<RunSummary, LoadError> {
    let text =
        untrusted::read_text(path, untrusted::limit::SUMMARY_JSON).map_err(LoadError::Read)?;
    let bad = |source| LoadError::Summary {
        path: path.to_path_buf(),
        source,
    };
    // The version first, from an untyped read: a newer writer may have changed the
    // shape, and "newer format" is the useful message then, not a missing field.
    let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    if let Some(found) = value.get("format_version").and_then(|v| v.as_u64()) {
        if found > u64::from(FORMAT_VERSION) {
            return Err(LoadError::UnsupportedVersion {
                path: path.to_path_buf(),
                found,
                supported: FORMAT_VERSION,
            });
        }
    }
    serde_json::from_value(value).map_err(bad)
}

fn read_samples(path: &Path) -> Result<Vec<PoolSample>, LoadError> {
    let (f, _) = untrusted::open(path, untrusted::limit::EVENT_LOG).map_err(LoadError::Read)?;
    let mut rd = csv::Reader::from_reader(f);
    rd.deserialize()
        .collect::<Result<Vec<PoolSample>, _>>()
        .map_err(|source| LoadError::Sample {
            path: path.to_path_buf(),
            source,
        })
}

fn read_events(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<RunEvent>, LoadError> {
    let text = untrusted::read_text(path, untrusted::limit::EVENT_LOG).map_err(LoadError::Read)?;
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
                    return Err(LoadError::Event {
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

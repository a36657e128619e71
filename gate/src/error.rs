//! The one error type of the gate crate. Every variant is a reason the gate cannot give a
//! verdict at all (exit 2 in the CLI): unreadable or incomplete results, a bad config,
//! no baseline for the candidate's environment. Regressions are verdicts, not errors.

use std::path::PathBuf;

use crate::config::ConfigErrors;
use crate::fingerprint::{FieldDifference, Fingerprint};

/// Why the gate could not compare.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// A file refused before reading: not a regular file, a kernel file, too large,
    /// not text (docs/security.md).
    #[error("cannot read {}", .0.path().display())]
    Refused(#[source] thinbench_schema::untrusted::ReadError),
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An output file or directory could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A run's `summary.json` could not be read (the results contract's one loader):
    /// refused, not a summary, or of a newer format.
    #[error(transparent)]
    Load(#[from] thinbench_schema::load::LoadError),
    /// A run did not finish: its figures are partial and would compare as "missing".
    #[error(
        "{path}: run {run_id} is incomplete ({why}): a partial run is not a sample; \
         rerun it (or leave it out)"
    )]
    Incomplete {
        /// The run directory.
        path: PathBuf,
        /// Its run id.
        run_id: String,
        /// The run's error, or what is known.
        why: String,
    },
    /// A path given as a sample set holds no run directory.
    #[error("{path}: no run directory (a directory with summary.json) in it")]
    NoRuns {
        /// The path as given.
        path: PathBuf,
    },
    /// The same run was given twice (directly, or through two shards or sets).
    #[error("run {run_id} is given twice: {first} and {second}")]
    DuplicateRun {
        /// The run id.
        run_id: String,
        /// Where it was first found.
        first: PathBuf,
        /// Where it was found again.
        second: PathBuf,
    },
    /// The gate config is wrong.
    #[error("{0}")]
    Config(#[from] ConfigErrors),
    /// A config rule's floor is a duration but the figure it applies to is not a time.
    #[error(
        "{file}:{line}:{col}: a duration floor does not apply to `{figure}` ({case}), measured in {unit}"
    )]
    FloorUnit {
        /// Config file.
        file: PathBuf,
        /// Rule position.
        line: usize,
        /// Rule position.
        col: usize,
        /// Figure name.
        figure: String,
        /// Case id.
        case: String,
        /// The figure's unit.
        unit: String,
    },
    /// No baseline was recorded in the candidate's environment.
    #[error("{}", render_mismatch(candidate, baselines))]
    FingerprintMismatch {
        /// The candidate's environment (boxed: the error type stays small).
        candidate: Box<Fingerprint>,
        /// Every baseline environment available, with where it is and how it differs.
        baselines: Vec<(PathBuf, Fingerprint, Vec<FieldDifference>)>,
    },
    /// The output directory of a merge or baseline update is not usable.
    #[error("{path}: {why}")]
    Output {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

impl GateError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> GateError {
        GateError::Read {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> GateError {
        GateError::Write {
            path: path.into(),
            source,
        }
    }
}

fn render_mismatch(
    candidate: &Fingerprint,
    baselines: &[(PathBuf, Fingerprint, Vec<FieldDifference>)],
) -> String {
    let mut s = format!(
        "no baseline was recorded in the candidate's environment ({candidate}): timings are \
         comparable only within one environment, so the gate refuses to compare"
    );
    if baselines.is_empty() {
        s.push_str("\n  the baseline holds no runs");
    }
    for (dir, fp, diffs) in baselines {
        s.push_str(&format!(
            "\n  baseline {} ({fp}) differs in:",
            dir.display()
        ));
        for d in diffs {
            s.push_str(&format!(
                "\n    {}: baseline `{}`, candidate `{}`",
                d.field, d.baseline, d.candidate
            ));
        }
    }
    s.push_str(
        "\n  hint: record a baseline in this environment with `thinbench baseline update \
         --from RUN…` (runs made with --repeat N), or gate against runs from the same kernel, \
         accelerator and CPU",
    );
    s
}

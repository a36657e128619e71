//! The one error type of the reports crate: every variant names the file or plot it is
//! about, and keeps the underlying error as its `source()`.

use std::path::PathBuf;

/// What can go wrong loading a run or writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A result file could not be read, or was refused before reading: not a regular
    /// file, a kernel file, too large, not text (docs/security.md).
    #[error("cannot read {}", .0.path().display())]
    Read(#[source] thinbench_schema::untrusted::ReadError),
    /// `summary.json` is not JSON, or not a run summary of a known shape.
    #[error("{path} is not a thinbench run summary")]
    Summary {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The run was written by a newer thinbench whose format this reader does not know.
    #[error(
        "{path} has format_version {found}, newer than the {supported} this thinbench reads: \
         report it with a thinbench at least as new as the one that ran it"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u64,
        /// Newest version this reader knows.
        supported: u32,
    },
    /// A line of `events.jsonl` is not JSON.
    #[error("{path}, line {line}: not a JSON event")]
    Event {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A row of `samples.csv` does not parse.
    #[error("{path}: bad pool sample row")]
    Sample {
        /// The file.
        path: PathBuf,
        /// Why (the csv error names the row).
        #[source]
        source: csv::Error,
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
    /// A CSV table could not be written.
    #[error("cannot write CSV {path}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// No font for plot text was found.
    #[error(
        "no font for plot text: tried {} (install the Debian package fonts-dejavu-core, \
         or set THINBENCH_FONT to a .ttf file)",
        tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    FontMissing {
        /// Files tried, in order.
        tried: Vec<PathBuf>,
    },
    /// A font file exists but is not a usable TrueType/OpenType font.
    #[error("{path} is not a usable TrueType/OpenType font")]
    FontInvalid {
        /// The file.
        path: PathBuf,
    },
    /// plotters failed drawing a figure. Its errors are generic over the backend, so
    /// they are kept as text.
    #[error("drawing plot `{plot}`: {message}")]
    Plot {
        /// Figure id.
        plot: String,
        /// plotters' message.
        message: String,
    },
}

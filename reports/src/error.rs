//! The one error type of the reports crate: every variant names the file or plot it is
//! about, and keeps the underlying error as its `source()`.

use std::path::PathBuf;

/// What can go wrong loading a run or writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A run directory could not be read (the results contract's one loader).
    #[error(transparent)]
    Load(#[from] thinbench_schema::load::LoadError),
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

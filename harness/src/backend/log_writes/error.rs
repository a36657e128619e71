//! The one error of reading and replaying a log.

use std::path::PathBuf;

use super::format::Corruption;

/// Log reading and replay failures.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading the log or writing a target failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The log's bytes are not a valid log.
    #[error("log {path}: {problem}")]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        problem: Corruption,
    },
    /// A replay region of zero length.
    #[error("replay region {region} ({path}) is empty")]
    EmptyRegion {
        /// Index in the list given.
        region: usize,
        /// Its file.
        path: PathBuf,
    },
    /// Two replay regions overlap.
    #[error("replay regions overlap: {a} and {b}")]
    RegionsOverlap {
        /// A region's file.
        a: PathBuf,
        /// The other's.
        b: PathBuf,
    },
    /// An entry touches bytes no region covers.
    #[error("entry {index}: bytes {offset}..{end} of the device are outside every region")]
    Unmapped {
        /// Entry index.
        index: u64,
        /// First uncovered byte.
        offset: u64,
        /// End of the entry.
        end: u64,
    },
    /// `advance_to` a point the replay has already passed.
    #[error("replay is past entry {index} (next is {next})")]
    Passed {
        /// Entry asked for.
        index: u64,
        /// Next entry to apply.
        next: u64,
    },
    /// `advance_to` an entry the log does not have.
    #[error("entry {index} is beyond the log's {nr_entries} entries")]
    BeyondLog {
        /// Entry asked for.
        index: u64,
        /// Entries in the log.
        nr_entries: u64,
    },
}

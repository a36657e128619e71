//! The backends' error: what failed (a dm ioctl, a tool, a loop device, a status line),
//! on which device, and why.

use std::path::PathBuf;

use super::device_safety;
use crate::errors::CommandError;

/// Backend failures, with the device and operation named.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A dm ioctl failed.
    #[error("dm {op} on {device}: {message}")]
    Dm {
        /// Operation.
        op: String,
        /// Device name.
        device: String,
        /// Cause.
        message: String,
    },
    /// A tool (lvm2, mkfs, ...) failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// File or loop device trouble.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// On which path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A status line could not be understood.
    #[error("pool {pool}: {message}")]
    Status {
        /// Pool.
        pool: String,
        /// What is wrong.
        message: String,
    },
    /// A device the scenario named may not be used (in use, or carries data).
    #[error(transparent)]
    Refused(#[from] device_safety::Refusal),
    /// The scenario asked for something this backend cannot do here.
    #[error("{0}")]
    Unsupported(String),
    /// A thin name the backend does not know (validation should have caught it).
    #[error("no thin device named {0} in this pool")]
    NoSuchThin(String),
}

/// Whether a backend error is the kernel's EBUSY.
pub fn is_busy(e: &BackendError) -> bool {
    let t = e.to_string();
    t.contains("EBUSY") || t.contains("Device or resource busy") || t.contains("in use")
}

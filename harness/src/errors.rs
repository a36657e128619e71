//! Error types per stage. Library code returns these; only `main.rs` turns them into
//! messages and exit codes.

use std::path::{Path, PathBuf};

/// Problems with the environment: kernel, qemu, privileges, missing tools.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// A required program or package is absent.
    #[error("{what} is missing: install it with `{install}`")]
    Missing {
        /// What is missing.
        what: String,
        /// The command that installs it.
        install: String,
    },
    /// The kernel for the VM is missing or unusable.
    #[error("{0}")]
    Kernel(String),
    /// Not running as root where root is needed.
    #[error("thinbench needs root to create block devices ({0}); run it as root (sudo)")]
    NotRoot(String),
    /// No device-mapper on the host and the VM cannot be used either.
    #[error("{0}")]
    Unavailable(String),
    /// File system trouble with a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// qemu failed to start or died.
    #[error("qemu: {0}")]
    Qemu(String),
}

impl EnvError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> EnvError {
        EnvError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// A command-line tool failed; carries its stderr (ripgrep's `CommandError`).
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed ({status}): {stderr}")]
pub struct CommandError {
    /// The command line.
    pub command: String,
    /// Exit status text.
    pub status: String,
    /// Its stderr, trimmed.
    pub stderr: String,
}

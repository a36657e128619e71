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
    /// The VM's clock cannot run with these settings (the instruction clock under KVM,
    /// or with several CPUs).
    #[error("{0}")]
    Clock(String),
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

/// What kind of failure an error is, in words a scenario can expect (`expect.error`):
/// the errno where the kernel gave one, else whether something refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Out of space.
    Enospc,
    /// I/O error.
    Eio,
    /// Device or resource busy.
    Ebusy,
    /// No data available (e.g. a thin pool's error_if_no_space).
    Enodata,
    /// Already exists.
    Eexist,
    /// Invalid argument.
    Einval,
    /// Not permitted.
    Eperm,
    /// Timed out.
    Etimedout,
    /// Operation not supported (dm-thin refuses pool messages in read-only mode).
    Eopnotsupp,
    /// A kernel or tool refusal without an errno (table load rejected, lvm refused).
    Refused,
    /// Not possible here (this pool kind, environment or backend).
    Unsupported,
    /// Anything else.
    Other,
}

impl Kind {
    /// Every kind, in the order the scenario docs list them.
    pub const ALL: [Kind; 12] = [
        Kind::Enospc,
        Kind::Eio,
        Kind::Ebusy,
        Kind::Enodata,
        Kind::Eexist,
        Kind::Einval,
        Kind::Eperm,
        Kind::Etimedout,
        Kind::Eopnotsupp,
        Kind::Refused,
        Kind::Unsupported,
        Kind::Other,
    ];

    /// The word a scenario writes.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Enospc => "ENOSPC",
            Kind::Eio => "EIO",
            Kind::Ebusy => "EBUSY",
            Kind::Enodata => "ENODATA",
            Kind::Eexist => "EEXIST",
            Kind::Einval => "EINVAL",
            Kind::Eperm => "EPERM",
            Kind::Etimedout => "ETIMEDOUT",
            Kind::Eopnotsupp => "EOPNOTSUPP",
            Kind::Refused => "refused",
            Kind::Unsupported => "unsupported",
            Kind::Other => "other",
        }
    }

    /// The kind a scenario word names, if any.
    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == word)
    }

    /// The kind of an errno; EACCES counts as EPERM, errnos without a kind are `other`.
    pub fn of_errno(e: nix::errno::Errno) -> Kind {
        use nix::errno::Errno;
        match e {
            Errno::ENOSPC => Kind::Enospc,
            Errno::EIO => Kind::Eio,
            Errno::EBUSY => Kind::Ebusy,
            Errno::ENODATA => Kind::Enodata,
            Errno::EEXIST => Kind::Eexist,
            Errno::EINVAL => Kind::Einval,
            Errno::EPERM | Errno::EACCES => Kind::Eperm,
            Errno::ETIMEDOUT => Kind::Etimedout,
            // The kernel's "operation not supported" (a read-only pool's thin messages; a
            // discard to an ignore_discard pool).
            Errno::EOPNOTSUPP => Kind::Eopnotsupp,
            _ => Kind::Other,
        }
    }

    /// The kind of an io error, from its errno.
    pub fn of_io(e: &std::io::Error) -> Kind {
        match e.raw_os_error() {
            Some(n) => Kind::of_errno(nix::errno::Errno::from_raw(n)),
            None if e.kind() == std::io::ErrorKind::TimedOut => Kind::Etimedout,
            None => Kind::Other,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a step with `expect.error` did not pass, or `None` when it did: it had to fail
/// with an error of one of the expected kinds.
pub fn check_error_kind(expected: &[Kind], actual: Result<(), Kind>) -> Option<String> {
    let names = || {
        expected
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match actual {
        Err(k) if expected.contains(&k) => None,
        Err(k) => Some(format!("expected an error of kind {}, got {k}", names())),
        Ok(()) => Some(format!(
            "expected an error of kind {}, but it succeeded",
            names()
        )),
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;

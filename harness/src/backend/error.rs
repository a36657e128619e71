//! The backends' error: what failed (a dm ioctl, a tool, a loop device, a status line),
//! on which device, and why.

use std::path::PathBuf;

use super::device_safety;
use crate::errors::{CommandError, Kind};

/// Backend failures, with the device and operation named.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A dm ioctl failed; the ioctl's errno, when it had one, is in the source (and is
    /// all the message shows of it: the ioctl's headers are for a debugger).
    #[error("dm {op} on {device}: {}", dm_text(source))]
    Dm {
        /// Operation.
        op: String,
        /// Device name.
        device: String,
        /// Cause.
        #[source]
        source: devicemapper::DmError,
    },
    /// The backend itself refuses with the errno the kernel would give (e.g. EBUSY for
    /// deleting a thin that is still active).
    #[error("dm {op} on {device}: {errno}: {why}")]
    Errno {
        /// Operation.
        op: String,
        /// Device name.
        device: String,
        /// The errno.
        errno: nix::errno::Errno,
        /// Why.
        why: String,
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
    /// A device's block-layer counters could not be read.
    #[error(transparent)]
    Stat(#[from] super::iostat::StatError),
}

impl BackendError {
    /// The errno behind this error, if the kernel (or the backend on its behalf) gave one.
    pub fn errno(&self) -> Option<nix::errno::Errno> {
        match self {
            BackendError::Dm { source, .. } => dm_errno(source),
            BackendError::Errno { errno, .. } => Some(*errno),
            BackendError::Io { source, .. } => {
                source.raw_os_error().map(nix::errno::Errno::from_raw)
            }
            _ => None,
        }
    }

    /// The kind scenarios can expect (`expect.error`).
    pub fn kind(&self) -> Kind {
        if let Some(e) = self.errno() {
            return Kind::of_errno(e);
        }
        match self {
            BackendError::Dm { .. } | BackendError::Command(_) | BackendError::Refused(_) => {
                Kind::Refused
            }
            BackendError::Unsupported(_) => Kind::Unsupported,
            BackendError::Io { .. }
            | BackendError::Status { .. }
            | BackendError::NoSuchThin(_)
            | BackendError::Stat(_) => Kind::Other,
            BackendError::Errno { .. } => Kind::Other,
        }
    }
}

/// The errno of a failed dm ioctl; none for the crate's own argument checks.
pub fn dm_errno(e: &devicemapper::DmError) -> Option<nix::errno::Errno> {
    match e {
        devicemapper::DmError::Core(devicemapper::errors::Error::Ioctl(_, _, _, errno)) => {
            // devicemapper links another nix; the errno number is the same.
            Some(nix::errno::Errno::from_raw(**errno as i32))
        }
        _ => None,
    }
}

/// A dm error in words: `EINVAL: Invalid argument` for an ioctl's errno, else the
/// library's text.
fn dm_text(e: &devicemapper::DmError) -> String {
    match dm_errno(e) {
        Some(errno) => errno.to_string(),
        None => e.to_string(),
    }
}

/// Whether a backend error is the kernel's EBUSY.
pub fn is_busy(e: &BackendError) -> bool {
    e.kind() == Kind::Ebusy
}

#[cfg(test)]
mod tests {
    use nix::errno::Errno;

    use super::*;

    fn dm_ioctl_error(errno: Errno) -> BackendError {
        BackendError::Dm {
            op: "remove".into(),
            device: "tb-thin".into(),
            source: devicemapper::DmError::Core(devicemapper::errors::Error::Ioctl(
                0,
                None,
                None,
                // devicemapper's own nix, reached through its TryFrom<io::Error>.
                Box::new(
                    std::io::Error::from_raw_os_error(errno as i32)
                        .try_into()
                        .unwrap(),
                ),
            )),
        }
    }

    #[test]
    fn a_dm_ioctl_error_keeps_its_errno_and_kind() {
        let e = dm_ioctl_error(Errno::EBUSY);
        assert_eq!(e.errno(), Some(Errno::EBUSY));
        assert_eq!(e.kind(), Kind::Ebusy);
        assert!(is_busy(&e));
        assert_eq!(dm_ioctl_error(Errno::ENOSPC).kind(), Kind::Enospc);
        assert!(!is_busy(&dm_ioctl_error(Errno::EINVAL)));
    }

    #[test]
    fn a_dm_error_without_errno_is_a_refusal() {
        let e = BackendError::Dm {
            op: "load table".into(),
            device: "tb-pool".into(),
            source: devicemapper::DmError::Dm(devicemapper::ErrorEnum::Invalid, "bad".into()),
        };
        assert_eq!(e.errno(), None);
        assert_eq!(e.kind(), Kind::Refused);
        assert_eq!(
            BackendError::Unsupported("x".into()).kind(),
            Kind::Unsupported
        );
    }
}

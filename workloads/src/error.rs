//! Errors of this crate: what stops a workload from running or finishing
//! ([`WorkloadError`]).
//!
//! IO errors *during* a workload are results, not errors: they are counted in
//! `WorkloadStats::errors` (a full pool answering ENOSPC is often what a scenario is
//! testing). A [`WorkloadError`] means the run could not be carried out as asked.

use std::io;
use std::path::PathBuf;

use thinbench_schema::units::Bytes;

/// Why a workload could not run, or could not finish in a meaningful way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// Opening the device (or file) failed. With `direct` set, EINVAL usually means the
    /// filesystem refuses O_DIRECT (tmpfs does).
    #[error("cannot open {} (O_DIRECT: {direct})", path.display())]
    Open {
        /// The path opened.
        path: PathBuf,
        /// Whether O_DIRECT was asked for.
        direct: bool,
        /// The OS error, errno preserved.
        #[source]
        source: io::Error,
    },
    /// The device's size could not be read (BLKGETSIZE64 or `fstat`).
    #[error("cannot read the size of {}", path.display())]
    Size {
        /// The device.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A read failed while verifying.
    #[error("read of {len} at offset {offset} from {} failed", path.display())]
    Read {
        /// The device.
        path: PathBuf,
        /// Start of the read.
        offset: Bytes,
        /// Length of the read.
        len: Bytes,
        /// The OS error, errno preserved.
        #[source]
        source: io::Error,
    },
    /// The IO engine refused to queue an IO (not the IO failing: that is counted).
    #[error("cannot queue an IO at offset {offset} on {}", path.display())]
    Submit {
        /// The device.
        path: PathBuf,
        /// Offset of the IO.
        offset: Bytes,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The IO engine failed while waiting for completions.
    #[error("waiting for IO completions on {} failed", path.display())]
    Complete {
        /// The device.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The region to work on does not fit the device.
    #[error("region ends at {end} but {} is only {len} long", path.display())]
    RegionBeyondDevice {
        /// The device.
        path: PathBuf,
        /// First byte past the region.
        end: Bytes,
        /// Length of the device.
        len: Bytes,
    },
    /// A workload parameter is out of its domain.
    #[error("invalid {param}: {reason}")]
    InvalidParam {
        /// Which parameter (field name).
        param: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// `ENOSPC: No space left on device`: errno name and text, the form `first_error` uses so
/// reports can match on the name. Errors without an errno keep their own text.
pub(crate) fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let errno = nix::errno::Errno::from_raw(code);
            if errno == nix::errno::Errno::UnknownErrno {
                format!("errno {code}: {e}")
            } else {
                format!("{errno:?}: {}", errno.desc())
            }
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_names_the_errno() {
        let e = io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(errno_text(&e), "ENOSPC: No space left on device");
        let e = io::Error::new(io::ErrorKind::WriteZero, "short write");
        assert_eq!(errno_text(&e), "short write");
    }

    #[test]
    fn messages_are_lowercase_and_keep_the_source() {
        let e = WorkloadError::Open {
            path: "/dev/x".into(),
            direct: true,
            source: io::Error::from_raw_os_error(libc::EINVAL),
        };
        assert_eq!(e.to_string(), "cannot open /dev/x (O_DIRECT: true)");
        let src = std::error::Error::source(&e).unwrap();
        let io = src.downcast_ref::<io::Error>().unwrap();
        assert_eq!(io.raw_os_error(), Some(libc::EINVAL));
    }
}

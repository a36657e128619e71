//! What makes a step fail ([`StepError`]): the backend's error, a workload's, an IO
//! error of the runner's own, or a refusal, each with its [`Kind`], which a scenario
//! can expect (`expect.error = "EBUSY"`); the words stay for people (`error_contains`).

use std::fmt;

use thinbench_workloads::error::WorkloadError;

use crate::backend::BackendError;
use crate::errors::{CommandError, Kind};

/// Why a step could not do what it was asked.
#[derive(Debug)]
pub enum StepError {
    /// The pool said no (a dm ioctl, lvm, a status read), errno kept.
    Backend(BackendError),
    /// A workload could not run (open, submit, complete), errno kept.
    Workload(WorkloadError),
    /// A tool the step ran (mkfs, mount, fio) failed.
    Command(CommandError),
    /// The accounting model refused an operation (the oracle's own failure).
    Model(thinbench_model::error::ModelError),
    /// The `log-writes` log could not be read or replayed.
    Log(crate::backend::log_writes::LogError),
    /// The runner's own IO (a read-back, a file), errno kept.
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// thinbench refused, as Docker would have (e.g. a snapshot below
    /// `min_free_space`).
    Refused(String),
    /// Anything else, in words.
    Failed(String),
    /// `inner`, while doing `context`.
    In {
        /// What was being done.
        context: String,
        /// Cause.
        inner: Box<StepError>,
    },
}

impl StepError {
    /// The kind a scenario can expect.
    pub fn kind(&self) -> Kind {
        match self {
            StepError::Backend(e) => e.kind(),
            StepError::Workload(e) => std::error::Error::source(e)
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .map_or(Kind::Other, Kind::of_io),
            StepError::Io { source, .. } => Kind::of_io(source),
            StepError::Command(_) | StepError::Refused(_) => Kind::Refused,
            StepError::Model(_) | StepError::Log(_) | StepError::Failed(_) => Kind::Other,
            StepError::In { inner, .. } => inner.kind(),
        }
    }

    /// This error, while doing `what`.
    pub fn context(self, what: impl Into<String>) -> StepError {
        StepError::In {
            context: what.into(),
            inner: Box::new(self),
        }
    }

    /// An IO error of the runner's own while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> StepError {
        StepError::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Backend(e) => write!(f, "{e}"),
            StepError::Command(e) => write!(f, "{e}"),
            StepError::Model(e) => write!(f, "the accounting model: {e}"),
            StepError::Log(e) => write!(f, "{e}"),
            // A workload error's own words leave its errno to the source.
            StepError::Workload(e) => match std::error::Error::source(e) {
                Some(s) => write!(f, "{e}: {s}"),
                None => write!(f, "{e}"),
            },
            StepError::Io { what, source } if what.is_empty() => write!(f, "{source}"),
            StepError::Io { what, source } => write!(f, "{what}: {source}"),
            StepError::Refused(m) | StepError::Failed(m) => f.write_str(m),
            StepError::In { context, inner } => write!(f, "{context}: {inner}"),
        }
    }
}

impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StepError::Backend(e) => Some(e),
            StepError::Workload(e) => Some(e),
            StepError::Command(e) => Some(e),
            StepError::Model(e) => Some(e),
            StepError::Log(e) => Some(e),
            StepError::Io { source, .. } => Some(source),
            StepError::In { inner, .. } => Some(inner.as_ref()),
            StepError::Refused(_) | StepError::Failed(_) => None,
        }
    }
}

impl From<BackendError> for StepError {
    fn from(e: BackendError) -> Self {
        StepError::Backend(e)
    }
}

impl From<WorkloadError> for StepError {
    fn from(e: WorkloadError) -> Self {
        StepError::Workload(e)
    }
}

impl From<CommandError> for StepError {
    fn from(e: CommandError) -> Self {
        StepError::Command(e)
    }
}

impl From<thinbench_model::error::ModelError> for StepError {
    fn from(e: thinbench_model::error::ModelError) -> Self {
        StepError::Model(e)
    }
}

impl From<crate::backend::log_writes::LogError> for StepError {
    fn from(e: crate::backend::log_writes::LogError) -> Self {
        StepError::Log(e)
    }
}

impl From<std::io::Error> for StepError {
    fn from(source: std::io::Error) -> Self {
        StepError::io("", source)
    }
}

impl From<String> for StepError {
    fn from(m: String) -> Self {
        StepError::Failed(m)
    }
}

impl From<&str> for StepError {
    fn from(m: &str) -> Self {
        StepError::Failed(m.to_owned())
    }
}

/// `.context(..)` on any result whose error becomes a [`StepError`].
pub trait Context<T> {
    /// The error, while doing `what`.
    fn context(self, what: impl Into<String>) -> Result<T, StepError>;
}

impl<T, E: Into<StepError>> Context<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, StepError> {
        self.map_err(|e| e.into().context(what))
    }
}

#[cfg(test)]
mod tests {
    use nix::errno::Errno;

    use super::*;

    #[test]
    fn the_kind_survives_context_and_the_words_keep_every_layer() {
        let e: Result<(), BackendError> = Err(BackendError::Errno {
            op: "delete".into(),
            device: "tb-x".into(),
            errno: Errno::EBUSY,
            why: "still active".into(),
        });
        let e = e.context("deleting a").unwrap_err();
        assert_eq!(e.kind(), Kind::Ebusy);
        assert_eq!(
            e.to_string(),
            "deleting a: dm delete on tb-x: EBUSY: Device or resource busy: still active"
        );
    }

    #[test]
    fn a_workload_error_shows_and_keeps_its_errno() {
        let e = StepError::from(WorkloadError::Open {
            path: "/dev/x".into(),
            direct: true,
            source: std::io::Error::from_raw_os_error(libc::ENOSPC),
        });
        assert_eq!(e.kind(), Kind::Enospc);
        assert!(e
            .to_string()
            .starts_with("cannot open /dev/x (O_DIRECT: true): "));
        let e = StepError::from(WorkloadError::InvalidParam {
            param: "io_size",
            reason: "zero".into(),
        });
        assert_eq!(e.kind(), Kind::Other);
    }

    #[test]
    fn refusals_and_words_have_their_kinds() {
        assert_eq!(StepError::Refused("no".into()).kind(), Kind::Refused);
        assert_eq!(StepError::from("x").kind(), Kind::Other);
        assert_eq!(
            StepError::io("reading", std::io::Error::from_raw_os_error(libc::EIO)).kind(),
            Kind::Eio
        );
    }
}

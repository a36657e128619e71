//! The validated form of the table-control steps: pool messages (`message`), suspend and
//! resume, activate and deactivate.

use std::fmt;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// A dm-thin pool message, as `pool_message` in `dm-thin.c` reads it. Device ids are
/// kept as written (`u64`): an id past dm-thin's 24 bits reaches the kernel only in a
/// step that expects its refusal (EINVAL), so that refusal is what is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMessage {
    /// `create_thin <dev id>`.
    CreateThin {
        /// The new thin's id.
        id: u64,
    },
    /// `create_snap <dev id> <origin id>`.
    CreateSnap {
        /// The new snapshot's id.
        id: u64,
        /// The origin's id.
        origin: u64,
    },
    /// `delete <dev id>`.
    Delete {
        /// The thin deleted.
        id: u64,
    },
    /// `set_transaction_id <current id> <new id>`.
    SetTransactionId {
        /// The id the pool must have now (else EINVAL).
        current: u64,
        /// The id it gets.
        new: u64,
    },
    /// `reserve_metadata_snap`: a snapshot of the metadata held for userspace tools.
    ReserveMetadataSnap,
    /// `release_metadata_snap`.
    ReleaseMetadataSnap,
}

impl PoolMessage {
    /// The message's name, as dm-thin reads it.
    pub fn name(&self) -> &'static str {
        match self {
            PoolMessage::CreateThin { .. } => "create_thin",
            PoolMessage::CreateSnap { .. } => "create_snap",
            PoolMessage::Delete { .. } => "delete",
            PoolMessage::SetTransactionId { .. } => "set_transaction_id",
            PoolMessage::ReserveMetadataSnap => "reserve_metadata_snap",
            PoolMessage::ReleaseMetadataSnap => "release_metadata_snap",
        }
    }
}

/// The text sent to the pool.
impl fmt::Display for PoolMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            PoolMessage::CreateThin { id } | PoolMessage::Delete { id } => {
                write!(f, "{name} {id}")
            }
            PoolMessage::CreateSnap { id, origin } => write!(f, "{name} {id} {origin}"),
            PoolMessage::SetTransactionId { current, new } => {
                write!(f, "{name} {current} {new}")
            }
            PoolMessage::ReserveMetadataSnap | PoolMessage::ReleaseMetadataSnap => {
                f.write_str(name)
            }
        }
    }
}

/// `message` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSpec {
    /// The message.
    pub message: PoolMessage,
    /// `thin`: the name a `create_thin`/`create_snap` message's thin gets (it has no
    /// device until an `activate` step).
    pub thin: Option<Ident>,
}

/// What a `suspend` or `resume` step works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlDevice {
    /// The thin-pool device.
    Pool,
    /// A thin's device.
    Thin(Ident),
}

impl fmt::Display for ControlDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlDevice::Pool => f.write_str("pool"),
            ControlDevice::Thin(t) => write!(f, "thin {t}"),
        }
    }
}

/// `activate` settings: a dm device for a thin the pool has.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivateSpec {
    /// The thin.
    pub thin: Ident,
    /// A read-only device (writes fail with EPERM).
    pub read_only: bool,
    /// The device's size (`None`: the size it had when it last had a device).
    pub size: Option<Bytes>,
}

/// A pool whose construction must fail (`expect_error`): the kernel's refusal of its
/// table is what the case tests, and no step runs on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRefusal {
    /// The kind of error the construction must fail with.
    pub kind: crate::errors::Kind,
    /// The data block size the table asks for, in sectors, when it is one dm-thin
    /// refuses (the pool's `chunk` is then the default, never used).
    pub chunk_sectors: Option<u64>,
}

//! Thin pool backends. `loop_lvm` builds Docker's loop-lvm pool with dm ioctls on loop
//! devices; `direct_lvm` follows Docker's direct-lvm recipe with lvm2. Both expose the
//! same operations to the runner and tear down in reverse order of construction.

pub mod btree_walk;
pub mod case_device;
pub mod device_safety;
pub mod direct_lvm;
mod discard;
pub mod dm;
mod error;
pub mod fake;
pub mod fault;
pub mod fault_log;
pub mod iostat;
pub mod log_writes;
pub mod loop_lvm;
pub mod loopdev;
pub mod metadata_repair;
pub mod names;
mod pool;
pub mod ram;
pub mod resize;
pub mod stack;
pub mod status;
pub mod table;
pub mod thin_delta;
pub mod thin_tools;

pub use error::{is_busy, BackendError};
pub use pool::{
    ensure_inactive, read_pool_status, DmStatusReader, PoolBackend, StatusReader, ThinDev,
};

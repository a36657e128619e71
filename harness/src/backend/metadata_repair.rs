//! The offline repair of a pool whose metadata ran out: what it did, and the one
//! thin-provisioning-tools call it adds to [`super::thin_tools`]'s (`thin_check
//! --clear-needs-check-flag`, which writes the superblock and so needs the pool inactive).

use std::path::Path;

use thinbench_schema::units::Bytes;

use super::thin_tools::{self, MetadataCheck};
use super::BackendError;
use crate::sys::command;

/// What [`super::PoolBackend::repair_metadata`] did, in order.
#[derive(Debug, Clone)]
pub struct MetadataRepair {
    /// `thin_check` of the inactive metadata before anything changed: is it consistent?
    pub check: MetadataCheck,
    /// How the `needs_check` flag was cleared (the command that did it).
    pub cleared_by: String,
    /// The metadata device's size before the repair.
    pub meta_before: Bytes,
    /// Its size after.
    pub meta_after: Bytes,
    /// Commands (or ioctls, in dmsetup's words) run, in order.
    pub commands: Vec<String>,
}

/// `thin_check --clear-needs-check-flag` on inactive metadata: checks it again and, if
/// it is clean, clears the superblock's `needs_check` flag (a no-op when it is not set).
pub fn clear_needs_check(meta: &Path) -> Result<String, BackendError> {
    let dev = meta.to_string_lossy();
    command::run("thin_check", &["--clear-needs-check-flag", &dev])?;
    Ok(format!("thin_check --clear-needs-check-flag {dev}"))
}

/// `thin_check` of `meta`, the shared helper's verdict.
pub fn check(meta: &Path) -> MetadataCheck {
    thin_tools::thin_check(meta)
}

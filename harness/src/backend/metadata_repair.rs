//! The offline repair of a pool whose metadata ran out: what it did, and the one
//! thin-provisioning-tools call it adds to [`super::thin_tools`]'s (`thin_check
//! --clear-needs-check-flag`, which writes the superblock and so needs the pool inactive).

use std::path::Path;

use thinbench_schema::units::Bytes;

use super::error::BackendError;
use super::thin_tools::{self, MetadataCheck};
use crate::sys::command;

/// What [`super::pool::PoolBackend::repair_metadata`] did, in order.
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

/// What [`super::pool::PoolBackend::reboot`] did.
#[derive(Debug, Clone)]
pub struct Reboot {
    /// `thin_check` of the metadata as the power cut left it.
    pub check: MetadataCheck,
    /// `thin_repair`'s command, when the check failed and repair was asked for.
    pub repaired: Option<String>,
    /// `thin_check` after the repair, when there was one.
    pub check_after_repair: Option<MetadataCheck>,
    /// Commands run, in order.
    pub commands: Vec<String>,
    /// Thins the metadata no longer has (created after its last commit), with why their
    /// activation failed; they are gone from the pool.
    pub lost_thins: Vec<(thinbench_schema::ids::Ident, String)>,
}

/// `thin_repair` of `meta` in place, through a scratch file `tmp` of the same size: the
/// repaired metadata is written back over the device (inactive pool).
pub fn thin_repair_in_place(meta: &Path, tmp: &Path, size: u64) -> Result<String, BackendError> {
    super::loopdev::sparse_file(tmp, size)?;
    let result = (|| {
        command::run(
            "thin_repair",
            &["-i", &meta.to_string_lossy(), "-o", &tmp.to_string_lossy()],
        )?;
        let data = std::fs::read(tmp).map_err(|e| BackendError::Io {
            what: "reading".into(),
            path: tmp.to_owned(),
            source: e,
        })?;
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(meta)
            .map_err(|e| BackendError::Io {
                what: "opening".into(),
                path: meta.to_owned(),
                source: e,
            })?;
        f.write_all(&data)
            .and_then(|()| f.sync_all())
            .map_err(|e| BackendError::Io {
                what: "writing repaired metadata to".into(),
                path: meta.to_owned(),
                source: e,
            })?;
        Ok(format!(
            "thin_repair -i {0} -o {1}; dd if={1} of={0}",
            meta.display(),
            tmp.display()
        ))
    })();
    let _ = std::fs::remove_file(tmp);
    result
}

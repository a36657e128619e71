//! What the table-control steps leave for later steps and the case's end: thins without
//! a device, suspended devices, a held metadata snapshot.

use std::collections::BTreeMap;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::units::Bytes;

/// See the module doc.
#[derive(Debug, Default)]
pub struct ControlState {
    /// Named thins the pool has that have no device (made by a message, or
    /// deactivated): their id, and the size their device last had.
    pub no_device: BTreeMap<Ident, (ThinId, Option<Bytes>)>,
    /// Suspended dm devices, in the order they were suspended: the case's end resumes
    /// them, last first, before the teardown.
    pub suspended: Vec<String>,
    /// The scenario holds the pool's metadata snapshot (`reserve_metadata_snap`): the
    /// `thin_ls` cross-check, which reserves its own, is skipped until it is released.
    pub metadata_snap_held: bool,
    /// The model as the held metadata snapshot has the pool (taken at the reserve): what
    /// a tool reading the snapshot must find.
    pub held_model: Option<thinbench_model::chunk::PoolModel>,
    /// Each `thin_dump` step's XML, by step name, for a later one's `same_as`.
    pub dumps: BTreeMap<Ident, String>,
    /// A message made a thin in this case: the pool has ids the backend did not hand
    /// out, so a loop-lvm create-thin without `id` takes the lowest id the model has free.
    pub message_made_thins: bool,
}

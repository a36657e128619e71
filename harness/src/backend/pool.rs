//! A live pool as the runner sees it ([`PoolBackend`], one implementation per pool kind)
//! and its thins ([`ThinDev`]), with the dm helpers both kinds share.

use std::path::{Path, PathBuf};
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::PoolUsage;

use thinbench_schema::units::{Bytes, DataBlocks};

use super::error::BackendError;
use super::{dm, fault, fault_log, iostat, metadata_repair, resize, status, table, thin_tools};
use crate::spec::{ReloadSpec, ResizeSpec};

/// An active thin device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinDev {
    /// Scenario name.
    pub name: Ident,
    /// dm-thin device id (lvm chooses it for direct-lvm; read back from the table).
    pub id: ThinId,
    /// Virtual size.
    pub size: Bytes,
    /// dm device.
    pub dm: dm::DmDev,
    /// Where IO goes when it is not the dm device: the fake backend's sparse file.
    pub file: Option<PathBuf>,
}

impl ThinDev {
    /// The node workloads open: `/dev/dm-N` for a real thin, the backing file of a fake.
    pub fn node(&self) -> PathBuf {
        self.file.clone().unwrap_or_else(|| self.dm.devnode())
    }
}

/// Reads a pool's status from another thread than the runner's (the sampler, the fault
/// trigger): a handle of its own, so it never borrows the backend.
pub trait StatusReader: Send {
    /// The pool's status now (noflush for a real pool).
    fn read(&mut self) -> Result<PoolUsage, BackendError>;
}

/// A real pool's [`StatusReader`]: its own dm handle, opened on first use (on the
/// reading thread).
pub struct DmStatusReader {
    pool: String,
    /// Where the pool's device may move to: lvm renames the thin-pool target's device
    /// (`vg-thinpool` becomes `vg-thinpool-tpool`) when the pool's first thin is made.
    moves_within: Option<String>,
    dm: Option<dm::Dm>,
}

impl DmStatusReader {
    /// Reads the thin-pool device `pool` (dm name).
    pub fn new(pool: &str) -> DmStatusReader {
        DmStatusReader {
            pool: pool.to_owned(),
            moves_within: None,
            dm: None,
        }
    }

    /// Reads `pool`, and when it is gone, the thin-pool device whose name starts with
    /// `prefix` (see [`find_thin_pool`]).
    pub fn moving(pool: &str, prefix: &str) -> DmStatusReader {
        DmStatusReader {
            moves_within: Some(prefix.to_owned()),
            ..DmStatusReader::new(pool)
        }
    }
}

impl StatusReader for DmStatusReader {
    fn read(&mut self) -> Result<PoolUsage, BackendError> {
        let dm = match &mut self.dm {
            Some(dm) => dm,
            None => self.dm.insert(dm::Dm::open()?),
        };
        match read_pool_status(dm, &self.pool) {
            Err(e) => match self.moves_within.as_deref() {
                Some(prefix) => match find_thin_pool(dm, prefix)? {
                    Some(name) if name != self.pool => {
                        self.pool = name;
                        read_pool_status(dm, &self.pool)
                    }
                    _ => Err(e),
                },
                None => Err(e),
            },
            ok => ok,
        }
    }
}

/// The dm device whose name starts with `prefix` and whose table has a `thin-pool`
/// target, if there is one.
pub fn find_thin_pool(dm: &dm::Dm, prefix: &str) -> Result<Option<String>, BackendError> {
    for (name, ..) in dm.list()? {
        if name.starts_with(prefix) && dm.table(&name)?.iter().any(|l| l.2 == "thin-pool") {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// `thin_ls`'s rows, and the mapping trees read from the same metadata snapshot (`None`:
/// the pool's metadata device cannot be read; `Some(Err)`: the walk failed).
pub type ThinLsWithTrees = (
    Vec<thin_tools::ThinLsRow>,
    Option<Result<super::btree_walk::MappingTrees, String>>,
);

/// What both pool kinds offer the runner.
pub trait PoolBackend {
    /// dm name of the thin-pool target device (for status sampling from other threads).
    fn pool_dm_name(&self) -> &str;
    /// Current status (noflush).
    fn status(&self) -> Result<PoolUsage, BackendError>;
    /// A status reader another thread can own (the sampler's, the fault trigger's).
    fn status_reader(&self) -> Box<dyn StatusReader> {
        Box::new(DmStatusReader::new(self.pool_dm_name()))
    }
    /// The block layer's counters of the data and metadata devices the pool's table names
    /// now: what the pool sent them (under a fault layer, the top layer's, i.e. still what
    /// the pool sent). Found by device number from the live table each time, so a device
    /// lvm renamed or replaced is followed. `None`: this backend has no block devices (the
    /// fake), and its IO is not measured.
    fn io_counters(&self) -> Result<Option<iostat::PoolIo>, BackendError> {
        let dm = dm::Dm::open()?;
        let t = pool_table(&dm, self.pool_dm_name())?;
        Ok(Some(iostat::PoolIo::read(&t.data_dev, &t.metadata_dev)?))
    }
    /// A new thin device.
    fn create_thin(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
    ) -> Result<ThinDev, BackendError>;
    /// A snapshot of an existing thin.
    fn snapshot(
        &mut self,
        name: &Ident,
        origin: &Ident,
        id: Option<ThinId>,
    ) -> Result<ThinDev, BackendError>;
    /// A new thin reading `origin` (a device of the case) where it has no block of its
    /// own: dm-thin's external origin.
    fn create_thin_external(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
        origin: &dm::DmDev,
    ) -> Result<ThinDev, BackendError> {
        let _ = (name, id, size, origin);
        Err(BackendError::Unsupported(
            "external origins are for loop-lvm pools".into(),
        ))
    }
    /// Deactivate and delete a thin.
    fn delete_thin(&mut self, name: &Ident) -> Result<(), BackendError>;
    /// Suspend the dm device `name` (the pool's or a thin's; `flush` false: noflush).
    fn suspend_device(&self, name: &str, flush: bool) -> Result<(), BackendError> {
        dm::Dm::open()?.suspend(name, flush)
    }
    /// Resume the dm device `name`.
    fn resume_device(&self, name: &str) -> Result<(), BackendError> {
        dm::Dm::open()?.resume(name)
    }
    /// Send the pool a dm-thin message (`create_thin 0`), as written.
    fn pool_message(&mut self, text: &str) -> Result<(), BackendError> {
        dm::Dm::open()?.message(self.pool_dm_name(), text)
    }
    /// A dm device for thin `id` of the pool, named `name` (a thin a message made, or one
    /// deactivated): `read_only` makes writes fail with EPERM.
    fn activate_thin(
        &mut self,
        name: &Ident,
        id: ThinId,
        size: Bytes,
        read_only: bool,
    ) -> Result<ThinDev, BackendError> {
        let _ = (name, id, size, read_only);
        Err(BackendError::Unsupported(
            "activating a thin on this pool kind".into(),
        ))
    }
    /// An active thin by name.
    fn thin(&self, name: &Ident) -> Option<&ThinDev>;
    /// Remove the thin's dm device only (the thin stays in the pool). With `deferred`, an
    /// open device is removed at its last close (`DM_DEFERRED_REMOVE`), as Docker did.
    fn deactivate_thin(&mut self, name: &Ident, deferred: bool) -> Result<(), BackendError>;
    /// Whether the thin's device is up and has a deferred remove pending (`None`: gone).
    fn deferred_pending(&self, name: &Ident) -> Result<Option<bool>, BackendError> {
        let t = self
            .thin(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        dm::Dm::open()?.deferred_pending(&t.dm.name)
    }
    /// Delete a thin whose device is gone: one attempt (`delete` message, or `lvremove`);
    /// the caller retries EBUSY, as Docker's deferred deletion did.
    fn delete_inactive_thin(&mut self, name: &Ident) -> Result<(), BackendError>;
    /// Grow the data device by `by` and make the pool use it.
    fn grow_data(&mut self, by: Bytes) -> Result<(), BackendError>;
    /// Whether the system's dmeventd monitors the pool (and so applies lvm's autoextend
    /// policy itself).
    fn monitored_by_dmeventd(&self) -> bool {
        false
    }
    /// direct-lvm: apply lvm's autoextend policy now (`lvextend --use-policies`), as
    /// dmeventd would; returns whether lvm extended the pool.
    fn apply_autoextend_policy(&mut self) -> Result<bool, BackendError> {
        Err(BackendError::Unsupported(
            "autoextend is an lvm policy: direct-lvm pools only".into(),
        ))
    }
    /// The pool's metadata device, for thin-provisioning-tools on a metadata snapshot
    /// (loop-lvm: the metadata loop device; direct-lvm: the `_tmeta` LV's dm device).
    fn metadata_device(&self) -> Option<PathBuf>;
    /// The pool's data device as the pool table names it (loop-lvm: the data loop device
    /// or the fault layer over it; direct-lvm: the `_tdata` LV's dm device), for
    /// `thin_trim`. `None` where it is not known (a stacked pool, the fake).
    fn data_device(&self) -> Option<PathBuf> {
        None
    }
    /// A power cycle: the thins and the pool go down with the faults still in force (what
    /// they drop stays dropped), `power_on` ends the faults, then `thin_check` (with
    /// `repair`, `thin_repair` if it fails), `needs_check` cleared, and the pool and its
    /// thins come back from the same backing devices.
    fn reboot(
        &mut self,
        _power_on: &mut dyn FnMut() -> Result<Vec<String>, String>,
        _repair: bool,
    ) -> Result<metadata_repair::Reboot, BackendError> {
        Err(BackendError::Unsupported(
            "a reboot of this pool kind (loop-lvm and direct-lvm pools reboot)".into(),
        ))
    }
    /// The thins and the pool down (their dm devices removed; the backing devices and
    /// any fault layers stay), `tool` run on the inactive metadata and data devices, then
    /// the pool and its thins up again from the same devices: what thin-provisioning-tools
    /// that need inactive metadata (`thin_restore`, `thin_trim`) run in. The pool comes back
    /// up whether or not `tool` succeeded; its error is returned after.
    fn with_pool_down(
        &mut self,
        tool: &mut dyn FnMut(&Path, &Path) -> Result<(), BackendError>,
    ) -> Result<Vec<String>, BackendError> {
        let _ = tool;
        Err(BackendError::Unsupported(
            "this backend cannot take its pool down for the metadata tools".into(),
        ))
    }
    /// The fault layers over the data and metadata devices, for the scheduler.
    fn fault_layers(&self) -> Vec<fault::LayerRef> {
        Vec::new()
    }
    /// The `log-writes` layer under the whole pool, if there is one.
    fn pool_log(&self) -> Option<fault_log::LogHandle<'_>> {
        None
    }
    /// Where the pool's metadata and data devices lie on the logged device, now: what a
    /// replay splits the log by.
    fn pool_log_ranges(&self) -> Result<Vec<fault_log::LoggedRange>, BackendError> {
        Err(BackendError::Unsupported(
            "this pool has no log-writes layer".into(),
        ))
    }
    /// The status of each pool below this one (`stacked_levels`), the one right below
    /// first; empty for a pool on plain devices.
    fn lower_status(&self) -> Result<Vec<PoolUsage>, BackendError> {
        Ok(Vec::new())
    }
    /// loop-lvm: the sparse data file behind the pool (its allocated bytes are what the
    /// pool costs the filesystem holding it). `None` for direct-lvm.
    fn data_file(&self) -> Option<PathBuf> {
        None
    }
    /// [`teardown`](Self::teardown), running `thin_check` on the metadata once no pool
    /// uses it (before its backing is removed).
    fn teardown_with_check(&mut self) -> (Vec<String>, thin_tools::MetadataCheck) {
        (
            self.teardown(),
            thin_tools::MetadataCheck::Skipped("not supported by this backend".into()),
        )
    }
    /// The offline repair of a pool out of metadata space, as a user would do it:
    /// deactivate the pool, `thin_check` its metadata, clear `needs_check`, grow the
    /// metadata device by `grow_by`, reactivate the pool and its thins (whose dm devices
    /// may come back with other minors).
    fn repair_metadata(
        &mut self,
        grow_by: Bytes,
    ) -> Result<metadata_repair::MetadataRepair, BackendError> {
        let _ = grow_by;
        Err(BackendError::Unsupported(
            "this backend cannot repair metadata".into(),
        ))
    }
    /// `reload`: the pool's table loaded again with `change` applied (load, then a
    /// noflush resume); returns the table as the kernel has it afterwards. A table the
    /// kernel refuses, at the load or at the resume, leaves the old one live.
    fn reload(&mut self, change: &ReloadSpec) -> Result<table::PoolTable, BackendError> {
        let _ = change;
        Err(BackendError::Unsupported(
            "this backend cannot reload its pool's table".into(),
        ))
    }
    /// `resize`: the data or metadata device grown (a shrink is attempted where the kernel
    /// or lvm can refuse it), with the pool live or down around it.
    fn resize(&mut self, r: &ResizeSpec) -> Result<resize::Resized, BackendError> {
        let _ = r;
        Err(BackendError::Unsupported(
            "this backend cannot resize its pool's devices".into(),
        ))
    }
    /// How the pool was built, for the record (tables, commands).
    fn construction(&self) -> Vec<String>;
    /// The pool's device as `name (/dev/dm-N)`.
    fn device(&self) -> String;
    /// Remove everything, in reverse order of construction; returns what could not be
    /// removed. Idempotent.
    fn teardown(&mut self) -> Vec<String>;

    /// BLKDISCARD of `len` bytes at `offset` of thin `name`'s device; the fake punches
    /// holes in its file instead.
    fn discard(&mut self, name: &Ident, offset: Bytes, len: Bytes) -> Result<(), BackendError> {
        let t = self
            .thin(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        super::discard::blkdiscard(&t.node(), offset, len)
    }

    /// `thin_ls` of the live pool, from a metadata snapshot (the accounting cross-check).
    fn thin_ls(&self) -> Result<Vec<thin_tools::ThinLsRow>, BackendError> {
        thin_tools::thin_ls(self.pool_dm_name(), &self.known_metadata_device()?)
    }

    /// [`PoolBackend::thin_ls`], and the shape of the pool's mapping trees read from the
    /// same metadata snapshot where the metadata device can be read (`None`: it cannot,
    /// as on the fake pool).
    fn thin_ls_with_trees(&self) -> Result<ThinLsWithTrees, BackendError> {
        match self.metadata_device() {
            None => Ok((self.thin_ls()?, None)),
            Some(m) => thin_tools::thin_ls_with_trees(self.pool_dm_name(), &m)
                .map(|(rows, trees)| (rows, Some(trees))),
        }
    }

    /// `thin_dump` of the live pool of `data_blocks` data blocks, from a metadata snapshot.
    fn thin_dump(&self, data_blocks: DataBlocks) -> Result<thin_tools::Dump, BackendError> {
        thin_tools::thin_dump(
            self.pool_dm_name(),
            &self.known_metadata_device()?,
            data_blocks,
        )
    }

    /// [`PoolBackend::metadata_device`], or why there is none.
    fn known_metadata_device(&self) -> Result<PathBuf, BackendError> {
        self.metadata_device().ok_or_else(|| {
            BackendError::Unsupported("this pool's metadata device is not known".into())
        })
    }
}

/// Both backends deactivate a thin by removing its dm device (Docker did so even on
/// direct-lvm; lvm has no deferred deactivation, and then sees the LV inactive).
pub fn deactivate_thin(
    dm: &dm::Dm,
    thins: &std::collections::BTreeMap<Ident, ThinDev>,
    name: &Ident,
    deferred: bool,
) -> Result<(), BackendError> {
    dm.remove(&known_thin(thins, name)?.dm.name, deferred)
}

/// The named thin, once its dm device is gone (EBUSY otherwise): what a delete needs.
pub fn inactive_thin<'a>(
    dm: &dm::Dm,
    thins: &'a std::collections::BTreeMap<Ident, ThinDev>,
    name: &Ident,
) -> Result<&'a ThinDev, BackendError> {
    let t = known_thin(thins, name)?;
    ensure_inactive(dm, t)?;
    Ok(t)
}

/// The id of a new thin: `id` if asked for, else the lowest id from 1 up that no thin of
/// `thins` has (loop-lvm's rule, and the fake pool's). The lowest free id rather than one
/// past the highest: after a thin with id 16777215 (dm-thin's last) there is still room,
/// as Docker's wrapping counter had. 0 is left to explicit ids, as Docker left it.
pub fn pick_thin_id(
    thins: &std::collections::BTreeMap<Ident, ThinDev>,
    id: Option<ThinId>,
) -> Result<ThinId, BackendError> {
    if let Some(i) = id {
        return Ok(i);
    }
    let used: std::collections::BTreeSet<u32> = thins.values().map(|t| t.id.get()).collect();
    let free = lowest_free_thin_id(&used, ThinId::MAX).ok_or_else(|| {
        BackendError::Unsupported("every thin id of dm-thin's 24 bits is in use".into())
    })?;
    ThinId::new(u64::from(free)).map_err(BackendError::Unsupported)
}

/// The lowest id from 1 up not in `used`, if one is at most `max` (validation predicts the
/// same per pool: `scenario::validate::ids`).
fn lowest_free_thin_id(used: &std::collections::BTreeSet<u32>, max: u32) -> Option<u32> {
    let mut candidate = 1u32;
    for &u in used.range(1..) {
        if u != candidate {
            break;
        }
        candidate += 1;
    }
    (candidate <= max).then_some(candidate)
}

fn known_thin<'a>(
    thins: &'a std::collections::BTreeMap<Ident, ThinDev>,
    name: &Ident,
) -> Result<&'a ThinDev, BackendError> {
    thins
        .get(name)
        .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))
}

/// EBUSY unless the thin's dm device is gone: a thin is deleted only once inactive.
pub fn ensure_inactive(dm: &dm::Dm, t: &ThinDev) -> Result<(), BackendError> {
    if dm.info(&t.dm.name)?.is_some() {
        return Err(BackendError::Errno {
            op: "delete".into(),
            device: t.dm.name.clone(),
            errno: nix::errno::Errno::EBUSY,
            why: "the thin's device is still active".into(),
        });
    }
    Ok(())
}

/// The `thin-pool` table line of a named pool device, parsed.
pub fn pool_table(dm: &dm::Dm, pool: &str) -> Result<table::PoolTable, BackendError> {
    let lines = dm.table(pool)?;
    let line = lines
        .iter()
        .find(|l| l.2 == "thin-pool")
        .ok_or_else(|| BackendError::Status {
            pool: pool.into(),
            message: "no thin-pool target in its table".into(),
        })?;
    table::PoolTable::parse(&line.3).map_err(|message| BackendError::Status {
        pool: pool.into(),
        message,
    })
}

/// Status of a named pool device, parsed.
pub fn read_pool_status(dm: &dm::Dm, pool: &str) -> Result<PoolUsage, BackendError> {
    let lines = dm.status(pool)?;
    let line = lines
        .iter()
        .find(|l| l.2 == "thin-pool")
        .ok_or_else(|| BackendError::Status {
            pool: pool.into(),
            message: "no thin-pool target".into(),
        })?;
    status::parse_pool_status(&line.3).map_err(|message| BackendError::Status {
        pool: pool.into(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn thins(ids: &[u32]) -> BTreeMap<Ident, ThinDev> {
        ids.iter()
            .map(|&i| {
                let name = Ident::new(&format!("t{i}")).unwrap();
                let t = ThinDev {
                    name: name.clone(),
                    id: ThinId::new(u64::from(i)).unwrap(),
                    size: Bytes(Bytes::MIB),
                    dm: dm::DmDev {
                        name: format!("t{i}"),
                        major: 253,
                        minor: i,
                    },
                    file: None,
                };
                (name, t)
            })
            .collect()
    }

    fn pick(ids: &[u32]) -> u32 {
        pick_thin_id(&thins(ids), None).unwrap().get()
    }

    #[test]
    fn a_new_thin_takes_the_lowest_free_id_from_one() {
        assert_eq!(pick(&[]), 1);
        assert_eq!(pick(&[0]), 1, "0 is left to explicit ids");
        assert_eq!(pick(&[1, 2, 4]), 3);
        assert_eq!(pick(&[2, 3]), 1);
        // The case: after dm-thin's last id, the next thin still gets one.
        assert_eq!(pick(&[ThinId::MAX]), 1);
        assert_eq!(pick(&[1, ThinId::MAX]), 2);
        let asked = ThinId::new(9).unwrap();
        assert_eq!(pick_thin_id(&thins(&[1]), Some(asked)).unwrap(), asked);
    }

    #[test]
    fn lowest_free_stops_at_the_last_id() {
        let used: std::collections::BTreeSet<u32> = [1, 2, 3].into();
        assert_eq!(lowest_free_thin_id(&used, 3), None);
        assert_eq!(lowest_free_thin_id(&used, 4), Some(4));
        assert_eq!(lowest_free_thin_id(&[1, 3].into(), 3), Some(2));
    }
}

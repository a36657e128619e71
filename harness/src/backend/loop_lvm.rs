//! Docker's loop-lvm: sparse `data` and `metadata` files on loop devices, and the pool
//! and thins made directly with dm ioctls, with Docker's table
//! (`thin-pool <meta> <data> <chunk> <lwm> [skip_block_zeroing] …`).

mod striped_data;
mod table_control;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::PoolUsage;
use thinbench_schema::units::{Bytes, DataBlocks};

use super::dm::{Dm, DmDev};
use super::error::BackendError;
use super::fault::{FaultStack, LayerRef};
use super::fault_log::{LogHandle, LoggedRange, PoolLog};
use super::loopdev::{self, Loop};
use super::metadata_repair::{self, MetadataRepair};
use super::names::Names;
use super::pool::{pick_thin_id, read_pool_status, PoolBackend, ThinDev};
use super::ram::RamDir;
use super::stack::LowerStack;
use super::table::PoolTable;
use super::thin_tools;
use crate::spec::{FaultDevice, FaultTarget, LoopLvmSpec, LowWaterMark, NoSpacePolicy, PoolSpec};

/// A live loop-lvm pool.
pub struct LoopLvmPool {
    dm: Dm,
    names: Names,
    pool_name: String,
    pool: Option<DmDev>,
    loops: Vec<Loop>,
    files: Vec<PathBuf>,
    thins: BTreeMap<Ident, ThinDev>,
    /// Thins with an external origin: the origin's major:minor, for every activation.
    external_origins: BTreeMap<Ident, String>,
    construction: Vec<String>,
    /// Pool table params and length, for reloads.
    table: Option<(u64, String)>,
    data_size: Bytes,
    /// Fault layers over the data loop device (the pool's data device is the top one).
    data_faults: FaultStack,
    /// Fault layers over the metadata loop device.
    meta_faults: FaultStack,
    /// A `log-writes` layer under the whole pool (below the other layers).
    pool_log: Option<PoolLog>,
    /// The tmpfs under a RAM-backed pool's files: unmounted after them.
    ram: Option<RamDir>,
    /// Pools below this one (`stacked_levels`), removed after it, before the loops.
    lower: LowerStack,
    /// The striped data device (`data_stripes`), removed after the layers over it.
    striped: Option<striped_data::StripedData>,
}

/// The pool's feature arguments, from the plan.
pub fn features(spec: &PoolSpec) -> Vec<&'static str> {
    let mut f = Vec::new();
    if !spec.block_zeroing {
        f.push("skip_block_zeroing");
    }
    if spec.ignore_discard {
        f.push("ignore_discard");
    } else if !spec.discard_passdown {
        f.push("no_discard_passdown");
    }
    if spec.no_space == NoSpacePolicy::Error {
        f.push("error_if_no_space");
    }
    f
}

/// The low water mark in blocks for a pool of `blocks` data blocks.
pub fn low_water_mark(lwm: LowWaterMark, blocks: DataBlocks) -> DataBlocks {
    match lwm {
        LowWaterMark::Blocks(b) => DataBlocks(b.0.min(blocks.0)),
        LowWaterMark::Percent(p) => DataBlocks(blocks.0 * u64::from(p) / 100),
    }
}

/// The thin-pool table params string.
pub fn pool_params(meta: &str, data: &str, spec: &PoolSpec, blocks: DataBlocks) -> String {
    PoolTable {
        metadata_dev: meta.to_owned(),
        data_dev: data.to_owned(),
        block_sectors: spec
            .refusal
            .and_then(|r| r.chunk_sectors)
            .unwrap_or(spec.chunk.sectors().0),
        low_water_mark: low_water_mark(spec.low_water_mark, blocks).0,
        features: features(spec).into_iter().map(str::to_owned).collect(),
    }
    .to_string()
}

impl LoopLvmPool {
    /// Build the pool: files → loop devices → thin-pool. On failure, whatever was built
    /// is torn down before the error returns.
    pub fn create(
        spec: &PoolSpec,
        l: &LoopLvmSpec,
        dir: &Path,
        names: &Names,
    ) -> Result<LoopLvmPool, BackendError> {
        let mut p = LoopLvmPool {
            dm: Dm::open()?,
            names: names.clone(),
            pool_name: names.dm(spec.name.as_str(), "pool"),
            pool: None,
            loops: Vec::new(),
            files: Vec::new(),
            thins: BTreeMap::new(),
            external_origins: BTreeMap::new(),
            construction: Vec::new(),
            table: None,
            data_size: l.data_size,
            data_faults: FaultStack::default(),
            meta_faults: FaultStack::default(),
            pool_log: None,
            ram: None,
            lower: LowerStack::default(),
            striped: None,
        };
        match p.build(spec, l, dir) {
            Ok(()) => Ok(p),
            Err(e) => {
                p.teardown();
                Err(e)
            }
        }
    }

    fn build(&mut self, spec: &PoolSpec, l: &LoopLvmSpec, dir: &Path) -> Result<(), BackendError> {
        if let Some(st) = &l.stacked {
            return self.build_stacked(spec, l, st, dir);
        }
        if let Some(st) = l.data_stripes {
            let s = striped_data::StripedData::build(
                &self.dm,
                &self.names,
                spec.name.as_str(),
                l.data_size,
                st,
                dir,
                &mut self.construction,
            )?;
            let data_majmin = s.dev.majmin();
            self.striped = Some(s);
            return self.build_over(spec, l, dir, data_majmin);
        }
        let data = dir.join("data");
        self.files.push(data.clone());
        loopdev::sparse_file(&data, l.data_size.0)?;
        self.construction
            .push(format!("truncate -s {} {}", l.data_size.0, data.display()));
        let data_loop = loopdev::attach(&data)?;
        let data_majmin = data_loop.majmin.clone();
        self.construction.push(format!(
            "losetup {} {}",
            data_loop.path.display(),
            data.display()
        ));
        self.loops.push(data_loop);
        self.build_over(spec, l, dir, data_majmin)
    }

    /// The metadata file and loop device, the log and fault layers, and the pool, over
    /// the data device `data_majmin` (a loop device, or the striped device).
    fn build_over(
        &mut self,
        spec: &PoolSpec,
        l: &LoopLvmSpec,
        dir: &Path,
        data_majmin: String,
    ) -> Result<(), BackendError> {
        let meta = dir.join("metadata");
        self.files.push(meta.clone());
        loopdev::sparse_file(&meta, l.metadata_size.0)?;
        self.construction.push(format!(
            "truncate -s {} {}",
            l.metadata_size.0,
            meta.display()
        ));
        let meta_loop = loopdev::attach(&meta)?;
        let meta_majmin = meta_loop.majmin.clone();
        self.construction.push(format!(
            "losetup {} {}",
            meta_loop.path.display(),
            meta.display()
        ));
        self.loops.push(meta_loop);

        // A log of every write of the pool, under everything else.
        let (mut meta_majmin, mut data_majmin) = (meta_majmin, data_majmin);
        if let Some(lw) = spec.faults.iter().find_map(|f| match &f.target {
            FaultTarget::LogWrites(lw) if f.device == FaultDevice::Pool => Some(lw),
            _ => None,
        }) {
            let log = PoolLog::build(
                &self.dm,
                &self.names,
                spec.name.as_str(),
                (&meta_majmin, l.metadata_size.sectors().0),
                (&data_majmin, l.data_size.sectors().0),
                dir.join("log-writes.log"),
                lw.log_size.0,
                &mut self.construction,
            )?;
            meta_majmin = log.meta_part.majmin();
            data_majmin = log.data_part.majmin();
            self.pool_log = Some(log);
        }

        // Fault layers (`[[fault]]`) between the loop devices and the pool, bottom up.
        let (stack, data_majmin) = FaultStack::build(
            &self.dm,
            &self.names,
            spec.name.as_str(),
            FaultDevice::Data,
            &spec.faults,
            &data_majmin,
            l.data_size.sectors().0,
            &mut self.construction,
        )?;
        self.data_faults = stack;
        let (stack, meta_majmin) = FaultStack::build(
            &self.dm,
            &self.names,
            spec.name.as_str(),
            FaultDevice::Metadata,
            &spec.faults,
            &meta_majmin,
            l.metadata_size.sectors().0,
            &mut self.construction,
        )?;
        self.meta_faults = stack;

        self.create_pool(spec, l, &meta_majmin, &data_majmin)
    }

    /// A pool over a thin of the pools below it (`stacked_levels`): its own metadata on a
    /// loop device, its data device the top lower thin (no fault layers: validation).
    fn build_stacked(
        &mut self,
        spec: &PoolSpec,
        l: &LoopLvmSpec,
        st: &crate::spec::StackSpec,
        dir: &Path,
    ) -> Result<(), BackendError> {
        let (stack, data_majmin) = LowerStack::build(
            &self.dm,
            &self.names,
            spec,
            l,
            st,
            dir,
            &mut self.loops,
            &mut self.files,
            &mut self.construction,
        )?;
        self.lower = stack;
        let meta = dir.join("metadata");
        self.files.push(meta.clone());
        loopdev::sparse_file(&meta, l.metadata_size.0)?;
        let meta_loop = loopdev::attach(&meta)?;
        let meta_majmin = meta_loop.majmin.clone();
        self.construction.push(format!(
            "truncate -s {} {}; losetup {} {}",
            l.metadata_size.0,
            meta.display(),
            meta_loop.path.display(),
            meta.display()
        ));
        self.loops.push(meta_loop);
        self.create_pool(spec, l, &meta_majmin, &data_majmin)
    }

    /// The thin-pool device over `meta` and `data` (`major:minor`), as the table says.
    fn create_pool(
        &mut self,
        spec: &PoolSpec,
        l: &LoopLvmSpec,
        meta: &str,
        data: &str,
    ) -> Result<(), BackendError> {
        let sectors = l.data_size.sectors();
        let blocks = spec.chunk.whole_blocks_in(l.data_size);
        let params = pool_params(meta, data, spec, blocks);
        self.construction.push(format!(
            "dmsetup create {} --table '0 {} thin-pool {params}'",
            self.pool_name, sectors.0
        ));
        let uuid = self.names.uuid(spec.name.as_str(), "pool");
        self.pool = Some(self.dm.create(
            &self.pool_name,
            &uuid,
            &[(0, sectors.0, "thin-pool".into(), params.clone())],
        )?);
        self.table = Some((sectors.0, params));
        Ok(())
    }

    /// The metadata loop device: the second made, or for a stacked pool the last (the
    /// levels below come first), or for a striped one the only one (the striped
    /// device keeps its own).
    fn meta_loop(&self) -> Option<&Loop> {
        if self.lower.is_empty() && self.striped.is_none() {
            self.loops.get(1)
        } else {
            self.loops.last()
        }
    }

    fn pool_dev(&self) -> Result<&DmDev, BackendError> {
        self.pool
            .as_ref()
            .ok_or_else(|| BackendError::Unsupported("pool is torn down".into()))
    }

    fn pick_id(&self, id: Option<ThinId>) -> Result<ThinId, BackendError> {
        pick_thin_id(&self.thins, id)
    }

    fn activate(&mut self, name: &Ident, id: ThinId, size: Bytes) -> Result<ThinDev, BackendError> {
        self.activate_with(name, id, size, false)
    }

    fn activate_with(
        &mut self,
        name: &Ident,
        id: ThinId,
        size: Bytes,
        read_only: bool,
    ) -> Result<ThinDev, BackendError> {
        let pool = self.pool_dev()?.majmin();
        // A thin with an external origin names it in its table, every time it comes up.
        let pool = match self.external_origins.get(name) {
            Some(origin) => format!("{pool} {id} {origin}"),
            None => format!("{pool} {id}"),
        };
        let dm_name = self.names.dm(self.pool_name_part(), name.as_str());
        let uuid = self.names.uuid(self.pool_name_part(), name.as_str());
        let dev = self.dm.create_with(
            &dm_name,
            &uuid,
            &[(0, size.sectors().0, "thin".into(), pool)],
            read_only,
        )?;
        let t = ThinDev {
            name: name.clone(),
            id,
            size,
            dm: dev,
            file: None,
        };
        self.thins.insert(name.clone(), t.clone());
        Ok(t)
    }

    fn pool_name_part(&self) -> &str {
        // "tb-<run>-<pool>-pool" → "<pool>"
        let s = self
            .pool_name
            .strip_prefix(&format!("tb-{}-", self.names.run_id))
            .unwrap_or(&self.pool_name);
        s.strip_suffix("-pool").unwrap_or(s)
    }
}

impl PoolBackend for LoopLvmPool {
    fn pool_dm_name(&self) -> &str {
        &self.pool_name
    }

    fn status(&self) -> Result<PoolUsage, BackendError> {
        read_pool_status(&self.dm, &self.pool_name)
    }

    fn create_thin(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
    ) -> Result<ThinDev, BackendError> {
        let id = self.pick_id(id)?;
        self.dm
            .message(&self.pool_name, &format!("create_thin {id}"))?;
        self.activate(name, id, size)
    }

    fn create_thin_external(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
        origin: &DmDev,
    ) -> Result<ThinDev, BackendError> {
        let id = self.pick_id(id)?;
        self.dm
            .message(&self.pool_name, &format!("create_thin {id}"))?;
        self.external_origins.insert(name.clone(), origin.majmin());
        self.activate(name, id, size)
    }

    fn snapshot(
        &mut self,
        name: &Ident,
        origin: &Ident,
        id: Option<ThinId>,
    ) -> Result<ThinDev, BackendError> {
        let o = self
            .thins
            .get(origin)
            .cloned()
            .ok_or_else(|| BackendError::NoSuchThin(origin.to_string()))?;
        let id = self.pick_id(id)?;
        // An active origin must be suspended so its in-flight IO is in the snapshot.
        self.dm.suspend(&o.dm.name, true)?;
        let msg = self
            .dm
            .message(&self.pool_name, &format!("create_snap {id} {}", o.id));
        let resumed = self.dm.resume(&o.dm.name);
        msg?;
        resumed?;
        // A snapshot of a thin with an external origin reads the same origin.
        if let Some(ext) = self.external_origins.get(origin).cloned() {
            self.external_origins.insert(name.clone(), ext);
        }
        self.activate(name, id, o.size)
    }

    fn deactivate_thin(&mut self, name: &Ident, deferred: bool) -> Result<(), BackendError> {
        super::pool::deactivate_thin(&self.dm, &self.thins, name, deferred)
    }

    fn activate_thin(
        &mut self,
        name: &Ident,
        id: ThinId,
        size: Bytes,
        read_only: bool,
    ) -> Result<ThinDev, BackendError> {
        self.activate_with(name, id, size, read_only)
    }

    fn delete_inactive_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        let t = super::pool::inactive_thin(&self.dm, &self.thins, name)?;
        self.dm
            .message(&self.pool_name, &format!("delete {}", t.id))?;
        self.thins.remove(name);
        self.external_origins.remove(name);
        Ok(())
    }

    fn delete_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        let t = self
            .thins
            .remove(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        self.dm.remove(&t.dm.name, false)?;
        // After a last close the pool can still hold the device briefly: retry EBUSY.
        let mut last = Ok(());
        for _ in 0..50 {
            last = self
                .dm
                .message(&self.pool_name, &format!("delete {}", t.id));
            if !last.as_ref().is_err_and(super::error::is_busy) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if last.is_err() {
            // The pool refused (a read-only pool: EOPNOTSUPP): the thin is still in it,
            // so its device comes back as it was.
            let _ = self.activate(name, t.id, t.size);
        }
        last
    }

    fn thin(&self, name: &Ident) -> Option<&ThinDev> {
        self.thins.get(name)
    }

    fn grow_data(&mut self, by: Bytes) -> Result<(), BackendError> {
        // Docker's recipe for a full loop-lvm pool: grow the file, refresh the loop
        // device's capacity, reload the pool table with the new length.
        if self.pool_log.is_some() {
            return Err(BackendError::Unsupported(
                "growing the data device of a pool under a log-writes layer (its concat and log would have to grow with it)".into(),
            ));
        }
        if !self.lower.is_empty() {
            return Err(BackendError::Unsupported(
                "growing a stacked pool's data device (a thin of the pool below)".into(),
            ));
        }
        let new = Bytes(self.data_size.0 + by.0);
        let mut commands = Vec::new();
        self.grow_data_file(new, &mut commands)?;
        self.construction.extend(commands);
        let (_, params) = self
            .table
            .clone()
            .ok_or_else(|| BackendError::Unsupported("pool is torn down".into()))?;
        let sectors = new.sectors().0;
        self.dm.reload(
            &self.pool_name,
            &[(0, sectors, "thin-pool".into(), params.clone())],
        )?;
        self.construction.push(format!(
            "dmsetup reload {} (length {sectors}); dmsetup resume --noflush",
            self.pool_name
        ));
        self.table = Some((sectors, params));
        self.data_size = new;
        Ok(())
    }

    fn repair_metadata(&mut self, grow_by: Bytes) -> Result<MetadataRepair, BackendError> {
        if self.table.is_none() {
            return Err(BackendError::Unsupported("pool is torn down".into()));
        }
        let meta_dev = self
            .meta_loop()
            .map(|l| l.path.clone())
            .ok_or_else(|| BackendError::Unsupported("no metadata loop device".into()))?;
        let mut commands = Vec::new();
        // Deactivate: thins, then the pool. The metadata loop device stays attached.
        let thins = self.take_down(&mut commands)?;
        // The pool's view of its metadata: the top fault layer when there are any (the
        // tools' exclusive open of the loop device under a layer would fail with EBUSY).
        let meta_top = self.metadata_device().unwrap_or_else(|| meta_dev.clone());
        let check = metadata_repair::check(&meta_top);
        commands.push(format!("thin_check {}", meta_top.display()));
        commands.push(metadata_repair::clear_needs_check(&meta_top)?);
        // Grow the file, then the loop device's capacity: the kernel sees the bigger
        // device when the pool is loaded again and grows its metadata space map.
        let (meta_before, meta_after) = self.grow_metadata_file(grow_by, &mut commands)?;
        self.bring_up(thins, &mut commands)?;
        self.construction.extend(commands.iter().cloned());
        Ok(MetadataRepair {
            check,
            cleared_by: format!("thin_check --clear-needs-check-flag {}", meta_top.display()),
            meta_before,
            meta_after,
            commands,
        })
    }

    fn reboot(
        &mut self,
        power_on: &mut dyn FnMut() -> Result<Vec<String>, String>,
        repair: bool,
    ) -> Result<metadata_repair::Reboot, BackendError> {
        let (sectors, params) = self
            .table
            .clone()
            .ok_or_else(|| BackendError::Unsupported("pool is torn down".into()))?;
        let mut commands = Vec::new();
        // Down with the faults in force: what the pool writes as it goes is lost.
        let thins = self.take_down(&mut commands)?;
        commands.extend(power_on().map_err(BackendError::Unsupported)?);
        let meta = self
            .metadata_device()
            .ok_or_else(|| BackendError::Unsupported("no metadata device".into()))?;
        let check = metadata_repair::check(&meta);
        commands.push(format!("thin_check {}", meta.display()));
        let (mut repaired, mut check_after_repair) = (None, None);
        if let thin_tools::MetadataCheck::Failed(_) = &check {
            if !repair {
                return Err(BackendError::Unsupported(format!(
                    "the metadata is damaged after the power cut ({}); the pool stays down (`repair = true` runs thin_repair)",
                    check.text()
                )));
            }
            let file = self
                .meta_loop()
                .map(|l| l.file.clone())
                .ok_or_else(|| BackendError::Unsupported("no metadata loop device".into()))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let tmp = file.with_extension("repair");
            let cmd = metadata_repair::thin_repair_in_place(&meta, &tmp, size)?;
            commands.push(cmd.clone());
            repaired = Some(cmd);
            check_after_repair = Some(metadata_repair::check(&meta));
        }
        commands.push(metadata_repair::clear_needs_check(&meta)?);
        let uuid = self.names.uuid(self.pool_name_part(), "pool");
        self.pool = Some(self.dm.create(
            &self.pool_name,
            &uuid,
            &[(0, sectors, "thin-pool".into(), params.clone())],
        )?);
        commands.push(format!(
            "dmsetup create {} --table '0 {sectors} thin-pool {params}'",
            self.pool_name
        ));
        // A thin created after the metadata's last commit is not in it: its activation
        // fails (ENODATA), and it is gone, as after a real power cut.
        let mut lost_thins = Vec::new();
        for t in thins {
            let name = t.dm.name.clone();
            match self.activate(&t.name, t.id, t.size) {
                Ok(_) => commands.push(format!("dmsetup create {name} (thin {})", t.id)),
                Err(e) => {
                    self.thins.remove(&t.name);
                    commands.push(format!(
                        "dmsetup create {name} (thin {}): failed: not in the metadata",
                        t.id
                    ));
                    lost_thins.push((t.name.clone(), e.to_string()));
                }
            }
        }
        self.construction.extend(commands.iter().cloned());
        Ok(metadata_repair::Reboot {
            check,
            repaired,
            check_after_repair,
            commands,
            lost_thins,
        })
    }

    fn reload(&mut self, change: &crate::spec::ReloadSpec) -> Result<PoolTable, BackendError> {
        self.reload_table(change)
    }

    fn resize(
        &mut self,
        r: &crate::spec::ResizeSpec,
    ) -> Result<super::resize::Resized, BackendError> {
        self.resize_device(r)
    }

    fn construction(&self) -> Vec<String> {
        self.construction.clone()
    }

    fn device(&self) -> String {
        match &self.pool {
            Some(d) => format!("{} ({})", d.name, d.devnode().display()),
            None => self.pool_name.clone(),
        }
    }

    fn metadata_device(&self) -> Option<PathBuf> {
        // What the pool reads its metadata from: the top fault layer over the metadata
        // loop device, if any (the loop device under it is held by the layer).
        match (self.meta_faults.layers.last(), &self.pool_log) {
            (Some(l), _) => Some(l.dev.devnode()),
            (None, Some(log)) => Some(log.meta_part.devnode()),
            (None, None) => self.meta_loop().map(|l| l.path.clone()),
        }
    }

    fn with_pool_down(
        &mut self,
        tool: &mut dyn FnMut(&Path, &Path) -> Result<(), BackendError>,
    ) -> Result<Vec<String>, BackendError> {
        if self.table.is_none() {
            return Err(BackendError::Unsupported("pool is torn down".into()));
        }
        let (Some(meta), Some(data)) = (self.metadata_device(), self.data_device()) else {
            return Err(BackendError::Unsupported(
                "the metadata tools on a stacked pool's devices (its data device is a thin of the pool below)".into(),
            ));
        };
        let mut commands = Vec::new();
        let thins = self.take_down(&mut commands)?;
        let ran = tool(&meta, &data);
        self.bring_up(thins, &mut commands)?;
        self.construction.extend(commands.iter().cloned());
        ran.map(|()| commands)
    }

    fn data_device(&self) -> Option<PathBuf> {
        match (self.data_faults.layers.last(), &self.pool_log) {
            (Some(l), _) => Some(l.dev.devnode()),
            (None, Some(log)) => Some(log.data_part.devnode()),
            (None, None) if self.striped.is_some() => {
                self.striped.as_ref().map(|s| s.dev.devnode())
            }
            (None, None) if self.lower.is_empty() => self.loops.first().map(|l| l.path.clone()),
            (None, None) => None,
        }
    }

    fn fault_layers(&self) -> Vec<LayerRef> {
        let mut v = self.data_faults.refs();
        v.extend(self.meta_faults.refs());
        v
    }

    fn pool_log(&self) -> Option<LogHandle<'_>> {
        self.pool_log.as_ref().map(PoolLog::handle)
    }

    fn pool_log_ranges(&self) -> Result<Vec<LoggedRange>, BackendError> {
        self.pool_log
            .as_ref()
            .map(PoolLog::ranges)
            .ok_or_else(|| BackendError::Unsupported("this pool has no log-writes layer".into()))
    }

    fn lower_status(&self) -> Result<Vec<PoolUsage>, BackendError> {
        self.lower.status(&self.dm)
    }

    fn data_file(&self) -> Option<PathBuf> {
        // A striped data device has no one file.
        if self.striped.is_some() {
            return None;
        }
        self.loops.first().map(|l| l.file.clone())
    }

    fn teardown_with_check(&mut self) -> (Vec<String>, thin_tools::MetadataCheck) {
        let mut errs = self.remove_devices();
        let check = match (errs.is_empty(), self.metadata_device()) {
            // The pool is gone; its metadata loop device is still attached (we hold it).
            (true, Some(meta)) => thin_tools::thin_check(&meta),
            (true, None) => thin_tools::MetadataCheck::Skipped("no metadata device".into()),
            (false, _) => thin_tools::MetadataCheck::Skipped(
                "the pool could not be removed, so its metadata is still live".into(),
            ),
        };
        errs.extend(self.release_backing());
        (errs, check)
    }

    fn teardown(&mut self) -> Vec<String> {
        let mut errs = self.remove_devices();
        errs.extend(self.release_backing());
        errs
    }
}

impl LoopLvmPool {
    /// Remove the thins, then the pool, keeping the backing devices (and any fault layers)
    /// in place; each removal is logged as its dmsetup command. Returns the thins, to
    /// bring back afterwards.
    fn take_down(&mut self, commands: &mut Vec<String>) -> Result<Vec<ThinDev>, BackendError> {
        let thins: Vec<ThinDev> = self.thins.values().cloned().collect();
        for t in &thins {
            if self.dm.info(&t.dm.name)?.is_some() {
                self.dm.remove(&t.dm.name, false)?;
                commands.push(format!("dmsetup remove {}", t.dm.name));
            }
        }
        if let Some(p) = self.pool.take() {
            if let Err(e) = self.dm.remove(&p.name, false) {
                self.pool = Some(p);
                return Err(e);
            }
            commands.push(format!("dmsetup remove {}", self.pool_name));
        }
        Ok(thins)
    }

    /// Thins, then the pool (the loop devices and files stay).
    fn remove_devices(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        let thins: Vec<ThinDev> = std::mem::take(&mut self.thins)
            .into_values()
            .rev()
            .collect();
        for t in thins {
            if matches!(self.dm.info(&t.dm.name), Ok(None)) {
                continue; // already deactivated (deferred removal)
            }
            if let Err(e) = self.dm.remove(&t.dm.name, false) {
                errs.push(e.to_string());
            }
        }
        if let Some(p) = self.pool.take() {
            if let Err(e) = self.dm.remove(&p.name, false) {
                errs.push(e.to_string());
            }
        }
        errs
    }

    /// Fault layers (top down), loop devices, then their files.
    fn release_backing(&mut self) -> Vec<String> {
        let mut errs = self.meta_faults.teardown(&self.dm);
        errs.extend(self.data_faults.teardown(&self.dm));
        if let Some(log) = self.pool_log.take() {
            errs.extend(log.teardown(&self.dm));
        }
        errs.extend(self.lower.teardown(&self.dm));
        if let Some(s) = self.striped.take() {
            errs.extend(s.teardown(&self.dm));
        }
        for mut l in self.loops.drain(..).rev() {
            if let Err(e) = l.detach() {
                errs.push(e.to_string());
            }
        }
        for f in self.files.drain(..).rev() {
            if let Err(e) = std::fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    errs.push(format!("removing {}: {e}", f.display()));
                }
            }
        }
        if let Some(mut r) = self.ram.take() {
            if let Err(e) = r.release() {
                errs.push(e);
            }
        }
        errs
    }

    /// Keep a RAM-backed pool's tmpfs until the pool's own teardown (after its files).
    pub fn hold_ram(&mut self, ram: RamDir) {
        self.construction.push(format!(
            "mount -t tmpfs thinbench-ram {} (RAM backing)",
            ram.path().display()
        ));
        self.ram = Some(ram);
    }
}

impl Drop for LoopLvmPool {
    fn drop(&mut self) {
        // Teardown returns errors to the runner; Drop is only the safety net.
        let _ = self.teardown();
    }
}

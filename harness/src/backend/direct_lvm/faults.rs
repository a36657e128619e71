//! Fault layers under a direct-lvm pool, and its `reboot`.
//!
//! lvm owns everything above the PV, so the layers go under the PV: before `pvcreate`,
//! one dm device per `[[fault]]` is stacked over the PV disk (`tb-<run>-<pool>-<device>-
//! <target>`, uuid `THINBENCH-…`, as loop-lvm's layers), each a `linear` pass-through,
//! and lvm's filter admits only the top one (never the disk under it), so the VG and the
//! pool are built on the layer. A layer goes into force once the pool exists (an
//! `at = "start"` fault as construction ends, so lvm's own construction is not under
//! it): its table is then the fault's target over the sectors of the LV it is on (the
//! pool's `_tdata` for `device = "data"`, `_tmeta` for `metadata`, read from the LV's
//! live table at each swap) and `linear` around them, so lvm's labels and metadata area
//! pass through. The layers are removed top down after `pvremove`.
//!
//! A `log-writes` fault is not such a layer: its device goes over the disk first, under
//! the others, and logs from before `pvcreate` to the end (`fault_log`); a replay maps the
//! log's PV sectors onto `_tmeta`'s and `_tdata`'s segments ([`DirectLvmPool::logged_ranges`]).
//!
//! `reboot`: `vgchange -an` with the faults in force, the faults end, `thin_check` of the
//! `_tmeta` LV activated on its own (lvm's read-only component activation), then lvm
//! activates the pool (running its own `thin_check -q --clear-needs-check-flag` first)
//! and each thin from the same devices.

use std::path::{Path, PathBuf};

use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

use super::{lv_dm_name, DirectLvmPool};
use crate::backend::error::BackendError;
use crate::backend::fault::{self, FaultLayer, LayerRef};
use crate::backend::fault_log::{lv_ranges, LoggedRange, PoolDevice, PvLog};
use crate::backend::metadata_repair::{self, Reboot};
use crate::backend::names::Names;
use crate::backend::pool::PoolBackend;
use crate::backend::thin_tools::MetadataCheck;
use crate::spec::{FaultAt, FaultDevice, FaultSpec, FaultTarget};

/// A block device's length in sectors, from sysfs.
fn block_sectors(dev: &Path) -> Result<u64, BackendError> {
    let real = std::fs::canonicalize(dev).unwrap_or_else(|_| dev.to_owned());
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sys = PathBuf::from(format!("/sys/class/block/{name}/size"));
    std::fs::read_to_string(&sys)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| BackendError::Status {
            pool: dev.display().to_string(),
            message: format!("cannot read its size from {}", sys.display()),
        })
}

/// The LV a fault on `device` covers, as lvm names it in the pool's VG.
pub(super) fn fault_lv(device: FaultDevice) -> &'static str {
    match device {
        FaultDevice::Metadata => "thinpool_tmeta",
        // `pool` is log-writes', which is not a layer of these (it logs the whole PV).
        FaultDevice::Data | FaultDevice::Pool => "thinpool_tdata",
    }
}

impl DirectLvmPool {
    /// Stack a pass-through layer per fault over the PV disk `disk`, bottom up; the PV
    /// lvm uses becomes the top one. Every table goes to the construction record.
    pub(super) fn build_pv_layers(
        &mut self,
        faults: &[FaultSpec],
        pool: &str,
        names: &Names,
        disk: PathBuf,
    ) -> Result<(), BackendError> {
        let sectors = block_sectors(&disk)?;
        let mut under = disk.to_string_lossy().into_owned();
        let log_writes = faults.iter().find_map(|f| match &f.target {
            FaultTarget::LogWrites(lw) => Some(lw),
            _ => None,
        });
        if let Some(lw) = log_writes {
            let log = PvLog::build(
                &self.dm,
                names,
                pool,
                (&under, sectors),
                self.conf_dir.join("log-writes.log"),
                lw.log_size.0,
                &mut self.construction,
            )?;
            under = log.log_writes.majmin();
            self.pv_disk = Some(std::mem::replace(&mut self.pv, log.log_writes.devnode()));
            self.pv_log = Some(log);
        }
        for f in faults.iter().filter(|f| f.device != FaultDevice::Pool) {
            let part = fault::part(f.device, &f.target);
            let name = names.dm(pool, &part);
            let t = fault::table(&f.target, &under, sectors, false);
            let dev = self.dm.create(&name, &names.uuid(pool, &part), &t)?;
            self.construction.push(format!(
                "dmsetup create {name} --table '{}'  # over the PV disk; fault on {} at {}, until {}",
                fault::table_text(&t),
                fault_lv(f.device),
                f.at.text(),
                f.until.text()
            ));
            let top = dev.majmin();
            self.pv_faults.layers.push(FaultLayer {
                spec: f.clone(),
                dev,
                under,
            });
            under = top;
        }
        if let Some(top) = self.pv_faults.layers.last() {
            let below = std::mem::replace(&mut self.pv, top.dev.devnode());
            self.pv_disk.get_or_insert(below);
        }
        Ok(())
    }

    /// `_tmeta`'s and `_tdata`'s segments on the PV, read from their live tables: on the
    /// log-writes device too, since every layer above it maps the PV 1:1.
    pub(super) fn logged_ranges(&self) -> Result<Vec<LoggedRange>, BackendError> {
        let Some(log) = &self.pv_log else {
            return Err(BackendError::Unsupported(
                "this pool has no log-writes layer".into(),
            ));
        };
        // The PV lvm sees: the top layer.
        let pv = match self.pv_faults.layers.last() {
            Some(top) => top.dev.majmin(),
            None => log.log_writes.majmin(),
        };
        let mut ranges = Vec::new();
        for (device, lv) in [
            (PoolDevice::Metadata, "thinpool_tmeta"),
            (PoolDevice::Data, "thinpool_tdata"),
        ] {
            let name = lv_dm_name(&self.vg, lv);
            let table = self.dm.table(&name)?;
            let segments =
                fault::lv_regions(&table, &pv).map_err(|message| BackendError::Status {
                    pool: name.clone(),
                    message,
                })?;
            ranges.extend(lv_ranges(device, &segments));
        }
        Ok(ranges)
    }

    /// The layers as the scheduler sees them, each with the LV it covers.
    pub(super) fn layer_refs(&self) -> Vec<LayerRef> {
        self.pv_faults
            .layers
            .iter()
            .map(|l| LayerRef {
                spec: l.spec.clone(),
                dm_name: l.dev.name.clone(),
                under: l.under.clone(),
                lv: Some(lv_dm_name(&self.vg, fault_lv(l.spec.device))),
            })
            .collect()
    }

    /// Put the `at = "start"` faults into force, now that lvm has built the pool.
    pub(super) fn start_faults(&mut self) -> Result<(), BackendError> {
        let start: Vec<LayerRef> = self
            .layer_refs()
            .into_iter()
            .filter(|l| l.spec.at == FaultAt::Start)
            .collect();
        if start.is_empty() {
            return Ok(());
        }
        let record = fault::swap(&self.dm, &start, true)?;
        self.construction.extend(
            record
                .into_iter()
                .map(|r| format!("{r}  # in force from the pool's construction")),
        );
        Ok(())
    }

    /// The power cycle: see the module's documentation.
    pub(super) fn reboot_vg(
        &mut self,
        power_on: &mut dyn FnMut() -> Result<Vec<String>, String>,
        repair: bool,
    ) -> Result<Reboot, BackendError> {
        if repair {
            // Validation refuses it; lvm's way would be `lvconvert --repair`.
            return Err(BackendError::Unsupported(
                "`repair = true` on a direct-lvm pool (lvm repairs with `lvconvert --repair` into its spare metadata LV: not done yet)".into(),
            ));
        }
        let start = self.construction.len();
        let vg = self.vg.clone();
        let thins: Vec<(Ident, Bytes)> = self
            .thins
            .iter()
            .map(|(n, t)| (n.clone(), t.size))
            .collect();
        // Down with the faults in force: what the pool writes as it goes is lost.
        self.lvm(&["vgchange", "-an", &vg])?;
        let on = power_on().map_err(BackendError::Unsupported)?;
        self.construction.extend(on);
        let tmeta = format!("{vg}/thinpool_tmeta");
        self.lvm(&["lvchange", "-ay", "-y", &tmeta])?;
        let check = match self.metadata_device() {
            Some(dev) => {
                self.construction
                    .push(format!("thin_check {}", dev.display()));
                metadata_repair::check(&dev)
            }
            None => MetadataCheck::Skipped(format!("{tmeta} activated but has no dm device")),
        };
        self.lvm(&["lvchange", "-an", &tmeta])?;
        if let MetadataCheck::Failed(_) = &check {
            return Err(BackendError::Unsupported(format!(
                "the metadata is damaged after the power cut ({}); the pool stays down",
                check.text()
            )));
        }
        // lvm runs thin_check (clearing needs_check) before it loads the pool. A pool
        // whose last commit lost a thin lvm created refuses activation (its transaction
        // id is behind lvm's): lvm's error says so.
        let pool = format!("{vg}/thinpool");
        self.lvm(&["lvchange", "-ay", &pool])?;
        let mut lost_thins = Vec::new();
        for (name, size) in thins {
            let lv = format!("{vg}/{name}");
            match self.lvm(&["lvchange", "-ay", &lv]) {
                Ok(_) => {
                    self.thin_from_lvm(&name, size)?;
                }
                Err(e) => {
                    self.thins.remove(&name);
                    lost_thins.push((name, e.to_string()));
                }
            }
        }
        self.refresh_pool_name()?;
        Ok(Reboot {
            check,
            repaired: None,
            check_after_repair: None,
            commands: self.construction[start..].to_vec(),
            lost_thins,
        })
    }
}

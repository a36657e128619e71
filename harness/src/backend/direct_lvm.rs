//! Docker's direct-lvm recipe with lvm2: `pvcreate`, `vgcreate`, data and metadata LVs at
//! 95%/1% of the VG, `lvconvert --thinpool`, the autoextend profile and
//! `lvchange --metadataprofile`. Thin volumes are made through lvm too (`lvcreate -V`,
//! `lvcreate -s`, `lvremove`), so lvm's metadata always matches the pool's.
//!
//! lvm runs with its own `lvm.conf` (via `LVM_SYSTEM_DIR`) whose device filter accepts
//! only this pool's PVs: lvm cannot see, let alone change, any other device.
//!
//! Monitored by the system's dmeventd ([`Monitoring`], `run --dmeventd`), the pool is what
//! Docker's documentation makes: lvm's `monitoring = 1`, the system's lock directory (so
//! dmeventd's `lvextend` and thinbench's lvm commands exclude each other), and the profile
//! installed where the system's lvm reads profiles (Docker: `/etc/lvm/profile/
//! docker-thinpool.profile`; here `thinbench-<run id>.profile`, never an existing file,
//! removed at teardown, and found by `thinbench cleanup` if a run dies).

mod faults;
mod table_control;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::PoolUsage;
use thinbench_schema::units::Bytes;

use super::dm::{Dm, DmDev};
use super::error::BackendError;
use super::fault::{FaultStack, LayerRef};
use super::fault_log::{LogHandle, LoggedRange, PvLog};
use super::loopdev::{self, Loop};
use super::metadata_repair::{self, MetadataRepair};
use super::names::{Names, VG_TAG};
use super::pool::{
    find_thin_pool, read_pool_status, DmStatusReader, PoolBackend, StatusReader, ThinDev,
};
use super::ram::RamDisk;
use super::table::{PoolTable, ThinTable};
use super::thin_tools;
use crate::spec::{DirectLvmSpec, NoSpacePolicy, PoolSpec};
use crate::sys::{command, host_services};

/// Name of the autoextend profile (Docker called it `docker-thinpool`).
pub const PROFILE: &str = "thinbench-thinpool";

/// Prefix of the profiles a monitored run installs in the system's profile directory.
pub const SYSTEM_PROFILE_PREFIX: &str = "thinbench-";

/// The system's dmeventd monitors the pool: where its lvm reads profiles.
#[derive(Debug, Clone)]
pub struct Monitoring {
    /// The system's `config/profile_dir`.
    pub profile_dir: PathBuf,
}

/// lvm.conf for a run: no udev where there is none, no backups, and a filter that admits
/// exactly the run's PVs. Unmonitored: no dmeventd and a lock directory of the run's own;
/// monitored: dmeventd, the system's lock and profile directories.
pub fn lvm_conf(pvs: &[PathBuf], udev: bool, lock_dir: &Path, mon: Option<&Monitoring>) -> String {
    let u = u8::from(udev);
    let admit: String = pvs
        .iter()
        .map(|p| format!("\"a|^{}$|\", ", p.display()))
        .collect();
    let (monitoring, global, config) = match mon {
        None => (
            0,
            format!("  locking_dir = \"{}\"\n", lock_dir.display()),
            String::new(),
        ),
        Some(m) => (
            1,
            String::new(),
            format!(
                "config {{\n  profile_dir = \"{}\"\n}}\n",
                m.profile_dir.display()
            ),
        ),
    };
    format!(
        "devices {{\n  obtain_device_list_from_udev = {u}\n  use_devicesfile = 0\n  global_filter = [ {admit}\"r|.*|\" ]\n}}\n\
         activation {{\n  udev_sync = {u}\n  udev_rules = {u}\n  monitoring = {monitoring}\n}}\n\
         global {{\n  use_lvmpolld = 0\n{global}}}\n\
         backup {{\n  backup = 0\n  archive = 0\n}}\n{config}"
    )
}

/// Docker's autoextend profile.
pub fn profile(spec: &DirectLvmSpec) -> String {
    format!(
        "activation {{\n  thin_pool_autoextend_threshold = {}\n  thin_pool_autoextend_percent = {}\n}}\n",
        spec.autoextend_threshold, spec.autoextend_percent
    )
}

/// dm name lvm gives `vg/lv` (hyphens doubled).
pub fn lv_dm_name(vg: &str, lv: &str) -> String {
    format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--"))
}

/// A live direct-lvm pool.
pub struct DirectLvmPool {
    dm: Dm,
    vg: String,
    pv: PathBuf,
    conf_dir: PathBuf,
    pool_dm: String,
    loop_pv: Option<Loop>,
    ram_pv: Option<RamDisk>,
    vg_created: bool,
    pv_created: bool,
    thins: BTreeMap<Ident, ThinDev>,
    construction: Vec<String>,
    /// `vgextend_size`: the second PV, loop-backed, and whether lvm labelled it.
    extra_pv: Option<(Loop, bool)>,
    /// dmeventd monitors the pool.
    monitoring: Option<Monitoring>,
    /// The profile's name (in the run's or, monitored, the system's profile directory).
    profile: String,
    /// The profile file this run installed in the system's profile directory.
    system_profile: Option<PathBuf>,
    /// `[[fault]]` layers over the PV disk, bottom first (`faults`): `pv` is the top one.
    pv_faults: FaultStack,
    /// The PV disk under the fault layers, when there are any.
    pv_disk: Option<PathBuf>,
    /// A `log-writes` fault's device, over the PV disk, under the other layers.
    pv_log: Option<PvLog>,
}

/// The PV to use, as the environment resolved it.
pub enum Pv {
    /// A block device.
    Device(PathBuf),
    /// The VM's scratch disk for the pool, used for exactly the scenario's `device_size`
    /// (`pvcreate --setphysicalvolumesize`): one boot's runs share a disk per pool
    /// position, as large as the largest of them needs, and 95% of the VG must be 95% of
    /// what each scenario asked for.
    Scratch(PathBuf, Bytes),
    /// A sparse file to put on a loop device.
    LoopFile(PathBuf, Bytes),
    /// A brd ram disk of this size loaded for run (the id).
    Ram(String, Bytes),
}

impl DirectLvmPool {
    /// Build the pool; on failure whatever was built is torn down first.
    pub fn create(
        spec: &PoolSpec,
        d: &DirectLvmSpec,
        pv: Pv,
        conf_dir: &Path,
        names: &Names,
        monitoring: Option<Monitoring>,
    ) -> Result<DirectLvmPool, BackendError> {
        let profile = match monitoring {
            Some(_) => format!("{SYSTEM_PROFILE_PREFIX}{}-{}", names.run_id, spec.name),
            None => PROFILE.to_owned(),
        };
        let mut p = DirectLvmPool {
            dm: Dm::open()?,
            vg: names.vg(spec.name.as_str()),
            pv: PathBuf::new(),
            conf_dir: conf_dir.to_owned(),
            pool_dm: String::new(),
            loop_pv: None,
            ram_pv: None,
            vg_created: false,
            pv_created: false,
            thins: BTreeMap::new(),
            construction: Vec::new(),
            extra_pv: None,
            monitoring,
            profile,
            system_profile: None,
            pv_faults: FaultStack::default(),
            pv_disk: None,
            pv_log: None,
        };
        match p.build(spec, d, pv, names) {
            Ok(()) => Ok(p),
            Err(e) => {
                p.teardown();
                Err(e)
            }
        }
    }

    fn lvm(&mut self, args: &[&str]) -> Result<String, BackendError> {
        self.construction.push(format!("lvm {}", args.join(" ")));
        let dir = self.conf_dir.to_string_lossy().into_owned();
        let mut env = vec![("LVM_SYSTEM_DIR", dir.as_str())];
        env.extend(host_services::dm_tool_env());
        Ok(command::run_env("lvm", args, &env)?)
    }

    /// The PVs lvm may see: the pool's, and the second one once it exists.
    fn pvs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.pv.clone()];
        v.extend(self.extra_pv.iter().map(|(l, _)| l.path.clone()));
        v
    }

    fn write_lvm_conf(&self) -> Result<(), BackendError> {
        let udev = host_services::udev_running();
        let conf = self.conf_dir.join("lvm.conf");
        let text = lvm_conf(
            &self.pvs(),
            udev,
            &self.conf_dir.join("lock"),
            self.monitoring.as_ref(),
        );
        fs::write(&conf, text).map_err(|e| BackendError::Io {
            what: "writing".into(),
            path: conf.clone(),
            source: e,
        })
    }

    /// The autoextend profile, where the lvm that applies it reads it: the run's profile
    /// directory, or (monitored) the system's, as a new file.
    fn install_profile(&mut self, d: &DirectLvmSpec) -> Result<(), BackendError> {
        let (path, new) = match &self.monitoring {
            None => (
                self.conf_dir
                    .join("profile")
                    .join(format!("{}.profile", self.profile)),
                false,
            ),
            Some(m) => (
                m.profile_dir.join(format!("{}.profile", self.profile)),
                true,
            ),
        };
        let io = |e| BackendError::Io {
            what: "writing".into(),
            path: path.clone(),
            source: e,
        };
        if new {
            use std::io::Write;
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io)?;
            self.system_profile = Some(path.clone());
            self.construction.push(format!(
                "{} (the autoextend profile, where dmeventd's lvm reads it)",
                path.display()
            ));
            f.write_all(profile(d).as_bytes()).map_err(io)
        } else {
            fs::write(&path, profile(d)).map_err(io)
        }
    }

    /// `vgextend_size`: Docker's way to give a direct-lvm pool room to grow (attach a
    /// device, `pvcreate`, `vgextend`), with a loop-backed PV beside the pool's files.
    fn extend_vg(&mut self, size: Bytes) -> Result<(), BackendError> {
        let file = self
            .conf_dir
            .parent()
            .unwrap_or(&self.conf_dir)
            .join("vgextend.img");
        loopdev::sparse_file(&file, size.0)?;
        let l = loopdev::attach(&file)?;
        let dev = l.path.to_string_lossy().into_owned();
        self.construction.push(format!(
            "losetup {dev} {} (the second PV: vgextend_size)",
            file.display()
        ));
        self.extra_pv = Some((l, false));
        self.write_lvm_conf()?;
        self.lvm(&["pvcreate", "--yes", &dev])?;
        if let Some((_, labelled)) = &mut self.extra_pv {
            *labelled = true;
        }
        let vg = self.vg.clone();
        self.lvm(&["vgextend", &vg, &dev])?;
        Ok(())
    }

    fn build(
        &mut self,
        spec: &PoolSpec,
        d: &DirectLvmSpec,
        pv: Pv,
        names: &Names,
    ) -> Result<(), BackendError> {
        let mut pv_size = None;
        self.pv = match pv {
            Pv::Device(p) => p,
            Pv::Scratch(p, size) => {
                pv_size = Some(size);
                p
            }
            Pv::LoopFile(f, size) => {
                loopdev::sparse_file(&f, size.0)?;
                let l = loopdev::attach(&f)?;
                let p = l.path.clone();
                self.construction.push(format!(
                    "losetup {} {} (loop-backed PV)",
                    p.display(),
                    f.display()
                ));
                self.loop_pv = Some(l);
                p
            }
            Pv::Ram(run_id, size) => {
                let r = RamDisk::load(&run_id, size)?;
                let p = r.device();
                self.construction.push(format!(
                    "modprobe brd rd_nr=1 rd_size={} max_part=0 (RAM backing: PV {})",
                    size.0.div_ceil(1024),
                    p.display()
                ));
                self.ram_pv = Some(r);
                p
            }
        };
        if !spec.faults.is_empty() {
            let disk = self.pv.clone();
            self.build_pv_layers(&spec.faults, spec.name.as_str(), names, disk)?;
        }
        let lock = self.conf_dir.join("lock");
        let prof = self.conf_dir.join("profile");
        for dir in [&lock, &prof] {
            fs::create_dir_all(dir).map_err(|e| BackendError::Io {
                what: "creating".into(),
                path: dir.clone(),
                source: e,
            })?;
        }
        self.write_lvm_conf()?;
        self.install_profile(d)?;

        // `lvcreate -s` checks for the snapshot target and runs modprobe when it is
        // missing; in the VM (modules loaded on demand, no /lib/modules for the guest
        // kernel) it must already be there. Without it lvm's own error says so.
        let _ = crate::sys::modules::ensure("dm_snapshot");
        let pv = self.pv.to_string_lossy().into_owned();
        let vg = self.vg.clone();
        let run_tag = names.run_tag();
        match pv_size {
            Some(size) => {
                let s = format!("{}s", size.sectors().0);
                self.lvm(&["pvcreate", "--yes", "--setphysicalvolumesize", &s, &pv])?
            }
            None => self.lvm(&["pvcreate", "--yes", &pv])?,
        };
        self.pv_created = true;
        let extent = format!("{}k", d.extent_size.0 / 1024);
        self.lvm(&[
            "vgcreate", "-s", &extent, "--addtag", VG_TAG, "--addtag", &run_tag, &vg, &pv,
        ])?;
        self.vg_created = true;
        let data_pct = format!("{}%VG", d.thinpool_percent);
        let (meta_flag, meta_amount) = match d.metadata_size {
            Some(b) => ("-L", format!("{}k", b.0.div_ceil(1024))),
            None => ("-l", format!("{}%VG", d.metadata_percent)),
        };
        self.lvm(&[
            "lvcreate",
            "--yes",
            "--wipesignatures",
            "y",
            "-n",
            "thinpool",
            "-l",
            &data_pct,
            &vg,
        ])?;
        self.lvm(&[
            "lvcreate",
            "--yes",
            "--wipesignatures",
            "y",
            "-n",
            "thinpoolmeta",
            meta_flag,
            &meta_amount,
            &vg,
        ])?;
        let chunk = format!("{}s", spec.chunk.sectors().0);
        let zero = if spec.block_zeroing { "y" } else { "n" };
        let discards = if spec.ignore_discard {
            "ignore"
        } else if spec.discard_passdown {
            "passdown"
        } else {
            "nopassdown"
        };
        let pool = format!("{vg}/thinpool");
        let meta = format!("{vg}/thinpoolmeta");
        self.lvm(&[
            "lvconvert",
            "-y",
            "--zero",
            zero,
            "-c",
            &chunk,
            "--discards",
            discards,
            "--thinpool",
            &pool,
            "--poolmetadata",
            &meta,
        ])?;
        let profile = self.profile.clone();
        self.lvm(&["lvchange", "--metadataprofile", &profile, &pool])?;
        // lvm's default is queue; it refuses to "change" a setting to its current value.
        if spec.no_space == NoSpacePolicy::Error {
            self.lvm(&["lvchange", "--errorwhenfull", "y", &pool])?;
        }
        if let Some(size) = d.vgextend_size {
            self.extend_vg(size)?;
        }
        self.refresh_pool_name()?;
        self.check_pool_table(spec)?;
        self.start_faults()
    }

    /// A replay splits the log by the LVs' segments as they are when it runs, so crash
    /// points before an `lvextend` would be a pool on a longer device than it had.
    fn refuse_under_log(&self, what: &str) -> Result<(), BackendError> {
        match self.pv_log {
            Some(_) => Err(BackendError::Unsupported(format!(
                "{what} of a pool under a log-writes layer (a replay maps the log by the LVs' segments at its own time; an extension would put earlier crash points on a longer device)"
            ))),
            None => Ok(()),
        }
    }

    /// lvm wrote the pool's table: check that it has the chunk size and block zeroing the
    /// scenario asked for, since a pool built otherwise would measure something else.
    fn check_pool_table(&self, spec: &PoolSpec) -> Result<(), BackendError> {
        let status = |message: String| BackendError::Status {
            pool: self.pool_dm.clone(),
            message,
        };
        let table = self.dm.table(&self.pool_dm)?;
        let line = table
            .iter()
            .find(|l| l.2 == "thin-pool")
            .ok_or_else(|| status("no thin-pool target".into()))?;
        let t = PoolTable::parse(&line.3).map_err(status)?;
        if t.block_sectors != spec.chunk.sectors().0 {
            return Err(status(format!(
                "lvm made {}-sector chunks, the scenario asked for {}",
                t.block_sectors,
                spec.chunk.sectors().0
            )));
        }
        if t.has_feature("skip_block_zeroing") == spec.block_zeroing {
            return Err(status(format!(
                "lvm's pool table `{t}` does not have block zeroing {}",
                if spec.block_zeroing { "on" } else { "off" }
            )));
        }
        if t.has_feature("ignore_discard") != spec.ignore_discard {
            return Err(status(format!(
                "lvm's pool table `{t}` does not have ignore_discard {}",
                if spec.ignore_discard { "on" } else { "off" }
            )));
        }
        Ok(())
    }

    /// lvm names the thin-pool target `<vg>-thinpool` until a thin LV exists, then
    /// `<vg>-thinpool-tpool`: find it by target type.
    /// The dm names of the VG's devices start with this.
    fn dm_prefix(&self) -> String {
        format!("{}-", self.vg.replace('-', "--"))
    }

    fn refresh_pool_name(&mut self) -> Result<(), BackendError> {
        match find_thin_pool(&self.dm, &self.dm_prefix())? {
            Some(name) => {
                self.pool_dm = name;
                Ok(())
            }
            None => Err(BackendError::Status {
                pool: self.vg.clone(),
                message: "lvm made no thin-pool target".into(),
            }),
        }
    }

    fn thin_from_lvm(&mut self, name: &Ident, size: Bytes) -> Result<ThinDev, BackendError> {
        let dm_name = lv_dm_name(&self.vg, name.as_str());
        let dev: DmDev = self
            .dm
            .info(&dm_name)?
            .ok_or_else(|| BackendError::Status {
                pool: self.vg.clone(),
                message: format!("lvm did not activate {dm_name}"),
            })?;
        let table = self.dm.table(&dm_name)?;
        let id = table
            .iter()
            .find(|l| l.2 == "thin")
            .ok_or_else(|| format!("{dm_name} has no thin table"))
            .and_then(|l| ThinTable::parse(&l.3).map_err(|e| format!("{dm_name}: {e}")))
            .map_err(|message| BackendError::Status {
                pool: self.vg.clone(),
                message,
            })?
            .dev_id;
        self.refresh_pool_name()?;
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
}

impl DirectLvmPool {
    /// `thin_check` of the pool's metadata with the pool inactive: deactivate the VG,
    /// activate the metadata LV alone (lvm's read-only "component activation") and check
    /// it. Teardown's `vgchange -an` deactivates it again: one lvm command more than a
    /// plain teardown (each costs seconds under TCG).
    fn check_inactive_metadata(&mut self) -> thin_tools::MetadataCheck {
        use thin_tools::MetadataCheck::Skipped;
        let vg = self.vg.clone();
        if let Err(e) = self.lvm(&["vgchange", "-an", &vg]) {
            return Skipped(format!("the pool could not be deactivated: {e}"));
        }
        let tmeta = format!("{vg}/thinpool_tmeta");
        if let Err(e) = self.lvm(&["lvchange", "-ay", "-y", &tmeta]) {
            return Skipped(format!(
                "lvm would not activate the metadata LV on its own: {e}"
            ));
        }
        let check = match self.metadata_device() {
            Some(dev) => thin_tools::thin_check(&dev),
            None => Skipped(format!("{tmeta} activated but has no dm device")),
        };
        check
    }
}

impl DirectLvmPool {
    /// The pool's metadata LV size, from lvm.
    fn metadata_size(&mut self) -> Result<Bytes, BackendError> {
        let pool = format!("{}/thinpool", self.vg);
        let out = self.lvm(&[
            "lvs",
            "--noheadings",
            "--nosuffix",
            "--units",
            "b",
            "-o",
            "lv_metadata_size",
            &pool,
        ])?;
        out.trim()
            .parse::<u64>()
            .map(Bytes)
            .map_err(|_| BackendError::Status {
                pool: self.vg.clone(),
                message: format!("lvs lv_metadata_size: cannot read {:?}", out.trim()),
            })
    }

    /// After the VG was activated again: the thins' dm devices (new minors) and the
    /// pool's name.
    fn refresh_thins(&mut self) -> Result<(), BackendError> {
        let names: Vec<Ident> = self.thins.keys().cloned().collect();
        for n in names {
            let dm_name = lv_dm_name(&self.vg, n.as_str());
            let dev = self
                .dm
                .info(&dm_name)?
                .ok_or_else(|| BackendError::Status {
                    pool: self.vg.clone(),
                    message: format!("lvm did not activate {dm_name} again"),
                })?;
            if let Some(t) = self.thins.get_mut(&n) {
                t.dm = dev;
            }
        }
        self.refresh_pool_name()
    }
}

impl PoolBackend for DirectLvmPool {
    fn pool_dm_name(&self) -> &str {
        &self.pool_dm
    }

    fn status(&self) -> Result<PoolUsage, BackendError> {
        read_pool_status(&self.dm, &self.pool_dm)
    }

    fn create_thin(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
    ) -> Result<ThinDev, BackendError> {
        if id.is_some() {
            return Err(BackendError::Unsupported(
                "direct-lvm: lvm chooses thin ids; remove `id` from the step".into(),
            ));
        }
        let pool = format!("{}/thinpool", self.vg);
        let vsize = format!("{}s", size.sectors().0);
        self.lvm(&[
            "lvcreate",
            "--yes",
            "-n",
            name.as_str(),
            "-V",
            &vsize,
            "--thinpool",
            &pool,
        ])?;
        self.thin_from_lvm(name, size)
    }

    fn snapshot(
        &mut self,
        name: &Ident,
        origin: &Ident,
        id: Option<ThinId>,
    ) -> Result<ThinDev, BackendError> {
        if id.is_some() {
            return Err(BackendError::Unsupported(
                "direct-lvm: lvm chooses thin ids; remove `id` from the step".into(),
            ));
        }
        let size = self
            .thins
            .get(origin)
            .ok_or_else(|| BackendError::NoSuchThin(origin.to_string()))?
            .size;
        let o = format!("{}/{}", self.vg, origin);
        // Thin snapshots skip activation by default; -kn -ay activates this one.
        self.lvm(&[
            "lvcreate",
            "--yes",
            "-s",
            &o,
            "-n",
            name.as_str(),
            "-kn",
            "-ay",
        ])?;
        self.thin_from_lvm(name, size)
    }

    fn deactivate_thin(&mut self, name: &Ident, deferred: bool) -> Result<(), BackendError> {
        super::pool::deactivate_thin(&self.dm, &self.thins, name, deferred)
    }

    fn activate_thin(
        &mut self,
        name: &Ident,
        _id: ThinId,
        size: Bytes,
        read_only: bool,
    ) -> Result<ThinDev, BackendError> {
        // lvm's own activation: it finds the LV's device gone (a deactivate removes it,
        // as Docker did) and makes it again from its metadata.
        let lv = format!("{}/{}", self.vg, name);
        if read_only {
            self.lvm(&["lvchange", "-ay", "-pr", &lv])?;
        } else {
            self.lvm(&["lvchange", "-ay", &lv])?;
        }
        self.thin_from_lvm(name, size)
    }

    fn delete_inactive_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        super::pool::inactive_thin(&self.dm, &self.thins, name)?;
        let lv = format!("{}/{}", self.vg, name);
        self.lvm(&["lvremove", "--yes", &lv])?;
        self.thins.remove(name);
        Ok(())
    }

    fn delete_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        self.thins
            .remove(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        let lv = format!("{}/{}", self.vg, name);
        self.lvm(&["lvremove", "--yes", &lv])?;
        Ok(())
    }

    fn thin(&self, name: &Ident) -> Option<&ThinDev> {
        self.thins.get(name)
    }

    fn grow_data(&mut self, by: Bytes) -> Result<(), BackendError> {
        self.refuse_under_log("growing the data LV")?;
        let pool = format!("{}/thinpool", self.vg);
        let size = format!("+{}s", by.sectors().0);
        self.lvm(&["lvextend", "-L", &size, &pool])?;
        self.refresh_pool_name()
    }

    fn monitored_by_dmeventd(&self) -> bool {
        self.monitoring.is_some()
    }

    fn apply_autoextend_policy(&mut self) -> Result<bool, BackendError> {
        let pool = format!("{}/thinpool", self.vg);
        let before = self.status()?.data_total;
        self.lvm(&["lvextend", "--use-policies", &pool])?;
        self.refresh_pool_name()?;
        Ok(self.status()?.data_total > before)
    }

    fn repair_metadata(&mut self, grow_by: Bytes) -> Result<MetadataRepair, BackendError> {
        // What lvm2 documents for a pool out of metadata space, done offline: deactivate,
        // check the metadata (lvm's read-only component activation of `_tmeta`), grow
        // it with `lvextend --poolmetadatasize`, activate again. lvm itself runs
        // `thin_check -q --clear-needs-check-flag` on the metadata before it activates a
        // pool (its default `global/thin_check_options`): that clears the flag.
        let start = self.construction.len();
        let vg = self.vg.clone();
        let pool = format!("{vg}/thinpool");
        let meta_before = self.metadata_size()?;
        self.lvm(&["vgchange", "-an", &vg])?;
        let tmeta = format!("{vg}/thinpool_tmeta");
        self.lvm(&["lvchange", "-ay", "-y", &tmeta])?;
        let check = match self.metadata_device() {
            Some(dev) => {
                self.construction
                    .push(format!("thin_check {}", dev.display()));
                metadata_repair::check(&dev)
            }
            None => thin_tools::MetadataCheck::Skipped(format!(
                "{tmeta} activated but has no dm device"
            )),
        };
        self.lvm(&["lvchange", "-an", &tmeta])?;
        let by = format!("+{}s", grow_by.sectors().0);
        self.lvm(&["lvextend", "--poolmetadatasize", &by, &pool])?;
        self.lvm(&["vgchange", "-ay", &vg])?;
        self.refresh_thins()?;
        let meta_after = self.metadata_size()?;
        Ok(MetadataRepair {
            check,
            cleared_by: "lvm at activation (thin_check -q --clear-needs-check-flag)".into(),
            meta_before,
            meta_after,
            commands: self.construction[start..].to_vec(),
        })
    }

    fn status_reader(&self) -> Box<dyn StatusReader> {
        Box::new(DmStatusReader::moving(&self.pool_dm, &self.dm_prefix()))
    }

    fn reload(
        &mut self,
        change: &crate::spec::ReloadSpec,
    ) -> Result<super::table::PoolTable, BackendError> {
        self.reload_with_lvm(change)
    }

    fn resize(
        &mut self,
        r: &crate::spec::ResizeSpec,
    ) -> Result<super::resize::Resized, BackendError> {
        self.resize_with_lvm(r)
    }

    fn construction(&self) -> Vec<String> {
        // lvm chooses the pool's table (its low water mark among it): the table as
        // loaded is the record of what the kernel was given.
        let mut c = self.construction.clone();
        if let Ok(lines) = self.dm.table(&self.pool_dm) {
            for (start, len, target, params) in lines.iter().filter(|l| l.2 == "thin-pool") {
                c.push(format!(
                    "table of {} as lvm loaded it: {start} {len} {target} {params}",
                    self.pool_dm
                ));
            }
        }
        c
    }

    fn device(&self) -> String {
        match &self.pv_disk {
            Some(disk) => format!(
                "{} (VG {} on {}, fault layers over {})",
                self.pool_dm,
                self.vg,
                self.pv.display(),
                disk.display()
            ),
            None => format!("{} (VG {} on {})", self.pool_dm, self.vg, self.pv.display()),
        }
    }

    fn fault_layers(&self) -> Vec<LayerRef> {
        self.layer_refs()
    }

    fn pool_log(&self) -> Option<LogHandle<'_>> {
        self.pv_log.as_ref().map(PvLog::handle)
    }

    fn pool_log_ranges(&self) -> Result<Vec<LoggedRange>, BackendError> {
        self.logged_ranges()
    }

    fn reboot(
        &mut self,
        power_on: &mut dyn FnMut() -> Result<Vec<String>, String>,
        repair: bool,
    ) -> Result<metadata_repair::Reboot, BackendError> {
        self.reboot_vg(power_on, repair)
    }

    fn metadata_device(&self) -> Option<PathBuf> {
        let name = lv_dm_name(&self.vg, "thinpool_tmeta");
        self.dm.info(&name).ok().flatten().map(|d| d.devnode())
    }

    fn data_device(&self) -> Option<PathBuf> {
        let name = lv_dm_name(&self.vg, "thinpool_tdata");
        self.dm.info(&name).ok().flatten().map(|d| d.devnode())
    }

    fn teardown_with_check(&mut self) -> (Vec<String>, thin_tools::MetadataCheck) {
        let check = if self.vg_created {
            self.check_inactive_metadata()
        } else {
            thin_tools::MetadataCheck::Skipped("the VG was never made".into())
        };
        (self.teardown(), check)
    }

    fn teardown(&mut self) -> Vec<String> {
        let mut errs = Vec::new();
        self.thins.clear();
        let vg = self.vg.clone();
        if self.vg_created {
            if let Err(e) = self.lvm(&["vgchange", "-an", &vg]) {
                errs.push(e.to_string());
            }
            match self.lvm(&["vgremove", "-ff", "--yes", &vg]) {
                Ok(_) => self.vg_created = false,
                Err(e) => errs.push(e.to_string()),
            }
        }
        if let Some((mut l, labelled)) = self.extra_pv.take() {
            let dev = l.path.to_string_lossy().into_owned();
            if labelled {
                if let Err(e) = self.lvm(&["pvremove", "--yes", &dev]) {
                    errs.push(e.to_string());
                }
            }
            if let Err(e) = l.detach() {
                errs.push(e.to_string());
            }
            let _ = fs::remove_file(&l.file);
        }
        if self.pv_created {
            let pv = self.pv.to_string_lossy().into_owned();
            match self.lvm(&["pvremove", "--yes", &pv]) {
                Ok(_) => self.pv_created = false,
                Err(e) => errs.push(e.to_string()),
            }
        }
        // The layers once lvm is done with the PV on them, top down; then what they are on.
        errs.extend(self.pv_faults.teardown(&self.dm));
        if let Some(log) = self.pv_log.take() {
            errs.extend(log.teardown(&self.dm));
        }
        if let Some(disk) = self.pv_disk.take() {
            self.pv = disk;
        }
        if let Some(mut l) = self.loop_pv.take() {
            if let Err(e) = l.detach() {
                errs.push(e.to_string());
            }
            let _ = fs::remove_file(&l.file);
        }
        // After the VG: lvm reads the profile while the pool exists.
        if let Some(p) = self.system_profile.take() {
            if let Err(e) = fs::remove_file(&p) {
                errs.push(format!("removing {}: {e}", p.display()));
            }
        }
        // Only once the PV is gone: brd cannot unload while lvm's devices hold it.
        if let Some(mut r) = self.ram_pv.take() {
            if let Err(e) = r.release() {
                errs.push(e);
            }
        }
        errs
    }
}

impl Drop for DirectLvmPool {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

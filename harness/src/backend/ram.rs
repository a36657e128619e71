//! RAM backing (`backing = "ram"`): a pool's devices in memory, so a measured window does
//! no IO to a disk at all. loop-lvm's two sparse files go on a tmpfs the run mounts
//! ([`RamDir`]); direct-lvm's PV is a `brd` ram disk the run loads ([`RamDisk`]). Both are
//! the run's own: released at teardown (success, failure, interrupt) and, after a kill,
//! found by `thinbench cleanup` (the tmpfs under [`RAM_BASE`]`/<run-id>`, the brd by its
//! owner file).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thinbench_schema::units::Bytes;

use super::error::BackendError;
use crate::sys::{command, modules};

/// Where a run mounts its tmpfs, at `<RAM_BASE>/<run-id>` (a scratch base of cleanup).
pub const RAM_BASE: &str = "/run/thinbench/ram";
/// The work dir's base in the guest for a run whose pools are all RAM-backed: on the
/// guest's /run tmpfs, so such a run does no IO to any disk (the work disk stays
/// untouched).
pub const RAM_WORK_BASE: &str = "/run/thinbench/work";
/// The run id of the run that loaded brd; without it a brd is not thinbench's.
pub const BRD_OWNER: &str = "/run/thinbench/brd.owner";
/// The ram disk brd makes with `rd_nr=1`.
pub const BRD_DEVICE: &str = "/dev/ram0";

/// Room on the tmpfs above the files' apparent sizes (its own inodes, a partial page).
const TMPFS_SLACK: u64 = 16 << 20;

/// A tmpfs mounted for one pool's files.
#[derive(Debug)]
pub struct RamDir {
    path: PathBuf,
    mounted: bool,
}

impl RamDir {
    /// Mount a tmpfs of room for `bytes` at `<RAM_BASE>/<run_id>`. One pool at a time per
    /// run: cases run one after another, each releasing its own.
    pub fn mount(run_id: &str, bytes: Bytes) -> Result<RamDir, BackendError> {
        let path = Path::new(RAM_BASE).join(run_id);
        fs::create_dir_all(&path).map_err(|source| BackendError::Io {
            what: "creating".into(),
            path: path.clone(),
            source,
        })?;
        let p = path.to_string_lossy().into_owned();
        if is_mount_point(&path) {
            return Err(BackendError::Unsupported(format!(
                "{p} is mounted already: another pool of this run still holds it"
            )));
        }
        // mode=700: the pool's files are root's, as on the scratch disk.
        let opts = format!("size={},mode=700", bytes.0 + TMPFS_SLACK);
        command::run("mount", &["-t", "tmpfs", "-o", &opts, "thinbench-ram", &p])?;
        Ok(RamDir {
            path,
            mounted: true,
        })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unmount (its memory is freed) and remove the mount point. A loop device detached
    /// a moment ago may still hold its file: retried for a few seconds, then detached
    /// lazily (freed when the last user goes).
    pub fn release(&mut self) -> Result<(), String> {
        if !self.mounted {
            return Ok(());
        }
        let p = self.path.to_string_lossy().into_owned();
        let t0 = Instant::now();
        let mut last = String::new();
        while t0.elapsed() < Duration::from_secs(5) {
            match command::run("umount", &[&p]) {
                Ok(_) => {
                    self.mounted = false;
                    let _ = fs::remove_dir(&self.path);
                    return Ok(());
                }
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        command::run("umount", &["-l", &p]).map_err(|e| format!("{last}; then {e}"))?;
        self.mounted = false;
        let _ = fs::remove_dir(&self.path);
        Err(format!(
            "{p} was busy for 5 s after the pool's teardown ({last}): detached lazily"
        ))
    }
}

impl Drop for RamDir {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Whether `path` is a mount point (`/proc/self/mounts`).
fn is_mount_point(path: &Path) -> bool {
    let p = path.to_string_lossy();
    fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some(&*p))
}

/// A brd ram disk this run loaded, [`BRD_DEVICE`].
#[derive(Debug)]
pub struct RamDisk {
    loaded: bool,
}

/// Why a brd already present is not used: thinbench never touches a ram disk it did not
/// make (it may hold someone's data, and its size was not chosen here).
pub fn brd_refusal() -> Option<String> {
    let present = Path::new("/sys/module/brd").exists() || Path::new(BRD_DEVICE).exists();
    present.then(|| {
        format!(
            "{BRD_DEVICE} exists already (brd is loaded, or built in): a RAM-backed direct-lvm pool needs a brd of its own, and thinbench never touches one it did not create; unload it (`rmmod brd`) if nothing uses it"
        )
    })
}

impl RamDisk {
    /// Load brd with one disk of `size` (rounded up to KiB) for run `run_id`.
    pub fn load(run_id: &str, size: Bytes) -> Result<RamDisk, BackendError> {
        if let Some(r) = brd_refusal() {
            return Err(BackendError::Unsupported(r));
        }
        // The owner first: a run killed right after the load is still found by cleanup.
        if let Some(dir) = Path::new(BRD_OWNER).parent() {
            let _ = fs::create_dir_all(dir);
        }
        fs::write(BRD_OWNER, run_id).map_err(|source| BackendError::Io {
            what: "writing".into(),
            path: BRD_OWNER.into(),
            source,
        })?;
        let mut disk = RamDisk { loaded: true };
        let params = format!("rd_nr=1 rd_size={} max_part=0", size.0.div_ceil(1024));
        if let Err(e) = modules::load_with("brd", &params) {
            disk.loaded = false;
            let _ = fs::remove_file(BRD_OWNER);
            return Err(BackendError::Unsupported(format!(
                "a RAM-backed direct-lvm pool needs the brd module: {e}"
            )));
        }
        // devtmpfs makes the node as the disk is added; wait for it briefly.
        let t0 = Instant::now();
        while !Path::new(BRD_DEVICE).exists() {
            if t0.elapsed() > Duration::from_secs(10) {
                return Err(BackendError::Unsupported(format!(
                    "brd loaded but {BRD_DEVICE} did not appear within 10 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(disk)
    }

    /// The device.
    pub fn device(&self) -> PathBuf {
        PathBuf::from(BRD_DEVICE)
    }

    /// Unload brd (its memory is freed) and drop the owner file.
    pub fn release(&mut self) -> Result<(), String> {
        if !self.loaded {
            return Ok(());
        }
        unload_brd()?;
        self.loaded = false;
        Ok(())
    }
}

impl Drop for RamDisk {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// `rmmod brd` and remove [`BRD_OWNER`]; for the run that owns it (or cleanup, for a dead
/// one). A brd still held (a VG still active on it) is left, with EBUSY.
pub fn unload_brd() -> Result<(), String> {
    let t0 = Instant::now();
    loop {
        match modules::unload("brd") {
            Ok(()) => break,
            // lvm's last close may still be on its way out.
            Err(_) if t0.elapsed() < Duration::from_secs(3) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => return Err(e),
        }
    }
    let _ = fs::remove_file(BRD_OWNER);
    Ok(())
}

/// The run that loaded the brd now present, if thinbench did.
pub fn brd_owner() -> Option<String> {
    let owner = fs::read_to_string(BRD_OWNER).ok()?;
    let owner = owner.trim();
    (!owner.is_empty()).then(|| owner.to_owned())
}

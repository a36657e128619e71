//! Finding and removing what killed runs left: dm devices and VGs carrying a run's tag,
//! loop devices backed by a run's scratch files, scratch directories. A run holds a lock
//! while it lives; `cleanup` leaves live runs alone and never touches anything untagged.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::backend::dm::Dm;
use crate::backend::loopdev;
use crate::backend::names::{run_id_of, NAME_PREFIX, UUID_PREFIX, VG_TAG};
use crate::sys::command;

/// Directory of per-run lock files.
pub const LOCK_DIR: &str = "/run/thinbench/locks";
/// Scratch bases a run may use (host, guest disk, a RAM-backed pool's tmpfs, a
/// RAM-only run's work dir in the guest).
pub const SCRATCH_BASES: &[&str] = &[
    "/var/tmp/thinbench",
    "/run/thinbench/disk",
    crate::backend::ram::RAM_BASE,
    crate::backend::ram::RAM_WORK_BASE,
];

/// Held for a run's lifetime (flock, so it vanishes with the process, even on SIGKILL).
pub struct RunLock {
    _f: File,
    path: PathBuf,
}

impl RunLock {
    /// Take the lock for `run_id`.
    pub fn acquire(run_id: &str) -> std::io::Result<RunLock> {
        fs::create_dir_all(LOCK_DIR)?;
        let path = Path::new(LOCK_DIR).join(format!("{run_id}.lock"));
        let f = File::create(&path)?;
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(std::io::Error::other(format!(
                "run {run_id} is already running"
            )));
        }
        Ok(RunLock { _f: f, path })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether a live process holds `run_id`'s lock.
pub fn is_live(run_id: &str) -> bool {
    let path = Path::new(LOCK_DIR).join(format!("{run_id}.lock"));
    let Ok(f) = File::open(&path) else {
        return false;
    };
    // SAFETY: flock on an fd we own; released when `f` drops.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) != 0 }
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A dm device of ours (thins first, then pools, then the fault layers under them).
    DmDevice {
        /// Name.
        name: String,
        /// Run.
        run: String,
        /// Whether it is a thin-pool (removed after the thins).
        is_pool: bool,
    },
    /// A VG tagged by a run.
    Vg {
        /// VG name.
        name: String,
        /// Its PVs.
        pvs: Vec<String>,
    },
    /// A loop device backed by a run's scratch file.
    Loop {
        /// `/dev/loopN`.
        dev: PathBuf,
        /// Backing file.
        file: PathBuf,
    },
    /// A filesystem a run mounted (deferred-removal holders); unmounted first.
    Mount {
        /// Mount point.
        dir: PathBuf,
    },
    /// A scratch directory.
    Scratch {
        /// Path.
        dir: PathBuf,
    },
    /// The autoextend profile a `--dmeventd` run installed in the system's lvm profile
    /// directory (`thinbench-<run id>-<pool>.profile`).
    LvmProfile {
        /// Path.
        file: PathBuf,
    },
    /// The brd ram disk a run loaded (its owner file names the run); unloaded last.
    RamDisk {
        /// Run.
        run: String,
    },
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Leftover::DmDevice { name, .. } => write!(f, "dm device {name}"),
            Leftover::Vg { name, pvs } => write!(f, "volume group {name} (PVs {})", pvs.join(", ")),
            Leftover::Loop { dev, file } => {
                write!(f, "loop device {} ({})", dev.display(), file.display())
            }
            Leftover::Scratch { dir } => write!(f, "scratch directory {}", dir.display()),
            Leftover::Mount { dir } => write!(f, "mount {}", dir.display()),
            Leftover::LvmProfile { file } => write!(f, "lvm profile {}", file.display()),
            Leftover::RamDisk { run } => write!(
                f,
                "ram disk {} (brd, loaded by run {run})",
                crate::backend::ram::BRD_DEVICE
            ),
        }
    }
}

fn scratch_run_id(path: &Path) -> Option<String> {
    SCRATCH_BASES.iter().find_map(|b| {
        let rest = path.strip_prefix(b).ok()?;
        let first = rest.components().next()?.as_os_str().to_str()?;
        run_id_of(&format!("{NAME_PREFIX}{first}-x")).map(str::to_owned)
    })
}

fn lvm_conf_dir() -> PathBuf {
    let dir = Path::new("/run/thinbench/cleanup-lvm");
    let udev = u8::from(crate::sys::host_services::udev_running());
    let _ = fs::create_dir_all(dir.join("lock"));
    let _ = fs::write(
        dir.join("lvm.conf"),
        format!(
            "devices {{ obtain_device_list_from_udev = {udev} use_devicesfile = 0 ignore_suspended_devices = 1 allow_changes_with_duplicate_pvs = 1 }}\nactivation {{ udev_sync = {udev} udev_rules = {udev} monitoring = 0 }}\nglobal {{ use_lvmpolld = 0 locking_dir = \"{}\" }}\nbackup {{ backup = 0 archive = 0 }}\n",
            dir.join("lock").display()
        ),
    );
    dir.to_owned()
}

fn lvm(args: &[&str]) -> Result<String, crate::errors::CommandError> {
    let d = lvm_conf_dir().to_string_lossy().into_owned();
    let mut env = vec![("LVM_SYSTEM_DIR", d.as_str())];
    env.extend(crate::sys::host_services::dm_tool_env());
    command::run_env("lvm", args, &env)
}

/// Everything of dead runs (all runs with `include_live`).
pub fn find(include_live: bool) -> Vec<Leftover> {
    let mut out = Vec::new();
    let keep = |run: &str| include_live || !is_live(run);
    // Holder mounts are named `<pid>-…`: ours when that process is gone (or with --all).
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    for line in mounts.lines() {
        let Some(dir) = line.split_whitespace().nth(1) else {
            continue;
        };
        let Some(rest) = dir
            .strip_prefix(crate::runner::MOUNT_BASE)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let pid_alive = rest
            .split('-')
            .next()
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if include_live || !pid_alive {
            out.push(Leftover::Mount {
                dir: PathBuf::from(dir),
            });
        }
    }
    // A filesystem step's mount (`<scratch base>/<run>/<pool>/fs/<thin>`) of a dead run,
    // deepest first, before its thin and its scratch directory go.
    for line in mounts.lines().rev() {
        let Some(dir) = line.split_whitespace().nth(1) else {
            continue;
        };
        let p = Path::new(dir);
        if SCRATCH_BASES
            .iter()
            .any(|b| p.starts_with(b) && p != Path::new(b))
            && scratch_run_id(p).is_some_and(|r| keep(&r))
            && p.components().any(|c| c.as_os_str() == "fs")
        {
            out.push(Leftover::Mount { dir: p.to_owned() });
        }
    }
    // VGs first in the list: removing them removes their dm devices.
    if command::exists("lvm") {
        if let Ok(s) = lvm(&[
            "vgs",
            "--noheadings",
            "--separator",
            "|",
            "-o",
            "vg_name,vg_tags",
            &format!("@{VG_TAG}"),
        ]) {
            for line in s.lines() {
                let mut it = line.trim().split('|');
                let (Some(name), Some(tags)) = (it.next(), it.next()) else {
                    continue;
                };
                let run = tags
                    .split(',')
                    .find_map(|t| t.strip_prefix("thinbench_run_"))
                    .map(|r| r.replace('_', "-"));
                // "20261123T124501-1a2b" was stored with '-' turned into '_'.
                let run = run.map(|r| {
                    if r.len() == 20 {
                        format!("{}-{}", &r[..15], &r[16..])
                    } else {
                        r
                    }
                });
                if run.as_deref().is_some_and(|r| !keep(r)) {
                    continue;
                }
                let pvs = lvm(&[
                    "pvs",
                    "--noheadings",
                    "-o",
                    "pv_name",
                    "-S",
                    &format!("vg_name={name}"),
                ])
                .map(|o| o.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
                out.push(Leftover::Vg {
                    name: name.to_owned(),
                    pvs,
                });
            }
        }
    }
    if let Ok(dm) = Dm::open() {
        if let Ok(devs) = dm.list() {
            for (name, uuid, ..) in devs {
                let run = run_id_of(&name)
                    .or_else(|| run_id_of(&uuid))
                    .map(str::to_owned);
                let Some(run) = run else { continue };
                if !(uuid.is_empty() || uuid.starts_with(UUID_PREFIX)) || !keep(&run) {
                    continue;
                }
                let is_pool = dm
                    .table(&name)
                    .map(|t| t.iter().any(|l| l.2 == "thin-pool"))
                    .unwrap_or(false);
                out.push(Leftover::DmDevice { name, run, is_pool });
            }
        }
    }
    for (dev, file) in loopdev::list() {
        if scratch_run_id(&file).is_some_and(|r| keep(&r)) {
            out.push(Leftover::Loop { dev, file });
        }
    }
    for base in SCRATCH_BASES {
        let Ok(rd) = fs::read_dir(base) else { continue };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if scratch_run_id(&p).is_some_and(|r| keep(&r)) {
                out.push(Leftover::Scratch { dir: p });
            }
        }
    }
    // A Debian kernel's fetch killed half-way: `.fetch-<release>-<pid>` of a process
    // that is gone (`kernels/<release>` itself is complete by construction).
    if let Ok(rd) = fs::read_dir(crate::env::vm::debian::kernels_dir()) {
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(".fetch-")
                .and_then(|r| r.rsplit('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if include_live || !Path::new(&format!("/proc/{pid}")).exists() {
                out.push(Leftover::Scratch { dir: e.path() });
            }
        }
    }
    // `--dmeventd` runs' profiles: only files named as thinbench names them.
    let profiles = crate::sys::host_services::system_profile_dir();
    if let Ok(rd) = fs::read_dir(&profiles) {
        use crate::backend::direct_lvm::SYSTEM_PROFILE_PREFIX;
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let run = name
                .strip_prefix(SYSTEM_PROFILE_PREFIX)
                .filter(|_| name.ends_with(".profile"))
                .and_then(|r| run_id_of(&format!("{NAME_PREFIX}{r}")).map(str::to_owned));
            if run.is_some_and(|r| keep(&r)) {
                out.push(Leftover::LvmProfile { file: e.path() });
            }
        }
    }
    // A brd is ours only with an owner file naming the run; any other is left alone.
    if let Some(run) = crate::backend::ram::brd_owner() {
        if keep(&run) {
            out.push(Leftover::RamDisk { run });
        }
    }
    out
}

/// Remove what [`find`] found, in dependency order: VGs, thins, pools, fault layers,
/// loops, files.
/// Returns (removed, failures).
pub fn remove(items: &[Leftover]) -> (Vec<String>, Vec<String>) {
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for it in items {
        if let Leftover::Mount { dir } = it {
            match command::run("umount", &["-l", &dir.to_string_lossy()]) {
                Ok(_) => {
                    let _ = fs::remove_dir(dir);
                    ok.push(it.to_string());
                }
                Err(e) => bad.push(format!("{it}: {e}")),
            }
        }
    }
    // A run killed between a suspend and its resume (a pool reload, lvm's own
    // suspend/resume) leaves a suspended device: IO to it, lvm's scans and removal would
    // wait for ever. Ours only, and first.
    if let Ok(dm) = Dm::open() {
        // Our own devices, and lvm's in our VGs (named `<vg>-<lv>`, `-` doubled).
        let vg_prefixes: Vec<String> = items
            .iter()
            .filter_map(|it| match it {
                Leftover::Vg { name, .. } => Some(format!("{}-", name.replace('-', "--"))),
                _ => None,
            })
            .collect();
        let mut names: Vec<String> = items
            .iter()
            .filter_map(|it| match it {
                Leftover::DmDevice { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        if let Ok(all) = dm.list() {
            names.extend(
                all.into_iter()
                    .map(|l| l.0)
                    .filter(|n| vg_prefixes.iter().any(|p| n.starts_with(p.as_str()))),
            );
        }
        for name in &names {
            {
                if dm.is_suspended(name).ok().flatten() == Some(true) {
                    match dm.resume(name) {
                        Ok(()) => ok.push(format!("resumed suspended {name}")),
                        Err(e) => bad.push(format!("resuming suspended {name}: {e}")),
                    }
                }
            }
        }
    }
    let mut removed_vgs = BTreeSet::new();
    for it in items {
        if let Leftover::Vg { name, pvs } = it {
            let _ = lvm(&["vgchange", "-an", name]);
            match lvm(&["vgremove", "-ff", "--yes", name]) {
                Ok(_) => {
                    for pv in pvs {
                        let _ = lvm(&["pvremove", "--yes", pv]);
                    }
                    removed_vgs.insert(name.clone());
                    ok.push(it.to_string());
                }
                // Deactivation can drop a loop-backed PV (autoclear), taking the VG with it.
                Err(e) if e.stderr.contains("not found") => {
                    removed_vgs.insert(name.clone());
                    ok.push(it.to_string());
                }
                Err(e) => bad.push(format!("{it}: {e}")),
            }
        }
    }
    if let Ok(dm) = Dm::open() {
        // Thins, then pools, then fault layers (under the pools): each pass removes what
        // nothing above holds any more; a device still busy is retried in the next pass,
        // and its last error reported when a pass makes no progress.
        let mut left: Vec<&Leftover> = items
            .iter()
            .filter(|it| matches!(it, Leftover::DmDevice { .. }))
            .collect();
        left.sort_by_key(|it| matches!(it, Leftover::DmDevice { is_pool: true, .. }));
        loop {
            let mut errors = Vec::new();
            let before = left.len();
            left.retain(|it| {
                let Leftover::DmDevice { name, .. } = it else {
                    return false;
                };
                match dm.remove(name, false) {
                    Ok(()) => {
                        ok.push(it.to_string());
                        false
                    }
                    Err(e) => {
                        errors.push(format!("{it}: {e}"));
                        true
                    }
                }
            });
            if left.is_empty() || left.len() == before {
                bad.extend(errors);
                break;
            }
        }
    }
    for it in items {
        match it {
            Leftover::Loop { dev, file } => {
                // Autoclear may already have detached it once its holders went away.
                if loopdev::backing_file(dev).as_deref() == Some(file.as_path()) {
                    match ::loopdev::LoopDevice::open(dev).and_then(|d| d.detach()) {
                        Ok(()) => ok.push(it.to_string()),
                        Err(e) => bad.push(format!("{it}: {e}")),
                    }
                } else {
                    ok.push(it.to_string());
                }
            }
            Leftover::LvmProfile { file } => match fs::remove_file(file) {
                Ok(()) => ok.push(it.to_string()),
                Err(e) => bad.push(format!("{it}: {e}")),
            },
            Leftover::Scratch { dir } => {
                // An unmounted guest disk dir, a RAM-backed pool's tmpfs, or a host
                // scratch dir.
                let _ = command::run("umount", &[&dir.to_string_lossy()]);
                match fs::remove_dir_all(dir) {
                    Ok(()) => ok.push(it.to_string()),
                    Err(e) => bad.push(format!("{it}: {e}")),
                }
            }
            _ => {}
        }
    }
    // After the VGs on it: brd cannot unload while a PV is open.
    for it in items {
        if let Leftover::RamDisk { .. } = it {
            if !Path::new("/sys/module/brd").exists() {
                // Killed between writing the owner and loading brd: only the file.
                let _ = fs::remove_file(crate::backend::ram::BRD_OWNER);
                ok.push(it.to_string());
                continue;
            }
            match crate::backend::ram::unload_brd() {
                Ok(()) => ok.push(it.to_string()),
                Err(e) => bad.push(format!("{it}: {e}")),
            }
        }
    }
    (ok, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn scratch_paths_map_to_runs() {
        assert_eq!(
            scratch_run_id(Path::new(
                "/var/tmp/thinbench/20261123T124501-1a2b/loop/data"
            ))
            .as_deref(),
            Some("20261123T124501-1a2b")
        );
        assert_eq!(
            scratch_run_id(Path::new("/var/tmp/thinbench/other/data")),
            None
        );
        assert_eq!(
            scratch_run_id(Path::new(
                "/run/thinbench/ram/20261123T124501-1a2b/loop/data"
            ))
            .as_deref(),
            Some("20261123T124501-1a2b")
        );
        assert_eq!(
            scratch_run_id(Path::new("/var/lib/docker/devicemapper/data")),
            None
        );
    }
}

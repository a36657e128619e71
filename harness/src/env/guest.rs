//! Inside the VM: the scratch disks the host attached are found by serial, the work disk
//! gets a fresh ext4 (a real filesystem for loop-lvm's sparse files, as Docker had), and
//! direct-lvm pools get their PV disks.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::sys::command;

/// Serial of the work disk.
pub const WORK_SERIAL: &str = "tbwork";

/// Serial of the PV disk for the direct-lvm pool at `index` in the plan.
pub fn pv_serial(index: usize) -> String {
    format!("tbpv{index}")
}

/// Virtio disks by serial.
pub fn disks_by_serial() -> BTreeMap<String, PathBuf> {
    let mut m = BTreeMap::new();
    let Ok(rd) = fs::read_dir("/sys/block") else {
        return m;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Ok(s) = fs::read_to_string(e.path().join("serial")) {
            m.insert(s.trim().to_owned(), PathBuf::from("/dev").join(name));
        }
    }
    m
}

/// Format and mount the work disk at `mountpoint`.
pub fn prepare_work_disk(mountpoint: &Path) -> Result<(), String> {
    let disks = disks_by_serial();
    let dev = disks
        .get(WORK_SERIAL)
        .ok_or_else(|| format!("the VM has no work disk (serial {WORK_SERIAL})"))?;
    let d = dev.to_string_lossy().into_owned();
    command::run(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-E",
            "nodiscard,lazy_itable_init=1,lazy_journal_init=1",
            &d,
        ],
    )
    .map_err(|e| e.to_string())?;
    fs::create_dir_all(mountpoint).map_err(|e| format!("{}: {e}", mountpoint.display()))?;
    let m = mountpoint.to_string_lossy().into_owned();
    // The init loads ext4 in the background; a failure shows as mount's own error.
    let _ = crate::sys::modules::ensure("ext4");
    command::run("mount", &["-t", "ext4", &d, &m]).map_err(|e| e.to_string())?;
    Ok(())
}

/// [`crate::env::host::tool_versions`], probed once per boot: the guest's `/run` is a
/// fresh tmpfs every boot, so a copy kept there serves the later samples of a `--repeat`
/// batch (the probes cost tens of seconds under a loaded TCG) and never outlives the boot.
pub fn tool_versions_once_per_boot() -> Vec<(String, String)> {
    let cache = Path::new("/run/thinbench/tool-versions.json");
    if let Some(v) = fs::read(cache)
        .ok()
        .and_then(|b| serde_json::from_slice::<Vec<(String, String)>>(&b).ok())
    {
        return v;
    }
    let v = crate::env::host::tool_versions();
    if let Some(dir) = cache.parent() {
        let _ = fs::create_dir_all(dir);
    }
    if let Ok(b) = serde_json::to_vec(&v) {
        let _ = fs::write(cache, b);
    }
    v
}

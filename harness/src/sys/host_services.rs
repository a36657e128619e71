//! The device services of a real host, when they run: systemd-udevd (device nodes and
//! `/dev/mapper` links made by udev rules; libdevmapper waits for udev through a cookie)
//! and lvm's dmeventd (pool monitoring, autoextension). thinbench adapts to what runs:
//! with udev, lvm and dmsetup sync with it; without, `DM_DISABLE_UDEV=1` so nothing
//! waits on a cookie nobody answers.

use std::fs;
use std::path::{Path, PathBuf};

/// The socket systemd-udevd listens on (what libudev and lvm test for).
const UDEV_CONTROL: &str = "/run/udev/control";
/// dmeventd's pid file (`-p`, its default).
const DMEVENTD_PID: &str = "/run/dmeventd.pid";
/// lvm's default profile directory (`config/profile_dir`).
pub const SYSTEM_PROFILE_DIR: &str = "/etc/lvm/profile";

/// Whether systemd-udevd runs.
pub fn udev_running() -> bool {
    Path::new(UDEV_CONTROL).exists()
}

/// The environment libdevmapper tools (lvm, dmsetup) run with: nothing where udev runs,
/// `DM_DISABLE_UDEV=1` where it does not.
pub fn dm_tool_env() -> &'static [(&'static str, &'static str)] {
    if udev_running() {
        &[]
    } else {
        &[("DM_DISABLE_UDEV", "1")]
    }
}

/// The pid of a running dmeventd, or why there is none.
pub fn dmeventd_pid() -> Result<u32, String> {
    let text = fs::read_to_string(DMEVENTD_PID)
        .map_err(|e| format!("no dmeventd: {DMEVENTD_PID}: {e}"))?;
    let pid: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("no dmeventd: {DMEVENTD_PID} holds `{}`", text.trim()))?;
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "dmeventd" {
        Ok(pid)
    } else {
        Err(format!(
            "no dmeventd: {DMEVENTD_PID} names pid {pid}, which is not dmeventd (stale)"
        ))
    }
}

/// Where the system's lvm (and so dmeventd) looks for profiles: `config/profile_dir` of
/// the system's lvm.conf, else lvm's default.
pub fn system_profile_dir() -> PathBuf {
    let out = std::process::Command::new("lvmconfig")
        .args(["--typeconfig", "full", "config/profile_dir"])
        .env_remove("LVM_SYSTEM_DIR")
        .stderr(std::process::Stdio::null())
        .output();
    out.ok()
        .and_then(|o| parse_profile_dir(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_else(|| PathBuf::from(SYSTEM_PROFILE_DIR))
}

/// `profile_dir="/etc/lvm/profile"` → the path.
fn parse_profile_dir(out: &str) -> Option<PathBuf> {
    let v = out.trim().strip_prefix("profile_dir=")?.trim_matches('"');
    (v.starts_with('/') && !v.contains("..")).then(|| PathBuf::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_dir_is_read_from_lvmconfig_output() {
        assert_eq!(
            parse_profile_dir("profile_dir=\"/etc/lvm/profile\"\n"),
            Some(PathBuf::from("/etc/lvm/profile"))
        );
        assert_eq!(parse_profile_dir("profile_dir=\"relative\""), None);
        assert_eq!(parse_profile_dir("profile_dir=\"/etc/../x\""), None);
        assert_eq!(parse_profile_dir(""), None);
    }
}

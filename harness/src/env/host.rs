//! The host environment: the running kernel's device-mapper. Also what every environment
//! records about itself (kernel, dm and target versions, CPU, tools).

use std::fs;

use thinbench_schema::record::{EnvironmentInfo, TimingClock};

use crate::backend::dm::Dm;
use crate::sys::command;

/// Whether the running kernel answers the dm version ioctl (loading dm-mod if it can).
pub fn has_device_mapper() -> Result<String, String> {
    if !std::path::Path::new("/dev/mapper/control").exists() {
        let _ = command::run("modprobe", &["dm_mod"]);
    }
    match Dm::open() {
        Ok(dm) => dm.version().map_err(|e| e.to_string()),
        Err(e) => Err(format!("no device-mapper in the running kernel ({e})")),
    }
}

/// The first `model name` in /proc/cpuinfo.
pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default()
}

fn first_line(prog: &str, args: &[&str]) -> Option<String> {
    command::run(prog, args).ok().and_then(|o| {
        o.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    })
}

/// The versions of the tools runs use (`lvm`, `thin_check`, `fio`, `mkfs.xfs`), those
/// installed. Probed in parallel: in the VM each probe loads its binary and libraries over
/// 9p, seconds apiece under TCG.
pub fn tool_versions() -> Vec<(String, String)> {
    let probes: [(&str, &str, &[&str]); 4] = [
        ("lvm", "lvm", &["version"]),
        ("thin_check", "thin_check", &["-V"]),
        ("fio", "fio", &["--version"]),
        ("mkfs.xfs", "mkfs.xfs", &["-V"]),
    ];
    std::thread::scope(|s| {
        let handles: Vec<_> = probes
            .iter()
            .map(|(name, prog, args)| {
                s.spawn(move || first_line(prog, args).map(|v| ((*name).to_owned(), v)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    })
}

/// Facts about the kernel that runs the pools (call where the pools run), with the tool
/// versions given (see [`tool_versions`]).
pub fn environment_info(kind: &str, tools: Vec<(String, String)>) -> EnvironmentInfo {
    let uname = nix::sys::utsname::uname().ok();
    let (dm_version, targets) = match Dm::open() {
        Ok(dm) => (dm.version().ok(), dm.targets().unwrap_or_default()),
        Err(_) => (None, vec![]),
    };
    let target = |n: &str| targets.iter().find(|(t, _)| t == n).map(|(_, v)| v.clone());
    EnvironmentInfo {
        kind: kind.to_owned(),
        kernel: uname
            .as_ref()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        dm_version,
        thin_pool_target_version: target("thin-pool"),
        thin_target_version: target("thin"),
        accel: None,
        qemu_version: None,
        cpu_model: cpu_model(),
        host_cpu_model: cpu_model(),
        cpus: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        // The host's clock; a VM run's guest replaces it with the one qemu ran.
        clock: TimingClock::Wall,
        icount_shift: None,
        thinbench_version: env!("CARGO_PKG_VERSION").to_owned(),
        thinbench_commit: option_env!("THINBENCH_COMMIT").map(str::to_owned),
        tools,
        host_services: [
            crate::sys::host_services::udev_running().then_some("systemd-udevd"),
            crate::sys::host_services::dmeventd_pid()
                .ok()
                .map(|_| "dmeventd"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect(),
    }
}

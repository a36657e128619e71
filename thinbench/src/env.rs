//! `thinbench env`: which environment `run` would use and why, and what is missing.

use crate::exit_code;
use thinbench_harness::env::{host, vm};
use thinbench_harness::sys::{self, command};

pub fn run() -> anyhow::Result<i32> {
    let mut missing = Vec::new();
    let root = sys::is_root();
    println!(
        "root: {}",
        if root {
            "yes"
        } else {
            "no (thinbench run needs root)"
        }
    );
    let dm = host::has_device_mapper();
    match &dm {
        Ok(v) => println!("host device-mapper: yes (driver {v})"),
        Err(e) => println!("host device-mapper: no — {e}"),
    }
    for (prog, pkg) in [
        ("lvm", "lvm2"),
        ("thin_check", "thin-provisioning-tools"),
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("busybox", "busybox-static"),
        ("mkfs.xfs", "xfsprogs"),
        ("mkfs.ext4", "e2fsprogs"),
        ("fio", "fio"),
    ] {
        if !command::exists(prog) {
            missing.push(format!("{prog}: apt-get install -y {pkg}"));
        }
    }
    let vm_state = match vm::VmConfig::discover(None) {
        Ok(cfg) => {
            println!(
                "vm: kernel {} ({}), qemu {}, accel {}",
                cfg.kernel.version,
                cfg.kernel.image.display(),
                cfg.qemu_version().unwrap_or_default(),
                cfg.accel.as_str()
            );
            true
        }
        Err(e) => {
            println!("vm: unavailable — {e}");
            missing.push(format!("vm: {e}"));
            false
        }
    };
    let cached = vm::debian::cached_kernels();
    if cached.is_empty() {
        println!("cached kernels: none (bash ci/setup.sh caches Debian's default)");
    } else {
        println!("cached kernels (--kernel debian:<version>):");
        for k in &cached {
            println!("  {} ({})", k.version, k.image.display());
        }
    }
    println!(
        "other kernels: --kernel debian:6.12, debian:6.1.0-47, debian:latest fetch Debian's through apt (once, into {}); `apt-cache search --names-only '^linux-image-[0-9].*-amd64$'` lists them",
        vm::debian::kernels_dir().display()
    );
    let chosen = if dm.is_ok() {
        "host (the running kernel has device-mapper)"
    } else if vm_state {
        "vm (the running kernel has no device-mapper)"
    } else {
        "none"
    };
    println!("--env auto would use: {chosen}");
    for m in &missing {
        println!("missing: {m}");
    }
    if !missing.is_empty() {
        println!("all of it: bash ci/setup.sh");
    }
    Ok(if chosen == "none" || !root {
        exit_code::ERROR
    } else {
        exit_code::OK
    })
}

//! qemu's argv, built by pure functions so that it can be golden-tested and logged.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How the guest CPU is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualization.
    Kvm,
    /// qemu's emulator, multi-threaded. Timings are emulated.
    Tcg,
}

impl Accel {
    /// `kvm` or `tcg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// A virtual disk given to the guest; the guest finds it by `serial`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    /// Serial number (≤ 20 chars), visible in `/sys/block/vdX/serial`.
    pub serial: String,
    /// Raw image file on the host.
    pub path: PathBuf,
}

/// Everything the argv depends on.
#[derive(Debug, Clone)]
pub struct QemuSpec<'a> {
    /// VM name (shows in `ps`, helps `thinbench cleanup`).
    pub name: &'a str,
    /// CPU acceleration.
    pub accel: Accel,
    /// Guest memory.
    pub memory_mib: u32,
    /// Guest CPUs.
    pub cpus: u32,
    /// Kernel image.
    pub kernel: &'a Path,
    /// Initramfs.
    pub initrd: &'a Path,
    /// Extra kernel command line (`tb.*`).
    pub cmdline_extra: &'a str,
    /// Shared read-write at the same path in the guest.
    pub out_dir: &'a Path,
    /// Virtual disks.
    pub disks: &'a [Disk],
    /// Where the serial console goes.
    pub console_log: &'a Path,
}

/// qemu separates option values with commas; a comma in a path is doubled.
fn esc(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

/// The accelerator and CPU model arguments.
pub fn accel_args(a: Accel) -> Vec<OsString> {
    match a {
        Accel::Kvm => vec!["-accel".into(), "kvm".into(), "-cpu".into(), "host".into()],
        Accel::Tcg => vec![
            "-accel".into(),
            "tcg,thread=multi".into(),
            "-cpu".into(),
            "max".into(),
        ],
    }
}

/// Kernel command line: serial console, panic → power off (with -no-reboot), an Oops
/// panics so a broken kernel ends the run instead of hanging it, warnings on the console.
pub fn kernel_cmdline(extra: &str) -> String {
    // cryptomgr.notests: the crypto self-tests cost ~0.6 s of a TCG boot; nothing here
    // depends on them (metadata checksums are checked end to end by thin_check).
    let base = "console=ttyS0 panic=-1 oops=panic loglevel=5 quiet cryptomgr.notests=1";
    if extra.is_empty() {
        base.to_owned()
    } else {
        format!("{base} {extra}")
    }
}

/// The 9p shares: host root read-only (the guest runs the host's binaries), the host's
/// /tmp read-only (so a checkout, binary or fixture under /tmp has the same path in the
/// guest; the guest lays a RAM overlay over it to write), and the run's output directory,
/// the one host path the guest may write (docs/security.md).
pub fn plan9_args(out_dir: &Path) -> Vec<OsString> {
    vec![
        "-virtfs".into(),
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap".into(),
        "-virtfs".into(),
        "local,path=/tmp,mount_tag=hosttmp,security_model=none,readonly=on,multidevs=remap".into(),
        "-virtfs".into(),
        format!(
            "local,path={},mount_tag=tbout,security_model=none",
            esc(out_dir)
        )
        .into(),
    ]
}

/// virtio-blk disks. cache=none keeps the host page cache out of the measurements.
pub fn drive_args(disks: &[Disk]) -> Vec<OsString> {
    let mut v = Vec::new();
    for (i, d) in disks.iter().enumerate() {
        v.push("-drive".into());
        v.push(
            format!(
                "file={},if=none,id=d{i},format=raw,cache=none,aio=threads",
                esc(&d.path)
            )
            .into(),
        );
        v.push("-device".into());
        v.push(format!("virtio-blk-pci,drive=d{i},serial={}", d.serial).into());
    }
    v
}

/// The whole argv (without the program name).
pub fn qemu_args(s: &QemuSpec<'_>) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "-name".into(),
        s.name.into(),
        // q35: virtio devices on PCIe with MSI-X. On `pc` each device first has its
        // interrupt link routed by ACPI methods, which TCG runs slowly (virtio_pci's load
        // 0.9 s there, 0.07 s here).
        "-machine".into(),
        "q35".into(),
        "-nodefaults".into(),
        "-no-reboot".into(),
        "-display".into(),
        "none".into(),
        "-m".into(),
        s.memory_mib.to_string().into(),
        "-smp".into(),
        s.cpus.to_string().into(),
    ];
    v.extend(accel_args(s.accel));
    v.extend([
        "-kernel".into(),
        s.kernel.into(),
        "-initrd".into(),
        s.initrd.into(),
        "-append".into(),
        kernel_cmdline(s.cmdline_extra).into(),
    ]);
    v.extend(plan9_args(s.out_dir));
    v.extend(drive_args(s.disks));
    v.extend([
        "-serial".into(),
        format!("file:{}", s.console_log.display()).into(),
    ]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_argv() {
        let disks = [Disk {
            serial: "tb-work".into(),
            path: "/var/tmp/tb/a,b.img".into(),
        }];
        let s = QemuSpec {
            name: "thinbench-r1",
            accel: Accel::Tcg,
            memory_mib: 2048,
            cpus: 2,
            kernel: Path::new("/k/vmlinuz"),
            initrd: Path::new("/k/initrd"),
            cmdline_extra: "tb.job=/o/job.sh",
            out_dir: Path::new("/o"),
            disks: &disks,
            console_log: Path::new("/o/console.log"),
        };
        let argv: Vec<String> = qemu_args(&s)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            argv.join(" "),
            "-name thinbench-r1 -machine q35 -nodefaults -no-reboot -display none -m 2048 -smp 2 \
             -accel tcg,thread=multi -cpu max -kernel /k/vmlinuz -initrd /k/initrd \
             -append console=ttyS0 panic=-1 oops=panic loglevel=5 quiet cryptomgr.notests=1 tb.job=/o/job.sh \
             -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
             -virtfs local,path=/tmp,mount_tag=hosttmp,security_model=none,readonly=on,multidevs=remap \
             -virtfs local,path=/o,mount_tag=tbout,security_model=none \
             -drive file=/var/tmp/tb/a,,b.img,if=none,id=d0,format=raw,cache=none,aio=threads \
             -device virtio-blk-pci,drive=d0,serial=tb-work -serial file:/o/console.log"
        );
    }
}

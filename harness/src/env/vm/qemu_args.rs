//! qemu's argv, built by pure functions so that it can be golden-tested and logged.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use thinbench_schema::record::TimingClock;

/// How the guest CPU is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualization.
    Kvm,
    /// qemu's emulator (multi-threaded on the wall clock, single-threaded on the
    /// instruction clock). Timings are emulated.
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

/// `-icount shift`: one guest instruction counts 2^4 = 16 ns of virtual time (62.5 M
/// instructions per virtual second). Fixed, never `auto` (which adapts to the host's
/// speed and so is not reproducible); why 4: docs/measurements.md, "Instruction clock".
pub const ICOUNT_SHIFT: u8 = 4;

/// `-seed`: qemu's guest-visible randomness (TCG's RDRAND, the kernel's early entropy)
/// from a fixed seed, so every boot draws the same numbers.
pub const GUEST_SEED: u64 = 21;

/// The guest's RTC at power-on under the instruction clock (`-rtc base=…,clock=vm`): the
/// guest's date is the same every boot and advances with virtual time only.
pub const RTC_BASE: &str = "2026-01-01T00:00:00";

/// Kernel parameters of the instruction clock: virtual time jumps to the next timer
/// whenever the guest idles (`sleep=off`), so a guest waiting for a host device sees
/// seconds pass in no time, which the soft-lockup, NMI and hung-task detectors would
/// report as hangs (and their own timers add work to the measured window).
/// `nokaslr`: the same kernel layout every boot.
pub const INSTRUCTION_CLOCK_CMDLINE: &str =
    "nosoftlockup nowatchdog sysctl.kernel.hung_task_timeout_secs=0 nokaslr";

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
    /// The clock the guest's time runs on (`Instructions` only with TCG and one CPU:
    /// [`super::check_clock`]).
    pub clock: TimingClock,
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

/// The accelerator and CPU model arguments, and under the instruction clock qemu's
/// instruction counter, seed and RTC.
pub fn accel_args(a: Accel, clock: TimingClock) -> Vec<OsString> {
    match (a, clock) {
        (Accel::Kvm, _) => vec!["-accel".into(), "kvm".into(), "-cpu".into(), "host".into()],
        // qemu refuses -icount with multi-threaded TCG; sleep=off: an idle vCPU jumps to
        // the next timer deadline instead of waiting in real time, so the host's speed
        // and its device latencies do not enter virtual time.
        (Accel::Tcg, TimingClock::Instructions) => vec![
            "-accel".into(),
            "tcg,thread=single".into(),
            "-cpu".into(),
            "max".into(),
            "-icount".into(),
            format!("shift={ICOUNT_SHIFT},sleep=off").into(),
            "-seed".into(),
            GUEST_SEED.to_string().into(),
            "-rtc".into(),
            format!("base={RTC_BASE},clock=vm").into(),
        ],
        (Accel::Tcg, TimingClock::Wall) => vec![
            "-accel".into(),
            "tcg,thread=multi".into(),
            "-cpu".into(),
            "max".into(),
        ],
    }
}

/// Kernel command line: serial console, panic → power off (with -no-reboot), an Oops
/// panics so a broken kernel ends the run instead of hanging it, warnings on the console.
/// Under the instruction clock, [`INSTRUCTION_CLOCK_CMDLINE`] too.
pub fn kernel_cmdline(extra: &str, clock: TimingClock) -> String {
    // cryptomgr.notests: the crypto self-tests cost ~0.6 s of a TCG boot; nothing here
    // depends on them (metadata checksums are checked end to end by thin_check).
    let mut s =
        String::from("console=ttyS0 panic=-1 oops=panic loglevel=5 quiet cryptomgr.notests=1");
    if clock == TimingClock::Instructions {
        s.push(' ');
        s.push_str(INSTRUCTION_CLOCK_CMDLINE);
    }
    if !extra.is_empty() {
        s.push(' ');
        s.push_str(extra);
    }
    s
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
    v.extend(accel_args(s.accel, s.clock));
    v.extend([
        "-kernel".into(),
        s.kernel.into(),
        "-initrd".into(),
        s.initrd.into(),
        "-append".into(),
        kernel_cmdline(s.cmdline_extra, s.clock).into(),
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

    fn argv(s: &QemuSpec<'_>) -> String {
        qemu_args(s)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn golden_argv() {
        let disks = [Disk {
            serial: "tb-work".into(),
            path: "/var/tmp/tb/a,b.img".into(),
        }];
        let s = QemuSpec {
            name: "thinbench-r1",
            accel: Accel::Tcg,
            clock: TimingClock::Wall,
            memory_mib: 2048,
            cpus: 2,
            kernel: Path::new("/k/vmlinuz"),
            initrd: Path::new("/k/initrd"),
            cmdline_extra: "tb.job=/o/job.sh",
            out_dir: Path::new("/o"),
            disks: &disks,
            console_log: Path::new("/o/console.log"),
        };
        assert_eq!(
            argv(&s),
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

    #[test]
    fn golden_argv_instruction_clock() {
        let s = QemuSpec {
            name: "thinbench-r2",
            accel: Accel::Tcg,
            clock: TimingClock::Instructions,
            memory_mib: 2048,
            cpus: 1,
            kernel: Path::new("/k/vmlinux"),
            initrd: Path::new("/k/initrd"),
            cmdline_extra: "tb.job=/o/job.sh",
            out_dir: Path::new("/o"),
            disks: &[],
            console_log: Path::new("/o/console.log"),
        };
        assert_eq!(
            argv(&s),
            "-name thinbench-r2 -machine q35 -nodefaults -no-reboot -display none -m 2048 -smp 1 \
             -accel tcg,thread=single -cpu max -icount shift=4,sleep=off -seed 21 \
             -rtc base=2026-01-01T00:00:00,clock=vm -kernel /k/vmlinux -initrd /k/initrd \
             -append console=ttyS0 panic=-1 oops=panic loglevel=5 quiet cryptomgr.notests=1 \
             nosoftlockup nowatchdog sysctl.kernel.hung_task_timeout_secs=0 nokaslr tb.job=/o/job.sh \
             -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
             -virtfs local,path=/tmp,mount_tag=hosttmp,security_model=none,readonly=on,multidevs=remap \
             -virtfs local,path=/o,mount_tag=tbout,security_model=none -serial file:/o/console.log"
        );
    }

    #[test]
    fn kvm_takes_no_instruction_counter() {
        // check_clock refuses the pair before an argv is built; were it built, KVM's
        // arguments stay KVM's (qemu has no icount under KVM).
        let a = accel_args(Accel::Kvm, TimingClock::Instructions);
        assert!(!a.iter().any(|x| x == "-icount"));
    }
}

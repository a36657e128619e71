//! The VM environment: boots a kernel under qemu with the host root shared read-only, so
//! the guest runs this very binary against the guest kernel's device-mapper.
//!
//! Results come back through the run's output directory, shared read-write over 9p
//! (written synchronously, so a guest crash loses nothing already written); the serial
//! console goes to `console.log`. qemu dies with its parent (PDEATHSIG), and every exit
//! path of the guest init powers off.

pub mod debian;
pub mod fast_boot;
pub mod follow;
pub mod here;
pub mod initramfs;
pub mod job;
pub mod kernel;
pub mod kernel_request;
pub mod qemu_args;
pub mod services;
pub mod verdict;
pub mod watchdog;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use kernel::Kernel;
pub use kernel_request::{resolve_all, KernelRequest};
pub use qemu_args::{Accel, Disk, TimingClock, ICOUNT_SHIFT};

use crate::errors::EnvError;
use crate::sys::{command, signals};

/// The VM's hardware and kernel.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// qemu binary.
    pub qemu: PathBuf,
    /// Kernel to boot.
    pub kernel: Kernel,
    /// KVM or TCG.
    pub accel: Accel,
    /// Guest memory, MiB.
    pub memory_mib: u32,
    /// Guest CPUs.
    pub cpus: u32,
    /// The clock the guest's time runs on ([`VmConfig::set_clock`]).
    pub clock: TimingClock,
}

impl VmConfig {
    /// Defaults for this machine: discovered kernel, probed accel, 2 GiB, and 2 CPUs
    /// under KVM but 1 under TCG: there a second vCPU made a scenario no faster (78 → 75 s
    /// for delete-discard alone) and cost 18% more host CPU (62 → 53 s), which the VM
    /// tests beside it pay for (docs/measurements.md, "Guest CPUs under TCG").
    pub fn discover(kernel: Option<Kernel>) -> Result<VmConfig, EnvError> {
        let qemu = command::which("qemu-system-x86_64").ok_or_else(|| EnvError::Missing {
            what: "qemu-system-x86_64".into(),
            install: "apt-get install -y --no-install-recommends qemu-system-x86".into(),
        })?;
        let kernel = match kernel {
            Some(k) => k,
            None => Kernel::discover()?,
        };
        let accel = probe_accel(&qemu, &kernel)?;
        Ok(VmConfig {
            qemu,
            kernel,
            accel,
            memory_mib: crate::spec::GUEST_MEMORY_MIB,
            cpus: default_cpus(accel),
            clock: TimingClock::Wall,
        })
    }

    /// Choose the clock and CPUs (`None`: the default for the accelerator), refusing
    /// what cannot run ([`check_clock`]).
    pub fn set_clock(&mut self, clock: TimingClock, cpus: Option<u32>) -> Result<(), EnvError> {
        check_clock(self.accel, clock, cpus)?;
        self.clock = clock;
        self.cpus = cpus.unwrap_or(self.cpus);
        Ok(())
    }

    /// `-icount shift` under the instruction clock.
    pub fn icount_shift(&self) -> Option<u8> {
        (self.clock == TimingClock::Instructions).then_some(ICOUNT_SHIFT)
    }

    /// `qemu-system-x86_64 --version`, first line.
    pub fn qemu_version(&self) -> Option<String> {
        let out = command::run(self.qemu.to_str()?, &["--version"]).ok()?;
        out.lines()
            .next()
            .map(|l| l.trim_start_matches("QEMU emulator version ").to_owned())
    }
}

/// Guest CPUs when none are asked for (see [`VmConfig::discover`]).
pub fn default_cpus(accel: Accel) -> u32 {
    match accel {
        Accel::Kvm => 2,
        Accel::Tcg => 1,
    }
}

/// The instruction clock is qemu's TCG instruction counter: KVM has none, and it needs one
/// vCPU (with `-smp 2` the round-robin vCPUs of single-threaded TCG did not finish
/// booting in 5 minutes; issue 21).
pub fn check_clock(accel: Accel, clock: TimingClock, cpus: Option<u32>) -> Result<(), EnvError> {
    if clock == TimingClock::Wall {
        return Ok(());
    }
    if accel == Accel::Kvm {
        return Err(EnvError::Clock(
            "the instruction clock is qemu's TCG instruction counter, and this VM runs under KVM: use --clock wall, or THINBENCH_ACCEL=tcg to emulate".into(),
        ));
    }
    match cpus {
        Some(n) if n > 1 => Err(EnvError::Clock(format!(
            "--cpus {n} with the instruction clock: it runs one guest CPU (with two, single-threaded TCG's round-robin vCPUs did not finish booting in 5 minutes); leave --cpus out or use --clock wall"
        ))),
        _ => Ok(()),
    }
}

/// One boot: a shell script run as root in the guest's chroot of the host root.
#[derive(Debug, Clone)]
pub struct VmJob {
    /// Name for the qemu process.
    pub name: String,
    /// Absolute directory shared read-write; receives `console.log` and the job script.
    pub out_dir: PathBuf,
    /// The script (run by /bin/sh in the guest, cwd = /).
    pub script: String,
    /// Disks attached.
    pub disks: Vec<Disk>,
    /// Wall-clock limit from qemu start; qemu is killed past it.
    pub timeout: Duration,
    /// The guest's own limit on the job, from its start: past it the guest init dumps the
    /// blocked tasks to the console and powers off (a job stuck in the kernel).
    pub guest_limit: Option<Duration>,
    /// Test hook: kill qemu with SIGSEGV once this file contains this text, standing in
    /// for a qemu crash in the middle of a job.
    pub crash_qemu_when: Option<(PathBuf, String)>,
}

/// Guest boot milestones (guest uptime, seconds) and host wall times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BootTimes {
    /// Host seconds from spawning qemu to the init's first line.
    pub wall_to_init: Option<f64>,
    /// Host seconds from spawning qemu to the job starting.
    pub wall_to_job: Option<f64>,
    /// Guest uptime when init started (≈ firmware + kernel boot).
    pub guest_init: Option<f64>,
    /// Guest uptime after module loads.
    pub guest_modules: Option<f64>,
    /// Guest uptime when the job started.
    pub guest_job: Option<f64>,
    /// What `-kernel` was: "PVH vmlinux", or "bzImage (why not PVH)".
    pub image: String,
}

impl BootTimes {
    /// "qemu+firmware A s, kernel B s, modules C s, mounts D s" from the milestones: the
    /// guest's clock starts at the kernel's entry, so what the host waited before it is
    /// qemu's start, the firmware and the kernel's loading.
    pub fn breakdown(&self) -> Option<String> {
        let (init, modules, job, wall) = (
            self.guest_init?,
            self.guest_modules?,
            self.guest_job?,
            self.wall_to_job?,
        );
        Some(format!(
            "qemu+firmware {:.1}s, kernel {:.1}s, modules {:.1}s, mounts {:.1}s",
            (wall - job).max(0.0),
            init,
            modules - init,
            job - modules
        ))
    }
}

/// How a boot ended.
#[derive(Debug, Clone)]
pub struct VmOutcome {
    /// Job exit code reported by the guest init; `None` if the guest never said.
    pub exit_code: Option<i32>,
    /// Killed at the timeout.
    pub timed_out: bool,
    /// Stopped because the user interrupted thinbench.
    pub interrupted: bool,
    /// qemu's own exit status text.
    pub qemu_status: String,
    /// The serial console log.
    pub console: PathBuf,
    /// Kernel BUG/WARNING/Oops/panic lines seen on the console.
    pub kernel_problems: Vec<String>,
    /// The guest kernel's panic line, if it panicked.
    pub panic: Option<String>,
    /// The guest's watchdog stopped a job stuck past its limit (blocked tasks dumped).
    pub guest_watchdog: bool,
    /// Milestones.
    pub boot: BootTimes,
    /// Host wall seconds for the whole boot.
    pub wall_secs: f64,
}

/// Console lines that mean the kernel misbehaved; they fail a run.
pub fn is_kernel_problem(line: &str) -> bool {
    const PATTERNS: &[&str] = &[
        "Kernel panic",
        "BUG:",
        "Oops:",
        "WARNING:",
        "general protection fault",
        "Call Trace:",
        "kernel BUG at",
        "watchdog: BUG: soft lockup",
        "INFO: task ",
    ];
    // Our own init's lines are not kernel output.
    !line.contains("thinbench-guest:") && PATTERNS.iter().any(|p| line.contains(p))
}

/// Boot the VM and run the job. `tick` runs every ~100 ms while the guest works (progress
/// display); it must not block.
pub fn run(cfg: &VmConfig, job: &VmJob, tick: &mut dyn FnMut()) -> Result<VmOutcome, EnvError> {
    let initrd = initramfs::build(&cfg.kernel, &kernel::cache_dir())?;
    let (image, image_kind) = fast_boot::boot_image(&cfg.kernel, &kernel::cache_dir());
    let job_path = job.out_dir.join(".guest-job.sh");
    fs::write(&job_path, &job.script).map_err(|e| EnvError::io(&job_path, e))?;
    let console = job.out_dir.join("console.log");
    let _ = fs::remove_file(&console);
    let mut extra = format!(
        "tb.out={} tb.job={}",
        job.out_dir.display(),
        job_path.display()
    );
    if let Some(l) = job.guest_limit {
        extra.push_str(&format!(" tb.timeout={}", l.as_secs().max(1)));
    }
    if let Some(lpj) = fast_boot::lpj_arg(&cfg.kernel) {
        extra.push(' ');
        extra.push_str(&lpj);
    }
    let argv = qemu_args::qemu_args(&qemu_args::QemuSpec {
        name: &job.name,
        accel: cfg.accel,
        clock: cfg.clock,
        memory_mib: cfg.memory_mib,
        cpus: cfg.cpus,
        kernel: &image,
        initrd: &initrd.path,
        cmdline_extra: &extra,
        out_dir: &job.out_dir,
        disks: &job.disks,
        console_log: &console,
    });
    let argv_log = job.out_dir.join("qemu.argv");
    let _ = fs::write(
        &argv_log,
        argv.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let qemu_err = job.out_dir.join("qemu.stderr");
    let err_file = fs::File::create(&qemu_err).map_err(|e| EnvError::io(&qemu_err, e))?;

    let start = Instant::now();
    let mut cmd = Command::new(&cfg.qemu);
    cmd.args(&argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file);
    // SAFETY: prctl is async-signal-safe; it makes qemu die with thinbench (SIGKILL
    // included), so a killed run never leaves a VM behind.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| EnvError::Qemu(format!("cannot start {}: {e}", cfg.qemu.display())))?;

    let mut watcher = ConsoleWatcher::new(&console);
    let mut timed_out = false;
    let mut interrupted = false;
    let status = loop {
        if let Some(st) = child
            .try_wait()
            .map_err(|e| EnvError::Qemu(e.to_string()))?
        {
            break st;
        }
        watcher.poll(start);
        tick();
        if let Some((file, text)) = &job.crash_qemu_when {
            if fs::read_to_string(file).is_ok_and(|s| s.contains(text.as_str())) {
                // SAFETY: kill(2) on our own child's pid.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGSEGV) };
            }
        }
        if start.elapsed() > job.timeout {
            timed_out = true;
        }
        if signals::stop_requested() {
            interrupted = true;
        }
        if timed_out || interrupted {
            let _ = child.kill();
            break child.wait().map_err(|e| EnvError::Qemu(e.to_string()))?;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    watcher.poll(start);
    let stderr = fs::read_to_string(&qemu_err).unwrap_or_default();
    if watcher.boot.wall_to_init.is_none() && !timed_out && !interrupted {
        return Err(EnvError::Qemu(format!(
            "the guest never started ({status}); qemu said: {}",
            stderr.trim()
        )));
    }
    Ok(VmOutcome {
        exit_code: watcher.exit_code,
        timed_out,
        interrupted,
        qemu_status: status.to_string(),
        console,
        kernel_problems: watcher.problems,
        panic: watcher.panic,
        guest_watchdog: watcher.watchdog,
        boot: BootTimes {
            image: image_kind,
            ..watcher.boot
        },
        wall_secs: start.elapsed().as_secs_f64(),
    })
}

/// Follows `console.log` as qemu writes it.
struct ConsoleWatcher {
    path: PathBuf,
    pos: u64,
    partial: String,
    exit_code: Option<i32>,
    problems: Vec<String>,
    panic: Option<String>,
    watchdog: bool,
    boot: BootTimes,
}

impl ConsoleWatcher {
    fn new(path: &Path) -> Self {
        ConsoleWatcher {
            path: path.to_owned(),
            pos: 0,
            partial: String::new(),
            exit_code: None,
            problems: Vec::new(),
            panic: None,
            watchdog: false,
            boot: BootTimes::default(),
        }
    }

    fn poll(&mut self, start: Instant) {
        let Ok(mut f) = fs::File::open(&self.path) else {
            return;
        };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            self.line(line.trim_end_matches(['\r', '\n']), start);
        }
    }

    fn line(&mut self, line: &str, start: Instant) {
        if let Some(rest) = line.split("thinbench-guest: ").nth(1) {
            let uptime = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("uptime="))
                .and_then(|u| u.parse::<f64>().ok());
            let wall = Some(start.elapsed().as_secs_f64());
            if rest.starts_with("init ") {
                self.boot.guest_init = uptime;
                self.boot.wall_to_init = wall;
            } else if rest.starts_with("modules ") {
                self.boot.guest_modules = uptime;
            } else if rest.starts_with("job ") {
                self.boot.guest_job = uptime;
                self.boot.wall_to_job = wall;
            } else if rest.starts_with("watchdog:") {
                self.watchdog = true;
            } else if let Some(code) = rest.strip_prefix("exit=") {
                self.exit_code = code.split_whitespace().next().and_then(|c| c.parse().ok());
            }
        } else if self.watchdog {
            // The blocked-task dump the watchdog asked for: stacks, not kernel problems.
        } else if is_kernel_problem(line) {
            if self.panic.is_none() && line.contains("Kernel panic") {
                self.panic = Some(line.trim().to_owned());
            }
            if self.problems.len() < 200 {
                self.problems.push(line.to_owned());
            }
        }
    }
}

/// KVM if it boots this kernel to init within a short time, else TCG. Cached per host
/// kernel in `<cache>/accel`, because a failed KVM probe costs its whole timeout.
/// `THINBENCH_ACCEL=kvm|tcg` overrides.
pub fn probe_accel(qemu: &Path, kernel: &Kernel) -> Result<Accel, EnvError> {
    match std::env::var("THINBENCH_ACCEL").as_deref() {
        Ok("tcg") => return Ok(Accel::Tcg),
        Ok("kvm") => return Ok(Accel::Kvm),
        _ => {}
    }
    if !Path::new("/dev/kvm").exists() {
        return Ok(Accel::Tcg);
    }
    let host = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let cache = kernel::cache_dir().join("accel");
    if let Ok(s) = fs::read_to_string(&cache) {
        if let Some((h, a)) = s.trim().split_once(' ') {
            if h == host {
                return Ok(if a == "kvm" { Accel::Kvm } else { Accel::Tcg });
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("thinbench-kvm-probe-{}", std::process::id()));
    fs::create_dir_all(&dir).map_err(|e| EnvError::io(&dir, e))?;
    let cfg = VmConfig {
        qemu: qemu.to_owned(),
        kernel: kernel.clone(),
        accel: Accel::Kvm,
        memory_mib: 512,
        cpus: 1,
        clock: TimingClock::Wall,
    };
    let job = VmJob {
        name: "thinbench-kvm-probe".into(),
        out_dir: dir.clone(),
        script: "exit 0\n".into(),
        disks: vec![],
        timeout: Duration::from_secs(20),
        guest_limit: None,
        crash_qemu_when: None,
    };
    let works = matches!(run(&cfg, &job, &mut || {}), Ok(o) if o.exit_code == Some(0));
    let _ = fs::remove_dir_all(&dir);
    let accel = if works { Accel::Kvm } else { Accel::Tcg };
    if let Some(p) = cache.parent() {
        let _ = fs::create_dir_all(p);
    }
    let _ = fs::write(&cache, format!("{host} {}\n", accel.as_str()));
    Ok(accel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_problem_lines() {
        assert!(is_kernel_problem(
            "[   12.1] WARNING: CPU: 0 PID: 1 at drivers/md/dm-thin.c:123"
        ));
        assert!(is_kernel_problem(
            "[   13.0] Kernel panic - not syncing: Fatal exception"
        ));
        assert!(is_kernel_problem(
            "BUG: kernel NULL pointer dereference, address: 0000"
        ));
        assert!(!is_kernel_problem(
            "device-mapper: thin: 253:2: switching pool to out-of-data-space (queue IO) mode"
        ));
        assert!(!is_kernel_problem(
            "thinbench-guest: exit=0 uptime=3.2 WARNING: in a job line"
        ));
    }

    #[test]
    fn instruction_clock_needs_tcg_and_one_cpu() {
        let i = TimingClock::Instructions;
        assert!(check_clock(Accel::Tcg, i, None).is_ok());
        assert!(check_clock(Accel::Tcg, i, Some(1)).is_ok());
        let two = check_clock(Accel::Tcg, i, Some(2)).unwrap_err().to_string();
        assert!(two.contains("--cpus 2"), "{two}");
        let kvm = check_clock(Accel::Kvm, i, None).unwrap_err().to_string();
        assert!(kvm.contains("KVM"), "{kvm}");
        assert!(check_clock(Accel::Kvm, TimingClock::Wall, Some(4)).is_ok());
    }
}

//! `thinbench run SCENARIO`: validate, pick the environment, run, print a summary.

use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use thinbench_schema::record::{RunEvent, RunSummary, Status};

use super::progress::Progress;
use super::{exit_code, summary, EnvArg, KernelArgs};
use crate::env::{guest, host, vm};
use crate::plan::{DeviceSpec, Plan, PoolKindSpec};
use crate::record::{write_json_atomic, Recorder};
use crate::runner::{self, RunContext};
use crate::sys;

/// Options of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Where the kernel under test runs.
    #[arg(long, value_enum, default_value_t = EnvArg::Auto)]
    pub env: EnvArg,
    /// Results directory (default: runs/<run-id>-<scenario>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Kernel choice for the VM.
    #[command(flatten)]
    pub kernel: KernelArgs,
    /// Allow a direct-lvm device that carries a filesystem, partition table or LVM
    /// signature to be overwritten (Docker's `dm.directlvm_device_force`). A device in use
    /// (mounted, swap, held, the system's) is refused regardless.
    #[arg(long)]
    pub force_device: bool,
    /// Override the scenario's `timeout` (e.g. `90s`, `20m`). Past it the run stops in
    /// order (teardown, results marked incomplete); if IO held in the kernel keeps it from
    /// stopping within a grace period, it exits anyway and says what it left.
    #[arg(long, value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Internal: running inside thinbench's VM.
    #[arg(long, hide = true)]
    pub guest: bool,
    /// Internal: the run id chosen by the host.
    #[arg(long, hide = true)]
    pub run_id: Option<String>,
}

/// Base of per-run scratch directories on a host.
pub const HOST_SCRATCH: &str = "/var/tmp/thinbench";
/// Where the guest mounts its work disk.
pub const GUEST_DISK: &str = "/run/thinbench/disk";

/// How long a run that passed its timeout gets to stop in order before it gives up.
pub const TIMEOUT_GRACE: Duration = Duration::from_secs(20);

fn parse_timeout(s: &str) -> Result<Duration, String> {
    crate::plan::parse_duration(s).and_then(|d| {
        if d.is_zero() || d > Duration::from_secs(24 * 3600) {
            Err(format!("`{s}`: a timeout is between 1s and 24h"))
        } else {
            Ok(d)
        }
    })
}

pub fn run(a: RunArgs) -> anyhow::Result<i32> {
    let mut plan = match crate::scenario::load_plan(&a.scenario) {
        Ok(p) => p,
        Err(errs) => {
            eprintln!("{errs}");
            return Ok(exit_code::ERROR);
        }
    };
    if let Some(t) = a.timeout {
        plan.timeout = t;
    }
    if !sys::is_root() {
        return Err(
            crate::errors::EnvError::NotRoot("loop devices, dm devices, lvm".into()).into(),
        );
    }
    let use_vm = match a.env {
        EnvArg::Host => false,
        EnvArg::Vm => true,
        EnvArg::Auto => !a.guest && host::has_device_mapper().is_err(),
    };
    // Refuse before anything is created: a usage error, nothing run.
    for p in &plan.pools {
        if let PoolKindSpec::DirectLvm(d) = &p.kind {
            if let DeviceSpec::Path(dev) = &d.device {
                let refusal = if use_vm {
                    Some(format!(
                        "{} is a device of this machine, which the VM does not see; run with --env host on a kernel with device-mapper, or use device = \"auto\" (a scratch disk) in the VM",
                        dev.display()
                    ))
                } else {
                    crate::backend::device_safety::check(dev, a.force_device)
                        .err()
                        .map(|r| r.to_string())
                };
                if let Some(r) = refusal {
                    eprintln!("thinbench: pool {}: {r}", p.name);
                    return Ok(exit_code::ERROR);
                }
            }
        }
    }
    let run_id = a.run_id.clone().unwrap_or_else(runner::new_run_id);
    let out = match &a.out {
        Some(o) => o.clone(),
        None => PathBuf::from("runs").join(format!("{run_id}-{}", plan.name)),
    };
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = fs::canonicalize(&out)?;
    if !a.guest {
        fs::copy(&a.scenario, out.join("scenario.toml"))
            .with_context(|| format!("copying {}", a.scenario.display()))?;
    }
    let summary = if use_vm {
        run_vm(&plan, &a, &run_id, &out)?
    } else {
        run_here(&plan, &a, &run_id, &out)?
    };
    if !a.guest {
        summary::print(&summary, &out);
        // The results stand without the report: a rendering failure is reported, not
        // turned into a failed run.
        match super::report::render_run(&out) {
            Ok(files) => println!("report: {}", files.html.display()),
            Err(e) => eprintln!("thinbench: no report: {e:#}"),
        }
    }
    Ok(match summary.status {
        Status::Passed => exit_code::OK,
        Status::Failed => exit_code::FAILED,
        Status::Skipped => exit_code::SKIPPED,
        Status::Incomplete => exit_code::INCOMPLETE,
    })
}

/// Run on the running kernel (a host with dm, or inside the VM).
fn run_here(plan: &Plan, a: &RunArgs, run_id: &str, out: &Path) -> anyhow::Result<RunSummary> {
    if let Err(e) = host::has_device_mapper() {
        anyhow::bail!("{e}; use --env vm to boot a kernel that has it");
    }
    let mut auto_devices = std::collections::BTreeMap::new();
    let base = if a.guest {
        guest::prepare_work_disk(Path::new(GUEST_DISK)).map_err(anyhow::Error::msg)?;
        let disks = guest::disks_by_serial();
        for i in 0..plan.pools.len() {
            if let Some(d) = disks.get(&guest::pv_serial(i)) {
                auto_devices.insert(i, d.clone());
            }
        }
        PathBuf::from(GUEST_DISK)
    } else {
        PathBuf::from(HOST_SCRATCH)
    };
    let work_dir = base.join(run_id);
    fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
    let _lock = crate::cleanup::RunLock::acquire(run_id)?;
    let mut env = host::environment_info(if a.guest { "vm" } else { "host" });
    if a.guest {
        env.host_cpu_model = String::new();
    }
    let ctx = RunContext {
        run_id: run_id.to_owned(),
        out_dir: out.to_owned(),
        work_dir: work_dir.clone(),
        env,
        auto_devices,
        started_at: runner::now_rfc3339(),
        force_device: a.force_device,
    };
    let listener: Option<crate::record::Listener> = (!a.guest).then(|| {
        Box::new(Progress::new(
            plan.steps.len(),
            std::io::stderr().is_terminal(),
        )) as crate::record::Listener
    });
    let rec = Recorder::create(out, Instant::now(), listener)?;
    let _watchdog = Watchdog::start(plan.timeout, out, a.guest);
    let summary = runner::run_plan(plan, &ctx, &rec);
    let _ = fs::remove_dir_all(&work_dir);
    if a.guest {
        let _ = sys::command::run("umount", &[GUEST_DISK]);
    }
    Ok(summary)
}

/// Boot the VM and run the plan inside it.
fn run_vm(plan: &Plan, a: &RunArgs, run_id: &str, out: &Path) -> anyhow::Result<RunSummary> {
    let kernel = match (&a.kernel.kernel, &a.kernel.modules) {
        (Some(k), Some(m)) => Some(vm::Kernel::explicit(k, m)?),
        _ => None,
    };
    let cfg = vm::VmConfig::discover(kernel)?;
    let scratch = PathBuf::from(HOST_SCRATCH).join(run_id);
    fs::create_dir_all(&scratch)?;
    let _lock = crate::cleanup::RunLock::acquire(run_id)?;
    let result = (|| -> anyhow::Result<RunSummary> {
        let mut disks = Vec::new();
        // The work disk holds loop-lvm's sparse files: room for all of them, filled.
        let loop_bytes: u64 = plan
            .pools
            .iter()
            .map(|p| match &p.kind {
                PoolKindSpec::LoopLvm(l) => l.data_size.0 + l.metadata_size.0,
                _ => 0,
            })
            .sum();
        let work = scratch.join("work.img");
        // O_DIRECT (cache=none) needs whole blocks: sizes are rounded up to MiB.
        let mib = |b: u64| b.div_ceil(1 << 20) << 20;
        crate::backend::loopdev::sparse_file(
            &work,
            mib((loop_bytes + (loop_bytes / 10)).max(1 << 30) + (512 << 20)),
        )?;
        disks.push(vm::Disk {
            serial: guest::WORK_SERIAL.into(),
            path: work,
        });
        for (i, p) in plan.pools.iter().enumerate() {
            if let PoolKindSpec::DirectLvm(d) = &p.kind {
                if let DeviceSpec::Auto { size } = d.device {
                    let img = scratch.join(format!("pv{i}.img"));
                    crate::backend::loopdev::sparse_file(&img, mib(size.0))?;
                    disks.push(vm::Disk {
                        serial: guest::pv_serial(i),
                        path: img,
                    });
                }
            }
        }
        let exe = std::env::current_exe()?;
        let fault = GuestFault::from_env()?;
        let script = format!(
            "export DM_DISABLE_UDEV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin RUST_BACKTRACE=1\ncd /\n{}exec {} run --env host --guest{} --timeout {}s --run-id {run_id} --out {} {} > {} 2>&1\n",
            fault.map(|f| f.guest_script(out)).unwrap_or_default(),
            exe.display(),
            if a.force_device { " --force-device" } else { "" },
            plan.timeout.as_secs(),
            out.display(),
            out.join("scenario.toml").display(),
            out.join("guest.log").display()
        );
        // The guest's run stops itself at the timeout, then gives up after the grace; the
        // guest init's watchdog covers a run that cannot even exit (IO stuck in the
        // kernel); qemu's own limit adds the boot on top, for a guest that hangs early.
        let guest_limit = plan.timeout + TIMEOUT_GRACE + Duration::from_secs(90);
        let job = vm::VmJob {
            name: format!("thinbench-{run_id}"),
            out_dir: out.to_owned(),
            script,
            disks,
            timeout: guest_limit + Duration::from_secs(120),
            guest_limit: Some(guest_limit),
            crash_qemu_when: (fault == Some(GuestFault::QemuCrash))
                .then(|| (out.join("events.jsonl"), GuestFault::TRIGGER.to_owned())),
        };
        let progress = Progress::new(plan.steps.len(), std::io::stderr().is_terminal());
        let mut events = Follower::new(out.join("events.jsonl"));
        let mut samples = Follower::new(out.join("samples.csv"));
        let mut follow = || {
            for line in samples.poll() {
                // The header line does not parse as a sample and is skipped.
                if let Some(s) = parse_sample(&line) {
                    progress.sample(&s);
                }
            }
            for line in events.poll() {
                if let Ok(ev) = serde_json::from_str::<RunEvent>(&line) {
                    progress.event(&ev);
                }
            }
        };
        eprintln!(
            "thinbench: booting {} under qemu ({}, {} MiB, {} CPUs)",
            cfg.kernel.version,
            cfg.accel.as_str(),
            cfg.memory_mib,
            cfg.cpus
        );
        let outcome = vm::run(&cfg, &job, &mut follow)?;
        follow();
        progress.finish();
        let mut s = crate::record::read_summary(out)
            .unwrap_or_else(|e| incomplete_summary(plan, run_id, &e));
        s.environment.kind = "vm".into();
        s.environment.accel = Some(cfg.accel.as_str().into());
        s.environment.qemu_version = cfg.qemu_version();
        s.environment.host_cpu_model = host::cpu_model();
        for p in &outcome.kernel_problems {
            if !s.kernel_problems.contains(p) {
                s.kernel_problems.push(p.clone());
            }
        }
        let console = outcome.console.display();
        let why = if outcome.interrupted {
            Some("interrupted".to_owned())
        } else if let Some(p) = &outcome.panic {
            Some(format!(
                "the guest kernel panicked: `{p}`; console: {console}"
            ))
        } else if outcome.guest_watchdog {
            Some(format!(
                "hung: the guest's watchdog dumped the blocked tasks to {console} and powered off"
            ))
        } else if outcome.timed_out {
            Some(format!(
                "the VM was killed at its timeout ({}s); console: {console}",
                job.timeout.as_secs()
            ))
        } else if outcome.exit_code.is_none() {
            Some(format!(
                "qemu died before the guest reported ({}); console: {console}",
                outcome.qemu_status
            ))
        } else {
            None
        };
        if let Some(w) = why {
            s.status = Status::Incomplete;
            // The guest's own reason (e.g. its timeout) comes first when it gave one.
            s.error = Some(match s.error.take() {
                Some(g) if !g.starts_with("no summary") => format!("{g}; {w}"),
                _ => w,
            });
        } else if !outcome.kernel_problems.is_empty() {
            s.status = s.status.worst(Status::Failed);
        }
        write_json_atomic(&out.join("summary.json"), &s)?;
        let b = &outcome.boot;
        eprintln!(
            "thinbench: vm boot: init at {:.1}s, job at {:.1}s wall (guest uptime {:.1}s); whole VM run {:.1}s",
            b.wall_to_init.unwrap_or(f64::NAN),
            b.wall_to_job.unwrap_or(f64::NAN),
            b.guest_job.unwrap_or(f64::NAN),
            outcome.wall_secs
        );
        Ok(s)
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn incomplete_summary(plan: &Plan, run_id: &str, why: &str) -> RunSummary {
    RunSummary {
        format_version: thinbench_schema::FORMAT_VERSION,
        run_id: run_id.to_owned(),
        scenario: thinbench_schema::record::ScenarioInfo {
            name: plan.name.to_string(),
            file: plan.source.display().to_string(),
            description: plan.description.clone(),
        },
        status: Status::Incomplete,
        started_at: runner::now_rfc3339(),
        finished_at: None,
        environment: Default::default(),
        cases: vec![],
        kernel_problems: vec![],
        error: Some(format!("no summary from the guest: {why}")),
    }
}

impl crate::record::Listen for Progress {
    fn event(&self, ev: &RunEvent) {
        Progress::event(self, ev)
    }
    fn sample(&self, s: &thinbench_schema::record::PoolSample) {
        Progress::sample(self, s)
    }
}

fn parse_sample(line: &str) -> Option<thinbench_schema::record::PoolSample> {
    // Fields in file order; the header line does not parse and yields None.
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    r.deserialize().next()?.ok()
}

/// Tails a file the guest appends to (events.jsonl, samples.csv), from where it left
/// off, for live progress on the host; yields whole lines.
struct Follower {
    path: PathBuf,
    pos: u64,
    partial: String,
}

impl Follower {
    fn new(path: PathBuf) -> Self {
        Follower {
            path,
            pos: 0,
            partial: String::new(),
        }
    }
    fn poll(&mut self) -> Vec<String> {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut buf = Vec::new();
        if f.seek(SeekFrom::Start(self.pos)).is_err() || f.read_to_end(&mut buf).is_err() {
            return Vec::new();
        }
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        let mut lines = Vec::new();
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            lines.push(line.trim_end().to_owned());
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::parse_sample;

    #[test]
    fn follows_sample_lines_and_skips_the_header() {
        let header =
            "t_ms,pool,step,reason,data_used,data_total,meta_used,meta_total,mode,needs_check";
        assert!(parse_sample(header).is_none());
        let s = parse_sample("444,loop-lvm,0,step-start,7,4096,1648,16384,rw,false").unwrap();
        assert_eq!(
            (s.t_ms, s.step, s.data_used, s.meta_total),
            (444, Some(0), 7, 16384)
        );
        assert_eq!(
            parse_sample("9,p,,periodic,1,2,3,4,ro,true").unwrap().step,
            None
        );
    }
}

/// Enforces the scenario's timeout on a run on this kernel: first an orderly stop (the
/// runner tears down and marks the results incomplete), then, if IO held in the kernel
/// (e.g. `queue_if_no_space` with no timeout) keeps the run from stopping, an exit that
/// leaves the devices for `thinbench cleanup` rather than a harness hung for ever.
struct Watchdog {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    fn start(timeout: Duration, out: &Path, guest: bool) -> Watchdog {
        use std::sync::atomic::{AtomicBool, Ordering};
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let out = out.to_owned();
        let wait = move |limit: Duration| {
            let t0 = Instant::now();
            while t0.elapsed() < limit {
                if d.load(Ordering::SeqCst) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            d.load(Ordering::SeqCst)
        };
        std::thread::spawn(move || {
            if wait(timeout) {
                return;
            }
            let why = format!(
                "timed out: the run passed its timeout of {}s",
                timeout.as_secs()
            );
            eprintln!("thinbench: {why}; stopping");
            sys::signals::request_stop(&why);
            if wait(TIMEOUT_GRACE) {
                eprintln!("thinbench: stopped within the grace period");
                return;
            }
            // Still stuck: some IO does not return. Say so in the results, show where the
            // kernel is blocked (in the guest: on the console), and leave.
            let stuck = format!(
                "{why}, and it could not stop within {}s: IO is held in the kernel; {}",
                TIMEOUT_GRACE.as_secs(),
                if guest {
                    "the VM is powered off with it"
                } else {
                    "its devices are left for `thinbench cleanup`"
                }
            );
            eprintln!("thinbench: {stuck}");
            if let Ok(mut s) = crate::record::read_summary(&out) {
                s.status = Status::Incomplete;
                s.error = Some(stuck);
                let _ = write_json_atomic(&out.join("summary.json"), &s);
            }
            if guest {
                // A process with a thread stuck in the kernel cannot exit, so the guest
                // would wait for it for ever: tell the host (the console marker its
                // watcher knows), dump the blocked tasks and their stacks to the console
                // (KERN_INFO lines), and power the VM off; the results are on the host.
                let _ = fs::write(
                    "/dev/ttyS0",
                    "thinbench-guest: watchdog: the run is stuck in the kernel; blocked tasks follow\n",
                );
                let _ = fs::write("/proc/sys/kernel/printk", "7");
                let _ = fs::write("/proc/sysrq-trigger", "w");
                std::thread::sleep(Duration::from_secs(2));
                let _ = fs::write("/proc/sysrq-trigger", "o");
            }
            std::process::exit(exit_code::INCOMPLETE);
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Test hook (`THINBENCH_TEST_GUEST_FAULT`): a real guest fault in the middle of a VM run,
/// once the first step has started, to show that each ends in a verdict and a saved
/// console, never a hung harness. Not a scenario feature: it breaks the environment, not
/// the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuestFault {
    /// `echo c > /proc/sysrq-trigger`: a real kernel panic.
    Panic,
    /// A kernel-problem line through `/dev/kmsg`. Debian's kernel has no lkdtm to provoke a
    /// real Oops, and with `oops=panic` a real one is a panic (the case above).
    OopsLine,
    /// qemu killed with SIGSEGV from the host.
    QemuCrash,
}

impl GuestFault {
    const TRIGGER: &'static str = "\"step_started\"";

    fn from_env() -> anyhow::Result<Option<GuestFault>> {
        Ok(
            match std::env::var("THINBENCH_TEST_GUEST_FAULT").as_deref() {
                Err(_) | Ok("") => None,
                Ok("panic") => Some(GuestFault::Panic),
                Ok("oops-line") => Some(GuestFault::OopsLine),
                Ok("qemu-crash") => Some(GuestFault::QemuCrash),
                Ok(o) => anyhow::bail!(
                    "THINBENCH_TEST_GUEST_FAULT={o}: expected panic, oops-line or qemu-crash"
                ),
            },
        )
    }

    /// Guest shell lines starting the fault in the background.
    fn guest_script(self, out: &Path) -> String {
        let act = match self {
            GuestFault::Panic => "echo c > /proc/sysrq-trigger",
            GuestFault::OopsLine => {
                "echo '<2>Oops: thinbench test: a kernel-problem line injected via /dev/kmsg' > /dev/kmsg"
            }
            GuestFault::QemuCrash => return String::new(),
        };
        format!(
            "( while ! grep -q '{}' {} 2>/dev/null; do sleep 0.2; done; {act} ) &\n",
            Self::TRIGGER,
            out.join("events.jsonl").display()
        )
    }
}

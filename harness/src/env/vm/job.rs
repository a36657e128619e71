//! A batch of runs in one VM boot: the guest's job script (it re-executes this very binary
//! as `thinbench run --env host --guest …`), the scratch disks it needs, and the verdicts
//! of the runs from what the guest left in their results directories.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thinbench_schema::record::{PoolSample, RunEvent, RunSummary};

use super::follow::{parse_sample, Follower};
use super::services::GuestServices;
use super::verdict::{self, RunRef};
use super::watchdog::TIMEOUT_GRACE;
use super::{BootTimes, Disk, VmConfig, VmJob};
use crate::backend::BackendError;
use crate::cleanup::RunLock;
use crate::env::guest;
use crate::errors::EnvError;
use crate::record::write_json_atomic;
use crate::spec::{Backing, DeviceSpec, PoolKindSpec, ScenarioSpec};

/// Base of per-run scratch directories on a host.
pub const HOST_SCRATCH: &str = "/var/tmp/thinbench";
/// Where the guest mounts its work disk.
pub const GUEST_DISK: &str = "/run/thinbench/disk";
/// The work dir's base in the guest for a run whose pools are all RAM-backed.
pub use crate::backend::ram::RAM_WORK_BASE as GUEST_RAM_WORK;

/// One run to make: a plan (its pools possibly narrowed to a shard's), where its results
/// go and under which id.
#[derive(Debug, Clone)]
pub struct Job {
    /// The validated scenario.
    pub plan: ScenarioSpec,
    /// The pools kept, when the plan was narrowed (the guest applies the same filter).
    pub pools: Option<Vec<String>>,
    /// Its run id.
    pub run_id: String,
    /// Its results directory (absolute: the guest sees the same path).
    pub out: PathBuf,
    /// (k, N) of `--repeat`.
    pub sample: (u32, u32),
}

/// What the host's command line passes on to the guest's `thinbench run`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestFlags {
    /// `--force-device`.
    pub force_device: bool,
    /// `--allow-host-paths`.
    pub allow_host_paths: bool,
    /// The real host's services started in the guest (`--services`); with dmeventd the
    /// guest's runs pass `--dmeventd`.
    pub services: GuestServices,
}

/// What only the host knows of the VM, handed to the guest's runs (environment variables
/// of the job script) so that their records are whole from the first event on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// qemu's accelerator (`tcg`, `kvm`).
    pub accel: String,
    /// qemu's version.
    pub qemu_version: Option<String>,
    /// The host's CPU model.
    pub host_cpu: String,
    /// The clock qemu runs the guest on (`wall`, `instructions`).
    pub clock: String,
    /// Its `-icount shift`, under the instruction clock.
    pub icount_shift: Option<u8>,
}

/// The job script's variables for [`HostFacts`].
pub const HOST_FACTS_ENV: [&str; 5] = [
    "THINBENCH_VM_ACCEL",
    "THINBENCH_VM_QEMU_VERSION",
    "THINBENCH_VM_HOST_CPU",
    "THINBENCH_VM_CLOCK",
    "THINBENCH_VM_ICOUNT_SHIFT",
];

/// Why a batch of jobs, or one run on this kernel, could not be made.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The VM, its kernel or qemu.
    #[error(transparent)]
    Env {
        /// The cause.
        #[from]
        source: EnvError,
    },
    /// A scratch disk image could not be made.
    #[error(transparent)]
    Backend {
        /// The cause.
        #[from]
        source: BackendError,
    },
    /// File system trouble with a named path.
    #[error("{what} {}", path.display())]
    Io {
        /// What was being done ("creating", "copying").
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The scenario file could not be read again to copy it into the results.
    #[error("copying {}", path.display())]
    CopyScenario {
        /// The scenario file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: thinbench_schema::untrusted::ReadError,
    },
    /// Another process holds the run's lock.
    #[error("locking run {run_id}")]
    Lock {
        /// The run id.
        run_id: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `THINBENCH_TEST_GUEST_FAULT` has a value the test hook does not know.
    #[error("THINBENCH_TEST_GUEST_FAULT={value}: expected panic, oops-line or qemu-crash")]
    UnknownGuestFault {
        /// The value.
        value: String,
    },
    /// This kernel has no device-mapper.
    #[error("{reason}; use --env vm to boot a kernel that has it")]
    NoDeviceMapper {
        /// What `host::has_device_mapper` found.
        reason: String,
    },
    /// The guest could not prepare its work disk.
    #[error("{reason}")]
    WorkDisk {
        /// What went wrong.
        reason: String,
    },
}

impl JobError {
    pub(crate) fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> JobError {
        let path = path.to_owned();
        move |source| JobError::Io { what, path, source }
    }
}

/// Test hook (`THINBENCH_TEST_GUEST_FAULT`): a real guest fault in the middle of a VM run,
/// once the first step has started, to show that each ends in a verdict and a saved
/// console, never a hung harness. Not a scenario feature: it breaks the environment, not
/// the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestFault {
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

    /// The fault `THINBENCH_TEST_GUEST_FAULT` asks for, if any.
    pub fn from_env() -> Result<Option<GuestFault>, JobError> {
        Ok(
            match std::env::var("THINBENCH_TEST_GUEST_FAULT").as_deref() {
                Err(_) | Ok("") => None,
                Ok("panic") => Some(GuestFault::Panic),
                Ok("oops-line") => Some(GuestFault::OopsLine),
                Ok("qemu-crash") => Some(GuestFault::QemuCrash),
                Ok(o) => {
                    return Err(JobError::UnknownGuestFault {
                        value: o.to_owned(),
                    })
                }
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

/// `<out>/guest-diskstats-before.txt` and `…-after.txt`: the guest's `/proc/diskstats`
/// around each run of a VM batch.
pub const DISKSTATS_PREFIX: &str = "guest-diskstats-";

/// How much further the guest's own limits (the run's `timeout` and its grace, the
/// init's watchdog) are set under the instruction clock. They count guest time, and with
/// `sleep=off` an idle guest's time jumps to its next timer at once: waiting for a host
/// device or 9p, virtual time ran 9× (smoke.toml: 160 s of guest uptime in 17.5 s) to 15×
/// (smoke-ram.toml: 395 s in about 27 s) faster than wall time, so a limit kept as
/// written would fire early. 50× leaves room over both; the scenario's timeout is still
/// kept on the wall clock, by the host: qemu's own limit.
pub const INSTRUCTION_CLOCK_LIMIT_FACTOR: u32 = 50;

/// The factor for the clock named `clock` (`wall`, `instructions`).
pub fn guest_limit_factor(clock: &str) -> u32 {
    if clock == thinbench_schema::record::TimingClock::Instructions.as_str() {
        INSTRUCTION_CLOCK_LIMIT_FACTOR
    } else {
        1
    }
}

/// The longest `--timeout` a run takes.
const MAX_RUN_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Quote `s` for the guest's /bin/sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The guest's job script: every job in turn, each a `thinbench run --guest` of one
/// scenario into its own directory; a failed job does not stop the next.
pub fn guest_script(
    exe: &Path,
    jobs: &[Job],
    flags: GuestFlags,
    fault: Option<GuestFault>,
    facts: &HostFacts,
) -> String {
    let factor = guest_limit_factor(&facts.clock);
    let [accel, qemu, cpu, clock, shift] = HOST_FACTS_ENV;
    let mut script = format!(
        "export DM_DISABLE_UDEV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin RUST_BACKTRACE=1 \
         {accel}={} {qemu}={} {cpu}={} {clock}={} {shift}={}\ncd /\nrc=0\n",
        sh_quote(&facts.accel),
        sh_quote(facts.qemu_version.as_deref().unwrap_or("")),
        sh_quote(&facts.host_cpu),
        sh_quote(&facts.clock),
        sh_quote(
            &facts
                .icount_shift
                .map(|n| n.to_string())
                .unwrap_or_default()
        ),
    );
    script.push_str(&flags.services.start_script());
    if let (Some(f), Some(j)) = (fault, jobs.first()) {
        script.push_str(&f.guest_script(&j.out));
    }
    for (i, j) in jobs.iter().enumerate() {
        // A console milestone per job: where a batch's time goes, in console.log.
        script.push_str(&format!(
            "echo \"thinbench-guest: run {}/{} uptime=$(cut -d' ' -f1 /proc/uptime)\" > /dev/ttyS0 2>/dev/null\n",
            i + 1,
            jobs.len()
        ));
        let q = |p: &Path| sh_quote(&p.display().to_string());
        let mut cmd = format!(
            "{} run --env host --guest{}{}{} --timeout {}s --run-id {}",
            q(exe),
            if flags.force_device {
                " --force-device"
            } else {
                ""
            },
            if flags.allow_host_paths {
                " --allow-host-paths"
            } else {
                ""
            },
            if flags.services.dmeventd {
                " --dmeventd"
            } else {
                ""
            },
            (j.plan.timeout * factor).min(MAX_RUN_TIMEOUT).as_secs(),
            j.run_id
        );
        for p in j.pools.iter().flatten() {
            cmd.push_str(&format!(" --only-pool {}", sh_quote(p)));
        }
        cmd.push_str(&format!(
            " --out {} {} > {} 2>&1 || rc=$?\n",
            q(&j.out),
            q(&j.out.join("scenario.toml")),
            q(&j.out.join("guest.log"))
        ));
        // The guest's block-device counters around the run: what it cost each disk (a
        // RAM-backed run: nothing).
        let stats = |when: &str| {
            format!(
                "cat /proc/diskstats > {} 2>/dev/null\n",
                q(&j.out.join(format!("{DISKSTATS_PREFIX}{when}.txt")))
            )
        };
        script.push_str(&stats("before"));
        script.push_str(&cmd);
        script.push_str(&stats("after"));
        script.push_str(&flags.services.after_run_script(q, &j.out));
    }
    script.push_str("exit $rc\n");
    script
}

/// What the host sees of the guest's runs while the VM works.
pub trait JobObserver {
    /// Just before qemu starts.
    fn booting(&mut self) {}
    /// Job `job` wrote its first events.
    fn started(&mut self, _job: usize) {}
    /// An event of job `job`.
    fn event(&mut self, job: usize, ev: &RunEvent);
    /// A pool sample of job `job`.
    fn sample(&mut self, job: usize, s: &PoolSample);
}

/// How a batch ended: a summary per job (also written to its `summary.json`), and the
/// boot's timings.
#[derive(Debug)]
pub struct BatchOutcome {
    /// One per job, in order.
    pub summaries: Vec<RunSummary>,
    /// Boot milestones.
    pub boot: BootTimes,
    /// Host wall seconds for the whole VM run.
    pub wall_secs: f64,
}

/// Boot the VM once and run every job inside it, one after another, `exe` being the
/// binary the guest re-executes. Why one boot for `--repeat N`: a boot under TCG costs
/// about 15 s, and the gate's samples must differ only by what varies between runs on
/// fresh pools; the boot-to-boot variance (page cache, host load at boot) is left to the
/// baseline and candidate being separate boots.
pub fn run_jobs(
    cfg: &VmConfig,
    jobs: &[Job],
    flags: GuestFlags,
    exe: &Path,
    base: &Path,
    observer: &mut dyn JobObserver,
) -> Result<BatchOutcome, JobError> {
    let run_id = &jobs[0].run_id;
    let scratch = PathBuf::from(HOST_SCRATCH).join(run_id);
    fs::create_dir_all(&scratch).map_err(JobError::io("creating", &scratch))?;
    let _lock = RunLock::acquire(run_id).map_err(|source| JobError::Lock {
        run_id: run_id.clone(),
        source,
    })?;
    let result = run_in_scratch(cfg, jobs, flags, exe, base, &scratch, observer);
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn run_in_scratch(
    cfg: &VmConfig,
    jobs: &[Job],
    flags: GuestFlags,
    exe: &Path,
    base: &Path,
    scratch: &Path,
    observer: &mut dyn JobObserver,
) -> Result<BatchOutcome, JobError> {
    let disks = scratch_disks(jobs, scratch)?;
    let fault = GuestFault::from_env()?;
    // Each guest run stops itself at its timeout, then gives up after the grace; the
    // guest init's watchdog covers a run that cannot even exit (IO stuck in the
    // kernel); qemu's own limit adds the boot on top, for a guest that hangs early.
    let wall_limit = jobs
        .iter()
        .map(|j| j.plan.timeout + TIMEOUT_GRACE)
        .sum::<Duration>()
        + Duration::from_secs(90);
    let guest_limit = wall_limit * guest_limit_factor(cfg.clock.as_str());
    let job = VmJob {
        name: format!("thinbench-{}", jobs[0].run_id),
        out_dir: base.to_owned(),
        script: guest_script(
            exe,
            jobs,
            flags,
            fault,
            &HostFacts {
                accel: cfg.accel.as_str().into(),
                qemu_version: cfg.qemu_version(),
                host_cpu: crate::env::host::cpu_model(),
                clock: cfg.clock.as_str().into(),
                icount_shift: cfg.icount_shift(),
            },
        ),
        disks,
        timeout: wall_limit + Duration::from_secs(120),
        guest_limit: Some(guest_limit),
        crash_qemu_when: (fault == Some(GuestFault::QemuCrash)).then(|| {
            (
                jobs[0].out.join("events.jsonl"),
                GuestFault::TRIGGER.to_owned(),
            )
        }),
    };
    let mut followers: Vec<(Follower, Follower, bool)> = jobs
        .iter()
        .map(|j| {
            (
                Follower::new(j.out.join("events.jsonl")),
                Follower::new(j.out.join("samples.csv")),
                false,
            )
        })
        .collect();
    let mut follow = |observer: &mut dyn JobObserver| {
        for (i, (events, samples, seen)) in followers.iter_mut().enumerate() {
            let sample_lines = samples.poll();
            let event_lines = events.poll();
            if !*seen && !event_lines.is_empty() {
                *seen = true;
                observer.started(i);
            }
            for line in sample_lines {
                // The header line does not parse as a sample and is skipped.
                if let Some(s) = parse_sample(&line) {
                    observer.sample(i, &s);
                }
            }
            for line in event_lines {
                if let Ok(ev) = serde_json::from_str::<RunEvent>(&line) {
                    observer.event(i, &ev);
                }
            }
        }
    };
    observer.booting();
    let outcome = super::run(cfg, &job, &mut || follow(&mut *observer))?;
    follow(observer);
    let runs: Vec<RunRef<'_>> = jobs
        .iter()
        .map(|j| RunRef {
            plan: &j.plan,
            run_id: &j.run_id,
            out: &j.out,
        })
        .collect();
    let summaries = verdict::summaries(cfg, &runs, job.timeout, &outcome);
    write_summaries(jobs, &summaries)?;
    Ok(BatchOutcome {
        summaries,
        boot: outcome.boot,
        wall_secs: outcome.wall_secs,
    })
}

/// The guest's disks: a work disk for loop-lvm's sparse files, and one PV disk per
/// direct-lvm pool position with `device = "auto"`.
fn scratch_disks(jobs: &[Job], scratch: &Path) -> Result<Vec<Disk>, JobError> {
    let mut disks = Vec::new();
    // The work disk holds loop-lvm's sparse files: room for all of one job's, filled
    // (each job formats it afresh).
    let loop_bytes: u64 = jobs
        .iter()
        .map(|j| {
            j.plan
                .pools
                .iter()
                .map(|p| match &p.kind {
                    // A RAM-backed pool's files are on a tmpfs, not this disk.
                    PoolKindSpec::LoopLvm(l) if p.backing == Backing::Disk => {
                        l.data_size.0 + l.metadata_size.0
                    }
                    _ => 0,
                })
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0);
    let work = scratch.join("work.img");
    crate::backend::loopdev::sparse_file(&work, work_disk_bytes(loop_bytes))?;
    disks.push(Disk {
        serial: guest::WORK_SERIAL.into(),
        path: work,
    });
    // One PV disk per direct-lvm pool position, as large as any job needs there; the
    // guest finds it by the pool's index in its (same) plan.
    let mut pv_sizes: BTreeMap<usize, u64> = BTreeMap::new();
    for j in jobs {
        for (i, p) in j.plan.pools.iter().enumerate() {
            if let PoolKindSpec::DirectLvm(d) = &p.kind {
                if let DeviceSpec::Auto { size } = d.device {
                    let e = pv_sizes.entry(i).or_default();
                    *e = (*e).max(size.0);
                }
            }
        }
    }
    for (i, size) in pv_sizes {
        let img = scratch.join(format!("pv{i}.img"));
        crate::backend::loopdev::sparse_file(&img, whole_mib(size))?;
        disks.push(Disk {
            serial: guest::pv_serial(i),
            path: img,
        });
    }
    Ok(disks)
}

/// O_DIRECT (cache=none) needs whole blocks: sizes are rounded up to MiB.
fn whole_mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20) << 20
}

/// The work disk: a tenth over loop-lvm's files, at least 1 GiB, plus 512 MiB for the
/// file system.
fn work_disk_bytes(loop_bytes: u64) -> u64 {
    whole_mib((loop_bytes + (loop_bytes / 10)).max(1 << 30) + (512 << 20))
}

/// Write the summaries (kind "vm", the VM's facts) where the runs' results are.
fn write_summaries(jobs: &[Job], summaries: &[RunSummary]) -> Result<(), JobError> {
    for (j, s) in jobs.iter().zip(summaries) {
        let path = j.out.join("summary.json");
        write_json_atomic(&path, s).map_err(JobError::io("writing", &path))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;

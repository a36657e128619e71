//! `thinbench run SCENARIO`: validate, pick the environment, run, print a summary.

use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use thinbench_schema::record::{RunEvent, RunSummary, Status};

use crate::args::{EnvArg, KernelArgs};
use crate::progress::Progress;
use crate::{exit_code, summary};
use thinbench_harness::env::{guest, host, vm};
use thinbench_harness::record::{write_json_atomic, Recorder};
use thinbench_harness::runner::{self, RunContext};
use thinbench_harness::spec::{DeviceSpec, PoolKindSpec, ScenarioSpec, Shard};
use thinbench_harness::sys;

/// Options of `run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files: one, or several (run one after another; the matrix `--shard`
    /// splits).
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Where the kernel under test runs.
    #[arg(long, value_enum, default_value_t = EnvArg::Auto)]
    pub env: EnvArg,
    /// Results directory (default: runs/<run-id>-<scenario>). With several scenarios, one
    /// subdirectory per scenario; with --repeat N, `sample-1` … `sample-N` in it.
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
    /// Trust the scenarios with host paths: absolute or `..` paths, symlinks out of
    /// their directory, a named block device (docs/security.md). Never for a scenario
    /// you have not read.
    #[arg(long)]
    pub allow_host_paths: bool,
    /// Override the scenario's `timeout` (e.g. `90s`, `20m`). Past it the run stops in
    /// order (teardown, results marked incomplete); if IO held in the kernel keeps it from
    /// stopping within a grace period, it exits anyway and says what it left.
    #[arg(long, value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Take N independent samples for the CI gate: each scenario run N times, each time
    /// on fresh pools, one after another in one environment (one VM boot).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Run only shard I of N of the matrix of (scenario, pool) pairs, sorted by scenario,
    /// pool kind and pool name and dealt round robin: `--shard 2/4`.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Internal: running inside thinbench's VM.
    #[arg(long, hide = true)]
    pub guest: bool,
    /// Internal: the run id chosen by the host.
    #[arg(long, hide = true)]
    pub run_id: Option<String>,
    /// Internal: only these pools of the scenario (the host's shard, for the guest).
    #[arg(long = "only-pool", hide = true)]
    pub only_pools: Vec<String>,
}

/// One run to make: a plan (its pools possibly narrowed to a shard's), where its results
/// go and under which id.
struct Job {
    plan: ScenarioSpec,
    /// The pools kept, when the plan was narrowed (the guest applies the same filter).
    pools: Option<Vec<String>>,
    run_id: String,
    out: PathBuf,
    /// (k, N) of `--repeat`.
    sample: (u32, u32),
}

/// Base of per-run scratch directories on a host.
pub const HOST_SCRATCH: &str = "/var/tmp/thinbench";
/// Where the guest mounts its work disk.
pub const GUEST_DISK: &str = "/run/thinbench/disk";

/// How long a run that passed its timeout gets to stop in order before it gives up.
pub const TIMEOUT_GRACE: Duration = Duration::from_secs(20);

fn parse_timeout(s: &str) -> Result<Duration, String> {
    thinbench_harness::scenario::parse_duration(s).and_then(|d| {
        if d.is_zero() || d > Duration::from_secs(24 * 3600) {
            Err(format!("`{s}`: a timeout is between 1s and 24h"))
        } else {
            Ok(d)
        }
    })
}

pub fn run(a: RunArgs) -> anyhow::Result<i32> {
    let mut plans = Vec::new();
    let mut bad = false;
    let grants = thinbench_harness::scenario::Grants {
        host_paths: a.allow_host_paths,
    };
    for f in &a.scenarios {
        match thinbench_harness::scenario::load_scenario_granted(f, &grants) {
            Ok(p) => plans.push(p),
            Err(errs) => {
                eprintln!("{errs}");
                bad = true;
            }
        }
    }
    if bad {
        return Ok(exit_code::ERROR);
    }
    if let Some(t) = a.timeout {
        for p in &mut plans {
            p.timeout = t;
        }
    }
    if let Some(dup) = duplicate_name(&plans) {
        eprintln!("thinbench: two scenario files are both named `{dup}`: results would collide");
        return Ok(exit_code::ERROR);
    }
    if !a.only_pools.is_empty() {
        for p in &mut plans {
            if let Err(e) = p.retain_pools(&a.only_pools) {
                eprintln!("thinbench: {e}");
                return Ok(exit_code::ERROR);
            }
        }
    }
    let units = match a.shard {
        None => plans
            .into_iter()
            .zip(a.scenarios.iter().cloned())
            .map(|(p, f)| (p, f, None))
            .collect::<Vec<_>>(),
        Some(shard) => {
            let m = thinbench_harness::spec::matrix(&plans);
            let picked = thinbench_harness::spec::select(&m, shard);
            eprintln!(
                "thinbench: shard {shard}: {} of the {}-entry matrix: {}",
                picked.len(),
                m.len(),
                picked
                    .iter()
                    .map(|e| format!("{}/{}", e.scenario, e.pool))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            shard_units(plans, &a.scenarios, &picked)
        }
    };
    if units.is_empty() {
        println!("nothing to run: this shard has no entries of the matrix");
        return Ok(exit_code::OK);
    }
    if !sys::is_root() {
        return Err(thinbench_harness::errors::EnvError::NotRoot(
            "loop devices, dm devices, lvm".into(),
        )
        .into());
    }
    let use_vm = match a.env {
        EnvArg::Host => false,
        EnvArg::Vm => true,
        EnvArg::Auto => !a.guest && host::has_device_mapper().is_err(),
    };
    // Refuse before anything is created: a usage error, nothing run.
    for (plan, _, _) in &units {
        if let Some(code) = refuse_devices(plan, use_vm, a.force_device) {
            return Ok(code);
        }
    }
    let batch = a.scenarios.len() > 1 || a.repeat > 1 || a.shard.is_some();
    // One run: its id names its directory too, as before batches existed.
    let single_id = a.run_id.clone().unwrap_or_else(runner::new_run_id);
    let base = match (&a.out, batch) {
        (Some(o), _) => o.clone(),
        (None, false) => PathBuf::from("runs").join(format!("{single_id}-{}", units[0].0.name)),
        (None, true) => PathBuf::from("runs").join(format!("{}-batch", runner::new_run_id())),
    };
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let base = fs::canonicalize(&base)?;
    let mut jobs = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (plan, file, pools) in units {
        for (k, out) in sample_dirs(&base, a.scenarios.len(), plan.name.as_str(), a.repeat)
            .into_iter()
            .enumerate()
        {
            // Fresh ids, distinct within the batch: every device and result carries one.
            let run_id = match batch {
                false => single_id.clone(),
                true => loop {
                    let id = runner::new_run_id();
                    if ids.insert(id.clone()) {
                        break id;
                    }
                },
            };
            fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            if !a.guest {
                copy_inputs(&plan, &file, &out)?;
            }
            jobs.push(Job {
                plan: plan.clone(),
                pools: pools.clone(),
                run_id,
                out,
                sample: (k as u32 + 1, a.repeat),
            });
        }
    }
    let summaries = if use_vm {
        run_vm(&jobs, &a, &base)?
    } else {
        let mut v = Vec::new();
        for (i, j) in jobs.iter().enumerate() {
            if batch {
                announce(j, i, jobs.len());
            }
            v.push(run_here(
                &j.plan,
                a.guest,
                a.force_device,
                &j.run_id,
                &j.out,
            )?);
            if sys::signals::stop_requested() {
                break;
            }
        }
        v
    };
    let mut overall = Status::Passed;
    if !a.guest {
        for (j, summary) in jobs.iter().zip(&summaries) {
            summary::print(summary, &j.out);
            // The results stand without the report: a rendering failure is reported, not
            // turned into a failed run.
            match crate::report::render_run(&j.out) {
                Ok(files) => println!("report: {}", files.html.display()),
                Err(e) => eprintln!("thinbench: no report: {e:#}"),
            }
        }
        if batch {
            println!(
                "\n{} run(s) in {}: gate them with `thinbench gate --candidate {} --baseline …`",
                summaries.len(),
                base.display(),
                base.display()
            );
        }
    }
    for s in &summaries {
        overall = overall.worst(s.status);
    }
    if summaries.len() < jobs.len() {
        overall = Status::Incomplete;
    }
    Ok(match overall {
        Status::Passed => exit_code::OK,
        Status::Failed => exit_code::FAILED,
        Status::Skipped => exit_code::SKIPPED,
        Status::Incomplete => exit_code::INCOMPLETE,
    })
}

fn duplicate_name(plans: &[ScenarioSpec]) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    plans
        .iter()
        .map(|p| p.name.to_string())
        .find(|n| !seen.insert(n.clone()))
}

/// The plans narrowed to the shard's entries, in the order the files were given; plans
/// with no entry in the shard are dropped.
fn shard_units(
    plans: Vec<ScenarioSpec>,
    files: &[PathBuf],
    picked: &[thinbench_harness::spec::MatrixEntry],
) -> Vec<(ScenarioSpec, PathBuf, Option<Vec<String>>)> {
    let mut out = Vec::new();
    for (i, (mut plan, file)) in plans.into_iter().zip(files.iter().cloned()).enumerate() {
        let pools: Vec<String> = picked
            .iter()
            .filter(|e| e.plan == i)
            .map(|e| e.pool.clone())
            .collect();
        if pools.is_empty() {
            continue;
        }
        plan.retain_pools(&pools)
            .expect("matrix entries name the plan's own pools");
        out.push((plan, file, Some(pools)));
    }
    out
}

/// Where each sample of a scenario goes: the base itself for one scenario run once,
/// `<base>/<scenario>` when several scenarios share the base, `…/sample-<k>` when
/// repeated.
fn sample_dirs(base: &Path, scenarios: usize, scenario: &str, repeat: u32) -> Vec<PathBuf> {
    let dir = if scenarios > 1 {
        base.join(scenario)
    } else {
        base.to_path_buf()
    };
    if repeat > 1 {
        (1..=repeat)
            .map(|k| dir.join(format!("sample-{k}")))
            .collect()
    } else {
        vec![dir]
    }
}

fn announce(j: &Job, i: usize, total: usize) {
    let (k, n) = j.sample;
    eprintln!(
        "thinbench: run {}/{total}: {}{}{} -> {}",
        i + 1,
        j.plan.name,
        if n > 1 {
            format!(" sample {k}/{n}")
        } else {
            String::new()
        },
        j.pools
            .as_ref()
            .map(|p| format!(" (pools {})", p.join(", ")))
            .unwrap_or_default(),
        j.out.display()
    );
}

/// A direct-lvm device path in the plan that must not be used: the exit code to stop
/// with (the refusal printed), or `None`.
fn refuse_devices(plan: &ScenarioSpec, use_vm: bool, force_device: bool) -> Option<i32> {
    for p in &plan.pools {
        if let PoolKindSpec::DirectLvm(d) = &p.kind {
            if let DeviceSpec::Path(dev) = &d.device {
                let refusal = if use_vm {
                    Some(format!(
                        "{} is a device of this machine, which the VM does not see; run with --env host on a kernel with device-mapper, or use device = \"auto\" (a scratch disk) in the VM",
                        dev.display()
                    ))
                } else {
                    thinbench_harness::backend::device_safety::check(dev, force_device)
                        .err()
                        .map(|r| r.to_string())
                };
                if let Some(r) = refusal {
                    eprintln!("thinbench: pool {}: {r}", p.name);
                    return Some(exit_code::ERROR);
                }
            }
        }
    }
    None
}

/// Run on the running kernel (a host with dm, or inside the VM).
fn run_here(
    plan: &ScenarioSpec,
    guest: bool,
    force_device: bool,
    run_id: &str,
    out: &Path,
) -> anyhow::Result<RunSummary> {
    if let Err(e) = host::has_device_mapper() {
        anyhow::bail!("{e}; use --env vm to boot a kernel that has it");
    }
    let mut auto_devices = std::collections::BTreeMap::new();
    // Guest set-up milestones go to guest.log: the time between samples is spent here.
    let t0 = Instant::now();
    let milestone = |what: &str| {
        if guest {
            eprintln!(
                "thinbench: guest: {what} at {:.1}s",
                t0.elapsed().as_secs_f64()
            );
        }
    };
    let base = if guest {
        guest::prepare_work_disk(Path::new(GUEST_DISK)).map_err(anyhow::Error::msg)?;
        milestone("work disk formatted and mounted");
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
    let _lock = thinbench_harness::cleanup::RunLock::acquire(run_id)?;
    let mut env = if guest {
        host::environment_info("vm", guest::tool_versions_once_per_boot())
    } else {
        host::environment_info("host", host::tool_versions())
    };
    milestone("environment read");
    if guest {
        env.host_cpu_model = String::new();
    }
    let ctx = RunContext {
        run_id: run_id.to_owned(),
        out_dir: out.to_owned(),
        work_dir: work_dir.clone(),
        env,
        auto_devices,
        started_at: runner::now_rfc3339(),
        force_device,
    };
    let listener: Option<thinbench_harness::record::Listener> = (!guest).then(|| {
        Box::new(Progress::new(
            plan.steps.len(),
            std::io::stderr().is_terminal(),
        )) as thinbench_harness::record::Listener
    });
    let rec = Recorder::create(out, Instant::now(), listener)?;
    let _watchdog = Watchdog::start(plan.timeout, out, guest);
    let summary = runner::run_plan(plan, &ctx, &rec);
    let _ = fs::remove_dir_all(&work_dir);
    if guest {
        let _ = sys::command::run("umount", &[GUEST_DISK]);
    }
    Ok(summary)
}

/// The scenario as `scenario.toml` in the results, and beside it every fio job file it
/// names by a relative path (resolved inside the scenario's directory at validation):
/// the guest runs that copy, so its relative paths must mean the same there.
fn copy_inputs(plan: &ScenarioSpec, scenario: &Path, out: &Path) -> anyhow::Result<()> {
    // Read as validation read it (bounded, a regular file), not `fs::copy`: the path may
    // name something else by now.
    let text =
        thinbench_schema::untrusted::read(scenario, thinbench_schema::untrusted::limit::INPUT_TOML)
            .with_context(|| format!("copying {}", scenario.display()))?;
    fs::write(out.join("scenario.toml"), text)
        .with_context(|| format!("copying {}", scenario.display()))?;
    let dir = scenario.parent().unwrap_or(Path::new(""));
    for step in &plan.steps {
        let thinbench_harness::spec::Action::Io(io) = &step.action else {
            continue;
        };
        let thinbench_harness::spec::IoEngineSpec::FioJob {
            text,
            file: Some(file),
        } = &io.engine
        else {
            continue;
        };
        let Ok(rel) = file.strip_prefix(dir) else {
            continue; // absolute, allowed by the command line: the same path in the guest
        };
        if rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let to = out.join(rel);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
        }
        // The text validated, not the file again: it cannot have changed in between.
        fs::write(&to, text).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}

/// Quote `s` for the guest's /bin/sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What the host's command line passes on to the guest's `thinbench run`.
#[derive(Debug, Clone, Copy, Default)]
struct GuestFlags {
    force_device: bool,
    allow_host_paths: bool,
}

/// The guest's job script: every job in turn, each a `thinbench run --guest` of one
/// scenario into its own directory; a failed job does not stop the next.
fn guest_script(exe: &Path, jobs: &[Job], flags: GuestFlags, fault: Option<GuestFault>) -> String {
    let mut script = String::from(
        "export DM_DISABLE_UDEV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin RUST_BACKTRACE=1\ncd /\nrc=0\n",
    );
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
            "{} run --env host --guest{}{} --timeout {}s --run-id {}",
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
            j.plan.timeout.as_secs(),
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
        script.push_str(&cmd);
    }
    script.push_str("exit $rc\n");
    script
}

/// Boot the VM once and run every job inside it, one after another. Why one boot for
/// `--repeat N`: a boot under TCG costs about 15 s, and the gate's samples must differ
/// only by what varies between runs on fresh pools; the boot-to-boot variance (page
/// cache, host load at boot) is left to the baseline and candidate being separate boots.
fn run_vm(jobs: &[Job], a: &RunArgs, base: &Path) -> anyhow::Result<Vec<RunSummary>> {
    let kernel = match (&a.kernel.kernel, &a.kernel.modules) {
        (Some(k), Some(m)) => Some(vm::Kernel::explicit(k, m)?),
        _ => None,
    };
    let cfg = vm::VmConfig::discover(kernel)?;
    let run_id = &jobs[0].run_id;
    let scratch = PathBuf::from(HOST_SCRATCH).join(run_id);
    fs::create_dir_all(&scratch)?;
    let _lock = thinbench_harness::cleanup::RunLock::acquire(run_id)?;
    let result = (|| -> anyhow::Result<Vec<RunSummary>> {
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
                        PoolKindSpec::LoopLvm(l) => l.data_size.0 + l.metadata_size.0,
                        _ => 0,
                    })
                    .sum::<u64>()
            })
            .max()
            .unwrap_or(0);
        let work = scratch.join("work.img");
        // O_DIRECT (cache=none) needs whole blocks: sizes are rounded up to MiB.
        let mib = |b: u64| b.div_ceil(1 << 20) << 20;
        thinbench_harness::backend::loopdev::sparse_file(
            &work,
            mib((loop_bytes + (loop_bytes / 10)).max(1 << 30) + (512 << 20)),
        )?;
        disks.push(vm::Disk {
            serial: guest::WORK_SERIAL.into(),
            path: work,
        });
        // One PV disk per direct-lvm pool position, as large as any job needs there; the
        // guest finds it by the pool's index in its (same) plan.
        let mut pv_sizes: std::collections::BTreeMap<usize, u64> = Default::default();
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
            thinbench_harness::backend::loopdev::sparse_file(&img, mib(size))?;
            disks.push(vm::Disk {
                serial: guest::pv_serial(i),
                path: img,
            });
        }
        let exe = std::env::current_exe()?;
        let fault = GuestFault::from_env()?;
        // Each guest run stops itself at its timeout, then gives up after the grace; the
        // guest init's watchdog covers a run that cannot even exit (IO stuck in the
        // kernel); qemu's own limit adds the boot on top, for a guest that hangs early.
        let guest_limit = jobs
            .iter()
            .map(|j| j.plan.timeout + TIMEOUT_GRACE)
            .sum::<Duration>()
            + Duration::from_secs(90);
        let job = vm::VmJob {
            name: format!("thinbench-{run_id}"),
            out_dir: base.to_owned(),
            script: guest_script(
                &exe,
                jobs,
                GuestFlags {
                    force_device: a.force_device,
                    allow_host_paths: a.allow_host_paths,
                },
                fault,
            ),
            disks,
            timeout: guest_limit + Duration::from_secs(120),
            guest_limit: Some(guest_limit),
            crash_qemu_when: (fault == Some(GuestFault::QemuCrash)).then(|| {
                (
                    jobs[0].out.join("events.jsonl"),
                    GuestFault::TRIGGER.to_owned(),
                )
            }),
        };
        let tty = std::io::stderr().is_terminal();
        struct Live {
            progress: Progress,
            events: Follower,
            samples: Follower,
            seen: bool,
        }
        let mut live: Vec<Live> = jobs
            .iter()
            .map(|j| Live {
                progress: Progress::new(j.plan.steps.len(), tty),
                events: Follower::new(j.out.join("events.jsonl")),
                samples: Follower::new(j.out.join("samples.csv")),
                seen: false,
            })
            .collect();
        let total = jobs.len();
        let mut follow = || {
            for (i, l) in live.iter_mut().enumerate() {
                let sample_lines = l.samples.poll();
                let event_lines = l.events.poll();
                if total > 1 && !l.seen && !event_lines.is_empty() {
                    l.seen = true;
                    announce(&jobs[i], i, total);
                }
                for line in sample_lines {
                    // The header line does not parse as a sample and is skipped.
                    if let Some(s) = parse_sample(&line) {
                        l.progress.sample(&s);
                    }
                }
                for line in event_lines {
                    if let Ok(ev) = serde_json::from_str::<RunEvent>(&line) {
                        l.progress.event(&ev);
                    }
                }
            }
        };
        eprintln!(
            "thinbench: booting {} under qemu ({}, {} MiB, {} CPUs){}",
            cfg.kernel.version,
            cfg.accel.as_str(),
            cfg.memory_mib,
            cfg.cpus,
            if total > 1 {
                format!(" for {total} runs")
            } else {
                String::new()
            }
        );
        let outcome = vm::run(&cfg, &job, &mut follow)?;
        follow();
        for l in &live {
            l.progress.finish();
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
        let mut summaries: Vec<RunSummary> = jobs
            .iter()
            .map(|j| {
                thinbench_harness::record::read_summary(&j.out)
                    .unwrap_or_else(|e| incomplete_summary(&j.plan, &j.run_id, &e))
            })
            .collect();
        // When the VM died, the job it was running and every later one are incomplete;
        // jobs that finished before keep their verdicts. (With every summary finished,
        // the last job is the one it died in.)
        if let Some(w) = &why {
            let first_unfinished = summaries
                .iter()
                .position(|s| s.status == Status::Incomplete || s.finished_at.is_none())
                .unwrap_or(summaries.len() - 1);
            for s in &mut summaries[first_unfinished..] {
                s.status = Status::Incomplete;
                // The guest's own reason (e.g. its timeout) comes first when it gave one.
                s.error = Some(match s.error.take() {
                    Some(g) if !g.starts_with("no summary") => format!("{g}; {w}"),
                    _ => w.clone(),
                });
            }
        }
        // Kernel problems the guest's own log reading did not pin on a run (at boot,
        // between runs) go on every run: a kernel that misbehaved taints them all.
        let unclaimed: Vec<&String> = outcome
            .kernel_problems
            .iter()
            .filter(|p| {
                let m = log_message(p);
                !summaries
                    .iter()
                    .any(|s| s.kernel_problems.iter().any(|k| log_message(k) == m))
            })
            .collect();
        for (j, s) in jobs.iter().zip(&mut summaries) {
            s.environment.kind = "vm".into();
            if s.environment.kernel.is_empty() {
                // A sample the guest never started: the kernel it would have run on.
                s.environment.kernel = cfg.kernel.version.clone();
            }
            s.environment.accel = Some(cfg.accel.as_str().into());
            s.environment.qemu_version = cfg.qemu_version();
            s.environment.host_cpu_model = host::cpu_model();
            for p in &unclaimed {
                if !s.kernel_problems.contains(p) {
                    s.kernel_problems.push((*p).clone());
                }
            }
            if !s.kernel_problems.is_empty() {
                s.status = s.status.worst(Status::Failed);
            }
            write_json_atomic(&j.out.join("summary.json"), &*s)?;
        }
        let b = &outcome.boot;
        eprintln!(
            "thinbench: vm boot: init at {:.1}s, job at {:.1}s wall (guest uptime {:.1}s); whole VM run {:.1}s",
            b.wall_to_init.unwrap_or(f64::NAN),
            b.wall_to_job.unwrap_or(f64::NAN),
            b.guest_job.unwrap_or(f64::NAN),
            outcome.wall_secs
        );
        Ok(summaries)
    })();
    let _ = fs::remove_dir_all(&scratch);
    result
}

/// A kernel log line without its `[ seconds.micros]` stamp (the console and /dev/kmsg
/// stamp the same message alike, but not byte for byte).
fn log_message(line: &str) -> &str {
    let t = line.trim();
    match (t.starts_with('['), t.find(']')) {
        (true, Some(i)) => t[i + 1..].trim(),
        _ => t,
    }
}

fn incomplete_summary(plan: &ScenarioSpec, run_id: &str, why: &str) -> RunSummary {
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
        environment: thinbench_schema::record::EnvironmentInfo {
            thinbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Default::default()
        },
        cases: vec![],
        kernel_problems: vec![],
        error: Some(format!("no summary from the guest: {why}")),
    }
}

impl thinbench_harness::record::Listen for Progress {
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
    use super::*;

    fn plan(name: &str) -> ScenarioSpec {
        let text = format!(
            "format = 1\nname = \"{name}\"\n[[pool]]\nname = \"loop\"\nkind = \"loop-lvm\"\n\
             [[pool]]\nname = \"direct\"\nkind = \"direct-lvm\"\ndevice = \"auto\"\n\
             [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n"
        );
        thinbench_harness::scenario::load_scenario_str(Path::new("s.toml"), &text).unwrap()
    }

    #[test]
    fn sample_directories() {
        let b = Path::new("/out");
        assert_eq!(sample_dirs(b, 1, "smoke", 1), [PathBuf::from("/out")]);
        assert_eq!(
            sample_dirs(b, 1, "smoke", 3),
            ["/out/sample-1", "/out/sample-2", "/out/sample-3"].map(PathBuf::from)
        );
        assert_eq!(sample_dirs(b, 2, "cow", 1), [PathBuf::from("/out/cow")]);
        assert_eq!(
            sample_dirs(b, 2, "cow", 2),
            ["/out/cow/sample-1", "/out/cow/sample-2"].map(PathBuf::from)
        );
    }

    #[test]
    fn shard_units_narrow_each_plan_to_its_entries() {
        let plans = vec![plan("b"), plan("a")];
        let files = [PathBuf::from("b.toml"), PathBuf::from("a.toml")];
        let m = thinbench_harness::spec::matrix(&plans);
        // Sorted: a/direct, a/loop, b/direct, b/loop; shard 2/2 takes a/loop and b/loop.
        let picked = thinbench_harness::spec::select(&m, "2/2".parse().unwrap());
        let units = shard_units(plans, &files, &picked);
        assert_eq!(units.len(), 2);
        for (p, _, pools) in &units {
            assert_eq!(p.pools.len(), 1);
            assert_eq!(p.pools[0].name.as_str(), "loop");
            assert_eq!(pools.as_deref(), Some(&["loop".to_owned()][..]));
        }
        // In the order the files were given.
        assert_eq!(units[0].1, PathBuf::from("b.toml"));
    }

    #[test]
    fn guest_script_runs_every_job_into_its_own_directory() {
        let mut narrowed = plan("smoke");
        narrowed.retain_pools(&["direct".into()]).unwrap();
        let jobs: Vec<Job> = (1..=2)
            .map(|k| Job {
                plan: narrowed.clone(),
                pools: Some(vec!["direct".into()]),
                run_id: format!("20260101T00000{k}-abcd"),
                out: PathBuf::from(format!("/r/it's/sample-{k}")),
                sample: (k, 2),
            })
            .collect();
        let flags = GuestFlags {
            force_device: true,
            allow_host_paths: false,
        };
        let s = guest_script(Path::new("/bin/thinbench"), &jobs, flags, None);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[2], "rc=0");
        assert!(lines[3].starts_with("echo \"thinbench-guest: run 1/2 uptime="));
        assert_eq!(
            lines[4],
            "'/bin/thinbench' run --env host --guest --force-device --timeout 1800s --run-id 20260101T000001-abcd \
             --only-pool 'direct' --out '/r/it'\\''s/sample-1' '/r/it'\\''s/sample-1/scenario.toml' \
             > '/r/it'\\''s/sample-1/guest.log' 2>&1 || rc=$?"
        );
        assert!(lines[5].starts_with("echo \"thinbench-guest: run 2/2 uptime="));
        assert!(lines[6].contains("--run-id 20260101T000002-abcd"));
        assert_eq!(lines.last(), Some(&"exit $rc"));
    }

    #[test]
    fn kernel_lines_compare_without_their_stamp() {
        assert_eq!(log_message("[   12.345678] WARNING: x"), "WARNING: x");
        assert_eq!(log_message("[12.3] WARNING: x"), "WARNING: x");
        assert_eq!(log_message("BUG: y"), "BUG: y");
    }

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
            if let Ok(mut s) = thinbench_harness::record::read_summary(&out) {
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

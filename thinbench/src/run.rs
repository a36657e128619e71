//! `thinbench run SCENARIO`: validate, pick the environment, run, print a summary.

use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use thinbench_schema::record::{PoolSample, RunEvent, RunSummary, Status, TimingClock};

use crate::args::{EnvArg, KernelArgs};
use crate::progress::Progress;
use crate::{exit_code, summary};
use thinbench_harness::env::host;
use thinbench_harness::env::vm::here::{copy_inputs, run_here, HostOptions, Say};
use thinbench_harness::env::vm::job::{run_jobs, GuestFlags, Job, JobObserver};
use thinbench_harness::env::vm::services::GuestServices;
use thinbench_harness::env::vm::{self, VmConfig};
use thinbench_harness::runner;
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
    /// On a host with dmeventd running: let it monitor direct-lvm pools, as Docker's
    /// direct-lvm set-up does (lvm's `monitoring = 1`); it autoextends them by the
    /// scenario's profile, installed for the run as
    /// `/etc/lvm/profile/thinbench-<run id>-<pool>.profile` and removed after (Docker's
    /// documentation writes `docker-thinpool.profile` there). thinbench's own monitor then
    /// only watches, and the timeline says which acted.
    #[arg(long)]
    pub dmeventd: bool,
    /// Override the scenario's `timeout` (e.g. `90s`, `20m`). Past it the run stops in
    /// order (teardown, results marked incomplete); if IO held in the kernel keeps it from
    /// stopping within a grace period, it exits anyway and says what it left.
    #[arg(long, value_parser = crate::args::timeout_arg)]
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

pub fn run(a: RunArgs) -> anyhow::Result<i32> {
    let mut plans = Vec::new();
    let mut bad = false;
    let grants = thinbench_harness::scenario::Grants {
        host_paths: a.allow_host_paths,
    };
    for f in &a.scenarios {
        match thinbench_harness::scenario::load_scenario_granted(f, &grants) {
            Ok(p) => {
                for w in &p.warnings {
                    eprintln!("{}", w.as_warning());
                }
                plans.push(p)
            }
            Err(errs) => {
                crate::snippet::eprint_errors(&errs.errors);
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
    // The kernels named (the guest runs on the one it booted).
    let requests = if a.guest {
        Vec::new()
    } else {
        match crate::kernels::choose_kernels(
            plans.iter().zip(a.scenarios.iter().map(PathBuf::as_path)),
            &a.kernel.kernel,
        ) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("thinbench: {e}");
                return Ok(exit_code::ERROR);
            }
        }
    };
    if !use_vm && !requests.is_empty() {
        eprintln!(
            "thinbench: a kernel is chosen for the VM, and this run uses the running kernel ({}): leave --kernel out or use --env vm",
            if a.env == EnvArg::Host {
                "--env host"
            } else {
                "it has device-mapper"
            }
        );
        return Ok(exit_code::ERROR);
    }
    if let Some(code) = refuse_services(&a, use_vm) {
        return Ok(code);
    }
    let kernel_count = requests.len().max(1);
    // Each kernel's share of the matrix: everything, or its entries of the shard.
    let per_kernel: Vec<Vec<Unit>> = match a.shard {
        None => {
            let all: Vec<Unit> = plans
                .iter()
                .cloned()
                .zip(a.scenarios.iter().cloned())
                .map(|(p, f)| (p, f, None))
                .collect();
            vec![all; kernel_count]
        }
        Some(shard) => {
            let m = thinbench_harness::spec::matrix(&plans);
            let picked = thinbench_harness::spec::select_across(&m, kernel_count, shard);
            eprintln!(
                "thinbench: shard {shard}: {} of the {}-entry matrix: {}",
                picked.len(),
                m.len() * kernel_count,
                picked
                    .iter()
                    .map(|(k, e)| match kernel_count {
                        1 => format!("{}/{}", e.scenario, e.pool),
                        _ => format!("{}/{}@{}", e.scenario, e.pool, requests[*k]),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            (0..kernel_count)
                .map(|k| {
                    let mine: Vec<_> = picked
                        .iter()
                        .filter(|(x, _)| *x == k)
                        .map(|(_, e)| e.clone())
                        .collect();
                    shard_units(plans.clone(), &a.scenarios, &mine)
                })
                .collect()
        }
    };
    if per_kernel.iter().all(Vec::is_empty) {
        println!("nothing to run: this shard has no entries of the matrix");
        return Ok(exit_code::OK);
    }
    let all_units: Vec<Unit> = per_kernel.iter().flatten().cloned().collect();
    // In the guest the host has chosen the clock already (the qemu it started).
    let clock = if a.guest {
        TimingClock::Wall
    } else {
        match choose_clock(&all_units, a.kernel.clock.map(|c| c.clock())) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("thinbench: {e}");
                return Ok(exit_code::ERROR);
            }
        }
    };
    if clock == TimingClock::Instructions && !use_vm {
        eprintln!(
            "thinbench: the instruction clock is qemu's instruction counter: it needs --env vm (this run would use the running kernel)"
        );
        return Ok(exit_code::ERROR);
    }
    // Refuse before anything is created: a usage error, nothing run.
    for (plan, _, _) in &all_units {
        if let Some(code) = refuse_devices(plan, use_vm, a.force_device) {
            return Ok(code);
        }
    }
    // Resolving may download a kernel: after every check that needs nothing.
    let kernels: Vec<Option<vm::Kernel>> = match requests.is_empty() {
        true => vec![None],
        false => vm::resolve_all(&requests, &a.kernel.modules)?
            .into_iter()
            .map(Some)
            .collect(),
    };
    let matrix = kernels.len() > 1;
    let batch = a.scenarios.len() > 1 || a.repeat > 1 || a.shard.is_some() || matrix;
    // One run: its id names its directory too, as before batches existed.
    let single_id = a.run_id.clone().unwrap_or_else(runner::new_run_id);
    let first = &all_units[0].0;
    let base = match (&a.out, batch) {
        (Some(o), _) => o.clone(),
        (None, false) => PathBuf::from("runs").join(format!("{single_id}-{}", first.name)),
        (None, true) => PathBuf::from("runs").join(format!("{}-batch", runner::new_run_id())),
    };
    fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let base = fs::canonicalize(&base)?;
    let mut ids = std::collections::BTreeSet::new();
    let mut groups: Vec<(Option<vm::Kernel>, PathBuf, Vec<Job>)> = Vec::new();
    for (kernel, units) in kernels.into_iter().zip(per_kernel) {
        // A matrix: one directory per kernel, named by its release.
        let kbase = match (&kernel, matrix) {
            (Some(k), true) => base.join(&k.version),
            _ => base.clone(),
        };
        let mut jobs = Vec::new();
        for (plan, file, pools) in units {
            let dirs = sample_dirs(&kbase, a.scenarios.len(), plan.name.as_str(), a.repeat);
            for (k, out) in dirs.into_iter().enumerate() {
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
        groups.push((kernel, kbase, jobs));
    }
    let mut overall = Status::Passed;
    let mut done: Vec<(String, Vec<(&Job, RunSummary)>)> = Vec::new();
    for (kernel, kbase, jobs) in &groups {
        if jobs.is_empty() {
            continue;
        }
        let summaries = if use_vm {
            match run_vm(jobs, &a, kbase, clock, kernel.clone()) {
                Ok(s) => s,
                // One kernel of several failing to boot leaves the others' results.
                Err(e) if matrix => {
                    let name = kernel.as_ref().map_or("?", |k| k.version.as_str());
                    eprintln!("thinbench: kernel {name}: {e:#}");
                    Vec::new()
                }
                Err(e) => return Err(e),
            }
        } else {
            let mut v = Vec::new();
            for (i, j) in jobs.iter().enumerate() {
                if batch {
                    announce(j, i, jobs.len());
                }
                let opts = HostOptions {
                    force_device: a.force_device,
                    dmeventd: a.dmeventd,
                };
                v.push(run_on_this_kernel(j, a.guest, opts)?);
                if sys::signals::stop_requested() {
                    break;
                }
            }
            v
        };
        if summaries.len() < jobs.len() {
            overall = Status::Incomplete;
        }
        let release = kernel
            .as_ref()
            .map(|k| k.version.clone())
            .unwrap_or_default();
        done.push((release, jobs.iter().zip(summaries).collect()));
        if sys::signals::stop_requested() {
            break;
        }
    }
    if done.len() < groups.iter().filter(|g| !g.2.is_empty()).count() {
        overall = Status::Incomplete;
    }
    if !a.guest {
        for (release, runs) in &done {
            if matrix {
                println!("\n== kernel {release} ==");
            }
            for (j, summary) in runs {
                summary::print(summary, &j.out);
                // The results stand without the report: a rendering failure is reported,
                // not turned into a failed run.
                match crate::report::render_run(&j.out) {
                    Ok(files) => println!("report: {}", files.html.display()),
                    Err(e) => eprintln!("thinbench: no report: {e:#}"),
                }
            }
        }
        let runs: usize = done.iter().map(|(_, r)| r.len()).sum();
        if batch {
            println!(
                "\n{runs} run(s) in {}: gate them with `thinbench gate --candidate {} --baseline …`",
                base.display(),
                base.display()
            );
        }
        if matrix {
            let dirs: Vec<(String, Vec<PathBuf>)> = done
                .iter()
                .map(|(r, runs)| (r.clone(), runs.iter().map(|(j, _)| j.out.clone()).collect()))
                .collect();
            match crate::kernels::write_report(&dirs, &base) {
                Ok(Some(k)) => println!(
                    "across kernels: {} figures, {} exact difference(s)\nkernel report: {}",
                    k.figures,
                    k.findings,
                    k.html.display()
                ),
                Ok(None) => eprintln!(
                    "thinbench: no report across kernels: fewer than two kernels have results"
                ),
                Err(e) => eprintln!("thinbench: no report across kernels: {e:#}"),
            }
        }
    }
    for (_, runs) in &done {
        for (_, s) in runs {
            overall = overall.worst(s.status);
        }
    }
    Ok(match overall {
        Status::Passed => exit_code::OK,
        Status::Failed => exit_code::FAILED,
        Status::Skipped => exit_code::SKIPPED,
        Status::Incomplete => exit_code::INCOMPLETE,
    })
}

/// A scenario to run: its spec, file, and the pools a shard keeps.
type Unit = (ScenarioSpec, PathBuf, Option<Vec<String>>);

/// The clock of one boot: the command line's when given (it wins over the files), else
/// the scenarios' `clock`, which must then agree (they share the boot), else wall.
fn choose_clock(
    units: &[(ScenarioSpec, PathBuf, Option<Vec<String>>)],
    cli: Option<TimingClock>,
) -> Result<TimingClock, String> {
    if let Some(c) = cli {
        return Ok(c);
    }
    let mut chosen: Option<(TimingClock, &Path)> = None;
    for (plan, file, _) in units {
        let Some(c) = plan.clock else { continue };
        match chosen {
            Some((first, f)) if first != c => {
                return Err(format!(
                    "{} says clock = \"{}\" and {} says clock = \"{}\": scenarios run in one boot share its clock; run them apart or choose with --clock",
                    f.display(),
                    first.as_str(),
                    file.display(),
                    c.as_str()
                ))
            }
            Some(_) => {}
            None => chosen = Some((c, file)),
        }
    }
    Ok(chosen.map_or(TimingClock::Wall, |(c, _)| c))
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
/// `--services` is the VM guest's, `--dmeventd` a host's (the guest's runs get it from
/// `--services dmeventd`); what the guest starts must be installed on the host root.
fn refuse_services(a: &RunArgs, use_vm: bool) -> Option<i32> {
    let services = match GuestServices::parse(&a.kernel.services) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("thinbench: --services: {e}");
            return Some(exit_code::ERROR);
        }
    };
    let refusal = if services.any() && !use_vm {
        Some("--services starts services in the VM's guest, and this run uses the running kernel: leave it out (on a host, thinbench works with the udev and dmeventd that run there; --dmeventd lets dmeventd monitor the pools)".to_owned())
    } else if a.dmeventd && use_vm && !a.guest {
        Some("--dmeventd is for a host where dmeventd runs; the VM's guest has none unless it starts one: use --services dmeventd".to_owned())
    } else if use_vm && !a.guest {
        services.check_installed().err().map(|e| e.to_string())
    } else {
        None
    };
    refusal.map(|r| {
        eprintln!("thinbench: {r}");
        exit_code::ERROR
    })
}

fn refuse_devices(plan: &ScenarioSpec, use_vm: bool, force_device: bool) -> Option<i32> {
    for p in &plan.pools {
        if let PoolKindSpec::DirectLvm(d) = &p.kind {
            // On this machine's kernel a brd already there is not ours to use; the VM's
            // guest is fresh (and checks again where the pool is built).
            if let (DeviceSpec::Ram { .. }, false) = (&d.device, use_vm) {
                if let Some(r) = thinbench_harness::backend::ram::brd_refusal() {
                    eprintln!("thinbench: pool {}: {r}", p.name);
                    return Some(exit_code::ERROR);
                }
            }
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

/// Run on the running kernel (a host with dm, or inside the VM); progress on the host.
fn run_on_this_kernel(j: &Job, guest: bool, opts: HostOptions) -> anyhow::Result<RunSummary> {
    let listener: Option<thinbench_harness::record::Listener> = (!guest).then(|| {
        Box::new(Progress::new(
            j.plan.steps.len(),
            std::io::stderr().is_terminal(),
        )) as thinbench_harness::record::Listener
    });
    let say = Say {
        milestone: |m| eprintln!("thinbench: guest: {m}"),
        watchdog: |m| eprintln!("thinbench: {m}"),
        stuck_exit: exit_code::INCOMPLETE,
    };
    Ok(run_here(
        &j.plan, guest, opts, &j.run_id, &j.out, listener, say,
    )?)
}

/// The host's view of a VM batch: a progress display per job, announced when it starts.
struct LiveProgress<'a> {
    jobs: &'a [Job],
    cfg: &'a VmConfig,
    progress: Vec<Progress>,
}

impl JobObserver for LiveProgress<'_> {
    fn booting(&mut self) {
        let (cfg, total) = (self.cfg, self.jobs.len());
        eprintln!(
            "thinbench: booting {} under qemu ({}, {} clock, {} MiB, {} CPUs){}",
            cfg.kernel.version,
            cfg.accel.as_str(),
            cfg.clock.as_str(),
            cfg.memory_mib,
            cfg.cpus,
            if total > 1 {
                format!(" for {total} runs")
            } else {
                String::new()
            }
        );
    }
    fn started(&mut self, job: usize) {
        if self.jobs.len() > 1 {
            announce(&self.jobs[job], job, self.jobs.len());
        }
    }
    fn event(&mut self, job: usize, ev: &RunEvent) {
        self.progress[job].event(ev);
    }
    fn sample(&mut self, job: usize, s: &PoolSample) {
        self.progress[job].sample(s);
    }
}

/// Boot the VM once on `kernel` (`None`: the default) and run every job inside it (the
/// harness's `run_jobs`).
fn run_vm(
    jobs: &[Job],
    a: &RunArgs,
    base: &Path,
    clock: TimingClock,
    kernel: Option<vm::Kernel>,
) -> anyhow::Result<Vec<RunSummary>> {
    let mut cfg = VmConfig::discover(kernel)?;
    cfg.set_clock(clock, a.kernel.cpus)?;
    let tty = std::io::stderr().is_terminal();
    let mut live = LiveProgress {
        jobs,
        cfg: &cfg,
        progress: jobs
            .iter()
            .map(|j| Progress::new(j.plan.steps.len(), tty))
            .collect(),
    };
    let services = GuestServices::parse(&a.kernel.services).map_err(anyhow::Error::msg)?;
    let flags = GuestFlags {
        force_device: a.force_device,
        allow_host_paths: a.allow_host_paths,
        services,
    };
    let exe = std::env::current_exe().context("finding this binary for the guest")?;
    let result = run_jobs(&cfg, jobs, flags, &exe, base, &mut live);
    for p in &live.progress {
        p.finish();
    }
    let outcome = result?;
    let b = &outcome.boot;
    eprintln!(
        "thinbench: vm boot: init at {:.1}s, job at {:.1}s wall (guest uptime {:.1}s); whole VM run {:.1}s",
        b.wall_to_init.unwrap_or(f64::NAN),
        b.wall_to_job.unwrap_or(f64::NAN),
        b.guest_job.unwrap_or(f64::NAN),
        outcome.wall_secs
    );
    Ok(outcome.summaries)
}

impl thinbench_harness::record::Listen for Progress {
    fn event(&self, ev: &RunEvent) {
        Progress::event(self, ev)
    }
    fn sample(&self, s: &PoolSample) {
        Progress::sample(self, s)
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
    fn the_command_line_clock_wins_and_the_files_must_agree() {
        let with = |c: Option<TimingClock>| {
            let mut p = plan("a");
            p.clock = c;
            (p, PathBuf::from("a.toml"), None)
        };
        let (w, i) = (Some(TimingClock::Wall), Some(TimingClock::Instructions));
        assert_eq!(choose_clock(&[with(None)], None), Ok(TimingClock::Wall));
        assert_eq!(
            choose_clock(&[with(None), with(i)], None),
            Ok(TimingClock::Instructions)
        );
        let e = choose_clock(&[with(i), with(w)], None).unwrap_err();
        assert!(e.contains("share its clock"), "{e}");
        assert_eq!(choose_clock(&[with(i), with(w)], w), Ok(TimingClock::Wall));
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
}

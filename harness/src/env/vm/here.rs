//! A run on the running kernel: a host with device-mapper, or the guest running its share
//! of a VM batch (its work disk, its scratch PV disks).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use thinbench_schema::record::{RunSummary, TimingClock};

use super::job::{JobError, GUEST_DISK, GUEST_RAM_WORK, HOST_SCRATCH};
use super::watchdog::{Watchdog, TIMEOUT_GRACE};
use crate::cleanup::RunLock;
use crate::env::{guest, host};
use crate::record::{Listener, Recorder};
use crate::runner::{self, RunContext};
use crate::spec::{Action, IoEngineSpec, ScenarioSpec};
use crate::sys;

/// How a run on this kernel tells the user what it does (the library does not print).
#[derive(Clone, Copy)]
pub struct Say {
    /// Guest set-up milestones (to guest.log): the time between samples is spent there.
    pub milestone: fn(&str),
    /// The watchdog's notices.
    pub watchdog: fn(&str),
    /// The exit code when a run stuck in the kernel is given up.
    pub stuck_exit: i32,
}

/// What the command line allows a run on this kernel.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostOptions {
    /// `--force-device`.
    pub force_device: bool,
    /// `--dmeventd`: the system's dmeventd monitors direct-lvm pools.
    pub dmeventd: bool,
}

/// Run `plan` here, its results into `out`; `listener` sees its events live.
pub fn run_here(
    plan: &ScenarioSpec,
    guest: bool,
    opts: HostOptions,
    run_id: &str,
    out: &Path,
    listener: Option<Listener>,
    say: Say,
) -> Result<RunSummary, JobError> {
    if let Err(reason) = host::has_device_mapper() {
        return Err(JobError::NoDeviceMapper { reason });
    }
    let mut auto_devices = BTreeMap::new();
    let t0 = Instant::now();
    let milestone = |what: &str| {
        if guest {
            (say.milestone)(&format!("{what} at {:.1}s", t0.elapsed().as_secs_f64()));
        }
    };
    let ram_only = guest && plan.all_ram_backed();
    let base = if ram_only {
        PathBuf::from(GUEST_RAM_WORK)
    } else if guest {
        guest::prepare_work_disk(Path::new(GUEST_DISK))
            .map_err(|reason| JobError::WorkDisk { reason })?;
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
    fs::create_dir_all(&work_dir).map_err(JobError::io("creating", &work_dir))?;
    let _lock = RunLock::acquire(run_id).map_err(|source| JobError::Lock {
        run_id: run_id.to_owned(),
        source,
    })?;
    let mut env = if guest {
        host::environment_info("vm", guest::tool_versions_once_per_boot())
    } else {
        host::environment_info("host", host::tool_versions())
    };
    milestone("environment read");
    if guest {
        // What the host knows of the VM (see `HostFacts`): the records say it from the
        // first event on, not only once the host has patched the summary.
        let fact = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let [accel, qemu, cpu, clock, shift] = super::job::HOST_FACTS_ENV;
        env.accel = fact(accel);
        env.qemu_version = fact(qemu);
        env.host_cpu_model = fact(cpu).unwrap_or_default();
        if fact(clock).as_deref() == Some(TimingClock::Instructions.as_str()) {
            env.clock = TimingClock::Instructions;
            env.icount_shift = fact(shift).and_then(|s| s.parse().ok());
        }
    }
    let env_clock = env.clock;
    let ctx = RunContext {
        run_id: run_id.to_owned(),
        out_dir: out.to_owned(),
        work_dir: work_dir.clone(),
        env,
        auto_devices,
        started_at: runner::now_rfc3339(),
        force_device: opts.force_device,
        dmeventd: opts.dmeventd,
    };
    let rec = Recorder::create(out, Instant::now(), listener)
        .map_err(JobError::io("opening the results in", out))?;
    // The host scaled the timeout for the guest's clock (`guest_limit_factor`); the grace
    // counts the same guest time.
    let grace = TIMEOUT_GRACE * super::job::guest_limit_factor(env_clock.as_str());
    let _watchdog = Watchdog::start(
        plan.timeout,
        grace,
        out,
        guest,
        say.watchdog,
        say.stuck_exit,
    );
    let summary = runner::run_plan(plan, &ctx, &rec);
    let _ = fs::remove_dir_all(&work_dir);
    if guest && !ram_only {
        let _ = sys::command::run("umount", &[GUEST_DISK]);
    }
    Ok(summary)
}

/// The scenario as `scenario.toml` in the results, and beside it every fio job file it
/// names by a relative path (resolved inside the scenario's directory at validation):
/// the guest runs that copy, so its relative paths must mean the same there.
pub fn copy_inputs(plan: &ScenarioSpec, scenario: &Path, out: &Path) -> Result<(), JobError> {
    // Read as validation read it (bounded, a regular file), not `fs::copy`: the path may
    // name something else by now.
    let text =
        thinbench_schema::untrusted::read(scenario, thinbench_schema::untrusted::limit::INPUT_TOML)
            .map_err(|source| JobError::CopyScenario {
                path: scenario.to_owned(),
                source,
            })?;
    fs::write(out.join("scenario.toml"), text).map_err(JobError::io("copying", scenario))?;
    let dir = scenario.parent().unwrap_or(Path::new(""));
    for step in &plan.steps {
        let Action::Io(io) = &step.action else {
            continue;
        };
        let IoEngineSpec::FioJob {
            text,
            file: Some(file),
        } = &io.engine
        else {
            continue;
        };
        let Ok(rel) = file.strip_prefix(dir) else {
            continue; // absolute, allowed by the command line: the same path in the guest
        };
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            continue;
        }
        let to = out.join(rel);
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).map_err(JobError::io("creating", p))?;
        }
        // The text validated, not the file again: it cannot have changed in between.
        fs::write(&to, text).map_err(JobError::io("writing", &to))?;
    }
    Ok(())
}

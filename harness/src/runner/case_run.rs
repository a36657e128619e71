//! One case: its pool built, the steps run on it in order (faults swapped at step
//! starts, kernel lines gathered after each), then torn down in reverse order of
//! construction, with the metadata checked once no pool uses it.

use thinbench_schema::record::{
    CaseResult, EventKind, PoolReport, PoolSettings, Status, StepResult,
};

use super::case::CaseState;
use super::context::RunContext;
use super::pools::PoolFactory;
use super::sampler::Sampler;
use super::{faults, step};
use crate::backend::dm::Dm;
use crate::backend::names::Names;
use crate::backend::PoolBackend;
use crate::env::kmsg::Kmsg;
use crate::record::Recorder;
use crate::spec::{PoolSpec, ScenarioSpec};
use crate::sys::signals;

/// A case as it runs: its state, and where its kernel lines go.
struct CaseRun<'a> {
    rec: &'a Recorder,
    kernel_log: &'a mut String,
    /// Kernel lines already logged.
    logged: usize,
    state: CaseState,
    case_id: String,
}

/// Run case `index` of `plan`: `pool`, built by `pools`.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_case(
    plan: &ScenarioSpec,
    index: usize,
    pool: &PoolSpec,
    ctx: &RunContext,
    names: &Names,
    rec: &Recorder,
    pools: &mut dyn PoolFactory,
    kernel_log: &mut String,
) -> CaseResult {
    let kernel = pools.kernel();
    let mut case = CaseRun {
        rec,
        kernel_log,
        logged: 0,
        state: CaseState {
            kmsg: kernel.then(Kmsg::open),
            scratch: ctx.work_dir.join(pool.name.as_str()),
            names: Some(names.clone()),
            ..Default::default()
        },
        case_id: format!("{}/{}", plan.name, pool.name),
    };
    let _timeout = pool
        .no_space_timeout
        .filter(|_| kernel)
        .map(NoSpaceTimeout::set);
    rec.event(EventKind::CaseStarted {
        case: case.case_id.clone(),
    });
    let mut result = case_result(plan, pool, names, &case.case_id);
    // A fault target the kernel lacks: the case cannot run here, which is a skip, not a
    // pass (and not the pool's failure).
    if kernel && !pool.faults.is_empty() {
        if let Some(why) = unsupported_faults(pool, names, &mut result) {
            result.status = Status::Skipped;
            result.error = Some(format!("skipped: {why}"));
            rec.event(EventKind::Error {
                message: format!("case {} skipped: {why}", case.case_id),
            });
            return case.finished(result);
        }
    }
    case.mark_kernel_clock();
    let built = pools.build(index, pool, ctx, names);
    case.flush_kernel(&[]);
    if let Some(refusal) = pool.refusal {
        super::refused_pool::judge(built, refusal, rec.t_ms(), &mut result);
        return case.finished(result);
    }
    let mut backend = match built {
        Ok(b) => b,
        Err(e) => {
            result.status = Status::Failed;
            result.error = Some(format!("building pool {}: {e}", pool.name));
            rec.event(EventKind::Error {
                message: result.error.clone().unwrap_or_default(),
            });
            return case.finished(result);
        }
    };
    result.pool.device = Some(backend.device());
    let fault_dm = Dm::open().ok();
    if !pool.faults.is_empty() {
        case.state.faults = Some(faults::Scheduler::new(
            backend.fault_layers(),
            rec.clone(),
            pool.name.as_str(),
            case.state.clock.0.clone(),
        ));
    }
    // One sampler for the whole case, through every step and between them, stopped
    // before the teardown takes the pool away.
    let sampler = Sampler::start(
        rec.clone(),
        backend.status_reader(),
        pool.name.to_string(),
        plan.sample_interval,
    );
    case.run_steps(
        plan,
        pool,
        backend.as_mut(),
        fault_dm.as_ref(),
        &sampler,
        &mut result,
    );
    sampler.stop();
    case.tear_down(backend.as_mut(), fault_dm.as_ref(), &mut result);
    case.finished(result)
}

/// The case's result before it runs: the pool as the scenario describes it.
fn case_result(plan: &ScenarioSpec, pool: &PoolSpec, names: &Names, case_id: &str) -> CaseResult {
    let any_step = |action: &str| plan.steps.iter().any(|s| s.action.name() == action);
    CaseResult {
        id: case_id.to_owned(),
        status: Status::Passed,
        pool: PoolReport {
            name: pool.name.to_string(),
            kind: pool.kind.kind(),
            chunk_bytes: pool.chunk.bytes(),
            device: None,
            final_usage: None,
            construction: Vec::new(),
            settings: Some(PoolSettings {
                min_free_space_pct: pool.min_free_space,
                error_if_no_space: pool.no_space == crate::spec::NoSpacePolicy::Error,
                discard_passdown: pool.discard_passdown,
                block_zeroing: pool.block_zeroing,
                deferred_removal: any_step("deferred-removal"),
                deferred_deletion: any_step("deferred-deletion"),
                faults: pool
                    .faults
                    .iter()
                    .map(|f| fault_info(f, names, pool.name.as_str()))
                    .collect(),
            }),
        },
        steps: Vec::new(),
        error: None,
        teardown_errors: Vec::new(),
        metadata_check: None,
        timeline: Vec::new(),
    }
}

/// Why the running kernel cannot run the pool's fault layers, if it cannot; records the
/// targets' versions it has.
fn unsupported_faults(pool: &PoolSpec, names: &Names, result: &mut CaseResult) -> Option<String> {
    crate::backend::fault::load_modules(&pool.faults);
    let dm = Dm::open();
    let targets = dm
        .as_ref()
        .ok()
        .and_then(|dm| dm.targets().ok())
        .unwrap_or_default();
    if let Some(settings) = result.pool.settings.as_mut() {
        for f in &mut settings.faults {
            f.target_version = targets
                .iter()
                .find(|(n, _)| *n == f.target)
                .map(|(_, v)| v.clone());
        }
    }
    let mut probe = |t: &crate::spec::FaultTarget| match &dm {
        Ok(dm) => crate::backend::fault::probe(dm, names, t),
        Err(e) => Err(e.to_string()),
    };
    crate::backend::fault::unsupported(&pool.faults, &targets, &mut probe)
}

impl CaseRun<'_> {
    /// New kernel lines into the run's kernel log and the case's timeline, each at the
    /// time the kernel logged it and with the step it happened in (of `steps`).
    fn flush_kernel(&mut self, steps: &[StepResult]) {
        self.state.drain_kernel();
        for (k, line) in self.state.kernel_lines.iter().enumerate().skip(self.logged) {
            let at_ms = self.state.kernel_at_ms.get(k).copied().flatten();
            let step = at_ms.and_then(|t| step_at(steps, t));
            log_kernel_line(self.rec, self.kernel_log, line, at_ms, step);
            // The timeline keeps the kernel's words on the pool's devices (bounded: a
            // failing device can log thousands of lines).
            if let Some(f) = &self.state.faults {
                if k < MAX_TIMELINE_KERNEL_LINES {
                    f.note("kernel", line.clone());
                }
            }
        }
        self.logged = self.state.kernel_lines.len();
    }

    /// Ties printk time to the run's clock (see [`Kmsg::clock_mark`]); a second mark
    /// checks the first, and the event says how far the two clocks drifted.
    fn mark_kernel_clock(&mut self) {
        let rec = self.rec;
        let Some(m) = self
            .state
            .kmsg
            .as_mut()
            .and_then(|k| k.clock_mark(&|| rec.t_ms()))
        else {
            return;
        };
        let drift_ms = self
            .state
            .kernel_clock
            .map(|first| m.t_ms_before as i64 - first.run_ms(m.usec) as i64);
        rec.event(EventKind::KernelClock {
            usec: m.usec,
            marked_ms: m.t_ms_before,
            uncertainty_ms: m.uncertainty_ms(),
            drift_ms,
        });
        self.state.kernel_clock.get_or_insert(m);
    }

    /// The steps that apply to the pool, in order, until one errors or a stop is asked.
    fn run_steps(
        &mut self,
        plan: &ScenarioSpec,
        pool: &PoolSpec,
        backend: &mut dyn PoolBackend,
        fault_dm: Option<&Dm>,
        sampler: &Sampler,
        result: &mut CaseResult,
    ) {
        for step in plan.steps.iter().filter(|s| s.applies_to(&pool.name)) {
            if signals::stop_requested() {
                result.status = Status::Incomplete;
                break;
            }
            if let (Some(f), Some(dm)) = (&self.state.faults, fault_dm) {
                f.step_starts(dm, &step.name);
                f.note(
                    "step",
                    format!("step {} ({}) starts", step.index, step.name),
                );
            }
            if let (Some(log), Some(dm)) = (backend.pool_log(), fault_dm) {
                // Marks at steps: a replay point names where in the scenario it is.
                let _ = log.mark(dm, &format!("step-{}-{}", step.index, step.name));
            }
            let trigger = self.state.faults.as_ref().and_then(|f| {
                let (switch, usage) = faults::dm_trigger_parts(backend.status_reader()).ok()?;
                f.trigger(switch, usage)
            });
            self.rec.event(EventKind::StepStarted {
                case: self.case_id.clone(),
                index: step.index,
                name: step.name.to_string(),
            });
            sampler.set_step(Some(step.index));
            // A reload changed the pool's settings: later steps see the pool as it is.
            let live = self.state.settings.clone();
            let sr = step::run_step(
                step,
                live.as_ref().unwrap_or(pool),
                backend,
                &mut self.state,
                self.rec,
                Some(sampler),
            );
            sampler.set_step(None);
            if let Some(t) = trigger {
                t.stop();
            }
            if let Some(f) = &self.state.faults {
                if let Some(e) = &sr.error {
                    f.note("error", format!("step {} ({}): {e}", step.index, step.name));
                }
                if let Some(w) = sr.workload.as_ref() {
                    if let Some(e) = &w.first_error {
                        f.note(
                            "error",
                            format!(
                                "step {} ({}): workload: {} error(s), first {e}",
                                step.index, step.name, w.errors
                            ),
                        );
                    }
                }
            }
            result.status = result.status.worst(sr.status);
            self.rec.event(EventKind::StepFinished {
                case: self.case_id.clone(),
                result: Box::new(sr.clone()),
            });
            let failed = sr.status == Status::Failed && sr.error.is_some();
            result.steps.push(sr);
            self.flush_kernel(&result.steps);
            if failed {
                // A step that errored leaves the pool in an unknown state: later steps
                // would only report noise.
                break;
            }
        }
    }

    /// Faults out of force, then the pool torn down and its metadata checked.
    fn tear_down(
        &mut self,
        backend: &mut dyn PoolBackend,
        fault_dm: Option<&Dm>,
        result: &mut CaseResult,
    ) {
        // A device the scenario left suspended is resumed first: the final status, the
        // thins' removal and thin_check would otherwise wait on it,
        // and so would a background workload's IO.
        result
            .teardown_errors
            .extend(super::actions::end_of_case(&*backend, &mut self.state));
        // A background workload the case never waited for (a step failed, or a stop was
        // asked for) ends before the pool goes.
        let abandoned = self.state.abandon_background();
        if !abandoned.is_empty() {
            result.error.get_or_insert_with(|| {
                format!(
                    "background step(s) {} ended without their wait",
                    abandoned.join(", ")
                )
            });
        }
        // Then every mount of the case, last first, before the thins go.
        result.teardown_errors.extend(self.state.fs.unmount_all());
        result.pool.final_usage = backend.status().ok();
        // Faults end before teardown, so the final thin_check reads the device as it is.
        if let (Some(f), Some(dm)) = (&self.state.faults, fault_dm) {
            if let Err(e) = f.end_all(dm, "the case ends") {
                result.teardown_errors.push(e);
            }
        }
        result.pool.construction = backend.construction();
        // A device over thins holds them open: it goes first.
        result
            .teardown_errors
            .extend(self.state.remove_devices_over_thins());
        let (teardown_errors, check) = backend.teardown_with_check();
        result.teardown_errors.extend(teardown_errors);
        // The case's own devices go after the thins that may read them.
        result.teardown_errors.extend(self.state.remove_devices());
        result.metadata_check = Some(check.text());
        self.flush_kernel(&result.steps);
        self.mark_kernel_clock();
        if let Some(f) = &self.state.faults {
            result.timeline = f.timeline();
        }
        if !result.teardown_errors.is_empty() {
            result.status = result.status.worst(Status::Failed);
        }
        if let crate::backend::thin_tools::MetadataCheck::Failed(e) = &check {
            result.status = result.status.worst(Status::Failed);
            result
                .error
                .get_or_insert_with(|| format!("thin_check after teardown: {e}"));
        }
    }

    /// The case's end, in the event stream.
    fn finished(&self, result: CaseResult) -> CaseResult {
        self.rec.event(EventKind::CaseFinished {
            case: self.case_id.clone(),
            status: result.status,
        });
        result
    }
}

fn log_kernel_line(
    rec: &Recorder,
    log: &mut String,
    line: &str,
    at_ms: Option<u64>,
    step: Option<usize>,
) {
    log.push_str(line);
    log.push('\n');
    rec.event(EventKind::KernelLog {
        line: line.to_owned(),
        at_ms,
        step,
    });
}

/// The step whose run (start to end, on the run clock) holds `t_ms`.
fn step_at(steps: &[StepResult], t_ms: u64) -> Option<usize> {
    steps
        .iter()
        .find(|s| (s.started_ms..=s.started_ms + s.duration_ms).contains(&t_ms))
        .map(|s| s.index)
}

/// What the results record of a fault layer.
fn fault_info(
    f: &crate::spec::FaultSpec,
    names: &Names,
    pool: &str,
) -> thinbench_schema::record::FaultInfo {
    use crate::spec::FaultTarget;
    let params = match &f.target {
        FaultTarget::LogWrites(l) => {
            format!("<pool concat> <log device of {} bytes>", l.log_size.0)
        }
        t => crate::backend::fault::table_text(&crate::backend::fault::table(t, "<dev>", 0, true)),
    };
    let dm_name = match f.target {
        FaultTarget::LogWrites(_) => names.dm(pool, "pool-log-writes"),
        _ => names.dm(pool, &crate::backend::fault::part(f.device, &f.target)),
    };
    thinbench_schema::record::FaultInfo {
        device: f.device.as_str().into(),
        target: f.target.dm_target().into(),
        at: f.at.text(),
        until: Some(f.until.text()),
        params: Some(params),
        dm_name,
        target_version: None,
        delay: match &f.target {
            FaultTarget::Delay(d) => Some(thinbench_schema::record::DelayInfo {
                read_ms: d.read_ms,
                write_ms: d.write_ms,
                flush_ms: d.flush_ms,
            }),
            _ => None,
        },
    }
}

/// Kernel lines a case's timeline keeps.
const MAX_TIMELINE_KERNEL_LINES: usize = 200;

/// Sets `dm_thin_pool`'s `no_space_timeout` for a case and restores the old value after:
/// the parameter is global to the kernel.
struct NoSpaceTimeout(Option<String>);

const NO_SPACE_TIMEOUT: &str = "/sys/module/dm_thin_pool/parameters/no_space_timeout";

impl NoSpaceTimeout {
    fn set(d: std::time::Duration) -> NoSpaceTimeout {
        let old = std::fs::read_to_string(NO_SPACE_TIMEOUT).ok();
        let _ = std::fs::write(NO_SPACE_TIMEOUT, d.as_secs().to_string());
        NoSpaceTimeout(old)
    }
}

impl Drop for NoSpaceTimeout {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = std::fs::write(NO_SPACE_TIMEOUT, old.trim());
        }
    }
}

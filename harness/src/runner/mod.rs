//! Runs a plan where the kernel under test is the running kernel (a host with dm, or the
//! guest inside the VM): one case per pool, the steps in order, pool status sampled at
//! each step and periodically, every workload checked by the accounting oracle
//! (`thinbench_model::chunk`), then reverse-order teardown.

mod actions;
mod case;
mod context;
mod crosscheck;
pub mod error;
pub(crate) mod faults;
pub mod pools;
pub(crate) mod sampler;

pub use actions::MOUNT_BASE;
pub use context::RunContext;
pub use pools::{FakePools, KernelPools, PoolFactory};
mod step;

use thinbench_schema::record::{
    CaseResult, EventKind, PoolReport, PoolSettings, RunSummary, ScenarioInfo, Status,
};

use crate::backend::names::Names;
use crate::env::kmsg::Kmsg;
use crate::record::Recorder;
use crate::spec::{PoolSpec, ScenarioSpec};
use crate::sys::signals;

/// Run every case of `plan` on the running kernel's pools; the summary is also written
/// to `out_dir` as it goes.
pub fn run_plan(plan: &ScenarioSpec, ctx: &RunContext, rec: &Recorder) -> RunSummary {
    run_plan_with(plan, ctx, rec, &mut pools::KernelPools)
}

/// [`run_plan`] with the pools `pools` builds (the fake backend in unit tests).
pub fn run_plan_with(
    plan: &ScenarioSpec,
    ctx: &RunContext,
    rec: &Recorder,
    pools: &mut dyn PoolFactory,
) -> RunSummary {
    let names = Names::new(&ctx.run_id);
    let mut summary = RunSummary {
        format_version: thinbench_schema::FORMAT_VERSION,
        run_id: ctx.run_id.clone(),
        scenario: ScenarioInfo {
            name: plan.name.to_string(),
            file: plan.source.display().to_string(),
            description: plan.description.clone(),
        },
        status: Status::Incomplete,
        started_at: ctx.started_at.clone(),
        finished_at: None,
        environment: ctx.env.clone(),
        cases: Vec::new(),
        kernel_problems: Vec::new(),
        error: None,
    };
    let _ = rec.write_summary(&summary);
    rec.event(EventKind::RunStarted {
        run_id: ctx.run_id.clone(),
        scenario: plan.name.to_string(),
    });
    rec.event(EventKind::Environment {
        info: Box::new(ctx.env.clone()),
    });
    let mut kernel_log = String::new();
    let mut overall = Status::Passed;
    for (index, pool) in plan.pools.iter().enumerate() {
        if signals::stop_requested() {
            break;
        }
        let case = run_case(plan, index, pool, ctx, &names, rec, pools, &mut kernel_log);
        overall = overall.worst(case.status);
        summary.cases.push(case);
        let _ = rec.write_summary(&summary);
    }
    let _ = std::fs::write(ctx.out_dir.join("kernel.log"), &kernel_log);
    summary.kernel_problems = kernel_log
        .lines()
        .filter(|l| crate::env::vm::is_kernel_problem(l))
        .map(str::to_owned)
        .collect();
    if !summary.kernel_problems.is_empty() {
        overall = overall.worst(Status::Failed);
        summary.error = Some(format!(
            "the kernel logged {} problem line(s)",
            summary.kernel_problems.len()
        ));
    }
    if signals::stop_requested() {
        overall = Status::Incomplete;
        summary.error = Some(signals::stop_reason());
    }
    summary.status = overall;
    summary.finished_at = Some(now_rfc3339());
    rec.event(EventKind::RunFinished { status: overall });
    let _ = rec.write_summary(&summary);
    summary
}

fn log_kernel_line(rec: &Recorder, log: &mut String, line: &str) {
    log.push_str(line);
    log.push('\n');
    rec.event(EventKind::KernelLog {
        line: line.to_owned(),
    });
}

#[allow(clippy::too_many_arguments)]
fn run_case(
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
    let mut state = case::CaseState {
        kmsg: kernel.then(Kmsg::open),
        scratch: ctx.work_dir.join(pool.name.as_str()),
        ..Default::default()
    };
    let mut logged = 0;
    let flush_kernel =
        |state: &mut case::CaseState, logged: &mut usize, kernel_log: &mut String| {
            state.drain_kernel();
            for line in &state.kernel_lines[*logged..] {
                log_kernel_line(rec, kernel_log, line);
                // The timeline keeps the kernel's words on the pool's devices (bounded:
                // a failing device can log thousands of lines).
                if let Some(f) = &state.faults {
                    if *logged < MAX_TIMELINE_KERNEL_LINES {
                        f.note("kernel", line.clone());
                    }
                }
            }
            *logged = state.kernel_lines.len();
        };
    let _timeout = pool
        .no_space_timeout
        .filter(|_| kernel)
        .map(NoSpaceTimeout::set);
    let case_id = format!("{}/{}", plan.name, pool.name);
    rec.event(EventKind::CaseStarted {
        case: case_id.clone(),
    });
    let mut result = CaseResult {
        id: case_id.clone(),
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
                deferred_removal: plan
                    .steps
                    .iter()
                    .any(|s| s.action.name() == "deferred-removal"),
                deferred_deletion: plan
                    .steps
                    .iter()
                    .any(|s| s.action.name() == "deferred-deletion"),
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
    };
    // A fault target the kernel lacks: the case cannot run here, which is a skip, not a
    // pass (and not the pool's failure).
    if !pool.faults.is_empty() && kernel {
        crate::backend::fault::load_modules(&pool.faults);
        let dm = crate::backend::dm::Dm::open();
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
        if let Some(why) = crate::backend::fault::unsupported(&pool.faults, &targets, &mut probe) {
            result.status = Status::Skipped;
            result.error = Some(format!("skipped: {why}"));
            rec.event(EventKind::Error {
                message: format!("case {case_id} skipped: {why}"),
            });
            rec.event(EventKind::CaseFinished {
                case: case_id,
                status: result.status,
            });
            return result;
        }
    }
    let built = pools.build(index, pool, ctx, names);
    flush_kernel(&mut state, &mut logged, kernel_log);
    let mut backend = match built {
        Ok(b) => b,
        Err(e) => {
            result.status = Status::Failed;
            result.error = Some(format!("building pool {}: {e}", pool.name));
            rec.event(EventKind::Error {
                message: result.error.clone().unwrap_or_default(),
            });
            rec.event(EventKind::CaseFinished {
                case: case_id,
                status: result.status,
            });
            return result;
        }
    };
    result.pool.device = Some(backend.device());
    let fault_dm = crate::backend::dm::Dm::open().ok();
    if !pool.faults.is_empty() {
        state.faults = Some(faults::Scheduler::new(
            backend.fault_layers(),
            rec.clone(),
            pool.name.as_str(),
            state.clock.0.clone(),
        ));
    }
    for step in plan.steps.iter().filter(|s| s.applies_to(&pool.name)) {
        if signals::stop_requested() {
            result.status = Status::Incomplete;
            break;
        }
        if let (Some(f), Some(dm)) = (&state.faults, &fault_dm) {
            f.step_starts(dm, &step.name);
            f.note(
                "step",
                format!("step {} ({}) starts", step.index, step.name),
            );
        }
        if let (Some(log), Some(dm)) = (backend.pool_log(), &fault_dm) {
            // Marks at steps: a replay point names where in the scenario it is.
            let _ = log.mark(dm, &format!("step-{}-{}", step.index, step.name));
        }
        let trigger = state.faults.as_ref().and_then(|f| {
            let (switch, usage) = faults::dm_trigger_parts(backend.status_reader()).ok()?;
            f.trigger(switch, usage)
        });
        rec.event(EventKind::StepStarted {
            case: case_id.clone(),
            index: step.index,
            name: step.name.to_string(),
        });
        let sr = step::run_step(step, pool, backend.as_mut(), &mut state, rec);
        if let Some(t) = trigger {
            t.stop();
        }
        if let Some(f) = &state.faults {
            if let Some(e) = &sr.error {
                f.note("error", format!("step {} ({}): {e}", step.index, step.name));
            }
            if let Some(e) = sr.workload.as_ref().and_then(|w| w.first_error.as_ref()) {
                f.note(
                    "error",
                    format!(
                        "step {} ({}): workload: {} error(s), first {e}",
                        step.index,
                        step.name,
                        sr.workload.as_ref().map_or(0, |w| w.errors)
                    ),
                );
            }
        }
        flush_kernel(&mut state, &mut logged, kernel_log);
        result.status = result.status.worst(sr.status);
        rec.event(EventKind::StepFinished {
            case: case_id.clone(),
            result: Box::new(sr.clone()),
        });
        let failed = sr.status == Status::Failed && sr.error.is_some();
        result.steps.push(sr);
        if failed {
            // A step that errored leaves the pool in an unknown state: later steps would
            // only report noise.
            break;
        }
    }
    result.pool.final_usage = backend.status().ok();
    // Faults end before teardown, so the final thin_check reads the device as it is.
    if let (Some(f), Some(dm)) = (&state.faults, &fault_dm) {
        if let Err(e) = f.end_all(dm, "the case ends") {
            result.teardown_errors.push(e);
        }
    }
    result.pool.construction = backend.construction();
    let (teardown_errors, check) = backend.teardown_with_check();
    result.teardown_errors.extend(teardown_errors);
    result.metadata_check = Some(check.text());
    flush_kernel(&mut state, &mut logged, kernel_log);
    if let Some(f) = &state.faults {
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
    rec.event(EventKind::CaseFinished {
        case: case_id,
        status: result.status,
    });
    result
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

/// Current time as RFC 3339 (UTC), to the second: `2026-11-23T08:05:09Z`.
pub fn now_rfc3339() -> String {
    rfc3339_seconds(jiff::Timestamp::now())
}

/// `t` as RFC 3339 (UTC) truncated to the second, the shape every record uses.
fn rfc3339_seconds(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A new run id: `YYYYMMDDTHHMMSS-xxxx` (UTC time + 4 hex of pid/time entropy).
pub fn new_run_id() -> String {
    run_id_at(jiff::Timestamp::now(), std::process::id())
}

fn run_id_at(t: jiff::Timestamp, pid: u32) -> String {
    let x = (t.subsec_nanosecond() as u32 ^ pid.rotate_left(16)) & 0xffff;
    format!("{}-{x:04x}", t.strftime("%Y%m%dT%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates() {
        let t = |s: i64, ns: i32| jiff::Timestamp::new(s, ns).unwrap();
        assert_eq!(rfc3339_seconds(t(0, 0)), "1970-01-01T00:00:00Z");
        // 2026-11-23 is day 20,780; sub-seconds are cut, never rounded up.
        let late = t(20_780 * 86_400 + 8 * 3600 + 5 * 60 + 9, 999_999_999);
        assert_eq!(rfc3339_seconds(late), "2026-11-23T08:05:09Z");
        assert_eq!(run_id_at(late, 0), "20261123T080509-c9ff");
        assert_eq!(run_id_at(t(-86_400, 0), 0), "19691231T000000-0000");
        let id = new_run_id();
        assert_eq!(id.len(), 20, "{id}");
        assert_eq!(
            crate::backend::names::run_id_of(&format!("tb-{id}-p-pool")),
            Some(id.as_str())
        );
    }
    #[test]
    fn idents_unused() {
        let _ = thinbench_schema::ids::Ident::new("x");
    }
}

#[cfg(test)]
mod fake_runs;

//! Runs a plan where the kernel under test is the running kernel (a host with dm, or the
//! guest inside the VM): one case per pool, the steps in order, pool status sampled at
//! each step and periodically, every workload checked by the accounting oracle
//! (`thinbench_model::chunk`), then reverse-order teardown.

mod actions;
mod await_mode;
mod background;
mod case;
mod case_run;
mod context;
mod control_state;
mod crosscheck;
mod discard_checks;
pub mod error;
pub(crate) mod faults;
mod fragmentation;
mod fs_layout;
mod fs_state;
mod generated_metadata;
mod iostat;
pub mod pools;
pub(crate) mod sampler;
mod tool_checks;

pub use actions::MOUNT_BASE;
pub use context::RunContext;
pub use pools::{FakePools, KernelPools, PoolFactory};
mod refused_pool;
mod step;

use thinbench_schema::record::{EventKind, RunSummary, ScenarioInfo, Status};

use crate::backend::names::Names;
use crate::record::Recorder;
use crate::spec::ScenarioSpec;
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
        let case = case_run::run_case(plan, index, pool, ctx, &names, rec, pools, &mut kernel_log);
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

//! One step of one case: status before and after, the action, the accounting oracle, the
//! scenario's expectations.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{
    EventKind, ExpectationResult, PoolMode, PoolSample, PoolUsage, Status, StepResult,
};
use thinbench_schema::units::Bytes;
use thinbench_workloads::model::PoolModel;

use super::actions::{self, StepCtx};
use crate::backend::PoolBackend;
use crate::plan::{BlockCount, Expect, PoolSpec, StepSpec};
use crate::record::Recorder;

/// A write as the integrity oracle remembers it: offset, length, generation.
pub type LoggedWrite = (Bytes, Bytes, u64);

/// What a case carries from step to step.
#[derive(Default)]
pub struct CaseState {
    /// The accounting oracle (created at the first step, sized from the real pool).
    pub model: Option<PoolModel>,
    /// Chunks written per thin by this run (snapshots inherit the origin's set): the
    /// independent count behind `chunks-touched`.
    pub written: BTreeMap<Ident, BTreeSet<u64>>,
    /// Acknowledged writes per thin, oldest first (snapshots inherit their origin's),
    /// for the integrity oracle.
    pub log: BTreeMap<Ident, Vec<LoggedWrite>>,
    /// Last generation handed out; each workload phase gets a new one.
    pub generation: u64,
    /// Last pool mode seen.
    pub last_mode: Option<PoolMode>,
    /// The kernel log reader (opened when the case starts).
    pub kmsg: Option<crate::env::kmsg::Kmsg>,
    /// Every kernel log line seen during the case.
    pub kernel_lines: Vec<String>,
    /// Data blocks the kernel allocated and committed for writes that then failed when
    /// the metadata ran out (`metadata-fill`): counted by the pool, mapped by no thin,
    /// so in no model. The whole-pool accounting checks add them.
    pub leaked_data_blocks: u64,
    /// The case's scratch directory (under the run's work dir, so its path carries the
    /// run id): filesystems of `delete` steps are mounted below it.
    pub scratch: std::path::PathBuf,
}

impl CaseState {
    /// Read new kernel log lines into `kernel_lines`; returns how many arrived.
    pub fn drain_kernel(&mut self) -> usize {
        let new = self.kmsg.as_mut().map(|k| k.drain()).unwrap_or_default();
        let n = new.len();
        self.kernel_lines.extend(new);
        n
    }

    /// A fresh generation number for a phase's writes.
    pub fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

fn sample(rec: &Recorder, pool: &str, step: Option<usize>, reason: &str, u: &PoolUsage) {
    rec.sample(&PoolSample::from_usage(rec.t_ms(), pool, step, reason, u));
}

/// An expectation check that names the step and both numbers when it fails.
pub fn check(what: &str, expected: String, observed: String, step: &StepSpec) -> ExpectationResult {
    let ok = expected == observed;
    ExpectationResult {
        message: (!ok).then(|| {
            format!(
                "step {} ({}): {what}: expected {expected}, observed {observed}",
                step.index, step.name
            )
        }),
        what: what.to_owned(),
        expected,
        observed,
        status: if ok { Status::Passed } else { Status::Failed },
    }
}

/// Run one step.
pub fn run_step(
    step: &StepSpec,
    pool: &PoolSpec,
    backend: &mut dyn PoolBackend,
    state: &mut CaseState,
    rec: &Recorder,
) -> StepResult {
    let started = Instant::now();
    let mut r = StepResult {
        index: step.index,
        name: step.name.to_string(),
        action: step.action.name().to_owned(),
        status: Status::Passed,
        started_ms: rec.t_ms(),
        duration_ms: 0,
        pool_before: None,
        pool_after: None,
        data_blocks_allocated: None,
        workload: None,
        phases: Vec::new(),
        metrics: Vec::new(),
        expectations: Vec::new(),
        error: None,
    };
    let pname = pool.name.as_str();
    r.pool_before = backend.status().ok();
    if let Some(u) = &r.pool_before {
        sample(rec, pname, Some(step.index), "step-start", u);
        if state.model.is_none() {
            state.model = Some(PoolModel::new(pool.chunk, u.data_total));
        }
    }
    let outcome = if state.model.is_none() {
        Err("pool status unreadable at the first step".to_owned())
    } else {
        let mut ctx = StepCtx {
            step,
            pool,
            backend: &mut *backend,
            state: &mut *state,
            rec,
        };
        actions::run(&mut ctx)
    };
    r.pool_after = backend.status().ok();
    if let Some(u) = &r.pool_after {
        sample(rec, pname, Some(step.index), "step-end", u);
        rec.event(EventKind::PoolStatus {
            pool: pname.to_owned(),
            usage: Box::new(u.clone()),
        });
        if let Some(prev) = state.last_mode {
            if prev != u.mode {
                rec.event(EventKind::ModeChange {
                    pool: pname.to_owned(),
                    from: prev,
                    to: u.mode,
                });
            }
        }
        state.last_mode = Some(u.mode);
    }
    if let (Some(b), Some(a)) = (&r.pool_before, &r.pool_after) {
        r.data_blocks_allocated = Some(a.data_used.0 as i64 - b.data_used.0 as i64);
    }
    let wanted_error = step.expect.iter().find_map(|x| match x {
        Expect::ErrorContains(t) => Some(t.clone()),
        _ => None,
    });
    match outcome {
        // A refusal the scenario asked for: the step did what it should.
        Err(e)
            if wanted_error
                .as_ref()
                .is_some_and(|w| e.contains(w.as_str())) =>
        {
            let w = wanted_error.unwrap_or_default();
            r.expectations.push(check(
                "step fails with an error containing",
                w.clone(),
                w,
                step,
            ));
            if let (Some(b), Some(a)) = (&r.pool_before, &r.pool_after) {
                r.expectations.push(check(
                    "a refused step changes nothing",
                    b.data_used.0.to_string(),
                    a.data_used.0.to_string(),
                    step,
                ));
            }
            r.status = if r.expectations.iter().all(|x| x.status == Status::Passed) {
                Status::Passed
            } else {
                Status::Failed
            };
            r.error = Some(e);
        }
        Err(e) => {
            r.status = Status::Failed;
            r.error = Some(e);
        }
        Ok(out) => {
            let mut crosscheck_ms = None;
            let observed = r
                .data_blocks_allocated
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unknown".into());
            if let Some(p) = out.predicted {
                // The accounting oracle: the model's prediction, always checked. A note
                // says where the model's figure comes from when it is not a prediction.
                let what = match &out.predicted_note {
                    Some(n) => format!("data blocks allocated == model ({n})"),
                    None => "data blocks allocated == model".to_owned(),
                };
                r.expectations
                    .push(check(&what, p.to_string(), observed.clone(), step));
                // Per thin, the kernel's own metadata (thin_ls) against the model. Its
                // cost is recorded: under TCG every pool message is a metadata commit.
                let t = Instant::now();
                r.expectations.push(super::crosscheck::thin_ls(
                    &*backend,
                    state,
                    r.pool_after.as_ref(),
                    step,
                ));
                crosscheck_ms = Some(t.elapsed().as_millis() as f64);
            }
            r.expectations.extend(out.checks);
            for e in &step.expect {
                r.expectations.push(match e {
                    Expect::DataBlocksAllocated(BlockCount::Exact(n)) => check(
                        "data blocks allocated",
                        n.to_string(),
                        observed.clone(),
                        step,
                    ),
                    Expect::DataBlocksAllocated(BlockCount::ChunksTouched) => {
                        let touched = out
                            .first_touched
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "n/a (not a workload step)".into());
                        check(
                            "data blocks allocated == distinct chunks first touched",
                            touched,
                            observed.clone(),
                            step,
                        )
                    }
                    Expect::Mode(m) => check(
                        "pool mode",
                        m.as_str().to_owned(),
                        r.pool_after
                            .as_ref()
                            .map(|u| u.mode.as_str().to_owned())
                            .unwrap_or_else(|| "unknown".into()),
                        step,
                    ),
                    Expect::NeedsCheck(b) => check(
                        "pool needs_check flag",
                        b.to_string(),
                        r.pool_after
                            .as_ref()
                            .map(|u| u.needs_check.to_string())
                            .unwrap_or_else(|| "unknown".into()),
                        step,
                    ),
                    Expect::ErrorContains(w) => check(
                        "step fails with an error containing",
                        w.clone(),
                        "no error".into(),
                        step,
                    ),
                    Expect::FirstError(errno) => check(
                        "first workload error",
                        errno.clone(),
                        out.workload
                            .as_ref()
                            .and_then(|w| w.first_error.as_deref())
                            .map(|e| e.split(':').next().unwrap_or(e).to_owned())
                            .unwrap_or_else(|| "none".into()),
                        step,
                    ),
                    Expect::Errors(n) => check(
                        "workload IO errors",
                        n.to_string(),
                        out.workload
                            .as_ref()
                            .map(|w| w.errors.to_string())
                            .unwrap_or_else(|| "n/a".into()),
                        step,
                    ),
                });
            }
            r.workload = out.workload;
            r.phases = out.phases;
            r.metrics = out.metrics;
            if let Some(ms) = crosscheck_ms {
                r.metrics.push(actions::metric(
                    "oracle.thin_ls_ms",
                    ms,
                    "ms",
                    thinbench_schema::record::MetricKind::Timing,
                    thinbench_schema::record::Better::Lower,
                ));
            }
            if r.expectations.iter().any(|e| e.status == Status::Failed) {
                r.status = Status::Failed;
            }
        }
    }
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

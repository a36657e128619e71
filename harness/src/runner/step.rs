//! One step of one case: status before and after, the action, the accounting oracle, the
//! scenario's expectations.

use std::time::Instant;

use thinbench_model::chunk::PoolModel;
use thinbench_schema::record::{
    EventKind, ExpectationResult, PoolMode, PoolUsage, Status, StepResult,
};

use super::actions::{self, ActionOutput, StepCtx};
use super::case::{check, sample, verdict, CaseState};
use super::discard_checks;
use super::error::StepError;
use super::iostat;
use super::sampler::Sampler;
use crate::backend::iostat::PoolIo;
use crate::backend::PoolBackend;
use crate::record::Recorder;
use crate::spec::{BlockCount, Expect, PoolSpec, StepSpec};

/// Run one step.
pub fn run_step(
    step: &StepSpec,
    pool: &PoolSpec,
    backend: &mut dyn PoolBackend,
    state: &mut CaseState,
    rec: &Recorder,
    sampler: Option<&Sampler>,
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
        io_not_measured: None,
    };
    let pname = pool.name.as_str();
    let kernel_from = state.kernel_lines.len();
    // `await_mode`: the step begins (its "before") once the pool is in that mode.
    let awaited = super::await_mode::until(step, &*backend, state);
    r.pool_before = backend.status().ok();
    if let Some(u) = &r.pool_before {
        sample(rec, pname, Some(step.index), "step-start", u);
        if state.model.is_none() {
            state.model = Some(PoolModel::new(pool.chunk, u.data_total));
        }
    }
    // The IO counters closest around the action: the status reads (noflush) do no IO,
    // and the thin_ls cross-check below runs after the second reading.
    let io_before = iostat::read(&*backend);
    let lower_before = backend.lower_status().unwrap_or_default();
    let outcome = if state.model.is_none() {
        Err(StepError::from("pool status unreadable at the first step"))
    } else if let Err(e) = awaited {
        Err(e)
    } else {
        let mut ctx = StepCtx {
            step,
            pool,
            backend: &mut *backend,
            state: &mut *state,
            rec,
            sampler,
        };
        actions::run(&mut ctx)
    };
    let io_after = iostat::read(&*backend);
    let lower_after = backend.lower_status().unwrap_or_default();
    // The pools below (`stacked_levels`): what each allocated over the step, an exact
    // figure; the level right below is what `lower_data_blocks_allocated` expects.
    let lower: Vec<i64> = lower_before
        .iter()
        .zip(&lower_after)
        .map(|(b, a)| a.data_used.0 as i64 - b.data_used.0 as i64)
        .collect();
    for (k, d) in lower.iter().enumerate() {
        r.metrics.push(actions::metric(
            &format!("lower{}.data_blocks_allocated", k + 1),
            *d as f64,
            "blocks",
            thinbench_schema::record::MetricKind::Exact,
            thinbench_schema::record::Better::Neither,
        ));
    }
    r.pool_after = backend.status().ok();
    if let Some(u) = &r.pool_after {
        status_after(rec, pname, step, state, u);
    }
    if let (Some(b), Some(a)) = (&r.pool_before, &r.pool_after) {
        r.data_blocks_allocated = Some(a.data_used.0 as i64 - b.data_used.0 as i64);
    }
    state.drain_kernel();
    let step_kernel: Vec<String> = state.kernel_lines[kernel_from..].to_vec();
    if let Some(f) = &state.faults {
        if let Some(e) = f.take_error() {
            r.expectations.push(ExpectationResult {
                what: "the fault schedule is kept".into(),
                expected: "every swap done".into(),
                observed: e.clone(),
                status: Status::Failed,
                message: Some(format!("step {} ({}): {e}", step.index, step.name)),
            });
            r.status = Status::Failed;
        }
    }
    match outcome {
        Err(e) => {
            refused(&mut r, &e, step, &step_kernel);
            if r.status == Status::Passed || !r.expectations.is_empty() {
                // The step's other expectations hold of a refused step too: what the
                // pool is after it (mode, flags, mappings, counters) is checked as after
                // any step, with no action output behind it.
                let observed = r
                    .data_blocks_allocated
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "unknown".into());
                let seen = Observed {
                    after: r.pool_after.as_ref(),
                    step_kernel: &step_kernel,
                    allocated: &observed,
                    lower: lower.first().copied(),
                };
                let none = ActionOutput::default();
                let io = (&io_before, &io_after);
                for x in &step.expect {
                    if let Expect::Error(_) | Expect::ErrorContains(_) | Expect::KernelLog(_) = x {
                        continue;
                    }
                    r.expectations
                        .push(after_step(x, &none, &seen, &*backend, io, step));
                }
                if r.expectations.iter().any(|x| x.status == Status::Failed) {
                    r.status = Status::Failed;
                }
            }
        }
        Ok(mut out) => {
            if let (Some(used), Some(b)) = (out.model_used_after, &r.pool_before) {
                let leaked = state.leaked_data_blocks as i64;
                out.predicted = Some(used as i64 + leaked - b.data_used.0 as i64);
            }
            let observed = r
                .data_blocks_allocated
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unknown".into());
            let crosscheck = oracle(&mut r, &out, &*backend, state, step, &observed);
            r.expectations.extend(out.checks.iter().cloned());
            let seen = Observed {
                after: r.pool_after.as_ref(),
                step_kernel: &step_kernel,
                allocated: &observed,
                lower: lower.first().copied(),
            };
            let io = (&io_before, &io_after);
            let checked: Vec<_> = step
                .expect
                .iter()
                .map(|e| after_step(e, &out, &seen, &*backend, io, step))
                .collect();
            r.expectations.extend(checked);
            r.workload = out.workload;
            r.phases = out.phases;
            r.metrics.extend(out.metrics);
            if let Some((ms, io)) = crosscheck {
                r.metrics.push(actions::metric(
                    "oracle.thin_ls_ms",
                    ms,
                    "ms",
                    thinbench_schema::record::MetricKind::Timing,
                    thinbench_schema::record::Better::Lower,
                ));
                r.metrics.extend(io);
            }
            if r.expectations.iter().any(|e| e.status == Status::Failed) {
                r.status = Status::Failed;
            }
        }
    }
    match (io_before, io_after) {
        (Ok(b), Ok(a)) => {
            let (m, note) = iostat::metrics(&b, &a, r.workload.as_ref());
            r.metrics.extend(m);
            r.io_not_measured = note;
        }
        (Err(e), _) | (_, Err(e)) => r.io_not_measured = Some(e),
    }
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

/// The status after the step: its sample, its event, and a mode change if there was one.
fn status_after(
    rec: &Recorder,
    pname: &str,
    step: &StepSpec,
    state: &mut CaseState,
    u: &PoolUsage,
) {
    sample(rec, pname, Some(step.index), "step-end", u);
    rec.event(EventKind::PoolStatus {
        pool: pname.to_owned(),
        usage: Box::new(u.clone()),
    });
    if let Some(prev) = state.last_mode.filter(|m| *m != u.mode) {
        if let Some(f) = &state.faults {
            f.note(
                "mode",
                format!(
                    "pool {} → {}{}",
                    prev.as_str(),
                    u.mode.as_str(),
                    if u.needs_check { " (needs_check)" } else { "" }
                ),
            );
        }
        rec.event(EventKind::ModeChange {
            pool: pname.to_owned(),
            from: prev,
            to: u.mode,
        });
    }
    state.last_mode = Some(u.mode);
}

/// One expectation after the step: those that read the kernel (mappings, the devices'
/// counters) from it, the rest from the step's record and its action's output.
fn after_step(
    e: &Expect,
    out: &ActionOutput,
    seen: &Observed<'_>,
    backend: &dyn PoolBackend,
    (before, after): (&Result<PoolIo, String>, &Result<PoolIo, String>),
    step: &StepSpec,
) -> ExpectationResult {
    match e {
        Expect::Mapped(want) => discard_checks::mapped(want, backend, step),
        Expect::DataDiscardBytes(want) => {
            discard_checks::data_discard_bytes(*want, before, after, step)
        }
        Expect::MetadataWritten(want) => {
            discard_checks::metadata_written(*want, before, after, step)
        }
        _ => expectation(e, out, seen, step),
    }
}

/// A step that failed. A refusal the scenario asked for (`expect.error`,
/// `expect.error_contains`) passes if the error is the one expected and the step changed
/// nothing; any other error fails the step.
fn refused(r: &mut StepResult, e: &StepError, step: &StepSpec, step_kernel: &[String]) {
    r.error = Some(e.to_string());
    let wanted_text = step.expect.iter().find_map(|x| match x {
        Expect::ErrorContains(t) => Some(t.clone()),
        _ => None,
    });
    let wanted_kind = step.expect.iter().find_map(|x| match x {
        Expect::Error(k) => Some(*k),
        _ => None,
    });
    if wanted_kind.is_none() && wanted_text.is_none() {
        r.status = Status::Failed;
        return;
    }
    if let Some(k) = wanted_kind {
        r.expectations.push(check(
            "step fails with an error of kind",
            k.name().to_owned(),
            e.kind().name().to_owned(),
            step,
        ));
    }
    if let Some(w) = wanted_text {
        let text = e.to_string();
        let found = text.contains(w.as_str());
        let observed = if found { w.clone() } else { text };
        r.expectations.push(verdict(
            "step fails with an error containing",
            w,
            observed,
            found,
            step,
        ));
    }
    // The kernel's reason for the refusal, when the step names it.
    for text in step.expect.iter().filter_map(|x| match x {
        Expect::KernelLog(t) => Some(t),
        _ => None,
    }) {
        let hit = step_kernel.iter().find(|l| l.contains(text.as_str()));
        r.expectations.push(verdict(
            "a kernel log line contains",
            text.clone(),
            hit.cloned().unwrap_or_else(|| {
                format!("none of {} line(s) during the step", step_kernel.len())
            }),
            hit.is_some(),
            step,
        ));
    }
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
}

/// The accounting oracle: the model's prediction against the pool's change, and per thin
/// the pool's own metadata (`thin_ls`) against the model. Returns what `thin_ls` cost:
/// its time, and the metadata-device IO it caused (outside the step's `io.*` window).
fn oracle(
    r: &mut StepResult,
    out: &ActionOutput,
    backend: &dyn PoolBackend,
    state: &CaseState,
    step: &StepSpec,
    observed: &str,
) -> Option<(f64, Vec<thinbench_schema::record::Metric>)> {
    let mut crosscheck = None;
    // A background workload writes meanwhile: what the pool allocated over this step is
    // not this step's alone, and the model learns those writes at the wait.
    if let Some(bg) = state.in_flight() {
        // How many still run as the step ends (the rest ended, not yet waited for): a
        // step beside running IO shows it here.
        let running = state
            .background
            .values()
            .filter(|j| j.handle.as_ref().is_some_and(|h| !h.is_finished()))
            .count();
        r.metrics.push(actions::metric(
            "background.running",
            running as f64,
            "steps",
            thinbench_schema::record::MetricKind::Timing,
            thinbench_schema::record::Better::Neither,
        ));
        let observed = format!("skipped: background step `{bg}` writes until its wait, which checks the pool against the model (observed {observed})");
        r.expectations.push(ExpectationResult {
            what: "data blocks allocated == model".into(),
            expected: out
                .predicted
                .map_or_else(|| "n/a".to_owned(), |p| p.to_string()),
            observed,
            status: Status::Skipped,
            message: None,
        });
        return None;
    }
    // Under a fault that drops or damages writes, the on-disk metadata is not the
    // pool's (thin_ls reads the disk), and a transaction the pool aborted takes
    // its allocations since the last commit with it: the model cannot know which,
    // so these checks are skipped, saying why; a `reboot` resyncs the model.
    let at_risk = state
        .faults
        .as_ref()
        .is_some_and(|f| f.damage_since().is_some());
    let live = |u: &Option<PoolUsage>| {
        u.as_ref()
            .is_some_and(|u| matches!(u.mode, PoolMode::Rw | PoolMode::OutOfDataSpace))
    };
    let aborted = at_risk && live(&r.pool_before) && !live(&r.pool_after);
    if let (Some(p), true) = (out.predicted, aborted) {
        r.expectations.push(ExpectationResult {
            what: "data blocks allocated == model".into(),
            expected: p.to_string(),
            observed: format!("skipped: the pool aborted its transaction under a fault (now {}): what it allocated since the last commit is gone, observed {observed}", r.pool_after.as_ref().map_or("unknown", |u| u.mode.as_str())),
            status: Status::Skipped,
            message: None,
        });
    } else if let Some(p) = out.predicted {
        // The accounting oracle: the model's prediction, always checked. A note
        // says where the model's figure comes from when it is not a prediction.
        let what = match &out.predicted_note {
            Some(n) => format!("data blocks allocated == model ({n})"),
            None => "data blocks allocated == model".to_owned(),
        };
        r.expectations
            .push(check(&what, p.to_string(), observed.to_owned(), step));
        if state.control.metadata_snap_held {
            r.expectations.push(ExpectationResult {
                what: "thin_ls agrees with the model".into(),
                expected: "per-thin blocks as the model has them".into(),
                observed: "skipped: the scenario holds the pool's metadata snapshot (reserve_metadata_snap), and thin_ls reserves one of its own".into(),
                status: Status::Skipped,
                message: None,
            });
        } else if at_risk {
            r.expectations.push(ExpectationResult {
            what: "thin_ls agrees with the model".into(),
            expected: "per-thin blocks as the model has them".into(),
            observed: "skipped: a fault that drops or damages writes is in force, so the metadata on disk (what thin_ls reads) is not the pool's".into(),
            status: Status::Skipped,
            message: None,
        });
        } else {
            // Per thin, the kernel's own metadata (thin_ls) against the model. Its
            // cost is recorded: under TCG every pool message is a metadata commit.
            let t = Instant::now();
            let io_before = iostat::read(backend);
            let (x, (trees, walk_failed)) =
                super::crosscheck::thin_ls(backend, state, r.pool_after.as_ref(), step);
            r.expectations.push(x);
            r.expectations.extend(walk_failed);
            let ms = t.elapsed().as_millis() as f64;
            let mut io = match (io_before, iostat::read(backend)) {
                (Ok(b), Ok(a)) => iostat::crosscheck_metrics(&b, &a),
                _ => Vec::new(),
            };
            io.extend(trees);
            crosscheck = Some((ms, io));
        }
    }
    crosscheck
}

/// What a step's expectations are checked against, beside its action's output.
struct Observed<'a> {
    /// The pool's status after the step.
    after: Option<&'a PoolUsage>,
    /// Kernel log lines during the step.
    step_kernel: &'a [String],
    /// Data blocks the pool allocated over the step, as shown.
    allocated: &'a str,
    /// Data blocks the pool right below allocated (`stacked_levels`).
    lower: Option<i64>,
}

/// One of the scenario's `[step.expect]` entries, checked against what the step did.
fn expectation(
    e: &Expect,
    out: &ActionOutput,
    seen: &Observed<'_>,
    step: &StepSpec,
) -> ExpectationResult {
    let (after, step_kernel, observed) = (seen.after, seen.step_kernel, seen.allocated);
    match e {
        Expect::LowerDataBlocksAllocated(n) => check(
            "data blocks allocated by the pool below",
            n.to_string(),
            seen.lower.map_or_else(
                || "n/a (no pool below this one: stacked_levels)".into(),
                |d| d.to_string(),
            ),
            step,
        ),
        Expect::DataBlocksAllocated(BlockCount::Exact(n)) => check(
            "data blocks allocated",
            n.to_string(),
            observed.to_owned(),
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
                observed.to_owned(),
                step,
            )
        }
        Expect::Mode(m) => check(
            "pool mode",
            m.as_str().to_owned(),
            after
                .map(|u| u.mode.as_str().to_owned())
                .unwrap_or_else(|| "unknown".into()),
            step,
        ),
        Expect::NeedsCheck(b) => check(
            "pool needs_check flag",
            b.to_string(),
            after
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
        Expect::Error(k) => check(
            "step fails with an error of kind",
            k.name().to_owned(),
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
        Expect::P50AtLeast(d) => {
            let p50 = out.workload.as_ref().map(|w| w.latency.p50_ns);
            let shown = |ns: u64| format!("{:.2} ms", ns as f64 / 1e6);
            verdict(
                "workload p50 latency",
                format!(">= {}", shown(d.as_nanos() as u64)),
                p50.map(shown).unwrap_or_else(|| "n/a".into()),
                p50.is_some_and(|p| u128::from(p) >= d.as_nanos()),
                step,
            )
        }
        Expect::TransactionId(n) => check(
            "pool transaction id",
            n.to_string(),
            after
                .map(|u| u.transaction_id.to_string())
                .unwrap_or_else(|| "unknown".into()),
            step,
        ),
        // Read from the kernel by `run_step` (discard_checks).
        Expect::Mapped(_) | Expect::DataDiscardBytes(_) | Expect::MetadataWritten(_) => check(
            "discard expectation",
            "checked from the kernel".into(),
            "not checked".into(),
            step,
        ),
        Expect::KernelLog(text) => {
            let hit = step_kernel.iter().find(|l| l.contains(text.as_str()));
            verdict(
                "a kernel log line contains",
                text.clone(),
                hit.cloned().unwrap_or_else(|| {
                    format!("none of {} line(s) during the step", step_kernel.len())
                }),
                hit.is_some(),
                step,
            )
        }
    }
}

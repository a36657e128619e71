//! Background steps: a `small-write` with `background = true` starts its workload on a
//! thread of its own and returns (a `file` write: `fs_background.rs`); the `wait` naming it joins it, and only then does the
//! case learn its writes (model, integrity log) and check them, so the oracles of a wait
//! are those of a step that ran the workload itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use thinbench_schema::ids::Ident;
use thinbench_workloads::small_write;

use super::ctx::{ActionOutput, StepCtx};
use super::write::{absorb, first_touched, phase_params, small_write_phase, verify_thin};
use crate::runner::background::{BackgroundJob, Outcome};
use crate::runner::error::StepError;
use crate::spec::SmallWriteSpec;
use crate::sys::signals;

/// A `small-write` with `background = true`: starts its phase for the step's `wait`.
pub fn start(ctx: &mut StepCtx<'_>, w: &SmallWriteSpec) -> Result<ActionOutput, StepError> {
    let ph = &small_write_phase(ctx, w)?;
    let thin = ctx
        .backend
        .thin(&ph.thin)
        .ok_or_else(|| format!("no thin {}", ph.thin))?
        .clone();
    let generation = ctx.state.next_generation();
    let params = phase_params(ctx, ph, generation);
    // Opened here, so a thin that cannot be opened fails this step, not its wait.
    let mut dev = thinbench_workloads::engine::Device::open(thin.node(), true)?;
    let mut meter = ctx.state.written_meter();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let handle = std::thread::Builder::new()
        .name(format!("bg-{}", ctx.step.name))
        .spawn(move || {
            let out = small_write::run(
                &mut dev,
                &params,
                &mut |p: small_write::Progress| {
                    meter.progress(p.bytes.0);
                    // SIGINT/SIGTERM end the run: the main thread stops at its step, this
                    // thread at its next IO.
                    if signals::stop_requested() {
                        flag.store(true, Ordering::SeqCst);
                    }
                },
                &flag,
            );
            out.inspect(|o| meter.progress(o.stats.bytes.0))
                .map(|o| Outcome::Blocks(Box::new(o)))
                .map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot start the background workload: {e}"))?;
    ctx.state.background.insert(
        ctx.step.name.clone(),
        BackgroundJob {
            step: ctx.step.name.clone(),
            index: ctx.step.index,
            thin: ph.thin.clone(),
            thin_id: thin.id,
            generation,
            stop,
            handle: Some(handle),
            file: None,
        },
    );
    Ok(ActionOutput::default())
}

/// `wait`: the background step's workload ends; its writes go into the model and the
/// integrity log, and are read back.
pub fn wait(ctx: &mut StepCtx<'_>, step: &Ident) -> Result<ActionOutput, StepError> {
    let mut job = ctx
        .state
        .background
        .remove(step)
        .ok_or_else(|| format!("no background step {step} in flight"))?;
    // Whether the workload still ran as its wait began: 1 shows the steps between ran
    // beside its IO, not after it.
    let running = job.handle.as_ref().is_some_and(|h| !h.is_finished());
    let running = super::ctx::metric(
        "background.running_at_wait",
        f64::from(u8::from(running)),
        "bool",
        thinbench_schema::record::MetricKind::Timing,
        thinbench_schema::record::Better::Neither,
    );
    let out = job
        .join()
        .map_err(|e| format!("background step {} ({step}): {e}", job.index))?;
    let out = match out {
        Outcome::Blocks(out) => *out,
        Outcome::File(w) => {
            let mut out = super::fs_background::finish(ctx, job, w)?;
            out.metrics.push(running);
            return Ok(out);
        }
    };
    if out.interrupted {
        return Err("interrupted".into());
    }
    absorb(ctx, &job.thin, job.thin_id, &out, job.generation)?;
    let first = first_touched(ctx, &job.thin, &out.chunks_touched);
    let check = verify_thin(
        ctx,
        &job.thin,
        &format!("{} after background step {step}", job.thin),
    )?;
    let used = ctx.state.model.as_ref().map(|m| m.data_blocks_used().0);
    Ok(ActionOutput {
        first_touched: Some(first),
        workload: Some(out.stats),
        checks: vec![check],
        model_used_after: used,
        metrics: vec![running],
        ..Default::default()
    })
}

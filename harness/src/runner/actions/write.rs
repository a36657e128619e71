//! Write workloads on a thin and the shared machinery other actions reuse: one write
//! phase (stamped O_DIRECT writes, sampled, replayed into the model, logged for the
//! integrity oracle) and the integrity check itself.

use crate::runner::error::StepError;
use thinbench_model::chunk::WriteEffect;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::{EventKind, ExpectationResult, Status, WorkloadStats};
use thinbench_schema::units::Bytes;
use thinbench_workloads::offsets::{Limit, OffsetPattern};
use thinbench_workloads::small_write::{self, ChunkSet, SmallWriteParams};

use super::ctx::{ActionOutput, StepCtx};
use crate::spec::{AccessPattern, SmallWriteSpec};
use crate::sys::signals;

/// The stamp's device id: one per case rather than per thin, so that data written in an
/// origin verifies when read through its snapshots; generations tell writes apart.
pub const STAMP_DEVICE: u64 = 0x7468_696e; // "thin"

/// One write phase's request.
pub struct Phase {
    /// Target thin.
    pub thin: Ident,
    /// Offsets.
    pub pattern: OffsetPattern,
    /// Bytes per IO.
    pub io_size: Bytes,
    /// Region start.
    pub offset: Bytes,
    /// Region length.
    pub span: Bytes,
    /// Amount.
    pub limit: Limit,
    /// Stop at the first error (false: keep going and count errors).
    pub stop_on_error: bool,
    /// Spin this long inside each write's timed window (zero: none).
    pub busy_wait_per_io: std::time::Duration,
}

/// What a phase did.
pub struct PhaseResult {
    /// Figures.
    pub stats: WorkloadStats,
    /// Model: what the acknowledged writes did.
    pub effect: WriteEffect,
    /// Distinct chunks written.
    pub chunks: ChunkSet,
}

/// Run one phase on `ctx`'s pool.
pub fn run_phase(ctx: &mut StepCtx<'_>, ph: &Phase) -> Result<PhaseResult, StepError> {
    let thin = ctx
        .backend
        .thin(&ph.thin)
        .ok_or_else(|| format!("no thin {}", ph.thin))?
        .clone();
    let generation = ctx.state.next_generation();
    let params = phase_params(ctx, ph, generation);
    let mut dev = thinbench_workloads::engine::Device::open(thin.node(), true)?;
    let (rec, case, index) = (ctx.rec, ctx.pool.name.to_string(), ctx.step.index);
    let total = ph.limit.ios(ph.io_size) * ph.io_size.0;
    let mut meter = ctx.state.written_meter();
    let out = small_write::run(
        &mut dev,
        &params,
        &mut |p: small_write::Progress| {
            meter.progress(p.bytes.0);
            rec.event(EventKind::Progress {
                case: case.clone(),
                index,
                bytes: p.bytes.0,
                total,
            });
        },
        signals::stop_flag(),
    );
    let out = out?;
    // Progress comes at most every PROGRESS_EVERY: a phase shorter than that reports
    // none, so `written:` triggers are fed the final count here.
    meter.progress(out.stats.bytes.0);
    if out.interrupted {
        return Err("interrupted".into());
    }
    let effect = absorb(ctx, &ph.thin, thin.id, &out, generation)?;
    Ok(PhaseResult {
        stats: out.stats,
        effect,
        chunks: out.chunks_touched,
    })
}

/// The workload parameters of phase `ph`, its writes stamped with `generation`.
pub fn phase_params(ctx: &StepCtx<'_>, ph: &Phase, generation: u64) -> SmallWriteParams {
    let mut params = SmallWriteParams::new(ctx.pool.chunk, ph.span);
    params.io_size = ph.io_size;
    params.offsets = ph.pattern;
    params.limit = ph.limit;
    params.offset = ph.offset;
    params.device_id = STAMP_DEVICE;
    params.generation = generation;
    params.seed = generation;
    params.stop_on_error = ph.stop_on_error;
    params.direct = true;
    params.fsync_at_end = true;
    params.record_writes = true;
    params.busy_wait_per_io = ph.busy_wait_per_io;
    params
}

/// A finished write workload's acknowledged writes, into the case: the model (what they
/// allocated and copied), the integrity log, the power-cut log, a completed flush.
pub fn absorb(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    id: thinbench_schema::ids::ThinId,
    out: &small_write::SmallWriteOutcome,
    generation: u64,
) -> Result<WriteEffect, StepError> {
    let model = ctx.state.model.as_mut().ok_or("no model")?;
    let mut effect = WriteEffect::default();
    for (off, len) in &out.writes {
        effect += model.write(id, *off, *len)?;
    }
    let log = ctx.state.log.entry(thin.clone()).or_default();
    log.extend(out.writes.iter().map(|(o, l)| (*o, *l, generation)));
    let acked = ctx.state.acked.entry(thin.clone()).or_default();
    acked.extend(out.writes.iter().map(|(o, l)| (*o, *l, generation)));
    if out.sync_elapsed.is_some() {
        ctx.state.flushed(&*ctx.backend);
    }
    Ok(effect)
}

/// Chunks of `chunks` not written before in `thin` (recording them as written now).
pub fn first_touched(ctx: &mut StepCtx<'_>, thin: &Ident, chunks: &ChunkSet) -> u64 {
    let seen = ctx.state.written.entry(thin.clone()).or_default();
    chunks.iter().filter(|c| seen.insert(*c)).count() as u64
}

/// The integrity oracle: every acknowledged write of `thin` reads back with its latest
/// generation, byte for byte.
pub fn verify_thin(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    what: &str,
) -> Result<ExpectationResult, StepError> {
    let log = ctx.state.log.get(thin).cloned().unwrap_or_default();
    verify_log(ctx, thin, &log, what)
}

/// Like [`verify_thin`], over the given writes (a subset of the thin's log).
pub fn verify_log(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    log: &[(Bytes, Bytes, u64)],
    what: &str,
) -> Result<ExpectationResult, StepError> {
    // A fault in force may drop or damage writes: reading them back now says nothing
    // about the pool; a `reboot` step checks what survives.
    if let Some(f) = &ctx.state.faults {
        if f.damage_since().is_some() {
            return Ok(ExpectationResult {
                what: format!("integrity: {what}"),
                expected: "every acknowledged write reads back".into(),
                observed: "skipped: a fault that drops or damages writes is in force (the reboot step checks what survives)".into(),
                status: Status::Skipped,
                message: None,
            });
        }
    }
    let t = ctx
        .backend
        .thin(thin)
        .ok_or_else(|| format!("no thin {thin}"))?
        .clone();
    let dev = thinbench_workloads::engine::Device::open_read_only(t.node(), true)?;
    let rep = small_write::verify_writes(&dev, log, STAMP_DEVICE)?;
    Ok(integrity_verdict(ctx, what, &rep))
}

/// The integrity check's verdict on a read-back of `what`, naming the step and the first
/// wrong byte when it fails.
pub fn integrity_verdict(
    ctx: &StepCtx<'_>,
    what: &str,
    rep: &small_write::VerifyReport,
) -> ExpectationResult {
    let ok = rep.is_clean();
    ExpectationResult {
        what: format!("integrity: {what}"),
        expected: format!("{} sectors intact", rep.checked_sectors),
        observed: format!(
            "{} sectors intact",
            rep.checked_sectors - rep.mismatch_count
        ),
        status: if ok { Status::Passed } else { Status::Failed },
        message: (!ok).then(|| {
            let first = rep
                .mismatches
                .first()
                .map(|(o, m)| format!(" first at byte {}: {m}", o.0))
                .unwrap_or_default();
            format!(
                "step {} ({}): {what}: {} of {} sectors wrong;{first}",
                ctx.step.index, ctx.step.name, rep.mismatch_count, rep.checked_sectors
            )
        }),
    }
}

/// The phase a `small-write` step runs.
pub fn small_write_phase(ctx: &StepCtx<'_>, w: &SmallWriteSpec) -> Result<Phase, StepError> {
    let size = ctx
        .backend
        .thin(&w.thin)
        .ok_or_else(|| format!("no thin {}", w.thin))?
        .size;
    Ok(Phase {
        thin: w.thin.clone(),
        pattern: match w.pattern {
            AccessPattern::Sequential => OffsetPattern::Sequential,
            AccessPattern::Random { seed } => OffsetPattern::Random { seed },
            AccessPattern::Strided { stride } => OffsetPattern::Strided { stride, first: 0 },
        },
        io_size: w.io_size,
        offset: w.offset,
        span: w.span.unwrap_or(Bytes(size.0 - w.offset.0)),
        limit: w.limit,
        stop_on_error: true,
        busy_wait_per_io: w.busy_wait_per_io,
    })
}

/// The `small-write` action (in the background: `background.rs`).
pub fn small_write(ctx: &mut StepCtx<'_>, w: &SmallWriteSpec) -> Result<ActionOutput, StepError> {
    let ph = small_write_phase(ctx, w)?;
    let r = run_phase(ctx, &ph)?;
    let first = first_touched(ctx, &w.thin, &r.chunks);
    Ok(ActionOutput {
        predicted: Some(r.effect.net_blocks()),
        first_touched: Some(first),
        workload: Some(r.stats),
        ..Default::default()
    })
}

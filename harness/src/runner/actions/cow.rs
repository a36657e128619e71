//! `cow-overwrite`: the copy-on-write cost of snapshots, measured phase by phase, with
//! the other side of every snapshot relation verified unchanged.

use crate::runner::error::{Context, StepError};
use thinbench_model::chunk::WriteEffect;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::{Better, MetricKind, PhaseStats};
use thinbench_schema::units::Bytes;
use thinbench_workloads::offsets::{Limit, OffsetPattern};

use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::{first_touched, run_phase, verify_thin, Phase};
use crate::spec::CowSpec;

pub fn run(ctx: &mut StepCtx<'_>, c: &CowSpec) -> Result<ActionOutput, StepError> {
    let chunk = ctx.pool.chunk.bytes();
    let half = Bytes(c.region.0 / 2);
    let chunks_half = half.0 / chunk.0;
    let stride = chunk.0 / c.io_size.0;
    let mut out = ActionOutput::default();
    let mut net = 0i64;
    let mut phase = |ctx: &mut StepCtx<'_>,
                     name: &str,
                     ph: Phase,
                     out: &mut ActionOutput|
     -> Result<WriteEffect, StepError> {
        let r = run_phase(ctx, &ph)?;
        first_touched(ctx, &ph.thin, &r.chunks);
        if let Some(e) = &r.stats.first_error {
            return Err(format!("phase {name}: {e}").into());
        }
        net += r.effect.net_blocks();
        out.phases.push(PhaseStats {
            name: name.into(),
            stats: r.stats,
        });
        Ok(r.effect)
    };

    // 1. The origin's region, whole chunks: every chunk provisioned, nothing copied.
    phase(
        ctx,
        "origin/whole-chunk/initial",
        Phase {
            thin: c.origin.clone(),
            pattern: OffsetPattern::Sequential,
            io_size: chunk,
            offset: c.offset,
            span: c.region,
            limit: Limit::Bytes(c.region),
            stop_on_error: true,
            busy_wait_per_io: std::time::Duration::ZERO,
        },
        &mut out,
    )?;
    // 2. The chain: <step>-1 = snap(origin), <step>-k = snap(<step>-(k-1)).
    let mut parent = c.origin.clone();
    let mut layers = Vec::new();
    for k in 1..=c.depth {
        let name = Ident::new(&format!("{}-{k}", ctx.step.name)).context("snapshot name")?;
        super::thins::snapshot(ctx, &name, &parent, None)?;
        layers.push(name.clone());
        parent = name;
    }
    let top = parent;
    let bytes_before_overwrites: u64 = out.phases.iter().map(|p| p.stats.bytes.0).sum();
    // 3. Top snapshot, one sub-chunk IO per chunk of the first half: a copy each.
    let sub = |thin: &Ident, first: u64| Phase {
        thin: thin.clone(),
        pattern: OffsetPattern::Strided { stride, first },
        io_size: c.io_size,
        offset: c.offset,
        span: half,
        limit: Limit::Count(chunks_half),
        stop_on_error: true,
        busy_wait_per_io: std::time::Duration::ZERO,
    };
    let mut copies = phase(ctx, "snapshot/sub-chunk/first", sub(&top, 0), &mut out)?.copied;
    // 4. Again, another offset in the same chunks: now exclusive, nothing allocated.
    phase(
        ctx,
        "snapshot/sub-chunk/rewrite",
        sub(&top, 1.min(stride - 1)),
        &mut out,
    )?;
    // 5. Whole chunks of the second half: allocated, but no copy (io_overwrites_block).
    let whole = phase(
        ctx,
        "snapshot/whole-chunk/first",
        Phase {
            thin: top.clone(),
            pattern: OffsetPattern::Sequential,
            io_size: chunk,
            offset: Bytes(c.offset.0 + half.0),
            span: half,
            limit: Limit::Bytes(half),
            stop_on_error: true,
            busy_wait_per_io: std::time::Duration::ZERO,
        },
        &mut out,
    )?;
    // 6. The origin's first half, sub-chunk: its chunks are still shared with the lower
    //    layers, so the origin side copies now.
    copies += phase(ctx, "origin/sub-chunk/first", sub(&c.origin, 0), &mut out)?.copied;

    // The oracle: every layer reads back exactly what was written through it or inherited.
    out.checks
        .push(verify_thin(ctx, &top, &format!("top snapshot {top}"))?);
    out.checks.push(verify_thin(
        ctx,
        &c.origin,
        &format!("origin {} after its own overwrite", c.origin),
    )?);
    for l in layers.iter().filter(|l| **l != top) {
        out.checks
            .push(verify_thin(ctx, l, &format!("middle layer {l} unchanged"))?);
    }

    let overwrite_bytes: u64 =
        out.phases.iter().map(|p| p.stats.bytes.0).sum::<u64>() - bytes_before_overwrites;
    let overwrite_net: i64 = net - (c.region.0 / chunk.0) as i64;
    let amplification =
        (overwrite_net.max(0) as f64 * chunk.0 as f64) / overwrite_bytes.max(1) as f64;
    out.metrics.push(metric(
        "cow.amplification",
        amplification,
        "ratio",
        MetricKind::Exact,
        Better::Lower,
    ));
    out.metrics.push(metric(
        "cow.copies",
        copies.0 as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    out.metrics.push(metric(
        "cow.whole_chunk_overwrites",
        whole.overwritten_whole.0 as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    out.metrics.push(metric(
        "cow.depth",
        c.depth as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    for p in &out.phases {
        out.metrics.push(metric(
            &format!("cow.{}.p50_ns", p.name),
            p.stats.latency.p50_ns as f64,
            "ns",
            MetricKind::Timing,
            Better::Lower,
        ));
        out.metrics.push(metric(
            &format!("cow.{}.iops", p.name),
            p.stats.iops,
            "iops",
            MetricKind::Timing,
            Better::Higher,
        ));
    }
    out.predicted = Some(net);
    Ok(out)
}

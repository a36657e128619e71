//! `metadata-fill`: run a pool out of metadata space, fast. `repair-metadata`: the offline
//! repair that brings it back.
//!
//! Metadata is spent per b-tree node, not per byte written: a densely mapped origin
//! packs up to 252 mappings into each 4KiB leaf, and a snapshot shares every leaf with
//! it. One small write in a snapshot's copy of a leaf's range copies the whole leaf
//! (plus, the first time, the path above it): about one metadata block per IO, some
//! 150 times what random writes to a single thin cost. So the fill maps `span` of the
//! origin with one IO per chunk, then takes snapshots of it and writes one IO every
//! `stride` chunks in each, until a write fails or the pool leaves `rw`. This is
//! Docker's field failure "metadata ran out before data": many containers (snapshots),
//! each writing a little.
//!
//! Each write phase ends with a flush (a dm-thin commit), so what was acknowledged
//! before it is on disk whatever the metadata does next.

use crate::runner::error::{Context, StepError};
use std::time::Instant;

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{
    Better, ExpectationResult, MetricKind, PhaseStats, PoolMode, PoolUsage, Status, WorkloadStats,
};
use thinbench_schema::units::Bytes;
use thinbench_workloads::engine::{AlignedBuf, Device};
use thinbench_workloads::offsets::{Limit, OffsetPattern};
use thinbench_workloads::pattern;

use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::{first_touched, run_phase, verify_log, verify_thin, Phase, STAMP_DEVICE};
use crate::spec::{MetadataFillSpec, RepairMetadataSpec};

/// Kernel log lines of dm-thin about metadata space or pool modes.
fn is_metadata_line(l: &str) -> bool {
    l.contains("thin") && (l.contains("metadata") || l.contains("switching pool"))
}

/// Sums phase figures into the step's.
fn add(total: &mut WorkloadStats, s: &WorkloadStats) {
    total.bytes = Bytes(total.bytes.0 + s.bytes.0);
    total.ops += s.ops;
    total.errors += s.errors;
    if total.first_error.is_none() {
        total.first_error.clone_from(&s.first_error);
    }
    total.elapsed_ns += s.elapsed_ns;
    total.distinct_chunks_touched += s.distinct_chunks_touched;
}

fn passed(
    what: &str,
    expected: String,
    observed: String,
    ok: bool,
    step: &str,
) -> ExpectationResult {
    ExpectationResult {
        message: (!ok).then(|| format!("{step}: {what}: expected {expected}, observed {observed}")),
        what: what.to_owned(),
        expected,
        observed,
        status: if ok { Status::Passed } else { Status::Failed },
    }
}

fn usage_text(u: &PoolUsage) -> String {
    format!(
        "{} (needs_check {}), metadata {}/{} blocks, data {}/{} blocks",
        u.mode.as_str(),
        u.needs_check,
        u.meta_used.0,
        u.meta_total.0,
        u.data_used.0,
        u.data_total.0
    )
}

/// The `metadata-fill` action.
pub fn fill(ctx: &mut StepCtx<'_>, m: &MetadataFillSpec) -> Result<ActionOutput, StepError> {
    let step_label = format!("step {} ({})", ctx.step.index, ctx.step.name);
    let chunk = ctx.pool.chunk.bytes();
    if m.io_size.0 > chunk.0 || !chunk.0.is_multiple_of(m.io_size.0) {
        return Err(format!(
            "io_size {} must divide the chunk size {} (one IO maps one chunk)",
            m.io_size.human(),
            chunk.human()
        )
        .into());
    }
    let origin = ctx
        .backend
        .thin(&m.thin)
        .ok_or_else(|| format!("no thin {}", m.thin))?
        .clone();
    let span = Bytes(m.span.0.min(origin.size.0) / chunk.0 * chunk.0);
    let chunks = span.0 / chunk.0;
    let per_chunk = chunk.0 / m.io_size.0;
    let stride_bytes = m.stride * chunk.0;
    ctx.state.drain_kernel();
    let k0 = ctx.state.kernel_lines.len();
    let start = ctx.backend.status()?;
    let t0 = Instant::now();

    let mut total = WorkloadStats {
        workload: "metadata-fill".into(),
        ..Default::default()
    };
    let mut o = ActionOutput::default();
    let mut net = 0i64;
    let mut first = 0u64;
    // The last acknowledged write to a block only one thin maps (a snapshot's own copy).
    let mut last_exclusive: Option<(Ident, Bytes, Bytes, u64)> = None;
    let mut snapshots = 0u32;
    let mut snapshot_error = None;
    let mut exhausted_at = None;

    // Phase 1: the origin, one IO per chunk: full leaves, little metadata.
    let ph = Phase {
        thin: m.thin.clone(),
        pattern: OffsetPattern::Strided {
            stride: per_chunk,
            first: 0,
        },
        io_size: m.io_size,
        offset: Bytes(0),
        span,
        limit: Limit::Count(chunks),
        stop_on_error: true,
        busy_wait_per_io: std::time::Duration::ZERO,
    };
    let r = run_phase(ctx, &ph)?;
    net += r.effect.net_blocks();
    first += first_touched(ctx, &m.thin, &r.chunks);
    add(&mut total, &r.stats);
    o.phases.push(PhaseStats {
        name: "origin".into(),
        stats: r.stats.clone(),
    });
    let mut after = ctx.backend.status()?;
    if r.stats.errors > 0 || after.mode != PoolMode::Rw {
        exhausted_at = Some(t0.elapsed());
    }

    // Phase 2: the snapshots, all taken before any is written, as containers are created
    // and then write. (Taking each just before writing it also stops short on direct-lvm:
    // lvm refuses a new thin once the pool's metadata is 75% used.)
    let mut snaps = Vec::new();
    while exhausted_at.is_none() && snapshots < m.snapshots {
        let name = Ident::new(&format!("{}-{}", ctx.step.name, snapshots + 1))?;
        let snap = match ctx.backend.snapshot(&name, &m.thin, None) {
            Ok(t) => t,
            Err(e) => {
                snapshot_error = Some(e.to_string());
                break;
            }
        };
        snapshots += 1;
        let model = ctx.state.model.as_mut().ok_or("no model")?;
        model.create_snap(snap.id, origin.id)?;
        let inherited = ctx.state.written.get(&m.thin).cloned().unwrap_or_default();
        ctx.state.written.insert(name.clone(), inherited);
        let log = ctx.state.log.get(&m.thin).cloned().unwrap_or_default();
        ctx.state.log.insert(name.clone(), log);
        snaps.push(name);
    }
    // Phase 3: each snapshot in turn, one IO every `stride` chunks, until the pool runs
    // out.
    let mut written = 0u32;
    for name in snaps {
        if exhausted_at.is_some() {
            break;
        }
        written += 1;
        let inherited_len = ctx.state.log.get(&name).map_or(0, Vec::len);
        let ph = Phase {
            thin: name.clone(),
            pattern: OffsetPattern::Strided {
                stride: m.stride * per_chunk,
                first: 0,
            },
            io_size: m.io_size,
            offset: Bytes(0),
            span,
            limit: Limit::Count(span.0.div_ceil(stride_bytes)),
            stop_on_error: true,
            busy_wait_per_io: std::time::Duration::ZERO,
        };
        let r = run_phase(ctx, &ph)?;
        net += r.effect.net_blocks();
        first += first_touched(ctx, &name, &r.chunks);
        add(&mut total, &r.stats);
        o.phases.push(PhaseStats {
            name: format!("snapshot-{written}"),
            stats: r.stats.clone(),
        });
        if let Some(&(off, len, generation)) = ctx
            .state
            .log
            .get(&name)
            .and_then(|l| l.get(inherited_len..))
            .and_then(|own| own.last())
        {
            last_exclusive = Some((name.clone(), off, len, generation));
        }
        after = ctx.backend.status()?;
        if r.stats.errors > 0 || after.mode != PoolMode::Rw {
            exhausted_at = Some(t0.elapsed());
        }
    }
    total.iops = if total.elapsed_ns > 0 {
        total.ops as f64 * 1e9 / total.elapsed_ns as f64
    } else {
        0.0
    };
    total.mb_per_s = if total.elapsed_ns > 0 {
        total.bytes.0 as f64 * 1e3 / total.elapsed_ns as f64
    } else {
        0.0
    };

    // A write to a block already provisioned for one thin needs no metadata: it must
    // still succeed with the pool read-only. Rewritten with the same bytes, so the
    // integrity check still holds.
    let probe = match (&last_exclusive, after.mode) {
        (Some((thin, off, len, generation)), PoolMode::Ro) => {
            let dev = ctx.backend.thin(thin).ok_or("probe thin gone")?;
            let d = Device::open(dev.node(), true)?;
            let mut buf = AlignedBuf::new(len.0 as usize);
            pattern::stamp(&mut buf, STAMP_DEVICE, *off, *generation, *generation);
            Some(d.write_at(&buf, *off).map(|_| ()).map_err(StepError::from))
        }
        _ => None,
    };

    ctx.state.drain_kernel();
    let lines: Vec<String> = ctx.state.kernel_lines[k0..]
        .iter()
        .filter(|l| is_metadata_line(l))
        .cloned()
        .collect();

    // The model holds acknowledged writes only. dm-thin 1.22 (Linux 6.1) commits before
    // it dips into its metadata reserve, right after allocating the data block of the
    // write that crosses the line; that commit switches the pool read-only, and the
    // write's mapping then fails (EIO): its block stays allocated, mapped by no thin.
    // So the kernel may count one block more per failed write; no more, and no fewer
    // than the model.
    let observed = after.data_used.0 as i64 - start.data_used.0 as i64;
    let leaked = observed - net;
    if (0..=total.errors as i64).contains(&leaked) {
        ctx.state.leaked_data_blocks += leaked as u64;
        o.predicted = Some(net + leaked);
        o.predicted_note = Some(format!(
            "acknowledged writes, plus {leaked} block(s) allocated for a write that failed at the exhaustion and never mapped: 0 to {} allowed, one per failed write",
            total.errors
        ));
    } else {
        o.predicted = Some(net);
    }
    o.metrics.push(metric(
        "metadata.leaked_data_blocks",
        leaked as f64,
        "blocks",
        MetricKind::Exact,
        Better::Lower,
    ));
    o.first_touched = Some(first);
    let exact =
        |name: &str, v: f64, unit: &str| metric(name, v, unit, MetricKind::Exact, Better::Neither);
    o.metrics
        .push(exact("metadata.snapshots", f64::from(snapshots), "count"));
    o.metrics.push(exact(
        "metadata.snapshots_written",
        f64::from(written),
        "count",
    ));
    o.metrics.push(exact(
        "metadata.bytes_accepted",
        total.bytes.0 as f64,
        "bytes",
    ));
    o.metrics
        .push(exact("metadata.ios_accepted", total.ops as f64, "count"));
    o.metrics.push(exact(
        "metadata.meta_used_blocks",
        after.meta_used.0 as f64,
        "blocks",
    ));
    o.metrics.push(exact(
        "metadata.meta_total_blocks",
        after.meta_total.0 as f64,
        "blocks",
    ));
    o.metrics.push(exact(
        "metadata.data_used_blocks",
        after.data_used.0 as f64,
        "blocks",
    ));
    o.metrics.push(exact(
        "metadata.needs_check",
        f64::from(u8::from(after.needs_check)),
        "count",
    ));
    if let Some(t) = exhausted_at {
        o.metrics.push(metric(
            "metadata.time_to_exhaustion_ms",
            t.as_secs_f64() * 1000.0,
            "ms",
            MetricKind::Timing,
            Better::Neither,
        ));
    }

    let ran_out = after.mode != PoolMode::Rw;
    o.checks.push(ExpectationResult {
        what: "the pool ran out of metadata space".into(),
        expected: "mode leaves rw".into(),
        observed: format!(
            "{} after {written} of {snapshots} snapshots written{}",
            usage_text(&after),
            snapshot_error
                .as_ref()
                .map(|e| format!("; snapshot refused: {e}"))
                .unwrap_or_default()
        ),
        status: if ran_out { Status::Passed } else { Status::Failed },
        message: (!ran_out).then(|| {
            format!(
                "{step_label}: the pool never ran out of metadata space ({} of {} metadata blocks used after writing {written} snapshots): allow more `snapshots`, a bigger `span` or a smaller metadata device",
                after.meta_used.0, after.meta_total.0
            )
        }),
    });
    if ran_out {
        o.checks.push(passed(
            "dm-thin logged the metadata exhaustion",
            "a kernel line about metadata space".into(),
            if lines.is_empty() {
                "none".into()
            } else {
                lines.join(" | ")
            },
            !lines.is_empty(),
            &step_label,
        ));
    }
    if let Some(p) = probe {
        o.checks.push(passed(
            "a write to a block provisioned for one thin succeeds while read-only",
            "success".into(),
            match &p {
                Ok(()) => "success".into(),
                Err(e) => e.to_string(),
            },
            p.is_ok(),
            &step_label,
        ));
    }
    // Acknowledged writes read back, read-only pool or not.
    let last = last_exclusive.map_or(m.thin.clone(), |(t, ..)| t);
    o.checks.push(verify_thin(
        ctx,
        &last,
        &format!("{last} after the metadata ran out"),
    )?);
    o.workload = Some(total);
    Ok(o)
}

/// The `repair-metadata` action.
pub fn repair(ctx: &mut StepCtx<'_>, r: &RepairMetadataSpec) -> Result<ActionOutput, StepError> {
    let step_label = format!("step {} ({})", ctx.step.index, ctx.step.name);
    let before = ctx.backend.status()?;
    let t = Instant::now();
    let rep = ctx
        .backend
        .repair_metadata(r.grow_by)
        .context("repair failed")?;
    let took = t.elapsed();
    let after = ctx.backend.status()?;
    let mut o = ActionOutput {
        // The repair maps nothing and frees nothing.
        predicted: Some(0),
        ..Default::default()
    };
    let check = rep.check.text();
    o.checks.push(passed(
        "thin_check of the inactive metadata, before the repair",
        "thin_check: ok".into(),
        check.clone(),
        check == "thin_check: ok",
        &step_label,
    ));
    o.checks.push(passed(
        "pool back to rw without needs_check",
        "rw (needs_check false)".into(),
        format!(
            "{} (needs_check {})",
            after.mode.as_str(),
            after.needs_check
        ),
        after.mode == PoolMode::Rw && !after.needs_check,
        &step_label,
    ));
    o.checks.push(passed(
        "the metadata device grew by at least grow_by",
        format!(">= {} bytes", rep.meta_before.0 + r.grow_by.0),
        format!("{} bytes", rep.meta_after.0),
        rep.meta_after.0 >= rep.meta_before.0 + r.grow_by.0,
        &step_label,
    ));
    // dm-thin sizes its metadata space map from the device: 4KiB blocks.
    let want_blocks = (rep.meta_after.0 / 4096).min(16 * 1024 * 1024 * 1024 / 4096);
    o.checks.push(passed(
        "the kernel uses the grown metadata device (status total metadata blocks)",
        want_blocks.to_string(),
        after.meta_total.0.to_string(),
        after.meta_total.0 == want_blocks,
        &step_label,
    ));
    // The accounting oracle over the whole pool: the model holds acknowledged writes
    // only; the kernel's count must be exactly that plus the blocks the exhaustion
    // leaked (see `fill`): the repair (thin_check, no thin_repair) gives none back.
    let model = ctx.state.model.as_ref().ok_or("no model")?;
    let leaked = ctx.state.leaked_data_blocks;
    let want = model.data_blocks_used().0 + leaked;
    o.checks.push(passed(
        &format!(
            "kernel data blocks used == model (acknowledged writes) + {leaked} leaked at the exhaustion"
        ),
        want.to_string(),
        after.data_used.0.to_string(),
        after.data_used.0 == want,
        &step_label,
    ));
    // Every acknowledged write, after deactivation and reactivation. A snapshot's log
    // starts with what it inherited: those writes are read in full through the thin
    // that made them and, through each snapshot, one in `INHERITED_SAMPLE` (enough to
    // catch a snapshot mapped to the wrong blocks; reading 16 snapshots' shared copies in
    // full costs minutes of emulated IO and checks the same blocks again).
    const INHERITED_SAMPLE: usize = 64;
    let mut thins: Vec<(Ident, Vec<crate::runner::case::LoggedWrite>)> = ctx
        .state
        .log
        .iter()
        .filter(|(n, _)| ctx.backend.thin(n).is_some())
        .map(|(n, l)| (n.clone(), l.clone()))
        .collect();
    // Shortest first: origins before the snapshots that extend their logs.
    thins.sort_by_key(|(n, l)| (l.len(), n.clone()));
    let mut done: Vec<usize> = Vec::new();
    for i in 0..thins.len() {
        let (n, log) = &thins[i];
        let shared = done
            .iter()
            .map(|&j| {
                let other = &thins[j].1;
                other.iter().zip(log).take_while(|(a, b)| a == b).count()
            })
            .max()
            .unwrap_or(0);
        let subset: Vec<crate::runner::case::LoggedWrite> = log[..shared]
            .iter()
            .step_by(INHERITED_SAMPLE)
            .chain(&log[shared..])
            .copied()
            .collect();
        let what = if shared > 0 {
            format!(
                "{n} after the repair ({} own writes, 1 in {INHERITED_SAMPLE} of {shared} inherited)",
                log.len() - shared
            )
        } else {
            format!("{n} after the repair")
        };
        o.checks.push(verify_log(ctx, n, &subset, &what)?);
        done.push(i);
    }
    let exact =
        |name: &str, v: f64, unit: &str| metric(name, v, unit, MetricKind::Exact, Better::Neither);
    o.metrics.push(exact(
        "metadata.repair.needs_check_before",
        f64::from(u8::from(before.needs_check)),
        "count",
    ));
    o.metrics.push(exact(
        "metadata.repair.meta_total_blocks_before",
        before.meta_total.0 as f64,
        "blocks",
    ));
    o.metrics.push(exact(
        "metadata.repair.meta_total_blocks_after",
        after.meta_total.0 as f64,
        "blocks",
    ));
    o.metrics.push(exact(
        "metadata.repair.meta_used_blocks_after",
        after.meta_used.0 as f64,
        "blocks",
    ));
    o.metrics.push(metric(
        "metadata.repair.duration_ms",
        took.as_secs_f64() * 1000.0,
        "ms",
        MetricKind::Timing,
        Better::Lower,
    ));
    o.checks.push(passed(
        "repair commands",
        format!("needs_check cleared by {}", rep.cleared_by),
        rep.commands.join(" ; "),
        true,
        &step_label,
    ));
    Ok(o)
}

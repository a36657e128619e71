//! `fill`: write until the pool runs out of data space, under the pool's no-space policy;
//! watch the mode transitions; check that provisioned blocks stay writable while the pool
//! is full; optionally recover (grow the data device, or delete a thin) while IO is held,
//! and check that no acknowledged write was lost.

use crate::runner::error::StepError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use thinbench_model::chunk::WriteEffect;
use thinbench_schema::record::{
    Better, EventKind, ExpectationResult, MetricKind, PoolMode, Status,
};
use thinbench_schema::units::{Bytes, DataBlocks};
use thinbench_workloads::engine::{AlignedBuf, Device};
use thinbench_workloads::offsets::{Limit, OffsetPattern};
use thinbench_workloads::pattern;
use thinbench_workloads::small_write::{self, SmallWriteParams};

use super::autoextend::Extensions;
use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::{first_touched, verify_thin, STAMP_DEVICE};
use crate::spec::{FillSpec, PoolKindSpec, Recover};
use crate::sys::signals;

/// How often the monitor reads the pool's status during a fill.
const POLL: Duration = Duration::from_millis(50);

/// Rewrite the fill's first IO (already provisioned) with the same bytes: while the pool
/// is out of space this must succeed, and the integrity check still holds after it.
fn probe_provisioned(dev: &Device, io: Bytes, generation: u64) -> Result<Duration, String> {
    let mut buf = AlignedBuf::new(io.0 as usize);
    pattern::stamp(&mut buf, STAMP_DEVICE, Bytes(0), generation, generation);
    let t = Instant::now();
    dev.write_at(&buf, Bytes(0))
        .map(|_| t.elapsed())
        .map_err(|e| e.to_string())
}

pub fn run(ctx: &mut StepCtx<'_>, f: &FillSpec) -> Result<ActionOutput, StepError> {
    let thin = ctx
        .backend
        .thin(&f.thin)
        .ok_or_else(|| format!("no thin {}", f.thin))?
        .clone();
    let start = ctx.backend.status()?;
    // Until the pool runs out (or the thin ends). Writes to chunks the thin already maps
    // take no space, so "bytes free" is no measure of when that happens. With a recovery
    // the writer is told to stop as the recovery starts: its one IO in flight, the held
    // one, must then complete, and no second exhaustion can follow (a recovery such as
    // lvremove runs for seconds while the freed space is already usable).
    let limit = f.bytes.unwrap_or(thin.size);
    let generation = ctx.state.next_generation();
    let mut params = SmallWriteParams::new(ctx.pool.chunk, thin.size);
    params.io_size = f.io_size;
    params.offsets = OffsetPattern::Sequential;
    params.limit = Limit::Bytes(limit);
    params.offset = Bytes(0);
    params.device_id = STAMP_DEVICE;
    params.generation = generation;
    params.seed = generation;
    params.stop_on_error = true;
    params.direct = true;
    params.fsync_at_end = false;
    params.record_writes = true;
    let mut dev = Device::open(thin.node(), true)?;
    let probe_dev = Device::open(thin.node(), true)?;

    let rec = ctx.rec;
    let (case, index) = (ctx.pool.name.to_string(), ctx.step.index);
    let pool_name = ctx.pool.name.to_string();
    // lvm's autoextend policy: applied by dmeventd where it monitors the pool (thinbench
    // then only watches the pool grow), else by thinbench's monitor standing in for it.
    let dmeventd = ctx.backend.monitored_by_dmeventd();
    let threshold = match &ctx.pool.kind {
        PoolKindSpec::DirectLvm(d) if f.autoextend && !dmeventd => {
            Some(u64::from(d.autoextend_threshold))
        }
        _ => None,
    };
    let mut ext = Extensions::new(start.data_total.0);
    let t0 = Instant::now();
    // The step's own kernel lines start here (earlier ones belong to earlier steps).
    ctx.state.drain_kernel();
    let (kernel_from, started_ms) = (ctx.state.kernel_lines.len(), ctx.rec.t_ms());
    let mut full_at: Option<Duration> = None;
    let mut recovered_at: Option<Duration> = None;
    let mut mode = start.mode;
    // What the progress display counts towards: the pool's free space as the fill starts
    // (an estimate: a recovery adds space, and writes to chunks the thin maps take none),
    // never past the cap.
    let free = ctx.pool.chunk.bytes_of(DataBlocks(
        start.data_total.0.saturating_sub(start.data_used.0),
    ));
    let expected_total = free.0.min(limit.0);
    let mut provisioned_write: Option<Result<Duration, String>> = None;
    let mut grown_total = start.data_total;
    let mut recovery_error = None;
    let mut deleted = None;
    let stop = AtomicBool::new(false);
    let done_bytes = AtomicU64::new(0);
    let mut meter = ctx.state.written_meter();
    let (writer_done_at, outcome) = std::thread::scope(|s| {
        let (stop, done_bytes) = (&stop, &done_bytes);
        let writer = s.spawn(move || {
            let r = small_write::run(
                &mut dev,
                &params,
                &mut |p: small_write::Progress| {
                    meter.progress(p.bytes.0);
                    done_bytes.store(p.bytes.0, Ordering::Relaxed);
                    rec.event(EventKind::Progress {
                        case: case.clone(),
                        index,
                        bytes: p.bytes.0,
                        total: expected_total,
                    });
                },
                stop,
            );
            // The last stretch after the last progress report counts too.
            if let Ok(out) = &r {
                meter.progress(out.stats.bytes.0);
            }
            (t0.elapsed(), r)
        });
        let mut probe_rx: Option<mpsc::Receiver<Result<Duration, String>>> = None;
        while !writer.is_finished() {
            if signals::stop_requested() {
                stop.store(true, Ordering::Relaxed);
            }
            if let Ok(u) = ctx.backend.status() {
                if u.mode != mode {
                    rec.event(EventKind::ModeChange {
                        pool: pool_name.clone(),
                        from: mode,
                        to: u.mode,
                    });
                    mode = u.mode;
                }
                ext.watch(rec, &pool_name, &u, dmeventd);
                if let Some(th) = threshold {
                    if u.data_used.0 * 100 >= th * u.data_total.0
                        && recovered_at.is_none()
                        && ext.may_try()
                    {
                        let r = ctx.backend.apply_autoextend_policy();
                        let after = ctx.backend.status().ok();
                        ext.acted(rec, &pool_name, &u, r, after.as_ref());
                    }
                }
                grown_total = grown_total.max(u.data_total);
                if u.mode == PoolMode::OutOfDataSpace && full_at.is_none() {
                    full_at = Some(t0.elapsed());
                    // A write to an already provisioned block (the fill's first IO) must
                    // go through while the pool is out of space, even when new IO is held.
                    let (tx, rx) = mpsc::channel();
                    let pd = &probe_dev;
                    let io = f.io_size;
                    s.spawn(move || {
                        let _ = tx.send(probe_provisioned(pd, io, generation));
                    });
                    probe_rx = Some(rx);
                }
            }
            if let Some(rx) = &probe_rx {
                match rx.try_recv() {
                    Ok(r) => {
                        provisioned_write = Some(r);
                        probe_rx = None;
                    }
                    Err(mpsc::TryRecvError::Empty)
                        if full_at.is_some_and(|t| t0.elapsed() - t > Duration::from_secs(10)) =>
                    {
                        provisioned_write = Some(Err("held for more than 10 s".into()));
                        probe_rx = None;
                    }
                    Err(_) => {}
                }
            }
            if let (Some(t), None) = (full_at, recovered_at) {
                if t0.elapsed() >= t + f.hold && f.recover != Recover::None {
                    if f.bytes.is_none() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let r = match &f.recover {
                        Recover::Grow { by } => ctx.backend.grow_data(*by),
                        Recover::DeleteThin { thin: victim } => {
                            match ctx.backend.thin(victim).map(|t| t.id) {
                                Some(id) => {
                                    deleted = Some((victim.clone(), id));
                                    ctx.backend.delete_thin(victim)
                                }
                                None => Err(crate::backend::BackendError::NoSuchThin(
                                    victim.to_string(),
                                )),
                            }
                        }
                        Recover::None => Ok(()),
                    };
                    if let Err(e) = r {
                        recovery_error = Some(e.to_string());
                    }
                    // A grow is the recovery's, not an autoextension.
                    if let Ok(after) = ctx.backend.status() {
                        ext.seen_total = ext.seen_total.max(after.data_total.0);
                    }
                    recovered_at = Some(t0.elapsed());
                }
            }
            std::thread::sleep(POLL);
        }
        if let Some(rx) = probe_rx {
            provisioned_write = Some(
                rx.recv_timeout(Duration::from_secs(10))
                    .unwrap_or_else(|_| Err("never completed".into())),
            );
        }
        writer
            .join()
            .map_err(|_| "the fill writer panicked".to_owned())
    })?;
    let out = outcome?;
    if let Ok(u) = ctx.backend.status() {
        if u.mode != mode {
            rec.event(EventKind::ModeChange {
                pool: pool_name.clone(),
                from: mode,
                to: u.mode,
            });
        }
        grown_total = grown_total.max(u.data_total);
        // Under error_if_no_space the writer can meet ENOSPC and finish between two
        // polls: the pool filled by the writer's end at the latest (time to error 0 at
        // this resolution), and the provisioned-block probe runs now.
        if u.mode == PoolMode::OutOfDataSpace && full_at.is_none() {
            full_at = Some(writer_done_at);
            provisioned_write = Some(probe_provisioned(&probe_dev, f.io_size, generation));
        }
    }
    // The step's own before/after comparison must not report these transitions again.
    ctx.state.last_mode = ctx.backend.status().ok().map(|u| u.mode);
    if let Some(e) = recovery_error {
        return Err(StepError::from(e).context("recovery failed"));
    }

    // The accounting oracle: the pool grew, a thin went, the acknowledged writes landed.
    let model = ctx.state.model.as_mut().ok_or("no model")?;
    model.grow(grown_total);
    let mut net = 0i64;
    if let Some((v, vid)) = &deleted {
        net -= model.delete(*vid)?.0 as i64;
        ctx.state.written.remove(v);
        ctx.state.log.remove(v);
    }
    let mut effect = WriteEffect::default();
    for (o, l) in &out.writes {
        effect += model.write(thin.id, *o, *l)?;
    }
    net += effect.net_blocks();
    ctx.state
        .log
        .entry(f.thin.clone())
        .or_default()
        .extend(out.writes.iter().map(|(o, l)| (*o, *l, generation)));
    ctx.state
        .acked
        .entry(f.thin.clone())
        .or_default()
        .extend(out.writes.iter().map(|(o, l)| (*o, *l, generation)));
    let first = first_touched(ctx, &f.thin, &out.chunks_touched);

    let mut o = ActionOutput {
        predicted: Some(net),
        first_touched: Some(first),
        ..Default::default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    o.metrics.push(metric(
        "fill.bytes_accepted",
        out.stats.bytes.0 as f64,
        "bytes",
        MetricKind::Exact,
        Better::Neither,
    ));
    if let Some(t) = full_at {
        o.metrics.push(metric(
            "fill.time_to_full_ms",
            ms(t),
            "ms",
            MetricKind::Timing,
            Better::Neither,
        ));
        if out.stats.errors > 0 {
            o.metrics.push(metric(
                "fill.time_to_first_error_ms",
                ms(writer_done_at.saturating_sub(t)),
                "ms",
                MetricKind::Timing,
                Better::Neither,
            ));
        }
        if let Some(r) = recovered_at {
            o.metrics.push(metric(
                "fill.held_until_recovery_ms",
                ms(r - t),
                "ms",
                MetricKind::Timing,
                Better::Neither,
            ));
        }
    }
    o.metrics.push(metric(
        "fill.recovered",
        f64::from(u8::from(recovered_at.is_some())),
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    o.metrics.extend(ext.metrics());
    ctx.state.drain_kernel();
    // Low water mark events of this step: logged (printk time) since it started.
    let st = &ctx.state;
    let lwm = (kernel_from..st.kernel_lines.len())
        .filter(|&k| st.kernel_lines[k].contains("reached low water mark"))
        .filter(|&k| st.kernel_at_ms[k].is_none_or(|t| t >= started_ms))
        .count();
    o.metrics.push(metric(
        "fill.low_water_mark_events",
        lwm as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    o.checks.push(ExpectationResult {
        what: "the pool ran out of data space".into(),
        expected: "out_of_data_space".into(),
        observed: if full_at.is_some() { "out_of_data_space".into() } else { format!("never ({} bytes written)", out.stats.bytes.0) },
        status: if full_at.is_some() { Status::Passed } else { Status::Failed },
        message: full_at.is_none().then(|| {
            format!("step {} ({}): the pool never ran out of data space; write more (`bytes`) or use a bigger thin", ctx.step.index, ctx.step.name)
        }),
    });
    if full_at.is_some() {
        o.checks.push(match &provisioned_write {
            Some(Ok(d)) => ExpectationResult {
                what: "a write to a provisioned block succeeds while out of space".into(),
                expected: "success".into(),
                observed: format!("success in {:.1} ms", ms(*d)),
                status: Status::Passed,
                message: None,
            },
            other => ExpectationResult {
                what: "a write to a provisioned block succeeds while out of space".into(),
                expected: "success".into(),
                observed: format!("{other:?}"),
                status: Status::Failed,
                message: Some(format!(
                    "step {} ({}): write to a provisioned block while out of space: {other:?}",
                    ctx.step.index, ctx.step.name
                )),
            },
        });
    }
    if let Some(within) = f.error_within {
        let took = full_at.map(|t| writer_done_at.saturating_sub(t));
        let ok = out.stats.errors > 0 && took.is_some_and(|t| t <= within + POLL);
        o.checks.push(ExpectationResult {
            what: format!(
                "first error within {} ms of the pool filling",
                within.as_millis()
            ),
            expected: format!("<= {} ms", within.as_millis()),
            observed: match took {
                Some(t) if out.stats.errors > 0 => format!("{:.0} ms", ms(t)),
                _ => "no error".into(),
            },
            status: if ok { Status::Passed } else { Status::Failed },
            message: (!ok).then(|| {
                format!(
                    "step {} ({}): no error within {} ms of the pool filling",
                    ctx.step.index,
                    ctx.step.name,
                    within.as_millis()
                )
            }),
        });
    }
    // Acknowledged writes survive the no-space episode and the recovery, byte for byte.
    o.checks.push(verify_thin(
        ctx,
        &f.thin,
        &format!("{} after filling", f.thin),
    )?);
    // The fill's figures, named as the fill (its writer is small-write's).
    o.workload = Some(thinbench_schema::record::WorkloadStats {
        workload: "fill".into(),
        ..out.stats
    });
    Ok(o)
}

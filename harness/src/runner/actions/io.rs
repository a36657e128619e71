//! `io` (fio-shaped IO by thinbench's engine or by fio, the scenario's fio jobs
//! included) and `engine-vs-fio` (the peer benchmark: both engines alternating on one
//! thin, in one boot, their IOPS and p99 ratios as metrics).
//!
//! The accounting oracle: thinbench's engine reports the chunks it wrote, which the model
//! replays. fio's writes are placed by fio, so after a fio job that may write the model is
//! rebuilt from the kernel's metadata (`thin_dump`), as `delete` does after a filesystem,
//! and the expectation says so. The benchmark writes its whole region first, so every run
//! of either engine lands on provisioned blocks: no run pays allocations another does not,
//! and the step's allocation is exactly the prewrite's, which the model predicts.

use crate::runner::error::{Context, StepError};
use std::path::{Path, PathBuf};

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{
    Better, ExpectationResult, MetricKind, PhaseStats, Status, WorkloadStats,
};
use thinbench_schema::units::Bytes;
use thinbench_workloads::engine::IoOp;
use thinbench_workloads::fio::{self, FioReport, FioRw, Shape};
use thinbench_workloads::io::{
    self as tbio, EngineChoice, EngineKind, IoLimit, IoOutcome, IoParams, WriteData,
};
use thinbench_workloads::offsets::OffsetPattern;
use thinbench_workloads::small_write::ChunkSet;

use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::{first_touched, STAMP_DEVICE};
use crate::runner::sampler::{Sampler, SamplerCost};
use crate::spec::{IoEngineSpec, IoLength, IoShape, IoSpec, IoTarget, PeerSpec};
use crate::sys::signals;

/// The device node and id of `thin`.
fn thin_dev(ctx: &StepCtx<'_>, thin: &Ident) -> Result<(PathBuf, Bytes), StepError> {
    let t = ctx
        .backend
        .thin(thin)
        .ok_or_else(|| format!("no thin {thin}"))?;
    Ok((t.node(), t.size))
}

/// Runs `f` with the case's status sampling on, as during every workload (and says what
/// it cost over `f`), or paused when `sampling` is false (a benchmark's "off" phase).
fn sampled<T>(
    sampler: Option<&Sampler>,
    sampling: bool,
    f: impl FnOnce() -> T,
) -> (T, Option<SamplerCost>) {
    let Some(s) = sampler else {
        return (f(), None);
    };
    if sampling {
        let m = s.mark();
        let out = f();
        (out, Some(s.cost_since(&m)))
    } else {
        let _paused = s.pause("a benchmark's sampling-off phase");
        (f(), None)
    }
}

fn limit_of(length: IoLength) -> IoLimit {
    match length {
        IoLength::Runtime(d) => IoLimit::Runtime(d),
        IoLength::Count(n) => IoLimit::Count(n),
    }
}

/// thinbench's engine on `dev` for `shape`.
fn run_engine(
    ctx: &mut StepCtx<'_>,
    dev: &Path,
    shape: &Shape,
    limit: IoLimit,
    seed: u64,
    sampling: bool,
) -> Result<(IoOutcome, Option<SamplerCost>), StepError> {
    let op = match shape.rw {
        FioRw::RandWrite | FioRw::Write => IoOp::Write,
        FioRw::RandRead | FioRw::Read => IoOp::Read,
    };
    let generation = ctx.state.next_generation();
    let p = IoParams {
        op,
        offsets: match shape.rw {
            FioRw::RandWrite | FioRw::RandRead => OffsetPattern::Random { seed },
            FioRw::Write | FioRw::Read => OffsetPattern::Sequential,
        },
        io_size: shape.io_size,
        queue_depth: shape.queue_depth,
        jobs: shape.jobs,
        offset: shape.offset,
        span: shape.span,
        limit,
        engine: EngineChoice::Auto,
        // The harness's writes always carry the integrity stamp: measure that cost.
        data: WriteData::Stamped {
            device_id: STAMP_DEVICE,
            generation,
            seed: generation,
        },
        chunk: ctx.pool.chunk,
        direct: true,
    };
    let (out, cost) = sampled(ctx.sampler, sampling, || {
        tbio::run(dev, &p, signals::stop_flag())
    });
    let out = out?;
    if out.interrupted {
        return Err("interrupted".into());
    }
    Ok((out, cost))
}

/// fio on `dev` with `job`; its job file and JSON are kept in the run's `fio/` directory
/// (named by case, step and `tag`).
pub(super) fn run_fio(
    ctx: &mut StepCtx<'_>,
    dev: &Path,
    job: &str,
    tag: &str,
    sampling: bool,
) -> Result<FioReport, StepError> {
    let dir = ctx.rec.dir().join("fio");
    std::fs::create_dir_all(&dir).context(format!("{}", dir.display()))?;
    let stem = format!("{}-{}-{tag}", ctx.pool.name, ctx.step.name);
    let job_path = dir.join(format!("{stem}.fio"));
    let json_path = dir.join(format!("{stem}.json"));
    // The exact text fio will read, checked again (validation checked the scenario's;
    // this covers the generated jobs and anything between validation and here).
    fio::check_job_text(job).map_err(|e| {
        format!(
            "refusing to run fio: line {} of the job: {}",
            e.line, e.message
        )
    })?;
    std::fs::write(&job_path, job).context(format!("{}", job_path.display()))?;
    let args = [
        "--output-format=json".to_owned(),
        format!("--output={}", json_path.display()),
        format!("--filename={}", dev.display()),
        // Whatever fio writes besides its JSON (verify state when a verify job is cut
        // short) goes into the run's fio/ directory, never fio's working directory; and
        // no verify state is written at all (the allowlist admits only 0 for it).
        format!("--aux-path={}", dir.display()),
        "--verify_state_save=0".to_owned(),
        // One merged entry per group: percentiles cannot be merged afterwards.
        "--group_reporting".to_owned(),
        job_path.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ran, _) = sampled(ctx.sampler, sampling, || {
        crate::sys::command::run("fio", &args)
    });
    ran?;
    let text = thinbench_schema::untrusted::read_text(
        &json_path,
        thinbench_schema::untrusted::limit::TOOL_OUTPUT,
    )
    .map_err(|e| format!("fio's JSON {e}"))?;
    Ok(fio::parse_json(&text).map_err(|e| format!("{e} (in {})", json_path.display()))?)
}

/// Replay chunks thinbench's engine wrote into the model (as whole-chunk writes, clipped
/// to the thin: a chunk's first write allocates one block however much of it is
/// written) and the chunks-touched count; void the integrity log over `[start, end)`,
/// which holds unlogged data now.
fn account_writes(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    size: Bytes,
    chunks: &ChunkSet,
    (start, end): (Bytes, Bytes),
) -> Result<(i64, u64), StepError> {
    let id = ctx
        .backend
        .thin(thin)
        .ok_or_else(|| format!("no thin {thin}"))?
        .id;
    let cb = ctx.pool.chunk.bytes().0;
    let model = ctx.state.model.as_mut().ok_or("no model")?;
    let mut net = 0;
    for c in chunks.iter() {
        let from = c * cb;
        let len = (from + cb).min(size.0).saturating_sub(from);
        if len > 0 {
            net += model.write(id, Bytes(from), Bytes(len))?.net_blocks();
        }
    }
    if let Some(log) = ctx.state.log.get_mut(thin) {
        log.retain(|(o, l, _)| o.0 + l.0 <= start.0 || o.0 >= end.0);
    }
    let first = first_touched(ctx, thin, chunks);
    Ok((net, first))
}

pub(super) fn to_shape(s: &IoShape, size: Bytes) -> Shape {
    Shape {
        rw: s.rw,
        io_size: s.io_size,
        queue_depth: s.queue_depth as usize,
        jobs: s.jobs as usize,
        offset: s.offset,
        span: s.span.unwrap_or(Bytes(size.0 - s.offset.0)),
        runtime: match s.length {
            IoLength::Runtime(d) => Some(d),
            IoLength::Count(_) => None,
        },
        ios_per_job: match s.length {
            IoLength::Count(n) => Some(n.div_ceil(u64::from(s.jobs))),
            IoLength::Runtime(_) => None,
        },
    }
}

/// The `io` action.
pub fn io(ctx: &mut StepCtx<'_>, spec: &IoSpec) -> Result<ActionOutput, StepError> {
    match &spec.target {
        IoTarget::Thin(thin) => io_thin(ctx, thin, &spec.engine),
        IoTarget::Device(name) => io_device(ctx, name, &spec.engine),
        // Dispatched to `io_file.rs` by `actions::run`.
        IoTarget::File { .. } => Err("io on a file is io_file's".into()),
    }
}

/// `io` on a thin: the model learns its writes (replayed, or resynced after fio).
fn io_thin(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    engine: &IoEngineSpec,
) -> Result<ActionOutput, StepError> {
    let (dev, size) = thin_dev(ctx, thin)?;
    let mut out = ActionOutput::default();
    match engine {
        IoEngineSpec::Thinbench(s) => {
            let shape = to_shape(s, size);
            let (r, _) = run_engine(ctx, &dev, &shape, limit_of(s.length), s.seed, true)?;
            let (net, first) = account_writes(
                ctx,
                thin,
                size,
                &r.chunks_touched,
                (shape.offset, Bytes(shape.offset.0 + shape.span.0)),
            )?;
            out.predicted = Some(net);
            out.first_touched = Some(first);
            out.checks.push(engine_check(&r, shape.queue_depth));
            out.metrics.push(max_in_flight(&r));
            out.workload = Some(r.stats);
        }
        IoEngineSpec::FioShape(s) => {
            let shape = to_shape(s, size);
            let writes = matches!(s.rw, FioRw::RandWrite | FioRw::Write);
            let rep = fio_step(ctx, thin, &dev, &fio::job_text(&shape), writes, &mut out)?;
            out.workload = Some(rep.stats);
            out.phases = rep.phases;
        }
        IoEngineSpec::FioJob { text, .. } => {
            let rep = fio_step(ctx, thin, &dev, text, true, &mut out)?;
            out.workload = Some(rep.stats);
            out.phases = rep.phases;
        }
    }
    Ok(out)
}

/// `io` on a device of the case (a baseline beside the thins): the pool is not touched
/// (predicted 0) unless the device is over thins, whose accounting is then resynced
/// from the metadata; writes replace the device's stamped content, which no later step
/// can check then (validation refuses one that would).
fn io_device(
    ctx: &mut StepCtx<'_>,
    name: &Ident,
    engine: &IoEngineSpec,
) -> Result<ActionOutput, StepError> {
    let (dev, size) = {
        let d = ctx
            .state
            .device(name)
            .ok_or_else(|| format!("no device {name}"))?;
        (d.device.dm.devnode(), d.device.size)
    };
    let used0 = super::device_over::used_if_over(ctx, name);
    let mut out = ActionOutput {
        predicted: Some(0),
        predicted_note: Some(format!("IO to device {name}, not the pool")),
        ..Default::default()
    };
    let writes = match engine {
        IoEngineSpec::Thinbench(s) => {
            let shape = to_shape(s, size);
            let (r, _) = run_engine(ctx, &dev, &shape, limit_of(s.length), s.seed, true)?;
            out.checks.push(engine_check(&r, shape.queue_depth));
            out.metrics.push(max_in_flight(&r));
            out.workload = Some(r.stats);
            matches!(s.rw, FioRw::RandWrite | FioRw::Write)
        }
        IoEngineSpec::FioShape(s) => {
            let rep = run_fio(ctx, &dev, &fio::job_text(&to_shape(s, size)), "job", true)?;
            out.workload = Some(rep.stats);
            out.phases = rep.phases;
            matches!(s.rw, FioRw::RandWrite | FioRw::Write)
        }
        IoEngineSpec::FioJob { text, .. } => {
            let rep = run_fio(ctx, &dev, text, "job", true)?;
            out.workload = Some(rep.stats);
            out.phases = rep.phases;
            true
        }
    };
    if writes {
        let by = format!("step {}", ctx.step.name);
        ctx.state.device_written(name, &by);
    }
    if let Some(used0) = used0 {
        super::device_over::resync_io(ctx, name, used0, &mut out)?;
    }
    Ok(out)
}

fn max_in_flight(r: &IoOutcome) -> thinbench_schema::record::Metric {
    metric(
        "io.max_in_flight",
        r.max_in_flight as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    )
}

/// fio on a thin as a step: the run, and the model rebuilt from the kernel's metadata
/// when the job may have written (a read-only job changes nothing: predicted 0).
fn fio_step(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    dev: &Path,
    job: &str,
    may_write: bool,
    out: &mut ActionOutput,
) -> Result<FioReport, StepError> {
    let used0 = ctx
        .state
        .model
        .as_ref()
        .ok_or("no model")?
        .data_blocks_used()
        .0;
    let rep = run_fio(ctx, dev, job, "job", true)?;
    out.checks.push(ExpectationResult {
        what: "fio's JSON parsed".into(),
        expected: "a report".into(),
        observed: format!("{} ({} job entries)", rep.version, rep.job_entries),
        status: Status::Passed,
        message: None,
    });
    if may_write {
        let id = ctx
            .backend
            .thin(thin)
            .ok_or_else(|| format!("no thin {thin}"))?
            .id;
        // The thin's integrity log is void (fio's data is not stamped); an entry makes
        // the resync count fio's chunks as written in it.
        ctx.state.log.insert(thin.clone(), Vec::new());
        let (check, _) = super::resync::resync(ctx, &[id], "after fio")?;
        out.checks.push(check);
        let end = ctx
            .state
            .model
            .as_ref()
            .ok_or("no model")?
            .data_blocks_used()
            .0;
        out.predicted = Some(end as i64 - used0 as i64);
        out.predicted_note = Some("resynced from thin_dump: fio-chosen IO".into());
    } else {
        out.predicted = Some(0);
    }
    Ok(rep)
}

/// Whether thinbench's engine ran on io_uring at the depth asked for.
fn engine_check(r: &IoOutcome, depth: usize) -> ExpectationResult {
    let expected = format!("io_uring, {depth} in flight");
    let observed = format!("{}, {} in flight", r.engine.as_str(), r.max_in_flight);
    let ok = expected == observed;
    ExpectationResult {
        what: "engine ran at the configured queue depth".into(),
        message: (!ok).then(|| match &r.fallback {
            Some(why) => format!("io_uring unavailable ({why}): the synchronous engine ran"),
            None => format!("expected {expected}, observed {observed}"),
        }),
        expected,
        observed,
        status: if ok { Status::Passed } else { Status::Failed },
    }
}

/// One case of the peer benchmark.
struct Case {
    name: &'static str,
    rw: FioRw,
    io_size: u64,
    queue_depth: usize,
}

/// The four cases.
const CASES: [Case; 4] = [
    Case {
        name: "randwrite-4k-qd1",
        rw: FioRw::RandWrite,
        io_size: 4096,
        queue_depth: 1,
    },
    Case {
        name: "randwrite-4k-qd32",
        rw: FioRw::RandWrite,
        io_size: 4096,
        queue_depth: 32,
    },
    Case {
        name: "write-64k-qd8",
        rw: FioRw::Write,
        io_size: 65536,
        queue_depth: 8,
    },
    Case {
        name: "randread-4k-qd32",
        rw: FioRw::RandRead,
        io_size: 4096,
        queue_depth: 32,
    },
];

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// thinbench / fio; 0 when fio measured nothing (the checks then fail).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn phase(name: String, stats: &WorkloadStats) -> PhaseStats {
    PhaseStats {
        name,
        stats: stats.clone(),
    }
}

/// A peer run counts only if it did IO and none failed.
fn ran_clean(who: &str, stats: &WorkloadStats) -> Result<(), StepError> {
    if stats.ops == 0 || stats.errors > 0 {
        return Err(format!(
            "{who} did {} IOs, {} errors ({})",
            stats.ops,
            stats.errors,
            stats.first_error.as_deref().unwrap_or("no error")
        )
        .into());
    }
    Ok(())
}

/// The `engine-vs-fio` action.
pub fn engine_vs_fio(ctx: &mut StepCtx<'_>, spec: &PeerSpec) -> Result<ActionOutput, StepError> {
    let (dev, size) = thin_dev(ctx, &spec.thin)?;
    let mut out = ActionOutput::default();
    let region = (Bytes(0), spec.span);
    let shape_of = |c: &Case| Shape {
        rw: c.rw,
        io_size: Bytes(c.io_size),
        queue_depth: c.queue_depth,
        jobs: 1,
        offset: Bytes(0),
        span: spec.span,
        runtime: Some(spec.runtime),
        ios_per_job: None,
    };

    // Provision the region: 64KiB sequential writes at QD8, once over it.
    let pre = Shape {
        rw: FioRw::Write,
        io_size: Bytes(64 * 1024),
        queue_depth: 8,
        jobs: 1,
        offset: Bytes(0),
        span: spec.span,
        runtime: None,
        ios_per_job: None,
    };
    let (r, _) = run_engine(
        ctx,
        &dev,
        &pre,
        IoLimit::Count(spec.span.0 / pre.io_size.0),
        1,
        true,
    )?;
    if r.stats.errors > 0 || r.stats.bytes != spec.span {
        return Err(format!(
            "prewrite of {} wrote {} ({} errors, first: {})",
            spec.span.human(),
            r.stats.bytes.human(),
            r.stats.errors,
            r.stats.first_error.as_deref().unwrap_or("none")
        )
        .into());
    }
    let (net, first) = account_writes(
        ctx,
        &spec.thin,
        size,
        &r.chunks_touched,
        (region.0, region.1),
    )?;
    out.predicted = Some(net);
    out.first_touched = Some(first);
    out.phases.push(phase("prewrite".into(), &r.stats));

    let pct = |m: &str, v: f64, unit: &str, b: Better| metric(m, v, unit, MetricKind::Timing, b);
    let mut all_parsed = Vec::new();
    let mut io_uring_everywhere = true;
    for c in &CASES {
        let shape = shape_of(c);
        let job = fio::job_text(&shape);
        let (mut tb_iops, mut tb_p99, mut fio_iops, mut fio_p99) = (vec![], vec![], vec![], vec![]);
        let mut min_in_flight = usize::MAX;
        let mut last_engine = None;
        for round in 1..=spec.rounds {
            // A B B A …: thinbench first in odd rounds, fio first in even ones, so neither
            // engine always runs on the colder device or the later, drifted machine.
            let order = if round % 2 == 1 {
                [true, false]
            } else {
                [false, true]
            };
            for thinbench_turn in order {
                if thinbench_turn {
                    let seed = u64::from(round);
                    let (r, _) = run_engine(
                        ctx,
                        &dev,
                        &shape,
                        IoLimit::Runtime(spec.runtime),
                        seed,
                        true,
                    )?;
                    ran_clean(
                        &format!("{} round {round}: thinbench's engine", c.name),
                        &r.stats,
                    )?;
                    tb_iops.push(r.stats.iops);
                    tb_p99.push(r.stats.latency.p99_ns as f64);
                    min_in_flight = min_in_flight.min(r.max_in_flight);
                    io_uring_everywhere &= r.engine == EngineKind::IoUring;
                    out.phases
                        .push(phase(format!("{}/thinbench/{round}", c.name), &r.stats));
                    last_engine = Some(r);
                } else {
                    let f = run_fio(ctx, &dev, &job, &format!("{}-{round}", c.name), true)?;
                    ran_clean(&format!("{} round {round}: fio", c.name), &f.stats)?;
                    fio_iops.push(f.stats.iops);
                    fio_p99.push(f.stats.latency.p99_ns as f64);
                    all_parsed.push(format!("{} {round}: {}", c.name, f.version));
                    out.phases
                        .push(phase(format!("{}/fio/{round}", c.name), &f.stats));
                }
            }
        }
        let n = c.name;
        let (ti, fi, tp, fp) = (
            mean(&tb_iops),
            mean(&fio_iops),
            mean(&tb_p99),
            mean(&fio_p99),
        );
        out.metrics.extend([
            pct(
                &format!("peer.{n}.thinbench_iops"),
                ti,
                "iops",
                Better::Higher,
            ),
            pct(&format!("peer.{n}.fio_iops"), fi, "iops", Better::Higher),
            pct(
                &format!("peer.{n}.iops_ratio"),
                ratio(ti, fi),
                "ratio",
                Better::Higher,
            ),
            pct(
                &format!("peer.{n}.thinbench_p99_ns"),
                tp,
                "ns",
                Better::Lower,
            ),
            pct(&format!("peer.{n}.fio_p99_ns"), fp, "ns", Better::Lower),
            pct(
                &format!("peer.{n}.p99_ratio"),
                ratio(tp, fp),
                "ratio",
                Better::Lower,
            ),
            metric(
                &format!("peer.{n}.queue_depth"),
                c.queue_depth as f64,
                "count",
                MetricKind::Exact,
                Better::Neither,
            ),
            metric(
                &format!("peer.{n}.max_in_flight"),
                min_in_flight as f64,
                "count",
                MetricKind::Exact,
                Better::Neither,
            ),
        ]);
        if let Some(r) = last_engine {
            let mut chk = engine_check(&r, c.queue_depth);
            chk.what = format!("{n}: {}", chk.what);
            chk.observed = format!(
                "{}, {min_in_flight} in flight (least of {} rounds; ring {})",
                r.engine.as_str(),
                spec.rounds,
                r.ring_setup.map_or("-", |s| s.as_str())
            );
            chk.status = if r.engine == EngineKind::IoUring && min_in_flight == c.queue_depth {
                Status::Passed
            } else {
                Status::Failed
            };
            out.checks.push(chk);
        }
    }
    out.checks.push(ExpectationResult {
        what: "fio's JSON parsed for every fio run".into(),
        expected: format!("{} runs", CASES.len() as u32 * spec.rounds),
        observed: format!("{} runs", all_parsed.len()),
        status: if all_parsed.len() == CASES.len() * spec.rounds as usize {
            Status::Passed
        } else {
            Status::Failed
        },
        message: None,
    });
    out.metrics.push(metric(
        "peer.engine_io_uring",
        f64::from(u8::from(io_uring_everywhere)),
        "bool",
        MetricKind::Exact,
        Better::Neither,
    ));

    if spec.sampling_cost {
        // Status sampling's cost: thinbench's engine, 4KiB random writes QD32, sampling
        // off and on alternating (off first, so neither always runs second).
        let shape = shape_of(&CASES[1]);
        let (mut off, mut on) = (vec![], vec![]);
        let mut cost = SamplerCost::default();
        for round in 1..=spec.rounds {
            for sampling in [false, true] {
                let (r, c) = run_engine(
                    ctx,
                    &dev,
                    &shape,
                    IoLimit::Runtime(spec.runtime),
                    100 + u64::from(round),
                    sampling,
                )?;
                let label = if sampling { "on" } else { "off" };
                out.phases
                    .push(phase(format!("sampling-{label}/{round}"), &r.stats));
                if sampling { &mut on } else { &mut off }.push(r.stats.iops);
                if let Some(c) = c {
                    cost.samples += c.samples;
                    cost.cpu += c.cpu;
                    cost.wall += c.wall;
                }
            }
        }
        let (off, on) = (mean(&off), mean(&on));
        out.metrics.extend([
            pct("sampling.iops_off", off, "iops", Better::Higher),
            pct("sampling.iops_on", on, "iops", Better::Higher),
            pct(
                "sampling.cost_pct",
                if off > 0.0 {
                    (off - on) / off * 100.0
                } else {
                    0.0
                },
                "%",
                Better::Lower,
            ),
            // The sampler thread's own CPU time over the time it ran: what sampling
            // takes from a CPU-bound workload, measured by the kernel rather than read
            // out of two noisy throughputs.
            pct(
                "sampling.cpu_pct",
                if cost.wall.is_zero() {
                    0.0
                } else {
                    cost.cpu.as_secs_f64() / cost.wall.as_secs_f64() * 100.0
                },
                "%",
                Better::Lower,
            ),
            metric(
                "sampling.samples",
                cost.samples as f64,
                "count",
                MetricKind::Exact,
                Better::Neither,
            ),
            metric(
                "sampling.interval_ms",
                ctx.sampler
                    .map_or(crate::spec::DEFAULT_SAMPLE_INTERVAL, Sampler::interval)
                    .as_millis() as f64,
                "ms",
                MetricKind::Exact,
                Better::Neither,
            ),
        ]);
    }
    // Whole-step figures: the sum of every measured run is meaningless across shapes;
    // the headline is the QD32 random write by thinbench's engine.
    out.workload = out
        .phases
        .iter()
        .find(|p| p.name == "randwrite-4k-qd32/thinbench/1")
        .map(|p| p.stats.clone());
    Ok(out)
}

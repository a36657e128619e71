//! Runs a plan where the kernel under test is the running kernel (a host with dm, or the
//! guest inside the VM): one case per pool, the steps in order, pool status sampled at
//! each step and periodically, every workload checked by the accounting oracle
//! (`thinbench_workloads::model`), then reverse-order teardown.

mod sampler;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use thinbench_schema::record::{
    CaseResult, EnvironmentInfo, EventKind, ExpectationResult, PoolReport, PoolSample, PoolUsage, RunSummary,
    ScenarioInfo, Status, StepResult,
};
use thinbench_schema::units::Bytes;
use thinbench_workloads::model::PoolModel;
use thinbench_workloads::small_write;

use crate::backend::direct_lvm::{DirectLvmPool, Pv};
use crate::backend::loop_lvm::LoopLvmPool;
use crate::backend::names::Names;
use crate::backend::{BackendError, PoolBackend};
use crate::env::kmsg::Kmsg;
use crate::plan::{AccessPattern, Action, BlockCount, DeviceSpec, Expect, Limit, Plan, PoolKindSpec, PoolSpec, StepSpec};
use crate::record::Recorder;
use crate::sys::signals;

/// Where and as what a run executes.
pub struct RunContext {
    /// Run id (tags every device).
    pub run_id: String,
    /// Results directory.
    pub out_dir: PathBuf,
    /// Scratch directory for pool files and lvm config (removed at the end).
    pub work_dir: PathBuf,
    /// Environment facts.
    pub env: EnvironmentInfo,
    /// Whether `device = "auto"` can be resolved (VM scratch disks), by pool index.
    pub auto_devices: BTreeMap<usize, PathBuf>,
    /// RFC 3339 start time.
    pub started_at: String,
}

/// Run every case of `plan`; the summary is also written to `out_dir` as it goes.
pub fn run_plan(plan: &Plan, ctx: &RunContext, rec: &Recorder) -> RunSummary {
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
    rec.event(EventKind::RunStarted { run_id: ctx.run_id.clone(), scenario: plan.name.to_string() });
    rec.event(EventKind::Environment { info: Box::new(ctx.env.clone()) });
    let mut kmsg = Kmsg::open();
    let mut kernel_log = String::new();
    let mut overall = Status::Passed;
    for (index, pool) in plan.pools.iter().enumerate() {
        if signals::stop_requested() {
            break;
        }
        let case = run_case(plan, index, pool, ctx, &names, rec, &mut kmsg, &mut kernel_log);
        overall = overall.worst(case.status);
        summary.cases.push(case);
        let _ = rec.write_summary(&summary);
    }
    for line in kmsg.drain() {
        log_kernel_line(rec, &mut kernel_log, &line);
    }
    let _ = std::fs::write(ctx.out_dir.join("kernel.log"), &kernel_log);
    summary.kernel_problems =
        kernel_log.lines().filter(|l| crate::env::vm::is_kernel_problem(l)).map(str::to_owned).collect();
    if !summary.kernel_problems.is_empty() {
        overall = overall.worst(Status::Failed);
        summary.error = Some(format!("the kernel logged {} problem line(s)", summary.kernel_problems.len()));
    }
    if signals::stop_requested() {
        overall = Status::Incomplete;
        summary.error = Some("interrupted".into());
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
    rec.event(EventKind::KernelLog { line: line.to_owned() });
}

fn build_pool(
    index: usize,
    pool: &PoolSpec,
    ctx: &RunContext,
    names: &Names,
) -> Result<Box<dyn PoolBackend>, BackendError> {
    let dir = ctx.work_dir.join(pool.name.as_str());
    match &pool.kind {
        PoolKindSpec::LoopLvm(l) => {
            let d = match &l.dir {
                Some(p) if p.is_absolute() => p.join(&ctx.run_id).join(pool.name.as_str()),
                Some(p) => ctx.work_dir.join(p).join(pool.name.as_str()),
                None => dir,
            };
            Ok(Box::new(LoopLvmPool::create(pool, l, &d, names)?))
        }
        PoolKindSpec::DirectLvm(d) => {
            let pv = match &d.device {
                DeviceSpec::Auto { .. } => match ctx.auto_devices.get(&index) {
                    Some(p) => Pv::Device(p.clone()),
                    None => {
                        return Err(BackendError::Unsupported(format!(
                            "pool {}: device = \"auto\" needs a scratch disk, which only the VM environment makes; on a host use device = \"loop\" (a loop-backed PV) or a device path",
                            pool.name
                        )))
                    }
                },
                DeviceSpec::LoopBacked { size } => Pv::LoopFile(dir.join("pv.img"), *size),
                DeviceSpec::Path(p) => Pv::Device(p.clone()),
            };
            Ok(Box::new(DirectLvmPool::create(pool, d, pv, &dir.join("lvm"), names)?))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_case(
    plan: &Plan,
    index: usize,
    pool: &PoolSpec,
    ctx: &RunContext,
    names: &Names,
    rec: &Recorder,
    kmsg: &mut Kmsg,
    kernel_log: &mut String,
) -> CaseResult {
    let case_id = format!("{}/{}", plan.name, pool.name);
    rec.event(EventKind::CaseStarted { case: case_id.clone() });
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
        },
        steps: Vec::new(),
        error: None,
        teardown_errors: Vec::new(),
    };
    let mut backend = match build_pool(index, pool, ctx, names) {
        Ok(b) => b,
        Err(e) => {
            result.status = Status::Failed;
            result.error = Some(format!("building pool {}: {e}", pool.name));
            rec.event(EventKind::Error { message: result.error.clone().unwrap_or_default() });
            rec.event(EventKind::CaseFinished { case: case_id, status: result.status });
            return result;
        }
    };
    result.pool.device = Some(backend.device());
    let mut model = None;
    let mut last_mode = None;
    let mut written = Written::default();
    for step in plan.steps.iter().filter(|s| s.applies_to(&pool.name)) {
        if signals::stop_requested() {
            result.status = Status::Incomplete;
            break;
        }
        rec.event(EventKind::StepStarted { case: case_id.clone(), index: step.index, name: step.name.to_string() });
        let sr = run_step(step, pool, backend.as_mut(), &mut model, &mut written, rec, &mut last_mode);
        for line in kmsg.drain() {
            log_kernel_line(rec, kernel_log, &line);
        }
        result.status = result.status.worst(sr.status);
        rec.event(EventKind::StepFinished { case: case_id.clone(), result: Box::new(sr.clone()) });
        let failed = sr.status == Status::Failed && sr.error.is_some();
        result.steps.push(sr);
        if failed {
            // A step that errored leaves the pool in an unknown state: later steps would
            // only report noise.
            break;
        }
    }
    result.pool.final_usage = backend.status().ok();
    result.pool.construction = backend.construction();
    result.teardown_errors = backend.teardown();
    if !result.teardown_errors.is_empty() {
        result.status = result.status.worst(Status::Failed);
    }
    rec.event(EventKind::CaseFinished { case: case_id, status: result.status });
    result
}

fn sample(rec: &Recorder, pool: &str, step: Option<usize>, reason: &str, u: &PoolUsage) {
    rec.sample(&PoolSample {
        t_ms: rec.t_ms(),
        pool: pool.to_owned(),
        step,
        reason: reason.to_owned(),
        data_used: u.data_used.0,
        data_total: u.data_total.0,
        meta_used: u.meta_used.0,
        meta_total: u.meta_total.0,
        mode: u.mode.as_str().to_owned(),
        needs_check: u.needs_check,
    });
}

fn check(what: &str, expected: String, observed: String, step: &StepSpec) -> ExpectationResult {
    let ok = expected == observed;
    ExpectationResult {
        message: (!ok).then(|| format!("step {} ({}): {what}: expected {expected}, observed {observed}", step.index, step.name)),
        what: what.to_owned(),
        expected,
        observed,
        status: if ok { Status::Passed } else { Status::Failed },
    }
}

/// Chunks each thin has been written in by this run (snapshots inherit their origin's):
/// the independent "first touched" count that the `chunks-touched` expectation uses.
#[derive(Default)]
struct Written(BTreeMap<thinbench_schema::ids::Ident, std::collections::BTreeSet<u64>>);

fn run_step(
    step: &StepSpec,
    pool: &PoolSpec,
    backend: &mut dyn PoolBackend,
    model: &mut Option<PoolModel>,
    written: &mut Written,
    rec: &Recorder,
    last_mode: &mut Option<thinbench_schema::record::PoolMode>,
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
        if model.is_none() {
            *model = Some(PoolModel::new(pool.chunk, u.data_total));
        }
    }
    let mut predicted: Option<i64> = None;
    let mut first_touched: Option<u64> = None;
    let outcome: Result<(), String> = (|| {
        let m = model.as_mut().ok_or("pool status unreadable at the first step")?;
        match &step.action {
            Action::CreateThin { thin, id, size } => {
                let t = backend.create_thin(thin, *id, *size).map_err(|e| e.to_string())?;
                m.create_thin(t.id).map_err(|e| e.to_string())?;
                predicted = Some(0);
            }
            Action::Snapshot { thin, origin, id } => {
                let oid = backend.thin(origin).ok_or_else(|| format!("no thin {origin}"))?.id;
                let t = backend.snapshot(thin, origin, *id).map_err(|e| e.to_string())?;
                m.create_snap(t.id, oid).map_err(|e| e.to_string())?;
                let inherited = written.0.get(origin).cloned().unwrap_or_default();
                written.0.insert(thin.clone(), inherited);
                predicted = Some(0);
            }
            Action::DeleteThin { thin } => {
                let id = backend.thin(thin).ok_or_else(|| format!("no thin {thin}"))?.id;
                backend.delete_thin(thin).map_err(|e| e.to_string())?;
                let freed = m.delete(id).map_err(|e| e.to_string())?;
                written.0.remove(thin);
                predicted = Some(-(freed.0 as i64));
            }
            Action::SmallWrite(w) => {
                let (stats, p, chunks) = run_small_write(w, pool, backend, m, rec, step)?;
                let seen = written.0.entry(w.thin.clone()).or_default();
                first_touched = Some(chunks.iter().filter(|c| seen.insert(*c)).count() as u64);
                r.workload = Some(stats);
                predicted = Some(p);
            }
        }
        Ok(())
    })();
    r.pool_after = backend.status().ok();
    if let Some(u) = &r.pool_after {
        sample(rec, pname, Some(step.index), "step-end", u);
        rec.event(EventKind::PoolStatus { pool: pname.to_owned(), usage: Box::new(u.clone()) });
        if let Some(prev) = *last_mode {
            if prev != u.mode {
                rec.event(EventKind::ModeChange { pool: pname.to_owned(), from: prev, to: u.mode });
            }
        }
        *last_mode = Some(u.mode);
    }
    if let (Some(b), Some(a)) = (&r.pool_before, &r.pool_after) {
        r.data_blocks_allocated = Some(a.data_used.0 as i64 - b.data_used.0 as i64);
    }
    match outcome {
        Err(e) => {
            r.status = Status::Failed;
            r.error = Some(e);
        }
        Ok(()) => {
            let observed = r.data_blocks_allocated.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into());
            if let Some(p) = predicted {
                // The accounting oracle: the model's prediction, always checked.
                r.expectations.push(check("data blocks allocated == model", p.to_string(), observed.clone(), step));
            }
            for e in &step.expect {
                r.expectations.push(match e {
                    Expect::DataBlocksAllocated(BlockCount::Exact(n)) => {
                        check("data blocks allocated", n.to_string(), observed.clone(), step)
                    }
                    Expect::DataBlocksAllocated(BlockCount::ChunksTouched) => {
                        let touched = first_touched.map(|n| n.to_string()).unwrap_or_else(|| "n/a (not a workload step)".into());
                        check("data blocks allocated == distinct chunks first touched", touched, observed.clone(), step)
                    }
                    Expect::Mode(m) => check(
                        "pool mode",
                        m.as_str().to_owned(),
                        r.pool_after.as_ref().map(|u| u.mode.as_str().to_owned()).unwrap_or_else(|| "unknown".into()),
                        step,
                    ),
                    Expect::Errors(n) => check(
                        "workload IO errors",
                        n.to_string(),
                        r.workload.as_ref().map(|w| w.errors.to_string()).unwrap_or_else(|| "n/a".into()),
                        step,
                    ),
                });
            }
            if r.expectations.iter().any(|e| e.status == Status::Failed) {
                r.status = Status::Failed;
            }
        }
    }
    r.duration_ms = started.elapsed().as_millis() as u64;
    r
}

fn run_small_write(
    w: &crate::plan::SmallWriteSpec,
    pool: &PoolSpec,
    backend: &mut dyn PoolBackend,
    model: &mut PoolModel,
    rec: &Recorder,
    step: &StepSpec,
) -> Result<(thinbench_schema::record::WorkloadStats, i64, thinbench_workloads::small_write::ChunkSet), String> {
    let thin = backend.thin(&w.thin).ok_or_else(|| format!("no thin {}", w.thin))?.clone();
    let span = w.span.unwrap_or(Bytes(thin.size.0 - w.offset.0));
    let params = small_write::SmallWriteParams {
        io_size: w.io_size,
        offsets: match w.pattern {
            AccessPattern::Sequential => thinbench_workloads::offsets::OffsetPattern::Sequential,
            AccessPattern::Random { seed } => thinbench_workloads::offsets::OffsetPattern::Random { seed },
        },
        limit: match w.limit {
            Limit::Bytes(b) => thinbench_workloads::offsets::Limit::Bytes(b),
            Limit::Count(n) => thinbench_workloads::offsets::Limit::Count(n),
        },
        offset: w.offset,
        span,
        device_id: u64::from(thin.id.get()),
        generation: step.index as u64 + 1,
        seed: match w.pattern {
            AccessPattern::Random { seed } => seed,
            AccessPattern::Sequential => 0,
        },
        chunk: pool.chunk,
        stop_on_error: true,
        direct: true,
        fsync_at_end: true,
        record_writes: true,
    };
    let dev_path = thin.dm.devnode();
    let mut dev = thinbench_workloads::engine::Device::open(&dev_path, true).map_err(|e| e.to_string())?;
    let case = format!("{}", pool.name);
    let sampler = sampler::Sampler::start(rec.clone(), backend.pool_dm_name().to_owned(), pool.name.to_string(), step.index);
    let total = match w.limit {
        Limit::Bytes(b) => b.0,
        Limit::Count(n) => n * w.io_size.0,
    };
    let out = small_write::run(
        &mut dev,
        &params,
        &mut |p: small_write::Progress| {
            rec.event(EventKind::Progress { case: case.clone(), index: step.index, bytes: p.bytes.0, total });
        },
        signals::stop_flag(),
    );
    sampler.stop();
    let out = out.map_err(|e| e.to_string())?;
    let mut predicted = 0i64;
    for (off, len) in &out.writes {
        let eff = model.write(thin.id, *off, *len).map_err(|e| e.to_string())?;
        predicted += eff.net_blocks();
    }
    Ok((out.stats, predicted, out.chunks_touched))
}

/// Current time as RFC 3339 (UTC), without pulling in a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A new run id: `YYYYMMDDTHHMMSS-xxxx` (UTC time + 4 hex of pid/time entropy).
pub fn new_run_id() -> String {
    let t = now_rfc3339().replace(['-', ':'], "");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let x = (nanos ^ std::process::id().rotate_left(16)) & 0xffff;
    format!("{}-{x:04x}", &t[..15])
}

/// Whether `dir` looks like a results directory.
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_780), (2026, 11, 23));
        let id = new_run_id();
        assert_eq!(id.len(), 20, "{id}");
        assert_eq!(crate::backend::names::run_id_of(&format!("tb-{id}-p-pool")), Some(id.as_str()));
    }
    #[test]
    fn idents_unused() {
        let _ = thinbench_schema::ids::Ident::new("x");
    }
}

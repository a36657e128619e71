//! [`ReportModel`]: everything a report shows, computed once from the loaded runs.
//! Renderers only lay it out; no figure is computed twice or differently per format.

use crate::analysis::pairing::{pair, KindComparisonRow};
use crate::analysis::stats::{latency_curve, Nanos, Percentile};
pub use crate::fault_window::{fault_windows, FaultWindow};
use crate::run_info::RunInfo;
use std::collections::HashMap;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{
    Better, EventKind, Metric, PoolKind, PoolMode, PoolUsage, Status, WorkloadStats,
};
use thinbench_schema::units::{Bytes, DataBlocks, MetaBlocks};

/// Metric giving Docker's `dm.min_free_space` of a pool, in percent.
pub const MIN_FREE_SPACE_METRIC: &str = "pool.min_free_space_pct";
/// Metric giving a pool's low water mark in data blocks (when the table line does not).
pub const LOW_WATER_MARK_METRIC: &str = "pool.low_water_mark_blocks";
/// Metric giving the number of thins awaiting deferred deletion.
pub const DEFERRED_COUNT_METRIC: &str = "deferred.deleted_device_count";

/// The analysed content of a report over one or more runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReportModel {
    /// The runs, in the order given.
    pub runs: Vec<RunInfo>,
    /// Every pool of every run (one per case); indices into this are "pool ids".
    pub pools: Vec<PoolView>,
    /// Workload steps, grouped by step across pools, in first-seen order.
    pub workloads: Vec<WorkloadGroup>,
    /// Phases of multi-phase workloads (CoW), grouped by phase name.
    pub phases: Vec<PhaseGroup>,
    /// loop-lvm vs direct-lvm, for every figure both kinds measured.
    pub kind_comparison: Vec<KindComparisonRow>,
    /// Every metric of every step.
    pub metrics: Vec<MetricRow>,
    /// The accounting oracle's `... == model` expectations: model vs kernel per step.
    pub model_checks: Vec<ModelCheck>,
    /// Expectations checked, and how many passed.
    pub expectations: ExpectationCounts,
    /// What failed, was skipped or did not finish, with its reason.
    pub problems: Vec<Problem>,
    /// Things tolerated while loading.
    pub warnings: Vec<String>,
}

/// One pool (one case of one run).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolView {
    /// Label used in legends and tables; unique within the report.
    pub label: String,
    /// Kind: decides the colour.
    pub kind: PoolKind,
    /// 0 for the first pool of its kind in the report, 1 for the second...: decides the
    /// shade of the kind's colour.
    pub shade: usize,
    /// Index into [`ReportModel::runs`].
    pub run: usize,
    /// Case id.
    pub case_id: String,
    /// Case verdict.
    pub status: Status,
    /// Scenario's pool name.
    pub name: String,
    /// dm name of the pool device, when known.
    pub dm_name: Option<String>,
    /// Device description from the run.
    pub device: Option<String>,
    /// Data block (chunk) size.
    pub chunk: Bytes,
    /// Usage shown in the pool block, and where it came from.
    pub usage: Option<(PoolUsage, UsageSource)>,
    /// Docker's `dm.min_free_space`, percent.
    pub min_free_space_pct: Option<f64>,
    /// Low water mark in data blocks: the pool raises an event when fewer are free.
    pub low_water_mark: Option<DataBlocks>,
    /// Deferred removal/deletion figures.
    pub deferred: DeferredInfo,
    /// Usage over time.
    pub timeline: Timeline,
}

impl PoolView {
    /// Bytes of `n` data blocks of this pool.
    pub fn data_bytes(&self, n: DataBlocks) -> Bytes {
        Bytes(n.0.saturating_mul(self.chunk.0))
    }
}

/// Where a pool's shown usage was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSource {
    /// The case's final status, before teardown.
    CaseEnd,
    /// The last step's `pool_after` (the case recorded no final status).
    LastStep,
    /// The last row of `samples.csv`.
    LastSample,
}

impl UsageSource {
    /// Human text.
    pub fn describe(self) -> &'static str {
        match self {
            UsageSource::CaseEnd => "at the end of the case, before teardown",
            UsageSource::LastStep => "after the last step that ran",
            UsageSource::LastSample => "at the last sample",
        }
    }
}

/// Deferred removal/deletion as `docker info` shows it; `None` is "n/a" (the run
/// measured nothing deferred on this pool).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeferredInfo {
    /// Deferred removal was exercised.
    pub removal_enabled: Option<bool>,
    /// Deferred deletion was exercised.
    pub deletion_enabled: Option<bool>,
    /// Thins still awaiting deferred deletion at the end.
    pub deleted_device_count: Option<f64>,
}

/// A pool's usage over time with what happened along it.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The case's time span, ms since run start.
    pub window_ms: Option<(u64, u64)>,
    /// Readings from `samples.csv`.
    pub points: Vec<UsagePoint>,
    /// Steps with their start and end.
    pub steps: Vec<StepSpan>,
    /// Mode changes, low-water-mark events, exhaustion.
    pub marks: Vec<TimelineMark>,
    /// When each fault layer was in force.
    pub faults: Vec<FaultWindow>,
    /// The case's own timeline (faults, mode changes, kernel lines, errors, marks), as
    /// the run recorded it.
    pub events: Vec<thinbench_schema::record::TimelineEntry>,
}

/// One usage reading.
#[derive(Debug, Clone, PartialEq)]
pub struct UsagePoint {
    /// ms since run start.
    pub t_ms: u64,
    /// Step running.
    pub step: Option<usize>,
    /// Data blocks used.
    pub data_used: DataBlocks,
    /// Data blocks total.
    pub data_total: DataBlocks,
    /// Metadata blocks used.
    pub meta_used: MetaBlocks,
    /// Metadata blocks total.
    pub meta_total: MetaBlocks,
    /// Mode as the kernel spells it.
    pub mode: String,
}

impl UsagePoint {
    /// Data used, percent of total.
    pub fn data_pct(&self) -> f64 {
        pct(self.data_used.0, self.data_total.0)
    }
    /// Metadata used, percent of total.
    pub fn meta_pct(&self) -> f64 {
        pct(self.meta_used.0, self.meta_total.0)
    }
}

pub(crate) fn pct(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    }
}

/// A step on a pool's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpan {
    /// Step index.
    pub index: usize,
    /// Step name.
    pub name: String,
    /// Action.
    pub action: String,
    /// Verdict.
    pub status: Status,
    /// Start, ms since run start.
    pub start_ms: u64,
    /// End, ms since run start.
    pub end_ms: u64,
    /// Pool status before.
    pub before: Option<PoolUsage>,
    /// Pool status after.
    pub after: Option<PoolUsage>,
    /// Data blocks allocated by the step.
    pub allocated: Option<i64>,
}

/// Something that happened to a pool at a point in time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineMark {
    /// ms since run start.
    pub t_ms: u64,
    /// What.
    pub kind: MarkKind,
    /// Short text for the plot.
    pub label: String,
}

/// Kinds of [`TimelineMark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// The pool changed mode.
    ModeChange,
    /// The kernel logged "reached low water mark for data device".
    LowWaterMark,
    /// The kernel logged "reached low water mark for metadata device".
    MetadataLowWaterMark,
    /// Data space ran out.
    DataFull,
    /// Metadata space ran out.
    MetadataFull,
    /// `needs_check` was set.
    NeedsCheck,
    /// lvm's autoextend policy acted (or failed to), by dmeventd or thinbench's monitor.
    Autoextend,
}

/// One workload step across pools.
#[derive(Debug, Clone)]
pub struct WorkloadGroup {
    /// Step name (prefixed with the scenario when the report spans several).
    pub step: String,
    /// Workload kinds seen (`small-write`).
    pub workload: String,
    /// One per pool that ran it.
    pub entries: Vec<WorkloadEntry>,
}

/// One pool's figures for a workload step.
#[derive(Debug, Clone)]
pub struct WorkloadEntry {
    /// Pool id.
    pub pool: usize,
    /// Step index in the case.
    pub step_index: usize,
    /// Its figures.
    pub stats: WorkloadStats,
    /// Data blocks the pool allocated during the step.
    pub blocks_allocated: Option<i64>,
    /// Latency percentile curve (empty without IOs).
    pub curve: Vec<(Percentile, Nanos)>,
}

/// One phase of a multi-phase workload across pools.
#[derive(Debug, Clone)]
pub struct PhaseGroup {
    /// Phase name (`snapshot/sub-chunk/first`).
    pub name: String,
    /// One per pool and step that had it.
    pub entries: Vec<PhaseEntry>,
}

/// One pool's figures for a phase.
#[derive(Debug, Clone)]
pub struct PhaseEntry {
    /// Pool id.
    pub pool: usize,
    /// Step name.
    pub step: String,
    /// Figures.
    pub stats: WorkloadStats,
}

/// A metric with where it was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Pool id.
    pub pool: usize,
    /// Step index.
    pub step_index: usize,
    /// Step name.
    pub step: String,
    /// The metric.
    pub metric: Metric,
}

/// The reference model's prediction against the kernel's figure for one step.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCheck {
    /// Pool id.
    pub pool: usize,
    /// Step index.
    pub step_index: usize,
    /// Step name.
    pub step: String,
    /// What was checked.
    pub what: String,
    /// Model's value as text.
    pub expected: String,
    /// Kernel's value as text.
    pub observed: String,
    /// Model's value as a block count, when it is one.
    pub expected_blocks: Option<i64>,
    /// Kernel's value as a block count, when it is one.
    pub observed_blocks: Option<i64>,
    /// Verdict.
    pub status: Status,
}

/// Counts of checked expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpectationCounts {
    /// All.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

/// Something that did not pass, with its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// How bad (failed, skipped, incomplete).
    pub status: Status,
    /// Run id.
    pub run_id: String,
    /// Pool label, if it concerns one pool.
    pub pool: Option<String>,
    /// Step name, if it concerns one step.
    pub step: Option<String>,
    /// What: an expectation, a step, teardown, the kernel log.
    pub what: String,
    /// Details: numbers, error text.
    pub detail: String,
}

/// Analyse `runs` once for every renderer.
pub fn build_model(runs: &[LoadedRun]) -> ReportModel {
    let mut m = ReportModel {
        runs: runs.iter().map(RunInfo::of).collect(),
        pools: Vec::new(),
        workloads: Vec::new(),
        phases: Vec::new(),
        kind_comparison: Vec::new(),
        metrics: Vec::new(),
        model_checks: Vec::new(),
        expectations: ExpectationCounts::default(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let multi_run = runs.len() > 1;
    let multi_scenario = {
        let mut names: Vec<&str> = runs
            .iter()
            .map(|r| r.summary.scenario.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len() > 1
    };
    let mut workload_idx: HashMap<String, usize> = HashMap::new();
    let mut phase_idx: HashMap<String, usize> = HashMap::new();

    for (ri, run) in runs.iter().enumerate() {
        let s = &run.summary;
        let run_id = s.run_id.clone();
        m.warnings
            .extend(run.warnings.iter().map(|w| format!("run {run_id}: {w}")));
        if let Some(e) = &s.error {
            m.problems.push(Problem {
                status: s.status.worst(Status::Failed),
                run_id: run_id.clone(),
                pool: None,
                step: None,
                what: "run".into(),
                detail: e.clone(),
            });
        } else if s.status == Status::Incomplete {
            m.problems.push(Problem {
                status: Status::Incomplete,
                run_id: run_id.clone(),
                pool: None,
                step: None,
                what: "run".into(),
                detail: "the run did not finish: results are partial".into(),
            });
        }
        for line in &s.kernel_problems {
            m.problems.push(Problem {
                status: Status::Failed,
                run_id: run_id.clone(),
                pool: None,
                step: None,
                what: "kernel log".into(),
                detail: line.clone(),
            });
        }
        let step_key = |name: &str| {
            if multi_scenario {
                format!("{}/{name}", s.scenario.name)
            } else {
                name.to_owned()
            }
        };

        for case in &s.cases {
            let pid = m.pools.len();
            let kind = case.pool.kind;
            let shade = m.pools.iter().filter(|p| p.kind == kind).count();
            let mut label = if case.pool.name == kind.as_str() {
                case.pool.name.clone()
            } else {
                format!("{} ({})", case.pool.name, kind.as_str())
            };
            if multi_run {
                label = format!("{label} @{run_id}");
            }
            let pool = pool_model(run, ri, case, label.clone(), shade);
            m.pools.push(pool);

            if let Some(e) = &case.error {
                m.problems.push(Problem {
                    status: case.status,
                    run_id: run_id.clone(),
                    pool: Some(label.clone()),
                    step: None,
                    what: "case".into(),
                    detail: e.clone(),
                });
            }
            for e in &case.teardown_errors {
                m.problems.push(Problem {
                    status: Status::Failed,
                    run_id: run_id.clone(),
                    pool: Some(label.clone()),
                    step: None,
                    what: "teardown".into(),
                    detail: e.clone(),
                });
            }

            for step in &case.steps {
                if let Some(w) = &step.workload {
                    let key = step_key(&step.name);
                    let gi = *workload_idx.entry(key.clone()).or_insert_with(|| {
                        m.workloads.push(WorkloadGroup {
                            step: key.clone(),
                            workload: w.workload.clone(),
                            entries: Vec::new(),
                        });
                        m.workloads.len() - 1
                    });
                    let g = &mut m.workloads[gi];
                    if !g.workload.split(", ").any(|k| k == w.workload) {
                        g.workload = format!("{}, {}", g.workload, w.workload);
                    }
                    g.entries.push(WorkloadEntry {
                        pool: pid,
                        step_index: step.index,
                        stats: w.clone(),
                        blocks_allocated: step.data_blocks_allocated,
                        curve: latency_curve(&w.latency),
                    });
                }
                for ph in &step.phases {
                    let key = step_key(&ph.name);
                    let gi = *phase_idx.entry(key.clone()).or_insert_with(|| {
                        m.phases.push(PhaseGroup {
                            name: key.clone(),
                            entries: Vec::new(),
                        });
                        m.phases.len() - 1
                    });
                    m.phases[gi].entries.push(PhaseEntry {
                        pool: pid,
                        step: step.name.clone(),
                        stats: ph.stats.clone(),
                    });
                }
                for metric in &step.metrics {
                    m.metrics.push(MetricRow {
                        pool: pid,
                        step_index: step.index,
                        step: step.name.clone(),
                        metric: metric.clone(),
                    });
                }
                for e in &step.expectations {
                    m.expectations.total += 1;
                    match e.status {
                        Status::Passed => m.expectations.passed += 1,
                        Status::Skipped => m.expectations.skipped += 1,
                        Status::Failed | Status::Incomplete => m.expectations.failed += 1,
                    }
                    if e.what.contains("model") {
                        m.model_checks.push(ModelCheck {
                            pool: pid,
                            step_index: step.index,
                            step: step.name.clone(),
                            what: e.what.clone(),
                            expected: e.expected.clone(),
                            observed: e.observed.clone(),
                            expected_blocks: e.expected.trim().parse().ok(),
                            observed_blocks: e.observed.trim().parse().ok(),
                            status: e.status,
                        });
                    }
                    if e.status != Status::Passed {
                        let mut detail =
                            format!("expected {}, observed {}", e.expected, e.observed);
                        if let Some(msg) = &e.message {
                            detail = format!("{detail}: {msg}");
                        }
                        m.problems.push(Problem {
                            status: e.status,
                            run_id: run_id.clone(),
                            pool: Some(label.clone()),
                            step: Some(step.name.clone()),
                            what: e.what.clone(),
                            detail,
                        });
                    }
                }
                if let Some(err) = &step.error {
                    m.problems.push(Problem {
                        status: step.status.worst(Status::Failed),
                        run_id: run_id.clone(),
                        pool: Some(label.clone()),
                        step: Some(step.name.clone()),
                        what: format!("step `{}` ({})", step.name, step.action),
                        detail: err.clone(),
                    });
                }
            }
        }
    }
    m.kind_comparison = kind_comparison(&m);
    m
}

fn pool_model(
    run: &LoadedRun,
    ri: usize,
    case: &thinbench_schema::record::CaseResult,
    label: String,
    shade: usize,
) -> PoolView {
    let p = &case.pool;
    let metrics: Vec<&Metric> = case.steps.iter().flat_map(|s| s.metrics.iter()).collect();
    let last_metric = |name: &str| {
        metrics
            .iter()
            .rev()
            .find(|m| m.name == name)
            .map(|m| m.value)
    };

    let points: Vec<UsagePoint> = run
        .samples
        .iter()
        .filter(|s| s.pool == p.name)
        .map(|s| UsagePoint {
            t_ms: s.t_ms,
            step: s.step,
            data_used: DataBlocks(s.data_used),
            data_total: DataBlocks(s.data_total),
            meta_used: MetaBlocks(s.meta_used),
            meta_total: MetaBlocks(s.meta_total),
            mode: s.mode.clone(),
        })
        .collect();

    let usage = if let Some(u) = &p.final_usage {
        Some((u.clone(), UsageSource::CaseEnd))
    } else if let Some(u) = case.steps.iter().rev().find_map(|s| s.pool_after.clone()) {
        Some((u, UsageSource::LastStep))
    } else {
        points.last().map(|pt| {
            (
                PoolUsage {
                    transaction_id: 0,
                    data_used: pt.data_used,
                    data_total: pt.data_total,
                    meta_used: pt.meta_used,
                    meta_total: pt.meta_total,
                    mode: mode_from_str(&pt.mode).unwrap_or(PoolMode::Rw),
                    needs_check: false,
                    error_if_no_space: None,
                },
                UsageSource::LastSample,
            )
        })
    };

    let steps: Vec<StepSpan> = case
        .steps
        .iter()
        .map(|s| StepSpan {
            index: s.index,
            name: s.name.clone(),
            action: s.action.clone(),
            status: s.status,
            start_ms: s.started_ms,
            end_ms: s.started_ms + s.duration_ms,
            before: s.pool_before.clone(),
            after: s.pool_after.clone(),
            allocated: s.data_blocks_allocated,
        })
        .collect();

    let window_ms = case_window(run, &case.id, &steps, &points);
    let marks = timeline_marks(run, &p.name, window_ms, &points);

    let has_deferred = metrics.iter().any(|m| m.name.starts_with("deferred."));
    let flag = |explicit: &str, prefixes: &[&str]| -> Option<bool> {
        if let Some(v) = last_metric(explicit) {
            return Some(v != 0.0);
        }
        has_deferred.then(|| {
            metrics
                .iter()
                .any(|m| prefixes.iter().any(|pre| m.name.starts_with(pre)))
        })
    };
    // The recorded settings say what was configured; older runs are read from metrics.
    let settings = p.settings.as_ref();
    let deferred = DeferredInfo {
        removal_enabled: settings
            .map(|s| s.deferred_removal)
            .or_else(|| flag("deferred.removal_enabled", &["deferred.removal"])),
        deletion_enabled: settings.map(|s| s.deferred_deletion).or_else(|| {
            flag(
                "deferred.deletion_enabled",
                &["deferred.deletion", "deferred.deleted"],
            )
        }),
        deleted_device_count: last_metric(DEFERRED_COUNT_METRIC),
    };

    PoolView {
        label,
        kind: p.kind,
        shade,
        run: ri,
        case_id: case.id.clone(),
        status: case.status,
        name: p.name.clone(),
        dm_name: p
            .device
            .as_deref()
            .map(|d| d.split(" (").next().unwrap_or(d).to_owned()),
        device: p.device.clone(),
        chunk: p.chunk_bytes,
        usage,
        min_free_space_pct: settings
            .map(|s| f64::from(s.min_free_space_pct))
            .or_else(|| last_metric(MIN_FREE_SPACE_METRIC)),
        low_water_mark: last_metric(LOW_WATER_MARK_METRIC)
            .map(|v| DataBlocks(v.max(0.0) as u64))
            .or_else(|| p.construction.iter().find_map(|l| table_low_water_mark(l))),
        deferred,
        timeline: Timeline {
            window_ms,
            points,
            steps,
            marks,
            faults: fault_windows(&case.timeline),
            events: case.timeline.clone(),
        },
    }
}

/// The low water mark of a `thin-pool` table line: `<start> <len> thin-pool <meta dev>
/// <data dev> <block size> <low water mark> ...`.
pub(crate) fn table_low_water_mark(line: &str) -> Option<DataBlocks> {
    let mut words = line.split_whitespace().skip_while(|w| *w != "thin-pool");
    words.next()?;
    let lwm = words.nth(3)?;
    lwm.trim_matches(|c| c == '\'' || c == '"')
        .parse()
        .ok()
        .map(DataBlocks)
}

pub(crate) fn mode_from_str(s: &str) -> Option<PoolMode> {
    Some(match s {
        "rw" => PoolMode::Rw,
        "ro" => PoolMode::Ro,
        "out_of_data_space" => PoolMode::OutOfDataSpace,
        "Fail" => PoolMode::Fail,
        "Error" => PoolMode::Error,
        _ => return None,
    })
}

fn case_window(
    run: &LoadedRun,
    case_id: &str,
    steps: &[StepSpan],
    points: &[UsagePoint],
) -> Option<(u64, u64)> {
    let mut start = None;
    let mut end = None;
    for e in &run.events {
        match &e.kind {
            EventKind::CaseStarted { case } if case == case_id => start = Some(e.t_ms),
            EventKind::CaseFinished { case, .. } if case == case_id => end = Some(e.t_ms),
            _ => {}
        }
    }
    let lo = [
        start,
        steps.iter().map(|s| s.start_ms).min(),
        points.first().map(|p| p.t_ms),
    ]
    .into_iter()
    .flatten()
    .min()?;
    let hi = [
        end,
        steps.iter().map(|s| s.end_ms).max(),
        points.last().map(|p| p.t_ms),
    ]
    .into_iter()
    .flatten()
    .max()?;
    Some((lo, hi.max(lo + 1)))
}

fn timeline_marks(
    run: &LoadedRun,
    pool: &str,
    window: Option<(u64, u64)>,
    points: &[UsagePoint],
) -> Vec<TimelineMark> {
    let mut marks = Vec::new();
    let in_window = |t: u64| window.is_some_and(|(a, b)| t >= a && t <= b);
    let mut mode_events = false;
    for e in &run.events {
        match &e.kind {
            EventKind::ModeChange { pool: p, from, to } if p == pool => {
                mode_events = true;
                marks.push(TimelineMark {
                    t_ms: e.t_ms,
                    kind: MarkKind::ModeChange,
                    label: format!("{} → {}", from.as_str(), to.as_str()),
                });
            }
            EventKind::Autoextend {
                pool: p,
                by,
                from_blocks,
                to_blocks,
                ..
            } if p == pool => marks.push(TimelineMark {
                t_ms: e.t_ms,
                kind: MarkKind::Autoextend,
                label: match to_blocks {
                    Some(to) => format!("{by}: autoextend {from_blocks} → {to} blocks"),
                    None => format!("{by}: autoextend failed at {from_blocks} blocks"),
                },
            }),
            // Kernel lines name the pool by dm device number, not by name; the case's
            // time window attributes them (cases run one after another). A line is
            // placed when the kernel logged it (`at_ms`), not when it was read.
            EventKind::KernelLog { line, at_ms, .. }
                if in_window(at_ms.unwrap_or(e.t_ms)) && line.contains("low water mark") =>
            {
                let meta = line.contains("metadata device");
                marks.push(TimelineMark {
                    t_ms: at_ms.unwrap_or(e.t_ms),
                    kind: if meta {
                        MarkKind::MetadataLowWaterMark
                    } else {
                        MarkKind::LowWaterMark
                    },
                    label: if meta {
                        "metadata low water mark event".into()
                    } else {
                        "low water mark event".into()
                    },
                });
            }
            _ => {}
        }
    }
    let mut prev: Option<&UsagePoint> = None;
    let (mut data_full, mut meta_full) = (false, false);
    for pt in points {
        if let Some(pv) = prev {
            if !mode_events && pv.mode != pt.mode {
                marks.push(TimelineMark {
                    t_ms: pt.t_ms,
                    kind: MarkKind::ModeChange,
                    label: format!("{} → {}", pv.mode, pt.mode),
                });
            }
        }
        if !data_full && pt.data_total.0 > 0 && pt.data_used >= pt.data_total {
            data_full = true;
            marks.push(TimelineMark {
                t_ms: pt.t_ms,
                kind: MarkKind::DataFull,
                label: "data space exhausted".into(),
            });
        }
        if !meta_full && pt.meta_total.0 > 0 && pt.meta_used >= pt.meta_total {
            meta_full = true;
            marks.push(TimelineMark {
                t_ms: pt.t_ms,
                kind: MarkKind::MetadataFull,
                label: "metadata space exhausted".into(),
            });
        }
        prev = Some(pt);
    }
    if let Some(pt) = points
        .iter()
        .find(|p| p.mode == "Fail" || p.mode == "Error")
    {
        if !marks
            .iter()
            .any(|m| m.t_ms == pt.t_ms && m.kind == MarkKind::ModeChange)
        {
            marks.push(TimelineMark {
                t_ms: pt.t_ms,
                kind: MarkKind::NeedsCheck,
                label: format!("pool {}", pt.mode),
            });
        }
    }
    marks.sort_by_key(|m| m.t_ms);
    marks
}

/// A workload figure compared across kinds: name, unit, direction, how to read it.
type KindFigure = (
    &'static str,
    &'static str,
    Better,
    fn(&WorkloadStats) -> f64,
);

fn kind_comparison(m: &ReportModel) -> Vec<KindComparisonRow> {
    let kind = |pool: usize| m.pools[pool].kind;
    let mut rows = Vec::new();
    for g in &m.workloads {
        let figures: [KindFigure; 4] = [
            ("IOPS", "IOPS", Better::Higher, |w| w.iops),
            ("MB/s", "MB/s", Better::Higher, |w| w.mb_per_s),
            ("p50 latency", "ns", Better::Lower, |w| {
                w.latency.p50_ns as f64
            }),
            ("p99 latency", "ns", Better::Lower, |w| {
                w.latency.p99_ns as f64
            }),
        ];
        for (fig, unit, better, f) in figures {
            let vals: Vec<(PoolKind, f64)> = g
                .entries
                .iter()
                .filter(|e| e.stats.ops > 0)
                .map(|e| (kind(e.pool), f(&e.stats)))
                .collect();
            rows.extend(pair(&g.step, fig, unit, better, &vals));
        }
    }
    for g in &m.phases {
        let figures: [KindFigure; 2] = [
            ("IOPS", "IOPS", Better::Higher, |w| w.iops),
            ("p50 latency", "ns", Better::Lower, |w| {
                w.latency.p50_ns as f64
            }),
        ];
        for (fig, unit, better, f) in figures {
            let vals: Vec<(PoolKind, f64)> = g
                .entries
                .iter()
                .filter(|e| e.stats.ops > 0)
                .map(|e| (kind(e.pool), f(&e.stats)))
                .collect();
            rows.extend(pair(&format!("phase {}", g.name), fig, unit, better, &vals));
        }
    }
    // Metrics: same step name and metric name on both kinds. Per-phase copies of phase
    // figures (`cow.<phase>.iops`) are already compared above.
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in &m.metrics {
        let k = (r.step.clone(), r.metric.name.clone());
        if !keys.contains(&k) && !is_phase_metric(&r.metric.name) {
            keys.push(k);
        }
    }
    for (step, name) in keys {
        let matching: Vec<&MetricRow> = m
            .metrics
            .iter()
            .filter(|r| r.step == step && r.metric.name == name)
            .collect();
        let vals: Vec<(PoolKind, f64)> = matching
            .iter()
            .map(|r| (kind(r.pool), r.metric.value))
            .collect();
        let first = &matching[0].metric;
        rows.extend(pair(&step, &name, &first.unit, first.better, &vals));
    }
    rows
}

/// Whether a metric repeats a phase's figure (`cow.snapshot/sub-chunk/first.iops`).
pub(crate) fn is_phase_metric(name: &str) -> bool {
    name.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_water_mark_from_table_line() {
        let l =
            "dmsetup create p --table '0 2097152 thin-pool 7:1 7:0 128 16384 1 skip_block_zeroing'";
        assert_eq!(table_low_water_mark(l), Some(DataBlocks(16384)));
        assert_eq!(table_low_water_mark("lvm lvcreate -n thinpool"), None);
    }
}

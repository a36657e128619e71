//! Runs against runs: one run (or a set of runs, the samples of `run --repeat`) against
//! another, every figure side by side with its change and a verdict. The verdicts are
//! the gate's words ([`Verdict`]); these rules are compare's own, simpler than the
//! gate's statistics:
//!
//! - exact figures (block counts, errors) must match exactly: a difference is `changed`
//!   whichever way it went (a deterministic figure moving is a behaviour change), and a
//!   side whose samples disagree is inconclusive;
//! - a timing is judged only with [`MIN_TIMING_SAMPLES`] a side, in one environment: the
//!   medians must differ by more than the noise band ([`NOISE_PCT`]) *and* every sample
//!   of one side lie beyond every sample of the other. One sample each says nothing
//!   about noise, so it is `inconclusive: one sample each`.
//!
//! [`CompareRules`] (the binary fills them from the gate's config) can declare a figure
//! varying (compared as a timing), exact, or ignored, and set its direction, noise band
//! and floor.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::stats::{median, pct_change};
use crate::run_info::RunInfo;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{Better, EnvironmentInfo, MetricKind, PoolKind, WorkloadStats};
use thinbench_schema::verdict::{Verdict, VerdictKind};

/// Timing changes of the medians within ± this many percent are called noise (unless a
/// rule sets another band).
pub const NOISE_PCT: f64 = 5.0;

/// Samples a side a timing needs before compare calls it improved or regressed.
pub const MIN_TIMING_SAMPLES: usize = 2;

/// Which figure, in the gate's names (docs/gate.md, "Figures"): what a gate config rule
/// matches, and what the command prints for a figure that failed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FigureId {
    /// Case id (`<scenario>/<pool>`).
    pub case: String,
    /// Step name.
    pub step: String,
    /// Figure name (`workload.iops`, `phase.<name>.p99_ns`, `data_blocks_allocated`, a
    /// metric's name); a name seen twice in one step is numbered `#2`, `#3`.
    pub name: String,
}

impl fmt::Display for FigureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} / {}", self.case, self.step, self.name)
    }
}

/// A figure as recorded, for deciding its rule: what a config's globs match against.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureAddress {
    /// Which figure.
    pub id: FigureId,
    /// The step's action (`small-write`, `fill`).
    pub action: String,
    /// Unit.
    pub unit: String,
    /// Exact or timing, as recorded.
    pub kind: MetricKind,
    /// Direction of improvement, as recorded.
    pub better: Better,
}

/// How a figure is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Must be equal.
    Exact,
    /// Varies run to run: compared as a timing.
    Varying,
    /// Left out (counted in [`Comparison::ignored`]).
    Ignore,
}

/// How one figure is compared.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRule {
    /// Exact, varying or ignored.
    pub treatment: Treatment,
    /// Direction of improvement.
    pub better: Better,
    /// Noise band on the change of the medians, in percent.
    pub noise_pct: f64,
    /// Absolute change (in the figure's unit) below which a varying figure is unchanged.
    pub floor: f64,
    /// Exact differences are improved or regressed by direction instead of `changed`.
    pub exact_directional: bool,
}

impl FigureRule {
    /// The rule of a figure no config speaks of: as recorded, [`NOISE_PCT`], no floor.
    pub fn recorded(kind: MetricKind, better: Better) -> FigureRule {
        FigureRule {
            treatment: match kind {
                MetricKind::Exact => Treatment::Exact,
                MetricKind::Timing => Treatment::Varying,
            },
            better,
            noise_pct: NOISE_PCT,
            floor: 0.0,
            exact_directional: false,
        }
    }
}

/// Rules that override how figures are compared (from the gate's config, `--config`).
/// The default: every figure as recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompareRules {
    /// The file the rules came from, for the reader.
    pub source: Option<PathBuf>,
    /// Per figure; figures not listed follow [`FigureRule::recorded`].
    pub figures: BTreeMap<FigureId, FigureRule>,
    /// A figure only in A is reported but does not fail (the gate's `missing = "ignore"`).
    pub missing_ignored: bool,
    /// The sides are the same runs on different kernels, on purpose (a kernel matrix):
    /// a kernel difference does not stop timings being judged; a clock, accelerator or
    /// CPU difference still does.
    pub across_kernels: bool,
}

impl CompareRules {
    fn rule_for(&self, f: &Figure) -> FigureRule {
        self.figures
            .get(&f.id)
            .cloned()
            .unwrap_or_else(|| FigureRule::recorded(f.metric_kind, f.better))
    }
}

/// Runs compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Comparison {
    /// The baseline run (the first, when A is a set).
    pub a: RunInfo,
    /// The run compared with it (the first, when B is a set).
    pub b: RunInfo,
    /// Run ids of every run in A.
    pub a_runs: Vec<String>,
    /// Run ids of every run in B.
    pub b_runs: Vec<String>,
    /// The scenarios differ: figures may not mean the same thing.
    pub scenario_differs: bool,
    /// Runs that are on both sides (the same run id, or the same directory): a warning,
    /// since a run compared with itself can only be unchanged.
    pub same_runs: Vec<String>,
    /// Environment fingerprint fields that differ.
    pub environment_differences: Vec<EnvDifference>,
    /// Why no timing is judged (kernels, accelerators, CPUs differ), if so.
    pub timings_not_comparable: Option<String>,
    /// The config the rules came from.
    pub config: Option<PathBuf>,
    /// Figures the rules left out.
    pub ignored: usize,
    /// Whether a figure only in A fails.
    pub missing_fails: bool,
    /// Every figure of either side.
    pub rows: Vec<ComparisonRow>,
}

impl Comparison {
    /// Rows with a verdict of this kind.
    pub fn count(&self, kind: VerdictKind) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict.kind() == kind)
            .count()
    }

    /// Whether a row's verdict fails the comparison: regressed, changed, and missing
    /// unless the rules ignore it.
    pub fn fails(&self, row: &ComparisonRow) -> bool {
        match row.verdict.kind() {
            VerdictKind::Regressed | VerdictKind::Changed => true,
            VerdictKind::Missing => self.missing_fails,
            _ => false,
        }
    }

    /// The rows that fail, in table order.
    pub fn failures(&self) -> impl Iterator<Item = &ComparisonRow> {
        self.rows.iter().filter(|r| self.fails(r))
    }
}

/// A fingerprint field that differs between the sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDifference {
    /// Field (`kernel`, `accel`, `cpu`).
    pub field: &'static str,
    /// Value in A (several, comma-separated, when A's runs disagree).
    pub a: String,
    /// Value in B.
    pub b: String,
}

/// One figure on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Which figure, in the gate's names.
    pub id: FigureId,
    /// Pool name.
    pub pool: String,
    /// Pool kind (from whichever side has the pool).
    pub kind: PoolKind,
    /// Step name (and phase, for phase figures).
    pub step: String,
    /// Figure (`IOPS`, `p99 latency`, a metric name).
    pub figure: String,
    /// Unit.
    pub unit: String,
    /// Exact or timing, after the rules.
    pub metric_kind: MetricKind,
    /// Direction of improvement, after the rules.
    pub better: Better,
    /// Value in A: the median of its samples.
    pub a: Option<f64>,
    /// Value in B: the median of its samples.
    pub b: Option<f64>,
    /// Samples in A.
    pub a_n: usize,
    /// Samples in B.
    pub b_n: usize,
    /// (B - A) / A in percent.
    pub change_pct: Option<f64>,
    /// Verdict.
    pub verdict: Verdict,
}

/// One figure of one run, keyed for matching.
#[derive(Debug, Clone)]
struct Figure {
    id: FigureId,
    action: String,
    pool: String,
    kind: PoolKind,
    step: String,
    figure: String,
    unit: String,
    metric_kind: MetricKind,
    better: Better,
    value: f64,
}

/// Where figures go as one run's steps are walked: its case, pool, step and action.
struct Collector<'a> {
    out: Vec<Figure>,
    case: &'a str,
    pool: &'a str,
    kind: PoolKind,
    step: &'a str,
    action: &'a str,
    /// lvm autoextended the step's pool: how much it wrote varies
    /// ([`thinbench_schema::autoextend`]).
    sized_by_lvm: bool,
}

impl Collector<'_> {
    fn push(
        &mut self,
        name: String,
        step_label: &str,
        label: &str,
        unit: &str,
        (metric_kind, better): (MetricKind, Better),
        value: f64,
    ) {
        let metric_kind =
            thinbench_schema::autoextend::kind_in_step(self.sized_by_lvm, &name, metric_kind);
        let mut id = FigureId {
            case: self.case.to_owned(),
            step: self.step.to_owned(),
            name: name.clone(),
        };
        // The same name twice in one step: numbered in order, as the gate does, so each
        // is compared with its counterpart.
        let mut n = 2;
        while self.out.iter().any(|f| f.id == id) {
            id.name = format!("{name} #{n}");
            n += 1;
        }
        self.out.push(Figure {
            id,
            action: self.action.to_owned(),
            pool: self.pool.to_owned(),
            kind: self.kind,
            step: step_label.to_owned(),
            figure: label.to_owned(),
            unit: unit.to_owned(),
            metric_kind,
            better,
            value,
        });
    }

    /// A workload's figures; `prefix` is `workload` or `phase.<name>` (the gate's names).
    fn workload(&mut self, prefix: &str, step_label: &str, w: &WorkloadStats) {
        use MetricKind::{Exact, Timing};
        let figures = [
            ("iops", "IOPS", "iops", (Timing, Better::Higher), w.iops),
            (
                "mb_per_s",
                "MB/s",
                "MB/s",
                (Timing, Better::Higher),
                w.mb_per_s,
            ),
            (
                "p50_ns",
                "p50 latency",
                "ns",
                (Timing, Better::Lower),
                w.latency.p50_ns as f64,
            ),
            (
                "p99_ns",
                "p99 latency",
                "ns",
                (Timing, Better::Lower),
                w.latency.p99_ns as f64,
            ),
            (
                "errors",
                "IO errors",
                "count",
                (Exact, Better::Lower),
                w.errors as f64,
            ),
            (
                "bytes",
                "bytes",
                "bytes",
                (Exact, Better::Neither),
                w.bytes.0 as f64,
            ),
            (
                "distinct_chunks_touched",
                "distinct chunks touched",
                "blocks",
                (Exact, Better::Neither),
                w.distinct_chunks_touched as f64,
            ),
        ];
        for (name, label, unit, kb, v) in figures {
            self.push(format!("{prefix}.{name}"), step_label, label, unit, kb, v);
        }
    }
}

fn figures(run: &LoadedRun) -> Vec<Figure> {
    let mut out = Vec::new();
    for case in &run.summary.cases {
        for s in &case.steps {
            let mut c = Collector {
                out,
                case: &case.id,
                pool: &case.pool.name,
                kind: case.pool.kind,
                step: &s.name,
                action: &s.action,
                sized_by_lvm: thinbench_schema::autoextend::sized_by_lvm(s),
            };
            if let Some(w) = &s.workload {
                c.workload("workload", &s.name, w);
            }
            for ph in &s.phases {
                let label = format!("{} / {}", s.name, ph.name);
                c.workload(&format!("phase.{}", ph.name), &label, &ph.stats);
            }
            if let Some(n) = s.data_blocks_allocated {
                let kb = (MetricKind::Exact, Better::Neither);
                let name = "data_blocks_allocated".to_owned();
                c.push(
                    name,
                    &s.name,
                    "data blocks allocated",
                    "blocks",
                    kb,
                    n as f64,
                );
            }
            for mt in &s.metrics {
                let kb = (mt.kind, mt.better);
                c.push(mt.name.clone(), &s.name, &mt.name, &mt.unit, kb, mt.value);
            }
            out = c.out;
        }
    }
    out
}

/// One side's figures: each with its value in every run that has it, in first-seen order.
fn side_figures(runs: &[LoadedRun]) -> Vec<(Figure, Vec<f64>)> {
    let mut out: Vec<(Figure, Vec<f64>)> = Vec::new();
    let mut index: BTreeMap<FigureId, usize> = BTreeMap::new();
    for run in runs {
        for f in figures(run) {
            match index.get(&f.id) {
                Some(&i) => out[i].1.push(f.value),
                None => {
                    index.insert(f.id.clone(), out.len());
                    let v = f.value;
                    out.push((f, vec![v]));
                }
            }
        }
    }
    out
}

/// Every figure of `runs` (the same figure in several runs once), for resolving rules.
pub fn figure_addresses(runs: &[LoadedRun]) -> Vec<FigureAddress> {
    side_figures(runs)
        .into_iter()
        .map(|(f, _)| FigureAddress {
            id: f.id,
            action: f.action,
            unit: f.unit,
            kind: f.metric_kind,
            better: f.better,
        })
        .collect()
}

/// A number as the verdict reasons write it: short, and whole numbers without `.0`.
fn num(x: f64) -> String {
    thinbench_schema::format::precise_number(x)
}

fn by_direction(better: Better, a: f64, b: f64) -> Verdict {
    match better {
        Better::Higher if b > a => Verdict::Improved,
        Better::Lower if b < a => Verdict::Improved,
        Better::Higher | Better::Lower => Verdict::Regressed,
        Better::Neither => Verdict::Changed,
    }
}

fn inconclusive(reason: impl Into<String>) -> Verdict {
    Verdict::Inconclusive {
        reason: reason.into(),
    }
}

/// An exact figure: every sample of a side must agree, and the sides must be equal.
fn exact_verdict(rule: &FigureRule, a: &[f64], b: &[f64]) -> Verdict {
    for (side, v) in [("A", a), ("B", b)] {
        if v.windows(2).any(|w| w[0] != w[1]) {
            let values: Vec<String> = v.iter().map(|x| num(*x)).collect();
            return inconclusive(format!(
                "varies within {side} ({}): declare it varying (kind = \"timing\") in the \
                 --config if that is expected",
                values.join(", ")
            ));
        }
    }
    let (Some(&x), Some(&y)) = (a.first(), b.first()) else {
        return inconclusive("no value");
    };
    if x == y {
        Verdict::Unchanged { note: None }
    } else if rule.exact_directional {
        by_direction(rule.better, x, y)
    } else {
        Verdict::Changed
    }
}

fn band(pct: f64) -> String {
    // 0.1 × 100 as the config gives it is not always 10 exactly.
    num((pct * 1e6).round() / 1e6)
}

fn range(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// A varying figure: judged only in one environment, with enough samples a side, when
/// the medians moved beyond the band and the sides' samples do not overlap.
fn timing_verdict(rule: &FigureRule, a: &[f64], b: &[f64], blocked: Option<&str>) -> Verdict {
    if let Some(why) = blocked {
        return inconclusive(why);
    }
    match (a.len(), b.len()) {
        (1, 1) => return inconclusive("one sample each"),
        (n, m) if n < MIN_TIMING_SAMPLES || m < MIN_TIMING_SAMPLES => {
            return inconclusive(format!(
                "too few samples (A {n}, B {m}; need {MIN_TIMING_SAMPLES} each)"
            ))
        }
        _ => {}
    }
    let (Some(ma), Some(mb)) = (median(a), median(b)) else {
        return inconclusive("no finite value");
    };
    if ma == mb {
        return Verdict::Unchanged { note: None };
    }
    if (mb - ma).abs() <= rule.floor {
        return Verdict::unchanged_because("under the floor");
    }
    let Some(change) = pct_change(ma, mb) else {
        return inconclusive("zero in A: a relative change means nothing");
    };
    if change.abs() < rule.noise_pct {
        return Verdict::unchanged_because(format!("within ±{}% noise", band(rule.noise_pct)));
    }
    let ((alo, ahi), (blo, bhi)) = (range(a), range(b));
    let apart = if mb > ma { blo > ahi } else { bhi < alo };
    if !apart {
        return inconclusive(format!(
            "samples overlap (A {}…{}, B {}…{})",
            num(alo),
            num(ahi),
            num(blo),
            num(bhi)
        ));
    }
    by_direction(rule.better, ma, mb)
}

fn judge(rule: &FigureRule, a: &[f64], b: &[f64], blocked: Option<&str>) -> Verdict {
    match rule.treatment {
        Treatment::Varying => timing_verdict(rule, a, b, blocked),
        Treatment::Exact | Treatment::Ignore => exact_verdict(rule, a, b),
    }
}

/// The fields of the environment, with the gate's fingerprint fields marked: when one
/// of those differs, timings are not comparable (docs/gate.md, "Fingerprints").
fn env_fields(e: &EnvironmentInfo) -> [(&'static str, Option<&'static str>, String); 8] {
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "n/a".into());
    [
        ("environment", Some("environments"), e.kind.clone()),
        ("kernel", Some("kernels"), e.kernel.clone()),
        ("accel", Some("accelerators"), opt(&e.accel)),
        ("cpu", Some("CPUs"), e.cpu_model.clone()),
        ("host cpu", Some("host CPUs"), e.host_cpu_model.clone()),
        ("cpus", None, e.cpus.to_string()),
        // Instruction-clock timings and wall timings measure different things.
        ("clock", Some("clocks"), crate::run_info::clock_cell(e)),
        ("thin-pool target", None, opt(&e.thin_pool_target_version)),
    ]
}

/// Fields whose values differ between the sides (or within one), and the reason timings
/// are not comparable when a fingerprint field is among them: the first by weight
/// (kernel, accelerator, environment, CPU, host CPU), naming the others.
fn env_differences(
    a: &[LoadedRun],
    b: &[LoadedRun],
    across_kernels: bool,
) -> (Vec<EnvDifference>, Option<String>) {
    let values = |runs: &[LoadedRun], i: usize| {
        let mut v: Vec<String> = Vec::new();
        for r in runs {
            let x = env_fields(&r.summary.environment)[i].2.clone();
            if !v.contains(&x) {
                v.push(x);
            }
        }
        v
    };
    let Some(first) = a.first().or(b.first()) else {
        return (Vec::new(), None);
    };
    let mut diffs = Vec::new();
    let mut blocking = Vec::new();
    for (i, (field, plural, _)) in env_fields(&first.summary.environment)
        .into_iter()
        .enumerate()
    {
        let (va, vb) = (values(a, i), values(b, i));
        if va == vb && va.len() == 1 {
            continue;
        }
        let d = EnvDifference {
            field,
            a: va.join(", "),
            b: vb.join(", "),
        };
        if let Some(p) = plural.filter(|p| !(across_kernels && *p == "kernels")) {
            blocking.push((p, format!("{p} differ: {} vs {}", d.a, d.b)));
        }
        diffs.push(d);
    }
    const WEIGHT: [&str; 6] = [
        "clocks",
        "kernels",
        "accelerators",
        "environments",
        "CPUs",
        "host CPUs",
    ];
    blocking.sort_by_key(|(p, _)| WEIGHT.iter().position(|w| w == p));
    let reason = blocking.split_first().map(|((_, first), rest)| {
        match rest.iter().map(|(p, _)| *p).collect::<Vec<_>>().as_slice() {
            [] => first.clone(),
            [one] => format!("{first}; so do {one}"),
            [init @ .., last] => format!("{first}; so do {} and {last}", init.join(", ")),
        }
    });
    (diffs, reason)
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Runs on both sides: by run id (a copy keeps its id), or by directory.
fn same_runs(a: &[LoadedRun], b: &[LoadedRun]) -> Vec<String> {
    let mut out = Vec::new();
    for x in a {
        let id = &x.summary.run_id;
        if b.iter().any(|y| &y.summary.run_id == id) {
            out.push(format!("run {id} is on both sides"));
        } else if b.iter().any(|y| canonical(&y.dir) == canonical(&x.dir)) {
            out.push(format!("{} is on both sides", x.dir.display()));
        }
    }
    out
}

fn scenarios(runs: &[LoadedRun]) -> BTreeSet<&str> {
    runs.iter()
        .map(|r| r.summary.scenario.name.as_str())
        .collect()
}

fn row(f: &Figure, rule: &FigureRule, a: &[f64], b: &[f64], verdict: Verdict) -> ComparisonRow {
    let (ma, mb) = (median(a), median(b));
    ComparisonRow {
        id: f.id.clone(),
        pool: f.pool.clone(),
        kind: f.kind,
        step: f.step.clone(),
        figure: f.figure.clone(),
        unit: f.unit.clone(),
        metric_kind: match rule.treatment {
            Treatment::Varying => MetricKind::Timing,
            Treatment::Exact | Treatment::Ignore => MetricKind::Exact,
        },
        better: rule.better,
        a: ma,
        b: mb,
        a_n: a.len(),
        b_n: b.len(),
        change_pct: ma.zip(mb).and_then(|(x, y)| pct_change(x, y)),
        verdict,
    }
}

/// Compare run `b` against baseline `a`: every figure of either, side by side, each as
/// recorded.
pub fn compare(a: &LoadedRun, b: &LoadedRun) -> Comparison {
    let (sa, sb) = (std::slice::from_ref(a), std::slice::from_ref(b));
    compare_runs((a, sa), (b, sb), &CompareRules::default())
}

/// Compare the runs of `b` against the baseline runs `a` (samples of each other: the
/// same figure in several runs of a side is one figure with several values) under
/// `rules`. `None` when a side has no run.
pub fn compare_sets(a: &[LoadedRun], b: &[LoadedRun], rules: &CompareRules) -> Option<Comparison> {
    Some(compare_runs((a.first()?, a), (b.first()?, b), rules))
}

/// [`compare_sets`] with each side's first run in hand: a side is never empty here.
fn compare_runs(
    (first_a, a): (&LoadedRun, &[LoadedRun]),
    (first_b, b): (&LoadedRun, &[LoadedRun]),
    rules: &CompareRules,
) -> Comparison {
    let (environment_differences, timings_not_comparable) =
        env_differences(a, b, rules.across_kernels);
    let blocked = timings_not_comparable.as_deref();
    let fa = side_figures(a);
    let fb = side_figures(b);
    let mut rows = Vec::with_capacity(fa.len().max(fb.len()));
    let mut ignored = 0;
    for (x, va) in &fa {
        let rule = rules.rule_for(x);
        if rule.treatment == Treatment::Ignore {
            ignored += 1;
            continue;
        }
        let r = match fb.iter().find(|(y, _)| y.id == x.id) {
            Some((_, vb)) => row(x, &rule, va, vb, judge(&rule, va, vb, blocked)),
            None => row(x, &rule, va, &[], Verdict::Missing),
        };
        rows.push(r);
    }
    for (y, vb) in fb
        .iter()
        .filter(|(y, _)| !fa.iter().any(|(x, _)| x.id == y.id))
    {
        let rule = rules.rule_for(y);
        if rule.treatment == Treatment::Ignore {
            ignored += 1;
            continue;
        }
        rows.push(row(y, &rule, &[], vb, Verdict::New));
    }
    Comparison {
        a: RunInfo::of(first_a),
        b: RunInfo::of(first_b),
        a_runs: a.iter().map(|r| r.summary.run_id.clone()).collect(),
        b_runs: b.iter().map(|r| r.summary.run_id.clone()).collect(),
        scenario_differs: scenarios(a) != scenarios(b),
        same_runs: same_runs(a, b),
        environment_differences,
        timings_not_comparable,
        config: rules.source.clone(),
        ignored,
        missing_fails: !rules.missing_ignored,
        rows,
    }
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;

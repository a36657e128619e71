//! Baseline against candidate: the runs are grouped by environment fingerprint, every
//! figure of every run collected into per-figure sample series, each series judged under
//! its resolved policy, and the whole summed into one [`GateReport`] that every output
//! (JSON, JUnit, Markdown, exports) renders without computing anything again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use thinbench_schema::record::{Better, MetricKind};
use thinbench_schema::verdict::{self, VerdictKind};

use crate::config::{GateConfig, Settings};
use crate::error::GateError;
use crate::figures::{run_figures, FigureClass, FigureKey, FigureMeta, Value};
use crate::fingerprint::Fingerprint;
use crate::load::LoadedRun;
use crate::stats;
use crate::verdict::{
    exact_verdict, status_verdict, timing_verdict, Outcome, TimingStats, Verdict,
};

/// Version of `gate.json`. Additive changes keep it; a change that breaks a reader bumps it.
pub const GATE_FORMAT_VERSION: u32 = 1;

/// The gate's overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// Nothing regressed, nothing inconclusive.
    Pass,
    /// Something regressed, changed or went missing.
    Regression,
    /// Nothing failed, but something could not be judged.
    Inconclusive,
}

/// One side's samples of a figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSummary {
    /// Number of samples.
    pub n: usize,
    /// The values, in run order.
    pub values: Vec<Value>,
    /// Median (numbers only).
    pub median: Option<f64>,
    /// Smallest (numbers only).
    pub min: Option<f64>,
    /// Largest (numbers only).
    pub max: Option<f64>,
}

impl SampleSummary {
    fn of(values: Vec<Value>) -> SampleSummary {
        let nums: Vec<f64> = values.iter().filter_map(Value::number).collect();
        let numeric = nums.len() == values.len();
        SampleSummary {
            n: values.len(),
            median: numeric.then(|| stats::median(&nums)).flatten(),
            min: numeric
                .then(|| nums.iter().copied().reduce(f64::min))
                .flatten(),
            max: numeric
                .then(|| nums.iter().copied().reduce(f64::max))
                .flatten(),
            values,
        }
    }

    /// The value to show: the median, or the single text value.
    pub fn display(&self) -> String {
        if let Some(m) = self.median {
            return thinbench_schema::format::precise_number(m);
        }
        let mut words: Vec<String> = self.values.iter().map(|v| v.to_string()).collect();
        words.dedup();
        words.join(" / ")
    }
}

/// One figure, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Slug of the environment it was measured in.
    pub fingerprint: String,
    /// Which figure.
    pub key: FigureKey,
    /// Step action, when step-level.
    pub action: Option<String>,
    /// What it is.
    pub class: FigureClass,
    /// Exact or timing, after the config.
    pub kind: MetricKind,
    /// Direction, after the config.
    pub better: Better,
    /// Unit.
    pub unit: String,
    /// Baseline samples (`None`: new figure).
    pub baseline: Option<SampleSummary>,
    /// Candidate samples (`None`: missing figure).
    pub candidate: Option<SampleSummary>,
    /// The verdict.
    pub verdict: Verdict,
    /// Pass, fail or inconclusive.
    pub outcome: Outcome,
    /// Statistics of a timing verdict.
    pub stats: Option<TimingStats>,
    /// The config rules that applied (`line:col`).
    pub rules: Vec<String>,
}

impl Row {
    /// One line saying why: the change, its interval and p-value, or the reason.
    pub fn explain(&self) -> String {
        self.explain_parts(true)
    }

    /// [`Row::explain`] without the change itself (for tables that show it apart).
    pub fn reason(&self) -> String {
        self.explain_parts(false)
    }

    fn explain_parts(&self, with_change: bool) -> String {
        let mut parts = Vec::new();
        if let Some(st) = &self.stats {
            if with_change {
                parts.push(thinbench_schema::format::relative_change(st.change));
            }
            if let Some(ci) = &st.ci {
                parts.push(format!(
                    "{:.0} % CI {} … {}",
                    ci.level * 100.0,
                    thinbench_schema::format::relative_change(ci.lo),
                    thinbench_schema::format::relative_change(ci.hi)
                ));
            }
            if let Some(t) = &st.test {
                parts.push(format!("p = {:.3}", t.p_value));
            }
        }
        match &self.verdict {
            Verdict::Inconclusive { reason } => parts.push(reason.describe()),
            Verdict::NotGated { reason } => parts.push(format!("not gated: {reason}")),
            Verdict::Unchanged { note: Some(n) } => parts.push(n.clone()),
            Verdict::Missing => parts.push("in the baseline, not in the candidate".into()),
            Verdict::New => parts.push("not in the baseline".into()),
            _ => {}
        }
        parts.join(", ")
    }
}

/// One environment's comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The environment.
    pub fingerprint: Fingerprint,
    /// Its directory-name slug.
    pub slug: String,
    /// Baseline run directories.
    pub baseline_runs: Vec<PathBuf>,
    /// Candidate run directories.
    pub candidate_runs: Vec<PathBuf>,
    /// Baseline cases the candidate did not run at all: not compared (a shard, or a
    /// scenario left out), listed so it is visible.
    pub not_in_candidate: Vec<String>,
}

/// Rows per verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Counts {
    /// Unchanged.
    pub unchanged: usize,
    /// Improved.
    pub improved: usize,
    /// Regressed.
    pub regressed: usize,
    /// Changed.
    pub changed: usize,
    /// Missing.
    pub missing: usize,
    /// New.
    pub new: usize,
    /// Inconclusive.
    pub inconclusive: usize,
    /// Shown, not judged (timings on the wall clock under emulation).
    pub not_gated: usize,
    /// Figures the config leaves out.
    pub ignored: usize,
}

impl Counts {
    /// "N regressed, N changed, … N new": the counts as the summary line and gate.md say
    /// them, in the shared worst-first order.
    pub fn describe(&self) -> String {
        verdict::counts_line(|k| self.of(k))
    }

    /// Rows with a verdict of this kind.
    pub fn of(&self, kind: VerdictKind) -> usize {
        let mut copy = *self;
        *copy.of_mut(kind)
    }

    fn of_mut(&mut self, kind: VerdictKind) -> &mut usize {
        match kind {
            VerdictKind::Unchanged => &mut self.unchanged,
            VerdictKind::Improved => &mut self.improved,
            VerdictKind::Regressed => &mut self.regressed,
            VerdictKind::Changed => &mut self.changed,
            VerdictKind::Missing => &mut self.missing,
            VerdictKind::New => &mut self.new,
            VerdictKind::Inconclusive => &mut self.inconclusive,
            VerdictKind::NotGated => &mut self.not_gated,
        }
    }
}

/// The gate's result: everything every output shows. `render::json` writes it as the
/// documented `gate.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct GateReport {
    /// [`GATE_FORMAT_VERSION`].
    pub format_version: u32,
    /// Overall verdict.
    pub verdict: Overall,
    /// Rows per verdict.
    pub counts: Counts,
    /// The config file, if one was given.
    pub config: Option<PathBuf>,
    /// The defaults in force.
    pub settings: Settings,
    /// One per candidate environment.
    pub groups: Vec<Group>,
    /// Every figure judged, ordered by environment, case, step, figure.
    pub rows: Vec<Row>,
}

impl GateReport {
    /// Rows with this outcome.
    pub fn with_outcome(&self, o: Outcome) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.outcome == o)
    }
}

type Series = BTreeMap<FigureKey, (FigureMeta, Vec<Value>)>;

fn series(runs: &[&LoadedRun]) -> Series {
    let mut out: Series = BTreeMap::new();
    for run in runs {
        for (key, (meta, v)) in run_figures(&run.summary) {
            out.entry(key)
                .or_insert_with(|| (meta, Vec::new()))
                .1
                .push(v);
        }
    }
    out
}

/// Compare `candidate` with `baseline` under `config`. Fails (no verdict) when a
/// candidate environment has no baseline runs, or the config does not fit a figure.
pub fn compare(
    baseline: &[LoadedRun],
    candidate: &[LoadedRun],
    config: &GateConfig,
) -> Result<GateReport, GateError> {
    let mut by_fp: BTreeMap<Fingerprint, (Vec<&LoadedRun>, Vec<&LoadedRun>)> = BTreeMap::new();
    for r in baseline {
        by_fp
            .entry(Fingerprint::of(&r.summary.environment))
            .or_default()
            .0
            .push(r);
    }
    for r in candidate {
        by_fp
            .entry(Fingerprint::of(&r.summary.environment))
            .or_default()
            .1
            .push(r);
    }
    // Every candidate environment needs a baseline; say how each available one differs.
    for (fp, (b, c)) in &by_fp {
        if !c.is_empty() && b.is_empty() {
            let mut baselines: Vec<(PathBuf, Fingerprint, _)> = Vec::new();
            for (bfp, (bruns, _)) in &by_fp {
                if let Some(first) = bruns.first() {
                    baselines.push((first.dir.clone(), bfp.clone(), bfp.differences(fp)));
                }
            }
            return Err(GateError::FingerprintMismatch {
                candidate: Box::new(fp.clone()),
                baselines,
            });
        }
    }

    let mut groups = Vec::new();
    let mut rows = Vec::new();
    let mut counts = Counts::default();
    for (fp, (b, c)) in by_fp.iter().filter(|(_, (_, c))| !c.is_empty()) {
        let slug = fp.slug();
        let (sb, sc) = (series(b), series(c));
        // Scope: the cases (and scenarios, for run-level figures) the candidate ran.
        let in_candidate: BTreeSet<&str> = sc.keys().map(|k| k.case.as_str()).collect();
        let mut not_in_candidate: Vec<String> = sb
            .keys()
            .map(|k| k.case.as_str())
            .filter(|case| !in_candidate.contains(case))
            .map(str::to_owned)
            .collect();
        not_in_candidate.dedup();
        let keys: BTreeSet<&FigureKey> = sb
            .keys()
            .filter(|k| in_candidate.contains(k.case.as_str()))
            .chain(sc.keys())
            .collect();
        for key in keys {
            let (bs, cs) = (sb.get(key), sc.get(key));
            let meta = match (bs, cs) {
                (_, Some((m, _))) | (Some((m, _)), None) => m,
                (None, None) => unreachable!("a key comes from one of the series"),
            };
            let res = config.resolve(key, meta, &fp.clock)?;
            if res.ignore {
                counts.ignored += 1;
                continue;
            }
            let (verdict, st) = match (bs, cs) {
                (Some(_), None) => (Verdict::Missing, None),
                (None, Some(_)) => (Verdict::New, None),
                (Some((_, bv)), Some((_, cv))) => judge(meta, &res, bv, cv, fp),
                (None, None) => unreachable!(),
            };
            let outcome = Outcome::of(&verdict, res.missing_fails);
            *counts.of_mut(verdict.kind()) += 1;
            rows.push(Row {
                fingerprint: slug.clone(),
                key: key.clone(),
                action: meta.action.clone(),
                class: meta.class,
                kind: res.kind,
                better: res.better,
                unit: meta.unit.clone(),
                baseline: bs.map(|(_, v)| SampleSummary::of(v.clone())),
                candidate: cs.map(|(_, v)| SampleSummary::of(v.clone())),
                verdict,
                outcome,
                stats: st,
                rules: res.rules,
            });
        }
        groups.push(Group {
            fingerprint: fp.clone(),
            slug,
            baseline_runs: b.iter().map(|r| r.dir.clone()).collect(),
            candidate_runs: c.iter().map(|r| r.dir.clone()).collect(),
            not_in_candidate,
        });
    }
    let verdict = if rows.iter().any(|r| r.outcome == Outcome::Fail) {
        Overall::Regression
    } else if rows.iter().any(|r| r.outcome == Outcome::Inconclusive) {
        Overall::Inconclusive
    } else {
        Overall::Pass
    };
    Ok(GateReport {
        format_version: GATE_FORMAT_VERSION,
        verdict,
        counts,
        config: config.source.clone(),
        settings: config.defaults.clone(),
        groups,
        rows,
    })
}

fn judge(
    meta: &FigureMeta,
    res: &crate::config::Resolved,
    bv: &[Value],
    cv: &[Value],
    fp: &Fingerprint,
) -> (Verdict, Option<TimingStats>) {
    match meta.class {
        FigureClass::Status | FigureClass::Expectation => (status_verdict(bv, cv), None),
        FigureClass::Text => (exact_verdict(bv, cv, Better::Neither, false), None),
        // The gate's own A/A trials under TCG found every wall-clock timing "too noisy"
        // (IOPS varied ~4x within one boot): no statistics make that a verdict.
        FigureClass::Metric if res.kind == MetricKind::Timing && fp.is_emulated_wall_clock() => (
            Verdict::NotGated {
                reason: "wall clock under emulation (TCG); use --clock instructions".into(),
            },
            None,
        ),
        FigureClass::Metric if res.kind == MetricKind::Timing => {
            let nums = |vs: &[Value]| vs.iter().filter_map(Value::number).collect::<Vec<_>>();
            let (v, st) = timing_verdict(&nums(bv), &nums(cv), &res.timing);
            (v, st)
        }
        FigureClass::Metric => (
            exact_verdict(bv, cv, res.better, res.exact_directional),
            None,
        ),
    }
}

//! Run against run: the same scenario twice, every figure side by side with its change
//! and a verdict. A single run has no confidence interval, so timings get a fixed noise
//! band ([`NOISE_PCT`]); exact figures (block counts, errors) must match exactly. The
//! verdicts are the gate's words ([`Verdict`]); these rules are compare's own.

use super::stats::pct_change;
use crate::run_info::RunInfo;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{Better, MetricKind, PoolKind, WorkloadStats};
use thinbench_schema::verdict::{Verdict, VerdictKind};

/// Timing changes within ± this many percent are called noise.
pub const NOISE_PCT: f64 = 5.0;

/// Two runs compared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Comparison {
    /// The baseline run.
    pub a: RunInfo,
    /// The run compared with it.
    pub b: RunInfo,
    /// The scenarios differ: figures may not mean the same thing.
    pub scenario_differs: bool,
    /// Environment fingerprint fields that differ: timings are then not comparable.
    pub environment_differences: Vec<EnvDifference>,
    /// Every figure of either run.
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
}

/// A fingerprint field that differs between the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDifference {
    /// Field (`kernel`, `accel`, `cpu`).
    pub field: &'static str,
    /// Value in run A.
    pub a: String,
    /// Value in run B.
    pub b: String,
}

/// One figure in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Pool name.
    pub pool: String,
    /// Pool kind (from whichever run has the pool).
    pub kind: PoolKind,
    /// Step name (and phase, for phase figures).
    pub step: String,
    /// Figure (`IOPS`, `p99 latency`, a metric name).
    pub figure: String,
    /// Unit.
    pub unit: String,
    /// Exact or timing.
    pub metric_kind: MetricKind,
    /// Direction of improvement.
    pub better: Better,
    /// Value in run A.
    pub a: Option<f64>,
    /// Value in run B.
    pub b: Option<f64>,
    /// (B - A) / A in percent.
    pub change_pct: Option<f64>,
    /// Verdict: never inconclusive (one run a side is all there is to judge).
    pub verdict: Verdict,
}

/// One figure of one run, keyed for matching.
#[derive(Debug, Clone)]
struct Figure {
    pool: String,
    kind: PoolKind,
    step: String,
    figure: String,
    unit: String,
    metric_kind: MetricKind,
    better: Better,
    value: f64,
}

impl Figure {
    fn key(&self) -> (&str, &str, &str) {
        (&self.pool, &self.step, &self.figure)
    }
}

fn workload_figures(
    out: &mut Vec<Figure>,
    pool: &str,
    kind: PoolKind,
    step: &str,
    w: &WorkloadStats,
) {
    let mut push = |figure: &str, unit: &str, mk: MetricKind, better: Better, value: f64| {
        out.push(Figure {
            pool: pool.to_owned(),
            kind,
            step: step.to_owned(),
            figure: figure.to_owned(),
            unit: unit.to_owned(),
            metric_kind: mk,
            better,
            value,
        })
    };
    use MetricKind::{Exact, Timing};
    push("IOPS", "iops", Timing, Better::Higher, w.iops);
    push("MB/s", "MB/s", Timing, Better::Higher, w.mb_per_s);
    push(
        "p50 latency",
        "ns",
        Timing,
        Better::Lower,
        w.latency.p50_ns as f64,
    );
    push(
        "p99 latency",
        "ns",
        Timing,
        Better::Lower,
        w.latency.p99_ns as f64,
    );
    push("IO errors", "count", Exact, Better::Lower, w.errors as f64);
    push("bytes", "bytes", Exact, Better::Neither, w.bytes.0 as f64);
    push(
        "distinct chunks touched",
        "blocks",
        Exact,
        Better::Neither,
        w.distinct_chunks_touched as f64,
    );
}

fn figures(run: &LoadedRun) -> Vec<Figure> {
    let mut out = Vec::new();
    for case in &run.summary.cases {
        let pool = &case.pool.name;
        let kind = case.pool.kind;
        for s in &case.steps {
            if let Some(w) = &s.workload {
                workload_figures(&mut out, pool, kind, &s.name, w);
            }
            for ph in &s.phases {
                workload_figures(
                    &mut out,
                    pool,
                    kind,
                    &format!("{} / {}", s.name, ph.name),
                    &ph.stats,
                );
            }
            if let Some(n) = s.data_blocks_allocated {
                out.push(Figure {
                    pool: pool.clone(),
                    kind,
                    step: s.name.clone(),
                    figure: "data blocks allocated".into(),
                    unit: "blocks".into(),
                    metric_kind: MetricKind::Exact,
                    better: Better::Neither,
                    value: n as f64,
                });
            }
            for mt in &s.metrics {
                out.push(Figure {
                    pool: pool.clone(),
                    kind,
                    step: s.name.clone(),
                    figure: mt.name.clone(),
                    unit: mt.unit.clone(),
                    metric_kind: mt.kind,
                    better: mt.better,
                    value: mt.value,
                });
            }
        }
    }
    out
}

fn verdict(mk: MetricKind, better: Better, a: f64, b: f64, change: Option<f64>) -> Verdict {
    if a == b {
        return Verdict::Unchanged { note: None };
    }
    if mk == MetricKind::Timing {
        if let Some(c) = change {
            if c.abs() < NOISE_PCT {
                return Verdict::unchanged_because(format!("within ±{NOISE_PCT}% noise"));
            }
        }
    }
    match better {
        Better::Higher if b > a => Verdict::Improved,
        Better::Higher => Verdict::Regressed,
        Better::Lower if b < a => Verdict::Improved,
        Better::Lower => Verdict::Regressed,
        Better::Neither => Verdict::Changed,
    }
}

fn env_differences(a: &RunInfo, b: &RunInfo) -> Vec<EnvDifference> {
    let (ea, eb) = (&a.environment, &b.environment);
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "n/a".into());
    let fields: [(&'static str, String, String); 7] = [
        ("environment", ea.kind.clone(), eb.kind.clone()),
        ("kernel", ea.kernel.clone(), eb.kernel.clone()),
        ("accel", opt(&ea.accel), opt(&eb.accel)),
        ("cpu", ea.cpu_model.clone(), eb.cpu_model.clone()),
        (
            "host cpu",
            ea.host_cpu_model.clone(),
            eb.host_cpu_model.clone(),
        ),
        ("cpus", ea.cpus.to_string(), eb.cpus.to_string()),
        (
            "thin-pool target",
            opt(&ea.thin_pool_target_version),
            opt(&eb.thin_pool_target_version),
        ),
    ];
    fields
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(field, a, b)| EnvDifference { field, a, b })
        .collect()
}

/// Compare run `b` against baseline `a`: every figure of either, side by side.
pub fn compare(a: &LoadedRun, b: &LoadedRun) -> Comparison {
    let ia = RunInfo::of(a);
    let ib = RunInfo::of(b);
    let fa = figures(a);
    let fb = figures(b);
    let mut rows = Vec::with_capacity(fa.len().max(fb.len()));
    for x in &fa {
        let y = fb.iter().find(|y| y.key() == x.key());
        let (bv, change, v) = match y {
            Some(y) => {
                let c = pct_change(x.value, y.value);
                (
                    Some(y.value),
                    c,
                    verdict(x.metric_kind, x.better, x.value, y.value, c),
                )
            }
            None => (None, None, Verdict::Missing),
        };
        rows.push(ComparisonRow {
            pool: x.pool.clone(),
            kind: x.kind,
            step: x.step.clone(),
            figure: x.figure.clone(),
            unit: x.unit.clone(),
            metric_kind: x.metric_kind,
            better: x.better,
            a: Some(x.value),
            b: bv,
            change_pct: change,
            verdict: v,
        });
    }
    for y in fb.iter().filter(|y| !fa.iter().any(|x| x.key() == y.key())) {
        rows.push(ComparisonRow {
            pool: y.pool.clone(),
            kind: y.kind,
            step: y.step.clone(),
            figure: y.figure.clone(),
            unit: y.unit.clone(),
            metric_kind: y.metric_kind,
            better: y.better,
            a: None,
            b: Some(y.value),
            change_pct: None,
            verdict: Verdict::New,
        });
    }
    Comparison {
        scenario_differs: ia.scenario != ib.scenario,
        environment_differences: env_differences(&ia, &ib),
        a: ia,
        b: ib,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_kind_and_direction() {
        use Better::*;
        use MetricKind::*;
        let v = |mk, b, x: f64, y: f64| verdict(mk, b, x, y, pct_change(x, y));
        assert_eq!(
            v(Timing, Higher, 100.0, 103.0),
            Verdict::unchanged_because("within ±5% noise")
        );
        assert_eq!(
            v(Timing, Higher, 100.0, 95.5).note(),
            Some("within ±5% noise")
        );
        assert_eq!(v(Timing, Higher, 100.0, 120.0), Verdict::Improved);
        assert_eq!(v(Timing, Lower, 100.0, 120.0), Verdict::Regressed);
        assert_eq!(v(Exact, Neither, 64.0, 65.0), Verdict::Changed);
        assert_eq!(v(Exact, Lower, 1.0, 1.01), Verdict::Regressed);
        assert_eq!(
            v(Exact, Neither, 64.0, 64.0),
            Verdict::Unchanged { note: None }
        );
        // Exact figures have no noise band.
        assert_eq!(v(Exact, Lower, 100.0, 103.0), Verdict::Regressed);
    }
}

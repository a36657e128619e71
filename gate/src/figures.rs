//! Every figure a run records, flattened to `(case, step, figure) → value` with its unit,
//! kind (exact or timing) and direction, as the gate compares them. Names are the
//! result contract's metric names (docs/results.md) plus a few derived ones, listed in
//! docs/gate.md:
//!
//! - run: `run.status`, `run.kernel_problems`;
//! - case: `case.status`, `case.teardown_errors`, `case.metadata_check`;
//! - step: `step.status`, `data_blocks_allocated`, `pool.mode` (`rw -> ro`: the mode
//!   transition over the step), `pool.meta_blocks_used` (after the step), every
//!   `metrics[]` entry, one `expect: <what>` per expectation;
//! - workload: `workload.iops`, `workload.mb_per_s`, `workload.p50_ns`,
//!   `workload.p99_ns` (timings), `workload.errors`, `workload.bytes`,
//!   `workload.distinct_chunks_touched` (exact);
//! - phases: `phase.<name>.p99_ns`, `phase.<name>.errors` (their p50 and IOPS are already
//!   `cow.<phase>.*` metrics; counting a figure twice would only add false alarms).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use thinbench_schema::record::{Better, MetricKind, RunSummary, Status, WorkloadStats};

/// Which figure of which step of which case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FigureKey {
    /// Case id (`<scenario>/<pool>`), or the scenario name for run-level figures.
    pub case: String,
    /// Step name; `None` for case- and run-level figures.
    pub step: Option<String>,
    /// Figure name (`workload.p99_ns`, `cow.copies`, `expect: pool mode`).
    pub figure: String,
}

impl fmt::Display for FigureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(s) => write!(f, "{} / {} / {}", self.case, s, self.figure),
            None => write!(f, "{} / {}", self.case, self.figure),
        }
    }
}

/// What kind of thing a figure is; decides how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureClass {
    /// A number: compared exactly or statistically by its kind.
    Metric,
    /// A verdict of a run, case or step (`passed`/`failed`/`skipped`).
    Status,
    /// An expectation's verdict.
    Expectation,
    /// Other text compared exactly (`pool.mode`, `case.metadata_check`).
    Text,
}

/// A figure's value in one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// Text (statuses, modes).
    Text(String),
}

impl Value {
    /// The number, if it is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(*x),
            Value::Text(_) => None,
        }
    }
}

// By hand rather than `#[serde(untagged)]`: a number as a JSON number, text as a string.
impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Number(x) => s.serialize_f64(*x),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(x) => write!(f, "{}", thinbench_schema::format::precise_number(*x)),
            Value::Text(t) => f.write_str(t),
        }
    }
}

/// How a figure is described, apart from its value (equal across runs of one thinbench).
#[derive(Debug, Clone, PartialEq)]
pub struct FigureMeta {
    /// Step action (`small-write`), for config rules; `None` above step level.
    pub action: Option<String>,
    /// Unit (`ns`, `blocks`, ...); empty for text.
    pub unit: String,
    /// Exact or timing, as recorded.
    pub kind: MetricKind,
    /// Direction of improvement, as recorded.
    pub better: Better,
    /// What it is.
    pub class: FigureClass,
}

/// One run's figures.
pub type RunFigures = BTreeMap<FigureKey, (FigureMeta, Value)>;

/// Where a figure is: case, step and the step's action.
#[derive(Clone, Copy)]
struct Loc<'a> {
    case: &'a str,
    step: Option<&'a str>,
    action: Option<&'a str>,
    /// lvm autoextended the step's pool: how much it wrote varies
    /// ([`thinbench_schema::autoextend`]).
    sized_by_lvm: bool,
}

struct Collector {
    out: RunFigures,
}

impl Collector {
    fn push(&mut self, at: Loc<'_>, figure: &str, meta: FigureMeta, v: Value) {
        let mut key = FigureKey {
            case: at.case.to_owned(),
            step: at.step.map(str::to_owned),
            figure: figure.to_owned(),
        };
        // The same name twice in one step (two expectations with one text): number them
        // in order, so each is compared with its counterpart.
        let mut n = 2;
        while self.out.contains_key(&key) {
            key.figure = format!("{figure} #{n}");
            n += 1;
        }
        self.out.insert(key, (meta, v));
    }

    fn number(
        &mut self,
        at: Loc<'_>,
        figure: &str,
        unit: &str,
        (kind, better): (MetricKind, Better),
        v: f64,
    ) {
        let kind = thinbench_schema::autoextend::kind_in_step(at.sized_by_lvm, figure, kind);
        let meta = FigureMeta {
            action: at.action.map(str::to_owned),
            unit: unit.to_owned(),
            kind,
            better,
            class: FigureClass::Metric,
        };
        self.push(at, figure, meta, Value::Number(v));
    }

    fn text(&mut self, at: Loc<'_>, figure: &str, class: FigureClass, v: String) {
        let meta = FigureMeta {
            action: at.action.map(str::to_owned),
            unit: String::new(),
            kind: MetricKind::Exact,
            better: Better::Neither,
            class,
        };
        self.push(at, figure, meta, Value::Text(v));
    }

    fn workload(&mut self, at: Loc<'_>, prefix: &str, w: &WorkloadStats) {
        const TIMING_UP: (MetricKind, Better) = (MetricKind::Timing, Better::Higher);
        const TIMING_DOWN: (MetricKind, Better) = (MetricKind::Timing, Better::Lower);
        const EXACT: (MetricKind, Better) = (MetricKind::Exact, Better::Neither);
        const EXACT_DOWN: (MetricKind, Better) = (MetricKind::Exact, Better::Lower);
        let f = |n: &str| format!("{prefix}.{n}");
        if prefix == "workload" {
            self.number(at, &f("iops"), "iops", TIMING_UP, w.iops);
            self.number(at, &f("mb_per_s"), "MB/s", TIMING_UP, w.mb_per_s);
            let p50 = w.latency.p50_ns as f64;
            self.number(at, &f("p50_ns"), "ns", TIMING_DOWN, p50);
            self.number(at, &f("bytes"), "bytes", EXACT, w.bytes.0 as f64);
            let chunks = w.distinct_chunks_touched as f64;
            self.number(at, &f("distinct_chunks_touched"), "blocks", EXACT, chunks);
        }
        let p99 = w.latency.p99_ns as f64;
        self.number(at, &f("p99_ns"), "ns", TIMING_DOWN, p99);
        self.number(at, &f("errors"), "count", EXACT_DOWN, w.errors as f64);
    }
}

fn status_text(s: Status) -> String {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Incomplete => "incomplete",
    }
    .to_owned()
}

/// Every figure of one run.
pub fn run_figures(s: &RunSummary) -> RunFigures {
    const EXACT: (MetricKind, Better) = (MetricKind::Exact, Better::Neither);
    const EXACT_DOWN: (MetricKind, Better) = (MetricKind::Exact, Better::Lower);
    let mut c = Collector {
        out: BTreeMap::new(),
    };
    let run = Loc {
        case: s.scenario.name.as_str(),
        step: None,
        action: None,
        sized_by_lvm: false,
    };
    c.text(
        run,
        "run.status",
        FigureClass::Status,
        status_text(s.status),
    );
    let problems = s.kernel_problems.len() as f64;
    c.number(run, "run.kernel_problems", "count", EXACT_DOWN, problems);
    for case in &s.cases {
        let at = Loc {
            case: case.id.as_str(),
            step: None,
            action: None,
            sized_by_lvm: false,
        };
        c.text(
            at,
            "case.status",
            FigureClass::Status,
            status_text(case.status),
        );
        let teardown = case.teardown_errors.len() as f64;
        c.number(at, "case.teardown_errors", "count", EXACT_DOWN, teardown);
        if let Some(m) = &case.metadata_check {
            // `thin_check: failed: <problems>` carries details that vary; the verdict
            // words are what compare.
            let word = m.split(':').take(2).collect::<Vec<_>>().join(":");
            let word = word.trim().to_owned();
            c.text(at, "case.metadata_check", FigureClass::Text, word);
        }
        for st in &case.steps {
            let at = Loc {
                case: case.id.as_str(),
                step: Some(st.name.as_str()),
                action: Some(st.action.as_str()),
                sized_by_lvm: thinbench_schema::autoextend::sized_by_lvm(st),
            };
            c.text(
                at,
                "step.status",
                FigureClass::Status,
                status_text(st.status),
            );
            if let Some(n) = st.data_blocks_allocated {
                c.number(at, "data_blocks_allocated", "blocks", EXACT, n as f64);
            }
            if let (Some(b), Some(a)) = (&st.pool_before, &st.pool_after) {
                let t = format!("{} -> {}", b.mode.as_str(), a.mode.as_str());
                c.text(at, "pool.mode", FigureClass::Text, t);
            }
            if let Some(a) = &st.pool_after {
                let used = a.meta_used.0 as f64;
                c.number(at, "pool.meta_blocks_used", "blocks", EXACT, used);
            }
            if let Some(w) = &st.workload {
                c.workload(at, "workload", w);
            }
            for ph in &st.phases {
                c.workload(at, &format!("phase.{}", ph.name), &ph.stats);
            }
            for m in &st.metrics {
                c.number(at, &m.name, &m.unit, (m.kind, m.better), m.value);
            }
            for e in &st.expectations {
                let name = format!("expect: {}", e.what);
                c.text(at, &name, FigureClass::Expectation, status_text(e.status));
            }
        }
    }
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> RunSummary {
        let p = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../reports/tests/fixtures/smoke/summary.json"
        );
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn smoke_figures() {
        let f = run_figures(&fixture());
        let get = |case: &str, step: Option<&str>, fig: &str| {
            f.get(&FigureKey {
                case: case.into(),
                step: step.map(Into::into),
                figure: fig.into(),
            })
            .unwrap_or_else(|| panic!("no {case} {step:?} {fig}"))
        };
        assert_eq!(
            get("smoke", None, "run.status").1,
            Value::Text("failed".into())
        );
        let (m, v) = get("smoke/loop", Some("seq-write"), "data_blocks_allocated");
        assert_eq!((m.kind, v.number()), (MetricKind::Exact, Some(64.0)));
        let (m, v) = get("smoke/loop", Some("seq-write"), "workload.p99_ns");
        assert_eq!(
            (m.kind, m.better, v.number()),
            (MetricKind::Timing, Better::Lower, Some(7_589_887.0))
        );
        let (m, v) = get("smoke/direct", Some("snap"), "step.status");
        assert_eq!(
            (m.class, v),
            (FigureClass::Status, &Value::Text("failed".into()))
        );
        let (m, _) = get(
            "smoke/loop",
            Some("seq-write"),
            "expect: data blocks allocated == model",
        );
        assert_eq!(m.class, FigureClass::Expectation);
        assert_eq!(
            get("smoke/loop", Some("seq-write"), "pool.mode").1,
            Value::Text("rw -> rw".into())
        );
    }
}

//! The validated gate config and how it resolves into one figure's policy. Every value
//! here has passed validation: ratios are fractions in range, `min_samples` lets the
//! test reach its significance level, globs are compiled.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use thinbench_schema::record::{Better, MetricKind};

use crate::error::GateError;
use crate::figures::{FigureClass, FigureKey, FigureMeta};
use crate::fingerprint::fnv1a;
use crate::verdict::{Decision, TimingPolicy};

/// A fraction written as a percentage (`"5%"` is 0.05).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Ratio(pub f64);

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0 * 100.0)
    }
}

/// An absolute floor: in the figure's own unit, or a duration (for figures in `ns`,
/// `us`, `ms` or `s`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Floor {
    /// In the figure's unit.
    Value(f64),
    /// A time, converted to the figure's time unit.
    Duration(#[serde(serialize_with = "ser_duration")] Duration),
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ns", d.as_nanos()))
}

impl Floor {
    /// The floor in `unit`; `None` when a duration meets a unit that is not a time.
    pub fn in_unit(self, unit: &str) -> Option<f64> {
        match self {
            Floor::Value(v) => Some(v),
            Floor::Duration(d) => {
                let ns = d.as_nanos() as f64;
                match unit {
                    "ns" => Some(ns),
                    "us" | "µs" => Some(ns / 1e3),
                    "ms" => Some(ns / 1e6),
                    "s" => Some(ns / 1e9),
                    _ => None,
                }
            }
        }
    }
}

/// How exact figures that differ are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExactPolicy {
    /// Any difference is `changed`, which fails (the default: deterministic figures
    /// moving is a behaviour change to look at, whichever way it went).
    Changed,
    /// A difference in a figure with a direction is improved or regressed.
    Directional,
}

/// What a figure in the baseline but not in the candidate means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// It fails (default).
    Fail,
    /// It is reported and passes.
    Ignore,
}

/// A rule's override of how a figure is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KindOverride {
    /// Compare exactly.
    Exact,
    /// Compare statistically.
    Timing,
    /// Leave it out of the gate.
    Ignore,
}

/// Settings every figure starts from (`[defaults]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    /// Samples needed on each side for a timing verdict.
    pub min_samples: usize,
    /// Significance level of the Mann-Whitney test.
    pub alpha: f64,
    /// Confidence level of the bootstrap interval.
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Noise threshold on the relative change of the median.
    pub noise: Ratio,
    /// Widest interval that can still be called unchanged.
    pub max_ci_width: Ratio,
    /// Absolute floor.
    pub floor: Floor,
    /// When a timing change counts.
    pub decision: Decision,
    /// Exact figures that differ.
    pub exact: ExactPolicy,
    /// Figures gone from the candidate.
    pub missing: MissingPolicy,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            min_samples: 5,
            alpha: 0.05,
            confidence: 0.95,
            resamples: 2000,
            seed: 0x7468_696e_6265_6e63, // "thinbenc"
            noise: Ratio(0.05),
            max_ci_width: Ratio(0.5),
            floor: Floor::Value(0.0),
            // A gate judges dozens of timing figures at once: a per-figure false-alarm
            // rate of 1.4 % ("significant" at n = 5) fails about one A/A gate in five
            // with 16 figures; "beyond-noise" about one in thirty (tests/simulation.rs).
            decision: Decision::BeyondNoise,
            exact: ExactPolicy::Changed,
            missing: MissingPolicy::Fail,
        }
    }
}

/// A `*`/`?` glob over a whole name (`*` also matches `/` and `.`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Glob(pub String);

impl Glob {
    /// Whether `s` matches the whole pattern.
    pub fn matches(&self, s: &str) -> bool {
        fn m(p: &[char], s: &[char]) -> bool {
            match p.split_first() {
                None => s.is_empty(),
                Some(('*', rest)) => (0..=s.len()).any(|i| m(rest, &s[i..])),
                Some(('?', rest)) => !s.is_empty() && m(rest, &s[1..]),
                Some((c, rest)) => s.first() == Some(c) && m(rest, &s[1..]),
            }
        }
        let p: Vec<char> = self.0.chars().collect();
        let s: Vec<char> = s.chars().collect();
        m(&p, &s)
    }
}

/// One or more globs: a name matches when any of them does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Globs(pub Vec<Glob>);

impl Globs {
    /// Whether any glob matches `s`.
    pub fn matches(&self, s: &str) -> bool {
        self.0.iter().any(|g| g.matches(s))
    }
}

/// Which figures a rule applies to: every field given must match.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Matcher {
    /// Figure name.
    pub figure: Option<Globs>,
    /// Case id (`<scenario>/<pool>`; the scenario name for run-level figures).
    pub case: Option<Globs>,
    /// Step name.
    pub step: Option<Globs>,
    /// Step action.
    pub action: Option<Globs>,
    /// The clock the runs' timings were taken on, as the environment fingerprint names
    /// it (`wall`, `instructions (shift 4)`): noise thresholds are a property of a clock.
    pub clock: Option<Globs>,
}

impl Matcher {
    fn matches(&self, key: &FigureKey, meta: &FigureMeta, clock: &str) -> bool {
        let opt = |g: &Option<Globs>, v: Option<&str>| match g {
            None => true,
            Some(g) => v.is_some_and(|v| g.matches(v)),
        };
        opt(&self.figure, Some(&key.figure))
            && opt(&self.case, Some(&key.case))
            && opt(&self.step, key.step.as_deref())
            && opt(&self.action, meta.action.as_deref())
            && opt(&self.clock, Some(clock))
    }
}

/// What a rule changes; absent fields keep what earlier rules or the defaults set.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Overrides {
    /// Compare exactly, statistically, or not at all.
    pub kind: Option<KindOverride>,
    /// Direction of improvement.
    pub better: Option<Better>,
    /// Noise threshold.
    pub noise: Option<Ratio>,
    /// Widest interval still called unchanged.
    pub max_ci_width: Option<Ratio>,
    /// Absolute floor.
    pub floor: Option<Floor>,
    /// Samples needed.
    pub min_samples: Option<usize>,
    /// Exact figures that differ.
    pub exact: Option<ExactPolicy>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Where it is written (1-based line and column of `[[rule]]`).
    pub line: usize,
    /// Column.
    pub col: usize,
    /// Which figures.
    pub matcher: Matcher,
    /// What it sets.
    pub set: Overrides,
}

/// A validated gate config.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GateConfig {
    /// The file it came from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    /// `[defaults]`.
    pub defaults: Settings,
    /// `[[rule]]`s in file order; later ones override earlier ones field by field.
    pub rules: Vec<Rule>,
}

/// How one figure is compared, after the defaults and every matching rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Leave it out.
    pub ignore: bool,
    /// Exact or statistical (numbers only; text is always exact).
    pub kind: MetricKind,
    /// Direction of improvement.
    pub better: Better,
    /// Timing policy (seed mixed with the figure's key).
    pub timing: TimingPolicy,
    /// Exact differences judged by direction.
    pub exact_directional: bool,
    /// Missing fails.
    pub missing_fails: bool,
    /// `line:col` of each rule that applied, in order.
    pub rules: Vec<String>,
}

impl GateConfig {
    /// The policy for one figure of runs whose timings were taken on `clock` (the
    /// fingerprint's name of it).
    pub fn resolve(
        &self,
        key: &FigureKey,
        meta: &FigureMeta,
        clock: &str,
    ) -> Result<Resolved, GateError> {
        let d = &self.defaults;
        let mut kind = meta.kind;
        let mut ignore = false;
        let mut better = meta.better;
        let mut noise = d.noise;
        let mut max_ci_width = d.max_ci_width;
        let mut floor = (d.floor, None::<&Rule>);
        let mut min_samples = d.min_samples;
        let mut exact = d.exact;
        let mut applied = Vec::new();
        for r in self
            .rules
            .iter()
            .filter(|r| r.matcher.matches(key, meta, clock))
        {
            applied.push(format!("{}:{}", r.line, r.col));
            let s = &r.set;
            match s.kind {
                Some(KindOverride::Ignore) => ignore = true,
                Some(KindOverride::Exact) => (kind, ignore) = (MetricKind::Exact, false),
                Some(KindOverride::Timing) => (kind, ignore) = (MetricKind::Timing, false),
                None => {}
            }
            better = s.better.unwrap_or(better);
            noise = s.noise.unwrap_or(noise);
            max_ci_width = s.max_ci_width.unwrap_or(max_ci_width);
            if let Some(f) = s.floor {
                floor = (f, Some(r));
            }
            min_samples = s.min_samples.unwrap_or(min_samples);
            exact = s.exact.unwrap_or(exact);
        }
        // Text (statuses, expectations, modes) has no distribution and no direction.
        if meta.class != FigureClass::Metric {
            kind = MetricKind::Exact;
            better = Better::Neither;
        }
        let floor_value = if kind == MetricKind::Timing {
            match floor.0.in_unit(&meta.unit) {
                Some(v) => v,
                None => {
                    let (line, col) = floor.1.map(|r| (r.line, r.col)).unwrap_or((0, 0));
                    return Err(GateError::FloorUnit {
                        file: self.source.clone().unwrap_or_default(),
                        line,
                        col,
                        figure: key.figure.clone(),
                        case: key.case.clone(),
                        unit: meta.unit.clone(),
                    });
                }
            }
        } else {
            0.0
        };
        Ok(Resolved {
            ignore,
            kind,
            better,
            timing: TimingPolicy {
                min_samples,
                alpha: d.alpha,
                confidence: d.confidence,
                resamples: d.resamples,
                seed: d.seed ^ fnv1a(key.to_string().as_bytes()),
                noise: noise.0,
                max_ci_width: max_ci_width.0,
                floor: floor_value,
                better,
                decision: d.decision,
            },
            exact_directional: exact == ExactPolicy::Directional,
            missing_fails: d.missing == MissingPolicy::Fail,
            rules: applied,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let g = |p: &str, s: &str| Glob(p.into()).matches(s);
        assert!(g("workload.*", "workload.p99_ns"));
        assert!(g("*.p99_ns", "phase.snapshot/sub-chunk/first.p99_ns"));
        assert!(g("cow.*", "cow.copies"));
        assert!(!g("cow.*", "xcow.copies"));
        assert!(g("smoke/?oop", "smoke/loop"));
        assert!(g("*", ""));
        assert!(!g("a", "ab"));
        assert!(g(
            "expect: *model*",
            "expect: data blocks allocated == model"
        ));
    }

    #[test]
    fn floors_convert_to_the_figure_unit() {
        let d = Floor::Duration(Duration::from_micros(50));
        assert_eq!(d.in_unit("ns"), Some(50_000.0));
        assert_eq!(d.in_unit("ms"), Some(0.05));
        assert_eq!(d.in_unit("iops"), None);
        assert_eq!(Floor::Value(3.0).in_unit("iops"), Some(3.0));
    }
}

//! Verdict rules, as pure functions of two sample sets and a resolved policy: exact
//! figures compare exactly, statuses and expectations by what they say, timings by
//! statistics. docs/gate.md states the rules in prose; the tests here pin them.

use serde::Serialize;
use thinbench_schema::record::Better;

use crate::figures::Value;
use crate::stats::{self, ConfidenceInterval, MannWhitney};

/// What a comparison found for one figure: the shared vocabulary, with the gate's typed
/// reasons for an inconclusive verdict.
pub type Verdict = thinbench_schema::verdict::Verdict<Inconclusive>;

/// Why a figure's comparison is inconclusive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Inconclusive {
    /// Fewer samples than the policy needs on a side.
    TooFewSamples {
        /// Baseline samples.
        baseline: usize,
        /// Candidate samples.
        candidate: usize,
        /// Samples needed on each side.
        needed: usize,
    },
    /// No significant change, but the interval is too wide to call it unchanged.
    TooNoisy {
        /// Width of the confidence interval of the relative change.
        ci_width: f64,
        /// The policy's limit.
        limit: f64,
    },
    /// An exact figure (or a status) differs between samples of one set: it is not exact
    /// in this environment.
    Unstable {
        /// `baseline` or `candidate`.
        side: &'static str,
        /// The distinct values seen, in order.
        values: Vec<String>,
    },
    /// The baseline's median is 0: a relative change means nothing.
    ZeroBaseline,
}

impl Inconclusive {
    /// One line for humans: "too few samples (n = 1 and 1, need 5)".
    pub fn describe(&self) -> String {
        match self {
            Inconclusive::TooFewSamples {
                baseline,
                candidate,
                needed,
            } => format!(
                "too few samples (baseline {baseline}, candidate {candidate}; need {needed} each)"
            ),
            Inconclusive::TooNoisy { ci_width, limit } => format!(
                "too noisy (CI width {:.1} % > {:.1} %)",
                ci_width * 100.0,
                limit * 100.0
            ),
            Inconclusive::Unstable { side, values } => format!(
                "unstable: varies within the {side} ({}); if that is expected, set \
                 kind = \"timing\" for it in the gate config",
                values.join(", ")
            ),
            Inconclusive::ZeroBaseline => {
                "the baseline median is 0: no relative change (set a floor)".into()
            }
        }
    }
}

/// Whether a verdict passes, fails or cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Unchanged, improved, new (or missing under `missing = "ignore"`).
    Pass,
    /// Shown, not judged: counts neither way.
    NotGated,
    /// Cannot tell.
    Inconclusive,
    /// Regressed, changed, missing.
    Fail,
}

impl Outcome {
    /// The outcome of a verdict; `missing_fails` is the config's `missing` policy.
    pub fn of(v: &Verdict, missing_fails: bool) -> Outcome {
        match v {
            Verdict::Unchanged { .. } | Verdict::Improved | Verdict::New => Outcome::Pass,
            Verdict::Missing if !missing_fails => Outcome::Pass,
            Verdict::Regressed | Verdict::Changed | Verdict::Missing => Outcome::Fail,
            Verdict::Inconclusive { .. } => Outcome::Inconclusive,
            Verdict::NotGated { .. } => Outcome::NotGated,
        }
    }
}

/// When a timing change counts as real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Mann-Whitney p < α and the interval excludes 0; then a change past the noise
    /// threshold is improved or regressed. More power, more false alarms.
    Significant,
    /// Mann-Whitney p < α and the whole interval lies beyond the noise threshold: fewer
    /// false alarms per figure (for gates with many figures), less power at small n.
    BeyondNoise,
}

/// How timings are judged (resolved for one figure from the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingPolicy {
    /// Samples needed on each side.
    pub min_samples: usize,
    /// Significance level of the Mann-Whitney test.
    pub alpha: f64,
    /// Confidence level of the bootstrap interval.
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: u32,
    /// Seed of the bootstrap (mixed with the figure's key).
    pub seed: u64,
    /// Relative change of the median below which a significant change is noise.
    pub noise: f64,
    /// Widest confidence interval (relative) that can still be called unchanged.
    pub max_ci_width: f64,
    /// Absolute change of the median (in the figure's unit) below which nothing counts.
    pub floor: f64,
    /// Direction of improvement.
    pub better: Better,
    /// When a change counts.
    pub decision: Decision,
}

/// The statistics behind a timing verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimingStats {
    /// Baseline median.
    pub baseline_median: f64,
    /// Candidate median.
    pub candidate_median: f64,
    /// Relative change of the median (+0.2 = 20 % larger).
    pub change: f64,
    /// Bootstrap interval of `change` (needs 2 samples a side).
    pub ci: Option<ConfidenceInterval>,
    /// Mann-Whitney U test (needs 2 samples a side).
    pub test: Option<MannWhitney>,
}

/// Judge a timing figure from its samples.
pub fn timing_verdict(
    base: &[f64],
    cand: &[f64],
    p: &TimingPolicy,
) -> (Verdict, Option<TimingStats>) {
    let (Some(mb), Some(mc)) = (stats::median(base), stats::median(cand)) else {
        let v = Verdict::Inconclusive {
            reason: Inconclusive::TooFewSamples {
                baseline: base.len(),
                candidate: cand.len(),
                needed: p.min_samples,
            },
        };
        return (v, None);
    };
    let enough = base.len() >= 2 && cand.len() >= 2;
    let st = TimingStats {
        baseline_median: mb,
        candidate_median: mc,
        change: stats::relative_change(mb, mc),
        ci: enough
            .then(|| stats::bootstrap_median_change(base, cand, p.confidence, p.resamples, p.seed))
            .flatten(),
        test: enough.then(|| stats::mann_whitney(base, cand)).flatten(),
    };
    if base.len() < p.min_samples || cand.len() < p.min_samples {
        let reason = Inconclusive::TooFewSamples {
            baseline: base.len(),
            candidate: cand.len(),
            needed: p.min_samples,
        };
        return (Verdict::Inconclusive { reason }, Some(st));
    }
    let delta = (mc - mb).abs();
    if mb == 0.0 {
        if delta <= p.floor {
            return (Verdict::Unchanged { note: None }, Some(st));
        }
        let reason = Inconclusive::ZeroBaseline;
        return (Verdict::Inconclusive { reason }, Some(st));
    }
    let (Some(ci), Some(test)) = (st.ci, st.test) else {
        // min_samples >= 2 is enforced by the config, so this is not reached.
        let reason = Inconclusive::TooFewSamples {
            baseline: base.len(),
            candidate: cand.len(),
            needed: p.min_samples.max(2),
        };
        return (Verdict::Inconclusive { reason }, Some(st));
    };
    let significant = test.p_value < p.alpha
        && match p.decision {
            Decision::Significant => ci.excludes_zero(),
            Decision::BeyondNoise => ci.lo > p.noise || ci.hi < -p.noise,
        };
    let v = if significant {
        if st.change.abs() < p.noise {
            Verdict::unchanged_because(format!(
                "significant but within noise ({:+.1} % < ±{:.1} %)",
                st.change * 100.0,
                p.noise * 100.0
            ))
        } else if delta <= p.floor {
            Verdict::unchanged_because(format!(
                "significant but under the floor ({} ≤ {})",
                thinbench_schema::format::precise_number(delta),
                thinbench_schema::format::precise_number(p.floor)
            ))
        } else {
            directional(p.better, st.change > 0.0)
        }
    } else if ci.width() > p.max_ci_width && ci.lo.abs().max(ci.hi.abs()) * mb > p.floor {
        // Too wide to rule out a change that matters, relatively or absolutely.
        Verdict::Inconclusive {
            reason: Inconclusive::TooNoisy {
                ci_width: ci.width(),
                limit: p.max_ci_width,
            },
        }
    } else if test.p_value < p.alpha && ci.excludes_zero() {
        Verdict::unchanged_because(format!(
            "significant, but the interval reaches into the ±{:.1} % noise band",
            p.noise * 100.0
        ))
    } else {
        Verdict::Unchanged { note: None }
    };
    (v, Some(st))
}

/// Improved or regressed by direction; `Changed` when no direction is better.
fn directional(better: Better, increased: bool) -> Verdict {
    match (better, increased) {
        (Better::Lower, true) | (Better::Higher, false) => Verdict::Regressed,
        (Better::Lower, false) | (Better::Higher, true) => Verdict::Improved,
        (Better::Neither, _) => Verdict::Changed,
    }
}

fn distinct(vs: &[Value]) -> Vec<&Value> {
    let mut out: Vec<&Value> = Vec::new();
    for v in vs {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn unstable(side: &'static str, vs: &[&Value]) -> Verdict {
    Verdict::Inconclusive {
        reason: Inconclusive::Unstable {
            side,
            values: vs.iter().map(|v| v.to_string()).collect(),
        },
    }
}

/// Judge an exact figure: every sample of a set must agree (else it is unstable), and
/// the two sets' values must be equal. A difference is `Changed`, or improved/regressed
/// by direction when `directional` (config `exact = "directional"`) and the figure has one.
pub fn exact_verdict(
    base: &[Value],
    cand: &[Value],
    better: Better,
    directional_ok: bool,
) -> Verdict {
    let (db, dc) = (distinct(base), distinct(cand));
    if db.len() > 1 {
        return unstable("baseline", &db);
    }
    if dc.len() > 1 {
        return unstable("candidate", &dc);
    }
    let (Some(b), Some(c)) = (db.first(), dc.first()) else {
        return Verdict::Missing;
    };
    if b == c {
        return Verdict::Unchanged { note: None };
    }
    match (b.number(), c.number()) {
        (Some(x), Some(y)) if directional_ok => directional(better, y > x),
        _ => Verdict::Changed,
    }
}

/// Judge a status or an expectation's verdict over the samples: a failure the baseline
/// never had is a regression; failures that went away an improvement; the same set of
/// verdicts on both sides unchanged (with a note when it includes failures); anything
/// else (a check now skipped, a flaky one) a change.
pub fn status_verdict(base: &[Value], cand: &[Value]) -> Verdict {
    let words = |vs: &[Value]| -> Vec<String> {
        let mut w: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
        w.sort();
        w.dedup();
        w
    };
    let (b, c) = (words(base), words(cand));
    let has = |w: &[String], s: &str| w.iter().any(|x| x == s);
    let bad = |w: &[String]| has(w, "failed") || has(w, "incomplete");
    if b == c {
        if bad(&b) {
            return Verdict::unchanged_because("fails in the baseline too");
        }
        return Verdict::Unchanged { note: None };
    }
    if bad(&c) && !bad(&b) {
        return Verdict::Regressed;
    }
    if bad(&b) && c == ["passed"] {
        return Verdict::Improved;
    }
    Verdict::Changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TimingPolicy {
        TimingPolicy {
            min_samples: 5,
            alpha: 0.05,
            confidence: 0.95,
            resamples: 2000,
            seed: 1,
            noise: 0.05,
            max_ci_width: 0.5,
            floor: 0.0,
            better: Better::Lower,
            decision: Decision::Significant,
        }
    }

    const BASE: [f64; 5] = [100.0, 103.0, 97.0, 101.0, 99.0];

    #[test]
    fn clear_slowdown_regresses_and_speedup_improves() {
        let slow = BASE.map(|x| x * 1.3);
        let (v, st) = timing_verdict(&BASE, &slow, &policy());
        assert_eq!(v, Verdict::Regressed);
        let st = st.unwrap();
        assert!((st.change - 0.3).abs() < 1e-9);
        assert!(st.ci.unwrap().lo > 0.2 && st.test.unwrap().p_value < 0.01);
        let fast = BASE.map(|x| x * 0.7);
        assert_eq!(timing_verdict(&BASE, &fast, &policy()).0, Verdict::Improved);
        // The same change on a higher-is-better figure flips the verdict.
        let hib = TimingPolicy {
            better: Better::Higher,
            ..policy()
        };
        assert_eq!(timing_verdict(&BASE, &slow, &hib).0, Verdict::Improved);
        let neither = TimingPolicy {
            better: Better::Neither,
            ..policy()
        };
        assert_eq!(timing_verdict(&BASE, &slow, &neither).0, Verdict::Changed);
    }

    #[test]
    fn beyond_noise_needs_the_whole_interval_past_the_threshold() {
        let strict = TimingPolicy {
            decision: Decision::BeyondNoise,
            ..policy()
        };
        // 30 % slower: the interval is well past 5 %.
        let slow = BASE.map(|x| x * 1.3);
        assert_eq!(timing_verdict(&BASE, &slow, &strict).0, Verdict::Regressed);
        // 8 % slower with overlap: significant, but the interval reaches under 5 %.
        let base = [100.0, 104.0, 96.0, 102.0, 98.0];
        let cand = [105.0, 109.0, 107.0, 112.0, 106.0];
        assert_eq!(
            timing_verdict(&base, &cand, &policy()).0,
            Verdict::Regressed
        );
        let (v, st) = timing_verdict(&base, &cand, &strict);
        assert!(st.unwrap().ci.unwrap().lo < 0.05);
        assert!(
            matches!(&v, Verdict::Unchanged { note: Some(n) } if n.contains("noise band")),
            "{v:?}"
        );
    }

    #[test]
    fn small_significant_shift_is_noise() {
        // 3 % slower, every sample: significant, but under the 5 % noise threshold.
        let base = [100.0, 100.5, 99.5, 100.2, 99.8];
        let cand = base.map(|x| x * 1.03);
        let (v, st) = timing_verdict(&base, &cand, &policy());
        assert!(st.unwrap().test.unwrap().p_value < 0.05);
        assert!(
            matches!(&v, Verdict::Unchanged { note: Some(n) } if n.contains("within noise")),
            "{v:?}"
        );
    }

    #[test]
    fn too_few_samples_and_too_noisy() {
        let (v, st) = timing_verdict(&BASE[..3], &BASE[..3], &policy());
        assert_eq!(
            v,
            Verdict::Inconclusive {
                reason: Inconclusive::TooFewSamples {
                    baseline: 3,
                    candidate: 3,
                    needed: 5
                }
            }
        );
        assert!(st.is_some(), "medians are still reported");
        // One sample: no interval, no test, and still inconclusive.
        let (v1, st1) = timing_verdict(&[1.0], &[2.0], &policy());
        assert!(matches!(v1, Verdict::Inconclusive { .. }));
        assert!(st1.unwrap().ci.is_none());
        // Wildly spread samples with equal medians: not significant, CI too wide.
        let a = [10.0, 100.0, 50.0, 200.0, 20.0];
        let b = [15.0, 150.0, 50.0, 300.0, 5.0];
        let (v, _) = timing_verdict(&a, &b, &policy());
        assert!(
            matches!(v, Verdict::Inconclusive { reason: Inconclusive::TooNoisy { ci_width, limit } } if ci_width > limit),
            "{v:?}"
        );
        assert!(matches!(
            timing_verdict(&[0.0; 5], &[1.0; 5], &policy()).0,
            Verdict::Inconclusive {
                reason: Inconclusive::ZeroBaseline
            }
        ));
    }

    #[test]
    fn floor_absorbs_small_absolute_changes() {
        let a = [1000.0, 1010.0, 990.0, 1005.0, 995.0];
        let b = a.map(|x| x + 300.0); // +30 %, but only 300 ns
        let floored = TimingPolicy {
            floor: 500.0,
            ..policy()
        };
        assert!(matches!(
            timing_verdict(&a, &b, &floored).0,
            Verdict::Unchanged { note: Some(_) }
        ));
        assert_eq!(timing_verdict(&a, &b, &policy()).0, Verdict::Regressed);
    }

    #[test]
    fn identical_sets_are_unchanged() {
        let (v, st) = timing_verdict(&BASE, &BASE, &policy());
        assert_eq!(v, Verdict::Unchanged { note: None });
        assert_eq!(st.unwrap().change, 0.0);
    }

    fn n(x: f64) -> Value {
        Value::Number(x)
    }
    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn exact_rules() {
        let same = exact_verdict(&[n(64.0), n(64.0)], &[n(64.0)], Better::Neither, false);
        assert_eq!(same, Verdict::Unchanged { note: None });
        assert_eq!(
            exact_verdict(&[n(64.0)], &[n(65.0)], Better::Neither, false),
            Verdict::Changed
        );
        // Direction only counts when asked for.
        assert_eq!(
            exact_verdict(&[n(3.0)], &[n(1.0)], Better::Lower, false),
            Verdict::Changed
        );
        assert_eq!(
            exact_verdict(&[n(3.0)], &[n(1.0)], Better::Lower, true),
            Verdict::Improved
        );
        assert_eq!(
            exact_verdict(&[n(1.0)], &[n(3.0)], Better::Lower, true),
            Verdict::Regressed
        );
        assert_eq!(
            exact_verdict(&[n(1.0)], &[n(3.0)], Better::Neither, true),
            Verdict::Changed
        );
        let v = exact_verdict(
            &[n(3176.0), n(3223.0)],
            &[n(3176.0)],
            Better::Neither,
            false,
        );
        assert!(
            matches!(&v, Verdict::Inconclusive { reason: Inconclusive::Unstable { side: "baseline", values } } if values.len() == 2),
            "{v:?}"
        );
        assert_eq!(
            exact_verdict(&[t("rw -> rw")], &[t("rw -> ro")], Better::Neither, true),
            Verdict::Changed
        );
    }

    #[test]
    fn status_rules() {
        let p = || t("passed");
        let f = || t("failed");
        let s = || t("skipped");
        assert_eq!(
            status_verdict(&[p(), p()], &[p()]),
            Verdict::Unchanged { note: None }
        );
        assert_eq!(status_verdict(&[p()], &[p(), f()]), Verdict::Regressed);
        assert_eq!(status_verdict(&[f()], &[p()]), Verdict::Improved);
        assert!(matches!(
            status_verdict(&[f()], &[f()]),
            Verdict::Unchanged { note: Some(_) }
        ));
        assert_eq!(status_verdict(&[p()], &[s()]), Verdict::Changed);
        assert_eq!(status_verdict(&[f()], &[s()]), Verdict::Changed);
    }

    #[test]
    fn outcomes() {
        assert_eq!(Outcome::of(&Verdict::Changed, true), Outcome::Fail);
        assert_eq!(Outcome::of(&Verdict::Missing, true), Outcome::Fail);
        assert_eq!(Outcome::of(&Verdict::Missing, false), Outcome::Pass);
        assert_eq!(Outcome::of(&Verdict::New, true), Outcome::Pass);
        let inc = Verdict::Inconclusive {
            reason: Inconclusive::ZeroBaseline,
        };
        assert_eq!(Outcome::of(&inc, true), Outcome::Inconclusive);
    }
}

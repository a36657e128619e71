//! JUnit XML: one `<testsuite>` per case (and environment, when there are several), one
//! `<testcase>` per figure and per expectation. Regressions, changes and missing figures
//! are `<failure>`s; inconclusive ones `<skipped>` with the reason, so CI test reporters
//! show them without failing on them (the exit code decides that). Times come from the
//! candidate's runs ([`Clock`]): a suite's `timestamp` is when its case's first step began
//! in the earliest run (`started_at` + the step's `started_ms`), its `time` the case's
//! steps' total; a test case's `time` is its step's `duration_ms`, or the case's total for
//! a case-level figure (medians over the candidate's runs). Run-level suites take the
//! run's `started_at` and wall time.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta};
use thinbench_schema::record::RunSummary;
use thinbench_schema::stats::median;

use crate::analysis::{GateReport, Row};
use crate::fingerprint::Fingerprint;
use crate::load::LoadedRun;
use crate::verdict::{Outcome, Verdict};

use super::values::side;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

fn case_name(r: &Row) -> String {
    match &r.key.step {
        Some(s) => format!("{s}: {}", r.key.figure),
        None => r.key.figure.clone(),
    }
}

fn values(r: &Row) -> String {
    let show = |s: &Option<crate::analysis::SampleSummary>| match s {
        Some(s) => {
            let all = s
                .values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let unit = if s.median.is_some() && !r.unit.is_empty() {
                format!(" {}", r.unit)
            } else {
                String::new()
            };
            format!("{} (n = {}: {all}{unit})", side(s, &r.unit), s.n)
        }
        None => "absent".into(),
    };
    format!(
        "baseline {}\ncandidate {}\n{}",
        show(&r.baseline),
        show(&r.candidate),
        r.explain()
    )
}

/// When the candidate's runs started and how long their steps took, by environment slug.
pub(crate) struct Clock<'a> {
    runs: Vec<(String, &'a RunSummary)>,
}

/// Milliseconds as a duration; `None` for what no duration is (NaN, too large).
fn ms(v: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(v.max(0.0) / 1000.0).ok()
}

impl<'a> Clock<'a> {
    pub(crate) fn of(candidate: &'a [LoadedRun]) -> Clock<'a> {
        Clock {
            runs: candidate
                .iter()
                .map(|r| (Fingerprint::of(&r.summary.environment).slug(), &r.summary))
                .collect(),
        }
    }

    /// The runs of environment `slug` holding `case` (a case id, or a scenario name for
    /// run-level figures).
    fn runs_of<'s>(
        &'s self,
        slug: &'s str,
        case: &'s str,
    ) -> impl Iterator<Item = &'a RunSummary> + 's {
        self.runs
            .iter()
            .filter(move |(s, r)| {
                s == slug && (r.scenario.name == case || r.cases.iter().any(|c| c.id == case))
            })
            .map(|(_, r)| *r)
    }

    /// Median over the runs of the step's duration; `None` when no run has the step.
    fn step(&self, slug: &str, case: &str, step: &str) -> Option<Duration> {
        let d: Vec<f64> = self
            .runs_of(slug, case)
            .flat_map(|r| r.cases.iter().filter(|c| c.id == case))
            .flat_map(|c| c.steps.iter().filter(|s| s.name == step))
            .map(|s| s.duration_ms as f64)
            .collect();
        median(&d).and_then(ms)
    }

    /// Median over the runs of the case's steps' total, or of the run's wall time for a
    /// scenario (run-level figures).
    fn case(&self, slug: &str, case: &str) -> Option<Duration> {
        let d: Vec<f64> = self
            .runs_of(slug, case)
            .filter_map(|r| match r.cases.iter().find(|c| c.id == case) {
                Some(c) => Some(c.steps.iter().map(|s| s.duration_ms as f64).sum()),
                None => wall_ms(r),
            })
            .collect();
        median(&d).and_then(ms)
    }

    /// When the case first started: its first step in the earliest run holding it (the
    /// run's start for a scenario).
    fn started(&self, slug: &str, case: &str) -> Option<DateTime<FixedOffset>> {
        self.runs_of(slug, case)
            .filter_map(|r| {
                let run = DateTime::parse_from_rfc3339(&r.started_at).ok()?;
                let first_step = r
                    .cases
                    .iter()
                    .find(|c| c.id == case)
                    .and_then(|c| c.steps.iter().map(|s| s.started_ms).min())
                    .unwrap_or(0);
                let ms = i64::try_from(first_step).ok()?;
                run.checked_add_signed(TimeDelta::try_milliseconds(ms)?)
            })
            .min()
    }

    fn of_row(&self, r: &Row) -> Option<Duration> {
        match &r.key.step {
            Some(s) => self.step(&r.fingerprint, &r.key.case, s),
            None => self.case(&r.fingerprint, &r.key.case),
        }
    }
}

/// A run's start to its end, in ms, when it finished.
fn wall_ms(r: &RunSummary) -> Option<f64> {
    let start = DateTime::parse_from_rfc3339(&r.started_at).ok()?;
    let end = DateTime::parse_from_rfc3339(r.finished_at.as_deref()?).ok()?;
    Some((end - start).num_milliseconds() as f64)
}

/// The report as JUnit XML, written by `quick-junit` (nextest's writer: escaping, the
/// control characters XML forbids, attribute order), timed from the `candidate` runs.
pub fn render(report: &GateReport, candidate: &[LoadedRun]) -> String {
    let clock = Clock::of(candidate);
    let multi_env = report.groups.len() > 1;
    let mut suites: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in &report.rows {
        let name = if multi_env {
            format!("{} @ {}", r.key.case, r.fingerprint)
        } else {
            r.key.case.clone()
        };
        suites.entry(name).or_default().push(r);
    }
    let mut out = Report::new("thinbench gate");
    for (name, rows) in &suites {
        let mut suite = TestSuite::new(name.as_str());
        if let Some(first) = rows.first() {
            let (slug, case) = (&first.fingerprint, &first.key.case);
            if let Some(t) = clock.started(slug, case) {
                suite.set_timestamp(t);
            }
            if let Some(d) = clock.case(slug, case) {
                suite.set_time(d);
            }
        }
        // Not in quick-junit's schema, but read by Jenkins and GitLab: how many were
        // inconclusive or not gated, beside the failures it counts itself.
        let skipped = rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Inconclusive | Outcome::NotGated))
            .count();
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        for r in rows {
            let mut case = test_case(name, r);
            if let Some(d) = clock.of_row(r) {
                case.set_time(d);
            }
            suite.add_test_case(case);
        }
        out.add_test_suite(suite);
    }
    // Serializing into memory fails only on a writer error, which a String never has.
    out.to_string().unwrap_or_default()
}

fn test_case(suite: &str, r: &Row) -> TestCase {
    let detail = values(r);
    let status = match r.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail => {
            let word = match r.verdict {
                Verdict::Regressed | Verdict::Changed | Verdict::Missing => r.verdict.as_str(),
                _ => "failed",
            };
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_type(word)
                .set_message(format!("{word}: {}", r.explain()))
                .set_description(detail.as_str());
            st
        }
        Outcome::Inconclusive => {
            let message = match &r.verdict {
                Verdict::Inconclusive { reason } => {
                    format!("inconclusive: {}", reason.describe())
                }
                _ => "inconclusive".into(),
            };
            let mut st = TestCaseStatus::skipped();
            st.set_message(message);
            st
        }
        Outcome::NotGated => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(r.explain());
            st
        }
    };
    let mut case = TestCase::new(case_name(r), status);
    case.set_classname(suite);
    match r.outcome {
        Outcome::Pass => {
            case.set_system_out(format!("{}: {detail}", r.verdict.label()));
        }
        Outcome::Inconclusive | Outcome::NotGated => {
            case.set_system_out(detail);
        }
        Outcome::Fail => {}
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_and_messages_is_escaped() {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message("a < b && \"c\" 'd' >");
        let mut suite = TestSuite::new("s<1>");
        suite.add_test_case(TestCase::new("x & y", st));
        let mut r = Report::new("r");
        r.add_test_suite(suite);
        let x = r.to_string().unwrap();
        assert!(x.contains("name=\"s&lt;1&gt;\""), "{x}");
        assert!(x.contains("name=\"x &amp; y\""), "{x}");
        assert!(!x.contains("a < b"), "{x}");
    }
}

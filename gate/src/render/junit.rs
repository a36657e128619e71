//! JUnit XML: one `<testsuite>` per case (and environment, when there are several), one
//! `<testcase>` per figure and per expectation. Regressions, changes and missing figures
//! are `<failure>`s; inconclusive ones `<skipped>` with the reason, so CI test reporters
//! show them without failing on them (the exit code decides that).

use std::collections::BTreeMap;

use crate::analysis::{GateReport, Row};
use crate::verdict::{Outcome, Verdict};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

fn case_name(r: &Row) -> String {
    match &r.key.step {
        Some(s) => format!("{s}: {}", r.key.figure),
        None => r.key.figure.clone(),
    }
}

fn values(r: &Row) -> String {
    let side = |s: &Option<crate::analysis::SampleSummary>| match s {
        Some(s) => format!(
            "{} (n = {}: {})",
            s.display(),
            s.n,
            s.values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "absent".into(),
    };
    format!(
        "baseline {}\ncandidate {}\n{}",
        side(&r.baseline),
        side(&r.candidate),
        r.explain()
    )
}

/// The report as JUnit XML, written by `quick-junit` (nextest's writer: escaping, the
/// control characters XML forbids, attribute order).
pub fn render(report: &GateReport) -> String {
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
        // Not in quick-junit's schema, but read by Jenkins and GitLab: how many were
        // inconclusive, beside the failures it counts itself.
        let skipped = rows
            .iter()
            .filter(|r| r.outcome == Outcome::Inconclusive)
            .count();
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        for r in rows {
            suite.add_test_case(test_case(name, r));
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
    };
    let mut case = TestCase::new(case_name(r), status);
    case.set_classname(suite);
    match r.outcome {
        Outcome::Pass => {
            case.set_system_out(format!("{}: {detail}", r.verdict.label()));
        }
        Outcome::Inconclusive => {
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

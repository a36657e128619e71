//! JUnit XML: one `<testsuite>` per case (and environment, when there are several), one
//! `<testcase>` per figure and per expectation. Regressions, changes and missing figures
//! are `<failure>`s; inconclusive ones `<skipped>` with the reason, so CI test reporters
//! show them without failing on them (the exit code decides that).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::analysis::{GateReport, Row};
use crate::verdict::{Outcome, Verdict};

use thinbench_schema::escape::xml as esc;

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

/// The report as JUnit XML.
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
    let count = |rows: &[&Row], o: Outcome| rows.iter().filter(|r| r.outcome == o).count();
    let all: Vec<&Row> = report.rows.iter().collect();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"thinbench gate\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
        all.len(),
        count(&all, Outcome::Fail),
        count(&all, Outcome::Inconclusive)
    );
    for (suite, rows) in &suites {
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">",
            esc(suite),
            rows.len(),
            count(rows, Outcome::Fail),
            count(rows, Outcome::Inconclusive)
        );
        for r in rows {
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\"",
                esc(suite),
                esc(&case_name(r))
            );
            let detail = esc(&values(r));
            match r.outcome {
                Outcome::Pass => {
                    let _ = writeln!(
                        x,
                        ">\n      <system-out>{}: {detail}</system-out>\n    </testcase>",
                        r.verdict.label()
                    );
                }
                Outcome::Fail => {
                    let word = match r.verdict {
                        Verdict::Regressed => "regressed",
                        Verdict::Changed => "changed",
                        Verdict::Missing => "missing",
                        _ => "failed",
                    };
                    let message = format!("{word}: {}", r.explain());
                    let _ = writeln!(
                        x,
                        ">\n      <failure type=\"{word}\" message=\"{}\">{detail}</failure>\n    </testcase>",
                        esc(&message)
                    );
                }
                Outcome::Inconclusive => {
                    let message = match &r.verdict {
                        Verdict::Inconclusive { reason } => {
                            format!("inconclusive: {}", reason.describe())
                        }
                        _ => "inconclusive".into(),
                    };
                    let _ = writeln!(
                        x,
                        ">\n      <skipped message=\"{}\"/>\n      <system-out>{detail}</system-out>\n    </testcase>",
                        esc(&message)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes() {
        assert_eq!(
            esc("a < b && \"c\" 'd' >\u{1}"),
            "a &lt; b &amp;&amp; &quot;c&quot; &apos;d&apos; &gt;?"
        );
    }
}

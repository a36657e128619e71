//! A run-vs-run comparison, laid out: warnings about what makes it doubtful (first, so
//! they are read before any verdict), the two runs side by side, and every figure of A
//! against B.

use super::builder::Builder;
use super::runs::env_rows;
use super::shared::{fig_value, kind_str, na, timing_notes};
use crate::analysis::compare::{Comparison, MIN_TIMING_SAMPLES, NOISE_PCT};
use crate::render::document::{Block, Cell, Document, Tone};
use thinbench_schema::format;
use thinbench_schema::verdict::{counts_line, Verdict, VerdictKind};

/// Lay out a run-vs-run comparison.
pub(crate) fn comparison(c: &Comparison) -> Document {
    let mut b = Builder::new();
    comparison_callouts(&mut b, c);
    runs_table(&mut b, c);
    figures_table(&mut b, c);
    b.doc(
        "compare",
        format!(
            "thinbench comparison: {} {} → {}",
            c.a.scenario, c.a.run_id, c.b.run_id
        ),
    )
}

/// The same run twice, different scenarios or environments, TCG, the rules in force,
/// and the count of each verdict.
fn comparison_callouts(b: &mut Builder, c: &Comparison) {
    if !c.same_runs.is_empty() {
        b.callout(
            Tone::Warn,
            format!(
                "The same run on both sides: {}. A run compared with itself can only be \
                 unchanged.",
                c.same_runs.join("; ")
            ),
        );
    }
    if c.scenario_differs {
        b.callout(
            Tone::Bad,
            format!(
                "Different scenarios: A ran `{}`, B ran `{}`. Figures with the same name may \
                 not measure the same thing.",
                c.a.scenario, c.b.scenario
            ),
        );
    }
    if !c.environment_differences.is_empty() {
        let judged = if c.timings_not_comparable.is_some() {
            "Timings are not comparable across environments: none is judged (inconclusive); \
             exact figures still are."
        } else {
            "Timings may not be comparable; exact figures are."
        };
        b.callout(
            Tone::Bad,
            format!(
                "Different environments: {}. {judged}",
                c.environment_differences
                    .iter()
                    .map(|d| format!("{} `{}` vs `{}`", d.field, d.a, d.b))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    for note in timing_notes([&c.a, &c.b]) {
        b.callout(Tone::Warn, note);
    }
    if let Some(cfg) = &c.config {
        b.callout(
            Tone::Plain,
            format!(
                "Rules from `{}` (figures ignored: {}).",
                cfg.display(),
                c.ignored
            ),
        );
    }
    let bad = c.failures().next().is_some();
    b.callout(
        if bad { Tone::Bad } else { Tone::Good },
        format!("{} figures: {}.", c.rows.len(), counts_line(|k| c.count(k))),
    );
}

/// The two runs' identities and environments side by side, differences marked.
fn runs_table(b: &mut Builder, c: &Comparison) {
    b.h(2, "Runs");
    let mut t = b.table(
        "compare-runs",
        "The two runs",
        &[("field", false), ("A (baseline)", false), ("B", false)],
    );
    let mut ra = env_rows(&c.a);
    let mut rb = env_rows(&c.b);
    if c.a_runs.len() > 1 || c.b_runs.len() > 1 {
        // A set: its first run's identity, and every run's id.
        let runs = |ids: &[String]| format!("{}: {}", ids.len(), ids.join(", "));
        ra.insert(0, ("Runs".into(), runs(&c.a_runs)));
        rb.insert(0, ("Runs".into(), runs(&c.b_runs)));
    }
    for (k, va) in &ra {
        let vb = rb
            .iter()
            .find(|(kb, _)| kb == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(na);
        let differs = *va != vb
            && c.environment_differences.iter().any(|d| {
                matches!(
                    (d.field, k.as_str()),
                    ("kernel", "Kernel")
                        | ("accel", "Accel")
                        | ("cpu", "CPU (pools' kernel)")
                        | ("host cpu", "Host CPU")
                        | ("cpus", "CPUs")
                        | ("clock", "Clock")
                        | ("environment", "Environment")
                        | ("thin-pool target", "thin-pool target")
                )
            });
        let scen = k == "Scenario" && c.scenario_differs;
        let tone = if differs || scen {
            Tone::Bad
        } else {
            Tone::Plain
        };
        t.rows.push(vec![
            Cell::text(k),
            Cell::text(va).tone(tone),
            Cell::text(vb).tone(tone),
        ]);
    }
    b.blocks.push(Block::Table(t));
}

/// Every figure, A vs B, with its change and verdict.
fn figures_table(b: &mut Builder, c: &Comparison) {
    b.h(2, "Figures");
    b.text(format!(
        "Change is (B − A) / A. Exact figures must match exactly. A timing is judged only \
         with {MIN_TIMING_SAMPLES} or more runs a side in one environment: its medians must \
         differ by more than the noise band (±{NOISE_PCT}% unless a rule says otherwise) and \
         every sample of one side lie beyond every sample of the other; one run each is \
         inconclusive. The verdicts are the CI gate's words; B only: new, A only: missing."
    ));
    if c.a_runs.len() > 1 || c.b_runs.len() > 1 {
        b.text(format!(
            "A and B are the medians of {} and {} runs.",
            c.a_runs.len(),
            c.b_runs.len()
        ));
    }
    let mut t = b.table(
        "compare",
        "Every figure, A vs B",
        &[
            ("pool", false),
            ("step", false),
            ("figure", false),
            ("kind", false),
            ("A", true),
            ("B", true),
            ("change", true),
            ("verdict", false),
        ],
    );
    for r in &c.rows {
        let tone = match r.verdict.kind() {
            VerdictKind::Regressed => Tone::Bad,
            VerdictKind::Changed
            | VerdictKind::Missing
            | VerdictKind::New
            | VerdictKind::Inconclusive => Tone::Warn,
            VerdictKind::Improved => Tone::Good,
            VerdictKind::Unchanged | VerdictKind::NotGated => Tone::Plain,
        };
        let verdict = match (&r.verdict, r.verdict.note()) {
            (Verdict::Inconclusive { reason } | Verdict::NotGated { reason }, _) => {
                format!("{} ({reason})", r.verdict.label())
            }
            (_, Some(note)) => format!("{} ({note})", r.verdict.label()),
            (_, None) => r.verdict.label().to_owned(),
        };
        let fmt = |v: f64| fig_value(v, &r.unit);
        t.rows.push(vec![
            Cell::text(&r.pool),
            Cell::text(&r.step),
            Cell::text(&r.figure),
            Cell::text(kind_str(r.metric_kind)),
            Cell::opt(r.a, fmt),
            Cell::opt(r.b, fmt),
            Cell::opt(r.change_pct, |x| format::percent_change(Some(x))),
            Cell::text(verdict).tone(tone),
        ]);
    }
    b.blocks.push(Block::Table(t));
}

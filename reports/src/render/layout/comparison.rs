//! A run-vs-run comparison, laid out: warnings about what makes it doubtful, the two
//! runs side by side, and every figure of A against B.

use super::builder::Builder;
use super::runs::env_rows;
use super::shared::{fig_value, kind_str, na, TCG_NOTE};
use crate::analysis::compare::{Comparison, NOISE_PCT};
use crate::render::document::{Block, Cell, Document, Tone};
use thinbench_schema::format;
use thinbench_schema::verdict::{counts_line, VerdictKind};

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

/// Different scenarios or environments, TCG, and the count of each verdict.
fn comparison_callouts(b: &mut Builder, c: &Comparison) {
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
        b.callout(
            Tone::Bad,
            format!(
                "Different environments: {}. Timings are not comparable across environments; \
                 exact figures still are.",
                c.environment_differences
                    .iter()
                    .map(|d| format!("{} `{}` vs `{}`", d.field, d.a, d.b))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    if c.a.is_tcg() || c.b.is_tcg() {
        b.callout(Tone::Warn, TCG_NOTE);
    }
    let bad = c.count(VerdictKind::Regressed) + c.count(VerdictKind::Changed) > 0;
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
    let ra = env_rows(&c.a);
    let rb = env_rows(&c.b);
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
        "Change is (B − A) / A. Timings within ±{NOISE_PCT}% are unchanged, within noise (one \
         run each: no confidence interval); exact figures must match exactly. The verdicts \
         are the CI gate's words; B only: new, A only: missing."
    ));
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
            VerdictKind::Unchanged => Tone::Plain,
        };
        let verdict = match r.verdict.note() {
            Some(note) => format!("{} ({note})", r.verdict.label()),
            None => r.verdict.label().to_owned(),
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

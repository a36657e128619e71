//! `gate.json`: the report as a versioned, documented format (docs/gate.md). Written
//! from view structs rather than by serialising the model, so the model may change
//! without breaking readers.

use std::path::PathBuf;

use serde::Serialize;
use thinbench_schema::record::{Better, MetricKind};
use thinbench_schema::verdict::VerdictKind;

use crate::analysis::{Counts, GateReport, Group, Overall, SampleSummary};
use crate::config::Settings;
use crate::figures::FigureClass;
use crate::verdict::{Inconclusive, Outcome, TimingStats, Verdict};

#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: u32,
    verdict: Overall,
    counts: Counts,
    config: Option<&'a PathBuf>,
    settings: &'a Settings,
    groups: &'a [Group],
    rows: Vec<JsonRow<'a>>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    fingerprint: &'a str,
    case: &'a str,
    step: Option<&'a str>,
    action: Option<&'a str>,
    figure: &'a str,
    class: FigureClass,
    kind: MetricKind,
    better: Better,
    unit: &'a str,
    verdict: VerdictKind,
    outcome: Outcome,
    reason: Option<&'a Inconclusive>,
    note: Option<&'a str>,
    explanation: String,
    baseline: Option<&'a SampleSummary>,
    candidate: Option<&'a SampleSummary>,
    stats: Option<&'a TimingStats>,
    rules: &'a [String],
}

/// The report as pretty JSON.
pub fn render(r: &GateReport) -> String {
    let view = JsonReport {
        format_version: r.format_version,
        verdict: r.verdict,
        counts: r.counts,
        config: r.config.as_ref(),
        settings: &r.settings,
        groups: &r.groups,
        rows: r
            .rows
            .iter()
            .map(|row| JsonRow {
                fingerprint: &row.fingerprint,
                case: &row.key.case,
                step: row.key.step.as_deref(),
                action: row.action.as_deref(),
                figure: &row.key.figure,
                class: row.class,
                kind: row.kind,
                better: row.better,
                unit: &row.unit,
                verdict: row.verdict.kind(),
                outcome: row.outcome,
                reason: match &row.verdict {
                    Verdict::Inconclusive { reason } => Some(reason),
                    _ => None,
                },
                note: match &row.verdict {
                    Verdict::NotGated { reason } => Some(reason.as_str()),
                    v => v.note(),
                },
                explanation: row.explain(),
                baseline: row.baseline.as_ref(),
                candidate: row.candidate.as_ref(),
                stats: row.stats.as_ref(),
                rules: &row.rules,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&view).expect("the gate report serialises");
    s.push('\n');
    s
}

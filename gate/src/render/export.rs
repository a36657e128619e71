//! Exports for benchmark trackers, of the candidate's numeric figures (medians over its
//! samples):
//!
//! - Bencher Metric Format: `{ benchmark: { measure: { value, lower_value, upper_value } } }`,
//!   the benchmark named `<case>/<step>/<figure>`, the measure by unit (`latency` for
//!   nanoseconds and `throughput` for IOPS are Bencher's built-in measures), the bounds
//!   the smallest and largest sample;
//! - github-action-benchmark's `customSmallerIsBetter` and `customBiggerIsBetter` JSON
//!   (one file each, as the action takes one tool per step); figures with no better
//!   direction are in neither.

use std::collections::BTreeMap;

use serde::Serialize;
use thinbench_schema::record::Better;

use crate::analysis::{GateReport, Row};
use crate::figures::FigureClass;

fn bench_name(r: &Row, multi_env: bool) -> String {
    let mut n = match &r.key.step {
        Some(s) => format!("{}/{s}/{}", r.key.case, r.key.figure),
        None => format!("{}/{}", r.key.case, r.key.figure),
    };
    if multi_env {
        n = format!("{}/{n}", r.fingerprint);
    }
    n
}

/// Bencher's measure slug for a unit.
fn measure(unit: &str) -> String {
    match unit {
        "ns" => "latency".into(),
        "iops" => "throughput".into(),
        "MB/s" => "mb-per-s".into(),
        "ms" => "duration-ms".into(),
        "" => "value".into(),
        u => u
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct BmfMetric {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

fn numeric(r: &GateReport) -> impl Iterator<Item = (&Row, f64, f64, f64, usize)> {
    r.rows.iter().filter_map(|row| {
        if row.class != FigureClass::Metric {
            return None;
        }
        let c = row.candidate.as_ref()?;
        Some((row, c.median?, c.min?, c.max?, c.n))
    })
}

/// Bencher Metric Format JSON.
pub fn bmf(r: &GateReport) -> String {
    let multi = r.groups.len() > 1;
    let mut out: BTreeMap<String, BTreeMap<String, BmfMetric>> = BTreeMap::new();
    for (row, median, min, max, n) in numeric(r) {
        let (lower_value, upper_value) = if n > 1 {
            (Some(min), Some(max))
        } else {
            (None, None)
        };
        out.entry(bench_name(row, multi)).or_default().insert(
            measure(&row.unit),
            BmfMetric {
                value: median,
                lower_value,
                upper_value,
            },
        );
    }
    let mut s = serde_json::to_string_pretty(&out).expect("BMF serialises");
    s.push('\n');
    s
}

#[derive(Serialize)]
struct GabEntry {
    name: String,
    unit: String,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    range: Option<String>,
    extra: String,
}

/// github-action-benchmark JSON for `better` (lower: `customSmallerIsBetter`, higher:
/// `customBiggerIsBetter`).
pub fn github_action_benchmark(r: &GateReport, better: Better) -> String {
    let multi = r.groups.len() > 1;
    let entries: Vec<GabEntry> = numeric(r)
        .filter(|(row, ..)| row.better == better)
        .map(|(row, median, min, max, n)| GabEntry {
            name: bench_name(row, multi),
            unit: row.unit.clone(),
            value: median,
            range: (n > 1).then(|| {
                format!(
                    "± {}",
                    thinbench_schema::format::precise_number((max - min) / 2.0)
                )
            }),
            extra: format!(
                "median of {n} sample(s), min {} max {}; gate: {}",
                thinbench_schema::format::precise_number(min),
                thinbench_schema::format::precise_number(max),
                row.verdict.label()
            ),
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&entries).expect("entries serialise");
    s.push('\n');
    s
}

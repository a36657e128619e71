//! The "Latency percentiles" part of the workloads section: per workload step, one
//! curve per pool from p50 to max on a log scale.

use super::builder::Builder;
use crate::analysis::stats::Percentile;
use crate::model::ReportModel;
use crate::render::document::Cell;
use crate::render::plot_spec::{pool_colour, CurvePlot, PlotSpec, Series};
use thinbench_schema::format;

pub(super) fn latency_section(b: &mut Builder, m: &ReportModel) {
    b.h(3, "Latency percentiles");
    b.text("Per workload step, one line per pool: p50 to max on a log scale.");
    for g in &m.workloads {
        let entries: Vec<_> = g.entries.iter().filter(|e| !e.curve.is_empty()).collect();
        if entries.is_empty() {
            continue;
        }
        let max_ns = entries
            .iter()
            .flat_map(|e| e.curve.iter().map(|(_, n)| n.0))
            .max()
            .unwrap_or(0);
        let (unit, per_ns) = latency_unit(max_ns);
        let plot = CurvePlot {
            title: format!("Latency percentiles: {} ({})", g.step, g.workload),
            x_label: "percentile".into(),
            y_label: format!("latency ({unit}, log scale)"),
            categories: Percentile::ALL
                .iter()
                .map(|p| p.label().to_owned())
                .collect(),
            series: entries
                .iter()
                .map(|e| {
                    let p = &m.pools[e.pool];
                    Series {
                        label: p.label.clone(),
                        colour: pool_colour(p.kind, p.shade),
                        values: e
                            .curve
                            .iter()
                            .map(|(_, n)| Some(n.0 as f64 / per_ns))
                            .collect(),
                    }
                })
                .collect(),
        };
        let mut header: Vec<(&str, bool)> = vec![("pool", false), ("IOs", true)];
        header.extend(Percentile::ALL.iter().map(|p| (p.label(), true)));
        let mut t = b.table(
            &format!("latency-{}", g.step),
            &format!("Latency ({unit}): {}", g.step),
            &header,
        );
        for e in &entries {
            let mut row = vec![
                Cell::text(&m.pools[e.pool].label),
                Cell::num(
                    e.stats.latency.count as f64,
                    e.stats.latency.count.to_string(),
                ),
            ];
            row.extend(e.curve.iter().map(|(_, n)| {
                let v = n.0 as f64 / per_ns;
                Cell::num(v, format::sig3(v))
            }));
            t.rows.push(row);
        }
        b.figure(
            &format!(
                "Latency percentile curve of step {}, per pool ({unit}, log scale).",
                g.step
            ),
            PlotSpec::Curve(plot),
            t,
        );
    }
}

/// The unit latencies read best in: ms once the largest is 10 ms or more.
fn latency_unit(max_ns: u64) -> (&'static str, f64) {
    if max_ns >= 10_000_000 {
        ("ms", 1e6)
    } else {
        ("µs", 1e3)
    }
}

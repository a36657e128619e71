//! The "Latency percentiles" part of the workloads section: per workload step, the
//! latency distribution of each pool on a "nines" axis, pools that ran the same IO on
//! one plot, points that include IO the pool held marked as such.

use super::builder::Builder;
use crate::analysis::stats::Percentile;
use crate::model::{PoolView, ReportModel, WorkloadEntry, WorkloadGroup};
use crate::render::document::Cell;
use crate::render::plot_spec::{pool_colour, LatencyPlot, LatencyPoint, LatencySeries, PlotSpec};
use thinbench_schema::format;

pub(super) fn latency_section(b: &mut Builder, m: &ReportModel) {
    b.h(3, "Latency percentiles");
    b.text(
        "Per workload step, each pool's latency distribution as the run recorded it: p50, \
         p90, p99 and p99.9 placed at their nines (−log10(1 − p): p90 at 1, p99 at 2, \
         p99.9 at 3), the maximum at log10 of the IO count, latency on a log scale. Pools \
         that ran the same IO (workload and IO size) share a plot. A ringed maximum \
         includes IO the pool held: the step was a fill, or the pool ran out of data \
         space or had a fault layer in force during it.",
    );
    for g in &m.workloads {
        let entries: Vec<&WorkloadEntry> =
            g.entries.iter().filter(|e| !e.curve.is_empty()).collect();
        let groups = comparable(&entries);
        let split = groups.len() > 1;
        for group in groups {
            latency_figure(b, m, g, &group, split);
        }
    }
}

/// Entries that can share a plot: the same workload with the same IO size.
fn comparable<'a>(entries: &[&'a WorkloadEntry]) -> Vec<Vec<&'a WorkloadEntry>> {
    let key = |e: &WorkloadEntry| {
        let io = e.stats.bytes.0.checked_div(e.stats.ops).unwrap_or(0);
        (e.stats.workload.clone(), io)
    };
    let mut groups: Vec<(_, Vec<&WorkloadEntry>)> = Vec::new();
    for e in entries {
        let k = key(e);
        match groups.iter_mut().find(|(gk, _)| *gk == k) {
            Some((_, v)) => v.push(e),
            None => groups.push((k, vec![e])),
        }
    }
    groups.into_iter().map(|(_, v)| v).collect()
}

/// Why the IO of `e`'s step may have waited on the pool, if it may have.
pub(super) fn held_reason(p: &PoolView, e: &WorkloadEntry) -> Option<String> {
    let tl = &p.timeline;
    let step = tl.steps.iter().find(|s| s.index == e.step_index);
    let mut why: Vec<String> = Vec::new();
    if e.stats.workload == "fill" || step.is_some_and(|s| s.action == "fill") {
        why.push("a fill".into());
    }
    if let Some(s) = step {
        let full_reading = tl.points.iter().any(|x| {
            x.mode == "out_of_data_space"
                && (x.step == Some(s.index) || (s.start_ms..=s.end_ms).contains(&x.t_ms))
        });
        let full_after = s
            .after
            .as_ref()
            .is_some_and(|u| u.mode == thinbench_schema::record::PoolMode::OutOfDataSpace);
        if full_reading || full_after {
            why.push("out of data space".into());
        }
        for w in &tl.faults {
            let end = w.end_ms.unwrap_or(u64::MAX);
            if w.start_ms <= s.end_ms && end >= s.start_ms {
                why.push(format!("fault {}", w.label));
            }
        }
    }
    why.dedup();
    (!why.is_empty()).then(|| why.join(", "))
}

/// The x of a recorded percentile: `-log10(1 - p)`; the maximum at `log10(IOs)` (it
/// is the 1 − 1/IOs quantile), and never left of p99.9.
fn nines(p: Percentile, count: u64) -> f64 {
    match p {
        Percentile::P50 => 2f64.log10(),
        Percentile::P90 => 1.0,
        Percentile::P99 => 2.0,
        Percentile::P999 => 3.0,
        Percentile::Max => (count.max(1) as f64).log10().max(3.0),
    }
}

fn latency_figure(
    b: &mut Builder,
    m: &ReportModel,
    g: &WorkloadGroup,
    entries: &[&WorkloadEntry],
    split: bool,
) {
    let max_ns = entries
        .iter()
        .flat_map(|e| e.curve.iter().map(|(_, n)| n.0))
        .max()
        .unwrap_or(0);
    let (unit, per_ns) = latency_unit(max_ns);
    let reasons: Vec<Option<String>> = entries
        .iter()
        .map(|e| held_reason(&m.pools[e.pool], e))
        .collect();
    let mut why: Vec<&str> = Vec::new();
    for r in reasons.iter().flatten() {
        if !why.contains(&r.as_str()) {
            why.push(r);
        }
    }
    let pools_named = || {
        entries
            .iter()
            .map(|e| m.pools[e.pool].label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let title = if split {
        format!("Latency: {} ({}) on {}", g.step, g.workload, pools_named())
    } else {
        format!("Latency: {} ({})", g.step, g.workload)
    };
    let plot = LatencyPlot {
        title,
        held_note: (!why.is_empty())
            .then(|| format!("max includes IO held by the pool ({})", why.join("; "))),
        series: entries
            .iter()
            .zip(&reasons)
            .map(|(e, held)| {
                let p = &m.pools[e.pool];
                LatencySeries {
                    label: p.label.clone(),
                    colour: pool_colour(p.kind, p.shade),
                    points: e
                        .curve
                        .iter()
                        .map(|(pc, n)| LatencyPoint {
                            nines: nines(*pc, e.stats.latency.count),
                            ns: n.0 as f64,
                            max: *pc == Percentile::Max,
                            held: *pc == Percentile::Max && held.is_some(),
                        })
                        .collect(),
                }
            })
            .collect(),
    };
    let mut header: Vec<(&str, bool)> = vec![("pool", false), ("IOs", true)];
    header.extend(Percentile::ALL.iter().map(|p| (p.label(), true)));
    header.push(("held IO", false));
    let id = if split {
        format!("latency-{}-{}", g.step, pools_named())
    } else {
        format!("latency-{}", g.step)
    };
    let mut t = b.table(&id, &format!("Latency ({unit}): {}", g.step), &header);
    for (e, held) in entries.iter().zip(&reasons) {
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
        row.push(Cell::text(held.as_deref().unwrap_or("no")));
        t.rows.push(row);
    }
    b.figure(
        &format!(
            "Latency percentile curve of step {}, per pool (log scale; table in {unit}).",
            g.step
        ),
        PlotSpec::Latency(plot),
        t,
    );
}

/// The unit latencies read best in: ms once the largest is 10 ms or more.
fn latency_unit(max_ns: u64) -> (&'static str, f64) {
    if max_ns >= 10_000_000 {
        ("ms", 1e6)
    } else {
        ("µs", 1e3)
    }
}

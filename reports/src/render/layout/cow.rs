//! The "Copy-on-write cost" section: phases of multi-phase workloads, and the `cow.*`
//! metrics.

use super::builder::Builder;
use super::metrics::metric_cells;
use super::shared::pools_in;
use crate::model::{is_phase_metric, MetricRow, ReportModel};
use crate::render::document::{Block, Cell};
use crate::render::plot_spec::{pool_colour, BarPanel, BarsPlot, PlotSpec, Series};
use thinbench_schema::format;

pub(super) fn cow_section(b: &mut Builder, m: &ReportModel) {
    if m.phases.is_empty() {
        return;
    }
    b.h(2, "Copy-on-write cost");
    b.text(
        "Phases of multi-phase workloads: the first write to a shared chunk copies it \
         (sub-chunk writes copy the whole chunk; whole-chunk writes need no copy), a \
         rewrite of an already-copied chunk does not.",
    );
    let cats: Vec<String> = m.phases.iter().map(|g| g.name.clone()).collect();
    let pool_ids = pools_in(
        m.phases
            .iter()
            .flat_map(|g| g.entries.iter().map(|e| e.pool)),
    );
    let series = |f: fn(&thinbench_schema::record::WorkloadStats) -> f64| -> Vec<Series> {
        pool_ids
            .iter()
            .map(|&pi| {
                let p = &m.pools[pi];
                Series {
                    label: p.label.clone(),
                    colour: pool_colour(p.kind, p.shade),
                    values: m
                        .phases
                        .iter()
                        .map(|g| {
                            g.entries
                                .iter()
                                .find(|e| e.pool == pi && e.stats.ops > 0)
                                .map(|e| f(&e.stats))
                        })
                        .collect(),
                }
            })
            .collect()
    };
    let plot = BarsPlot {
        title: "Copy-on-write cost per phase".into(),
        panels: vec![
            BarPanel {
                title: "p50 latency".into(),
                y_label: "p50 latency (µs)".into(),
                categories: cats.clone(),
                series: series(|w| w.latency.p50_ns as f64 / 1000.0),
                flags: Vec::new(),
            },
            BarPanel {
                title: "IOPS".into(),
                y_label: "IOs per second".into(),
                categories: cats,
                series: series(|w| w.iops),
                flags: Vec::new(),
            },
        ],
    };
    let mut t = b.table(
        "cow-phases",
        "Copy-on-write phases (latencies in µs)",
        &[
            ("phase", false),
            ("pool", false),
            ("step", false),
            ("ops", true),
            ("IOPS", true),
            ("MB/s", true),
            ("p50", true),
            ("p99", true),
            ("max", true),
        ],
    );
    for g in &m.phases {
        for e in &g.entries {
            let w = &e.stats;
            let us = |ns: u64| Cell::num(ns as f64 / 1000.0, format::micros(ns as f64));
            t.rows.push(vec![
                Cell::text(&g.name),
                Cell::text(&m.pools[e.pool].label),
                Cell::text(&e.step),
                Cell::num(w.ops as f64, w.ops.to_string()),
                Cell::num(w.iops, format::sig3(w.iops)),
                Cell::num(w.mb_per_s, format::sig3(w.mb_per_s)),
                us(w.latency.p50_ns),
                us(w.latency.p99_ns),
                us(w.latency.max_ns),
            ]);
        }
    }
    b.figure(
        "p50 latency and IOPS of each copy-on-write phase, pools side by side.",
        PlotSpec::Bars(plot),
        t,
    );
    let cow: Vec<&MetricRow> = m
        .metrics
        .iter()
        .filter(|r| r.metric.name.starts_with("cow.") && !is_phase_metric(&r.metric.name))
        .collect();
    if !cow.is_empty() {
        let mut t = b.table(
            "cow-metrics",
            "Copy-on-write metrics",
            &[
                ("pool", false),
                ("step", false),
                ("metric", false),
                ("value", true),
                ("better", false),
            ],
        );
        for r in cow {
            t.rows.push(metric_cells(m, r, false));
        }
        b.blocks.push(Block::Table(t));
    }
}

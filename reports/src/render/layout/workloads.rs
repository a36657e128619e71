//! The "Workloads" section: every workload step on every pool, its IO errors, latency
//! percentiles (`latency`) and throughput.

use super::builder::Builder;
use super::latency::latency_section;
use super::shared::pools_in;
use crate::model::ReportModel;
use crate::render::document::{Block, Cell, Tone};
use crate::render::plot_spec::{pool_colour, BarPanel, BarsPlot, PlotSpec, Series};
use thinbench_schema::format;

pub(super) fn workload_sections(b: &mut Builder, m: &ReportModel) {
    if m.workloads.is_empty() {
        return;
    }
    b.h(2, "Workloads");
    workloads_table(b, m);
    latency_section(b, m);
    throughput_section(b, m);
}

/// Every workload step on every pool, and the IO errors any of them saw.
fn workloads_table(b: &mut Builder, m: &ReportModel) {
    let mut t = b.table(
        "workloads",
        "Every workload step on every pool (latencies in µs)",
        &[
            ("step", false),
            ("pool", false),
            ("workload", false),
            ("ops", true),
            ("bytes", true),
            ("errors", true),
            ("IOPS", true),
            ("MB/s", true),
            ("mean", true),
            ("p50", true),
            ("p99", true),
            ("max", true),
            ("chunks touched", true),
            ("blocks allocated", true),
        ],
    );
    for g in &m.workloads {
        for e in &g.entries {
            let w = &e.stats;
            let l = &w.latency;
            let us = |ns: u64| Cell::num(ns as f64 / 1000.0, format::micros(ns as f64));
            t.rows.push(vec![
                Cell::text(&g.step),
                Cell::text(&m.pools[e.pool].label),
                Cell::text(&w.workload),
                Cell::num(w.ops as f64, w.ops.to_string()),
                Cell::num(w.bytes.0 as f64, format::bytes(w.bytes)),
                Cell::num(w.errors as f64, w.errors.to_string()).tone(if w.errors > 0 {
                    Tone::Bad
                } else {
                    Tone::Plain
                }),
                Cell::num(w.iops, format::sig3(w.iops)),
                Cell::num(w.mb_per_s, format::sig3(w.mb_per_s)),
                Cell::num(l.mean_ns / 1000.0, format::micros(l.mean_ns)),
                us(l.p50_ns),
                us(l.p99_ns),
                us(l.max_ns),
                Cell::num(
                    w.distinct_chunks_touched as f64,
                    w.distinct_chunks_touched.to_string(),
                ),
                Cell::opt(e.blocks_allocated.map(|v| v as f64), format::number),
            ]);
        }
    }
    b.blocks.push(Block::Table(t));
    let errors: Vec<String> = m
        .workloads
        .iter()
        .flat_map(|g| g.entries.iter().map(move |e| (g, e)))
        .filter(|(_, e)| e.stats.errors > 0)
        .map(|(g, e)| {
            format!(
                "{} on {}: {} (first: {})",
                g.step,
                m.pools[e.pool].label,
                e.stats.errors,
                e.stats.first_error.as_deref().unwrap_or("not recorded")
            )
        })
        .collect();
    if !errors.is_empty() {
        b.text(format!("IO errors: {}.", errors.join("; ")));
    }
}

/// IOPS and MB/s per workload step, pools side by side.
fn throughput_section(b: &mut Builder, m: &ReportModel) {
    b.h(3, "Throughput");
    let cats: Vec<String> = m.workloads.iter().map(|g| g.step.clone()).collect();
    let series = |f: fn(&thinbench_schema::record::WorkloadStats) -> f64| -> Vec<Series> {
        pools_in(
            m.workloads
                .iter()
                .flat_map(|g| g.entries.iter().map(|e| e.pool)),
        )
        .into_iter()
        .map(|pi| {
            let p = &m.pools[pi];
            Series {
                label: p.label.clone(),
                colour: pool_colour(p.kind, p.shade),
                values: m
                    .workloads
                    .iter()
                    .map(|g| g.entries.iter().find(|e| e.pool == pi).map(|e| f(&e.stats)))
                    .collect(),
            }
        })
        .collect()
    };
    let plot = BarsPlot {
        title: "Throughput per workload step".into(),
        panels: vec![
            BarPanel {
                title: "IOPS".into(),
                y_label: "IOs per second".into(),
                categories: cats.clone(),
                series: series(|w| w.iops),
                flags: Vec::new(),
            },
            BarPanel {
                title: "Bandwidth".into(),
                y_label: "MB/s (10⁶ bytes/s)".into(),
                categories: cats,
                series: series(|w| w.mb_per_s),
                flags: Vec::new(),
            },
        ],
    };
    let mut t = b.table(
        "throughput",
        "Throughput per workload step",
        &[
            ("step", false),
            ("pool", false),
            ("IOPS", true),
            ("MB/s", true),
        ],
    );
    for g in &m.workloads {
        for e in &g.entries {
            t.rows.push(vec![
                Cell::text(&g.step),
                Cell::text(&m.pools[e.pool].label),
                Cell::num(e.stats.iops, format::sig3(e.stats.iops)),
                Cell::num(e.stats.mb_per_s, format::sig3(e.stats.mb_per_s)),
            ]);
        }
    }
    b.figure(
        "IOPS and MB/s per workload step, pools side by side.",
        PlotSpec::Bars(plot),
        t,
    );
}

//! The "Space returned after delete" section: pool blocks and host bytes given back.

use super::builder::Builder;
use super::shared::{better_str, metric_text, pools_in};
use crate::model::{MetricRow, ReportModel};
use crate::render::document::{Block, Cell};
use crate::render::plot_spec::{pool_colour, BarPanel, BarsPlot, PlotSpec, Series};
use thinbench_schema::format;
use thinbench_schema::units::Bytes;

pub(super) fn space_section(b: &mut Builder, m: &ReportModel) {
    let rows: Vec<&MetricRow> = m
        .metrics
        .iter()
        .filter(|r| r.metric.name.starts_with("space."))
        .collect();
    if rows.is_empty() {
        return;
    }
    b.h(2, "Space returned after delete");
    b.text(
        "Pool blocks and host bytes given back when thins are deleted, per step (a step per \
         discard setting shows the difference discards make).",
    );
    // Plotted: what came back, in MiB so pools of different chunk sizes compare (the
    // table below has every space figure).
    const PLOTTED: [(&str, &str, &str); 2] = [
        (
            "space.pool_blocks_returned",
            "Returned to the pool",
            "MiB of pool data space",
        ),
        (
            "space.host_bytes_returned",
            "Returned to the host (loop-lvm's sparse data file)",
            "MiB of host filesystem space",
        ),
    ];
    let mib = |r: &MetricRow| -> f64 {
        let bytes = match r.metric.unit.as_str() {
            "blocks" => r.metric.value * m.pools[r.pool].chunk.0 as f64,
            _ => r.metric.value,
        };
        bytes / (1u64 << 20) as f64
    };
    let pool_ids = pools_in(rows.iter().map(|r| r.pool));
    let mut panels = Vec::new();
    for (name, title, y_label) in PLOTTED {
        let of: Vec<&&MetricRow> = rows.iter().filter(|r| r.metric.name == name).collect();
        if of.is_empty() {
            continue;
        }
        let mut cats: Vec<String> = Vec::new();
        for r in &of {
            if !cats.contains(&r.step) {
                cats.push(r.step.clone());
            }
        }
        let series = pool_ids
            .iter()
            .filter(|&&pi| of.iter().any(|r| r.pool == pi))
            .map(|&pi| {
                let p = &m.pools[pi];
                Series {
                    label: p.label.clone(),
                    colour: pool_colour(p.kind, p.shade),
                    values: cats
                        .iter()
                        .map(|s| {
                            of.iter()
                                .find(|r| r.pool == pi && &r.step == s)
                                .map(|r| mib(r))
                        })
                        .collect(),
                }
            })
            .collect();
        panels.push(BarPanel {
            title: title.to_owned(),
            y_label: y_label.to_owned(),
            categories: cats,
            series,
            flags: Vec::new(),
        });
    }
    let mut t = b.table(
        "space-returned",
        "Space returned after delete",
        &[
            ("pool", false),
            ("step", false),
            ("metric", false),
            ("value", true),
            ("as bytes", true),
            ("better", false),
        ],
    );
    for r in &rows {
        let p = &m.pools[r.pool];
        let as_bytes = match r.metric.unit.as_str() {
            "blocks" => Some(r.metric.value * p.chunk.0 as f64),
            "bytes" => Some(r.metric.value),
            _ => None,
        };
        t.rows.push(vec![
            Cell::text(&p.label),
            Cell::text(&r.step),
            Cell::text(&r.metric.name),
            Cell::num(r.metric.value, metric_text(r.metric.value, &r.metric.unit)),
            Cell::opt(as_bytes, |v| format::bytes(Bytes(v.max(0.0) as u64))),
            Cell::text(better_str(r.metric.better)),
        ]);
    }
    if panels.is_empty() {
        b.blocks.push(Block::Table(t));
        return;
    }
    b.figure(
        "Space returned after delete, per step and pool: to the pool (blocks × chunk size) \
         and, for loop-lvm, to the filesystem holding its sparse data file.",
        PlotSpec::Bars(BarsPlot {
            title: "Space returned after delete".into(),
            panels,
        }),
        t,
    );
}

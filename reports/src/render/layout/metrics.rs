//! The "Metrics" section: every named figure of every step, and the metric row other
//! sections reuse.

use super::builder::Builder;
use super::shared::{better_str, kind_str};
use crate::model::{MetricRow, ReportModel};
use crate::render::document::{Block, Cell};
use thinbench_schema::format;

pub(super) fn metric_cells(m: &ReportModel, r: &MetricRow, full: bool) -> Vec<Cell> {
    let mt = &r.metric;
    let mut row = vec![
        Cell::text(&m.pools[r.pool].label),
        Cell::text(&r.step),
        Cell::text(&mt.name),
        Cell::num(mt.value, format::metric_value(mt.value, &mt.unit)),
    ];
    if full {
        row.push(Cell::text(&mt.unit));
        row.push(Cell::text(kind_str(mt.kind)));
    }
    row.push(Cell::text(better_str(mt.better)));
    row
}

pub(super) fn metrics_section(b: &mut Builder, m: &ReportModel) {
    if m.metrics.is_empty() {
        return;
    }
    b.h(2, "Metrics");
    b.text(
        "Every named figure of every step. Exact metrics are identical run to run on one \
         kernel; timing metrics are noisy.",
    );
    let mut t = b.table(
        "metrics",
        "All metrics",
        &[
            ("pool", false),
            ("step", false),
            ("metric", false),
            ("value", true),
            ("unit", false),
            ("kind", false),
            ("better", false),
        ],
    );
    for r in &m.metrics {
        t.rows.push(metric_cells(m, r, true));
    }
    b.blocks.push(Block::Table(t));
}

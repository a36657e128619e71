//! The "Metrics" section: every named figure of every step (the IO counters have their
//! own section, `io_work`), the harness's own cost in a table of its own, and the metric
//! row other sections reuse.

use super::builder::Builder;
use super::io_work::is_io_work;
use super::shared::{better_str, is_harness_cost, kind_str, metric_text, shown_unit};
use crate::model::{MetricRow, ReportModel};
use crate::render::document::{Block, Cell};

/// Pool, step, metric, value and, when `full`, the unit the value is shown in and the
/// kind; then the better direction.
pub(super) fn metric_cells(m: &ReportModel, r: &MetricRow, full: bool) -> Vec<Cell> {
    let mut row = harness_cells(m, r, full);
    row.push(Cell::text(better_str(r.metric.better)));
    row
}

/// [`metric_cells`] without the direction: what a harness-cost row shows.
fn harness_cells(m: &ReportModel, r: &MetricRow, full: bool) -> Vec<Cell> {
    let mt = &r.metric;
    let text = metric_text(mt.value, &mt.unit);
    let unit = shown_unit(&text, &mt.unit);
    let mut row = vec![
        Cell::text(&m.pools[r.pool].label),
        Cell::text(&r.step),
        Cell::text(&mt.name),
        Cell::num(mt.value, text),
    ];
    if full {
        row.push(Cell::text(unit));
        row.push(Cell::text(kind_str(mt.kind)));
    }
    row
}

pub(super) fn metrics_section(b: &mut Builder, m: &ReportModel) {
    let (harness, pool): (Vec<&MetricRow>, Vec<&MetricRow>) = m
        .metrics
        .iter()
        .filter(|r| !is_io_work(&r.metric.name))
        .partition(|r| is_harness_cost(&r.metric.name));
    if !pool.is_empty() {
        b.h(2, "Metrics");
        b.text(
            "Every named figure of every step but the IO counters (their own section, \
             \"IO work\"). Exact metrics are identical run to run on one kernel; timing \
             metrics are noisy.",
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
        for r in pool {
            t.rows.push(metric_cells(m, r, true));
        }
        b.blocks.push(Block::Table(t));
    }
    harness_section(b, m, &harness);
}

/// What thinbench's own checks and sampling cost: not a property of the pool, so apart
/// from its figures and with no better or worse.
fn harness_section(b: &mut Builder, m: &ReportModel, rows: &[&MetricRow]) {
    if rows.is_empty() {
        return;
    }
    b.h(2, "Harness cost");
    b.text(
        "What thinbench's own work took: the `thin_ls` cross-check after each model-checked \
         step (`oracle.*`) and status sampling (`sampling.*`). They measure the harness, not \
         the pool, so they are neither better nor worse.",
    );
    let mut t = b.table(
        "harness-cost",
        "Harness cost",
        &[
            ("pool", false),
            ("step", false),
            ("metric", false),
            ("value", true),
            ("unit", false),
            ("kind", false),
        ],
    );
    for r in rows {
        t.rows.push(harness_cells(m, r, true));
    }
    b.blocks.push(Block::Table(t));
}

//! The "Verdicts" section: one case per pool, and what did not pass.

use super::builder::Builder;
use super::shared::status_cell;
use crate::model::ReportModel;
use crate::render::document::{Block, Cell};

pub(super) fn verdict_section(b: &mut Builder, m: &ReportModel) {
    b.h(2, "Verdicts");
    let mut t = b.table(
        "cases",
        "Cases: one per pool",
        &[
            ("pool", false),
            ("kind", false),
            ("case", false),
            ("status", false),
            ("steps run", true),
        ],
    );
    for p in &m.pools {
        t.rows.push(vec![
            Cell::text(&p.label),
            Cell::text(p.kind.as_str()),
            Cell::text(&p.case_id),
            status_cell(p.status),
            Cell::num(
                p.timeline.steps.len() as f64,
                p.timeline.steps.len().to_string(),
            ),
        ]);
    }
    b.blocks.push(Block::Table(t));
    if m.problems.is_empty() {
        b.text("Nothing failed, was skipped or left unfinished.");
        return;
    }
    let mut t = b.table(
        "problems",
        "What did not pass",
        &[
            ("status", false),
            ("run", false),
            ("pool", false),
            ("step", false),
            ("what", false),
            ("detail", false),
        ],
    );
    for p in &m.problems {
        t.rows.push(vec![
            status_cell(p.status),
            Cell::text(&p.run_id),
            Cell::text(p.pool.clone().unwrap_or_default()),
            Cell::text(p.step.clone().unwrap_or_default()),
            Cell::text(&p.what),
            Cell::text(&p.detail),
        ]);
    }
    b.blocks.push(Block::Table(t));
}

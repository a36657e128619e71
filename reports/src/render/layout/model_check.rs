//! The "Reference model vs kernel" section: data blocks each step allocated, as the
//! reference model predicted and as the kernel reported.

use super::builder::Builder;
use super::shared::{pools_in, status_cell};
use crate::model::ReportModel;
use crate::render::document::Cell;
use crate::render::plot_spec::{pool_colour, tint, BarPanel, BarsPlot, PlotSpec, Series};
use thinbench_schema::record::Status;

pub(super) fn model_section(b: &mut Builder, m: &ReportModel) {
    if m.model_checks.is_empty() {
        return;
    }
    b.h(2, "Reference model vs kernel");
    let mismatches = m
        .model_checks
        .iter()
        .filter(|c| c.status != Status::Passed)
        .count();
    b.text(format!(
        "Data blocks each step allocated, as the reference model of dm-thin predicted and \
         as the kernel reported: {} checks, {} {}.",
        m.model_checks.len(),
        mismatches,
        if mismatches == 1 {
            "mismatch"
        } else {
            "mismatches"
        }
    ));
    let pool_ids = pools_in(m.model_checks.iter().map(|c| c.pool));
    let mut panels = Vec::new();
    for &pi in &pool_ids {
        let p = &m.pools[pi];
        let checks: Vec<_> = m.model_checks.iter().filter(|c| c.pool == pi).collect();
        let colour = pool_colour(p.kind, p.shade);
        panels.push(BarPanel {
            title: p.label.clone(),
            y_label: "data blocks allocated".into(),
            categories: checks
                .iter()
                .map(|c| format!("#{} {}", c.step_index, c.step))
                .collect(),
            series: vec![
                Series {
                    label: format!("model, {}", p.label),
                    colour: tint(colour, 0.55),
                    values: checks
                        .iter()
                        .map(|c| c.expected_blocks.map(|v| v as f64))
                        .collect(),
                },
                Series {
                    label: format!("kernel, {}", p.label),
                    colour,
                    values: checks
                        .iter()
                        .map(|c| c.observed_blocks.map(|v| v as f64))
                        .collect(),
                },
            ],
            flags: checks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.status == Status::Failed)
                .map(|(i, _)| (i, "≠ mismatch".to_owned()))
                .collect(),
        });
    }
    let mut t = b.table(
        "model-vs-kernel",
        "Reference model vs kernel: data blocks allocated",
        &[
            ("pool", false),
            ("#", true),
            ("step", false),
            ("model", true),
            ("kernel", true),
            ("verdict", false),
        ],
    );
    for c in &m.model_checks {
        t.rows.push(vec![
            Cell::text(&m.pools[c.pool].label),
            Cell::num(c.step_index as f64, c.step_index.to_string()),
            Cell::text(&c.step),
            Cell::text(&c.expected),
            Cell::text(&c.observed),
            status_cell(c.status),
        ]);
    }
    b.figure(
        "Model vs kernel data blocks per step, one panel per pool; a mismatch is flagged.",
        PlotSpec::Bars(BarsPlot {
            title: "Reference model vs kernel: data blocks allocated per step".into(),
            panels,
        }),
        t,
    );
}

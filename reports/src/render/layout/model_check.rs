//! The "Reference model vs kernel" section: per step, the data blocks the reference
//! model predicted and the kernel reported, allocated above zero and returned below;
//! one slot per step that has a check with a block count.

use super::builder::Builder;
use super::shared::{pools_in, status_cell};
use crate::model::{ModelCheck, ReportModel};
use crate::render::document::Cell;
use crate::render::plot_spec::{pool_colour, tint, BarPanel, BarsPlot, PlotSpec, Rgb, Series};
use thinbench_schema::record::Status;

/// What a check with a block count counts, read from its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Blocks the step allocated, net: negative when it gave more back.
    Allocated,
    /// Blocks given back (`... freed == model`): drawn below zero.
    Returned,
    /// Blocks in use (`... blocks used == model`): a level, not a change.
    Used,
}

fn counted(what: &str) -> Counted {
    if what.contains("freed") || what.contains("returned") {
        Counted::Returned
    } else if what.contains("blocks used") {
        Counted::Used
    } else {
        Counted::Allocated
    }
}

fn is_numeric(c: &ModelCheck) -> bool {
    c.expected_blocks.is_some() || c.observed_blocks.is_some()
}

/// One pool's panels: allocated and returned per step, and blocks in use when a step
/// checked those.
fn pool_panels(label: &str, colour: Rgb, checks: &[&ModelCheck]) -> Vec<BarPanel> {
    // One slot per step with a numeric check, in step order.
    let mut steps: Vec<(usize, &str)> = Vec::new();
    for c in checks.iter().filter(|c| is_numeric(c)) {
        if !steps.iter().any(|(i, _)| *i == c.step_index) {
            steps.push((c.step_index, &c.step));
        }
    }
    let value = |step: usize, kind: Counted, kernel: bool| -> Option<f64> {
        let c = checks
            .iter()
            .find(|c| c.step_index == step && is_numeric(c) && counted(&c.what) == kind)?;
        let v = if kernel {
            c.observed_blocks
        } else {
            c.expected_blocks
        }? as f64;
        Some(if kind == Counted::Returned {
            -v.abs()
        } else {
            v
        })
    };
    let series = |name: &str, kind: Counted, kernel: bool, c: Rgb| Series {
        label: format!("{name}, {label}"),
        colour: c,
        values: steps.iter().map(|(i, _)| value(*i, kind, kernel)).collect(),
    };
    let flags_for = |kinds: &[Counted]| -> Vec<(usize, String)> {
        steps
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| {
                checks.iter().any(|c| {
                    c.step_index == *i
                        && is_numeric(c)
                        && kinds.contains(&counted(&c.what))
                        && c.status == Status::Failed
                })
            })
            .map(|(slot, _)| (slot, "≠ mismatch".to_owned()))
            .collect()
    };
    let categories: Vec<String> = steps.iter().map(|(i, n)| format!("#{i} {n}")).collect();
    let mut panels = Vec::new();
    let ledger = BarPanel {
        title: label.to_owned(),
        y_label: "data blocks: allocated ↑ returned ↓".into(),
        categories: categories.clone(),
        series: vec![
            series(
                "model: allocated",
                Counted::Allocated,
                false,
                tint(colour, 0.55),
            ),
            series("kernel: allocated", Counted::Allocated, true, colour),
            series("model: freed", Counted::Returned, false, tint(colour, 0.8)),
            series("kernel: freed", Counted::Returned, true, tint(colour, 0.3)),
        ],
        flags: flags_for(&[Counted::Allocated, Counted::Returned]),
    };
    if ledger
        .series
        .iter()
        .any(|s| s.values.iter().any(Option::is_some))
    {
        panels.push(ledger);
    }
    let used = BarPanel {
        title: format!("{label}: data blocks in use"),
        y_label: "data blocks used".into(),
        categories,
        series: vec![
            series("model: used", Counted::Used, false, tint(colour, 0.55)),
            series("kernel: used", Counted::Used, true, colour),
        ],
        flags: flags_for(&[Counted::Used]),
    };
    if used
        .series
        .iter()
        .any(|s| s.values.iter().any(Option::is_some))
    {
        panels.push(used);
    }
    // Slots without a value in a panel stay empty there, so both panels of a pool
    // keep the same steps in the same places.
    panels
}

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
        "Data blocks each step allocated (above zero) and gave back (below zero), as the \
         reference model of dm-thin predicted and as the kernel reported: {} checks, {} {}. \
         The plot has a slot for each step with a check that counts blocks; checks of \
         text (thin_ls per thin) are in the table only.",
        m.model_checks.len(),
        mismatches,
        if mismatches == 1 {
            "mismatch"
        } else {
            "mismatches"
        }
    ));
    let mut panels = Vec::new();
    for pi in pools_in(m.model_checks.iter().map(|c| c.pool)) {
        let p = &m.pools[pi];
        let checks: Vec<&ModelCheck> = m.model_checks.iter().filter(|c| c.pool == pi).collect();
        panels.extend(pool_panels(&p.label, pool_colour(p.kind, p.shade), &checks));
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
        "Model vs kernel data blocks per step, one panel per pool: allocated above zero, \
         returned below; a mismatch is flagged.",
        PlotSpec::Ledger(BarsPlot {
            title: "Reference model vs kernel: data blocks allocated and returned per step".into(),
            panels,
        }),
        t,
    );
}

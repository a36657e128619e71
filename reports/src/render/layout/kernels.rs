//! The same scenarios on several kernels, laid out: the kernels and their versions side
//! by side, the findings (exact figures that differ) first, then every figure with one
//! column per kernel and each later kernel's verdict against the first.

use super::builder::Builder;
use super::shared::{fig_value, kind_str, na, status_str, timing_notes};
use crate::analysis::kernels::{KernelComparison, KernelRow};
use crate::render::document::{Block, Cell, Document, Tone};
use thinbench_schema::verdict::{Verdict, VerdictKind};

/// Lay out a kernel matrix's comparison.
pub(crate) fn kernels(c: &KernelComparison) -> Document {
    let mut b = Builder::new();
    let releases: Vec<&str> = c.columns.iter().map(|k| k.release.as_str()).collect();
    let findings: Vec<&KernelRow> = c.findings().collect();
    b.callout(
        if findings.is_empty() {
            Tone::Good
        } else {
            Tone::Warn
        },
        match findings.len() {
            0 => format!(
                "No exact figure differs between {}: every block count, error and IO-work \
                 counter is the same on every kernel.",
                releases.join(" and ")
            ),
            n => format!(
                "{n} exact figure(s) differ between the kernels: the findings below. The \
                 first kernel, {}, is the baseline.",
                releases[0]
            ),
        },
    );
    if !c.confirmed() {
        b.callout(
            Tone::Warn,
            "One run on some kernel: a difference is not confirmed. Some exact counters vary \
             with timing (block-layer merges of IO, metadata commits on dm-thin's one-second \
             timer), and with one run a kernel that cannot be told from a kernel's change. \
             Run with --repeat 2 or more: a figure that varies between a kernel's runs is then \
             inconclusive, and the findings left are the kernels'.",
        );
    }
    let varying = c.varying().count();
    if varying > 0 {
        b.callout(
            Tone::Plain,
            format!(
                "{varying} exact figure(s) vary between the runs of one kernel: inconclusive, \
                 not findings."
            ),
        );
    }
    for col in &c.columns {
        if !col.not_passed.is_empty() {
            let runs: Vec<String> = col
                .not_passed
                .iter()
                .map(|(id, s)| format!("{id} {}", status_str(*s)))
                .collect();
            b.callout(
                Tone::Bad,
                format!(
                    "On {}, not every run passed ({}): its own report says why.",
                    col.release,
                    runs.join(", ")
                ),
            );
        }
    }
    let partial = c.partial().count();
    if partial > 0 {
        b.callout(
            Tone::Warn,
            format!(
                "{partial} figure(s) are missing on some kernel (a step that did not run there, \
                 or a run that did not finish): shown in every figure's table, not counted as \
                 findings."
            ),
        );
    }
    for (col, why) in c.columns.iter().skip(1).zip(&c.timings_not_comparable) {
        if let Some(why) = why {
            b.callout(
                Tone::Warn,
                format!(
                    "Timings of {} are not judged against {}: {why}.",
                    col.release, releases[0]
                ),
            );
        }
    }
    for note in timing_notes(c.columns.iter().map(|k| &k.first)) {
        b.callout(Tone::Warn, note);
    }
    kernels_table(&mut b, c);
    b.h(2, "Findings");
    if findings.is_empty() {
        b.text("None: the scenarios behaved identically on every kernel, as far as exact figures show.");
    } else {
        b.text(
            "Exact figures that are not the same on every kernel (or present on only some): \
             a behaviour of dm-thin, or of the tools around it, that changed.",
        );
        let t = rows_table(&mut b, c, "kernel-findings", "Findings", &findings);
        b.blocks.push(Block::Table(t));
    }
    b.h(2, "Every figure");
    b.text(format!(
        "One column per kernel (medians of its runs); each later kernel is judged against \
         {} by compare's rules: exact figures must be equal, a timing needs two or more runs \
         a side beyond the noise band, and is judged only under the same clock and \
         accelerator.",
        releases[0]
    ));
    let all: Vec<&KernelRow> = c.rows.iter().collect();
    let t = rows_table(
        &mut b,
        c,
        "kernel-figures",
        "Every figure, kernel by kernel",
        &all,
    );
    b.blocks.push(Block::Table(t));
    b.doc(
        "kernels",
        format!("thinbench across kernels: {}", releases.join(" vs ")),
    )
}

/// The kernels, their versions and environments, side by side.
fn kernels_table(b: &mut Builder, c: &KernelComparison) {
    b.h(2, "Kernels");
    let mut header: Vec<(String, bool)> = vec![("field".into(), false)];
    header.extend(c.columns.iter().map(|k| (k.release.clone(), false)));
    let header: Vec<(&str, bool)> = header.iter().map(|(s, r)| (s.as_str(), *r)).collect();
    let mut t = b.table("kernels", "The kernels", &header);
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(na);
    type Field = fn(&crate::run_info::RunInfo) -> Option<String>;
    let fields: [(&str, Field); 9] = [
        ("Kernel", |r| Some(r.environment.kernel.clone())),
        ("Device-mapper driver", |r| r.environment.dm_version.clone()),
        ("thin-pool target", |r| {
            r.environment.thin_pool_target_version.clone()
        }),
        ("thin target", |r| r.environment.thin_target_version.clone()),
        ("Accel", |r| r.environment.accel.clone()),
        ("Clock", |r| {
            Some(crate::run_info::clock_cell(&r.environment))
        }),
        ("CPUs", |r| Some(r.environment.cpus.to_string())),
        ("QEMU", |r| r.environment.qemu_version.clone()),
        ("Scenario", |r| Some(r.scenario.clone())),
    ];
    for (name, f) in fields {
        let values: Vec<String> = c.columns.iter().map(|k| opt(&f(&k.first))).collect();
        let differs = values.windows(2).any(|w| w[0] != w[1]);
        let mut row = vec![Cell::text(name)];
        row.extend(
            values
                .into_iter()
                .map(|v| Cell::text(v).tone(if differs { Tone::Warn } else { Tone::Plain })),
        );
        t.rows.push(row);
    }
    let mut row = vec![Cell::text("Runs")];
    row.extend(c.columns.iter().map(|k| Cell::text(k.runs.join(", "))));
    t.rows.push(row);
    b.blocks.push(Block::Table(t));
}

fn verdict_text(v: &Verdict) -> String {
    match (v, v.note()) {
        (Verdict::Inconclusive { reason } | Verdict::NotGated { reason }, _) => {
            format!("{} ({reason})", v.label())
        }
        (_, Some(note)) => format!("{} ({note})", v.label()),
        (_, None) => v.label().to_owned(),
    }
}

fn tone(v: &Verdict) -> Tone {
    match v.kind() {
        VerdictKind::Regressed => Tone::Bad,
        VerdictKind::Changed
        | VerdictKind::Missing
        | VerdictKind::New
        | VerdictKind::Inconclusive => Tone::Warn,
        VerdictKind::Improved => Tone::Good,
        VerdictKind::Unchanged | VerdictKind::NotGated => Tone::Plain,
    }
}

fn rows_table(
    b: &mut Builder,
    c: &KernelComparison,
    id: &str,
    caption: &str,
    rows: &[&KernelRow],
) -> crate::render::document::Table {
    let mut header: Vec<(String, bool)> = ["pool", "step", "figure", "kind"]
        .iter()
        .map(|s| (s.to_string(), false))
        .collect();
    header.extend(c.columns.iter().map(|k| (k.release.clone(), true)));
    header.extend(
        c.columns
            .iter()
            .skip(1)
            .map(|k| (format!("{} vs {}", k.release, c.columns[0].release), false)),
    );
    let header: Vec<(&str, bool)> = header.iter().map(|(s, r)| (s.as_str(), *r)).collect();
    let mut t = b.table(id, caption, &header);
    for r in rows {
        let mut cells = vec![
            Cell::text(&r.pool),
            Cell::text(&r.step),
            Cell::text(&r.figure),
            Cell::text(kind_str(r.metric_kind)),
        ];
        let finding = r.is_finding();
        cells.extend(r.values.iter().map(|v| {
            Cell::opt(*v, |x| fig_value(x, &r.unit)).tone(if finding {
                Tone::Warn
            } else {
                Tone::Plain
            })
        }));
        cells.extend(
            r.verdicts
                .iter()
                .map(|v| Cell::text(verdict_text(v)).tone(tone(v))),
        );
        t.rows.push(cells);
    }
    t
}

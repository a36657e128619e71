//! The "Pool usage over time" section: per pool, data and metadata used over time with
//! steps, events, thresholds and fault windows; its by-step table, fault timeline, and
//! every sample (CSV only).

use super::builder::Builder;
use super::shared::status_cell;
use crate::model::{pct, MarkKind, PoolView, ReportModel, Timeline};
use crate::render::document::{Block, Cell};
use crate::render::plot_spec::{
    pool_colour, HLine, Line, PlotSpec, PointMark, TimelinePlot, VMark, ALERT, LWM, MIN_FREE,
};
use thinbench_schema::format;

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub(super) fn usage_section(b: &mut Builder, m: &ReportModel) {
    let with_data: Vec<&PoolView> = m
        .pools
        .iter()
        .filter(|p| !p.timeline.points.is_empty() || !p.timeline.steps.is_empty())
        .collect();
    if with_data.is_empty() {
        return;
    }
    b.h(2, "Pool usage over time");
    b.text(
        "Data and metadata used, in percent of the pool's total, from samples.csv. Grey \
         vertical lines are step starts; red lines mark mode changes and exhaustion; \
         triangles mark the kernel's low-water-mark events; dashed horizontal lines are \
         the low water mark and Docker's min_free_space when known; amber bands are \
         fault layers in force, listed with the pool's mode changes and kernel lines in \
         its fault timeline.",
    );
    for p in with_data {
        usage_figure(b, p);
        fault_timeline(b, p);
        samples_table(b, p);
    }
}

/// The pool's usage plot with its by-step table as the figure's data.
fn usage_figure(b: &mut Builder, p: &PoolView) {
    let tl = &p.timeline;
    let (lo, hi) = plot_span(tl);
    let plot = usage_plot(p, lo, hi);
    let mut t = b.table(
        &format!("usage-{}", p.label),
        &format!("Usage by step: {}", p.label),
        &[
            ("#", true),
            ("step", false),
            ("action", false),
            ("status", false),
            ("start (s)", true),
            ("end (s)", true),
            ("data used after", true),
            ("data % after", true),
            ("metadata % after", true),
            ("mode after", false),
            ("blocks allocated", true),
        ],
    );
    for s in &tl.steps {
        let after = s.after.as_ref();
        t.rows.push(vec![
            Cell::num(s.index as f64, s.index.to_string()),
            Cell::text(&s.name),
            Cell::text(&s.action),
            status_cell(s.status),
            Cell::num(secs(s.start_ms), format!("{:.2}", secs(s.start_ms))),
            Cell::num(secs(s.end_ms), format!("{:.2}", secs(s.end_ms))),
            Cell::opt(after.map(|u| u.data_used.0 as f64), |v| {
                format!(
                    "{} blocks ({})",
                    format::number(v),
                    format::bytes(p.data_bytes(thinbench_schema::units::DataBlocks(v as u64)))
                )
            }),
            Cell::opt(
                after.map(|u| pct(u.data_used.0, u.data_total.0)),
                format::percent,
            ),
            Cell::opt(
                after.map(|u| pct(u.meta_used.0, u.meta_total.0)),
                format::percent,
            ),
            Cell::text(after.map(|u| u.mode.as_str()).unwrap_or("n/a")),
            Cell::opt(s.allocated.map(|v| v as f64), format::number),
        ]);
    }
    let caption = if tl.marks.is_empty() {
        format!("Data and metadata usage of {} over time.", p.label)
    } else {
        format!(
            "Data and metadata usage of {} over time. Marked: {}.",
            p.label,
            tl.marks
                .iter()
                .map(|mk| format!("{} at {:.2} s", mk.label, secs(mk.t_ms)))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    b.figure(&caption, PlotSpec::Timeline(plot), t);
}

/// The time span the plot shows (ms), padded by a fortieth on each side.
fn plot_span(tl: &Timeline) -> (u64, u64) {
    // The steps' span, not the case's: pool set-up before the first step can take
    // longer than the steps and has no samples.
    let lo = tl
        .steps
        .iter()
        .map(|s| s.start_ms)
        .chain(tl.points.first().map(|x| x.t_ms))
        .min()
        .or(tl.window_ms.map(|w| w.0))
        .unwrap_or(0);
    let hi = tl
        .steps
        .iter()
        .map(|s| s.end_ms)
        .chain(tl.points.last().map(|x| x.t_ms))
        .chain(tl.marks.iter().map(|mk| mk.t_ms))
        .max()
        .unwrap_or(lo + 1)
        .max(lo + 1);
    let pad = (hi - lo) / 40;
    (lo.saturating_sub(pad), hi + pad)
}

/// Dashed horizontal lines: the low water mark and Docker's min_free_space, when known.
fn threshold_lines(p: &PoolView) -> Vec<HLine> {
    let tl = &p.timeline;
    let total = p
        .usage
        .as_ref()
        .map(|(u, _)| u.data_total.0)
        .or_else(|| tl.points.last().map(|x| x.data_total.0))
        .unwrap_or(0);
    let mut hlines = Vec::new();
    if let Some(l) = p.low_water_mark {
        if total > 0 {
            let free_pct = pct(l.0.min(total), total);
            hlines.push(HLine {
                y: 100.0 - free_pct,
                label: format!("low water mark ({} blocks free)", l.0),
                colour: LWM,
            });
        }
    }
    if let Some(mf) = p.min_free_space_pct {
        hlines.push(HLine {
            y: 100.0 - mf,
            label: format!("min_free_space {}%", format::number(mf)),
            colour: MIN_FREE,
        });
    }
    hlines
}

/// Data and metadata used over time, with step starts, event lines, thresholds, the
/// kernel's low-water-mark events and fault bands.
fn usage_plot(p: &PoolView, lo: u64, hi: u64) -> TimelinePlot {
    let tl = &p.timeline;
    let colour = pool_colour(p.kind, p.shade);
    let data_at = |t: u64| {
        tl.points
            .iter()
            .take_while(|x| x.t_ms <= t)
            .last()
            .or(tl.points.first())
            .map(|x| x.data_pct())
            .unwrap_or(0.0)
    };
    let meta_at = |t: u64| {
        tl.points
            .iter()
            .take_while(|x| x.t_ms <= t)
            .last()
            .or(tl.points.first())
            .map(|x| x.meta_pct())
            .unwrap_or(0.0)
    };
    let hlines = threshold_lines(p);
    TimelinePlot {
        title: format!("Pool usage over time: {}", p.label),
        x_label: "time since run start (s)".into(),
        y_label: "used (% of total)".into(),
        x_range: (secs(lo), secs(hi)),
        lines: vec![
            Line {
                label: format!("data used, {}", p.label),
                colour,
                dashed: false,
                points: tl
                    .points
                    .iter()
                    .map(|x| (secs(x.t_ms), x.data_pct()))
                    .collect(),
            },
            Line {
                label: format!("metadata used, {}", p.label),
                colour,
                dashed: true,
                points: tl
                    .points
                    .iter()
                    .map(|x| (secs(x.t_ms), x.meta_pct()))
                    .collect(),
            },
        ],
        steps: tl
            .steps
            .iter()
            .map(|s| (secs(s.start_ms), format!("#{} {}", s.index, s.name)))
            .collect(),
        vmarks: tl
            .marks
            .iter()
            .filter(|mk| {
                !matches!(
                    mk.kind,
                    MarkKind::LowWaterMark | MarkKind::MetadataLowWaterMark
                )
            })
            .map(|mk| VMark {
                x: secs(mk.t_ms),
                label: mk.label.clone(),
                colour: ALERT,
            })
            .collect(),
        hlines,
        bands: fault_bands(&tl.faults, hi),
        points: tl
            .marks
            .iter()
            .filter_map(|mk| match mk.kind {
                MarkKind::LowWaterMark => Some(PointMark {
                    x: secs(mk.t_ms),
                    y: data_at(mk.t_ms),
                    label: "kernel: data low water mark".into(),
                    colour: LWM,
                }),
                // On the metadata curve, where the kernel saw it.
                MarkKind::MetadataLowWaterMark => Some(PointMark {
                    x: secs(mk.t_ms),
                    y: meta_at(mk.t_ms),
                    label: "kernel: metadata low water mark".into(),
                    colour: LWM,
                }),
                _ => None,
            })
            .collect(),
    }
}

/// The pool's fault timeline (mode changes, fault layers, kernel lines), when it has one.
fn fault_timeline(b: &mut Builder, p: &PoolView) {
    let tl = &p.timeline;
    if !tl.events.is_empty() {
        let mut ev = b.table(
            &format!("timeline-{}", p.label),
            &format!("Fault timeline: {}", p.label),
            &[("t (s)", true), ("kind", false), ("what", false)],
        );
        for e in &tl.events {
            ev.rows.push(vec![
                Cell::num(secs(e.t_ms), format!("{:.2}", secs(e.t_ms))),
                Cell::text(&e.kind),
                Cell::text(&e.text),
            ]);
        }
        b.blocks.push(Block::Table(ev));
    }
}

fn samples_table(b: &mut Builder, p: &PoolView) {
    let tl = &p.timeline;
    // Every sample, for whoever wants to plot it differently.
    let mut raw = b.table(
        &format!("samples-{}", p.label),
        &format!("Samples: {}", p.label),
        &[
            ("t_ms", true),
            ("step", true),
            ("data_used", true),
            ("data_total", true),
            ("data_pct", true),
            ("meta_used", true),
            ("meta_total", true),
            ("meta_pct", true),
            ("mode", false),
        ],
    );
    for x in &tl.points {
        raw.rows.push(vec![
            Cell::num(x.t_ms as f64, x.t_ms.to_string()),
            Cell::text(x.step.map(|s| s.to_string()).unwrap_or_default()),
            Cell::num(x.data_used.0 as f64, x.data_used.0.to_string()),
            Cell::num(x.data_total.0 as f64, x.data_total.0.to_string()),
            Cell::num(x.data_pct(), format::percent(x.data_pct())),
            Cell::num(x.meta_used.0 as f64, x.meta_used.0.to_string()),
            Cell::num(x.meta_total.0 as f64, x.meta_total.0.to_string()),
            Cell::num(x.meta_pct(), format::percent(x.meta_pct())),
            Cell::text(&x.mode),
        ]);
    }
    b.csv_only.push(raw);
}

/// Fault windows as plot bands; layers swapped at one instant (a power cut takes data and
/// metadata together) share one band and one label.
fn fault_bands(windows: &[crate::model::FaultWindow], hi: u64) -> Vec<(f64, f64, String)> {
    let mut bands: Vec<(u64, u64, String)> = Vec::new();
    for w in windows {
        let end = w.end_ms.unwrap_or(hi);
        let near = |a: u64, b: u64| a.abs_diff(b) <= 100;
        match bands
            .iter_mut()
            .find(|(a, b, _)| near(*a, w.start_ms) && near(*b, end))
        {
            Some(band) => {
                band.2.push_str(" + ");
                band.2.push_str(&w.label);
            }
            None => bands.push((w.start_ms, end, w.label.clone())),
        }
    }
    bands
        .into_iter()
        .map(|(a, b, l)| (secs(a), secs(b), l))
        .collect()
}

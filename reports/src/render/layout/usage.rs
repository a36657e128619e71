//! The "Pool usage over time" section: per pool, data and metadata used over time with
//! steps, events, thresholds and fault windows; its by-step table, fault timeline, and
//! every sample (CSV only).

use super::builder::Builder;
use super::shared::status_cell;
use crate::model::UsagePoint;
use crate::model::{pct, MarkKind, PoolView, ReportModel, Timeline};
use crate::render::document::{Block, Cell};
use crate::render::plot_spec::{
    pool_colour, Band, BandKind, HLine, Line, PlotSpec, PointMark, StepMark, TimelinePlot, VMark,
    ALERT, LWM, MIN_FREE,
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
        "Data and metadata used, in percent of the pool's total, drawn through every \
         reading in samples.csv (a gap in the readings is a gap in the line). Grey \
         vertical lines are step starts; red lines mark mode changes and exhaustion; \
         triangles mark the kernel's low-water-mark events; dashed horizontal lines are \
         the low water mark and Docker's min_free_space when known. Shaded: amber where \
         a fault layer was in force (listed with the pool's mode changes and kernel lines \
         in its fault timeline), red where the pool was out of data space (IO held under \
         queue_if_no_space), grey where it failed or was not read.",
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
/// kernel's low-water-mark events and shaded spans (faults, IO held, the pool down).
fn usage_plot(p: &PoolView, lo: u64, hi: u64) -> TimelinePlot {
    let tl = &p.timeline;
    let colour = pool_colour(p.kind, p.shade);
    let reading_at = |t: u64| {
        tl.points
            .iter()
            .take_while(|x| x.t_ms <= t)
            .last()
            .or(tl.points.first())
    };
    let gaps = sample_gaps(&tl.points);
    let end_ms = tl.window_ms.map_or(hi, |w| w.1).min(hi);
    let mut bands = fault_bands(&tl.faults, hi);
    bands.extend(state_bands(p, end_ms));
    bands.extend(gaps.iter().map(|(a, b)| Band {
        from: secs(*a),
        to: secs(*b),
        label: "no samples".into(),
        kind: BandKind::Down,
    }));
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
                segments: segments(&tl.points, &gaps, UsagePoint::data_pct),
            },
            Line {
                label: format!("metadata used, {}", p.label),
                colour,
                dashed: true,
                segments: segments(&tl.points, &gaps, UsagePoint::meta_pct),
            },
        ],
        steps: tl
            .steps
            .iter()
            .map(|s| StepMark {
                x: secs(s.start_ms),
                index: s.index,
                name: s.name.clone(),
            })
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
        hlines: threshold_lines(p),
        bands,
        points: tl
            .marks
            .iter()
            .filter_map(|mk| match mk.kind {
                MarkKind::LowWaterMark => Some(PointMark {
                    x: secs(mk.t_ms),
                    y: reading_at(mk.t_ms).map_or(0.0, UsagePoint::data_pct),
                    label: "kernel: data low water mark".into(),
                    colour: LWM,
                }),
                // On the metadata curve, where the kernel saw it.
                MarkKind::MetadataLowWaterMark => Some(PointMark {
                    x: secs(mk.t_ms),
                    y: reading_at(mk.t_ms).map_or(0.0, UsagePoint::meta_pct),
                    label: "kernel: metadata low water mark".into(),
                    colour: LWM,
                }),
                _ => None,
            })
            .collect(),
    }
}

/// Holes in the readings (ms): consecutive samples further apart than four times the
/// usual interval and more than a second. The sampler reads the pool every interval
/// through the whole case, so a hole is a time it could not read it (a reboot, a
/// repair) or, in runs of older versions, a step it did not sample.
fn sample_gaps(points: &[UsagePoint]) -> Vec<(u64, u64)> {
    let mut d: Vec<u64> = points
        .windows(2)
        .map(|w| w[1].t_ms.saturating_sub(w[0].t_ms))
        .collect();
    if d.is_empty() {
        return Vec::new();
    }
    d.sort_unstable();
    let usual = d[d.len() / 2];
    let limit = (4 * usual).max(1000);
    points
        .windows(2)
        .filter(|w| w[1].t_ms.saturating_sub(w[0].t_ms) > limit)
        .map(|w| (w[0].t_ms, w[1].t_ms))
        .collect()
}

/// The readings as line segments (s, %), split at the holes.
fn segments(
    points: &[UsagePoint],
    gaps: &[(u64, u64)],
    f: fn(&UsagePoint) -> f64,
) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, x) in points.iter().enumerate() {
        let after_gap = i > 0
            && gaps
                .iter()
                .any(|(a, b)| points[i - 1].t_ms == *a && x.t_ms == *b);
        if after_gap {
            out.push(Vec::new());
        }
        if let Some(seg) = out.last_mut() {
            seg.push((secs(x.t_ms), f(x)));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Spans where the readings show the pool out of service: out of data space (IO held
/// under `queue_if_no_space`, failing under `error_if_no_space`), read-only, failed. A
/// span runs from its first reading to the next reading out of it, or to `end_ms`
/// when the pool was still in that state at its last reading.
fn state_bands(p: &PoolView, end_ms: u64) -> Vec<Band> {
    let tl = &p.timeline;
    let kind_of = |x: &UsagePoint| match x.mode.as_str() {
        "out_of_data_space" => Some(match error_if_no_space(p, x.step) {
            Some(true) => (BandKind::NoSpace, "out of space: writes fail"),
            Some(false) => (BandKind::Held, "IO held"),
            None => (BandKind::Held, "out of data space"),
        }),
        "ro" => Some((BandKind::ReadOnly, "read-only")),
        "Fail" | "Error" => Some((BandKind::Down, "pool failed")),
        _ => None,
    };
    let mut bands: Vec<Band> = Vec::new();
    let mut open: Option<(u64, (BandKind, &str))> = None;
    for x in &tl.points {
        let k = kind_of(x);
        if let Some((start, (kind, label))) = open {
            if k.map(|k| k.0) != Some(kind) {
                bands.push(Band {
                    from: secs(start),
                    to: secs(x.t_ms),
                    label: label.to_owned(),
                    kind,
                });
                open = None;
            }
        }
        if open.is_none() {
            open = k.map(|k| (x.t_ms, k));
        }
    }
    if let Some((start, (kind, label))) = open {
        bands.push(Band {
            from: secs(start),
            to: secs(end_ms.max(start)),
            label: label.to_owned(),
            kind,
        });
    }
    bands
}

/// The pool's no-space policy during step `step` (or, not knowing the step, any the
/// pool's statuses report).
fn error_if_no_space(p: &PoolView, step: Option<usize>) -> Option<bool> {
    let tl = &p.timeline;
    let of_step = |s: &crate::model::StepSpan| {
        s.after
            .as_ref()
            .and_then(|u| u.error_if_no_space)
            .or_else(|| s.before.as_ref().and_then(|u| u.error_if_no_space))
    };
    step.and_then(|i| tl.steps.iter().find(|s| s.index == i).and_then(of_step))
        .or_else(|| tl.steps.iter().find_map(of_step))
        .or_else(|| p.usage.as_ref().and_then(|(u, _)| u.error_if_no_space))
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
fn fault_bands(windows: &[crate::model::FaultWindow], hi: u64) -> Vec<Band> {
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
        .map(|(a, b, label)| Band {
            from: secs(a),
            to: secs(b),
            label,
            kind: BandKind::Fault,
        })
        .collect()
}

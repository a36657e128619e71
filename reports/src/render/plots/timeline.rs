//! A pool's usage over time: the readings as lines (broken where there are none),
//! shaded spans (faults, IO held, the pool down), step starts labelled in as many rows
//! above the plot as they need, event lines with labels kept off the threshold lines.

use super::frame::{self, Chart, PLOT_LEFT, PLOT_RIGHT, TITLE_H, X_AXIS_H};
use super::legend::{Glyph, Legend};
use super::text::{err, pos, text_rect, text_width, Labels, Rect, Style};
use crate::render::plot_spec::{BandKind, Rgb, TimelinePlot};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use thinbench_schema::format::sig3;

const PLOT_H: i32 = 300;
const STEP_ROW_H: i32 = 16;
/// Rows a step's full label may go up to before it is shortened to its index.
const FULL_ROWS: usize = 4;
const STEP_LINE: RGBColor = RGBColor(185, 185, 185);
const STEP_STYLE: Style = Style {
    size: 12,
    bold: false,
    colour: super::text::TEXT,
    vertical: false,
};

/// The top of a percent axis: 100% unless every value is far below, so a nearly empty
/// pool still shows its curve instead of a flat line on a 0-100% axis.
pub(super) fn percent_top(max: f64) -> f64 {
    const STEPS: [f64; 10] = [2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0];
    let want = max * 1.15;
    STEPS.iter().copied().find(|s| *s >= want).unwrap_or(100.0)
}

/// A step label's place: which row above the plot, its left edge and text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StepLabel {
    pub row: usize,
    pub left: i32,
    pub text: String,
}

/// Where every step's label goes. Each is the full `#i name` in one of the first
/// [`FULL_ROWS`] rows where it fits, else its `#i` in the first row where that fits
/// (as many rows as it takes): no step goes unlabelled.
pub(super) fn step_labels(t: &TimelinePlot) -> Vec<StepLabel> {
    let (x0, x1) = x_span(t);
    let mut order: Vec<usize> = (0..t.steps.len()).collect();
    order.sort_by(|a, b| t.steps[*a].x.total_cmp(&t.steps[*b].x));
    let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut out = Vec::new();
    for i in order {
        let s = &t.steps[i];
        let px = map_x(s.x, x0, x1);
        let mut placed = None;
        for (text, max_rows) in [(s.full(), FULL_ROWS), (s.short(), usize::MAX)] {
            let w = text_width(&text, STEP_STYLE);
            // Right of its line; left of it where the right would run off the canvas.
            let left = if px + 3 + w <= PLOT_RIGHT + 20 {
                px + 3
            } else {
                px - 3 - w
            };
            let mut row = 0;
            while row < max_rows {
                if row == rows.len() {
                    rows.push(Vec::new());
                }
                if rows[row]
                    .iter()
                    .all(|(l, r)| left + w + 6 <= *l || left >= *r + 6)
                {
                    placed = Some((row, left, w, text.clone()));
                    break;
                }
                row += 1;
            }
            if placed.is_some() {
                break;
            }
        }
        if let Some((row, left, w, text)) = placed {
            rows[row].push((left, left + w));
            out.push(StepLabel { row, left, text });
        }
    }
    out
}

fn x_span(t: &TimelinePlot) -> (f64, f64) {
    let (x0, x1) = t.x_range;
    if x1 > x0 {
        (x0, x1)
    } else {
        (x0, x0 + 1.0)
    }
}

fn map_x(x: f64, x0: f64, x1: f64) -> i32 {
    PLOT_LEFT + ((x - x0) / (x1 - x0) * f64::from(PLOT_RIGHT - PLOT_LEFT)).round() as i32
}

fn strip_h(labels: &[StepLabel]) -> i32 {
    let rows = labels.iter().map(|l| l.row + 1).max().unwrap_or(0) as i32;
    8 + STEP_ROW_H * rows
}

/// Height of the canvas above the legend.
pub(super) fn body_height(t: &TimelinePlot) -> u32 {
    (TITLE_H + strip_h(&step_labels(t)) + PLOT_H + X_AXIS_H) as u32
}

/// What the legend lists: only what is drawn.
pub(super) fn legend(t: &TimelinePlot) -> Legend {
    let mut lg = Legend::default();
    for l in t
        .lines
        .iter()
        .filter(|l| l.segments.iter().any(|s| !s.is_empty()))
    {
        let g = if l.dashed { Glyph::Dashed } else { Glyph::Line };
        lg.push(&l.label, l.colour, g);
    }
    for h in &t.hlines {
        lg.push(&h.label, h.colour, Glyph::Dashed);
    }
    let (x0, x1) = x_span(t);
    for p in t.points.iter().filter(|p| (x0..=x1).contains(&p.x)) {
        lg.push(&p.label, p.colour, Glyph::Triangle);
    }
    if let Some(m) = t.vmarks.first() {
        lg.push("mode change / exhaustion", m.colour, Glyph::VLine);
    }
    for b in t.bands.iter().filter(|b| b.to > x0 && b.from < x1) {
        lg.push(
            b.kind.legend(),
            b.kind.colour(),
            Glyph::Band(b.kind.alpha()),
        );
    }
    if !t.steps.is_empty() {
        lg.push("step start (#index)", Rgb(185, 185, 185), Glyph::StepLine);
    }
    lg
}

/// Draw `t` on `root` above the legend.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    t: &TimelinePlot,
) -> Result<(), String> {
    let (x0, x1) = x_span(t);
    let steps = step_labels(t);
    let plot_top = TITLE_H + strip_h(&steps);
    let plot = Rect::new(PLOT_LEFT, plot_top, PLOT_RIGHT, plot_top + PLOT_H);
    frame::title(root, labels, &t.title, 8, 19)?;

    let data_max = t
        .lines
        .iter()
        .flat_map(|l| l.segments.iter().flatten().map(|p| p.1))
        .chain(t.hlines.iter().map(|h| h.y))
        .chain(t.points.iter().map(|p| p.y))
        .fold(0.0f64, f64::max);
    let ytop = percent_top(data_max);
    let y_range = 0.0..ytop * 1.04;
    let x_range = x0..x1;
    let mut chart = frame::chart_on(root, plot, x_range.clone(), y_range.clone())?;

    // Grid and ticks: percent on y (up to the top of the scale, which is labelled, so
    // a zoomed axis is not mistaken for a full pool), seconds on x.
    for v in frame::nice_ticks(0.0, ytop, 8) {
        let bold = (v - ytop).abs() < 1e-9;
        frame::hgrid(
            &mut chart,
            &x_range,
            v,
            if bold { frame::GRID_BOLD } else { frame::GRID },
        )?;
        let (_, py) = chart.backend_coord(&(x0, v));
        frame::y_tick(root, labels, plot, py, &format!("{}%", sig3(v)))?;
    }
    let fmt = |v: f64| sig3(v);
    for v in frame::fitting_ticks(x0, x1, plot.x1 - plot.x0, Style::plain(12), &fmt) {
        frame::vgrid(&mut chart, &y_range, v, frame::GRID)?;
        let (px, _) = chart.backend_coord(&(v, 0.0));
        frame::x_tick(root, labels, plot, px, &fmt(v))?;
    }
    frame::x_title(root, labels, plot, &t.x_label)?;
    frame::y_title(root, labels, plot, &t.y_label)?;

    // Labels inside the plot keep off the threshold lines, markers and event lines.
    for h in &t.hlines {
        let (_, py) = chart.backend_coord(&(x0, h.y));
        labels.keep_off(Rect::new(plot.x0, py - 3, plot.x1, py + 3));
    }
    for p in &t.points {
        let (px, py) = chart.backend_coord(&(p.x, p.y));
        labels.keep_off(Rect::new(px - 9, py - 9, px + 9, py + 9));
    }
    for m in &t.vmarks {
        let (px, _) = chart.backend_coord(&(m.x, 0.0));
        labels.keep_off(Rect::new(px - 2, plot.y0, px + 2, plot.y1));
    }
    // And off the curves: every reading, and the path between two far apart.
    for seg in t.lines.iter().flat_map(|l| &l.segments) {
        let px: Vec<(i32, i32)> = seg.iter().map(|p| chart.backend_coord(p)).collect();
        for (i, &(x, y)) in px.iter().enumerate() {
            labels.keep_off(Rect::new(x - 3, y - 3, x + 3, y + 3));
            if let Some(&(nx, ny)) = px.get(i + 1) {
                let steps = ((nx - x).abs().max((ny - y).abs()) / 6).max(1);
                for k in 1..steps {
                    let (cx, cy) = (x + (nx - x) * k / steps, y + (ny - y) * k / steps);
                    labels.keep_off(Rect::new(cx - 3, cy - 3, cx + 3, cy + 3));
                }
            }
        }
    }
    draw_bands(root, labels, &mut chart, plot, t, ytop)?;
    draw_steps(root, labels, &mut chart, plot, t, &steps, &y_range)?;
    for h in &t.hlines {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x0, h.y), (x1, h.y)],
                7,
                5,
                h.colour.c().stroke_width(2),
            ))
            .map_err(err)?;
    }
    draw_lines(&mut chart, t)?;
    for p in &t.points {
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (p.x, p.y),
                8,
                p.colour.c().filled(),
            )))
            .map_err(err)?;
    }
    draw_vmarks(root, labels, &mut chart, plot, t, ytop)?;
    frame::axes(root, plot)
}

fn draw_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    t: &TimelinePlot,
) -> Result<(), String> {
    for l in &t.lines {
        let style = l.colour.c().stroke_width(if l.dashed { 2 } else { 3 });
        for seg in &l.segments {
            if seg.len() == 1 {
                // A lone reading between gaps: a dot, not nothing.
                chart
                    .draw_series(std::iter::once(Circle::new(
                        seg[0],
                        3,
                        l.colour.c().filled(),
                    )))
                    .map_err(err)?;
            } else if l.dashed {
                chart
                    .draw_series(DashedLineSeries::new(seg.clone(), 8, 5, style))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(seg.clone(), style))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// Shaded spans behind everything, each labelled inside the plot at its bottom left
/// (stacked upwards when labels would meet); a label that finds no room is left to the
/// legend, which names every kind of span.
fn draw_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    chart: &mut Chart<'_, DB>,
    plot: Rect,
    t: &TimelinePlot,
    ytop: f64,
) -> Result<(), String> {
    let (x0, x1) = x_span(t);
    for b in &t.bands {
        let (a, e) = (b.from.max(x0), b.to.min(x1));
        if e <= a {
            continue;
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (e, ytop)],
                b.kind.colour().c().mix(b.kind.alpha()).filled(),
            )))
            .map_err(err)?;
        let text = match b.kind {
            BandKind::Fault => format!("fault: {}", b.label),
            _ => b.label.clone(),
        };
        let style = Style::plain(12).colour(label_colour(b.kind));
        let (pa, _) = chart.backend_coord(&(a, 0.0));
        let (pe, _) = chart.backend_coord(&(e, 0.0));
        let w = text_width(&text, style);
        let cands = (0..8).flat_map(|k| {
            let y = plot.y1 - 5 - 15 * k;
            [
                ((pa + 4, y), pos(HPos::Left, VPos::Bottom)),
                ((pe - 4, y), pos(HPos::Right, VPos::Bottom)),
                ((plot.x1 - 4 - w, y), pos(HPos::Left, VPos::Bottom)),
            ]
        });
        labels.first_free(root, &text, style, plot, cands)?;
    }
    Ok(())
}

fn label_colour(k: BandKind) -> RGBColor {
    match k {
        BandKind::Fault => RGBColor(150, 90, 0),
        BandKind::Held | BandKind::NoSpace => RGBColor(170, 25, 25),
        BandKind::ReadOnly => RGBColor(100, 45, 130),
        BandKind::Down => RGBColor(80, 80, 80),
    }
}

/// Step starts: a grey line through the plot and the label [`step_labels`] chose.
fn draw_steps<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    chart: &mut Chart<'_, DB>,
    plot: Rect,
    t: &TimelinePlot,
    placed: &[StepLabel],
    y_range: &std::ops::Range<f64>,
) -> Result<(), String> {
    for s in &t.steps {
        frame::vgrid(chart, y_range, s.x, STEP_LINE)?;
    }
    for l in placed {
        let y = plot.y0 - 4 - STEP_ROW_H * l.row as i32;
        labels.draw(
            root,
            &l.text,
            (l.left, y),
            STEP_STYLE,
            pos(HPos::Left, VPos::Bottom),
        )?;
    }
    Ok(())
}

/// Mode changes and exhaustion: a red line each, labelled near the top on a light
/// backing, right of the line (left near the right edge), moved down past threshold
/// lines, markers and other labels; one that finds no room is named by the caption.
fn draw_vmarks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    chart: &mut Chart<'_, DB>,
    plot: Rect,
    t: &TimelinePlot,
    ytop: f64,
) -> Result<(), String> {
    for m in &t.vmarks {
        let c = m.colour.c();
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.x, 0.0), (m.x, ytop)],
                c.stroke_width(2),
            )))
            .map_err(err)?;
        let style = Style::plain(13).colour(c);
        let (px, _) = chart.backend_coord(&(m.x, ytop));
        let inner = Rect::new(plot.x0 + 2, plot.y0 + 2, plot.x1 - 2, plot.y1 - 2);
        let mut spot = None;
        let mut y = plot.y0 + 14;
        while spot.is_none() && y < plot.y1 - 10 {
            for (at, p) in [
                ((px + 6, y), pos(HPos::Left, VPos::Center)),
                ((px - 6, y), pos(HPos::Right, VPos::Center)),
            ] {
                let r = text_rect(&m.label, style, at, p);
                if inner.contains(&r.pad(3)) && labels.is_free(&r.pad(3)) {
                    spot = Some((at, p, r));
                    break;
                }
            }
            y += 9;
        }
        if let Some((at, p, r)) = spot {
            // A light backing keeps the text readable over the curves.
            let b = r.pad(3);
            root.draw(&Rectangle::new(
                [(b.x0, b.y0), (b.x1, b.y1)],
                WHITE.mix(0.85).filled(),
            ))
            .map_err(err)?;
            labels.draw(root, &m.label, at, style, p)?;
            labels.keep_off(b);
        }
    }
    Ok(())
}

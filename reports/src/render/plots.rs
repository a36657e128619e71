//! Plots: a data-only [`PlotSpec`] drawn with plotters onto any backend, behind the
//! [`Plotter`] trait (SVG text for HTML, PNG files for Markdown). Every plot has a
//! title, axis labels with units, and a legend strip below it, so no legend ever covers
//! data. Colours come from [`pool_colour`](super::plot_spec::pool_colour): one hue per
//! pool kind everywhere.

use super::document::Figure;
use super::plot_spec::{BarPanel, BarsPlot, CurvePlot, PlotSpec, Rgb, TimelinePlot, ALERT, FAULT};
use crate::error::ReportError;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use thinbench_schema::format::sig3;

impl Rgb {
    fn c(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

const GRID: RGBColor = RGBColor(243, 243, 243);
const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);
const STEP_LINE: RGBColor = RGBColor(185, 185, 185);
const TEXT: RGBColor = RGBColor(40, 40, 40);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Glyph {
    Line,
    Dashed,
    Block,
    Triangle,
    VLine,
    StepLine,
}

#[derive(Debug, Clone)]
struct LegendEntry {
    label: String,
    colour: Rgb,
    glyph: Glyph,
}

const WIDTH: u32 = 960;
const PANEL_H: u32 = 300;

impl PlotSpec {
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        let legend = 30 * self.legend_rows();
        match self {
            PlotSpec::Timeline(_) => (WIDTH, 420 + legend),
            PlotSpec::Curve(_) => (WIDTH, 400 + legend),
            PlotSpec::Bars(b) => (WIDTH, 40 + PANEL_H * b.panels.len() as u32 + legend),
        }
    }

    fn legend_rows(&self) -> u32 {
        // A fixed estimate of 7.5 px per character (DejaVu Sans at 14 px) is enough to
        // size the canvas; the drawing itself measures the text.
        let mut rows = 1u32;
        let mut x = 0.0;
        for e in self.legend() {
            let w = 44.0 + e.label.chars().count() as f64 * 7.5;
            if x + w > f64::from(WIDTH) - 20.0 && x > 0.0 {
                rows += 1;
                x = 0.0;
            }
            x += w;
        }
        rows
    }

    fn legend(&self) -> Vec<LegendEntry> {
        let mut v = Vec::new();
        let mut push = |label: &str, colour: Rgb, glyph: Glyph| {
            if !v
                .iter()
                .any(|e: &LegendEntry| e.label == label && e.glyph == glyph)
            {
                v.push(LegendEntry {
                    label: label.to_owned(),
                    colour,
                    glyph,
                });
            }
        };
        match self {
            PlotSpec::Timeline(t) => {
                for l in &t.lines {
                    let g = if l.dashed { Glyph::Dashed } else { Glyph::Line };
                    push(&l.label, l.colour, g);
                }
                for h in &t.hlines {
                    push(&h.label, h.colour, Glyph::Dashed);
                }
                for p in &t.points {
                    push(&p.label, p.colour, Glyph::Triangle);
                }
                for m in &t.vmarks {
                    push("mode change / exhaustion", m.colour, Glyph::VLine);
                }
                if !t.steps.is_empty() {
                    push("step start (#index)", Rgb(185, 185, 185), Glyph::StepLine);
                }
            }
            PlotSpec::Curve(c) => {
                for s in &c.series {
                    push(&s.label, s.colour, Glyph::Line);
                }
            }
            PlotSpec::Bars(b) => {
                for p in &b.panels {
                    for s in &p.series {
                        push(&s.label, s.colour, Glyph::Block);
                    }
                }
            }
        }
        v
    }
}

/// Draws figures into some output.
pub(crate) trait Plotter {
    /// What a drawn figure becomes.
    type Output;
    /// Draw `fig`.
    fn plot(&self, fig: &Figure) -> Result<Self::Output, ReportError>;
}

/// SVG markup, for inlining into HTML.
pub(crate) struct SvgPlotter;

impl Plotter for SvgPlotter {
    type Output = String;
    fn plot(&self, fig: &Figure) -> Result<String, ReportError> {
        ensure_font()?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, fig.plot.size()).into_drawing_area();
            draw(&root, &fig.plot).map_err(|message| plot_err(fig, message))?;
            root.present().map_err(|e| plot_err(fig, e.to_string()))?;
        }
        Ok(svg)
    }
}

/// PNG files in a directory, named after the figure id.
pub(crate) struct PngPlotter<'a> {
    pub dir: &'a Path,
}

impl Plotter for PngPlotter<'_> {
    type Output = PathBuf;
    fn plot(&self, fig: &Figure) -> Result<PathBuf, ReportError> {
        ensure_font()?;
        let path = self.dir.join(format!("{}.png", fig.id));
        {
            let root = BitMapBackend::new(&path, fig.plot.size()).into_drawing_area();
            draw(&root, &fig.plot).map_err(|message| plot_err(fig, message))?;
            root.present().map_err(|e| plot_err(fig, e.to_string()))?;
        }
        Ok(path)
    }
}

fn plot_err(fig: &Figure, message: String) -> ReportError {
    ReportError::Plot {
        plot: fig.id.clone(),
        message,
    }
}

#[derive(Debug, Clone)]
enum FontProblem {
    Missing(Vec<PathBuf>),
    Invalid(PathBuf),
}

/// Environment variable naming a .ttf to use instead of DejaVu Sans.
pub const FONT_ENV: &str = "THINBENCH_FONT";

/// Where DejaVu Sans lives on Debian (fonts-dejavu-core) and on other distributions.
const FONT_DIRS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
];

/// Register the plot font with plotters once per process. plotters' pure-Rust text
/// path (ab_glyph) measures and rasterises text with a font we hand it: no fontconfig,
/// no network. SVG needs it too (to lay out labels), even though the browser draws the
/// text.
pub(crate) fn ensure_font() -> Result<(), ReportError> {
    static FONT: OnceLock<Result<(), FontProblem>> = OnceLock::new();
    let r = FONT.get_or_init(|| {
        let mut tried = Vec::new();
        let mut candidates: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        if let Some(p) = std::env::var_os(FONT_ENV) {
            candidates.push((PathBuf::from(p), None));
        }
        for d in FONT_DIRS {
            let d = Path::new(d);
            candidates.push((
                d.join("DejaVuSans.ttf"),
                Some(d.join("DejaVuSans-Bold.ttf")),
            ));
        }
        for (regular, bold) in candidates {
            tried.push(regular.clone());
            let Ok(bytes) = std::fs::read(&regular) else {
                continue;
            };
            // plotters keeps fonts for the life of the process ('static); this runs
            // once, so the leak is bounded.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
                return Err(FontProblem::Invalid(regular));
            }
            if let Some(bytes) = bold.and_then(|b| std::fs::read(b).ok()) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                // A bad bold face falls back to the regular one.
                let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, bytes);
            }
            return Ok(());
        }
        Err(FontProblem::Missing(tried))
    });
    match r {
        Ok(()) => Ok(()),
        Err(FontProblem::Missing(tried)) => Err(ReportError::FontMissing {
            tried: tried.clone(),
        }),
        Err(FontProblem::Invalid(path)) => Err(ReportError::FontInvalid { path: path.clone() }),
    }
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&TEXT)
}

fn bold(size: u32) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .style(FontStyle::Bold)
        .color(&TEXT)
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draw `spec` on `root` (the whole canvas).
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let legend_h = 30 * spec.legend_rows() + 6;
    let (body, legend) = root.split_vertically(h.saturating_sub(legend_h));
    match spec {
        PlotSpec::Timeline(t) => draw_timeline(root, &body, t)?,
        PlotSpec::Curve(c) => draw_curve(root, &body, c)?,
        PlotSpec::Bars(b) => draw_bars(root, &body, b)?,
    }
    draw_legend(&legend, &spec.legend())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<(), String> {
    let (w, _) = area.dim_in_pixel();
    let f = font(14);
    let (mut x, mut y) = (16i32, 6i32);
    for e in entries {
        let (tw, _) = area.estimate_text_size(&e.label, &f).map_err(err)?;
        let ew = 34 + tw as i32 + 18;
        if x + ew > w as i32 - 8 && x > 16 {
            x = 16;
            y += 30;
        }
        let c = e.colour.c();
        let cy = y + 10;
        match e.glyph {
            Glyph::Line => area
                .draw(&PathElement::new(
                    vec![(x, cy), (x + 26, cy)],
                    c.stroke_width(3),
                ))
                .map_err(err)?,
            Glyph::Dashed => {
                for k in 0..3 {
                    let x0 = x + k * 10;
                    area.draw(&PathElement::new(
                        vec![(x0, cy), (x0 + 6, cy)],
                        c.stroke_width(3),
                    ))
                    .map_err(err)?;
                }
            }
            Glyph::Block => area
                .draw(&Rectangle::new(
                    [(x + 4, cy - 8), (x + 22, cy + 8)],
                    c.filled(),
                ))
                .map_err(err)?,
            Glyph::Triangle => area
                .draw(&TriangleMarker::new((x + 13, cy), 7, c.filled()))
                .map_err(err)?,
            Glyph::VLine | Glyph::StepLine => area
                .draw(&PathElement::new(
                    vec![(x + 13, cy - 10), (x + 13, cy + 10)],
                    c.stroke_width(2),
                ))
                .map_err(err)?,
        }
        area.draw(&Text::new(
            e.label.clone(),
            (x + 34, cy),
            f.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
        x += ew;
    }
    Ok(())
}

fn mesh_colours<DB: DrawingBackend, X: Ranged, Y: Ranged>(
    m: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
) {
    m.light_line_style(GRID)
        .bold_line_style(GRID_BOLD)
        .axis_style(TEXT)
        .label_style(font(13))
        .axis_desc_style(font(15));
}

/// The top of a percent axis: the data's maximum with headroom, rounded up to a step a
/// reader can read, never above 100%. Zooming matters: a 1 GiB pool 3% used is a flat
/// line on a 0-100% axis.
pub(crate) fn percent_top(max: f64) -> f64 {
    const STEPS: [f64; 10] = [2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0];
    let want = max * 1.15;
    STEPS.iter().copied().find(|s| *s >= want).unwrap_or(100.0)
}

fn draw_timeline<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    t: &TimelinePlot,
) -> Result<(), String> {
    let (x0, mut x1) = t.x_range;
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let data_max = t
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .chain(t.hlines.iter().map(|h| h.y))
        .chain(t.points.iter().map(|p| p.y))
        .fold(0.0f64, f64::max);
    let ytop = percent_top(data_max);
    // Room above the top for three rows of step labels.
    let yroom = ytop * 1.22;
    let mut chart = ChartBuilder::on(body)
        .caption(&t.title, bold(19))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(46)
        .y_label_area_size(66)
        .build_cartesian_2d(x0..x1, 0f64..yroom)
        .map_err(err)?;
    {
        let mut m = chart.configure_mesh();
        mesh_colours(&mut m);
        m.x_desc(&t.x_label)
            .y_desc(&t.y_label)
            .y_labels(8)
            .y_label_formatter(&|v| {
                if *v <= ytop + 1e-9 {
                    format!("{}%", sig3(*v))
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|v| sig3(*v))
            .draw()
            .map_err(err)?;
    }
    // The top of the scale; labelled when it is not 100% so a zoomed axis is not
    // mistaken for a full pool.
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x0, ytop), (x1, ytop)],
            GRID_BOLD.stroke_width(1),
        )))
        .map_err(err)?;

    // Faults in force: shaded behind everything else, labelled at the bottom, stacked
    // when several overlap.
    for (i, (a, b, label)) in t.bands.iter().enumerate() {
        let (a, b) = (a.max(x0), b.min(x1));
        if b <= a {
            continue;
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, 0.0), (b, ytop)],
                FAULT.c().mix(0.18).filled(),
            )))
            .map_err(err)?;
        let (px, py) = chart.backend_coord(&(a, 0.0));
        top.draw(&Text::new(
            format!("fault: {label}"),
            (px + 4, py - 6 - 15 * i as i32),
            font(12)
                .color(&Rgb(150, 90, 0).c())
                .pos(Pos::new(HPos::Left, VPos::Bottom)),
        ))
        .map_err(err)?;
    }

    // Step boundaries, labelled above the top in three rows; a label that fits in
    // neither row shrinks to the step index, then disappears (the table under the plot
    // lists every step).
    let label_font = font(12);
    let right_edge = chart.plotting_area().get_pixel_range().0.end;
    let mut row_right = [i32::MIN; 3];
    for (x, label) in &t.steps {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(*x, 0.0), (*x, ytop)],
                STEP_LINE.stroke_width(1),
            )))
            .map_err(err)?;
        let (px, py) = chart.backend_coord(&(*x, ytop));
        let short = label.split(' ').next().unwrap_or(label).to_owned();
        let mut placed = false;
        for cand in [label.clone(), short] {
            let (w, _) = top.estimate_text_size(&cand, &label_font).map_err(err)?;
            let w = w as i32;
            for (row, right) in row_right.iter_mut().enumerate() {
                let left = px + 3;
                if left > *right + 6 && left + w <= right_edge + 24 {
                    top.draw(&Text::new(
                        cand.clone(),
                        (left, py - 4 - 16 * row as i32),
                        label_font.pos(Pos::new(HPos::Left, VPos::Bottom)),
                    ))
                    .map_err(err)?;
                    *right = left + w;
                    placed = true;
                    break;
                }
            }
            if placed {
                break;
            }
        }
    }

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

    for l in &t.lines {
        let style = l.colour.c().stroke_width(if l.dashed { 2 } else { 3 });
        if l.dashed {
            chart
                .draw_series(DashedLineSeries::new(l.points.clone(), 8, 5, style))
                .map_err(err)?;
        } else {
            chart
                .draw_series(LineSeries::new(l.points.clone(), style))
                .map_err(err)?;
        }
    }

    // Event labels: right of their line, or left of it near the right edge; stacked
    // downwards when they would overlap an earlier one.
    let mut placed: Vec<(i32, i32, i32)> = Vec::new();
    for m in &t.vmarks {
        let c = m.colour.c();
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.x, 0.0), (m.x, ytop)],
                c.stroke_width(2),
            )))
            .map_err(err)?;
        let f = font(13).color(&c);
        let (w, _) = top.estimate_text_size(&m.label, &f).map_err(err)?;
        let w = w as i32;
        let (px, py) = chart.backend_coord(&(m.x, ytop));
        let (left, hpos, ax) = if px + 6 + w > right_edge {
            (px - 6 - w, HPos::Right, px - 6)
        } else {
            (px + 6, HPos::Left, px + 6)
        };
        let mut row = 0;
        while placed
            .iter()
            .any(|(l, r, rw)| *rw == row && left < *r + 6 && left + w + 6 > *l)
        {
            row += 1;
        }
        placed.push((left, left + w, row));
        let y = py + 14 + 18 * row;
        // A light backing keeps the text readable over threshold lines.
        top.draw(&Rectangle::new(
            [(left - 3, y - 9), (left + w + 3, y + 9)],
            WHITE.mix(0.85).filled(),
        ))
        .map_err(err)?;
        top.draw(&Text::new(
            m.label.clone(),
            (ax, y),
            f.pos(Pos::new(hpos, VPos::Center)),
        ))
        .map_err(err)?;
    }

    for p in &t.points {
        let c = p.colour.c();
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (p.x, p.y),
                8,
                c.filled(),
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn y_max(values: impl Iterator<Item = f64>) -> f64 {
    let m = values.filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    if m <= 0.0 {
        1.0
    } else {
        m
    }
}

/// Category labels under the x axis, each wrapped to the width of its slot at `/`.
fn category_labels<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    top: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    categories: &[String],
    y_base: f64,
    slot_px: f64,
) -> Result<(), String> {
    let f = font(13);
    for (i, cat) in categories.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, y_base));
        let lines = wrap_label(cat, (slot_px / 7.6).max(6.0) as usize);
        for (k, line) in lines.iter().enumerate() {
            top.draw(&Text::new(
                line.clone(),
                (px, py + 8 + 16 * k as i32),
                f.pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// Split a label into lines of at most `max` characters, breaking after `/` or before
/// a space; words longer than `max` stay whole.
pub(crate) fn wrap_label(s: &str, max: usize) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        cur.push(ch);
        if ch == '/' || ch == ' ' {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    let mut lines: Vec<String> = Vec::new();
    for p in pieces {
        match lines.last_mut() {
            Some(l) if l.chars().count() + p.trim_end().chars().count() <= max => l.push_str(&p),
            _ => lines.push(p),
        }
    }
    lines.into_iter().map(|l| l.trim_end().to_owned()).collect()
}

fn draw_curve<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    c: &CurvePlot,
) -> Result<(), String> {
    let n = c.categories.len().max(1);
    let vals = || {
        c.series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
    };
    let hi = y_max(vals()) * 2.0;
    let lo = vals()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min)
        .min(hi / 4.0)
        / 2.0;
    let lo = if lo.is_finite() && lo > 0.0 { lo } else { 0.1 };
    let mut chart = ChartBuilder::on(body)
        .caption(&c.title, bold(19))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(50)
        .y_label_area_size(74)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
        .map_err(err)?;
    {
        let mut m = chart.configure_mesh();
        mesh_colours(&mut m);
        m.x_desc(&c.x_label)
            .y_desc(&c.y_label)
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|v| sig3(*v))
            .draw()
            .map_err(err)?;
    }
    let (x_px, _) = chart.plotting_area().get_pixel_range();
    let slot = f64::from(x_px.end - x_px.start) / n as f64;
    category_labels(top, &chart, &c.categories, lo, slot)?;
    for s in &c.series {
        let col = s.colour.c();
        let pts: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| *v > 0.0).map(|v| (i as f64, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), col.stroke_width(3)))
            .map_err(err)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 5, col.filled())))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    body: &DrawingArea<DB, Shift>,
    b: &BarsPlot,
) -> Result<(), String> {
    let body = body
        .titled(&b.title, bold(19).pos(Pos::new(HPos::Center, VPos::Top)))
        .map_err(err)?;
    let panels = body.split_evenly((b.panels.len().max(1), 1));
    for (p, area) in b.panels.iter().zip(panels.iter()) {
        draw_bar_panel(top, area, p)?;
    }
    Ok(())
}

fn draw_bar_panel<DB: DrawingBackend>(
    top: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    p: &BarPanel,
) -> Result<(), String> {
    let n = p.categories.len().max(1);
    let (w, _) = area.dim_in_pixel();
    let slot_guess = f64::from(w.saturating_sub(110)) / n as f64;
    let max_lines = p
        .categories
        .iter()
        .map(|c| wrap_label(c, (slot_guess / 7.6).max(6.0) as usize).len())
        .max()
        .unwrap_or(1) as u32;
    let hi = y_max(
        p.series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied()),
    ) * 1.2;
    // Negative values (blocks given back) hang below zero.
    let lo = p
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::min)
        * 1.25;
    // Room for the value labels under small negative bars.
    let lo = if lo < 0.0 { lo.min(-hi * 0.1) } else { lo };
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, bold(15))
        .margin(8)
        .margin_right(28)
        .x_label_area_size(14 + 16 * max_lines)
        .y_label_area_size(74)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(err)?;
    {
        let mut m = chart.configure_mesh();
        mesh_colours(&mut m);
        m.y_desc(&p.y_label)
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_labels(6)
            .y_label_formatter(&|v| sig3(*v))
            .draw()
            .map_err(err)?;
    }
    let (x_px, _) = chart.plotting_area().get_pixel_range();
    let slot = f64::from(x_px.end - x_px.start) / n as f64;
    category_labels(top, &chart, &p.categories, lo, slot)?;
    if lo < 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                TEXT.stroke_width(1),
            )))
            .map_err(err)?;
    }

    let k = p.series.len().max(1) as f64;
    let group = 0.8;
    let bw = group / k;
    let vfont = font(12);
    for (si, s) in p.series.iter().enumerate() {
        let col = s.colour.c();
        for (ci, v) in s.values.iter().enumerate() {
            let xa = ci as f64 - group / 2.0 + si as f64 * bw;
            let xb = xa + bw * 0.92;
            let Some(v) = v else { continue };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(xa, 0.0), (xb, *v)],
                    col.filled(),
                )))
                .map_err(err)?;
            // Value on top of the bar, when the bar is wide enough to own it.
            let text = sig3(*v);
            let (tw, _) = top.estimate_text_size(&text, &vfont).map_err(err)?;
            let (pa, py) = chart.backend_coord(&((xa + xb) / 2.0, *v));
            if f64::from(tw) <= slot * bw + 6.0 {
                let (dy, vpos) = if *v < 0.0 {
                    (3, VPos::Top)
                } else {
                    (-3, VPos::Bottom)
                };
                top.draw(&Text::new(
                    text,
                    (pa, py + dy),
                    vfont.pos(Pos::new(HPos::Center, vpos)),
                ))
                .map_err(err)?;
            }
        }
    }
    for (ci, text) in &p.flags {
        let (px, py) = chart.backend_coord(&(*ci as f64, hi / 1.2 * 1.12));
        top.draw(&Text::new(
            text.clone(),
            (px, py),
            bold(13)
                .color(&ALERT.c())
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wrap_at_slashes() {
        assert_eq!(
            wrap_label("snapshot/sub-chunk/first", 12),
            ["snapshot/", "sub-chunk/", "first"]
        );
        assert_eq!(
            wrap_label("snapshot/sub-chunk/first", 40),
            ["snapshot/sub-chunk/first"]
        );
        assert_eq!(wrap_label("seq-write", 4), ["seq-write"]);
    }
}

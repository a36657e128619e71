//! The frame of a chart, drawn by hand rather than by plotters' mesh so that every tick
//! label and title goes through the [`Labels`] ledger: the plotting area in canvas
//! pixels, a chart mapped onto exactly that area, grid lines, axes, tick labels,
//! titles.

use super::text::{err, pos, Labels, Rect, Style};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::ops::Range;

/// Canvas width of every plot.
pub(super) const WIDTH: u32 = 960;
/// Left edge of every plotting area: room for tick labels and the y title.
pub(super) const PLOT_LEFT: i32 = 84;
/// Right edge of every plotting area.
pub(super) const PLOT_RIGHT: i32 = WIDTH as i32 - 28;
/// Height of a plot title's line.
pub(super) const TITLE_H: i32 = 34;
/// Room under a plotting area for tick labels and the x title.
pub(super) const X_AXIS_H: i32 = 50;

pub(super) const GRID: RGBColor = RGBColor(238, 238, 238);
pub(super) const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);
const AXIS: RGBColor = RGBColor(120, 120, 120);

/// A chart over `f64 × f64` whose plotting area is `plot`.
pub(super) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart on `root` whose plotting area is exactly `plot` (canvas pixels).
pub(super) fn chart_on<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    plot: Rect,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, DB>, String> {
    let (w, h) = root.dim_in_pixel();
    ChartBuilder::on(root)
        .margin_left(plot.x0)
        .margin_top(plot.y0)
        .margin_right((w as i32 - plot.x1).max(0))
        .margin_bottom((h as i32 - plot.y1).max(0))
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// About `max` round values covering `lo..=hi`: steps of 1, 2, 2.5 or 5 times a power
/// of ten.
pub(super) fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || max < 2 {
        return vec![lo];
    }
    let raw = (hi - lo) / (max - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Ticks for an axis `len` pixels long whose labels `fmt` writes: the most (up to 10)
/// whose labels still leave a label's width between each other.
pub(super) fn fitting_ticks(
    lo: f64,
    hi: f64,
    len: i32,
    style: Style,
    fmt: &dyn Fn(f64) -> String,
) -> Vec<f64> {
    for n in (3..=10).rev() {
        let t = nice_ticks(lo, hi, n);
        let widest = t
            .iter()
            .map(|v| super::text::text_width(&fmt(*v), style))
            .max()
            .unwrap_or(0);
        if (widest + 16) * t.len() as i32 <= len {
            return t;
        }
    }
    nice_ticks(lo, hi, 2)
}

/// A horizontal grid line at data `y`.
pub(super) fn hgrid<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: &Range<f64>,
    y: f64,
    colour: RGBColor,
) -> Result<(), String> {
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x.start, y), (x.end, y)],
            colour.stroke_width(1),
        )))
        .map_err(err)?;
    Ok(())
}

/// A vertical grid line at data `x`.
pub(super) fn vgrid<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    y: &Range<f64>,
    x: f64,
    colour: RGBColor,
) -> Result<(), String> {
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(x, y.start), (x, y.end)],
            colour.stroke_width(1),
        )))
        .map_err(err)?;
    Ok(())
}

/// The left and bottom axis lines of `plot`.
pub(super) fn axes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: Rect,
) -> Result<(), String> {
    root.draw(&PathElement::new(
        vec![(plot.x0, plot.y0), (plot.x0, plot.y1), (plot.x1, plot.y1)],
        AXIS.stroke_width(1),
    ))
    .map_err(err)
}

/// A y tick label left of the plotting area at canvas `py`, with its tick mark.
pub(super) fn y_tick<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    plot: Rect,
    py: i32,
    text: &str,
) -> Result<(), String> {
    root.draw(&PathElement::new(
        vec![(plot.x0 - 4, py), (plot.x0, py)],
        AXIS.stroke_width(1),
    ))
    .map_err(err)?;
    let style = Style::plain(12);
    let r = super::text::text_rect(
        text,
        style,
        (plot.x0 - 7, py),
        pos(HPos::Right, VPos::Center),
    );
    // Tick labels are chosen not to collide; one that would (a squeezed panel) is left
    // out rather than drawn over its neighbour.
    if labels.is_free(&r) {
        labels.draw(
            root,
            text,
            (plot.x0 - 7, py),
            style,
            pos(HPos::Right, VPos::Center),
        )?;
    }
    Ok(())
}

/// An x tick label under the plotting area at canvas `px`, with its tick mark.
pub(super) fn x_tick<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    plot: Rect,
    px: i32,
    text: &str,
) -> Result<(), String> {
    root.draw(&PathElement::new(
        vec![(px, plot.y1), (px, plot.y1 + 4)],
        AXIS.stroke_width(1),
    ))
    .map_err(err)?;
    let style = Style::plain(12);
    let at = (px, plot.y1 + 8);
    let r = super::text::text_rect(text, style, at, pos(HPos::Center, VPos::Top));
    if labels.is_free(&r) {
        labels.draw(root, text, at, style, pos(HPos::Center, VPos::Top))?;
    }
    Ok(())
}

/// The x title under the tick labels.
pub(super) fn x_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    plot: Rect,
    text: &str,
) -> Result<(), String> {
    labels.draw(
        root,
        text,
        ((plot.x0 + plot.x1) / 2, plot.y1 + 28),
        Style::plain(14),
        pos(HPos::Center, VPos::Top),
    )?;
    Ok(())
}

/// The y title, bottom to top, at the canvas' left edge beside `plot`; on two lines
/// when it is longer than the plot is tall.
pub(super) fn y_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    plot: Rect,
    text: &str,
) -> Result<(), String> {
    let style = Style::plain(14).vertical();
    let room = plot.y1 - plot.y0 - 8;
    let lines = if super::text::text_width(text, style) > room {
        split_in_two(text)
    } else {
        vec![text.to_owned()]
    };
    for (k, line) in lines.iter().enumerate() {
        labels.draw(
            root,
            line,
            (4 + 17 * k as i32, (plot.y0 + plot.y1) / 2),
            style,
            pos(HPos::Center, VPos::Top),
        )?;
    }
    Ok(())
}

/// `text` in two lines at the space nearest its middle (whole when it has none).
fn split_in_two(text: &str) -> Vec<String> {
    let mid = text.chars().count() / 2;
    let best = text
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|i| text[..*i].chars().count().abs_diff(mid));
    match best {
        Some(i) => vec![text[..i].to_owned(), text[i + 1..].to_owned()],
        None => vec![text.to_owned()],
    }
}

/// A title centred on the canvas with its top at `y`.
pub(super) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    text: &str,
    y: i32,
    size: u32,
) -> Result<(), String> {
    labels.draw(
        root,
        text,
        (WIDTH as i32 / 2, y),
        Style::bold(size),
        pos(HPos::Center, VPos::Top),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            nice_ticks(0.0, 100.0, 6),
            [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_ticks(0.0, 10.0, 5), [0.0, 2.5, 5.0, 7.5, 10.0]);
        let t = nice_ticks(-96.0, 3974.0, 6);
        assert!(
            t.contains(&0.0) && t.iter().all(|v| (-96.0..=3974.0).contains(v)),
            "{t:?}"
        );
        assert_eq!(nice_ticks(1.0, 1.0, 5), [1.0]);
    }

    #[test]
    fn long_titles_split_at_the_middle_space() {
        assert_eq!(
            split_in_two("data blocks: allocated ↑ returned ↓"),
            ["data blocks:", "allocated ↑ returned ↓"]
        );
        assert_eq!(split_in_two("latency"), ["latency"]);
    }
}

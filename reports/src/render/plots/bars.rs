//! Grouped bars in stacked panels. In each category's slot only the bars that have a
//! value are laid out (centred, one width for the panel); category names wrap to their
//! slot at `/`, space, `-` or `_` (staggered on two levels when that takes fewer lines,
//! broken inside a word only when a word alone is wider than its room); value labels
//! sit on their bar, once for a group of equal values, moved up past a neighbour or
//! left to the table when there is no room.

use super::frame::{self, PLOT_LEFT, PLOT_RIGHT, TITLE_H};
use super::legend::{Glyph, Legend};
use super::text::{err, pos, text_rect, text_width, Labels, Rect, Style, TEXT};
use crate::render::plot_spec::{BarPanel, BarsPlot, ALERT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use thinbench_schema::format::sig3;

const PANEL_TITLE_H: i32 = 24;
const PANEL_PLOT_H: i32 = 200;
const LINE_H: i32 = 16;
const PANEL_GAP: i32 = 16;
const CAT_STYLE: Style = Style {
    size: 13,
    bold: false,
    colour: TEXT,
    vertical: false,
};

/// How a panel's category names are written under their slots.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CategoryLabels {
    /// Per category, its lines.
    pub lines: Vec<Vec<String>>,
    /// Per category, the line it starts on (second level when staggered).
    pub first_line: Vec<usize>,
    /// Written bottom to top, one line each (slots too narrow for words).
    pub vertical: bool,
    /// Pixels the whole block takes under the axis.
    pub height: i32,
}

fn slot_px(n: usize) -> f64 {
    f64::from(PLOT_RIGHT - PLOT_LEFT) / n.max(1) as f64
}

/// Lines of wrapped labels that still read well.
const MAX_LINES: usize = 3;

/// Lay out `categories` under slots `slot` pixels wide: wrapped to the slot; if that
/// takes more than [`MAX_LINES`], staggered on two levels (each label may then take two
/// slots) when the two levels take at most one line more; else written bottom to top.
pub(super) fn category_labels(categories: &[String], slot: f64) -> CategoryLabels {
    let wrapped = |room: f64| -> Vec<Vec<String>> {
        categories
            .iter()
            .map(|c| wrap_to_width(c, (room - 8.0) as i32))
            .collect()
    };
    let plain = wrapped(slot);
    let plain_h = plain.iter().map(Vec::len).max().unwrap_or(0);
    if plain_h <= MAX_LINES || categories.len() < 2 {
        return CategoryLabels {
            first_line: vec![0; plain.len()],
            lines: plain,
            vertical: false,
            height: 8 + LINE_H * plain_h as i32,
        };
    }
    // Two levels: even slots on the first, odd below them.
    let wide = wrapped(2.0 * slot);
    let level_h = |odd: usize| {
        wide.iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == odd)
            .map(|(_, l)| l.len())
            .max()
            .unwrap_or(0)
    };
    let (h0, h1) = (level_h(0), level_h(1));
    if h0 + h1 <= MAX_LINES + 1 || slot < f64::from(CAT_STYLE.size) + 4.0 {
        return CategoryLabels {
            first_line: (0..wide.len())
                .map(|i| if i % 2 == 0 { 0 } else { h0 })
                .collect(),
            lines: wide,
            vertical: false,
            height: 8 + LINE_H * (h0 + h1) as i32,
        };
    }
    let longest = categories
        .iter()
        .map(|c| text_width(c, CAT_STYLE))
        .max()
        .unwrap_or(0);
    CategoryLabels {
        lines: categories.iter().map(|c| vec![c.clone()]).collect(),
        first_line: vec![0; categories.len()],
        vertical: true,
        height: 12 + longest,
    }
}

/// Split a label into lines at most `max_w` pixels wide, breaking after `/`, `-`, `_`
/// or a space, and inside a word only when the word alone is wider.
pub(super) fn wrap_to_width(s: &str, max_w: i32) -> Vec<String> {
    let width = |t: &str| text_width(t, CAT_STYLE);
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        cur.push(ch);
        if matches!(ch, '/' | ' ' | '-' | '_') {
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    let mut lines: Vec<String> = Vec::new();
    for p in pieces {
        let joined = lines.last().map(|l| format!("{l}{p}"));
        match (lines.last_mut(), joined) {
            (Some(l), Some(j)) if width(j.trim_end()) <= max_w => *l = j,
            _ => lines.push(p),
        }
    }
    // A piece wider than the room on its own is cut where it must be.
    let mut out = Vec::new();
    for l in lines {
        let l = l.trim_end().to_owned();
        if width(&l) <= max_w || l.chars().count() <= 1 {
            out.push(l);
            continue;
        }
        let mut part = String::new();
        for ch in l.chars() {
            part.push(ch);
            if width(&part) > max_w && part.chars().count() > 1 {
                part.pop();
                out.push(std::mem::take(&mut part));
                part.push(ch);
            }
        }
        if !part.is_empty() {
            out.push(part);
        }
    }
    out
}

fn panel_height(p: &BarPanel) -> i32 {
    let cats = category_labels(&p.categories, slot_px(p.categories.len()));
    PANEL_TITLE_H + PANEL_PLOT_H + cats.height + PANEL_GAP
}

/// Height of the canvas above the legend.
pub(super) fn body_height(b: &BarsPlot) -> u32 {
    (TITLE_H + b.panels.iter().map(panel_height).sum::<i32>()) as u32
}

/// Series with a value somewhere, once each.
pub(super) fn legend(b: &BarsPlot) -> Legend {
    let mut lg = Legend::default();
    for p in &b.panels {
        for s in p
            .series
            .iter()
            .filter(|s| s.values.iter().any(Option::is_some))
        {
            lg.push(&s.label, s.colour, Glyph::Block);
        }
    }
    lg
}

/// Draw `b`; `ledger` writes negative values (amounts given back) by their size.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    b: &BarsPlot,
    ledger: bool,
) -> Result<(), String> {
    frame::title(root, labels, &b.title, 8, 19)?;
    let mut top = TITLE_H;
    for p in &b.panels {
        draw_panel(root, labels, p, top, ledger)?;
        top += panel_height(p);
    }
    Ok(())
}

/// The value range of a panel: a fifth of its height above the tallest bar for flags
/// and value labels, and, when a value is negative, a sixth below the lowest for the
/// labels under it.
fn value_range(p: &BarPanel) -> (f64, f64) {
    let vals = || {
        p.series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
            .filter(|v| v.is_finite())
    };
    let max = vals().fold(0.0f64, f64::max);
    let min = vals().fold(0.0f64, f64::min);
    let (top, bottom) = (0.2, if min < 0.0 { 1.0 / 6.0 } else { 0.0 });
    let span = if max > min { max - min } else { 1.0 };
    let range = span / (1.0 - top - bottom);
    let lo = if min < 0.0 { min - bottom * range } else { 0.0 };
    (lo, max + top * range)
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    p: &BarPanel,
    top: i32,
    ledger: bool,
) -> Result<(), String> {
    let n = p.categories.len().max(1);
    let plot = Rect::new(
        PLOT_LEFT,
        top + PANEL_TITLE_H,
        PLOT_RIGHT,
        top + PANEL_TITLE_H + PANEL_PLOT_H,
    );
    labels.draw(
        root,
        &p.title,
        ((PLOT_LEFT + PLOT_RIGHT) / 2, top + 4),
        Style::bold(15),
        pos(HPos::Center, VPos::Top),
    )?;
    let (lo, hi) = value_range(p);
    let x_range = -0.5..(n as f64 - 0.5);
    let mut chart = frame::chart_on(root, plot, x_range.clone(), lo..hi)?;
    let fmt = |v: f64| if ledger { sig3(v.abs()) } else { sig3(v) };
    for v in frame::nice_ticks(lo, hi, 6) {
        frame::hgrid(&mut chart, &x_range, v, frame::GRID)?;
        let (_, py) = chart.backend_coord(&(0.0, v));
        frame::y_tick(root, labels, plot, py, &fmt(v))?;
    }
    frame::y_title(root, labels, plot, &p.y_label)?;
    if lo < 0.0 {
        frame::hgrid(&mut chart, &x_range, 0.0, TEXT)?;
    }

    // Category names under their slots.
    let slot = slot_px(n);
    let cats = category_labels(&p.categories, slot);
    for (i, lines) in cats.lines.iter().enumerate() {
        let (px, _) = chart.backend_coord(&(i as f64, lo));
        if cats.vertical {
            let at = (px, plot.y1 + 8);
            labels.draw(
                root,
                &lines.concat(),
                at,
                CAT_STYLE.vertical(),
                pos(HPos::Right, VPos::Center),
            )?;
            continue;
        }
        for (k, line) in lines.iter().enumerate() {
            let y = plot.y1 + 8 + LINE_H * (cats.first_line[i] + k) as i32;
            labels.draw(root, line, (px, y), CAT_STYLE, pos(HPos::Center, VPos::Top))?;
        }
    }

    // Flags first, at the top of their slot: value labels keep clear of them.
    // A flag too wide for its slot is cut to its first word (`≠`), which the figure's
    // caption explains; never dropped.
    for (ci, text) in &p.flags {
        let (px, _) = chart.backend_coord(&(*ci as f64, hi));
        let style = Style::bold(13).colour(ALERT.c());
        let short = text.split(' ').next().unwrap_or(text);
        let mut drawn = false;
        for t in [text.as_str(), short] {
            for row in 0..2 {
                let at = (px, plot.y0 + 4 + 18 * row);
                let r = text_rect(t, style, at, pos(HPos::Center, VPos::Top));
                if !drawn && labels.is_free(&r) && plot.contains(&r) {
                    labels.draw(root, t, at, style, pos(HPos::Center, VPos::Top))?;
                    drawn = true;
                }
            }
        }
    }

    // Bars: per slot, those with a value, centred; one bar width for the panel.
    let present = |ci: usize| -> Vec<(usize, f64)> {
        p.series
            .iter()
            .enumerate()
            .filter_map(|(si, s)| s.values.get(ci).copied().flatten().map(|v| (si, v)))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let widest = (0..n).map(|ci| present(ci).len()).max().unwrap_or(1).max(1);
    let bw = 0.8 / widest as f64;
    for ci in 0..n {
        let bars = present(ci);
        let start = ci as f64 - bw * bars.len() as f64 / 2.0;
        let mut spans = Vec::new();
        for (k, (si, v)) in bars.iter().enumerate() {
            let xa = start + k as f64 * bw + bw * 0.04;
            let xb = xa + bw * 0.92;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(xa, 0.0), (xb, *v)],
                    p.series[*si].colour.c().filled(),
                )))
                .map_err(err)?;
            spans.push((xa, xb, *v));
        }
        value_labels(root, labels, &chart, plot, &spans, &fmt)?;
    }
    frame::axes(root, plot)
}

/// Values on their bars: one label over each run of neighbouring bars with equal
/// values (model and kernel agreeing), else one per bar, tried at the bar, then one and
/// two lines further out; a label with no room is left to the table under the figure.
fn value_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    chart: &frame::Chart<'_, DB>,
    plot: Rect,
    spans: &[(f64, f64, f64)],
    fmt: &dyn Fn(f64) -> String,
) -> Result<(), String> {
    let style = Style::plain(12);
    let mut runs: Vec<(f64, f64, f64)> = Vec::new();
    for &(xa, xb, v) in spans {
        match runs.last_mut() {
            Some(r) if r.2 == v => r.1 = xb,
            _ => runs.push((xa, xb, v)),
        }
    }
    for (xa, xb, v) in runs {
        let text = fmt(v);
        let (cx, py) = chart.backend_coord(&((xa + xb) / 2.0, v));
        let (dir, vpos) = if v < 0.0 {
            (1, VPos::Top)
        } else {
            (-1, VPos::Bottom)
        };
        let cands = (0..3).map(|k| ((cx, py + dir * (3 + 14 * k)), pos(HPos::Center, vpos)));
        labels.first_free(root, &text, style, plot, cands)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() {
        super::super::text::ensure_font().unwrap();
    }

    #[test]
    fn labels_wrap_at_separators_and_fit_their_room() {
        font();
        let w = |s: &str| text_width(s, CAT_STYLE);
        let lines = wrap_to_width("snapshot/sub-chunk/first", w("sub-chunk/") + 1);
        assert_eq!(lines, ["snapshot/", "sub-chunk/", "first"]);
        assert_eq!(
            wrap_to_width("snapshot/sub-chunk/first", 1000),
            ["snapshot/sub-chunk/first"]
        );
        assert_eq!(
            wrap_to_width("#7 delete-discard", w("#7 delete-") + 1),
            ["#7 delete-", "discard"]
        );
        // A word wider than its room is cut, and every piece fits.
        let cut = wrap_to_width("base-device", 30);
        assert!(cut.len() > 2, "{cut:?}");
        assert!(cut.iter().all(|l| w(l) <= 30), "{cut:?}");
        assert_eq!(cut.concat(), "base-device");
    }

    #[test]
    fn narrow_slots_stagger_then_turn_vertical() {
        font();
        let cats = |n: usize, name: &str| -> Vec<String> {
            (0..n).map(|i| format!("#{i} {name}")).collect()
        };
        // Wide slots: one line each.
        let wide = category_labels(&cats(3, "delete-no-discard"), slot_px(3));
        assert_eq!(wide.first_line, [0, 0, 0]);
        assert!(!wide.vertical && wide.lines.iter().all(|l| l.len() == 1));
        // Narrower: two levels, each label on fewer lines than one level would take.
        let c = cats(20, "delete-thin");
        let l = category_labels(&c, slot_px(c.len()));
        assert!(!l.vertical, "{l:?}");
        assert_eq!(l.first_line[0], 0);
        assert!(l.first_line[1] > 0);
        let one_level = wrap_to_width(&c[0], (slot_px(c.len()) - 8.0) as i32).len();
        assert!(l.lines[0].len() < one_level, "{l:?}");
        // Narrower still: bottom to top, whole.
        let c = cats(30, "delete-no-discard");
        let v = category_labels(&c, slot_px(c.len()));
        assert!(v.vertical, "{v:?}");
        assert_eq!(v.lines[5], ["#5 delete-no-discard"]);
        assert!(v.height > text_width("#5 delete-no-discard", CAT_STYLE));
    }
}

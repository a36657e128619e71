//! Latency distributions on a "nines" x axis (p50, p90, p99, p99.9 at `-log10(1 - p)`,
//! the maximum at `log10(IOs)`), log y with a label at every decade, held-IO points
//! ringed and labelled.

use super::frame::{self, PLOT_LEFT, PLOT_RIGHT, TITLE_H, X_AXIS_H};
use super::legend::{Glyph, Legend};
use super::text::{err, pos, Labels, Rect, Style};
use crate::render::plot_spec::{LatencyPlot, Rgb, ALERT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

const PLOT_H: i32 = 300;
/// Grey of the markers' legend entries.
const MARKER: Rgb = Rgb(90, 90, 90);

/// Height of the canvas above the legend.
pub(super) fn body_height(_: &LatencyPlot) -> u32 {
    (TITLE_H + 12 + PLOT_H + X_AXIS_H) as u32
}

/// The pools, the max marker, and the held-IO ring when a point has one.
pub(super) fn legend(l: &LatencyPlot) -> Legend {
    let mut lg = Legend::default();
    for s in l.series.iter().filter(|s| !s.points.is_empty()) {
        lg.push(&s.label, s.colour, Glyph::Dot);
    }
    if l.series.iter().flat_map(|s| &s.points).any(|p| p.max) {
        lg.push("max (placed at 1 − 1/IOs)", MARKER, Glyph::Square);
    }
    if l.series.iter().flat_map(|s| &s.points).any(|p| p.held) {
        let note = l
            .held_note
            .as_deref()
            .unwrap_or("includes IO held by the pool");
        lg.push(note, ALERT, Glyph::Ring);
    }
    lg
}

/// `1 µs`, `10 ms`: a decade of nanoseconds in the unit that reads best.
pub(super) fn decade_label(ns: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")];
    let (div, unit) = UNITS
        .iter()
        .copied()
        .find(|(d, _)| ns >= *d * 0.999)
        .unwrap_or((1.0, "ns"));
    format!("{} {unit}", thinbench_schema::format::sig3(ns / div))
}

/// `p50`, `p90`, `p99`, `p99.9`... at their nines.
fn nines_ticks(max: f64) -> Vec<(f64, String)> {
    let mut t = vec![(2f64.log10(), "p50".to_owned()), (1.0, "p90".to_owned())];
    let mut k = 2;
    while f64::from(k) <= max + 1e-9 && k <= 9 {
        let label = if k == 2 {
            "p99".to_owned()
        } else {
            format!("p99.{}", "9".repeat(k as usize - 2))
        };
        t.push((f64::from(k), label));
        k += 1;
    }
    t
}

/// The y range in log10(ns): whole decades around every value.
fn log_range(l: &LatencyPlot) -> (f64, f64) {
    let vals = || {
        l.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.ns))
            .filter(|v| *v > 0.0 && v.is_finite())
    };
    let lo = vals().fold(f64::INFINITY, f64::min);
    let hi = vals().fold(0.0f64, f64::max);
    if !lo.is_finite() || hi <= 0.0 {
        return (3.0, 6.0);
    }
    let (a, mut b) = (lo.log10().floor(), hi.log10().ceil());
    if b <= a {
        b = a + 1.0;
    }
    (a, b)
}

/// Draw `l` on `root` above the legend.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &mut Labels,
    l: &LatencyPlot,
) -> Result<(), String> {
    frame::title(root, labels, &l.title, 8, 19)?;
    let top = TITLE_H + 12;
    let plot = Rect::new(PLOT_LEFT, top, PLOT_RIGHT, top + PLOT_H);
    let max_nines = l
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.nines))
        .fold(3.0f64, f64::max);
    let x_range = 0.0..(max_nines + 0.35);
    let (ya, yb) = log_range(l);
    let y_range = (ya - 0.04)..(yb + 0.04);
    let mut chart = frame::chart_on(root, plot, x_range.clone(), y_range.clone())?;

    // Every decade labelled; between decades a light line at 2…9, labelled at 2 and 5
    // when the plot spans few decades.
    let decades = (yb - ya).round() as i32;
    for d in 0..=decades {
        let e = ya + f64::from(d);
        frame::hgrid(&mut chart, &x_range, e, frame::GRID_BOLD)?;
        let (_, py) = chart.backend_coord(&(0.0, e));
        frame::y_tick(root, labels, plot, py, &decade_label(10f64.powf(e)))?;
        if d == decades {
            break;
        }
        for m in 2..=9 {
            let v = e + f64::from(m).log10();
            frame::hgrid(&mut chart, &x_range, v, frame::GRID)?;
            if decades <= 2 && (m == 2 || m == 5) {
                let (_, py) = chart.backend_coord(&(0.0, v));
                frame::y_tick(root, labels, plot, py, &decade_label(10f64.powf(v)))?;
            }
        }
    }
    for (x, text) in nines_ticks(max_nines) {
        frame::vgrid(&mut chart, &y_range, x, frame::GRID)?;
        let (px, _) = chart.backend_coord(&(x, ya));
        frame::x_tick(root, labels, plot, px, &text)?;
    }
    frame::x_title(
        root,
        labels,
        plot,
        "percentile, in nines: p90 at 1, p99 at 2, p99.9 at 3",
    )?;
    frame::y_title(root, labels, plot, "latency (log scale)")?;

    let at = |nines: f64, ns: f64| (nines, ns.max(1e-3).log10());
    for s in &l.series {
        let c = s.colour.c();
        let mut pts: Vec<_> = s.points.iter().filter(|p| p.ns > 0.0).collect();
        pts.sort_by(|a, b| a.nines.total_cmp(&b.nines));
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| at(p.nines, p.ns)),
                c.stroke_width(3),
            ))
            .map_err(err)?;
        for p in &pts {
            let xy = at(p.nines, p.ns);
            let (px, py) = chart.backend_coord(&xy);
            if p.max {
                root.draw(&Rectangle::new(
                    [(px - 6, py - 6), (px + 6, py + 6)],
                    c.filled(),
                ))
                .map_err(err)?;
            } else {
                root.draw(&Circle::new((px, py), 5, c.filled()))
                    .map_err(err)?;
            }
            labels.keep_off(Rect::new(px - 7, py - 7, px + 7, py + 7));
            if p.held {
                root.draw(&Circle::new((px, py), 10, ALERT.c().stroke_width(3)))
                    .map_err(err)?;
                labels.keep_off(Rect::new(px - 12, py - 12, px + 12, py + 12));
            }
        }
    }
    // "held IO" beside every ringed point there is room for; the legend says what the
    // ring means either way.
    let style = Style::plain(12).colour(ALERT.c());
    for s in &l.series {
        for p in s.points.iter().filter(|p| p.held && p.ns > 0.0) {
            let (px, py) = chart.backend_coord(&at(p.nines, p.ns));
            let cands = [
                ((px - 15, py), pos(HPos::Right, VPos::Center)),
                ((px, py - 15), pos(HPos::Center, VPos::Bottom)),
                ((px, py + 15), pos(HPos::Center, VPos::Top)),
                ((px + 15, py), pos(HPos::Left, VPos::Center)),
                ((px - 15, py - 18), pos(HPos::Right, VPos::Center)),
                ((px - 15, py + 18), pos(HPos::Right, VPos::Center)),
            ];
            labels.first_free(root, "held IO", style, plot, cands)?;
        }
    }
    frame::axes(root, plot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_read_in_their_unit() {
        assert_eq!(decade_label(1.0), "1 ns");
        assert_eq!(decade_label(1e3), "1 µs");
        assert_eq!(decade_label(1e4), "10 µs");
        assert_eq!(decade_label(1e8), "100 ms");
        assert_eq!(decade_label(1e9), "1 s");
        assert_eq!(decade_label(5e6), "5 ms");
    }

    #[test]
    fn nines_are_labelled_as_percentiles() {
        let t = nines_ticks(4.7);
        let labels: Vec<_> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["p50", "p90", "p99", "p99.9", "p99.99"]);
        assert!((t[0].0 + (1.0f64 - 0.5).log10()).abs() < 1e-12);
        assert_eq!(t[3].0, 3.0);
    }
}

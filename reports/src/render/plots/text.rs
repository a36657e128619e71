//! Text on plots: the font (registered with plotters once), text measurement, and the
//! [`Labels`] ledger every label of a plot is drawn through. The ledger is what lets
//! placement avoid what is already there, and what tests read to check that no two
//! labels of one plot overlap.

use super::super::plot_spec::Rgb;
use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

impl Rgb {
    pub(super) fn c(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// Plot text colour.
pub(super) const TEXT: RGBColor = RGBColor(40, 40, 40);

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

pub(super) fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// How a label is written: size in plotters' units (px of the glyph scale), weight,
/// colour, and whether it runs bottom to top (a y axis title).
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub size: u32,
    pub bold: bool,
    pub colour: RGBColor,
    pub vertical: bool,
}

impl Style {
    pub fn plain(size: u32) -> Style {
        Style {
            size,
            bold: false,
            colour: TEXT,
            vertical: false,
        }
    }
    pub fn bold(size: u32) -> Style {
        Style {
            bold: true,
            ..Style::plain(size)
        }
    }
    pub fn colour(self, c: RGBColor) -> Style {
        Style { colour: c, ..self }
    }
    pub fn vertical(self) -> Style {
        Style {
            vertical: true,
            ..self
        }
    }
    fn text_style(self, pos: Pos) -> TextStyle<'static> {
        let mut f = ("sans-serif", self.size).into_font();
        if self.bold {
            f = f.style(FontStyle::Bold);
        }
        let mut t = f.color(&self.colour).pos(pos);
        if self.vertical {
            t = t.transform(FontTransform::Rotate270);
        }
        t
    }
}

/// Width of `text` in pixels as plotters lays it out (unrotated). Without a usable font
/// (nothing can be drawn then anyway) a DejaVu-like 0.62 em per glyph.
pub(super) fn text_width(text: &str, style: Style) -> i32 {
    let mut f = ("sans-serif", style.size).into_font();
    if style.bold {
        f = f.style(FontStyle::Bold);
    }
    match f.box_size(text) {
        Ok((w, _)) => w as i32,
        Err(_) => (text.chars().count() as f64 * f64::from(style.size) * 0.62).ceil() as i32,
    }
}

/// A pixel rectangle on the canvas: x in `x0..x1`, y in `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn new(x0: i32, y0: i32, x1: i32, y1: i32) -> Rect {
        Rect {
            x0: x0.min(x1),
            y0: y0.min(y1),
            x1: x0.max(x1),
            y1: y0.max(y1),
        }
    }
    /// Whether the two share any pixel.
    pub fn intersects(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    /// Grown by `d` on every side.
    pub fn pad(self, d: i32) -> Rect {
        Rect {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }
    /// Whether `o` lies wholly inside.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x0 >= self.x0 && o.x1 <= self.x1 && o.y0 >= self.y0 && o.y1 <= self.y1
    }
}

/// The box `text` covers when drawn at `at` with anchor `pos`. Horizontally plotters'
/// own layout width; vertically one full glyph scale (ascenders to descenders, a little
/// more than plotters' layout height, which leaves descenders out). The browser draws
/// SVG text at 1/1.24 of that scale, inside this box.
pub(super) fn text_rect(text: &str, style: Style, at: (i32, i32), pos: Pos) -> Rect {
    let w = text_width(text, style);
    let s = f64::from(style.size);
    let (ax0, ax1) = match pos.h_pos {
        HPos::Left => (0, w),
        HPos::Center => (-w / 2, w - w / 2),
        HPos::Right => (-w, 0),
    };
    let (top, bottom) = match pos.v_pos {
        VPos::Top => (-0.15, 0.85),
        VPos::Center => (-0.55, 0.45),
        VPos::Bottom => (-0.95, 0.05),
    };
    let (ay0, ay1) = ((top * s).floor() as i32, (bottom * s).ceil() as i32);
    if style.vertical {
        // Rotated a quarter turn anticlockwise: text x runs up the canvas, text y
        // runs right.
        Rect::new(at.0 + ay0, at.1 - ax1, at.0 + ay1, at.1 - ax0)
    } else {
        Rect::new(at.0 + ax0, at.1 + ay0, at.0 + ax1, at.1 + ay1)
    }
}

/// A text label as drawn: its text and its box in canvas pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlacedLabel {
    pub text: String,
    pub rect: Rect,
}

/// Gap kept between labels placed by [`Labels::first_free`].
const GAP: i32 = 2;

/// Every label of one plot, drawn on the canvas and recorded with its box; and the
/// things labels should keep off (threshold lines, markers).
#[derive(Debug, Default)]
pub(super) struct Labels {
    placed: Vec<PlacedLabel>,
    keep_off: Vec<Rect>,
}

impl Labels {
    /// Whether `r` touches no label placed so far and nothing kept off.
    pub fn is_free(&self, r: &Rect) -> bool {
        let padded = r.pad(GAP);
        !self.placed.iter().any(|p| p.rect.intersects(&padded))
            && !self.keep_off.iter().any(|k| k.intersects(r))
    }

    /// Keep later labels off `r`.
    pub fn keep_off(&mut self, r: Rect) {
        self.keep_off.push(r);
    }

    /// Draw `text` at `at` and record it, wherever it lands.
    pub fn draw<DB: DrawingBackend>(
        &mut self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        at: (i32, i32),
        style: Style,
        pos: Pos,
    ) -> Result<Rect, String> {
        let rect = text_rect(text, style, at, pos);
        if !text.is_empty() {
            root.draw(&Text::new(text.to_owned(), at, style.text_style(pos)))
                .map_err(err)?;
            self.placed.push(PlacedLabel {
                text: text.to_owned(),
                rect,
            });
        }
        Ok(rect)
    }

    /// Draw `text` at the first of `candidates` (anchor point and anchor) where it is
    /// free and inside `within`; `None` (and nothing drawn) when none is.
    pub fn first_free<DB: DrawingBackend>(
        &mut self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        style: Style,
        within: Rect,
        candidates: impl IntoIterator<Item = ((i32, i32), Pos)>,
    ) -> Result<Option<Rect>, String> {
        for (at, pos) in candidates {
            let r = text_rect(text, style, at, pos);
            if within.contains(&r) && self.is_free(&r) {
                return self.draw(root, text, at, style, pos).map(Some);
            }
        }
        Ok(None)
    }

    /// What was placed, in drawing order.
    pub fn into_placed(self) -> Vec<PlacedLabel> {
        self.placed
    }
}

/// Anchor shorthand.
pub(super) fn pos(h: HPos, v: VPos) -> Pos {
    Pos::new(h, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_follow_the_anchor_and_rotation() {
        ensure_font().unwrap();
        let s = Style::plain(14);
        let w = text_width("latency", s);
        assert!(w > 30 && w < 80, "{w}");
        let left = text_rect("latency", s, (100, 50), pos(HPos::Left, VPos::Top));
        let right = text_rect("latency", s, (100, 50), pos(HPos::Right, VPos::Top));
        assert_eq!((left.x0, left.x1), (100, 100 + w));
        assert_eq!((right.x0, right.x1), (100 - w, 100));
        assert!((14..=15).contains(&(left.y1 - left.y0)), "{left:?}");
        let up = text_rect(
            "latency",
            s.vertical(),
            (10, 200),
            pos(HPos::Center, VPos::Top),
        );
        assert_eq!(up.y1 - up.y0, w);
        assert!((14..=15).contains(&(up.x1 - up.x0)), "{up:?}");
        assert!(up.y0 < 200 && up.y1 > 200);
    }

    #[test]
    fn the_ledger_keeps_labels_apart_and_off_what_it_is_told() {
        let mut l = Labels::default();
        l.placed.push(PlacedLabel {
            text: "a".into(),
            rect: Rect::new(0, 0, 20, 10),
        });
        l.keep_off(Rect::new(0, 50, 100, 54));
        assert!(!l.is_free(&Rect::new(10, 5, 30, 15)));
        assert!(!l.is_free(&Rect::new(21, 0, 40, 10)), "closer than the gap");
        assert!(l.is_free(&Rect::new(30, 0, 50, 10)));
        assert!(!l.is_free(&Rect::new(30, 45, 50, 52)));
        assert!(l.is_free(&Rect::new(30, 55, 50, 65)));
    }
}

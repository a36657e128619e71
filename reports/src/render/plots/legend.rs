//! The legend strip under every plot: one entry per thing the plot actually draws (a
//! series without a value gets none), laid out in rows measured with the plot font, so
//! the canvas is sized for it before anything is drawn and no legend covers data.

use super::frame::WIDTH;
use super::text::{err, pos, text_width, Labels, Style};
use crate::render::plot_spec::Rgb;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// How an entry's swatch looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Glyph {
    Line,
    Dashed,
    Block,
    /// A translucent block: a shaded span.
    Band(f64),
    Triangle,
    VLine,
    StepLine,
    /// A filled circle on a line: a percentile.
    Dot,
    /// A filled square: a maximum.
    Square,
    /// An open ring: a marked point.
    Ring,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub label: String,
    pub colour: Rgb,
    pub glyph: Glyph,
}

/// Entries in order, each label and glyph once.
#[derive(Debug, Default)]
pub(super) struct Legend {
    pub entries: Vec<Entry>,
}

impl Legend {
    pub fn push(&mut self, label: &str, colour: Rgb, glyph: Glyph) {
        if !self
            .entries
            .iter()
            .any(|e| e.label == label && e.glyph == glyph)
        {
            self.entries.push(Entry {
                label: label.to_owned(),
                colour,
                glyph,
            });
        }
    }

    /// Each entry's row and left edge.
    fn layout(&self) -> Vec<(u32, i32)> {
        let style = Style::plain(14);
        let (mut x, mut row) = (16i32, 0u32);
        let mut out = Vec::new();
        for e in &self.entries {
            let ew = 34 + text_width(&e.label, style) + 18;
            if x + ew > WIDTH as i32 - 8 && x > 16 {
                x = 16;
                row += 1;
            }
            out.push((row, x));
            x += ew;
        }
        out
    }

    /// Height of the strip, padding included.
    pub fn height(&self) -> u32 {
        let rows = self.layout().last().map_or(0, |(r, _)| r + 1);
        30 * rows.max(1) + 6
    }

    /// Draw the strip with its top at canvas `top`.
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        labels: &mut Labels,
        top: i32,
    ) -> Result<(), String> {
        let style = Style::plain(14);
        for (e, (row, x)) in self.entries.iter().zip(self.layout()) {
            let cy = top + 16 + 30 * row as i32;
            swatch(root, e, x, cy)?;
            labels.draw(
                root,
                &e.label,
                (x + 34, cy),
                style,
                pos(HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }
}

fn swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    e: &Entry,
    x: i32,
    cy: i32,
) -> Result<(), String> {
    let c = e.colour.c();
    match e.glyph {
        Glyph::Line => root.draw(&PathElement::new(
            vec![(x, cy), (x + 26, cy)],
            c.stroke_width(3),
        )),
        Glyph::Dashed => (0..3).try_for_each(|k| {
            let x0 = x + k * 10;
            root.draw(&PathElement::new(
                vec![(x0, cy), (x0 + 6, cy)],
                c.stroke_width(3),
            ))
        }),
        Glyph::Block => root.draw(&Rectangle::new(
            [(x + 4, cy - 8), (x + 22, cy + 8)],
            c.filled(),
        )),
        Glyph::Band(alpha) => root
            .draw(&Rectangle::new(
                [(x, cy - 9), (x + 26, cy + 9)],
                c.mix(alpha.max(0.2) * 1.6).filled(),
            ))
            .and_then(|_| {
                root.draw(&Rectangle::new(
                    [(x, cy - 9), (x + 26, cy + 9)],
                    c.mix(0.5).stroke_width(1),
                ))
            }),
        Glyph::Triangle => root.draw(&TriangleMarker::new((x + 13, cy), 7, c.filled())),
        Glyph::VLine | Glyph::StepLine => root.draw(&PathElement::new(
            vec![(x + 13, cy - 10), (x + 13, cy + 10)],
            c.stroke_width(2),
        )),
        Glyph::Dot => root
            .draw(&PathElement::new(
                vec![(x, cy), (x + 26, cy)],
                c.stroke_width(2),
            ))
            .and_then(|_| root.draw(&Circle::new((x + 13, cy), 5, c.filled()))),
        Glyph::Square => root.draw(&Rectangle::new(
            [(x + 7, cy - 6), (x + 19, cy + 6)],
            c.filled(),
        )),
        Glyph::Ring => root.draw(&Circle::new((x + 13, cy), 8, c.stroke_width(3))),
    }
    .map_err(err)
}

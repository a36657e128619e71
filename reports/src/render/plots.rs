//! Plots: a data-only [`PlotSpec`] drawn with plotters onto any backend, behind the
//! [`Plotter`] trait (SVG text for HTML, PNG files for Markdown). Every plot has a
//! title, axis labels with units, and a legend strip below it listing only what it
//! draws, so no legend ever covers data. Colours come from
//! [`pool_colour`](super::plot_spec::pool_colour): one hue per pool kind everywhere.
//!
//! Every text label goes through one ledger (`text::Labels`) that places it clear of
//! the labels before it and records its box: [`draw`] returns them, and the tests check
//! that no two labels of a plot overlap, over the report fixtures and a synthetic run.
//! Axes and ticks are drawn here rather than by plotters' mesh for that reason.

mod bars;
mod frame;
mod latency;
mod legend;
mod text;
mod timeline;

#[cfg(test)]
mod tests;

use super::document::Figure;
use super::plot_spec::PlotSpec;
use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

pub use text::FONT_ENV;
pub(crate) use text::{ensure_font, PlacedLabel};

impl PlotSpec {
    /// Pixel size: the body the plot needs (its step-label rows, its panels' label
    /// lines) and its legend's rows, measured with the plot font.
    pub fn size(&self) -> (u32, u32) {
        let body = match self {
            PlotSpec::Timeline(t) => timeline::body_height(t),
            PlotSpec::Latency(l) => latency::body_height(l),
            PlotSpec::Bars(b) | PlotSpec::Ledger(b) => bars::body_height(b),
        };
        (frame::WIDTH, body + self.legend().height())
    }

    fn legend(&self) -> legend::Legend {
        match self {
            PlotSpec::Timeline(t) => timeline::legend(t),
            PlotSpec::Latency(l) => latency::legend(l),
            PlotSpec::Bars(b) | PlotSpec::Ledger(b) => bars::legend(b),
        }
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

/// Draw `spec` on `root` (the whole canvas, [`PlotSpec::size`] big); returns every text
/// label drawn, with its box.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
) -> Result<Vec<PlacedLabel>, String> {
    root.fill(&WHITE).map_err(text::err)?;
    let mut labels = text::Labels::default();
    let (_, h) = root.dim_in_pixel();
    let legend = spec.legend();
    let legend_top = h.saturating_sub(legend.height()) as i32;
    match spec {
        PlotSpec::Timeline(t) => timeline::draw(root, &mut labels, t)?,
        PlotSpec::Latency(l) => latency::draw(root, &mut labels, l)?,
        PlotSpec::Bars(b) => bars::draw(root, &mut labels, b, false)?,
        PlotSpec::Ledger(b) => bars::draw(root, &mut labels, b, true)?,
    }
    legend.draw(root, &mut labels, legend_top)?;
    Ok(labels.into_placed())
}

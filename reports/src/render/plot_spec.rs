//! What a plot shows, as data: a [`PlotSpec`] and its parts, and the palette every
//! plot and swatch uses ([`pool_colour`]: one hue per pool kind everywhere). Built by
//! `layout`, carried in a `document::Figure`, drawn by `plots`.

use thinbench_schema::record::PoolKind;

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// CSS form, for HTML swatches.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The colour of a pool kind; `shade` tells apart several pools of one kind (same hue,
/// darker then lighter).
pub(crate) fn pool_colour(kind: PoolKind, shade: usize) -> Rgb {
    let shades: [Rgb; 3] = match kind {
        PoolKind::LoopLvm => [Rgb(31, 119, 180), Rgb(18, 70, 110), Rgb(120, 175, 220)],
        PoolKind::DirectLvm => [Rgb(255, 127, 14), Rgb(166, 78, 0), Rgb(255, 187, 120)],
    };
    shades[shade % shades.len()]
}

/// `c` mixed with white: `f` = 0 is `c`, 1 is white.
pub(crate) fn tint(c: Rgb, f: f64) -> Rgb {
    let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * f).round() as u8;
    Rgb(m(c.0), m(c.1), m(c.2))
}

/// Mode changes and exhaustion.
pub(crate) const ALERT: Rgb = Rgb(200, 30, 30);
/// Fault windows: a light amber behind the curves.
pub(crate) const FAULT: Rgb = Rgb(240, 170, 40);
/// Low water mark line and events.
pub(crate) const LWM: Rgb = Rgb(70, 70, 70);
/// Docker's min_free_space line.
pub(crate) const MIN_FREE: Rgb = Rgb(128, 60, 160);

/// What to draw.
#[derive(Debug, Clone)]
pub(crate) enum PlotSpec {
    /// Percent over time with annotations.
    Timeline(TimelinePlot),
    /// Values at categorical x, log y, one line per series.
    Curve(CurvePlot),
    /// Grouped bars in stacked panels.
    Bars(BarsPlot),
}

/// A usage-over-time plot.
#[derive(Debug, Clone)]
pub(crate) struct TimelinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub lines: Vec<Line>,
    /// Step starts: x and label.
    pub steps: Vec<(f64, String)>,
    pub vmarks: Vec<VMark>,
    pub hlines: Vec<HLine>,
    pub points: Vec<PointMark>,
    /// Shaded spans (faults in force): from, to, label.
    pub bands: Vec<(f64, f64, String)>,
}

/// A line series.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub label: String,
    pub colour: Rgb,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A vertical event line.
#[derive(Debug, Clone)]
pub(crate) struct VMark {
    pub x: f64,
    pub label: String,
    pub colour: Rgb,
}

/// A horizontal threshold line.
#[derive(Debug, Clone)]
pub(crate) struct HLine {
    pub y: f64,
    pub label: String,
    pub colour: Rgb,
}

/// A marked point.
#[derive(Debug, Clone)]
pub(crate) struct PointMark {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub colour: Rgb,
}

/// A categorical curve plot (log y).
#[derive(Debug, Clone)]
pub(crate) struct CurvePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
}

/// Values per category.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub label: String,
    pub colour: Rgb,
    pub values: Vec<Option<f64>>,
}

/// Grouped bars, one or more panels stacked vertically.
#[derive(Debug, Clone)]
pub(crate) struct BarsPlot {
    pub title: String,
    pub panels: Vec<BarPanel>,
}

/// One panel of grouped bars.
#[derive(Debug, Clone)]
pub(crate) struct BarPanel {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Text above a category, in the alert colour (e.g. a model mismatch).
    pub flags: Vec<(usize, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_per_kind() {
        assert_eq!(pool_colour(PoolKind::LoopLvm, 0).css(), "#1f77b4");
        assert_eq!(pool_colour(PoolKind::DirectLvm, 0).css(), "#ff7f0e");
        assert_ne!(
            pool_colour(PoolKind::LoopLvm, 1),
            pool_colour(PoolKind::LoopLvm, 0)
        );
        assert_eq!(tint(Rgb(0, 0, 0), 1.0), Rgb(255, 255, 255));
    }
}

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

/// Where the pool was out of service or IO was held, behind the curves.
pub(crate) const HELD: Rgb = Rgb(215, 40, 40);
/// Spans without a usable reading of the pool.
pub(crate) const DOWN: Rgb = Rgb(120, 120, 120);

/// What to draw.
#[derive(Debug, Clone)]
pub(crate) enum PlotSpec {
    /// Percent over time with annotations.
    Timeline(TimelinePlot),
    /// Latency percentiles on a "nines" x axis, log y, one line per series.
    Latency(LatencyPlot),
    /// Grouped bars in stacked panels.
    Bars(BarsPlot),
    /// Grouped bars of amounts that can also be given back (blocks allocated and
    /// returned): a negative value is drawn below zero and labelled by its size, the
    /// panel's y label saying what each side of zero is.
    Ledger(BarsPlot),
}

/// A usage-over-time plot.
#[derive(Debug, Clone)]
pub(crate) struct TimelinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub lines: Vec<Line>,
    /// Step starts.
    pub steps: Vec<StepMark>,
    pub vmarks: Vec<VMark>,
    pub hlines: Vec<HLine>,
    pub points: Vec<PointMark>,
    /// Shaded spans: faults in force, IO held, the pool down or unread.
    pub bands: Vec<Band>,
}

/// A line series, drawn as its segments: a gap in the readings is a gap in the line,
/// not a straight line across it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub label: String,
    pub colour: Rgb,
    pub dashed: bool,
    pub segments: Vec<Vec<(f64, f64)>>,
}

/// A step's start on a timeline.
#[derive(Debug, Clone)]
pub(crate) struct StepMark {
    pub x: f64,
    pub index: usize,
    pub name: String,
}

impl StepMark {
    /// `#3 delete-discard`.
    pub fn full(&self) -> String {
        format!("#{} {}", self.index, self.name)
    }
    /// `#3`, when the name does not fit (the by-step table names it).
    pub fn short(&self) -> String {
        format!("#{}", self.index)
    }
}

/// What a shaded span of a timeline means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BandKind {
    /// A fault layer in force.
    Fault,
    /// The pool out of data space with IO queued (`queue_if_no_space`): writes wait.
    Held,
    /// The pool out of data space failing writes (`error_if_no_space`).
    NoSpace,
    /// The pool read-only.
    ReadOnly,
    /// The pool failed, or not read at all (no samples).
    Down,
}

impl BandKind {
    pub fn colour(self) -> Rgb {
        match self {
            BandKind::Fault => FAULT,
            BandKind::Held | BandKind::NoSpace => HELD,
            BandKind::ReadOnly => MIN_FREE,
            BandKind::Down => DOWN,
        }
    }
    /// How opaque its shading is.
    pub fn alpha(self) -> f64 {
        match self {
            BandKind::Fault => 0.18,
            BandKind::Held | BandKind::NoSpace => 0.12,
            BandKind::ReadOnly => 0.12,
            BandKind::Down => 0.2,
        }
    }
    /// Its legend entry.
    pub fn legend(self) -> &'static str {
        match self {
            BandKind::Fault => "fault layer in force",
            BandKind::Held => "IO held: pool out of data space (queue_if_no_space)",
            BandKind::NoSpace => "pool out of data space (writes fail)",
            BandKind::ReadOnly => "pool read-only",
            BandKind::Down => "pool failed or not read (no samples)",
        }
    }
}

/// A shaded span of a timeline.
#[derive(Debug, Clone)]
pub(crate) struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
    pub kind: BandKind,
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

/// Latency distributions: x is "nines" (`-log10(1 - p)`: p90 at 1, p99 at 2, p99.9
/// at 3), y is latency on a log scale.
#[derive(Debug, Clone)]
pub(crate) struct LatencyPlot {
    pub title: String,
    pub series: Vec<LatencySeries>,
    /// Why points are marked as held IO (legend text), when any is.
    pub held_note: Option<String>,
}

/// One pool's distribution.
#[derive(Debug, Clone)]
pub(crate) struct LatencySeries {
    pub label: String,
    pub colour: Rgb,
    pub points: Vec<LatencyPoint>,
}

/// One recorded point of a distribution.
#[derive(Debug, Clone)]
pub(crate) struct LatencyPoint {
    /// Its x: `-log10(1 - p)`; the maximum at `log10(IOs)`.
    pub nines: f64,
    pub ns: f64,
    /// The largest latency (drawn with its own marker).
    pub max: bool,
    /// Includes IO the pool held (a fill, out of space, a fault in force).
    pub held: bool,
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

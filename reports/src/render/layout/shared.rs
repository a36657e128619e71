//! Words and cells more than one section uses: statuses, "better" directions, metric
//! kinds, figure values, and pool ids in first-seen order.

use crate::render::document::{Cell, Tone};
use thinbench_schema::format;
use thinbench_schema::record::{Better, MetricKind, Status};

/// The note shown whenever a run ran under qemu TCG.
pub(crate) const TCG_NOTE: &str =
    "Timings under TCG are emulated: compare them only within the same environment.";

pub(super) fn status_cell(s: Status) -> Cell {
    let tone = match s {
        Status::Passed => Tone::Good,
        Status::Skipped => Tone::Warn,
        Status::Failed | Status::Incomplete => Tone::Bad,
    };
    Cell::text(status_str(s)).tone(tone)
}

pub(crate) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Incomplete => "incomplete",
    }
}

pub(super) fn better_str(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
        Better::Neither => "neither",
    }
}

pub(super) fn kind_str(k: MetricKind) -> &'static str {
    match k {
        MetricKind::Exact => "exact",
        MetricKind::Timing => "timing",
    }
}

pub(super) fn na() -> String {
    "n/a".into()
}

/// Distinct pool ids in first-seen order.
pub(super) fn pools_in(ids: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v = Vec::new();
    for i in ids {
        if !v.contains(&i) {
            v.push(i);
        }
    }
    v
}

pub(super) fn fig_value(v: f64, unit: &str) -> String {
    match unit {
        "IOPS" | "iops" | "MB/s" => format::sig3(v),
        u => format::metric_value(v, u),
    }
}

//! Words and cells more than one section uses: statuses, "better" directions, metric
//! kinds, figure values with the unit they are shown in, which metrics are the harness's
//! own cost, and pool ids in first-seen order.

use crate::render::document::{Cell, Tone};
use crate::run_info::RunInfo;
use thinbench_schema::format;
use thinbench_schema::record::{Better, MetricKind, Status};

/// The note shown whenever a run ran under qemu TCG.
pub(crate) const TCG_NOTE: &str =
    "Timings under TCG are emulated: compare them only within the same environment.";

/// The notes on the timings of these runs: each instruction-clock label once ("Timings:
/// instruction clock (emulated): …"), and [`TCG_NOTE`] when a run was on TCG's wall clock.
pub(crate) fn timing_notes<'a>(runs: impl IntoIterator<Item = &'a RunInfo>) -> Vec<String> {
    let mut notes = Vec::new();
    let mut tcg_wall = false;
    for r in runs {
        match r.clock_label() {
            Some(l) => {
                let n = format!(
                    "Timings: {l}. They count the guest kernel's and thinbench's instructions, not a device: compare them only with runs on the same clock and kernel."
                );
                if !notes.contains(&n) {
                    notes.push(n);
                }
            }
            None => tcg_wall |= r.is_tcg(),
        }
    }
    if tcg_wall {
        notes.push(TCG_NOTE.to_owned());
    }
    notes
}

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
        u => metric_text(v, u),
    }
}

/// A metric's value as tables show it: [`format::metric_value`] (bytes in IEC units, ns in
/// µs or ms, ms in ms or s), except that a `bool` reads `true`/`false`, not `1 bool`.
pub(super) fn metric_text(v: f64, unit: &str) -> String {
    match unit {
        "bool" if v == 0.0 => "false".into(),
        "bool" if v == 1.0 => "true".into(),
        u => format::metric_value(v, u),
    }
}

/// The unit `text` (made by [`metric_text`] from a value in `unit`) is in: `ms` for
/// `5.91 ms` made from ns, `MiB` for bytes, `%`; the recorded unit when the text carries
/// none (`count`, `ratio`, `bool`). A unit column filled from this matches its value.
pub(super) fn shown_unit(text: &str, unit: &str) -> String {
    if text.ends_with('%') {
        return "%".into();
    }
    match text.rsplit_once(' ') {
        Some((_, u)) => u.to_owned(),
        None => unit.to_owned(),
    }
}

/// Metric name prefixes that measure thinbench itself, not the pool: the `thin_ls`
/// cross-check after each model-checked step (`oracle.`) and the status sampler's cost
/// (`sampling.`), as the runner names them (harness/src/runner/step.rs,
/// actions/io.rs). The gate's Markdown keeps the same list (gate/src/render/markdown.rs).
pub(super) const HARNESS_COST_PREFIXES: [&str; 2] = ["oracle.", "sampling."];

/// Whether a metric is the harness's own cost: shown in its own table, never judged
/// better or worse.
pub(super) fn is_harness_cost(name: &str) -> bool {
    HARNESS_COST_PREFIXES.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_column_follows_the_value_shown() {
        for (v, unit, text, shown) in [
            (5_910_527.0, "ns", "5.91 ms", "ms"),
            (939_519.0, "ns", "940 µs", "µs"),
            (319_356_928.0, "bytes", "305 MiB", "MiB"),
            (512.0, "bytes", "512 B", "B"),
            (12_000.0, "ms", "12 s", "s"),
            (8100.0, "ms", "8100 ms", "ms"),
            (3.0, "count", "3", "count"),
            (1.0, "bool", "true", "bool"),
            (0.0, "bool", "false", "bool"),
            (2.0, "bool", "2 bool", "bool"),
            (12.5, "%", "12.5%", "%"),
            (12.0, "blocks", "12 blocks", "blocks"),
        ] {
            let t = metric_text(v, unit);
            assert_eq!((t.as_str(), shown_unit(&t, unit).as_str()), (text, shown));
        }
    }

    #[test]
    fn harness_cost_is_oracle_and_sampling() {
        assert!(is_harness_cost("oracle.thin_ls_ms"));
        assert!(is_harness_cost("sampling.cost_pct"));
        assert!(!is_harness_cost("space.pool_blocks_returned"));
        assert!(!is_harness_cost("peer.oracle.x"));
    }
}

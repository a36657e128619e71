//! A step whose pool lvm autoextended while it wrote (a `fill` with `autoextend`): lvm
//! grows the pool by the profile's percent or, when that would leave usage at or above the
//! threshold as lvm reads it then, by enough to get below it (960 → 1152 blocks in one run
//! of the default scenario, 960 → 1184 in the next, the writer having written on while
//! lvm ran). How much the step wrote, allocated and mapped therefore depends on when lvm
//! looked: those figures are compared as varying, not exact, by `compare`, the kernel
//! report and the gate alike. What happened (errors, how many extensions, the mode) stays
//! exact.

use crate::record::{MetricKind, StepResult};

/// The figure that says a step's pool was autoextended, and by how many blocks.
pub const BLOCKS_ADDED: &str = "fill.autoextend_blocks_added";

/// Whether lvm grew the step's pool while it ran.
pub fn sized_by_lvm(step: &StepResult) -> bool {
    step.metrics
        .iter()
        .any(|m| m.name == BLOCKS_ADDED && m.value > 0.0)
}

/// Exact figures that stay exact in such a step: counts of what happened, not of how
/// much.
fn stays_exact(figure: &str) -> bool {
    figure.ends_with("errors")
        || figure.starts_with("fill.autoextend_by_")
        || figure.starts_with("fill.autoextend_failed")
        || figure == "fill.recovered"
        || figure == "fill.low_water_mark_events"
}

/// The kind to compare `figure` of a step as: `kind`, or timing for an exact figure
/// of a step lvm autoextended (`sized`) that measures how much.
pub fn kind_in_step(sized: bool, figure: &str, kind: MetricKind) -> MetricKind {
    if sized && kind == MetricKind::Exact && !stays_exact(figure) {
        MetricKind::Timing
    } else {
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_much_varies_what_happened_does_not() {
        use MetricKind::{Exact, Timing};
        assert_eq!(kind_in_step(true, "workload.bytes", Exact), Timing);
        assert_eq!(kind_in_step(true, "data_blocks_allocated", Exact), Timing);
        assert_eq!(kind_in_step(true, "io.data.writes", Exact), Timing);
        assert_eq!(kind_in_step(true, "workload.errors", Exact), Exact);
        assert_eq!(
            kind_in_step(true, "fill.autoextend_by_dmeventd", Exact),
            Exact
        );
        assert_eq!(kind_in_step(false, "workload.bytes", Exact), Exact);
    }
}

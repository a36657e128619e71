//! The power-cut actions: `reboot` (down and up again, repairing damaged metadata if
//! asked) and `replay` (the log-writes log replayed, the points it checks).

use super::Checker;
use crate::scenario::raw::{Field, IntOrText, RawStep};
use crate::spec::{RebootSpec, ReplayPoints, ReplaySpec};
use serde_spanned::Spanned;

/// Replay points a `replay` step may check.
const MAX_REPLAY_POINTS: i64 = 100_000;

impl Checker {
    /// `reboot` settings.
    pub(super) fn reboot(&self, s: &RawStep) -> Option<RebootSpec> {
        let repair = match &s.repair {
            Field::Absent => Some(false),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => Some(*value.get_ref()),
        };
        repair.map(|repair| RebootSpec { repair })
    }

    /// `replay` settings: which points of the log to check.
    pub(super) fn replay(&mut self, s: &RawStep) -> Option<ReplaySpec> {
        let points = match &s.points {
            Field::Absent => Some(ReplayPoints::All),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => match value.get_ref() {
                IntOrText::Text(t) if t == "all" => Some(ReplayPoints::All),
                IntOrText::Int(_) => self
                    .int_value(
                        "points",
                        &Spanned::new(
                            value.span(),
                            match value.get_ref() {
                                IntOrText::Int(i) => *i,
                                IntOrText::Text(_) => 0,
                            },
                        ),
                        (1, MAX_REPLAY_POINTS),
                        None,
                    )
                    .map(|n| ReplayPoints::Sampled(n as u32)),
                IntOrText::Text(t) => {
                    self.err_hint(
                        value.span(),
                        format!("invalid `points` \"{t}\""),
                        "\"all\" (every FUA write and mark) or an integer (that many, evenly spread, the last among them)",
                    );
                    None
                }
            },
        };
        points.map(|points| ReplaySpec { points })
    }
}

//! The power-cut actions: `reboot` (down and up again, repairing damaged metadata if
//! asked) and `replay` (the log-writes log replayed, the points it checks).

use super::walk::Effect;
use super::Checker;
use crate::errors::Kind;
use crate::scenario::raw::{Field, IntOrText, RawStep};
use crate::scenario::Diagnostic;
use crate::spec::{RebootSpec, ReplayPoints, ReplaySpec};
use serde_spanned::Spanned;
use thinbench_schema::record::PoolKind;

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

    /// What a `reboot` cannot do on a direct-lvm pool: `repair = true` (lvm's repair is
    /// `lvconvert --repair` into the pool's spare metadata LV, not done yet).
    pub(super) fn reboot_effect(&self, s: &RawStep) -> Effect {
        match (&s.repair, s.repair.key()) {
            (Field::Given { value, .. }, Some(span)) if *value.get_ref() => Effect::NotOn {
                kind: PoolKind::DirectLvm,
                why: Diagnostic::new(
                    span,
                    "not yet: `repair = true` in a reboot of a direct-lvm pool: lvm repairs with `lvconvert --repair` (thin_repair into its spare metadata LV), not done",
                )
                .with_hint("run the step on loop-lvm pools only (`pools = [...]`), or drop `repair` (a reboot whose thin_check fails then fails)"),
                fails_as: Kind::Unsupported,
            },
            _ => Effect::Nothing,
        }
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

//! What a filesystem step's filesystem is on: `thin` or `device` (a device of the case,
//! `create-device`), exactly one.

use super::actions::ActionKind;
use super::Checker;
use crate::scenario::raw::{Field, RawStep};
use crate::spec::FsTarget;
use serde_spanned::Spanned;

impl Checker {
    /// The target, and its name as written with whether it is a device (for the walk).
    #[allow(clippy::type_complexity)]
    pub(super) fn fs_on(
        &mut self,
        s: &RawStep,
        kind: ActionKind,
    ) -> (Option<FsTarget>, Option<(Spanned<String>, bool)>) {
        match (&s.device, s.thin.value()) {
            (Field::Given { value: d, .. }, Some(_)) => {
                self.err_hint(
                    d.span(),
                    format!("{} step has both `thin` and `device`", kind.name()),
                    "a filesystem is on one of them: give a thin, or a device of the case",
                );
                (None, None)
            }
            (Field::Given { value: d, .. }, None) => (
                self.ident(d, "device name").map(FsTarget::Device),
                Some((d.clone(), true)),
            ),
            (Field::Invalid { .. }, _) => (None, None),
            (Field::Absent, _) => {
                let (t, raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                (t.map(FsTarget::Thin), raw.map(|r| (r, false)))
            }
        }
    }
}

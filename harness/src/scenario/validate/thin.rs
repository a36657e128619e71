//! Thin names and ids as steps give them, and the steps that make and delete thins
//! (create-thin, snapshot, delete-thin).

use super::actions::ActionKind;
use super::walk::Effect;
use super::{Checker, GIB, THIN_SIZE};
use crate::scenario::raw::{Field, RawStep, Span};
use crate::spec::Action;
use serde_spanned::Spanned;
use thinbench_schema::ids::{Ident, ThinId};

/// Docker's base device size.
const DOCKER_BASE_SIZE: u64 = 10 * GIB;

impl Checker {
    /// The thin a step names in `key`; reported when missing. Only a name that
    /// `defines` a thin is checked as an identifier: a reference to a bad name is
    /// reported either at its definition or, if there is none, by the walk.
    pub(super) fn thin_name(
        &mut self,
        f: &Field<String>,
        table: &Span,
        action: ActionKind,
        key: &str,
        defines: bool,
    ) -> (Option<Ident>, Option<Spanned<String>>) {
        let v = self.required(
            f,
            table,
            &format!("{} step has no `{key}`", action.name()),
            &format!("add `{key} = \"...\"`, the name of a thin device"),
        );
        match v {
            Some(v) if defines => (self.ident(v, "thin name"), Some(v.clone())),
            Some(v) => (Ident::new(v.get_ref()).ok(), Some(v.clone())),
            None => (None, None),
        }
    }

    fn thin_id(&mut self, f: &Field<i64>) -> (Option<Option<ThinId>>, Option<Spanned<u32>>) {
        match f {
            Field::Absent => (Some(None), None),
            Field::Invalid { .. } => (None, None),
            Field::Given { value, .. } => {
                let id = u64::try_from(*value.get_ref())
                    .map_err(|_| "thin ids are not negative".to_owned())
                    .and_then(ThinId::new);
                match id {
                    Ok(id) => (Some(Some(id)), Some(Spanned::new(value.span(), id.get()))),
                    Err(e) => {
                        self.err_hint(
                            value.span(),
                            format!("invalid `id`: {e}"),
                            "leave `id` out to use the pool's next free id",
                        );
                        (None, None)
                    }
                }
            }
        }
    }

    /// `create-thin`: a new thin of `size`, with `id` or the one the pool hands out.
    pub(super) fn create_thin(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let kind = ActionKind::CreateThin;
        let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", true);
        let size = self.size("size", &s.size, DOCKER_BASE_SIZE, &THIN_SIZE);
        let (id, id_raw) = self.thin_id(&s.id);
        let origin = match s.external_origin.value() {
            None => Some(None),
            Some(v) => self.ident(v, "device name").map(Some),
        };
        let action = match (thin, id, size, origin) {
            (Some(thin), Some(id), Some(size), Some(external_origin)) => Some(Action::CreateThin {
                thin,
                id,
                size,
                external_origin,
            }),
            _ => None,
        };
        let effect = Effect::Create {
            thin: thin_raw,
            size,
            id: id_raw,
        };
        let effect = match s.external_origin.value() {
            Some(device) => Effect::Many(vec![
                Effect::UseDevice {
                    device: device.clone(),
                    external_origin: true,
                },
                effect,
            ]),
            None => effect,
        };
        (action, effect)
    }

    /// `snapshot`: a new thin sharing `origin`'s blocks (and size).
    pub(super) fn snapshot(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let kind = ActionKind::Snapshot;
        let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", true);
        let (origin, origin_raw) = self.thin_name(&s.origin, &s.table, kind, "origin", false);
        let (id, id_raw) = self.thin_id(&s.id);
        let action = match (thin, origin, id) {
            (Some(thin), Some(origin), Some(id)) => Some(Action::Snapshot { thin, origin, id }),
            _ => None,
        };
        let effect = Effect::Snapshot {
            thin: thin_raw,
            origin: origin_raw,
            id: id_raw,
        };
        (action, effect)
    }

    /// `delete-thin`: the thin named, which must exist.
    pub(super) fn delete_thin(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let kind = ActionKind::DeleteThin;
        let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
        (
            thin.map(|thin| Action::DeleteThin { thin }),
            Effect::Delete { thin: thin_raw },
        )
    }
}

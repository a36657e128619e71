//! `create-device` with `over`: a device over thins of the case instead of scratch
//! files (the peer's `striped_on_thin`). `linear` is over one thin, `striped` over one
//! thin a stripe (`stripes`, if given, says how many); the walk checks that each thin
//! exists with a device and holds its share (`walk/device.rs`).

use super::Checker;
use crate::scenario::raw::{Field, RawStep};
use thinbench_schema::ids::Ident;

impl Checker {
    /// The thins of `over`, in order (empty without the key); `None` when invalid
    /// (reported). `striped`: the step's kind, when valid.
    pub(super) fn device_over(&mut self, s: &RawStep, striped: Option<bool>) -> Option<Vec<Ident>> {
        let value = match &s.over {
            Field::Absent => return Some(Vec::new()),
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => value,
        };
        let names = value.get_ref();
        let mut out: Vec<Ident> = Vec::new();
        let mut ok = true;
        for n in names {
            match Ident::new(n.get_ref()) {
                Ok(i) if out.contains(&i) => {
                    self.err_hint(
                        n.span(),
                        format!("thin `{i}` is named twice in `over`"),
                        "a thin is under a device once: give each stripe a thin of its own",
                    );
                    ok = false;
                }
                Ok(i) => out.push(i),
                Err(e) => {
                    self.err(n.span(), format!("invalid thin name in `over`: {e}"));
                    ok = false;
                }
            }
        }
        let at = value.span();
        match (striped, names.len()) {
            (_, 0) => {
                self.err_hint(
                    at,
                    "`over` is empty",
                    "name the thins the device is made over, or leave `over` out for scratch files",
                );
                ok = false;
            }
            (Some(false), n) if n != 1 => {
                self.err_hint(
                    at,
                    format!("a linear device is over one thin, and `over` names {n}"),
                    "give one thin, or make the device `kind = \"striped\"` across them",
                );
                ok = false;
            }
            (Some(true), n) if !(2..=8).contains(&n) => {
                self.err_hint(
                    at,
                    format!(
                        "a striped device is over 2 to 8 thins, one a stripe, and `over` names {n}"
                    ),
                    "name 2 to 8 thins",
                );
                ok = false;
            }
            (Some(true), n) => {
                if let Some(v) = s.stripes.value().filter(|v| *v.get_ref() != n as i64) {
                    self.err_hint(
                        v.span(),
                        format!("`stripes` is {} and `over` names {n} thins", v.get_ref()),
                        "a device over thins has one stripe a thin: leave `stripes` out",
                    );
                    ok = false;
                }
            }
            _ => {}
        }
        ok.then_some(out)
    }
}

impl Checker {
    /// `over_device` and `over_pool`: `(device, pool)`, or `None` when invalid
    /// (reported). At most one of `over`, `over_device` and `over_pool`; the last two
    /// for a linear device only.
    pub(super) fn device_under(
        &mut self,
        s: &RawStep,
        striped: Option<bool>,
    ) -> Option<(Option<Ident>, bool)> {
        let pool = s.over_pool.value().is_some_and(|v| *v.get_ref());
        let mut ok = !matches!(s.over_device, Field::Invalid { .. });
        let given: Vec<(&str, crate::scenario::raw::Span)> = [
            ("over", s.over.key()),
            ("over_device", s.over_device.key()),
            ("over_pool", s.over_pool.key().filter(|_| pool)),
        ]
        .into_iter()
        .filter_map(|(k, at)| at.map(|a| (k, a)))
        .collect();
        if let [(first, _), (second, at), ..] = given.as_slice() {
            self.err_hint(
                at.clone(),
                format!("`{first}` and `{second}` both say what the device is made over"),
                "give one of `over` (thins), `over_device` (a device of the case) and `over_pool`",
            );
            ok = false;
        }
        for (key, at) in [
            ("over_device", s.over_device.key()),
            ("over_pool", s.over_pool.key().filter(|_| pool)),
        ] {
            if let (Some(true), Some(at)) = (striped, at) {
                self.err_hint(
                    at,
                    format!("`{key}` makes a linear device, and this one is striped"),
                    "leave `kind` out (linear), or stripe over thins with `over`",
                );
                ok = false;
            }
        }
        let device = match s.over_device.value() {
            Some(v) => match Ident::new(v.get_ref()) {
                Ok(i) => Some(i),
                Err(e) => {
                    self.err(
                        v.span(),
                        format!("invalid device name in `over_device`: {e}"),
                    );
                    return None;
                }
            },
            None => None,
        };
        ok.then_some((device, pool))
    }
}

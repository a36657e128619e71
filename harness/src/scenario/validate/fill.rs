//! `fill` steps: write until the pool runs out of data space, then how it recovers
//! (`recover`: none, grow, delete-thin).

use super::actions::ActionKind;
use super::{Checker, GROW_BY, IO_SIZE, THIN_SIZE};
use crate::scenario::raw::{Field, RawStep};
use crate::spec::{FillSpec, Recover};
use serde_spanned::Spanned;
use std::time::Duration;
use thinbench_schema::ids::Ident;

impl Checker {
    /// `fill` settings.
    pub(super) fn fill(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<FillSpec>, Option<Ident>, Option<Spanned<String>>) {
        let io_size = self.size("io_size", &s.io_size, 64 * 1024, &IO_SIZE);
        let bytes = match &s.bytes {
            Field::Absent => Some(None),
            _ => self.size("bytes", &s.bytes, 0, &THIN_SIZE).map(Some),
        };
        let hold = self
            .duration("hold", &s.hold, (Duration::ZERO, Duration::from_secs(3600)))
            .map(|d| d.unwrap_or(Duration::from_secs(2)));
        let error_within = self.duration(
            "error_within",
            &s.error_within,
            (Duration::ZERO, Duration::from_secs(3600)),
        );
        let autoextend = s.autoextend.value().is_some_and(|v| *v.get_ref());
        let (mut victim, mut victim_raw) = (None, None);
        let recover = match s.recover.value().map(|v| (v.span(), v.get_ref().as_str())) {
            None | Some((_, "none")) => {
                if let Some(k) = s.grow_by.key().or(s.delete.key()) {
                    self.err_hint(
                        k,
                        "`grow_by` and `delete` need a `recover` method",
                        "add `recover = \"grow\"` or `recover = \"delete-thin\"`",
                    );
                    None
                } else {
                    Some(Recover::None)
                }
            }
            Some((_, "grow")) => match &s.grow_by {
                Field::Absent => {
                    self.err_hint(
                        s.recover.key().unwrap_or(s.table.clone()),
                        "`recover = \"grow\"` needs `grow_by`",
                        "e.g. `grow_by = \"64MiB\"`",
                    );
                    None
                }
                f => self
                    .size("grow_by", f, 0, &GROW_BY)
                    .map(|by| Recover::Grow { by }),
            },
            Some((_, "delete-thin")) => {
                let (v, raw) =
                    self.thin_name(&s.delete, &s.table, ActionKind::Fill, "delete", false);
                victim_raw = raw;
                victim = v.clone();
                if v.is_none() && !s.delete.is_present() {
                    self.err_hint(
                        s.recover.key().unwrap_or(s.table.clone()),
                        "`recover = \"delete-thin\"` needs `delete`, the thin to delete",
                        "e.g. `delete = \"other\"`",
                    );
                }
                v.map(|thin| Recover::DeleteThin { thin })
            }
            Some((span, other)) => {
                self.err_hint(
                    span,
                    format!("unknown `recover` method \"{other}\""),
                    "use \"none\", \"grow\" or \"delete-thin\"",
                );
                None
            }
        };
        let spec = match (thin, io_size, bytes, hold, error_within, recover) {
            (
                Some(thin),
                Some(io_size),
                Some(bytes),
                Some(hold),
                Some(error_within),
                Some(recover),
            ) => Some(FillSpec {
                thin,
                io_size,
                bytes,
                recover,
                hold,
                error_within,
                autoextend,
            }),
            _ => None,
        };
        let _ = victim;
        (spec, None, victim_raw)
    }
}

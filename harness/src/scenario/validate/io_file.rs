//! `io` with `path`: fio on a file of a mounted filesystem (the peer's `fio_thin_*` and
//! `fio_thick`), on a thin or a device of the case. fio lays the file out (`span`
//! bytes, or its job's `size`) and it is removed after, so the file model is unchanged;
//! the walk needs the filesystem mounted, as `file` does.

use super::actions::ActionKind;
use super::walk::{Effect, FsEffect};
use super::Checker;
use crate::scenario::raw::RawStep;
use crate::spec::{Action, IoEngineSpec, IoTarget};
use serde_spanned::Spanned;

impl Checker {
    pub(super) fn io_file(
        &mut self,
        s: &RawStep,
        kind: ActionKind,
        p: &Spanned<String>,
    ) -> (Option<Action>, Effect) {
        let (on, on_raw) = self.fs_on(s, kind);
        let path = match super::fs::path_problem(p.get_ref()) {
            None => Some(p.get_ref().clone()),
            Some(why) => {
                self.err_hint(
                    p.span(),
                    format!("`path` {why}"),
                    "give a path relative to the filesystem's root, like \"fio.dat\"",
                );
                None
            }
        };
        let fio = s
            .engine
            .value()
            .is_some_and(|e| e.get_ref().as_str() == "fio");
        if !fio {
            self.err_hint(
                s.engine.key().unwrap_or(p.span()),
                "`path` (a file of a filesystem) is for `engine = \"fio\"`",
                "add `engine = \"fio\"`: fio lays the file out; thinbench's engine does IO to a device",
            );
        }
        let given_job = s.job.is_present() || s.job_file.is_present();
        if let (false, None) = (given_job, s.span.key()) {
            self.err_hint(
                p.span(),
                "fio on a file needs `span`, the file's size",
                "add `span = \"16MiB\"` (fio lays the file out that big)",
            );
        }
        if let Some(at) = s.offset.key() {
            self.err_hint(
                at,
                "`offset` is a device's: fio's file starts at its own byte 0",
                "leave `offset` out",
            );
        }
        let target = match (on, path) {
            (Some(on), Some(path)) => Some(IoTarget::File { on, path }),
            _ => None,
        };
        let (spec, _) = self.io(s, target);
        let spec = spec.filter(|sp| !matches!(sp.engine, IoEngineSpec::Thinbench(_)));
        let effect = match on_raw {
            Some((t, false)) => Effect::Fs {
                thin: t,
                op: FsEffect::Mounted,
            },
            Some((d, true)) => Effect::FsDevice {
                device: d,
                op: FsEffect::Mounted,
            },
            None => Effect::Nothing,
        };
        (spec.map(Action::Io), effect)
    }
}

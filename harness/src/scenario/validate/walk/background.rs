//! The walk of background filesystem writes and of `await_mode`: several background
//! `file` writes may share one mounted filesystem (each its own file); nothing else
//! names a thin a background step writes; a step awaiting a pool mode needs IO in
//! flight to get the pool there; a foreground write cannot count "chunks-touched" while
//! a background one allocates beside it.

use super::{Facts, FsEffect, PoolWalk};
use crate::scenario::raw::Span;
use crate::scenario::Diagnostic;
use serde_spanned::Spanned;

impl<'a> PoolWalk<'a> {
    /// A background `file` write of `path` on thin `t`.
    pub(super) fn background_file(
        &mut self,
        f: &'a Facts,
        t: &'a Spanned<String>,
        path: Option<&'a str>,
    ) {
        let name = t.get_ref().as_str();
        let mut clash: Vec<(String, String)> = Vec::new();
        for (step, (thin, _)) in &self.in_flight {
            if thin.get_ref() != name {
                continue;
            }
            match self.files_in_flight.get(step) {
                // Another file of the same filesystem: the file model keeps them apart.
                Some((_, p)) if Some(*p) != path => {}
                Some((_, p)) => clash.push((
                    (*step).to_owned(),
                    format!("writes file `{p}` of thin `{name}` too"),
                )),
                None => clash.push((
                    (*step).to_owned(),
                    format!("writes thin `{name}` below its filesystem"),
                )),
            }
        }
        clash.sort();
        for (step, what) in clash {
            let d = Diagnostic::new(
                t.span(),
                format!("background step `{step}` {what} until its `wait`"),
            )
            .with_hint(format!(
                "wait for it first (`action = \"wait\"`, `step = \"{step}\"`), or write another file: the file model would not know which write came last"
            ));
            self.report(f, d);
        }
        self.fs(f, t, &FsEffect::Mounted);
        if let Some(step) = f.name.as_deref() {
            self.in_flight.insert(step, (t, f.index));
            if let Some(p) = path {
                self.files_in_flight.insert(step, (name, p));
            }
        }
    }

    /// `await_mode`: only IO still in flight can change the pool's mode while the step
    /// waits.
    pub(super) fn await_mode(&mut self, f: &Facts, at: &Span) {
        if self.in_flight.is_empty() {
            let d = Diagnostic::new(
                at.clone(),
                "`await_mode` waits for a background step's IO to change the pool's mode, and no background step is in flight here",
            )
            .with_hint("start the IO first (`background = true` on an earlier write), or remove `await_mode`: nothing else would change the mode while the step waits");
            self.report(f, d);
        }
    }

    /// "chunks-touched" counts the step's own first touches; a background writer's
    /// allocations land in the same pool meanwhile.
    pub(super) fn chunks_touched_beside_background(&mut self, f: &Facts) {
        let (Some(at), Some(step)) = (&f.chunks_touched, self.in_flight.keys().min()) else {
            return;
        };
        let d = Diagnostic::new(
            at.clone(),
            format!("\"chunks-touched\" cannot be checked here: background step `{step}` allocates in the pool until its `wait`"),
        )
        .with_hint("the pool's change over this step is not this step's alone (the step's model check is skipped for it): expect nothing here, and check the pool at the wait");
        self.report(f, d);
    }
}

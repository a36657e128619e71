//! Background steps (`background = true` on a `small-write` or a `file` write), the
//! `wait` that ends each, and `await_mode`: the step's keys here, the order rules (a wait
//! names a background step in flight, nothing else touches its thin meanwhile, every one
//! is waited for) in the walk.

use super::walk::Effect;
use super::Checker;
use crate::scenario::raw::{Field, RawStep};
use crate::spec::Action;
use thinbench_schema::record::PoolMode;

impl Checker {
    /// `background`: whether the step runs in the background. Its results are its wait's,
    /// so it takes no `[step.expect]` of its own.
    pub(super) fn background(&mut self, s: &RawStep) -> bool {
        let on = s.background.value().is_some_and(|v| *v.get_ref());
        if let (true, Some(key)) = (on, s.expect.key()) {
            self.err_hint(
                key,
                "a background step has no expectations of its own",
                "its workload ends at its `wait` step: put the `[step.expect]` there",
            );
        }
        on
    }

    /// `await_mode`: the pool mode the step starts at (`Some(None)`: none), and the walk's
    /// effect when given.
    pub(super) fn await_mode(&mut self, s: &RawStep) -> (Option<Option<PoolMode>>, Option<Effect>) {
        let modes = [
            PoolMode::Rw,
            PoolMode::Ro,
            PoolMode::OutOfDataSpace,
            PoolMode::Fail,
            PoolMode::Error,
        ]
        .map(|m| (m.as_str(), m));
        match &s.await_mode {
            Field::Absent => (Some(None), None),
            Field::Invalid { .. } => (None, None),
            Field::Given { value, key } => {
                let effect = Effect::AwaitMode { at: key.clone() };
                (
                    self.choice("await_mode", value, &modes).map(Some),
                    Some(effect),
                )
            }
        }
    }

    /// `wait`: the background step it ends (checked against the steps by the walk).
    pub(super) fn wait(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let step = self.required(
            &s.step,
            &s.table,
            "wait step has no `step`",
            "add `step = \"...\"`, the name of an earlier step with `background = true`",
        );
        let Some(step) = step.cloned() else {
            return (None, Effect::Nothing);
        };
        let action = self
            .ident(&step, "step name")
            .map(|step| Action::Wait { step });
        (action, Effect::Wait { step })
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load_scenario_str;
    use std::path::Path;

    const POOL: &str = "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\ndata_size = \"64MiB\"\nmetadata_size = \"4MiB\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"32MiB\"\n[[step]]\naction = \"create-thin\"\nthin = \"u\"\nsize = \"32MiB\"\n";

    fn errors(steps: &str) -> Vec<String> {
        match load_scenario_str(Path::new("bg.toml"), &format!("{POOL}{steps}")) {
            Ok(_) => Vec::new(),
            Err(e) => e.errors.iter().map(|d| d.to_string()).collect(),
        }
    }

    const BG: &str = "[[step]]\nname = \"w\"\naction = \"small-write\"\nthin = \"t\"\ncount = 64\nbackground = true\n";

    #[test]
    fn a_background_step_and_its_wait_validate() {
        let ok = format!("{BG}[[step]]\naction = \"small-write\"\nthin = \"u\"\ncount = 8\n[[step]]\naction = \"wait\"\nstep = \"w\"\n[step.expect]\nerrors = 0\n");
        assert_eq!(errors(&ok), Vec::<String>::new());
    }

    #[test]
    fn a_background_step_never_waited_for_is_an_error_at_it() {
        let e = errors(BG);
        assert!(
            e.iter()
                .any(|d| d.contains("bg.toml:16:") && d.contains("never waited for")),
            "{e:?}"
        );
    }

    #[test]
    fn a_wait_must_name_a_background_step_in_flight() {
        let e = errors("[[step]]\nname = \"x\"\naction = \"small-write\"\nthin = \"t\"\ncount = 8\n[[step]]\naction = \"wait\"\nstep = \"x\"\n");
        assert!(
            e.iter()
                .any(|d| d.contains("bg.toml:22:") && d.contains("not a background step")),
            "{e:?}"
        );
        let e = errors(&format!("{BG}[[step]]\naction = \"wait\"\nstep = \"w\"\n[[step]]\naction = \"wait\"\nstep = \"w\"\n"));
        assert!(e.iter().any(|d| d.contains("already waited for")), "{e:?}");
    }

    #[test]
    fn nothing_touches_a_thin_a_background_step_writes() {
        let e = errors(&format!("{BG}[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n[[step]]\naction = \"wait\"\nstep = \"w\"\n"));
        assert!(
            e.iter()
                .any(|d| d.contains("bg.toml:24:") && d.contains("background step `w`")),
            "{e:?}"
        );
    }

    #[test]
    fn a_background_step_takes_no_expectations() {
        let e = errors(&format!(
            "{BG}[step.expect]\nerrors = 0\n[[step]]\naction = \"wait\"\nstep = \"w\"\n"
        ));
        assert!(
            e.iter().any(|d| d.contains("no expectations of its own")),
            "{e:?}"
        );
    }
}

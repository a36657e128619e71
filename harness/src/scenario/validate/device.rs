//! Devices of a case other than its pool and thins: `create-device` (a linear device of
//! stamped content), thins reading one as their external origin (`create-thin` with
//! `external_origin`), and `verify` (a thin's or a device's content read back). The walk
//! checks that a device exists before a step names it, and that external origins are
//! asked of loop-lvm pools only.

use super::actions::ActionKind;
use super::walk::Effect;
use super::{Checker, SizeRule, GIB, MIB};
use crate::scenario::raw::RawStep;
use crate::spec::{Action, CaseDeviceKind, CaseDeviceSpec, VerifyTarget};

const DEVICE_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 16 * GIB,
    multiple_of: 512,
    max_why: "a case device is written whole with stamps when it is made",
};

impl Checker {
    /// `create-device`: its name, kind and size.
    pub(super) fn create_device(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let raw = self.required(
            &s.device,
            &s.table,
            "create-device step has no `device`",
            "add `device = \"...\"`, the name later steps use",
        );
        let name_raw = raw.cloned();
        let name = raw.and_then(|v| self.ident(v, "device name"));
        let kind = self.choice_or(
            "kind",
            &s.kind,
            CaseDeviceKind::Linear,
            &[("linear", CaseDeviceKind::Linear)],
        );
        let size = self
            .required(
                &s.size,
                &s.table,
                "create-device step has no `size`",
                "add `size = \"16MiB\"`",
            )
            .is_some()
            .then(|| self.size("size", &s.size, 0, &DEVICE_SIZE))
            .flatten();
        let action = match (name, kind, size) {
            (Some(name), Some(kind), Some(size)) => {
                Some(Action::CreateDevice(CaseDeviceSpec { name, kind, size }))
            }
            _ => None,
        };
        let effect = match name_raw {
            Some(device) => Effect::CreateDevice { device },
            None => Effect::Nothing,
        };
        (action, effect)
    }

    /// `verify`: a thin or a device, exactly one.
    pub(super) fn verify(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        match (s.thin.value(), s.device.value()) {
            (Some(_), Some(d)) => {
                self.err_hint(
                    d.span(),
                    "verify step has both `thin` and `device`",
                    "a verify step reads one thing back: give one of them",
                );
                (None, Effect::Nothing)
            }
            (None, Some(d)) => (
                self.ident(d, "device name").map(|name| Action::Verify {
                    target: VerifyTarget::Device(name),
                }),
                Effect::UseDevice {
                    device: d.clone(),
                    external_origin: false,
                },
            ),
            _ => {
                let (thin, thin_raw) =
                    self.thin_name(&s.thin, &s.table, ActionKind::Verify, "thin", false);
                (
                    thin.map(|t| Action::Verify {
                        target: VerifyTarget::Thin(t),
                    }),
                    thin_raw.map_or(Effect::Nothing, |thin| Effect::Read { thin }),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load_scenario_str;
    use std::path::Path;

    fn errors(pool_kind: &str, steps: &str) -> Vec<String> {
        let text = format!(
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"{pool_kind}\"\n\
             [[step]]\naction = \"create-device\"\ndevice = \"ext\"\nsize = \"16MiB\"\n{steps}"
        );
        match load_scenario_str(Path::new("d.toml"), &text) {
            Ok(_) => Vec::new(),
            Err(e) => e.errors.iter().map(ToString::to_string).collect(),
        }
    }

    const THIN: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"32MiB\"\nexternal_origin = \"ext\"\n";

    #[test]
    fn a_thin_over_a_device_of_the_case_validates_on_loop_lvm() {
        let steps = format!("{THIN}[[step]]\naction = \"verify\"\nthin = \"t\"\n[[step]]\naction = \"verify\"\ndevice = \"ext\"\n");
        assert_eq!(errors("loop-lvm", &steps), Vec::<String>::new());
    }

    #[test]
    fn an_external_origin_on_direct_lvm_is_refused_at_the_key_saying_why() {
        let e = errors("direct-lvm", THIN);
        assert!(
            e.iter().any(|d| d.starts_with("d.toml:13:19:")
                && d.contains("external origins are for loop-lvm pools")
                && d.contains("lvconvert")),
            "{e:?}"
        );
    }

    #[test]
    fn a_device_is_made_before_it_is_named_and_once() {
        let e = errors(
            "loop-lvm",
            "[[step]]\naction = \"verify\"\ndevice = \"exr\"\n[[step]]\naction = \"create-device\"\ndevice = \"ext\"\nsize = \"1MiB\"\n",
        );
        assert!(
            e.iter().any(|d| d.starts_with("d.toml:11:10:")
                && d.contains("no device `exr`")
                && d.contains("did you mean `ext`?")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|d| d.starts_with("d.toml:14:10:") && d.contains("already made by")),
            "{e:?}"
        );
    }

    #[test]
    fn a_verify_reads_one_thing_and_a_device_has_a_size() {
        let e = errors(
            "loop-lvm",
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\n[[step]]\naction = \"verify\"\nthin = \"t\"\ndevice = \"ext\"\n[[step]]\naction = \"create-device\"\ndevice = \"other\"\n",
        );
        assert!(
            e.iter().any(|d| d.contains("both `thin` and `device`")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|d| d.contains("create-device step has no `size`")),
            "{e:?}"
        );
    }
}

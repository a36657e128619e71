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
use thinbench_schema::units::Bytes;

const STRIPE_SIZE: SizeRule = SizeRule {
    min: 4096,
    max: 64 * MIB,
    multiple_of: 4096,
    max_why: "a stripe is a piece of one device before the next",
};

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
        let striped = self.choice_or(
            "kind",
            &s.kind,
            false,
            &[("linear", false), ("striped", true)],
        );
        let over = self.device_over(s, striped);
        let under = self.device_under(s, striped);
        for (key, at) in [
            ("stripes", s.stripes.key()),
            ("stripe_size", s.stripe_size.key()),
        ] {
            if let (Some(false), Some(at)) = (striped, at) {
                self.err_hint(
                    at,
                    format!("`{key}` is for striped devices"),
                    "add `kind = \"striped\"`, or remove it",
                );
            }
        }
        let kind = match striped {
            None => None,
            Some(false) => Some(CaseDeviceKind::Linear),
            Some(true) => {
                let stripes = match over.as_ref().map(Vec::len) {
                    // Over thins: one stripe a thin (checked in `device_over.rs`).
                    Some(n) if n > 0 && s.stripes.key().is_none() => Some(n as i64),
                    _ => self.int("stripes", &s.stripes, 2, (2, 8), None),
                };
                let stripe = self.size("stripe_size", &s.stripe_size, 256 * 1024, &STRIPE_SIZE);
                match (stripes, stripe) {
                    (Some(n), Some(b)) if !b.0.is_power_of_two() => {
                        let at = s.stripe_size.value().map_or(s.table.clone(), |v| v.span());
                        self.err_hint(
                            at,
                            format!("`stripe_size` {} is not a power of two", b.human()),
                            "dm-stripe's chunk is a power of two: 64KiB, 256KiB, 1MiB, ...",
                        );
                        let _ = n;
                        None
                    }
                    (Some(n), Some(b)) => Some(CaseDeviceKind::Striped {
                        stripes: n as u32,
                        stripe: b,
                    }),
                    _ => None,
                }
            }
        };
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
        if let (Some(CaseDeviceKind::Striped { stripes, stripe }), Some(size)) = (kind, size) {
            let row = u64::from(stripes) * stripe.0;
            if !size.0.is_multiple_of(row) {
                let at = s.size.value().map_or(s.table.clone(), |v| v.span());
                self.err_hint(
                    at,
                    format!(
                        "size {} is not a multiple of {} stripes of {}",
                        size.human(),
                        stripes,
                        stripe.human()
                    ),
                    format!(
                        "a striped device is whole rows of stripes: a multiple of {}",
                        Bytes(row).human()
                    ),
                );
            }
        }
        let over_raw = match &s.over {
            crate::scenario::raw::Field::Given { value, .. } => value.get_ref().clone(),
            _ => Vec::new(),
        };
        let action = match (name, kind, size, over, under) {
            (Some(name), Some(kind), Some(size), Some(over), Some((over_device, over_pool))) => {
                Some(Action::CreateDevice(CaseDeviceSpec {
                    name,
                    kind,
                    size,
                    over,
                    over_device,
                    over_pool,
                }))
            }
            _ => None,
        };
        let effect = match name_raw {
            Some(device) => Effect::CreateDevice {
                device,
                size,
                over: over_raw,
                over_device: s.over_device.value().cloned(),
                over_pool: s.over_pool.value().is_some_and(|v| *v.get_ref()),
            },
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

    #[test]
    fn a_striped_device_is_whole_rows_of_power_of_two_stripes() {
        let ok = "[[step]]\naction = \"create-device\"\ndevice = \"s\"\nkind = \"striped\"\nstripes = 4\nstripe_size = \"64KiB\"\nsize = \"16MiB\"\n";
        assert_eq!(errors("loop-lvm", ok), Vec::<String>::new());
        let e = errors(
            "loop-lvm",
            "[[step]]\naction = \"create-device\"\ndevice = \"s\"\nkind = \"striped\"\nstripes = 3\nsize = \"1MiB\"\n\
             [[step]]\naction = \"create-device\"\ndevice = \"u\"\nkind = \"striped\"\nstripe_size = \"96KiB\"\nsize = \"16MiB\"\n\
             [[step]]\naction = \"create-device\"\ndevice = \"v\"\nstripes = 2\nsize = \"16MiB\"\n",
        );
        assert!(
            e.iter().any(|d| d.starts_with("d.toml:14:8:")
                && d.contains("size 1MiB is not a multiple of 3 stripes of 256KiB")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|d| d.starts_with("d.toml:19:15:")
                && d.contains("`stripe_size` 96KiB is not a power of two")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|d| d.starts_with("d.toml:24:1:")
                    && d.contains("`stripes` is for striped devices")),
            "{e:?}"
        );
    }

    #[test]
    fn io_goes_to_a_device_inside_it_and_its_writes_end_its_checks() {
        let read = "[[step]]\naction = \"io\"\ndevice = \"ext\"\nrw = \"randread\"\ncount = 100\n\
                    [[step]]\naction = \"verify\"\ndevice = \"ext\"\n";
        assert_eq!(errors("loop-lvm", read), Vec::<String>::new());
        let e = errors(
            "loop-lvm",
            "[[step]]\nname = \"base\"\naction = \"io\"\ndevice = \"ext\"\nrw = \"write\"\ncount = 100\n\
             [[step]]\naction = \"verify\"\ndevice = \"ext\"\n\
             [[step]]\naction = \"io\"\ndevice = \"ext\"\nrw = \"read\"\noffset = \"32MiB\"\ncount = 1\n\
             [[step]]\naction = \"io\"\ndevice = \"nope\"\nrw = \"read\"\ncount = 1\n",
        );
        assert!(
            e.iter().any(|d| d.starts_with("d.toml:17:10:")
                && d.contains("device `ext` holds step `base`'s unstamped IO")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|d| d.contains("leaves no room for one 4KiB IO in device `ext` (16MiB)")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|d| d.contains("no device `nope` before this step")),
            "{e:?}"
        );
        let e = errors(
            "loop-lvm",
            "[[step]]\naction = \"io\"\ndevice = \"ext\"\nrw = \"write\"\ncount = 10\n\
             expect.data_blocks_allocated = \"chunks-touched\"\n",
        );
        assert!(
            e.iter().any(|d| d.contains("io steps on a device")),
            "{e:?}"
        );
    }
}

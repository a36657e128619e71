//! The walk of a case's own devices: made once before steps name them, external origins
//! on loop-lvm only, IO to them inside their size, and no check of stamped content after
//! an `io` step replaced it.

use super::{DeviceFacts, Facts, PoolWalk, Region};
use crate::scenario::{suggest, Diagnostic};
use serde_spanned::Spanned;
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::Bytes;

impl<'a> PoolWalk<'a> {
    pub(super) fn create_device(
        &mut self,
        f: &'a Facts,
        device: &'a Spanned<String>,
        size: Option<Bytes>,
        over: &'a [Spanned<String>],
    ) {
        self.device_members(f, device, size, over);
        let name = device.get_ref().as_str();
        if let Some(at) = self.devices.get(name).map(|d| d.made_by) {
            let d = Diagnostic::new(
                device.span(),
                format!("device `{name}` is already made by {}", self.label(at)),
            )
            .with_hint("give each device of a case its own name");
            self.report(f, d);
        } else {
            self.devices.insert(
                name,
                DeviceFacts {
                    made_by: f.index,
                    size,
                    overwritten_by: None,
                    over: over.iter().map(|t| t.get_ref().clone()).collect(),
                    made_over: (!over.is_empty()).then(|| "thins".to_owned()),
                    below: None,
                    on_pool: false,
                },
            );
        }
    }

    /// IO to a device: it exists, the region fits, and writes void its stamps.
    pub(super) fn device_io(
        &mut self,
        f: &Facts,
        device: &Spanned<String>,
        region: Option<&Region>,
        writes: bool,
    ) {
        if !self.known_device(f, device) {
            return;
        }
        let name = device.get_ref().as_str();
        let size = self.devices.get(name).and_then(|d| d.size);
        if let (Some(size), Some(r)) = (size, region) {
            self.check_region(f, &format!("device `{name}`"), size, r);
        }
        if writes {
            self.device_written(f, device);
        }
    }

    pub(super) fn use_device(
        &mut self,
        f: &Facts,
        device: &Spanned<String>,
        external_origin: bool,
    ) {
        if !self.known_device(f, device) {
            return;
        }
        let name = device.get_ref().as_str();
        if let Some(made_over) = self.devices.get(name).and_then(|d| d.made_over.clone()) {
            let what = if external_origin {
                "a thin over it could not be checked"
            } else {
                "there is nothing to check it against"
            };
            let d = Diagnostic::new(
                device.span(),
                format!("device `{name}` is made over {made_over} and not stamped: {what}"),
            )
            .with_hint("a device over other devices is made without IO (stamping a device over thins would provision them whole); check what is written to it with filesystem steps");
            self.report(f, d);
        } else if let Some(by) = self.devices.get(name).and_then(|d| d.overwritten_by) {
            let what = if external_origin {
                "a thin over it could not be checked"
            } else {
                "there is nothing to check it against"
            };
            let d = Diagnostic::new(
                device.span(),
                format!("device `{name}` holds {}'s unstamped IO: {what}", self.label(by)),
            )
            .with_hint("read or check the device before an `io` step writes it, or give the baseline IO a device of its own");
            self.report(f, d);
        }
        if external_origin && self.kind == Some(PoolKind::DirectLvm) {
            let d = Diagnostic::new(
                device.span(),
                "external origins are for loop-lvm pools: lvm makes one only by converting an LV of the pool's own VG (`lvconvert --type thin --originname`), and a case device is not one",
            )
            .with_hint("run this step on loop-lvm pools only (`pools = [...]`)");
            self.report(f, d);
        }
    }

    /// Whether `device` was made before this step; reported when not.
    pub(super) fn known_device(&mut self, f: &Facts, device: &Spanned<String>) -> bool {
        let name = device.get_ref().as_str();
        if self.devices.contains_key(name) {
            return true;
        }
        let made: Vec<&str> = self.devices.keys().copied().collect();
        let hint = match suggest(name, &made) {
            Some(m) => format!(
                "did you mean `{m}`? a `create-device` step makes a device before steps name it"
            ),
            None => "a `create-device` step makes a device before steps name it".to_owned(),
        };
        let d = Diagnostic::new(
            device.span(),
            format!("no device `{name}` before this step"),
        )
        .with_hint(hint);
        self.report(f, d);
        false
    }
}

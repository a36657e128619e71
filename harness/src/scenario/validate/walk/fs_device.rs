//! The walk of devices over thins and of filesystems on devices of the case: a device's
//! thins exist with a device, each holds its share, and none is deleted or deactivated
//! under it; `mkfs` replaces a device's stamped content (no `verify` of it after), and
//! a device's filesystem is made, mounted and unmounted as a thin's is (`walk/fs.rs`).

use super::{Facts, FsEffect, PoolWalk, ThinFs};
use crate::scenario::Diagnostic;
use crate::spec::FsKind;
use serde_spanned::Spanned;
use thinbench_schema::units::Bytes;

impl<'a> PoolWalk<'a> {
    /// The thins of a device over thins: each live, with a device, not written in the
    /// background, and at least `size / over.len()` (its share) big.
    pub(super) fn device_members(
        &mut self,
        f: &'a Facts,
        device: &'a Spanned<String>,
        size: Option<Bytes>,
        over: &'a [Spanned<String>],
    ) {
        for t in over {
            self.not_in_flight(f, t);
            let Some(thin_size) = self.existing(f, t) else {
                continue;
            };
            self.needs_device(f, t);
            let name = t.get_ref().as_str();
            // A thin named twice in the one `over` is reported at validation.
            if let Some(other) = self
                .under
                .get(name)
                .filter(|o| **o != device.get_ref().as_str())
            {
                let d = Diagnostic::new(
                    t.span(),
                    format!("thin `{name}` is already under device `{other}`"),
                )
                .with_hint("a thin is under one device: give this one thins of its own");
                self.report(f, d);
            }
            self.under.insert(name, device.get_ref().as_str());
            let share = size.map(|s| Bytes(s.0 / over.len() as u64));
            if let (Some(share), Some(ts)) = (share, thin_size) {
                if ts < share {
                    let d = Diagnostic::new(
                        t.span(),
                        format!(
                            "thin `{name}` is {} and device `{}` needs {} of each thin under it",
                            ts.human(),
                            device.get_ref(),
                            share.human()
                        ),
                    )
                    .with_hint("make the thins bigger, or the device smaller");
                    self.report(f, d);
                }
            }
        }
    }

    /// A thin under a device of the case cannot be `what` (deleted, deactivated).
    pub(super) fn not_under_device(&mut self, f: &Facts, t: &Spanned<String>, what: &str) {
        if let Some(dev) = self.under.get(t.get_ref().as_str()) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{}` is under device `{dev}` and cannot be {what}: the device holds it open until the case ends",
                    t.get_ref()
                ),
            )
            .with_hint("use another thin; a device of the case lasts as long as the case");
            self.report(f, d);
        }
    }

    /// Writes to device `name` by `f`: its stamps are gone, its thins written.
    pub(super) fn device_written(&mut self, f: &Facts, name: &str) {
        let Some(d) = self.devices.get_mut(name) else {
            return;
        };
        d.overwritten_by.get_or_insert(f.index);
        let over = d.over.clone();
        for t in over {
            if let Some((k, _)) = self.live.get_key_value(t.as_str()) {
                self.written.insert(k);
            }
        }
    }

    pub(super) fn fs_device(&mut self, f: &'a Facts, d: &'a Spanned<String>, op: &FsEffect) {
        if !self.known_device(f, d) {
            return;
        }
        let name = d.get_ref().as_str();
        let mounted = self.dev_fs.get(name).and_then(|x| x.mounted);
        let has_fs = self.dev_fs.contains_key(name);
        let problem = |w: &mut Self, msg: String, hint: &str| {
            w.report(f, Diagnostic::new(d.span(), msg).with_hint(hint.to_owned()));
        };
        match op {
            FsEffect::Mkfs { .. } | FsEffect::Exists => {
                if let Some(by) = mounted {
                    problem(
                        self,
                        format!(
                            "device `{name}` is mounted (by {}) and cannot be formatted",
                            self.label(by)
                        ),
                        "add an `umount` step before this one",
                    );
                }
                self.device_written(f, name);
                let kind = match op {
                    FsEffect::Mkfs { fs } => Some(*fs),
                    _ => None,
                };
                self.dev_fs.insert(
                    name,
                    ThinFs {
                        kind,
                        mounted: None,
                    },
                );
            }
            FsEffect::Mount { nouuid_at } => {
                if !has_fs {
                    problem(
                        self,
                        format!("device `{name}` has no filesystem here"),
                        "add a `mkfs` step of the device first",
                    );
                } else if let Some(by) = mounted {
                    problem(
                        self,
                        format!("device `{name}` is already mounted by {}", self.label(by)),
                        "unmount it first (`action = \"umount\"`), or leave the step out",
                    );
                }
                let kind = self.dev_fs.get(name).and_then(|x| x.kind);
                if let (Some(at), Some(FsKind::Ext4)) = (nouuid_at, kind) {
                    let e = Diagnostic::new(
                        at.clone(),
                        "`nouuid` is an xfs mount option, and the device's filesystem is ext4",
                    )
                    .with_hint("leave `nouuid` out");
                    self.report(f, e);
                }
                if let Some(x) = self.dev_fs.get_mut(name) {
                    x.mounted = Some(f.index);
                }
            }
            FsEffect::Umount | FsEffect::Mounted => {
                if mounted.is_none() {
                    problem(
                        self,
                        format!("device `{name}` is not mounted here"),
                        "add a `mount` step before it (after a `mkfs` of the device)",
                    );
                }
                if matches!(op, FsEffect::Umount) {
                    if let Some(x) = self.dev_fs.get_mut(name) {
                        x.mounted = None;
                    }
                } else {
                    self.device_written(f, name);
                }
            }
            FsEffect::Unmounted => {
                if !has_fs {
                    problem(
                        self,
                        format!("device `{name}` has no filesystem here"),
                        "add a `mkfs` step of the device first",
                    );
                } else if let Some(by) = mounted {
                    problem(
                        self,
                        format!(
                            "device `{name}` is mounted (by {}): fsck reads an unmounted filesystem",
                            self.label(by)
                        ),
                        "add an `umount` step before it",
                    );
                }
            }
        }
    }
}

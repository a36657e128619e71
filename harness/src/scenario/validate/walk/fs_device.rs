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

    /// Writes to `device` by `f`: its stamps are gone, and those of the devices below
    /// it, its thins written; refused over the pool's device.
    pub(super) fn device_written(&mut self, f: &Facts, device: &Spanned<String>) {
        let mut name = device.get_ref().clone();
        let mut seen = 0;
        while let Some(d) = self.devices.get_mut(name.as_str()) {
            d.overwritten_by.get_or_insert(f.index);
            let (over, below, on_pool) = (d.over.clone(), d.below.clone(), d.on_pool);
            if on_pool && seen == 0 {
                let e = Diagnostic::new(
                    device.span(),
                    format!(
                        "device `{}` is over the pool's device, which passes its IO to the pool's data device: a write would land under the pool's mappings",
                        device.get_ref()
                    ),
                )
                .with_hint("read it only (`io` with `rw = \"read\"` or \"randread\"); write a thin, or a device over thins");
                self.report(f, e);
            }
            for t in over {
                if let Some((k, _)) = self.live.get_key_value(t.as_str()) {
                    self.written.insert(k);
                }
            }
            match below {
                Some(b) if seen < 16 => name = b,
                _ => break,
            }
            seen += 1;
        }
    }

    /// A device over another device of the case (`over_device`: it exists and is at
    /// least `size`) or over the pool's device (`over_pool`).
    pub(super) fn device_under(
        &mut self,
        f: &'a Facts,
        device: &'a Spanned<String>,
        size: Option<Bytes>,
        below: Option<&'a Spanned<String>>,
        on_pool: bool,
    ) {
        let mut facts = (None, Vec::new(), false);
        if let Some(b) = below {
            if !self.known_device(f, b) {
                return;
            }
            let lower = &self.devices[b.get_ref().as_str()];
            let (ls, lower_over, lower_pool) = (lower.size, lower.over.clone(), lower.on_pool);
            if let (Some(size), Some(ls)) = (size, ls) {
                if ls < size {
                    let d = Diagnostic::new(
                        b.span(),
                        format!(
                            "device `{}` is {} and device `{}` over it is {}",
                            b.get_ref(),
                            ls.human(),
                            device.get_ref(),
                            size.human()
                        ),
                    )
                    .with_hint("make the device over it no bigger than it");
                    self.report(f, d);
                }
            }
            facts = (
                Some(format!("device `{}`", b.get_ref())),
                lower_over,
                lower_pool,
            );
        } else if on_pool {
            facts = (Some("the pool device".to_owned()), Vec::new(), true);
        }
        let (Some(made_over), over, pool) = facts else {
            return;
        };
        if let Some(d) = self.devices.get_mut(device.get_ref().as_str()) {
            if d.made_by == f.index {
                d.made_over = Some(made_over);
                d.over = over;
                d.below = below.map(|b| b.get_ref().clone());
                d.on_pool = pool;
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
                self.device_written(f, d);
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
                    self.device_written(f, d);
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

//! The walk of the filesystem steps: a thin has a filesystem after a `mkfs` of it or of
//! the origin it was snapshotted from; `mount` needs one not mounted, `file` and
//! `verify-files` a mounted one, `umount` a mounted one, `fsck` an unmounted one; a
//! mounted thin is not deleted, deactivated or formatted again.

use super::{Facts, FsEffect, PoolWalk, ThinFs};
use crate::scenario::Diagnostic;
use crate::spec::FsKind;
use serde_spanned::Spanned;

impl<'a> PoolWalk<'a> {
    pub(super) fn fs(&mut self, f: &'a Facts, t: &'a Spanned<String>, op: &FsEffect) {
        let name = t.get_ref().as_str();
        match op {
            FsEffect::Mkfs { fs, .. } => {
                self.write(f, Some(t), None);
                if self.mounted_by(name).is_some() {
                    self.fs_gone(f, t, "formatted");
                }
                self.fs.insert(
                    name,
                    ThinFs {
                        kind: Some(*fs),
                        mounted: None,
                    },
                );
            }
            FsEffect::Exists => {
                let _ = self.existing(f, t);
                self.fs.insert(
                    name,
                    ThinFs {
                        kind: None,
                        mounted: None,
                    },
                );
            }
            FsEffect::Mount { nouuid_at } => {
                self.needs_fs(f, t);
                self.needs_device(f, t);
                if let Some(by) = self.mounted_by(name) {
                    let d = Diagnostic::new(
                        t.span(),
                        format!("thin `{name}` is already mounted by {}", self.label(by)),
                    )
                    .with_hint("unmount it first (`action = \"umount\"`), or leave the step out");
                    self.report(f, d);
                }
                let kind = self.fs.get(name).and_then(|x| x.kind);
                if let (Some(at), Some(FsKind::Ext4)) = (nouuid_at, kind) {
                    let d = Diagnostic::new(at.clone(), "`nouuid` is an xfs mount option, and thin's filesystem is ext4")
                        .with_hint("leave `nouuid` out: ext4 mounts a snapshot sharing its origin's uuid as it is");
                    self.report(f, d);
                }
                if let Some(x) = self.fs.get_mut(name) {
                    x.mounted = Some(f.index);
                }
            }
            FsEffect::Umount => {
                if self.existing(f, t).is_some() && self.mounted_by(name).is_none() {
                    self.not_mounted(f, t);
                }
                if let Some(x) = self.fs.get_mut(name) {
                    x.mounted = None;
                }
            }
            FsEffect::Mounted => {
                if name_known(self, f, t) && self.mounted_by(name).is_none() {
                    self.not_mounted(f, t);
                }
                self.written.insert(name);
            }
            FsEffect::Unmounted => {
                self.needs_fs(f, t);
                self.needs_device(f, t);
                if let Some(by) = self.mounted_by(name) {
                    let d = Diagnostic::new(
                        t.span(),
                        format!(
                            "thin `{name}` is mounted (by {}): fsck reads an unmounted filesystem",
                            self.label(by)
                        ),
                    )
                    .with_hint("add an `umount` step before it");
                    self.report(f, d);
                }
            }
        }
    }

    fn mounted_by(&self, name: &str) -> Option<usize> {
        self.fs.get(name).and_then(|x| x.mounted)
    }

    fn not_mounted(&mut self, f: &Facts, t: &Spanned<String>) {
        let d = Diagnostic::new(
            t.span(),
            format!("thin `{}` is not mounted here", t.get_ref()),
        )
        .with_hint("add a `mount` step before it (after a `mkfs` of the thin or of its origin)");
        self.report(f, d);
    }

    fn needs_fs(&mut self, f: &Facts, t: &Spanned<String>) {
        let name = t.get_ref().as_str();
        if self.existing(f, t).is_some() && !self.fs.contains_key(name) {
            let d = Diagnostic::new(t.span(), format!("thin `{name}` has no filesystem here"))
                .with_hint("add a `mkfs` step of the thin first; a snapshot has its origin's filesystem as of the snapshot");
            self.report(f, d);
        }
    }

    /// A snapshot has its origin's filesystem, not mounted.
    pub(super) fn fs_snapshot(
        &mut self,
        thin: Option<&'a Spanned<String>>,
        origin: Option<&'a Spanned<String>>,
    ) {
        let (Some(t), Some(o)) = (thin, origin) else {
            return;
        };
        let name = t.get_ref().as_str();
        match self.fs.get(o.get_ref().as_str()).copied() {
            Some(x) => {
                self.fs.insert(
                    name,
                    ThinFs {
                        kind: x.kind,
                        mounted: None,
                    },
                );
            }
            None => {
                self.fs.remove(name);
            }
        }
    }

    /// A thin going away (`deleted`, `formatted`) must not be mounted; it has no
    /// filesystem after a delete.
    pub(super) fn fs_gone(&mut self, f: &Facts, t: &Spanned<String>, what: &str) {
        self.fs_unmounted_for(f, t, what);
        if what == "deleted" {
            self.fs.remove(t.get_ref().as_str());
        }
    }

    /// A thin that is `what` (deactivated, deleted) must not be mounted.
    pub(super) fn fs_unmounted_for(&mut self, f: &Facts, t: &Spanned<String>, what: &str) {
        let name = t.get_ref().as_str();
        if let Some(by) = self.mounted_by(name) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{name}` is mounted (by {}) and cannot be {what}",
                    self.label(by)
                ),
            )
            .with_hint("add an `umount` step before this one");
            self.report(f, d);
        }
    }
}

/// Whether the thin exists (reported where it does not).
fn name_known<'a>(w: &mut PoolWalk<'a>, f: &Facts, t: &Spanned<String>) -> bool {
    w.existing(f, t).is_some()
}

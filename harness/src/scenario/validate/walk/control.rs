//! The walk of the table-control steps: pool messages (thin ids, the transaction id, the
//! held metadata snapshot), suspend and resume, activate and deactivate; and what they
//! mean for other steps (a thin without a device takes no IO; a suspended pool holds it).
//!
//! Each refusal the kernel would give is predicted with the errno it gives (found in
//! the VM, docs/scenario-format.md "Kernel refusals"): a step that expects it passes
//! validation, and its effect is not applied; any other step with it is reported.

use super::{Effect, Facts, MessageEffect, PoolWalk};
use crate::errors::Kind;
use crate::scenario::raw::Span;
use crate::scenario::Diagnostic;
use crate::spec::PoolMessage;
use serde_spanned::Spanned;
use thinbench_schema::ids::ThinId;
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::Bytes;

impl<'a> PoolWalk<'a> {
    /// A refusal the kernel gives the step: fine when the step expects it, else reported.
    fn refusal(&mut self, f: &Facts, at: &Span, kind: Kind, why: String) {
        if f.refusal.expects(kind) {
            return;
        }
        let d = Diagnostic::new(at.clone(), format!("{why} (the kernel refuses it: {kind})"))
            .with_hint(format!(
                "if the refusal is the point, add `expect.error = \"{kind}\"` to the step"
            ));
        self.report(f, d);
    }

    /// A step that takes the pool down: refused while a case device is made over its
    /// thins or its device (it holds them open: the kernel says EBUSY), and a reboot
    /// while a metadata snapshot is held.
    pub(super) fn pool_down(&mut self, f: &'a Facts, at: &Span, what: &str, reboot: bool) {
        if let (true, Some(by)) = (reboot, self.control.held) {
            let d = Diagnostic::new(
                at.clone(),
                format!(
                    "a reboot while {} holds a metadata snapshot: the reboot's checks reserve their own, and dm-thin holds one at a time (EBUSY)",
                    self.label(by)
                ),
            )
            .with_hint("release it first (`message`, `text = \"release_metadata_snap\"`)");
            self.report(f, d);
        }
        let mut over: Vec<(&str, String)> = self
            .devices
            .iter()
            .filter_map(|(n, d)| d.made_over.clone().map(|o| (*n, o)))
            .collect();
        over.sort();
        if let Some((name, on)) = over.first() {
            let d = Diagnostic::new(
                at.clone(),
                format!("{what} takes the pool down, and device `{name}` is made over {on}: it holds them open (EBUSY)"),
            )
            .with_hint("take the pool down before the device is made, or run the step on a pool without devices over it");
            self.report(f, d);
        }
    }

    /// Generated metadata replaces the pool's: no thin may exist then (their writes would
    /// vanish with them), and the generated ones exist after.
    pub(super) fn generated(
        &mut self,
        f: &'a Facts,
        thins: &'a [Spanned<String>],
        size: Option<Bytes>,
        at: &Span,
    ) {
        if !self.live.is_empty() {
            let mut names: Vec<&str> = self.live.keys().copied().collect();
            names.sort_unstable();
            let d = Diagnostic::new(
                at.clone(),
                format!(
                    "generated metadata replaces every thin, and the pool has {}",
                    names.join(", ")
                ),
            )
            .with_hint(
                "delete them first (delete-thin), or generate the metadata before creating any",
            );
            self.report(f, d);
            return;
        }
        for t in thins {
            self.create(f, t, size);
        }
    }

    /// While the pool is suspended, only table control and messages work: IO to its thins
    /// (and so every workload, snapshot and filesystem step) waits for its resume.
    pub(super) fn while_suspended(&mut self, f: &'a Facts) {
        let Some(by) = self.control.pool_suspended else {
            return;
        };
        let control = matches!(
            f.effect,
            Effect::Message(_)
                | Effect::Suspend { .. }
                | Effect::Activate { .. }
                | Effect::Deactivate { .. }
                | Effect::Nothing
        );
        if control || f.refusal.text || f.refusal.kind.is_some() {
            return;
        }
        let d = Diagnostic::new(
            self.at_of(f),
            format!(
                "the pool is suspended ({} suspended it): {} would wait for its resume forever",
                self.label(by),
                f.label
            ),
        )
        .with_hint("add a resume step (`action = \"resume\"`) before this one");
        self.report(f, d);
    }

    /// Where a step's problem is shown when it has no key of its own: its name, else the
    /// place its effect names.
    fn at_of(&self, f: &Facts) -> Span {
        f.name_span.clone().unwrap_or_else(|| match &f.effect {
            Effect::Write { thin: Some(t), .. }
            | Effect::Create { thin: Some(t), .. }
            | Effect::Snapshot { thin: Some(t), .. }
            | Effect::Delete { thin: Some(t) } => t.span(),
            _ => 0..0,
        })
    }

    /// IO goes to thin `t`: it must have a device, not suspended.
    pub(super) fn needs_device(&mut self, f: &Facts, t: &Spanned<String>) {
        let name = t.get_ref().as_str();
        if let Some(&by) = self.control.no_device.get(name) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{name}` has no device: {} left it without one",
                    self.label(by)
                ),
            )
            .with_hint("add an activate step (`action = \"activate\"`) before this one");
            self.report(f, d);
        } else if let Some(&by) = self.control.thins_suspended.get(name) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{name}` is suspended ({} suspended it): IO to it would wait for its resume forever",
                    self.label(by)
                ),
            )
            .with_hint("add a resume step for it before this one");
            self.report(f, d);
        }
    }

    /// A step on a pool whose construction must fail: it cannot run.
    pub(super) fn on_refused_pool(&mut self, f: &'a Facts, pool: &str) {
        let d = Diagnostic::new(
            self.at_of(f),
            format!(
                "{} would run on pool `{pool}`, whose construction the scenario expects to fail (`expect_error`)",
                f.label
            ),
        )
        .with_hint("name the pools it runs on: `pools = [...]`");
        self.report(f, d);
    }

    /// A `message` step.
    pub(super) fn message(&mut self, f: &'a Facts, m: &'a MessageEffect) {
        let msg = m.message;
        let lvm_owned = !matches!(
            msg,
            PoolMessage::ReserveMetadataSnap | PoolMessage::ReleaseMetadataSnap
        );
        if lvm_owned && self.kind == Some(PoolKind::DirectLvm) {
            let what = match msg {
                PoolMessage::SetTransactionId { .. } => "lvm keeps the pool's transaction id in its own metadata and refuses a pool whose id differs",
                _ => "lvm owns a direct-lvm pool's thin ids (each thin is an LV in its metadata), and a thin made or deleted behind its back breaks its next command",
            };
            let d = Diagnostic::new(
                m.at.clone(),
                format!("a `{}` message on a direct-lvm pool: {what}", msg.name()),
            )
            .with_hint("run the step on loop-lvm pools only (`pools = [...]`); direct-lvm pools take reserve_metadata_snap and release_metadata_snap");
            self.report(f, d);
            return;
        }
        let max = u64::from(ThinId::MAX);
        match msg {
            PoolMessage::CreateThin { id } | PoolMessage::CreateSnap { id, .. } if id > max => {
                self.refusal(
                    f,
                    &m.at,
                    Kind::Einval,
                    format!("thin id {id} is past dm-thin's 24 bits"),
                );
            }
            PoolMessage::CreateSnap { origin, .. } if origin > max => {
                self.refusal(
                    f,
                    &m.at,
                    Kind::Einval,
                    format!("origin id {origin} is past dm-thin's 24 bits"),
                );
            }
            PoolMessage::Delete { id } if id > max => {
                self.refusal(
                    f,
                    &m.at,
                    Kind::Einval,
                    format!("thin id {id} is past dm-thin's 24 bits"),
                );
            }
            PoolMessage::CreateThin { id } => self.message_create(f, m, id as u32, None),
            PoolMessage::CreateSnap { id, origin } => match self.ids.holder(origin as u32) {
                None => self.refusal(
                    f,
                    &m.at,
                    Kind::Enodata,
                    format!("no thin has id {origin}, the snapshot's origin"),
                ),
                Some(o) => {
                    let size = self.live.get(o).and_then(|(s, _)| *s);
                    self.message_create(f, m, id as u32, Some(size));
                }
            },
            PoolMessage::Delete { id } => match self.ids.holder(id as u32) {
                None => self.refusal(f, &m.at, Kind::Enodata, format!("no thin has id {id}")),
                Some(h) if !self.control.no_device.contains_key(h) => self.refusal(
                    f,
                    &m.at,
                    Kind::Ebusy,
                    format!("thin `{h}` (id {id}) has a device"),
                ),
                Some(h) => {
                    self.live.remove(h);
                    self.ids.free(h);
                    self.control.no_device.remove(h);
                    self.deleted.insert(h, f.index);
                }
            },
            PoolMessage::SetTransactionId { current, new } => match self.control.transaction {
                Some(t) if t != current => self.refusal(
                    f,
                    &m.at,
                    Kind::Einval,
                    format!("the pool's transaction id is {t} here, not {current}"),
                ),
                _ => self.control.transaction = Some(new),
            },
            PoolMessage::ReserveMetadataSnap => match self.control.held {
                Some(by) => {
                    let why = format!("{} holds the metadata snapshot already", self.label(by));
                    self.refusal(f, &m.at, Kind::Ebusy, why);
                }
                None => self.control.held = Some(f.index),
            },
            PoolMessage::ReleaseMetadataSnap => match self.control.held {
                None => self.refusal(
                    f,
                    &m.at,
                    Kind::Einval,
                    "no metadata snapshot is held".into(),
                ),
                Some(_) => self.control.held = None,
            },
        }
    }

    /// `create_thin`/`create_snap` of `id` (`snap`: the origin's size, if known).
    fn message_create(
        &mut self,
        f: &'a Facts,
        m: &'a MessageEffect,
        id: u32,
        snap: Option<Option<Bytes>>,
    ) {
        if let Some(h) = self.ids.holder(id) {
            self.refusal(f, &m.at, Kind::Eexist, format!("thin `{h}` holds id {id}"));
            return;
        }
        let Some(name) = &m.name else { return };
        if self.create(f, name, snap.flatten()) {
            self.ids.take(name.get_ref(), id);
            self.control.no_device.insert(name.get_ref(), f.index);
        }
    }

    /// `suspend` (`on`) or `resume` of the pool or a thin.
    pub(super) fn suspend(
        &mut self,
        f: &'a Facts,
        thin: Option<&'a Spanned<String>>,
        on: bool,
        at: &Span,
        pool_resumes: bool,
    ) {
        let Some(t) = thin else {
            self.control.pool_suspended = on.then_some(f.index);
            return;
        };
        if self.existing(f, t).is_none() {
            return;
        }
        let name = t.get_ref().as_str();
        if let Some(&by) = self.control.no_device.get(name) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{name}` has no device to {}: {} left it without one",
                    if on { "suspend" } else { "resume" },
                    self.label(by)
                ),
            )
            .with_hint("activate it first");
            self.report(f, d);
            return;
        }
        let was = self.control.thins_suspended.contains_key(name);
        // A thin's suspend (and the resume of a suspended thin) waits for the pool's
        // internal resume: with the pool suspended it would wait forever, unless the step
        // resumes the pool meanwhile (`pool_resumes_after`), which must then be suspended.
        if pool_resumes {
            match self.control.pool_suspended {
                Some(_) => self.control.pool_suspended = None,
                None => {
                    let d = Diagnostic::new(
                        at.clone(),
                        "`pool_resumes_after`, and the pool is not suspended: there is nothing for the thin to wait for",
                    )
                    .with_hint("suspend the pool in an earlier step");
                    self.report(f, d);
                    return;
                }
            }
        }
        if let (Some(by), true) = (self.control.pool_suspended, on || was) {
            let d = Diagnostic::new(
                at.clone(),
                format!(
                    "the pool is suspended ({} suspended it): the {} of thin `{name}` would wait for the pool's resume forever",
                    self.label(by),
                    if on { "suspend" } else { "resume" }
                ),
            )
            .with_hint("resume the pool first (suspend the thin before the pool, as dm does)");
            self.report(f, d);
            return;
        }
        if on {
            self.control.thins_suspended.insert(name, f.index);
        } else {
            self.control.thins_suspended.remove(name);
        }
    }

    /// `activate`: a device for a thin without one.
    pub(super) fn activate(
        &mut self,
        f: &'a Facts,
        thin: Option<&'a Spanned<String>>,
        size: Option<Bytes>,
        at: &Span,
    ) {
        let Some(t) = thin else { return };
        if self.existing(f, t).is_none() {
            return;
        }
        let name = t.get_ref().as_str();
        if !self.control.no_device.contains_key(name) {
            self.refusal(
                f,
                &t.span(),
                Kind::Ebusy,
                format!("thin `{name}` has a device already"),
            );
            return;
        }
        if let Some(by) = self.control.pool_suspended {
            let why = format!(
                "the pool is suspended ({} suspended it): dm-thin does not activate a thin of a suspended pool",
                self.label(by)
            );
            self.refusal(f, at, Kind::Einval, why);
            return;
        }
        let known = self.live.get(name).and_then(|(s, _)| *s);
        let Some(size) = size.or(known) else {
            let d = Diagnostic::new(
                at.clone(),
                format!("thin `{name}` has never had a device, so it has no size yet"),
            )
            .with_hint("give the device's size, like `size = \"64MiB\"`");
            self.report(f, d);
            return;
        };
        if let Some(entry) = self.live.get_mut(name) {
            entry.0 = Some(size);
        }
        self.control.no_device.remove(name);
    }

    /// `deactivate`: the thin loses its device.
    pub(super) fn deactivate(&mut self, f: &'a Facts, thin: Option<&'a Spanned<String>>) {
        let Some(t) = thin else { return };
        if self.existing(f, t).is_none() {
            return;
        }
        let name = t.get_ref().as_str();
        if let Some(&by) = self.control.no_device.get(name) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{name}` has no device: {} left it without one",
                    self.label(by)
                ),
            )
            .with_hint("leave the step out");
            self.report(f, d);
            return;
        }
        self.control.thins_suspended.remove(name);
        self.control.no_device.insert(name, f.index);
    }
}

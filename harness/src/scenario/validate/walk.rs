//! The second pass, once per pool: thins exist before steps use them, names and ids are
//! unique, the pool has the id each new thin gets (`ids`), writes stay inside their thin.
//! `Facts` is what it needs of each step.

mod background;
mod control;
mod device;
mod effect;
mod fs;
mod fs_device;

use super::ids::{IdRule, ThinIds};
use super::Checker;
use crate::errors::Kind;
use crate::scenario::raw::{RawStep, Span};
use crate::scenario::{suggest, Diagnostic};
pub(super) use effect::{ChunkRule, Effect, FsEffect, MessageEffect, Region};
use serde_spanned::Spanned;
use std::collections::HashMap;
use thinbench_schema::ids::ThinId;
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::{Bytes, ChunkSize};

/// What the walk needs of a pool: its name as written, its kind, its chunk if valid.
pub(super) struct PoolFacts {
    pub(super) name: String,
    pub(super) kind: PoolKind,
    pub(super) chunk: Option<ChunkSize>,
    /// Its construction must fail (`expect_error`): no step may run on it.
    pub(super) refused: bool,
}

/// What the per-pool walk needs to know of one step.
pub(super) struct Facts {
    pub(super) index: usize,
    /// The name as written, or the default name; `None` when neither is known.
    pub(super) name: Option<String>,
    /// Where the name is written, if it is.
    pub(super) name_span: Option<Span>,
    /// `step `name`` or `step #N`, for messages about other steps.
    pub(super) label: String,
    /// Pools named in `pools` (as written); `None`: every pool.
    pub(super) pools: Option<Vec<String>>,
    pub(super) effect: Effect,
    /// The failure the step expects, if it expects one.
    pub(super) refusal: Refusal,
    /// Where the step expects `data_blocks_allocated = "chunks-touched"`, if it does.
    pub(super) chunks_touched: Option<Span>,
}

/// The failure a step expects (`expect.error`, `expect.error_contains`): a problem of
/// the walk that fails the step with it is the step's point, not a mistake.
#[derive(Debug, Default)]
pub(super) struct Refusal {
    pub(super) kind: Option<Kind>,
    /// `error_contains`: its text cannot be foreseen, so any failure may be the one.
    pub(super) text: bool,
}

impl Refusal {
    fn expects(&self, k: Kind) -> bool {
        self.text || self.kind == Some(k)
    }
}

/// What the walk knows of a device of the case.
pub(super) struct DeviceFacts {
    /// The step that made it.
    pub(super) made_by: usize,
    /// Its size, when valid.
    pub(super) size: Option<Bytes>,
    /// The `io` step whose writes replaced its stamps.
    pub(super) overwritten_by: Option<usize>,
    /// The thins whose IO its IO is (`over`, or those under `below`).
    pub(super) over: Vec<String>,
    /// What it is made over when not scratch files (`thins`, `device x`, `the pool
    /// device`): it is then not stamped.
    pub(super) made_over: Option<String>,
    /// The device of the case it is made over.
    pub(super) below: Option<String>,
    /// Over the pool's device (itself or through `below`): read only.
    pub(super) on_pool: bool,
}

/// A thin's filesystem as the walk knows it.
#[derive(Clone, Copy)]
pub(in crate::scenario::validate) struct ThinFs {
    /// Its kind (`None`: made by a step whose `fs` was invalid).
    pub(super) kind: Option<crate::spec::FsKind>,
    /// The step that mounted it, while it is mounted.
    pub(super) mounted: Option<usize>,
}

/// What the table-control steps leave behind for later steps (`walk/control.rs`).
#[derive(Default)]
struct ControlState<'a> {
    /// Thins without a device: name → the step that left them so.
    no_device: HashMap<&'a str, usize>,
    /// The step that suspended the pool, while it is suspended.
    pool_suspended: Option<usize>,
    /// Suspended thins: name → the step that suspended it.
    thins_suspended: HashMap<&'a str, usize>,
    /// The pool's transaction id, as far as the steps set it (a new pool's is 0).
    transaction: Option<u64>,
    /// The step holding the metadata snapshot (`reserve_metadata_snap`).
    held: Option<usize>,
}

/// A step's checked IO region, its offset and span positioned where the step gave them
/// (the step's table when it did not).
pub(super) fn region_of(
    s: &RawStep,
    io_size: Option<Bytes>,
    offset: Option<Bytes>,
    span: Option<Option<Bytes>>,
    ok: bool,
) -> Option<Region> {
    match (io_size, offset, span, ok) {
        (Some(io_size), Some(offset), Some(span), true) => Some(Region {
            io_size,
            offset: Spanned::new(
                s.offset.value().map_or(s.table.clone(), |v| v.span()),
                offset,
            ),
            span: span
                .map(|b| Spanned::new(s.span.value().map_or(s.table.clone(), |v| v.span()), b)),
        }),
        _ => None,
    }
}

impl Checker {
    pub(super) fn unique_step_names(&mut self, facts: &[Facts]) {
        // name → (step index, where the name is written)
        let mut seen: HashMap<&str, (usize, Option<&Span>)> = HashMap::new();
        for f in facts {
            let Some(name) = f.name.as_deref() else {
                continue;
            };
            match seen.get(name) {
                None => {
                    seen.insert(name, (f.index, f.name_span.as_ref()));
                }
                Some(&(first, first_span)) => {
                    // Point at a written name: this one, else the first (a default name
                    // can clash only with a written one).
                    if let Some(at) = f.name_span.as_ref().or(first_span) {
                        self.err_hint(
                            at.clone(),
                            format!(
                                "duplicate step name `{name}`: steps #{first} and #{} (numbered from 0)",
                                f.index
                            ),
                            "step names must be unique; an unnamed step is called `step<N>-<action>`",
                        );
                    }
                }
            }
        }
    }

    /// The per-pool walk: thins exist before they are used, names and ids are unique,
    /// writes stay inside their thin. Problems found in several pools are reported once.
    pub(super) fn walk(&mut self, pool_names: &[&str], facts: &[Facts]) {
        let pool_facts = std::mem::take(&mut self.pools_walked);
        // Where each thin name is created, for hints.
        let mut creators: HashMap<&str, Vec<usize>> = HashMap::new();
        for f in facts {
            if let Effect::Create { thin: Some(t), .. }
            | Effect::Snapshot { thin: Some(t), .. }
            | Effect::Message(MessageEffect { name: Some(t), .. }) = &f.effect
            {
                creators.entry(t.get_ref()).or_default().push(f.index);
            }
        }
        // Without named pools, still walk once so thin references get checked.
        let walk_pools: Vec<Option<&str>> = if pool_names.is_empty() {
            vec![None]
        } else {
            pool_names.iter().map(|p| Some(*p)).collect()
        };
        let applies = |f: &Facts, pool: Option<&str>| match (&f.pools, pool) {
            (None, _) => true,
            (Some(list), Some(p)) => list.iter().any(|n| n == p),
            (Some(_), None) => false,
        };

        // (diagnostic, step index, pools it was found in), in first-seen order; `seen`
        // indexes it so that big files stay linear.
        let mut found: Vec<(Diagnostic, usize, Vec<&str>)> = Vec::new();
        let mut seen: HashMap<(Diagnostic, usize), usize> = HashMap::new();
        for &pool in &walk_pools {
            let known = pool.and_then(|p| pool_facts.iter().find(|f| f.name == p));
            let kind = known.map(|f| f.kind);
            let mut w = PoolWalk {
                facts,
                creators: &creators,
                kind,
                chunk: known.and_then(|f| f.chunk),
                live: HashMap::new(),
                deleted: HashMap::new(),
                unnamed: HashMap::new(),
                explicit_ids: HashMap::new(),
                ids: ThinIds::new(kind.map_or(IdRule::LowestFree, IdRule::of)),
                in_flight: HashMap::new(),
                files_in_flight: HashMap::new(),
                waited: HashMap::new(),
                written: std::collections::HashSet::new(),
                devices: HashMap::new(),
                shares: std::collections::HashSet::new(),
                control: ControlState {
                    transaction: Some(0),
                    ..Default::default()
                },
                fs: HashMap::new(),
                dev_fs: HashMap::new(),
                under: HashMap::new(),
                d: Vec::new(),
            };
            for f in facts.iter().filter(|f| applies(f, pool)) {
                if known.is_some_and(|k| k.refused) {
                    w.on_refused_pool(f, pool.unwrap_or_default());
                    continue;
                }
                w.step(f);
            }
            w.never_waited();
            for (diag, step) in w.d {
                match seen.get(&(diag.clone(), step)) {
                    Some(&i) => found[i].2.extend(pool),
                    None => {
                        seen.insert((diag.clone(), step), found.len());
                        found.push((diag, step, pool.into_iter().collect()));
                    }
                }
            }
        }
        for (mut diag, step, pools) in found {
            let runs_on = walk_pools
                .iter()
                .filter(|p| applies(&facts[step], **p))
                .count();
            if !pools.is_empty() && pools.len() < runs_on {
                let names = pools
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let s = if pools.len() == 1 { "" } else { "s" };
                diag.message.push_str(&format!(" (in pool{s} {names})"));
            }
            self.d.push(diag);
        }
    }
}

/// One pool's view of the step list.
struct PoolWalk<'a> {
    facts: &'a [Facts],
    creators: &'a HashMap<&'a str, Vec<usize>>,
    /// The pool's kind, when it is known.
    kind: Option<PoolKind>,
    /// The pool's chunk, when it is known.
    chunk: Option<ChunkSize>,
    /// Live thins: name → (virtual size if known, creating step).
    live: HashMap<&'a str, (Option<Bytes>, usize)>,
    /// Deleted thins: name → deleting step.
    deleted: HashMap<&'a str, usize>,
    /// Thins that may exist but cannot be named: name → the step that may make them.
    unnamed: HashMap<&'a str, usize>,
    /// Explicit thin ids used: id → step.
    explicit_ids: HashMap<u32, usize>,
    /// The ids of live thins, as the pool hands them out.
    ids: ThinIds<'a>,
    /// Background steps not yet waited for: step name → (its thin, its step).
    in_flight: HashMap<&'a str, (&'a Spanned<String>, usize)>,
    /// Background `file` writes not yet waited for: step name → (thin, path).
    files_in_flight: HashMap<&'a str, (&'a str, &'a str)>,
    /// Background steps waited for: step name → the wait's step.
    waited: HashMap<&'a str, usize>,
    /// Thins some step wrote.
    written: std::collections::HashSet<&'a str>,
    /// Devices of the case made so far: name → what the walk knows of it.
    devices: HashMap<&'a str, DeviceFacts>,
    /// Thins that may share written blocks with another (an origin written before its
    /// snapshot, the snapshot, and theirs): a write there may copy without a first touch.
    shares: std::collections::HashSet<&'a str>,
    /// Devices, suspensions, transaction id and held metadata snapshot.
    control: ControlState<'a>,
    /// Filesystems on thins: name → its kind and the step that mounted it, if mounted.
    fs: HashMap<&'a str, ThinFs>,
    /// Filesystems on devices of the case, as `fs`.
    dev_fs: HashMap<&'a str, ThinFs>,
    /// Thins a device of the case is made over: thin → the device.
    under: HashMap<&'a str, &'a str>,
    /// Problems, with the step they belong to.
    d: Vec<(Diagnostic, usize)>,
}

impl<'a> PoolWalk<'a> {
    fn step(&mut self, f: &'a Facts) {
        self.while_suspended(f);
        self.effect(f, &f.effect);
    }

    fn effect(&mut self, f: &'a Facts, e: &'a Effect) {
        match e {
            Effect::Nothing => {}
            Effect::Create { thin, size, id } => self.make(f, thin.as_ref(), *size, id.as_ref()),
            Effect::Snapshot { thin, origin, id } => {
                if let Some(o) = origin {
                    self.not_in_flight(f, o);
                    let o = o.get_ref().as_str();
                    if self.written.contains(o) || self.shares.contains(o) {
                        self.shares.insert(o);
                        if let Some(t) = thin {
                            self.shares.insert(t.get_ref().as_str());
                        }
                    }
                }
                let size = origin.as_ref().and_then(|o| self.existing(f, o)).flatten();
                self.make(f, thin.as_ref(), size, id.as_ref());
                self.fs_snapshot(thin.as_ref(), origin.as_ref());
            }
            Effect::Unnamed { thins } => {
                for t in thins {
                    if self.create(f, t, None) {
                        self.live.remove(t.get_ref().as_str());
                        self.unnamed.insert(t.get_ref(), f.index);
                        self.assign_id(f, t, None);
                    }
                }
            }
            Effect::Delete { thin } => {
                if let Some(t) = thin {
                    self.not_in_flight(f, t);
                    // A delete the step expects to be refused leaves the thin in place.
                    let refused = f.refusal.kind.is_some() || f.refusal.text;
                    if self.existing(f, t).is_some() && !refused {
                        self.fs_gone(f, t, "deleted");
                        self.not_under_device(f, t, "deleted");
                        let name = t.get_ref().as_str();
                        self.control.no_device.remove(name);
                        self.live.remove(name);
                        self.ids.free(name);
                        self.deleted.insert(name, f.index);
                    }
                }
            }
            Effect::Write { thin, region } => {
                if let Some(t) = thin {
                    self.not_in_flight(f, t);
                }
                self.chunks_touched_beside_background(f);
                self.write(f, thin.as_ref(), region.as_ref());
            }
            Effect::Background { thin } => {
                if let Some(name) = f.name.as_deref() {
                    self.in_flight.insert(name, (thin, f.index));
                }
            }
            Effect::Wait { step } => {
                self.files_in_flight.remove(step.get_ref().as_str());
                self.wait(f, step)
            }
            Effect::BackgroundFile { thin, path } => self.background_file(f, thin, path.as_deref()),
            Effect::AwaitMode { at } => self.await_mode(f, at),
            Effect::Read { thin } => {
                self.not_in_flight(f, thin);
                let _ = self.existing(f, thin);
            }
            Effect::CreateDevice {
                device,
                size,
                over,
                over_device,
                over_pool,
            } => {
                self.create_device(f, device, *size, over);
                self.device_under(f, device, *size, over_device.as_ref(), *over_pool);
            }
            Effect::DeviceIo {
                device,
                region,
                writes,
            } => self.device_io(f, device, region.as_ref(), *writes),
            Effect::UseDevice {
                device,
                external_origin,
            } => self.use_device(f, device, *external_origin),
            Effect::Discard { thin, at, spec } => {
                let Some(t) = thin else { return };
                self.not_in_flight(f, t);
                let size = self.existing(f, t).flatten();
                if let (Some(size), Some(d)) = (size, spec) {
                    let fits = d.offset.0 < size.0 && d.end(size).is_some_and(|e| e <= size);
                    if !fits && !f.refusal.expects(Kind::Einval) {
                        let d = Diagnostic::new(
                            at.clone(),
                            format!(
                                "the discard goes past the end of thin `{}` ({}): the kernel refuses it with EINVAL",
                                t.get_ref(),
                                size.human()
                            ),
                        )
                        .with_hint("keep `offset` + `length` (and `count` × `stride`) inside the thin, or add `expect.error = \"EINVAL\"` to test the refusal");
                        self.report(f, d);
                    }
                }
            }
            Effect::Exists(thins) => {
                for t in thins {
                    self.existing(f, t);
                }
            }
            Effect::ChunkFit(rule) => {
                if let Some(chunk) = self.chunk {
                    self.chunk_fit(f, rule, chunk.bytes());
                }
            }
            Effect::Many(effects) => {
                for e in effects {
                    self.effect(f, e);
                }
            }
            Effect::Message(m) => self.message(f, m),
            Effect::Generated { thins, size, at } => self.generated(f, thins, *size, at),
            Effect::PoolDown { at, what, reboot } => self.pool_down(f, at, what, *reboot),
            Effect::Suspend {
                thin,
                on,
                at,
                pool_resumes,
            } => self.suspend(f, thin.as_ref(), *on, at, *pool_resumes),
            Effect::Activate { thin, size, at } => self.activate(f, thin.as_ref(), *size, at),
            Effect::Deactivate { thin } => {
                if let Some(t) = thin {
                    self.fs_unmounted_for(f, t, "deactivated");
                    self.not_under_device(f, t, "deactivated");
                }
                self.deactivate(f, thin.as_ref())
            }
            Effect::Fs { thin, op } => {
                self.not_in_flight(f, thin);
                self.fs(f, thin, op)
            }
            Effect::FsDevice { device, op } => self.fs_device(f, device, op),
            Effect::NotOn {
                kind,
                why,
                fails_as,
            } => {
                if self.kind == Some(*kind) && !f.refusal.expects(*fails_as) {
                    self.report(f, why.clone());
                }
            }
        }
    }

    /// A new thin (create-thin, snapshot): its name, its explicit id's uniqueness among
    /// the steps, then the id the pool gives it.
    fn make(
        &mut self,
        f: &'a Facts,
        thin: Option<&'a Spanned<String>>,
        size: Option<Bytes>,
        id: Option<&Spanned<u32>>,
    ) {
        let reported = self.claim_id(f, id);
        if let Some(t) = thin {
            if self.create(f, t, size) {
                if reported {
                    // Said once is enough: the id is taken (or not) as the walk goes on.
                    if let Some(i) = id.filter(|i| self.ids.holder(*i.get_ref()).is_none()) {
                        self.ids.take(t.get_ref(), *i.get_ref());
                    }
                } else {
                    self.assign_id(f, t, id);
                }
            }
        }
    }

    /// A step other than a wait naming a thin a background step writes.
    fn not_in_flight(&mut self, f: &Facts, t: &Spanned<String>) {
        let hit = self
            .in_flight
            .iter()
            .find(|(_, (thin, _))| thin.get_ref() == t.get_ref());
        if let Some((step, _)) = hit {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{}` is written by background step `{step}` until its `wait`",
                    t.get_ref()
                ),
            )
            .with_hint(format!(
                "wait for it first (`action = \"wait\"`, `step = \"{step}\"`), or use another thin: the model would not know which write came first"
            ));
            self.report(f, d);
        }
    }

    fn wait(&mut self, f: &Facts, step: &Spanned<String>) {
        let name = step.get_ref().as_str();
        if let Some((name, _)) = self.in_flight.remove_entry(name) {
            self.waited.insert(name, f.index);
            return;
        }
        let msg = match self.waited.get(name) {
            Some(&at) => format!(
                "background step `{name}` is already waited for by {}",
                self.label(at)
            ),
            None => match self
                .facts
                .iter()
                .take(f.index)
                .find(|g| g.name.as_deref() == Some(name))
            {
                Some(_) => format!("`{name}` is not a background step"),
                None => format!("no step `{name}` before this one"),
            },
        };
        let d = Diagnostic::new(step.span(), msg)
            .with_hint("a wait names an earlier step with `background = true`, once");
        self.report(f, d);
    }

    /// Background steps left without a wait, each reported at its own step.
    fn never_waited(&mut self) {
        let mut left: Vec<(&str, &Spanned<String>, usize)> = self
            .in_flight
            .drain()
            .map(|(step, (thin, at))| (step, thin, at))
            .collect();
        left.sort_by_key(|(_, _, at)| *at);
        for (step, thin, at) in left {
            let Some(f) = self.facts.iter().find(|g| g.index == at) else {
                continue;
            };
            let span = f.name_span.clone().unwrap_or(thin.span());
            let d = Diagnostic::new(span, format!("background step `{step}` is never waited for"))
                .with_hint(format!(
                    "add a later step `action = \"wait\"` with `step = \"{step}\"`: its results and oracles are the wait's"
                ));
            self.report(f, d);
        }
    }

    fn write(&mut self, f: &'a Facts, thin: Option<&'a Spanned<String>>, region: Option<&Region>) {
        let Some(t) = thin else { return };
        let name = t.get_ref().as_str();
        if let (Some(at), true) = (&f.chunks_touched, self.shares.contains(name)) {
            let d = Diagnostic::new(
                at.clone(),
                format!("\"chunks-touched\" would undercount here: thin `{name}` shares blocks with a snapshot relation"),
            )
            .with_hint("\"chunks-touched\" counts chunks first written in the thin; a write to a block shared with an origin or snapshot allocates a copy without a first touch. The model's check (always on) counts copies: expect a number, or nothing");
            self.report(f, d);
        }
        self.written.insert(name);
        let size = self.existing(f, t).flatten();
        self.needs_device(f, t);
        if let (Some(size), Some(r)) = (size, region) {
            self.check_region(f, &format!("thin `{}`", t.get_ref()), size, r);
        }
    }

    /// Reports each setting of `rule` that does not fit the pool's `chunk`.
    fn chunk_fit(&mut self, f: &Facts, rule: &ChunkRule, chunk: Bytes) {
        let c = chunk.human();
        let (offset, region, io_size) = match rule {
            ChunkRule::Cow {
                offset,
                region,
                io_size,
            } => (Some(offset), Some(region), io_size),
            ChunkRule::DividesChunk { io_size } => (None, None, io_size),
        };
        if let Some(o) = offset.filter(|o| !o.get_ref().0.is_multiple_of(chunk.0)) {
            let d = Diagnostic::new(
                o.span(),
                format!("`offset` {} is not a multiple of the pool's {c} chunk: cow-overwrite writes whole chunks from it", o.get_ref().human()),
            )
            .with_hint(format!("use a multiple of {c}"));
            self.report(f, d);
        }
        if let Some(r) = region.filter(|r| !r.get_ref().0.is_multiple_of(2 * chunk.0)) {
            let d = Diagnostic::new(
                r.span(),
                format!(
                    "`region` {} is not a multiple of two of the pool's {c} chunks: cow-overwrite writes its first half sub-chunk and its second half in whole chunks",
                    r.get_ref().human()
                ),
            )
            .with_hint(format!("use a multiple of {}", Bytes(2 * chunk.0).human()));
            self.report(f, d);
        }
        let io = io_size.get_ref().0;
        let sub_chunk = offset.is_some();
        if io > chunk.0 || (sub_chunk && io == chunk.0) || !chunk.0.is_multiple_of(io) {
            let what = if sub_chunk {
                "a divisor of the pool's chunk below it (one sub-chunk IO per chunk)"
            } else {
                "a divisor of the pool's chunk (one IO maps one chunk)"
            };
            let d = Diagnostic::new(
                io_size.span(),
                format!(
                    "`io_size` {} must be {what}, and the chunk is {c}",
                    io_size.get_ref().human()
                ),
            )
            .with_hint("e.g. \"4KiB\"");
            self.report(f, d);
        }
    }

    fn report(&mut self, f: &Facts, d: Diagnostic) {
        self.d.push((d, f.index));
    }

    fn label(&self, index: usize) -> &str {
        self.facts
            .get(index)
            .map_or("an earlier step", |f| f.label.as_str())
    }

    /// Thin `t` made by `f`, unless a live thin has the name (reported); whether it was.
    fn create(&mut self, f: &Facts, t: &'a Spanned<String>, size: Option<Bytes>) -> bool {
        let name = t.get_ref().as_str();
        let made_by = self
            .live
            .get(name)
            .map(|(_, by)| *by)
            .or(self.unnamed.get(name).copied());
        if let Some(by) = made_by {
            let what = if self.unnamed.contains_key(name) {
                "may already exist (one of its metadata-fill snapshots)"
            } else {
                "already exists"
            };
            let d = Diagnostic::new(
                t.span(),
                format!("thin `{name}` {what}: {} made it", self.label(by)),
            )
            .with_hint("use another name, or delete it first with a delete-thin step");
            self.report(f, d);
            return false;
        }
        self.deleted.remove(name);
        self.live.insert(name, (size, f.index));
        true
    }

    /// The id thin `t` gets: `id`, refused when a live thin holds it (dm-thin answers
    /// EEXIST) or on direct-lvm (lvm chooses), else the pool's next; refused when the pool
    /// has none left. A step that expects the refusal is not reported.
    fn assign_id(&mut self, f: &Facts, t: &'a Spanned<String>, id: Option<&Spanned<u32>>) {
        let name = t.get_ref().as_str();
        if let Some(id) = id {
            let n = *id.get_ref();
            if self.kind == Some(PoolKind::DirectLvm) {
                if !f.refusal.expects(Kind::Unsupported) {
                    let d = Diagnostic::new(
                        id.span(),
                        format!("`id` {n} on a direct-lvm pool: lvm chooses thin ids, and the backend refuses the step"),
                    )
                    .with_hint("leave `id` out, or run the step on loop-lvm pools only (`pools = [...]`)");
                    self.report(f, d);
                }
                // As if it had been made (the walk goes on), with the id lvm would give.
            } else if let Some(holder) = self.ids.holder(n) {
                if !f.refusal.expects(Kind::Eexist) {
                    let by = self
                        .live
                        .get(holder)
                        .map(|(_, by)| *by)
                        .or(self.unnamed.get(holder).copied());
                    let made =
                        by.map_or(String::new(), |b| format!(" ({} made it)", self.label(b)));
                    let d = Diagnostic::new(
                        id.span(),
                        format!("thin id {n} is in use by thin `{holder}`{made}: dm-thin refuses a second thin with it (EEXIST)"),
                    )
                    .with_hint("a thin made without `id` takes the lowest free id from 1; pick an id no live thin holds, or leave `id` out");
                    self.report(f, d);
                }
                return;
            } else {
                self.ids.take(name, n);
                return;
            }
        }
        match self.ids.next() {
            Some(i) => self.ids.take(name, i),
            None if f.refusal.expects(Kind::Unsupported) => {}
            None => {
                let why = match self.ids.rule() {
                    IdRule::AfterHighest => format!(
                        "lvm gives one past the highest id in use, and a live thin holds {}, dm-thin's last",
                        ThinId::MAX
                    ),
                    IdRule::LowestFree => format!("every id from 1 to {} is in use", ThinId::MAX),
                };
                let d = Diagnostic::new(t.span(), format!("no thin id left for thin `{name}`: {why}"))
                    .with_hint("delete a thin first (on direct-lvm, the one with the highest id), or give thins lower ids");
                self.report(f, d);
            }
        }
    }

    /// Records an explicit id; reports (and returns true) when an earlier step gave it.
    fn claim_id(&mut self, f: &Facts, id: Option<&Spanned<u32>>) -> bool {
        let Some(id) = id else { return false };
        if let Some(by) = self.explicit_ids.get(id.get_ref()) {
            let d = Diagnostic::new(
                id.span(),
                format!("thin id {} is already used by {}", id.get_ref(), self.label(*by)),
            )
            .with_hint("explicit ids must be unique among a pool's steps; leave `id` out to use the pool's next free one");
            self.report(f, d);
            true
        } else {
            self.explicit_ids.insert(*id.get_ref(), f.index);
            false
        }
    }

    /// The size of live thin `t` (`Some(None)`: live, size unknown), or a report of why
    /// it does not exist.
    fn existing(&mut self, f: &Facts, t: &Spanned<String>) -> Option<Option<Bytes>> {
        let name = t.get_ref().as_str();
        if let Some((size, _)) = self.live.get(name) {
            return Some(*size);
        }
        let (message, hint) = if let Some(by) = self.unnamed.get(name) {
            (
                format!(
                    "thin `{name}` is one of {}'s metadata-fill snapshots, which later steps cannot use: how many it takes depends on the pool",
                    self.label(*by)
                ),
                "take a snapshot of your own with a snapshot step, and use that".to_owned(),
            )
        } else if let Some(by) = self.deleted.get(name) {
            (
                format!(
                    "thin `{name}` no longer exists: {} deleted it",
                    self.label(*by)
                ),
                "create it again, or use another thin".to_owned(),
            )
        } else {
            let made_by = self.creators.get(name).map(Vec::as_slice).unwrap_or(&[]);
            match made_by.iter().find(|&&i| i != f.index) {
                Some(&later) if later > f.index => (
                    format!(
                        "thin `{name}` does not exist yet: {} makes it later",
                        self.label(later)
                    ),
                    "steps run in file order; move this step after it".to_owned(),
                ),
                Some(&other) => (
                    format!("thin `{name}` does not exist here"),
                    format!(
                        "{} makes it, but not on this pool: compare the two steps' `pools`",
                        self.label(other)
                    ),
                ),
                None => {
                    let names: Vec<&str> = self.creators.keys().copied().collect();
                    let hint = match suggest(name, &names) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => "make it first with a create-thin or snapshot step".to_owned(),
                    };
                    (format!("no thin named `{name}`"), hint)
                }
            }
        };
        let d = Diagnostic::new(t.span(), message).with_hint(hint);
        self.report(f, d);
        None
    }

    /// `what`: "thin `x`" or "device `x`", as the messages name it.
    pub(super) fn check_region(&mut self, f: &Facts, what: &str, size: Bytes, r: &Region) {
        let offset = *r.offset.get_ref();
        let d = match &r.span {
            Some(span) => {
                let end = offset.0.checked_add(span.get_ref().0);
                (end.is_none_or(|e| e > size.0)).then(|| {
                    Diagnostic::new(
                        span.span(),
                        format!(
                            "`offset` + `span` ({} + {}) goes past the end of {what} ({})",
                            offset.human(),
                            span.get_ref().human(),
                            size.human()
                        ),
                    )
                })
            }
            None => {
                let end = offset.0.checked_add(r.io_size.0);
                (end.is_none_or(|e| e > size.0)).then(|| {
                    Diagnostic::new(
                        r.offset.span(),
                        format!(
                            "`offset` {} leaves no room for one {} IO in {what} ({})",
                            offset.human(),
                            r.io_size.human(),
                            size.human()
                        ),
                    )
                })
            }
        };
        if let Some(d) = d {
            self.report(f, d);
        }
    }
}

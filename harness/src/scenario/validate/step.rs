//! `[[step]]` tables: the action, name and pools of each step, then the action's own keys
//! (one file per action family) and its expectations; what the walk needs goes to `Facts`.

use super::actions::{ActionKind, ACTIONS, RESERVED_ACTIONS};
use super::expect::Observer;
use super::walk::{ChunkRule, Effect, Facts, Refusal};
use super::{Checker, SCENARIO_FORMAT_VERSION};
use crate::scenario::raw::{Field, RawStep, Span, STEP_KEYS};
use crate::scenario::suggest;
use crate::spec::{Action, DeleteMethod, Expect, StepSpec};
use serde_spanned::Spanned;
use thinbench_schema::ids::Ident;

impl Checker {
    pub(super) fn step(
        &mut self,
        index: usize,
        s: &RawStep,
        pool_names: &[&str],
    ) -> (Option<StepSpec>, Facts) {
        let valid_actions = ACTIONS.map(|(n, _)| n).join(", ");
        let kind = match &s.action {
            Field::Absent => {
                self.err_hint(
                    s.table.clone(),
                    "[[step]] has no `action`",
                    format!("add `action = \"...\"`, one of: {valid_actions}"),
                );
                None
            }
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.action_kind(value, &valid_actions),
        };
        if let Some(kind) = kind {
            for (key, span) in s.action_keys() {
                if !STEP_KEYS.takes(kind.name(), key) {
                    let owners = STEP_KEYS.variants_taking(key).join(", ");
                    self.err_hint(
                        span,
                        format!(
                            "`{key}` is not a key of {} steps (it is for: {owners})",
                            kind.name()
                        ),
                        format!(
                            "{} steps take: {}",
                            kind.name(),
                            STEP_KEYS.keys_of(kind.name())
                        ),
                    );
                }
            }
        }

        // `step0-create-thin`: an identifier must start with a letter, and the index
        // first keeps default names in step order.
        let default_name = kind.map(|k| format!("step{index}-{}", k.name()));
        let (name, shown_name) = match &s.name {
            Field::Given { value, .. } => (
                self.ident(value, "step name"),
                Some(value.get_ref().clone()),
            ),
            Field::Invalid { .. } => (None, None),
            Field::Absent => (
                default_name.as_deref().and_then(|n| Ident::new(n).ok()),
                default_name,
            ),
        };
        let label = match &shown_name {
            Some(n) => format!("step `{n}`"),
            None => format!("step #{index}"),
        };

        let pools = match &s.pools {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.step_pools(value, pool_names).map(Some),
        };
        let fact_pools = s
            .pools
            .value()
            .map(|v| v.get_ref().iter().map(|p| p.get_ref().clone()).collect());

        let (action, mut effect) = match kind {
            None => (None, Effect::Nothing),
            Some(k) => self.action(k, s),
        };
        // cow-overwrite makes the snapshot chain `<step>-1` … `<step>-<depth>`; later steps
        // may use them (delete the container layer, say).
        if let (Some(Action::CowOverwrite(c)), Some(step_name)) = (&action, &shown_name) {
            let at = s.name.value().map_or(s.table.clone(), |v| v.span());
            let mut parent = s.origin.value().cloned();
            let given = |f: Option<Span>| f.unwrap_or(s.table.clone());
            let rule = ChunkRule::Cow {
                offset: Spanned::new(given(s.offset.value().map(|v| v.span())), c.offset),
                region: Spanned::new(given(s.region.value().map(|v| v.span())), c.region),
                io_size: Spanned::new(given(s.io_size.value().map(|v| v.span())), c.io_size),
            };
            let mut effects = vec![effect, Effect::ChunkFit(rule)];
            for k in 1..=c.depth {
                let layer = Spanned::new(at.clone(), format!("{step_name}-{k}"));
                effects.push(Effect::Snapshot {
                    thin: Some(layer.clone()),
                    origin: parent.take(),
                    id: None,
                });
                parent = Some(layer);
            }
            effect = Effect::Many(effects);
        }
        // delete: the filesystem writes the thin; `snapshot = true` makes `<step>-snap`;
        // blkdiscard ends with the thin deleted.
        if let Some(Action::Delete(d)) = &action {
            let thin = s.thin.value().cloned();
            let mut effects = vec![effect];
            if let (true, Some(step_name)) = (d.snapshot, &shown_name) {
                let at = s.name.value().map_or(s.table.clone(), |v| v.span());
                effects.push(Effect::Snapshot {
                    thin: Some(Spanned::new(at, format!("{step_name}-snap"))),
                    origin: thin.clone(),
                    id: None,
                });
            }
            if d.method == DeleteMethod::Blkdiscard {
                effects.push(Effect::Delete { thin });
            }
            effect = Effect::Many(effects);
        }
        // metadata-fill takes snapshots `<step>-1` … `<step>-<snapshots>` (as many as the
        // pool's metadata allows): they hold names and ids, but later steps cannot use them.
        if let (Some(Action::MetadataFill(m)), Some(step_name)) = (&action, &shown_name) {
            let at = s.name.value().map_or(s.table.clone(), |v| v.span());
            let thins = (1..=m.snapshots)
                .map(|k| Spanned::new(at.clone(), format!("{step_name}-{k}")))
                .collect();
            let io_size = Spanned::new(
                s.io_size.value().map_or(s.table.clone(), |v| v.span()),
                m.io_size,
            );
            effect = Effect::Many(vec![
                effect,
                Effect::ChunkFit(ChunkRule::DividesChunk { io_size }),
                Effect::Unnamed { thins },
            ]);
        }
        // `expect.mapped` names thins that must exist after the step.
        if let Some(m) = s.expect.value().and_then(|e| e.get_ref().mapped.value()) {
            let named = m.get_ref().iter().map(|(n, _)| n.clone()).collect();
            effect = Effect::Many(vec![effect, Effect::Exists(named)]);
        }
        let expect = match &s.expect {
            Field::Absent => Some(Vec::new()),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let who = kind.map(|k| observer(k, s));
                self.expect(value.get_ref(), who.as_ref())
            }
        };
        let refusal = Refusal {
            kind: expect.iter().flatten().find_map(|e| match e {
                Expect::Error(k) => Some(*k),
                _ => None,
            }),
            text: expect
                .iter()
                .flatten()
                .any(|e| matches!(e, Expect::ErrorContains(_))),
        };
        let (await_mode, await_effect) = self.await_mode(s);
        if let Some(e) = await_effect {
            effect = Effect::Many(vec![e, effect]);
        }
        let spec = match (name, pools, action, expect, await_mode) {
            (Some(name), Some(pools), Some(action), Some(expect), Some(await_mode)) => {
                Some(StepSpec {
                    index,
                    name,
                    pools,
                    action,
                    expect,
                    await_mode,
                })
            }
            _ => None,
        };
        let chunks_touched = s.expect.value().and_then(|e| match &e.get_ref().data_blocks_allocated {
            Field::Given { value, .. } => matches!(value.get_ref(), thinbench_schema::toml_tree::IntOrText::Text(t) if t == "chunks-touched").then(|| value.span()),
            _ => None,
        });
        let facts = Facts {
            chunks_touched,
            index,
            name: shown_name,
            name_span: s.name.value().map(|v| v.span()),
            label,
            pools: fact_pools,
            effect,
            refusal,
        };
        (spec, facts)
    }

    fn action_kind(&mut self, v: &Spanned<String>, valid: &str) -> Option<ActionKind> {
        let s = v.get_ref().as_str();
        if let Some((_, k)) = ACTIONS.iter().find(|(n, _)| *n == s) {
            return Some(*k);
        }
        if s == "fio" {
            self.err_hint(
                v.span(),
                "fio is an engine, not an action",
                "write `action = \"io\"` with `engine = \"fio\"` and a `job` (or `job_file`)",
            );
            return None;
        }
        if RESERVED_ACTIONS.contains(&s) {
            self.err_hint(
                v.span(),
                format!("action `{s}` is not supported yet in format v{SCENARIO_FORMAT_VERSION} (planned)"),
                format!("supported actions: {valid}"),
            );
            return None;
        }
        let names = ACTIONS.map(|(n, _)| n);
        let hint = match suggest(s, &names) {
            Some(m) => format!("did you mean `{m}`? valid actions: {valid}"),
            None => format!("valid actions: {valid}"),
        };
        self.err_hint(v.span(), format!("unknown action `{s}`"), hint);
        None
    }

    fn step_pools(
        &mut self,
        v: &Spanned<Vec<Spanned<String>>>,
        pool_names: &[&str],
    ) -> Option<Vec<Ident>> {
        let names = v.get_ref();
        if names.is_empty() {
            self.err_hint(
                v.span(),
                "`pools` is empty: the step would run nowhere",
                "leave `pools` out to run the step on every pool",
            );
            return None;
        }
        let mut out = Vec::with_capacity(names.len());
        let mut ok = true;
        for (i, n) in names.iter().enumerate() {
            let s = n.get_ref().as_str();
            if names[..i].iter().any(|p| p.get_ref() == s) {
                self.err(n.span(), format!("pool `{s}` is listed twice in `pools`"));
                ok = false;
            } else if !pool_names.contains(&s) {
                let listed = pool_names
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let hint = match suggest(s, pool_names) {
                    Some(m) => format!("did you mean `{m}`? pools: {listed}"),
                    None => format!("pools: {listed}"),
                };
                self.err_hint(n.span(), format!("no pool named `{s}`"), hint);
                ok = false;
            } else {
                // The pool's own check reports a name that is not an identifier.
                match Ident::new(s) {
                    Ok(i) => out.push(i),
                    Err(_) => ok = false,
                }
            }
        }
        ok.then_some(out)
    }

    /// The action's own keys: its spec, and its effect on the pool's thins for the walk.
    fn action(&mut self, kind: ActionKind, s: &RawStep) -> (Option<Action>, Effect) {
        match kind {
            ActionKind::CreateThin => self.create_thin(s),
            ActionKind::Snapshot => self.snapshot(s),
            ActionKind::DeleteThin => self.delete_thin(s),
            ActionKind::SmallWrite => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.small_write(s, thin);
                let background = spec.as_ref().is_some_and(|w| w.background);
                let write = Effect::Write {
                    thin: thin_raw.clone(),
                    region,
                };
                let effect = match (background, thin_raw) {
                    (true, Some(thin)) => Effect::Many(vec![write, Effect::Background { thin }]),
                    _ => write,
                };
                (spec.map(Action::SmallWrite), effect)
            }
            ActionKind::Wait => self.wait(s),
            ActionKind::CreateDevice => self.create_device(s),
            ActionKind::Verify => self.verify(s),
            ActionKind::CowOverwrite => {
                let (origin, origin_raw) =
                    self.thin_name(&s.origin, &s.table, kind, "origin", false);
                let (spec, region) = self.cow_overwrite(s, origin);
                (
                    spec.map(Action::CowOverwrite),
                    Effect::Write {
                        thin: origin_raw,
                        region,
                    },
                )
            }
            ActionKind::DeferredRemoval | ActionKind::DeferredDeletion => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let action = self.deferred(s, thin).map(|d| {
                    if kind == ActionKind::DeferredRemoval {
                        Action::DeferredRemoval(d)
                    } else {
                        Action::DeferredDeletion(d)
                    }
                });
                (action, Effect::Delete { thin: thin_raw })
            }
            ActionKind::Delete => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                (
                    self.delete(s, thin).map(Action::Delete),
                    Effect::Write {
                        thin: thin_raw,
                        region: None,
                    },
                )
            }
            ActionKind::MetadataFill => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.metadata_fill(s, thin);
                (
                    spec.map(Action::MetadataFill),
                    Effect::Write {
                        thin: thin_raw,
                        region,
                    },
                )
            }
            ActionKind::RepairMetadata => (
                self.repair_metadata(s).map(Action::RepairMetadata),
                Effect::PoolDown {
                    at: s.table.clone(),
                    what: "repair-metadata",
                    reboot: false,
                },
            ),
            ActionKind::Reboot => (
                self.reboot(s).map(Action::Reboot),
                Effect::Many(vec![
                    self.reboot_effect(s),
                    Effect::PoolDown {
                        at: s.table.clone(),
                        what: "a reboot",
                        reboot: true,
                    },
                ]),
            ),
            ActionKind::Replay => (self.replay(s).map(Action::Replay), Effect::Nothing),
            ActionKind::Reload => {
                let (spec, effect) = self.reload(s);
                (spec.map(Action::Reload), effect)
            }
            ActionKind::Resize => (
                self.resize(s).map(Action::Resize),
                match s.online.value() {
                    Some(v) if !*v.get_ref() => Effect::PoolDown {
                        at: v.span(),
                        what: "an offline resize",
                        reboot: false,
                    },
                    _ => Effect::Nothing,
                },
            ),
            ActionKind::Io => self.io_step(s, kind),
            ActionKind::EngineVsFio => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.engine_vs_fio(s, thin);
                (
                    spec.map(Action::EngineVsFio),
                    Effect::Write {
                        thin: thin_raw,
                        region,
                    },
                )
            }
            ActionKind::Message => self.message(s),
            ActionKind::MetadataTool => self.metadata_tool(s),
            ActionKind::DmTable => self.dm_table(s),
            ActionKind::Idle => (
                self.duration(
                    "hold",
                    &s.hold,
                    (
                        std::time::Duration::from_millis(100),
                        std::time::Duration::from_secs(600),
                    ),
                )
                .map(|d| Action::Idle {
                    hold: d.unwrap_or(std::time::Duration::from_secs(2)),
                }),
                Effect::Nothing,
            ),
            ActionKind::Suspend => self.suspend(s, true),
            ActionKind::Resume => self.suspend(s, false),
            ActionKind::Activate => self.activate(s),
            ActionKind::Deactivate => self.deactivate(s),
            ActionKind::Mkfs
            | ActionKind::Mount
            | ActionKind::Umount
            | ActionKind::File
            | ActionKind::VerifyFiles
            | ActionKind::Fsck => self.fs_step(kind, s),
            ActionKind::Discard => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                self.discard(s, thin, thin_raw)
            }
            ActionKind::Fill => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, _, victim_raw) = self.fill(s, thin);
                (
                    spec.map(Action::Fill),
                    Effect::Many(vec![
                        Effect::Write {
                            thin: thin_raw,
                            region: None,
                        },
                        Effect::Delete { thin: victim_raw },
                    ]),
                )
            }
        }
    }
}

/// The steps of `kind` as expectations' messages name them, and what they record (an `io`
/// step's depends on its engine, and on whether it writes a thin or a device).
fn observer(kind: ActionKind, s: &RawStep) -> Observer {
    let fio = kind == ActionKind::Io && s.engine.value().is_some_and(|e| e.get_ref() == "fio");
    let device = kind == ActionKind::Io && s.device.is_present();
    let mut observes = kind.observes(fio);
    // No thin of the pool is written: there are no chunks of one to touch.
    observes.chunks_touched &= !device;
    Observer {
        label: match (fio, device) {
            (_, true) => "io steps on a device".to_owned(),
            (true, false) => "io steps with `engine = \"fio\"`".to_owned(),
            (false, false) => format!("{} steps", kind.name()),
        },
        observes,
    }
}

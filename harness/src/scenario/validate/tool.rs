//! `metadata-tool`: which tool, on what, and the keys each tool takes. A tool that
//! writes, run on the live metadata, would destroy the pool's metadata if it did not
//! refuse: such a step must say that it expects the refusal.

use super::actions::ActionKind;
use super::control::expects_failure;
use super::walk::Effect;
use super::{Checker, SizeRule};
use crate::errors::Kind;
use crate::scenario::raw::RawStep;
use crate::scenario::Diagnostic;
use crate::spec::{
    Action, Damage, GeneratedLayout, GeneratedMetadata, MetadataSource, MetadataTool,
    MetadataToolSpec,
};
use thinbench_schema::record::PoolKind;

impl Checker {
    /// `metadata-tool` settings; `same_as` is checked once every step is known.
    pub(super) fn metadata_tool(&mut self, s: &RawStep) -> (Option<Action>, Effect) {
        let kind = ActionKind::MetadataTool;
        let tool = self
            .required(
                &s.tool,
                &s.table,
                "metadata-tool step has no `tool`",
                "add `tool = \"thin_dump\"` (or thin_delta, thin_ls, thin_check, thin_restore, thin_repair, thin_trim)",
            )
            .and_then(|v| self.choice("tool", v, &MetadataTool::ALL));
        let metadata = self.choice_or(
            "metadata",
            &s.metadata,
            MetadataSource::Snapshot,
            &[
                ("snapshot", MetadataSource::Snapshot),
                ("live", MetadataSource::Live),
                ("inactive", MetadataSource::Inactive),
            ],
        );
        let (mut thin, mut origin) = (None, None);
        let mut effects = Vec::new();
        let delta = tool == Some(MetadataTool::Delta);
        for (key, field) in [("thin", &s.thin), ("origin", &s.origin)] {
            match (delta, field.key()) {
                (true, _) => {
                    let (id, raw) = self.thin_name(field, &s.table, kind, key, false);
                    if let Some(raw) = raw {
                        effects.push(Effect::Read { thin: raw });
                    }
                    match key {
                        "thin" => thin = id,
                        _ => origin = id,
                    }
                }
                (false, Some(at)) => self.err_hint(
                    at,
                    format!("`{key}` is a key of thin_delta"),
                    "thin_delta compares `origin` (--thin1) with `thin` (--thin2); the other tools read the whole metadata",
                ),
                (false, None) => {}
            }
        }
        let same_as = match (tool, s.same_as.value()) {
            (_, None) => Some(None),
            (Some(MetadataTool::Dump), Some(v)) => self.ident(v, "step name").map(Some),
            (Some(_), Some(v)) => {
                self.err_hint(
                    v.span(),
                    "`same_as` is a key of thin_dump",
                    "it names an earlier thin_dump step whose XML this one's must equal",
                );
                None
            }
            (None, Some(_)) => None,
        };
        let generate = self.generated(s, tool, metadata, &mut effects);
        let generating = s.generate.is_present();
        let from = match (tool, s.from.value()) {
            (Some(MetadataTool::Restore), Some(v)) if generating => {
                self.err_hint(
                    v.span(),
                    "thin_restore step has both `from` and `generate`",
                    "restore either an earlier dump (`from`) or generated metadata (`generate`)",
                );
                None
            }
            (Some(MetadataTool::Restore), Some(v)) => self.ident(v, "step name").map(Some),
            (Some(MetadataTool::Restore), None)
                if metadata == Some(MetadataSource::Inactive) && !generating =>
            {
                self.err_hint(
                    s.table.clone(),
                    "thin_restore step has no `from`",
                    "add `from = \"STEP\"`, an earlier thin_dump step whose XML is restored",
                );
                None
            }
            (_, None) => Some(None),
            (Some(_), Some(v)) => {
                self.err_hint(
                    v.span(),
                    "`from` is a key of thin_restore",
                    "it names the earlier thin_dump step whose XML is restored",
                );
                None
            }
            (None, Some(_)) => None,
        };
        if metadata == Some(MetadataSource::Inactive) {
            effects.push(Effect::PoolDown {
                at: s.metadata.value().map_or(s.table.clone(), |v| v.span()),
                what: "a metadata tool on the inactive metadata",
                reboot: false,
            });
            if let Some(span) = s.metadata.value().map(|v| v.span()) {
                effects.push(Effect::NotOn {
                    kind: PoolKind::DirectLvm,
                    why: Diagnostic::new(
                        span,
                        "not yet: the metadata tools on a direct-lvm pool's inactive metadata: lvm activates `_tmeta` only read-only (component activation), and writes metadata itself (`lvconvert --repair`, `--poolmetadata`)",
                    )
                    .with_hint("run the step on loop-lvm pools only (`pools = [...]`), or use `metadata = \"snapshot\"` for the tools that read"),
                    fails_as: Kind::Unsupported,
                });
            }
        }
        let damage = self.damage(s, metadata, generating);
        let repair = match s.repair.value() {
            None => Some(false),
            Some(v)
                if tool == Some(MetadataTool::Dump)
                    && metadata == Some(MetadataSource::Inactive) =>
            {
                Some(*v.get_ref())
            }
            Some(v) => {
                self.err_hint(
                    v.span(),
                    "`repair` is a key of thin_dump on the inactive metadata",
                    "`tool = \"thin_dump\"`, `metadata = \"inactive\"`, `repair = true`: thin_dump --repair, its XML restored (for thin_repair itself, `tool = \"thin_repair\"`)",
                );
                None
            }
        };
        if let (Some(t), Some(m)) = (tool, metadata) {
            let at = s.tool.key().unwrap_or(s.table.clone());
            match m {
                MetadataSource::Live if t.writes() && !expects_failure(s) => self.err_hint(
                    at,
                    format!("{} on the live metadata must expect its refusal", t.program()),
                    "add `expect.error = \"refused\"`: were it not refused, it would overwrite the pool's metadata",
                ),
                MetadataSource::Snapshot if t.writes() => {
                    self.err_hint(
                        at,
                        format!("{} does not read a metadata snapshot", t.program()),
                        "on a metadata snapshot: thin_dump, thin_delta, thin_ls, thin_check; thin_restore and thin_trim with `metadata = \"inactive\"` (or \"live\", where they must refuse)",
                    )
                }
                _ => {}
            }
        }
        let spec = match (tool, metadata, same_as, from, damage, generate, repair) {
            (
                Some(tool),
                Some(metadata),
                Some(same_as),
                Some(from),
                Some(damage),
                Some(generate),
                Some(repair),
            ) if !delta || (thin.is_some() && origin.is_some()) => {
                Some(Action::MetadataTool(MetadataToolSpec {
                    tool,
                    metadata,
                    thin,
                    origin,
                    same_as,
                    from,
                    damage,
                    generate,
                    repair,
                }))
            }
            _ => None,
        };
        let effect = match effects.len() {
            0 => Effect::Nothing,
            _ => Effect::Many(effects),
        };
        (spec, effect)
    }
}

/// Most thins generated metadata may hold.
const MAX_GENERATED: usize = 64;

/// Each generated thin's size.
const GENERATED_SIZE: SizeRule = SizeRule {
    min: 64 * 1024,
    max: 1024 * 1024 * 1024 * 1024,
    multiple_of: 64 * 1024,
    max_why: "a thin of generated metadata is mapped whole: 1TiB is 16M blocks of 64KiB",
};

/// The most a `damage_at` may overwrite.
const DAMAGE: SizeRule = SizeRule {
    min: 1,
    max: 1024 * 1024,
    multiple_of: 1,
    max_why: "a damage is a few bytes of a metadata block or two",
};

/// Where a damage may start: within a metadata device (at most 16GiB, dm-thin's limit).
const DAMAGE_AT: SizeRule = SizeRule {
    min: 0,
    max: 16 * 1024 * 1024 * 1024,
    multiple_of: 1,
    max_why: "dm-thin's metadata device is at most 16GiB",
};

impl Checker {
    /// `generate`, `thins`, `size` (and `seed`): generated metadata for thin_restore on
    /// the inactive metadata.
    fn generated(
        &mut self,
        s: &RawStep,
        tool: Option<MetadataTool>,
        metadata: Option<MetadataSource>,
        effects: &mut Vec<Effect>,
    ) -> Option<Option<GeneratedMetadata>> {
        let Some(v) = s.generate.value() else {
            for (k, f) in [("thins", s.thins.key()), ("size", s.size.key())] {
                if let Some(at) = f {
                    self.err_hint(
                        at,
                        format!("`{k}` goes with `generate`"),
                        "add `generate = \"linear\"` (or \"random\"): the metadata thin_restore writes",
                    );
                }
            }
            return Some(None);
        };
        let layout = self.choice(
            "generate",
            v,
            &[
                ("linear", GeneratedLayout::Linear),
                ("random", GeneratedLayout::Random),
            ],
        );
        layout?;
        if tool != Some(MetadataTool::Restore) || metadata != Some(MetadataSource::Inactive) {
            self.err_hint(
                v.span(),
                "`generate` is for thin_restore on the inactive metadata",
                "`tool = \"thin_restore\"`, `metadata = \"inactive\"`",
            );
            return None;
        }
        let raw = self.required(
            &s.thins,
            &s.table,
            "generated metadata has no `thins`",
            "add `thins = [\"g0\", \"g1\"]`, the names of the thins it holds",
        );
        let thins = raw.and_then(|list| {
            let names = list.get_ref();
            if names.is_empty() || names.len() > MAX_GENERATED {
                self.err_hint(
                    list.span(),
                    format!("{} thins", names.len()),
                    format!("generate 1 to {MAX_GENERATED} thins"),
                );
                return None;
            }
            effects.push(Effect::Generated {
                thins: names.clone(),
                size: None,
                at: v.span(),
            });
            names
                .iter()
                .map(|n| self.ident(n, "thin name"))
                .collect::<Option<Vec<_>>>()
        });
        let size = self
            .required(
                &s.size,
                &s.table,
                "generated metadata has no `size`",
                "add `size = \"64MiB\"`: each thin's size, every block of it mapped",
            )
            .is_some()
            .then(|| self.size("size", &s.size, 0, &GENERATED_SIZE))
            .flatten();
        if let Some(Effect::Generated { size: sz, .. }) = effects.last_mut() {
            *sz = size;
        }
        let seed = self.int("seed", &s.seed, 1, (0, i64::MAX), None);
        Some(Some(GeneratedMetadata {
            layout: layout?,
            thins: thins?,
            size: size?,
            seed: u64::try_from(seed?).ok()?,
        }))
    }

    /// `damage_at`, `damage_bytes`, `seed`: only on the inactive metadata (`seed` is the
    /// generated layout's when `generating`).
    fn damage(
        &mut self,
        s: &RawStep,
        metadata: Option<MetadataSource>,
        generating: bool,
    ) -> Option<Option<Damage>> {
        let Some(at_key) = s.damage_at.key() else {
            let seed = if generating { None } else { s.seed.key() };
            for (k, f) in [("damage_bytes", s.damage_bytes.key()), ("seed", seed)] {
                if let Some(at) = f {
                    self.err_hint(at, format!("`{k}` goes with `damage_at`"), "add `damage_at`, the byte offset of the metadata device the damage starts at");
                }
            }
            return Some(None);
        };
        if metadata != Some(MetadataSource::Inactive) {
            self.err_hint(
                at_key,
                "`damage_at` damages the inactive metadata",
                "add `metadata = \"inactive\"`: the pool is taken down for the damage and the tool",
            );
            return None;
        }
        let at = self.size("damage_at", &s.damage_at, 0, &DAMAGE_AT);
        let len = self.size("damage_bytes", &s.damage_bytes, 512, &DAMAGE);
        let seed = self.int("seed", &s.seed, 1, (0, i64::MAX), None);
        Some(Some(Damage {
            at: at?,
            len: len?,
            seed: u64::try_from(seed?).ok()?,
        }))
    }
}

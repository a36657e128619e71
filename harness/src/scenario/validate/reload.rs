//! The table-control actions: `reload` (the pool's table again with changed features)
//! and `resize` (the data or metadata device grown, or a shrink expected to be refused).
//! What a direct-lvm pool cannot be asked (lvm has no command for it) is the walk's to
//! report, per pool (`Effect::NotOn`).

use super::pool::CHUNK_HINT;
use super::walk::Effect;
use super::{Checker, SizeRule, TIB};
use crate::errors::Kind;
use crate::scenario::raw::{Field, RawStep, Span};
use crate::scenario::Diagnostic;
use crate::spec::{NoSpacePolicy, ReloadSpec, ResizeAmount, ResizeDevice, ResizeSpec};
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::ChunkSize;

/// `by` and `to` of a resize: whole sectors, up to the loop files' and LVs' cap.
const RESIZE: SizeRule = SizeRule {
    min: 512,
    max: 16 * TIB,
    multiple_of: 512,
    max_why: "loop files and LVs are capped at 16TiB here",
};

/// Reload keys lvm has no command for on a thin pool, and why.
const NOT_ON_LVM: [(&str, &str); 3] = [
    (
        "read_only",
        "lvm has no read-only thin pool: `lvchange --permission r` is for thin LVs, and lvm refuses it on a pool",
    ),
    (
        "low_water_mark",
        "lvm loads the pool's low water mark itself (0: dmeventd watches the pool instead), and no lvm command sets it",
    ),
    (
        "chunk_size",
        "lvm fixes a pool's chunk size when it makes the pool (`lvconvert -c`), and no lvm command changes it",
    ),
];

fn boolean(f: &Field<bool>) -> Option<Option<bool>> {
    match f {
        Field::Absent => Some(None),
        Field::Invalid { .. } => None,
        Field::Given { value, .. } => Some(Some(*value.get_ref())),
    }
}

impl Checker {
    /// `reload` settings, and the direct-lvm refusals the walk reports per pool.
    pub(super) fn reload(&mut self, s: &RawStep) -> (Option<ReloadSpec>, Effect) {
        let no_space = match &s.no_space {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self
                .choice(
                    "no_space",
                    value,
                    &[
                        ("queue", NoSpacePolicy::Queue),
                        ("error", NoSpacePolicy::Error),
                    ],
                )
                .map(Some),
        };
        let low_water_mark = match &s.low_water_mark {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.low_water_mark(value).map(Some),
        };
        let chunk = match &s.chunk_size {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                self.bytes("chunk_size", value)
                    .and_then(|b| match ChunkSize::new(b) {
                        Ok(c) => Some(Some(c)),
                        Err(e) => {
                            self.err_hint(value.span(), e, CHUNK_HINT);
                            None
                        }
                    })
            }
        };
        let keys: [(&str, Option<Span>); 3] = [
            ("read_only", s.read_only.key()),
            ("low_water_mark", s.low_water_mark.key()),
            ("chunk_size", s.chunk_size.key()),
        ];
        let effects = keys
            .iter()
            .filter_map(|(key, span)| {
                let span = span.clone()?;
                let why = NOT_ON_LVM.iter().find(|(k, _)| k == key)?.1;
                Some(Effect::NotOn {
                    kind: PoolKind::DirectLvm,
                    why: Diagnostic::new(
                        span,
                        format!("`{key}` cannot be reloaded on a direct-lvm pool: {why}"),
                    )
                    .with_hint("run the step on loop-lvm pools only (`pools = [...]`), or expect it to fail: `expect.error = \"unsupported\"`"),
                    fails_as: Kind::Unsupported,
                })
            })
            .collect();
        let spec = (|| {
            Some(ReloadSpec {
                no_space: no_space?,
                block_zeroing: boolean(&s.block_zeroing)?,
                discard_passdown: boolean(&s.discard_passdown)?,
                ignore_discard: boolean(&s.ignore_discard)?,
                read_only: boolean(&s.read_only)?,
                low_water_mark: low_water_mark?,
                chunk: chunk?,
            })
        })();
        (spec, Effect::Many(effects))
    }

    /// `resize` settings: the device, exactly one of `by` and `to`, and `online`.
    pub(super) fn resize(&mut self, s: &RawStep) -> Option<ResizeSpec> {
        let device = match &s.device {
            Field::Absent => {
                self.err_hint(
                    s.table.clone(),
                    "resize step has no `device`",
                    "add `device = \"data\"` or `device = \"metadata\"`",
                );
                None
            }
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice(
                "device",
                value,
                &[
                    ("data", ResizeDevice::Data),
                    ("metadata", ResizeDevice::Metadata),
                ],
            ),
        };
        let amount = match (&s.by, &s.to) {
            (Field::Absent, Field::Absent) => {
                self.err_hint(
                    s.table.clone(),
                    "resize step has neither `by` nor `to`",
                    "add `by = \"64MiB\"` (grow by) or `to = \"256MiB\"` (the new size)",
                );
                None
            }
            (Field::Given { key, .. }, Field::Given { .. }) => {
                self.err_hint(
                    key.clone(),
                    "resize step has both `by` and `to`",
                    "keep one: `by` grows by an amount, `to` gives the new size",
                );
                None
            }
            (Field::Invalid { .. }, _) | (_, Field::Invalid { .. }) => None,
            (by @ Field::Given { .. }, Field::Absent) => {
                self.size("by", by, 0, &RESIZE).map(ResizeAmount::By)
            }
            (Field::Absent, to @ Field::Given { .. }) => {
                self.size("to", to, 0, &RESIZE).map(ResizeAmount::To)
            }
        };
        let online = boolean(&s.online)?.unwrap_or(true);
        Some(ResizeSpec {
            device: device?,
            amount: amount?,
            online,
        })
    }
}

//! `discard` steps (BLKDISCARD of byte ranges of a thin) and the expectations that watch
//! discards: `mapped` (per-thin mapped blocks after the step) and `data_discard_bytes`
//! (what reached the pool's data device).

use super::walk::Effect;
use super::{Checker, SizeRule, TIB};
use crate::scenario::raw::{Field, RawExpect, RawStep};
use crate::spec::{Action, DiscardSpec, Expect};
use serde_spanned::Spanned;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::{Bytes, SECTOR_SIZE};

/// The block layer takes byte ranges in whole sectors; past 16TiB (the largest thin) a
/// range is a typo.
const RANGE: SizeRule = SizeRule {
    min: 0,
    max: 16 * TIB,
    multiple_of: SECTOR_SIZE,
    max_why: "16TiB is the largest thin a scenario can make",
};

/// The most discards one step issues: each is an ioctl (and a metadata change).
const MAX_DISCARDS: i64 = 1_000_000;

impl Checker {
    /// A `discard` step's keys, and its effect for the walk (the thin must exist, the
    /// ranges fit in it unless the step expects the kernel's EINVAL).
    pub(super) fn discard(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
        thin_raw: Option<Spanned<String>>,
    ) -> (Option<Action>, Effect) {
        let mut ok = true;
        let offset = self.size("offset", &s.offset, 0, &RANGE);
        let length = self.optional_range("length", &s.length, SECTOR_SIZE);
        let stride = self.optional_range("stride", &s.stride_size, 0);
        let count = match &s.count {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self
                .int_value(
                    "count",
                    value,
                    (1, MAX_DISCARDS),
                    Some("count is how many discards, `stride` apart"),
                )
                .map(|n| Some(n as u64)),
        };
        if let (Some(key), Field::Absent) = (s.count.key(), &s.stride_size) {
            self.err_hint(
                key,
                "`count` needs a `stride`",
                "`stride` is the distance from one discard's start to the next's; without one, the step is one discard of `length`",
            );
            ok = false;
        }
        if let (Some(key), Field::Absent) = (s.stride_size.key(), &s.length) {
            self.err_hint(
                key,
                "`stride` needs a `length`",
                "add `length`, the bytes of each discard (the default, to the thin's end, fits only once)",
            );
            ok = false;
        }
        if let (Some(Some(st)), Field::Absent, Some(key)) = (stride, &s.count, s.stride_size.key())
        {
            if st.0 == 0 {
                self.err_hint(
                    key,
                    "`stride = 0` repeats one discard, and needs a `count`",
                    "add `count`, how many times the same range is discarded",
                );
                ok = false;
            }
        }
        let spec = match (thin, offset, length, stride, count, ok) {
            (Some(thin), Some(offset), Some(length), Some(stride), Some(count), true) => {
                Some(DiscardSpec {
                    thin,
                    offset,
                    length,
                    stride,
                    count,
                    flush: s.flush.value().is_some_and(|v| *v.get_ref()),
                })
            }
            _ => None,
        };
        let effect = Effect::Discard {
            thin: thin_raw,
            // Where a range past the thin's end would be reported: the key that put it
            // there, else the step.
            at: s
                .count
                .key()
                .or(s.length.key())
                .or(s.offset.key())
                .unwrap_or(s.table.clone()),
            spec: spec.clone(),
        };
        (spec.map(Action::Discard), effect)
    }

    /// A size key that may be absent, within [`RANGE`] and at least `min`.
    fn optional_range(
        &mut self,
        key: &str,
        f: &Field<crate::scenario::raw::IntOrText>,
        min: u64,
    ) -> Option<Option<Bytes>> {
        match f {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let b = self.bytes(key, value)?;
                let rule = SizeRule { min, ..RANGE };
                self.size_rule(key, value.span(), b, &rule)
                    .then_some(Some(b))
            }
        }
    }

    /// `mapped` and `data_discard_bytes`, which every step can observe (the kernel's
    /// metadata and the data device's counters after it); false on a bad value.
    pub(super) fn discard_expectations(&mut self, e: &RawExpect, out: &mut Vec<Expect>) -> bool {
        let mut ok = true;
        match &e.mapped {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                let mut thins = Vec::new();
                if value.get_ref().is_empty() {
                    self.err_hint(
                        value.span(),
                        "`mapped` names no thin",
                        "write `mapped = { thin = N }`: N data blocks mapped by that thin after the step",
                    );
                    ok = false;
                }
                for (name, n) in value.get_ref() {
                    let id = self.ident(name, "thin name in `mapped`");
                    let blocks = u64::try_from(*n.get_ref()).ok();
                    if blocks.is_none() {
                        self.err(
                            n.span(),
                            format!("`mapped.{}` must not be negative", name.get_ref()),
                        );
                    }
                    match (id, blocks) {
                        (Some(id), Some(b)) => thins.push((id, b)),
                        _ => ok = false,
                    }
                }
                out.push(Expect::Mapped(thins));
            }
        }
        match &e.metadata_written {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => out.push(Expect::MetadataWritten(*value.get_ref())),
        }
        match &e.data_discard_bytes {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match self.bytes("data_discard_bytes", value) {
                Some(b) if b.0.is_multiple_of(SECTOR_SIZE) => out.push(Expect::DataDiscardBytes(b)),
                Some(b) => {
                    self.err_hint(
                        value.span(),
                        format!(
                            "`data_discard_bytes` is {}, not a multiple of 512 bytes",
                            b.human()
                        ),
                        "the block layer counts discarded sectors of 512 bytes",
                    );
                    ok = false;
                }
                None => ok = false,
            },
        }
        ok
    }
}

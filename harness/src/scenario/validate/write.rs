//! The write workloads: `small-write` (sizes, pattern, how much, where) and
//! `cow-overwrite` (a snapshot chain over a region of the origin).

use super::walk::{region_of, Region};
use super::{Checker, SizeRule, DEFAULT_IO_SIZE, DEFAULT_SEED, GIB, IO_SIZE, MIB, TIB};
use crate::scenario::raw::{Field, RawStep};
use crate::spec::{AccessPattern, CowSpec, Limit, SmallWriteSpec};
use serde_spanned::Spanned;
use std::time::Duration;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

const OFFSET: SizeRule = SizeRule {
    min: 0,
    max: 16 * TIB,
    multiple_of: 64 * 1024,
    max_why: "thin devices are capped at 16TiB here",
};

const COW_REGION: SizeRule = SizeRule {
    min: 128 * 1024,
    max: 16 * GIB,
    multiple_of: 128 * 1024,
    max_why: "a CoW region is written several times; keep it small",
};

impl Checker {
    /// `small-write` settings, and the region to check against the thin's size.
    pub(super) fn small_write(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<SmallWriteSpec>, Option<Region>) {
        let io_size = self.size("io_size", &s.io_size, DEFAULT_IO_SIZE, &IO_SIZE);
        let sequential = self.choice_or(
            "pattern",
            &s.pattern,
            false,
            &[("random", false), ("sequential", true)],
        );
        if sequential == Some(false) {
            if let Some(key) = s.stride.key() {
                self.err_hint(
                    key,
                    "`stride` only applies to `pattern = \"sequential\"`",
                    "a stride spaces sequential IOs: add `pattern = \"sequential\"` or remove it",
                );
            }
        }
        let stride = self.int(
            "stride",
            &s.stride,
            1,
            (1, 1 << 20),
            Some("a stride is a number of IO slots from one IO's start to the next's"),
        );
        let pattern = match (sequential, &s.seed) {
            (None, _) => None,
            (Some(true), Field::Absent) => match stride {
                Some(1) => Some(AccessPattern::Sequential),
                Some(n) => Some(AccessPattern::Strided { stride: n as u64 }),
                None => None,
            },
            (Some(true), seed) => {
                if let Some(key) = seed.key() {
                    self.err_hint(
                        key,
                        "`seed` only applies to `pattern = \"random\"`",
                        "sequential writes need no seed: remove it",
                    );
                }
                None
            }
            (Some(false), seed) => {
                let seed = self.int("seed", seed, DEFAULT_SEED, (0, i64::MAX), None);
                seed.and_then(|s| u64::try_from(s).ok())
                    .map(|seed| AccessPattern::Random { seed })
            }
        };

        let limit = match (&s.bytes, &s.count) {
            (Field::Absent, Field::Absent) => {
                self.err_hint(
                    s.table.clone(),
                    "small-write step has neither `bytes` nor `count`",
                    "say how much to write: `bytes = \"8MiB\"` or `count = 2048` (IOs)",
                );
                None
            }
            (bytes, count) if bytes.is_present() && count.is_present() => {
                if let Some(key) = count.key() {
                    self.err_hint(
                        key,
                        "small-write step has both `bytes` and `count`",
                        "give one of them: `bytes` (an amount) or `count` (a number of IOs)",
                    );
                }
                None
            }
            (Field::Given { value, .. }, _) => self.bytes("bytes", value).and_then(|b| {
                if b.0 == 0 {
                    self.err(value.span(), "`bytes` must be more than 0");
                    return None;
                }
                let io = io_size?;
                if !b.0.is_multiple_of(io.0) {
                    self.err_hint(
                        value.span(),
                        format!(
                            "`bytes` is {}, not a multiple of `io_size` ({})",
                            b.human(),
                            io.human()
                        ),
                        "a workload writes whole IOs",
                    );
                    return None;
                }
                Some(Limit::Bytes(b))
            }),
            (_, Field::Given { value, .. }) => self
                .int_value("count", value, (1, i64::MAX), None)
                .and_then(|n| u64::try_from(n).ok())
                .map(Limit::Count),
            // One of them had the wrong type; reported.
            _ => None,
        };

        let offset = match &s.offset {
            Field::Absent => Some(Bytes(0)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.bytes("offset", value),
        };
        let span = match &s.span {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.bytes("span", value).map(Some),
        };
        let mut region_ok = true;
        if let Some(io) = io_size {
            if let (Some(off), Some(v)) = (offset, s.offset.value()) {
                if !off.0.is_multiple_of(io.0) {
                    self.err(
                        v.span(),
                        format!(
                            "`offset` is {}, not a multiple of `io_size` ({})",
                            off.human(),
                            io.human()
                        ),
                    );
                    region_ok = false;
                }
            }
            if let (Some(Some(sp)), Some(v)) = (span, s.span.value()) {
                if sp < io {
                    self.err(
                        v.span(),
                        format!(
                            "`span` is {}, less than one IO (`io_size` {})",
                            sp.human(),
                            io.human()
                        ),
                    );
                    region_ok = false;
                } else if !sp.0.is_multiple_of(io.0) {
                    self.err(
                        v.span(),
                        format!(
                            "`span` is {}, not a multiple of `io_size` ({})",
                            sp.human(),
                            io.human()
                        ),
                    );
                    region_ok = false;
                }
            }
        }
        let region = region_of(s, io_size, offset, span, region_ok);
        let background = self.background(s);
        let busy_wait = self.duration(
            "busy_wait_per_io",
            &s.busy_wait_per_io,
            (Duration::from_micros(1), Duration::from_secs(1)),
        );
        let spec = match (thin, &region, pattern, limit, busy_wait) {
            (Some(thin), Some(r), Some(pattern), Some(limit), Some(busy_wait)) => {
                Some(SmallWriteSpec {
                    background,
                    busy_wait_per_io: busy_wait.unwrap_or_default(),
                    thin,
                    io_size: r.io_size,
                    pattern,
                    limit,
                    offset: *r.offset.get_ref(),
                    span: r.span.as_ref().map(|s| *s.get_ref()),
                })
            }
            _ => None,
        };
        (spec, region)
    }

    /// `cow-overwrite`: chunk-dependent rules (offset in whole chunks, region a multiple
    /// of two chunks, IO a divisor of the chunk below it) are the walk's, per pool.
    pub(super) fn cow_overwrite(
        &mut self,
        s: &RawStep,
        origin: Option<Ident>,
    ) -> (Option<CowSpec>, Option<Region>) {
        let depth = self.int(
            "depth",
            &s.depth,
            1,
            (1, 16),
            Some("a chain deeper than 16 layers is not what Docker built"),
        );
        let io_size = self.size("io_size", &s.io_size, 4096, &IO_SIZE);
        let region_v = self.size("region", &s.region, 16 * MIB, &COW_REGION);
        let offset = self.size("offset", &s.offset, 0, &OFFSET);
        let region = match (io_size, offset, region_v) {
            (Some(io), Some(o), Some(r)) => Some(Region {
                io_size: io,
                offset: Spanned::new(s.offset.value().map_or(s.table.clone(), |v| v.span()), o),
                span: Some(Spanned::new(
                    s.region.value().map_or(s.table.clone(), |v| v.span()),
                    r,
                )),
            }),
            _ => None,
        };
        let spec = match (origin, depth, io_size, region_v, offset) {
            (Some(origin), Some(depth), Some(io_size), Some(region), Some(offset)) => {
                Some(CowSpec {
                    origin,
                    depth: depth as u32,
                    offset,
                    region,
                    io_size,
                })
            }
            _ => None,
        };
        (spec, region)
    }
}

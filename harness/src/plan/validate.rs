//! Raw scenario → [`Plan`]: units parsed, defaults applied, bounds and cross references
//! checked, every mistake collected (not just the first) with the position of the value
//! or key at fault and, where there is something useful to say, a hint.
//!
//! Checks happen in two passes. The first reads each pool and step on its own (values,
//! bounds, keys that belong to another pool kind or action). The second walks the step
//! list once per pool, because steps apply per pool: a thin made by a step restricted to
//! pool A does not exist for pool B. Names in the walk are compared as written, even when
//! they are not valid identifiers, so one bad name is reported once rather than at every
//! later step that uses it.

use super::model::{
    AccessPattern, Action, BlockCount, CowSpec, DeferredSpec, DelaySpec, DeleteMethod, DeleteSpec,
    DeviceSpec, DirectLvmSpec, DustSpec, ErrorSpec, Expect, FaultAt, FaultDevice, FaultSpec,
    FaultTarget, FaultUntil, FillSpec, FlakeyMode, FlakeySpec, FsKind, Holder, IoEngineSpec,
    IoLength, IoShape, IoSpec, Limit, LogWritesSpec, LoopLvmSpec, LowWaterMark, MetadataFillSpec,
    NoSpacePolicy, PeerSpec, Plan, PoolKindSpec, PoolSpec, RebootSpec, Recover, RepairMetadataSpec,
    ReplayPoints, ReplaySpec, SmallWriteSpec, StepSpec,
};
use crate::scenario::raw::{
    Field, IntOrText, RawExpect, RawFault, RawPool, RawScenario, RawStep, Span, FAULT_KEYS,
    POOL_KEYS, STEP_KEYS,
};
use crate::scenario::{suggest, Diagnostic};
use serde_spanned::Spanned;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::{PoolKind, PoolMode};
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks, SECTOR_SIZE};

/// The scenario file format this build reads (`format = 1`).
pub const SCENARIO_FORMAT_VERSION: i64 = 1;

const KIB: u64 = Bytes::KIB;
const MIB: u64 = Bytes::MIB;
const GIB: u64 = Bytes::GIB;
const TIB: u64 = 1 << 40;

const MAX_POOLS: usize = 8;
const MAX_STEPS: usize = 10_000;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const MAX_NO_SPACE_TIMEOUT: Duration = Duration::from_secs(3600);
/// dm-delay takes any `unsigned` ms; past a minute a delay is a hang, not a slowdown.
const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);
/// Latest `at = "time:…"` / `until = "after:…"`, and flakey's longest interval.
const MAX_FAULT_AT: Duration = Duration::from_secs(24 * 3600);
/// Most bad ranges of an `error` fault, bad blocks of a `dust` one.
const MAX_BAD_RANGES: usize = 1024;
/// Ranges must end within this (the largest device a scenario can make).
const MAX_DEVICE_BYTES: u64 = 16 * TIB;
/// A `log-writes` fault's log device.
const LOG_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 64 * GIB,
    multiple_of: 4 * KIB,
    max_why: "the log is a sparse scratch file; replay reads all of it",
};
/// dm-dust's block size (validated to 512 or 4096 after this).
const DUST_BLOCK: SizeRule = SizeRule {
    min: 512,
    max: 4096,
    multiple_of: 512,
    max_why: "dm-dust takes 512 or 4096",
};
/// Replay points a `replay` step may check.
const MAX_REPLAY_POINTS: i64 = 100_000;

/// Docker's loop-lvm chunk (`128` sectors in its pool table).
const LOOP_LVM_CHUNK: u64 = 64 * KIB;
/// Docker's direct-lvm chunk (`lvconvert -c 512K`).
const DIRECT_LVM_CHUNK: u64 = 512 * KIB;
/// Docker's low water mark, in data blocks.
const DOCKER_LOW_WATER_MARK: u64 = 32_768;
/// Docker's loop-lvm sparse file sizes.
const DOCKER_DATA_SIZE: u64 = 100 * GIB;
const DOCKER_METADATA_SIZE: u64 = 2 * GIB;
/// Scratch disk / loop PV size for direct-lvm when none is given.
const DEFAULT_DEVICE_SIZE: u64 = 20 * GIB;
/// Docker's base device size.
const DOCKER_BASE_SIZE: u64 = 10 * GIB;
/// Docker's `dm.min_free_space` default, percent.
const DOCKER_MIN_FREE_SPACE: u8 = 10;
const DEFAULT_IO_SIZE: u64 = 4 * KIB;
const DEFAULT_SEED: i64 = 1;

const CHUNK_HINT: &str = "dm-thin chunk sizes are multiples of 64KiB (128 sectors) from 64KiB \
     to 1GiB; Docker uses 64KiB (loop-lvm) and 512KiB (direct-lvm)";
const IDENT_HINT: &str =
    "names are 1 to 32 ASCII letters, digits, `-` and `_`, starting with a letter";

/// Bounds of one size key.
struct SizeRule {
    min: u64,
    max: u64,
    /// Values must be a multiple of this many bytes.
    multiple_of: u64,
    /// Why the maximum is what it is, for the hint.
    max_why: &'static str,
}

const DATA_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: SECTOR_SIZE,
    max_why:
        "thinbench caps pool data at 16TiB (the files are sparse, but the pool's metadata is not)",
};
const METADATA_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 16 * GIB,
    multiple_of: SECTOR_SIZE,
    max_why: "dm-thin uses at most 16GiB of metadata",
};
/// lvm's own floor for a thin pool's metadata LV is 2MiB.
const DIRECT_METADATA_SIZE: SizeRule = SizeRule {
    min: 2 * MIB,
    max: 16 * GIB,
    multiple_of: SECTOR_SIZE,
    max_why: "dm-thin uses at most 16GiB of metadata",
};
/// lvm's default extent.
const DEFAULT_EXTENT: u64 = 4 * MIB;
const DEVICE_SIZE: SizeRule = SizeRule {
    min: 64 * MIB,
    max: 16 * TIB,
    multiple_of: SECTOR_SIZE,
    max_why: "thinbench caps scratch devices at 16TiB",
};
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

const FILES: SizeRule = SizeRule {
    min: MIB,
    max: 16 * GIB,
    multiple_of: SECTOR_SIZE,
    max_why: "files are written through a filesystem under emulation; keep them small",
};

const METADATA_SPAN: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: 64 * 1024,
    max_why: "thin devices are capped at 16TiB here",
};
const GROW_BY: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: MIB,
    max_why: "loop files and LVs are capped at 16TiB here",
};

const THIN_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: SECTOR_SIZE,
    max_why: "thinbench caps thin devices at 16TiB",
};
const IO_SIZE: SizeRule = SizeRule {
    min: SECTOR_SIZE,
    max: 16 * MIB,
    multiple_of: SECTOR_SIZE,
    max_why: "a single IO is at most 16MiB",
};

/// Actions format v1 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActionKind {
    CreateThin,
    Snapshot,
    DeleteThin,
    SmallWrite,
    CowOverwrite,
    Fill,
    DeferredRemoval,
    DeferredDeletion,
    Delete,
    MetadataFill,
    RepairMetadata,
    Reboot,
    Replay,
    Io,
    EngineVsFio,
}

const ACTIONS: [(&str, ActionKind); 15] = [
    ("create-thin", ActionKind::CreateThin),
    ("snapshot", ActionKind::Snapshot),
    ("delete-thin", ActionKind::DeleteThin),
    ("small-write", ActionKind::SmallWrite),
    ("cow-overwrite", ActionKind::CowOverwrite),
    ("fill", ActionKind::Fill),
    ("deferred-removal", ActionKind::DeferredRemoval),
    ("deferred-deletion", ActionKind::DeferredDeletion),
    ("delete", ActionKind::Delete),
    ("metadata-fill", ActionKind::MetadataFill),
    ("repair-metadata", ActionKind::RepairMetadata),
    ("reboot", ActionKind::Reboot),
    ("replay", ActionKind::Replay),
    ("io", ActionKind::Io),
    ("engine-vs-fio", ActionKind::EngineVsFio),
];

/// Action names kept for later versions of the format.
const RESERVED_ACTIONS: [&str; 5] = ["fault", "mkfs", "mount", "fstrim", "discard"];

impl ActionKind {
    fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
    /// Whether the step runs a workload (and so has IO errors and touched chunks).
    fn is_workload(self) -> bool {
        matches!(
            self,
            ActionKind::SmallWrite
                | ActionKind::CowOverwrite
                | ActionKind::Fill
                | ActionKind::MetadataFill
                | ActionKind::Io
                | ActionKind::EngineVsFio
        )
    }
}

/// `Some(error)` when the file declares a format version other than this build's; the
/// loader then reports only that, since the rest of the file may follow other rules.
pub(crate) fn check_format_version(raw: &RawScenario) -> Option<Diagnostic> {
    let v = raw.format.value()?;
    (*v.get_ref() != SCENARIO_FORMAT_VERSION).then(|| {
        Diagnostic::new(
            v.span(),
            format!(
                "unsupported scenario format {}: this thinbench reads format {SCENARIO_FORMAT_VERSION}",
                v.get_ref()
            ),
        )
        .with_hint(format!(
            "write `format = {SCENARIO_FORMAT_VERSION}` and the keys docs/scenario-format.md lists, or use the thinbench that wrote this file"
        ))
    })
}

/// Checks `raw` and builds its plan. Every problem goes to `d`; the plan is returned
/// only when this found none (the caller also discards it if reading `raw` had errors).
pub(crate) fn validate(
    raw: &RawScenario,
    source: &Path,
    grants: &Grants,
    d: &mut Vec<Diagnostic>,
) -> Option<Plan> {
    let mut c = Checker {
        d: Vec::new(),
        fault_steps: Vec::new(),
        base: source.parent().map(Path::to_owned).unwrap_or_default(),
        grants: grants.clone(),
    };
    let plan = c.scenario(raw, source);
    let clean = c.d.is_empty();
    d.append(&mut c.d);
    plan.filter(|_| clean)
}

/// Collects diagnostics while checking.
struct Checker {
    d: Vec<Diagnostic>,
    /// Step names that faults' `at`/`until` name, checked once the steps are known.
    fault_steps: Vec<(Span, Ident)>,
    /// The scenario file's directory: relative paths in it (`job_file`) start here.
    base: PathBuf,
    /// What the command line allows beyond the file's own directory.
    grants: Grants,
}

/// What the command line grants a scenario; a scenario cannot grant itself anything
/// (docs/security.md). The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// `--allow-host-paths`: absolute and `..` paths in the file (`job_file`, loop-lvm
    /// `dir` with `allow_outside_workdir`), symlinks out of its directory, and direct-lvm
    /// on a named block device.
    pub host_paths: bool,
}

/// The command-line flag that sets [`Grants::host_paths`], as messages name it.
pub const HOST_PATHS_FLAG: &str = "--allow-host-paths";

/// What the per-pool walk needs to know of one step.
struct Facts {
    index: usize,
    /// The name as written, or the default name; `None` when neither is known.
    name: Option<String>,
    /// Where the name is written, if it is.
    name_span: Option<Span>,
    /// `step `name`` or `step #N`, for messages about other steps.
    label: String,
    /// Pools named in `pools` (as written); `None`: every pool.
    pools: Option<Vec<String>>,
    effect: Effect,
}

/// A step's effect on a pool's set of thins.
enum Effect {
    Create {
        thin: Option<Spanned<String>>,
        size: Option<Bytes>,
        id: Option<Spanned<u32>>,
    },
    Snapshot {
        thin: Option<Spanned<String>>,
        origin: Option<Spanned<String>>,
        id: Option<Spanned<u32>>,
    },
    Delete {
        thin: Option<Spanned<String>>,
    },
    Write {
        thin: Option<Spanned<String>>,
        region: Option<Region>,
    },
    /// Several effects in order (a fill that deletes a thin to recover).
    Many(Vec<Effect>),
    /// Unknown or invalid action: nothing to track.
    Nothing,
}

/// Where a write workload writes, to check against the thin's size.
struct Region {
    io_size: Bytes,
    offset: Spanned<Bytes>,
    span: Option<Spanned<Bytes>>,
}

/// A step's checked IO region, its offset and span positioned where the step gave them
/// (the step's table when it did not).
fn region_of(
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
    fn err(&mut self, span: Span, message: impl Into<String>) {
        self.d.push(Diagnostic::new(span, message));
    }

    fn err_hint(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.d.push(Diagnostic::new(span, message).with_hint(hint));
    }

    /// A required key: its value, or an error at the table that lacks it.
    fn required<'f, T>(
        &mut self,
        f: &'f Field<T>,
        table: &Span,
        message: &str,
        hint: &str,
    ) -> Option<&'f Spanned<T>> {
        if let Field::Absent = f {
            self.err_hint(table.clone(), message, hint);
        }
        f.value()
    }

    fn ident(&mut self, v: &Spanned<String>, what: &str) -> Option<Ident> {
        match Ident::new(v.get_ref()) {
            Ok(i) => Some(i),
            Err(e) => {
                self.err_hint(v.span(), format!("invalid {what}: {e}"), IDENT_HINT);
                None
            }
        }
    }

    /// A size as bytes, without bounds.
    fn bytes(&mut self, key: &str, v: &Spanned<IntOrText>) -> Option<Bytes> {
        match v.get_ref() {
            IntOrText::Int(i) => match u64::try_from(*i) {
                Ok(b) => Some(Bytes(b)),
                Err(_) => {
                    self.err(v.span(), format!("`{key}` must not be negative"));
                    None
                }
            },
            IntOrText::Text(s) => match Bytes::parse_human(s) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.err_hint(
                        v.span(),
                        format!("invalid `{key}`: {e}"),
                        "sizes are an integer with a unit (\"64KiB\", \"1GiB\", \"2048s\") or a bare integer of bytes",
                    );
                    None
                }
            },
        }
    }

    /// A size key within `rule`, or `default` when absent.
    fn size(
        &mut self,
        key: &str,
        f: &Field<IntOrText>,
        default: u64,
        rule: &SizeRule,
    ) -> Option<Bytes> {
        match f {
            Field::Absent => Some(Bytes(default)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let b = self.bytes(key, value)?;
                self.size_rule(key, value.span(), b, rule).then_some(b)
            }
        }
    }

    fn size_rule(&mut self, key: &str, span: Span, b: Bytes, rule: &SizeRule) -> bool {
        if b.0 < rule.min {
            self.err(
                span,
                format!(
                    "`{key}` is {}, below the minimum of {}",
                    b.human(),
                    Bytes(rule.min).human()
                ),
            );
            false
        } else if b.0 > rule.max {
            self.err_hint(
                span,
                format!(
                    "`{key}` is {}, above the maximum of {}",
                    b.human(),
                    Bytes(rule.max).human()
                ),
                rule.max_why,
            );
            false
        } else if !b.0.is_multiple_of(rule.multiple_of) {
            self.err(
                span,
                format!(
                    "`{key}` is {}, not a multiple of {} bytes (one sector)",
                    b.human(),
                    rule.multiple_of
                ),
            );
            false
        } else {
            true
        }
    }

    /// An integer key within `lo..=hi`, or `default` when absent.
    fn int(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: i64,
        (lo, hi): (i64, i64),
        hint: Option<&str>,
    ) -> Option<i64> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.int_value(key, value, (lo, hi), hint),
        }
    }

    fn int_value(
        &mut self,
        key: &str,
        v: &Spanned<i64>,
        (lo, hi): (i64, i64),
        hint: Option<&str>,
    ) -> Option<i64> {
        let n = *v.get_ref();
        if (lo..=hi).contains(&n) {
            return Some(n);
        }
        let message = if hi == i64::MAX {
            format!("`{key}` must be at least {lo}, not {n}")
        } else {
            format!("`{key}` must be {lo} to {hi}, not {n}")
        };
        match hint {
            Some(h) => self.err_hint(v.span(), message, h),
            None => self.err(v.span(), message),
        }
        None
    }

    /// A percentage key within `lo..=hi` as `u8`.
    fn percent(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: u8,
        (lo, hi): (u8, u8),
        hint: Option<&str>,
    ) -> Option<u8> {
        self.int(key, f, default.into(), (lo.into(), hi.into()), hint)
            .and_then(|n| u8::try_from(n).ok())
    }

    /// One of a fixed set of strings.
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        v: &Spanned<String>,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = v.get_ref().as_str();
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let listed = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("`{key}` must be one of {listed}, not \"{s}\"");
        match suggest(s, &names) {
            Some(m) => self.err_hint(v.span(), message, format!("did you mean \"{m}\"?")),
            None => self.err(v.span(), message),
        }
        None
    }

    fn choice_or<T: Copy>(
        &mut self,
        key: &str,
        f: &Field<String>,
        default: T,
        options: &[(&str, T)],
    ) -> Option<T> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice(key, value, options),
        }
    }

    /// A duration key within `lo..=hi`; `None` inside when absent.
    fn duration(
        &mut self,
        key: &str,
        f: &Field<String>,
        (lo, hi): (Duration, Duration),
    ) -> Option<Option<Duration>> {
        let v = match f {
            Field::Absent => return Some(None),
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => value,
        };
        let d = match parse_duration(v.get_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.err_hint(
                    v.span(),
                    format!("invalid `{key}`: {e}"),
                    "durations are hours, minutes and seconds, like \"90s\", \"20m\", \"1h\" or \"1h30m\"",
                );
                return None;
            }
        };
        if d < lo || d > hi {
            self.err(
                v.span(),
                format!(
                    "`{key}` must be {} to {}, not {}",
                    human_duration(lo),
                    human_duration(hi),
                    human_duration(d)
                ),
            );
            return None;
        }
        Some(Some(d))
    }

    fn scenario(&mut self, raw: &RawScenario, source: &Path) -> Option<Plan> {
        let file_start = raw.span.start..raw.span.start;
        match &raw.format {
            Field::Absent => self.err_hint(
                file_start.clone(),
                "missing `format`",
                format!("start the file with `format = {SCENARIO_FORMAT_VERSION}`"),
            ),
            Field::Invalid { .. } => {}
            Field::Given { .. } => {
                if let Some(e) = check_format_version(raw) {
                    self.d.push(e);
                }
            }
        }
        let name = match &raw.name {
            Field::Given { value, .. } => self.ident(value, "scenario name"),
            Field::Invalid { .. } => None,
            Field::Absent => self.name_from_file(source, &file_start),
        };
        let description = raw.description.value().map(|v| v.get_ref().clone());
        let timeout = self
            .duration("timeout", &raw.timeout, (MIN_TIMEOUT, MAX_TIMEOUT))
            .map(|t| t.unwrap_or(DEFAULT_TIMEOUT));

        let raw_pools: &[RawPool] = raw.pools.value().map_or(&[], |v| v.get_ref());
        self.count_limits(&raw.pools, &file_start, "pool", MAX_POOLS, |p: &RawPool| {
            p.table.clone()
        });
        let pools: Vec<Option<PoolSpec>> = raw_pools.iter().map(|p| self.pool(p)).collect();
        self.unique_pool_names(raw_pools);
        // Pool names as written, for references (see the module doc).
        let mut pool_names: Vec<&str> = Vec::with_capacity(raw_pools.len());
        for p in raw_pools {
            if let Some(v) = p.name.value() {
                if !pool_names.contains(&v.get_ref().as_str()) {
                    pool_names.push(v.get_ref());
                }
            }
        }

        let raw_faults: &[RawFault] = raw.faults.value().map_or(&[], |v| v.get_ref());
        let mut faults: Vec<(String, Option<FaultSpec>)> = Vec::new();
        let mut fault_slots: HashMap<(String, &'static str, &'static str), usize> = HashMap::new();
        for (i, f) in raw_faults.iter().enumerate() {
            if let Some((pool, spec)) = self.fault(f, raw_pools) {
                if let Some(spec) = &spec {
                    let slot = (pool.clone(), spec.device.as_str(), spec.target.dm_target());
                    if let Some(first) = fault_slots.get(&slot) {
                        self.err_hint(
                            f.table.clone(),
                            format!(
                                "a second `{}` fault on pool `{pool}`'s {} device",
                                slot.2, slot.1
                            ),
                            format!("fault #{first} already puts one there (faults are numbered from 0); one layer of a target per device"),
                        );
                    } else {
                        fault_slots.insert(slot, i);
                    }
                }
                faults.push((pool, spec));
            }
        }

        let raw_steps: &[RawStep] = raw.steps.value().map_or(&[], |v| v.get_ref());
        self.count_limits(&raw.steps, &file_start, "step", MAX_STEPS, |s: &RawStep| {
            s.table.clone()
        });
        let mut steps = Vec::with_capacity(raw_steps.len());
        let mut facts = Vec::with_capacity(raw_steps.len());
        for (i, s) in raw_steps.iter().enumerate() {
            let (spec, f) = self.step(i, s, &pool_names);
            steps.push(spec);
            facts.push(f);
        }
        self.unique_step_names(&facts);
        self.walk(&pool_names, &facts);
        let step_names: Vec<&str> = facts.iter().filter_map(|f| f.name.as_deref()).collect();
        for (span, name) in std::mem::take(&mut self.fault_steps) {
            if !step_names.contains(&name.as_str()) {
                let hint = match suggest(name.as_str(), &step_names) {
                    Some(m) => format!("did you mean `{m}`? steps: {}", step_names.join(", ")),
                    None => format!("steps: {}", step_names.join(", ")),
                };
                self.err_hint(span, format!("the fault names no step `{name}`"), hint);
            }
        }

        let mut pools: Option<Vec<PoolSpec>> = pools.into_iter().collect();
        let steps: Option<Vec<StepSpec>> = steps.into_iter().collect();
        for (pool, spec) in faults {
            match (spec, pools.as_mut()) {
                (Some(spec), Some(ps)) => {
                    if let Some(p) = ps.iter_mut().find(|p| p.name.as_str() == pool) {
                        p.faults.push(spec);
                    }
                }
                (None, _) => pools = None,
                (Some(_), None) => {}
            }
        }
        Some(Plan {
            name: name?,
            description,
            source: source.to_path_buf(),
            timeout: timeout?,
            pools: pools?,
            steps: steps?,
        })
    }

    fn name_from_file(&mut self, source: &Path, at: &Span) -> Option<Ident> {
        let stem = source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match Ident::new(&stem) {
            Ok(i) => Some(i),
            Err(e) => {
                self.err_hint(
                    at.clone(),
                    format!(
                        "the scenario has no `name`, and its file name is not a valid one: {e}"
                    ),
                    format!("add `name = \"...\"` at the top, or rename the file; {IDENT_HINT}"),
                );
                None
            }
        }
    }

    /// `[[pool]]`/`[[step]]`: at least one, at most `max`.
    fn count_limits<T>(
        &mut self,
        f: &Field<Vec<T>>,
        file_start: &Span,
        key: &str,
        max: usize,
        table: impl Fn(&T) -> Span,
    ) {
        match f {
            Field::Invalid { .. } => {}
            Field::Absent => self.err_hint(
                file_start.clone(),
                format!("no [[{key}]]: a scenario needs 1 to {max}"),
                format!("add a `[[{key}]]` table; see docs/scenario-format.md"),
            ),
            Field::Given { value, .. } => {
                let items = value.get_ref();
                if items.is_empty() {
                    self.err(
                        value.span(),
                        format!("no [[{key}]]: a scenario needs 1 to {max}"),
                    );
                } else if let Some(extra) = items.get(max) {
                    self.err(
                        table(extra),
                        format!(
                            "too many [[{key}]] tables: {}, at most {max} (this is number {})",
                            items.len(),
                            max + 1
                        ),
                    );
                }
            }
        }
    }

    fn unique_pool_names(&mut self, pools: &[RawPool]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in pools.iter().enumerate() {
            let Some(v) = p.name.value() else { continue };
            if let Some(first) = seen.get(v.get_ref().as_str()) {
                self.err_hint(
                    v.span(),
                    format!("duplicate pool name `{}`", v.get_ref()),
                    format!(
                        "pool #{first} already has this name (pools are numbered from 0); pool names must be unique"
                    ),
                );
            } else {
                seen.insert(v.get_ref().as_str(), i);
            }
        }
    }

    fn pool(&mut self, p: &RawPool) -> Option<PoolSpec> {
        let name = match &p.name {
            Field::Given { value, .. } => self.ident(value, "pool name"),
            Field::Invalid { .. } => None,
            Field::Absent => {
                self.err_hint(
                    p.table.clone(),
                    "[[pool]] has no `name`",
                    "add `name = \"...\"`; steps and reports refer to pools by name",
                );
                None
            }
        };
        let kinds = [PoolKind::LoopLvm, PoolKind::DirectLvm].map(|k| (k.as_str(), k));
        let kind = self
            .required(
                &p.kind,
                &p.table,
                "[[pool]] has no `kind`",
                "add `kind = \"loop-lvm\"` or `kind = \"direct-lvm\"`",
            )
            .and_then(|v| self.choice("kind", v, &kinds));
        if let Some(kind) = kind {
            for (key, span) in p.kind_keys() {
                if !POOL_KEYS.takes(kind.as_str(), key) {
                    let owners = POOL_KEYS.variants_taking(key).join(" and ");
                    self.err_hint(
                        span,
                        format!(
                            "`{key}` is a key of {owners} pools, and this pool is {}",
                            kind.as_str()
                        ),
                        format!(
                            "{} pools take: {}",
                            kind.as_str(),
                            POOL_KEYS.keys_of(kind.as_str())
                        ),
                    );
                }
            }
        }

        let chunk = match &p.chunk_size {
            Field::Absent => kind.and_then(|k| {
                ChunkSize::new(Bytes(match k {
                    PoolKind::LoopLvm => LOOP_LVM_CHUNK,
                    PoolKind::DirectLvm => DIRECT_LVM_CHUNK,
                }))
                .ok()
            }),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                self.bytes("chunk_size", value)
                    .and_then(|b| match ChunkSize::new(b) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            self.err_hint(value.span(), e, CHUNK_HINT);
                            None
                        }
                    })
            }
        };

        let low_water_mark = match &p.low_water_mark {
            Field::Absent => Some(LowWaterMark::Blocks(DataBlocks(DOCKER_LOW_WATER_MARK))),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.low_water_mark(value),
        };
        let block_zeroing = p.block_zeroing.value().is_some_and(|v| *v.get_ref());
        let discard_passdown = p.discard_passdown.value().is_none_or(|v| *v.get_ref());
        let no_space = self.choice_or(
            "no_space",
            &p.no_space,
            NoSpacePolicy::Queue,
            &[
                ("queue", NoSpacePolicy::Queue),
                ("error", NoSpacePolicy::Error),
            ],
        );
        let no_space_timeout = self.duration(
            "no_space_timeout",
            &p.no_space_timeout,
            (Duration::ZERO, MAX_NO_SPACE_TIMEOUT),
        );
        let min_free_space = match &p.min_free_space {
            Field::Absent => Some(DOCKER_MIN_FREE_SPACE),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let pct = match value.get_ref() {
                    IntOrText::Int(n) => u8::try_from(*n).ok(),
                    IntOrText::Text(t) => t
                        .trim()
                        .strip_suffix('%')
                        .and_then(|n| n.trim_end().parse::<u8>().ok()),
                }
                .filter(|n| *n < 100);
                if pct.is_none() {
                    self.err_hint(
                        value.span(),
                        "invalid `min_free_space`: expected a percentage from 0% to 99%",
                        "Docker's default is \"10%\"; \"0%\" turns the check off",
                    );
                }
                pct
            }
        };
        let kind_spec = match kind? {
            PoolKind::LoopLvm => self.loop_lvm(p, chunk).map(PoolKindSpec::LoopLvm),
            PoolKind::DirectLvm => self.direct_lvm(p).map(PoolKindSpec::DirectLvm),
        };
        Some(PoolSpec {
            name: name?,
            kind: kind_spec?,
            chunk: chunk?,
            low_water_mark: low_water_mark?,
            block_zeroing,
            discard_passdown,
            no_space: no_space?,
            no_space_timeout: no_space_timeout?,
            min_free_space: min_free_space?,
            faults: Vec::new(),
        })
    }

    /// One `[[fault]]`: the pool it names (as written) and its spec (`None` when the
    /// table has errors). `None` altogether when it names no pool that exists.
    fn fault(
        &mut self,
        f: &RawFault,
        raw_pools: &[RawPool],
    ) -> Option<(String, Option<FaultSpec>)> {
        let pool = self.required(
            &f.pool,
            &f.table,
            "[[fault]] has no `pool`",
            "add `pool = \"...\"`, the name of the pool whose device it goes under",
        )?;
        let names: Vec<&str> = raw_pools
            .iter()
            .filter_map(|p| p.name.value().map(|v| v.get_ref().as_str()))
            .collect();
        let Some(raw_pool) = raw_pools.iter().find(|p| {
            p.name
                .value()
                .is_some_and(|v| v.get_ref() == pool.get_ref())
        }) else {
            let mut hint = format!("pools: {}", names.join(", "));
            if let Some(m) = suggest(pool.get_ref(), &names) {
                hint = format!("did you mean `{m}`? {hint}");
            }
            self.err_hint(
                pool.span(),
                format!("[[fault]] names no pool: `{}`", pool.get_ref()),
                hint,
            );
            return None;
        };
        let pool_name = pool.get_ref().clone();
        let target_name = self
            .required(
                &f.target,
                &f.table,
                "[[fault]] has no `target`",
                "add `target = \"flakey\"` (or delay, error, log-writes, dust)",
            )
            .and_then(|v| {
                self.choice(
                    "target",
                    v,
                    &[
                        ("delay", "delay"),
                        ("flakey", "flakey"),
                        ("error", "error"),
                        ("log-writes", "log-writes"),
                        ("dust", "dust"),
                    ],
                )
            });
        let device = self
            .required(
                &f.device,
                &f.table,
                "[[fault]] has no `device`",
                "add `device = \"data\"`, `device = \"metadata\"` or (log-writes) `device = \"pool\"`",
            )
            .and_then(|v| {
                let d = self.choice(
                    "device",
                    v,
                    &[
                        ("data", FaultDevice::Data),
                        ("metadata", FaultDevice::Metadata),
                        ("pool", FaultDevice::Pool),
                    ],
                )?;
                // One log must order the writes of both devices for a replay to be a
                // crash state, so log-writes takes the pool's devices as one.
                let lw = target_name == Some("log-writes");
                if lw != (d == FaultDevice::Pool) {
                    self.err_hint(
                        v.span(),
                        if lw {
                            "a log-writes fault goes under the whole pool: `device = \"pool\"`".to_owned()
                        } else {
                            "`device = \"pool\"` is for log-writes only".to_owned()
                        },
                        "log-writes logs the metadata and data devices as one (one order of writes for replay); other targets go on `data` or `metadata`",
                    );
                    return None;
                }
                Some(d)
            });
        let at = match &f.at {
            Field::Absent => Some(FaultAt::Start),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.fault_at(value),
        };
        let until = match &f.until {
            Field::Absent => Some(FaultUntil::End),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.fault_until(value),
        };
        if let (Some("log-writes"), Some(at), Some(until)) = (target_name, &at, &until) {
            if *at != FaultAt::Start || *until != FaultUntil::End {
                self.err_hint(
                    f.table.clone(),
                    "a log-writes fault logs from the pool's construction to its teardown",
                    "drop `at` and `until`: a replay needs the log of every write since the devices were blank",
                );
            }
        }
        if let Some(t) = target_name {
            for (key, span) in f.target_keys() {
                if !FAULT_KEYS.takes(t, key) {
                    let owners = FAULT_KEYS.variants_taking(key).join(" and ");
                    self.err_hint(
                        span,
                        format!("`{key}` is a key of the {owners} target, and this fault is {t}"),
                        format!("{t} faults take: {}", FAULT_KEYS.keys_of(t)),
                    );
                }
            }
        }
        // direct-lvm: lvm owns the stack above the PV, so a layer needs a dm device over
        // the PV disk that lvm's filter accepts instead of the disk; not done yet.
        let kind = raw_pool.kind.value().map(|v| v.get_ref().as_str());
        let mut supported = true;
        if kind == Some("direct-lvm") {
            self.err_hint(
                pool.span(),
                format!("not yet: a fault under a direct-lvm pool (`{pool_name}`): only loop-lvm pools take fault layers for now"),
                "a direct-lvm layer must sit over the PV disk with lvm's filter accepting the dm device instead of the disk; put the fault on a loop-lvm pool",
            );
            supported = false;
        }
        let target = match target_name {
            Some("delay") => {
                let read = self.delay_ms("read", &f.read);
                let write = self.delay_ms("write", &f.write);
                let flush = self.delay_ms("flush", &f.flush);
                match (read, write, flush) {
                    (Some(r), Some(w), Some(fl)) => Some(FaultTarget::Delay(DelaySpec {
                        read_ms: r.unwrap_or(0),
                        write_ms: w.unwrap_or(0),
                        flush_ms: fl,
                    })),
                    _ => None,
                }
            }
            Some("flakey") => self.flakey(f).map(FaultTarget::Flakey),
            Some("error") => self.error_ranges(f).map(FaultTarget::Error),
            Some("log-writes") => self
                .size("log_size", &f.log_size, 256 * MIB, &LOG_SIZE)
                .map(|log_size| FaultTarget::LogWrites(LogWritesSpec { log_size })),
            Some("dust") => self.dust(f).map(FaultTarget::Dust),
            _ => None,
        };
        let spec = match (device, at, until, target, supported) {
            (Some(device), Some(at), Some(until), Some(target), true) => Some(FaultSpec {
                device,
                at,
                until,
                target,
            }),
            _ => None,
        };
        Some((pool_name, spec))
    }

    /// `at = "..."`: when a fault goes into force. Step names are checked once the steps
    /// are known (`fault_step_refs`).
    fn fault_at(&mut self, v: &Spanned<String>) -> Option<FaultAt> {
        let text = v.get_ref().trim();
        let hint = "write \"start\", \"step:NAME\" (as the step starts), \"time:5s\" (into the case), \"written:64MiB\" (by workloads) or \"usage:50%\" (pool data usage)";
        let (kind, arg) = text.split_once(':').unwrap_or((text, ""));
        let arg = arg.trim();
        match kind {
            "start" if arg.is_empty() => Some(FaultAt::Start),
            "step" => self.fault_step_ref(v, arg).map(FaultAt::Step),
            "time" => match parse_duration(arg) {
                Ok(d) if d <= MAX_FAULT_AT => Some(FaultAt::Time(d)),
                Ok(_) => {
                    self.err(
                        v.span(),
                        format!("`at` time is above {}", human_duration(MAX_FAULT_AT)),
                    );
                    None
                }
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `at` time: {e}"), hint);
                    None
                }
            },
            "written" => match Bytes::parse_human(arg) {
                Ok(b) => Some(FaultAt::Written(b)),
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `at` size: {e}"), hint);
                    None
                }
            },
            "usage" => {
                let pct = arg
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u8>().ok())
                    .filter(|n| (1..=100).contains(n));
                if pct.is_none() {
                    self.err_hint(
                        v.span(),
                        format!(
                            "invalid `at` usage \"{arg}\": expected a percentage from 1% to 100%"
                        ),
                        hint,
                    );
                }
                pct.map(FaultAt::Usage)
            }
            _ => {
                self.err_hint(v.span(), format!("invalid `at` \"{text}\""), hint);
                None
            }
        }
    }

    /// `until = "..."`: when a fault goes out of force.
    fn fault_until(&mut self, v: &Spanned<String>) -> Option<FaultUntil> {
        let text = v.get_ref().trim();
        let hint = "write \"end\" (the case's end), \"step:NAME\" (as the step starts) or \"after:5s\" (after it went into force); a `reboot` step ends every fault in force";
        let (kind, arg) = text.split_once(':').unwrap_or((text, ""));
        let arg = arg.trim();
        match kind {
            "end" if arg.is_empty() => Some(FaultUntil::End),
            "step" => self.fault_step_ref(v, arg).map(FaultUntil::Step),
            "after" => match parse_duration(arg) {
                Ok(d) if d > Duration::ZERO && d <= MAX_FAULT_AT => Some(FaultUntil::After(d)),
                Ok(_) => {
                    self.err(
                        v.span(),
                        format!(
                            "`until` after must be above 0 and at most {}",
                            human_duration(MAX_FAULT_AT)
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.err_hint(v.span(), format!("invalid `until` duration: {e}"), hint);
                    None
                }
            },
            _ => {
                self.err_hint(v.span(), format!("invalid `until` \"{text}\""), hint);
                None
            }
        }
    }

    /// A step name in `at`/`until`: an identifier, remembered to be checked against the
    /// steps.
    fn fault_step_ref(&mut self, v: &Spanned<String>, name: &str) -> Option<Ident> {
        match Ident::new(name) {
            Ok(i) => {
                self.fault_steps.push((v.span(), i.clone()));
                Some(i)
            }
            Err(e) => {
                self.err_hint(
                    v.span(),
                    format!("invalid step name `{name}`: {e}"),
                    IDENT_HINT,
                );
                None
            }
        }
    }

    /// A flakey fault's intervals and mode.
    fn flakey(&mut self, f: &RawFault) -> Option<FlakeySpec> {
        let secs = |me: &mut Self, key: &str, field: &Field<String>, default: u32| -> Option<u32> {
            let d = me.duration(key, field, (Duration::ZERO, MAX_FAULT_AT))?;
            let Some(d) = d else { return Some(default) };
            if d.subsec_nanos() != 0 {
                if let Field::Given { value, .. } = field {
                    me.err_hint(
                        value.span(),
                        format!("`{key}` must be whole seconds"),
                        "dm-flakey's intervals are in seconds",
                    );
                }
                return None;
            }
            Some(d.as_secs() as u32)
        };
        // Down the whole time in force, unless intervals are given.
        let up = secs(self, "up", &f.up, 0);
        let down = secs(self, "down", &f.down, MAX_FAULT_AT.as_secs() as u32);
        let mode_name = match &f.mode {
            Field::Absent => Some("fail"),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice(
                "mode",
                value,
                &[
                    ("fail", "fail"),
                    ("drop_writes", "drop_writes"),
                    ("error_writes", "error_writes"),
                    ("error_reads", "error_reads"),
                    ("corrupt_bio_byte", "corrupt_bio_byte"),
                ],
            ),
        };
        let corrupt_keys = [
            ("corrupt_byte", f.corrupt_byte.key()),
            ("corrupt_value", f.corrupt_value.key()),
            ("corrupt_reads", f.corrupt_reads.key()),
            ("corrupt_flags", f.corrupt_flags.key()),
        ];
        if mode_name.is_some_and(|m| m != "corrupt_bio_byte") {
            for (k, span) in corrupt_keys {
                if let Some(span) = span {
                    self.err_hint(
                        span,
                        format!("`{k}` is for `mode = \"corrupt_bio_byte\"`"),
                        "drop it, or set that mode",
                    );
                }
            }
        }
        let mode = match mode_name? {
            "fail" => FlakeyMode::Fail,
            "drop_writes" => FlakeyMode::DropWrites,
            "error_writes" => FlakeyMode::ErrorWrites,
            "error_reads" => FlakeyMode::ErrorReads,
            _ => {
                let nth =
                    self.small_int("corrupt_byte", &f.corrupt_byte, 1, (1, i64::from(u32::MAX)))?;
                let value = self.small_int("corrupt_value", &f.corrupt_value, 0, (0, 255))?;
                let flags = self.small_int(
                    "corrupt_flags",
                    &f.corrupt_flags,
                    0,
                    (0, i64::from(u32::MAX)),
                )?;
                let writes = match &f.corrupt_reads {
                    Field::Given { value, .. } => !*value.get_ref(),
                    Field::Invalid { .. } => return None,
                    Field::Absent => true,
                };
                FlakeyMode::CorruptBioByte {
                    nth: nth as u32,
                    writes,
                    value: value as u8,
                    flags: flags as u32,
                }
            }
        };
        let (up, down) = (up?, down?);
        if up == 0 && down == 0 {
            self.err_hint(
                f.table.clone(),
                "flakey with `up` and `down` both 0 does nothing",
                "give `down` a length (absent: down the whole time it is in force)",
            );
            return None;
        }
        Some(FlakeySpec {
            up_s: up,
            down_s: down,
            mode,
        })
    }

    /// An integer key within `lo..=hi`, `default` when absent.
    fn small_int(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: i64,
        range: (i64, i64),
    ) -> Option<i64> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.int_value(key, value, range, None),
        }
    }

    /// An error fault's bad ranges: `"OFFSET+LENGTH"` each, or `["all"]`; whole sectors,
    /// sorted and merged.
    fn error_ranges(&mut self, f: &RawFault) -> Option<ErrorSpec> {
        let hint = "a range is \"OFFSET+LENGTH\" in sizes (\"8MiB+64KiB\"), or [\"all\"] for the whole device";
        let items = match &f.bad {
            Field::Absent => {
                self.err_hint(f.table.clone(), "an error fault has no `bad` ranges", hint);
                return None;
            }
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => value,
        };
        if items.get_ref().is_empty() {
            self.err_hint(items.span(), "`bad` is empty", hint);
            return None;
        }
        if items.get_ref().len() > MAX_BAD_RANGES {
            self.err(
                items.span(),
                format!(
                    "`bad` has {} ranges; at most {MAX_BAD_RANGES}",
                    items.get_ref().len()
                ),
            );
            return None;
        }
        let mut ranges = Vec::new();
        let mut ok = true;
        for item in items.get_ref() {
            let t = item.get_ref().trim();
            if t == "all" {
                ranges.push((Bytes(0), Bytes(u64::MAX / 2)));
                continue;
            }
            let parsed = t
                .split_once('+')
                .ok_or_else(|| "expected OFFSET+LENGTH".to_owned())
                .and_then(|(o, l)| {
                    Ok((Bytes::parse_human(o.trim())?, Bytes::parse_human(l.trim())?))
                });
            match parsed {
                Ok((o, l)) if o.0 % SECTOR_SIZE != 0 || l.0 % SECTOR_SIZE != 0 || l.0 == 0 => {
                    self.err_hint(
                        item.span(),
                        format!("bad range \"{t}\" is not whole sectors"),
                        "offsets and lengths are multiples of 512 bytes, and lengths are above 0",
                    );
                    ok = false;
                }
                Ok((o, l)) if o.0.checked_add(l.0).is_none_or(|e| e > MAX_DEVICE_BYTES) => {
                    self.err(
                        item.span(),
                        format!("bad range \"{t}\" ends beyond any device"),
                    );
                    ok = false;
                }
                Ok(r) => ranges.push(r),
                Err(e) => {
                    self.err_hint(item.span(), format!("invalid bad range \"{t}\": {e}"), hint);
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        ranges.sort();
        let mut merged: Vec<(Bytes, Bytes)> = Vec::new();
        for (o, l) in ranges {
            match merged.last_mut() {
                Some((mo, ml)) if o.0 <= mo.0 + ml.0 => ml.0 = ml.0.max(o.0 + l.0 - mo.0),
                _ => merged.push((o, l)),
            }
        }
        Some(ErrorSpec { bad: merged })
    }

    /// A dust fault's block size and bad blocks.
    fn dust(&mut self, f: &RawFault) -> Option<DustSpec> {
        let block_size = self.size("block_size", &f.block_size, 4096, &DUST_BLOCK)?;
        if block_size.0 != 512 && block_size.0 != 4096 {
            if let Field::Given { value, .. } = &f.block_size {
                self.err(value.span(), "dm-dust's `block_size` is 512 or 4096 bytes");
            }
            return None;
        }
        let bad_blocks = match &f.bad_blocks {
            Field::Absent => Vec::new(),
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => {
                let mut out = Vec::new();
                for b in value.get_ref() {
                    match u64::try_from(*b.get_ref()) {
                        Ok(n) if out.len() < MAX_BAD_RANGES => out.push(n),
                        Ok(_) => {
                            self.err(b.span(), format!("at most {MAX_BAD_RANGES} bad blocks"));
                            return None;
                        }
                        Err(_) => {
                            self.err(b.span(), "bad block numbers are not negative");
                            return None;
                        }
                    }
                }
                out
            }
        };
        Some(DustSpec {
            block_size,
            bad_blocks,
        })
    }

    /// A dm-delay delay: whole milliseconds, 0 to 60s; `Some(None)` when absent.
    fn delay_ms(&mut self, key: &str, f: &Field<String>) -> Option<Option<u32>> {
        self.duration(key, f, (Duration::ZERO, MAX_FAULT_DELAY))
            .map(|d| d.map(|d| d.as_millis() as u32))
    }

    fn low_water_mark(&mut self, v: &Spanned<IntOrText>) -> Option<LowWaterMark> {
        match v.get_ref() {
            IntOrText::Int(n) => match u64::try_from(*n) {
                Ok(n) => Some(LowWaterMark::Blocks(DataBlocks(n))),
                Err(_) => {
                    self.err(v.span(), "`low_water_mark` must not be negative");
                    None
                }
            },
            IntOrText::Text(s) => {
                let pct = s
                    .trim()
                    .strip_suffix('%')
                    .and_then(|n| n.trim_end().parse::<u8>().ok())
                    .filter(|n| (1..=100).contains(n));
                if pct.is_none() {
                    self.err_hint(
                        v.span(),
                        format!("invalid `low_water_mark` \"{s}\": expected a percentage from 1% to 100%"),
                        "write a number of data blocks as an integer (`low_water_mark = 32768`) or a share of the pool as a string (`low_water_mark = \"10%\"`)",
                    );
                }
                pct.map(LowWaterMark::Percent)
            }
        }
    }

    fn loop_lvm(&mut self, p: &RawPool, chunk: Option<ChunkSize>) -> Option<LoopLvmSpec> {
        let data_size = self.size("data_size", &p.data_size, DOCKER_DATA_SIZE, &DATA_SIZE);
        if let (Some(size), Some(chunk), Some(v)) = (data_size, chunk, p.data_size.value()) {
            if size < chunk.bytes() {
                self.err(
                    v.span(),
                    format!(
                        "`data_size` is {}, smaller than one chunk ({})",
                        size.human(),
                        chunk.bytes().human()
                    ),
                );
            }
        }
        let metadata_size = self.size(
            "metadata_size",
            &p.metadata_size,
            DOCKER_METADATA_SIZE,
            &METADATA_SIZE,
        );
        let allow_outside = p.allow_outside_workdir.value().map(|v| *v.get_ref());
        let has_dir = !matches!(p.dir, Field::Absent);
        if let (Some(true), Some(key), false, true) = (
            allow_outside,
            p.allow_outside_workdir.key(),
            self.grants.host_paths,
            has_dir,
        ) {
            self.err_hint(
                key,
                "`allow_outside_workdir = true` needs the command line's consent: a scenario file cannot grant itself host paths",
                format!("run with `{HOST_PATHS_FLAG}` if you trust this scenario, or use a `dir` relative to the work dir"),
            );
        }
        // Refused above without the grant, so the plan is not built: no second error.
        let dir = match &p.dir {
            Field::Absent => {
                if let (Some(true), Some(key)) = (allow_outside, p.allow_outside_workdir.key()) {
                    self.err(key, "`allow_outside_workdir` has no effect without `dir`");
                }
                Some(None)
            }
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self
                .pool_dir(value, allow_outside.unwrap_or(false))
                .map(Some),
        };
        // A chunk below one sector can't happen, but a data size short of a chunk was
        // reported above; don't build a spec for it.
        let data_size = data_size.filter(|s| chunk.is_none_or(|c| *s >= c.bytes()))?;
        Some(LoopLvmSpec {
            data_size,
            metadata_size: metadata_size?,
            dir: dir?,
        })
    }

    fn pool_dir(&mut self, v: &Spanned<String>, allow_outside: bool) -> Option<PathBuf> {
        let s = v.get_ref();
        if s.is_empty() {
            self.err_hint(
                v.span(),
                "`dir` is empty",
                "leave `dir` out to put the pool's files in the run's work dir",
            );
            return None;
        }
        if s.contains('\0') {
            self.err(v.span(), "`dir` contains a NUL character");
            return None;
        }
        let path = PathBuf::from(s);
        if !allow_outside {
            let outside = if path.is_absolute() {
                Some("is absolute")
            } else if path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                Some("has a `..` component")
            } else {
                None
            };
            if let Some(why) = outside {
                self.err_hint(
                    v.span(),
                    format!("`dir` {why}, so the pool's files could land outside the run's work dir"),
                    format!("use a path relative to the work dir, or set `allow_outside_workdir = true` on this pool and run with `{HOST_PATHS_FLAG}`"),
                );
                return None;
            }
        }
        Some(path)
    }

    fn direct_lvm(&mut self, p: &RawPool) -> Option<DirectLvmSpec> {
        enum Dev {
            Auto,
            Loop,
            Path(PathBuf),
        }
        let dev = match &p.device {
            Field::Absent => Some(Dev::Auto),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => match value.get_ref().as_str() {
                "auto" => Some(Dev::Auto),
                "loop" => Some(Dev::Loop),
                s => self.device_path(value, s).map(Dev::Path),
            },
        };
        let device = match dev? {
            Dev::Path(path) => {
                if let Some(key) = p.device_size.key() {
                    self.err_hint(
                        key,
                        "`device_size` does not apply to a device path: the whole device is used",
                        "remove `device_size`, or use `device = \"auto\"` or `\"loop\"` for a device of that size",
                    );
                    None
                } else {
                    Some(DeviceSpec::Path(path))
                }
            }
            dev @ (Dev::Auto | Dev::Loop) => {
                let size = self.size(
                    "device_size",
                    &p.device_size,
                    DEFAULT_DEVICE_SIZE,
                    &DEVICE_SIZE,
                );
                size.map(|size| match dev {
                    Dev::Loop => DeviceSpec::LoopBacked { size },
                    _ => DeviceSpec::Auto { size },
                })
            }
        };
        let thinpool_percent =
            self.percent("thinpool_percent", &p.thinpool_percent, 95, (1, 100), None);
        let metadata_percent =
            self.percent("metadata_percent", &p.metadata_percent, 1, (1, 100), None);
        let sum_ok = match (thinpool_percent, metadata_percent) {
            (Some(t), Some(m)) => u16::from(t) + u16::from(m) <= 100,
            _ => true,
        };
        if let (false, Some(t), Some(m)) = (sum_ok, thinpool_percent, metadata_percent) {
            let at = p
                .metadata_percent
                .value()
                .or(p.thinpool_percent.value())
                .map_or(p.table.clone(), |v| v.span());
            self.err_hint(
                at,
                format!(
                    "`thinpool_percent` + `metadata_percent` is {}%, more than the volume group",
                    u16::from(t) + u16::from(m)
                ),
                "Docker uses 95 and 1, leaving room for lvm to autoextend the pool",
            );
        }
        let autoextend_threshold = self.percent(
            "autoextend_threshold",
            &p.autoextend_threshold,
            80,
            (50, 100),
            Some("lvm treats a threshold below 50 as 50, and 100 turns autoextension off"),
        );
        let autoextend_percent = self.percent(
            "autoextend_percent",
            &p.autoextend_percent,
            20,
            (0, 100),
            None,
        );
        if !sum_ok {
            return None;
        }
        let extent = self.extent_size(p)?;
        let metadata_size = match &p.metadata_size {
            Field::Absent => None,
            f => {
                if let (Some(k), Some(_)) = (p.metadata_percent.key(), p.metadata_size.key()) {
                    self.err_hint(
                        k,
                        "`metadata_percent` and `metadata_size` both size the metadata LV",
                        "keep one: `metadata_size` for an exact size, `metadata_percent` for Docker's share of the VG",
                    );
                    return None;
                }
                Some(self.size("metadata_size", f, 0, &DIRECT_METADATA_SIZE)?)
            }
        };
        // lvm allocates whole extents (4MiB by default) and rounds a percentage down: on a
        // small disk Docker's 1% metadata LV is 0 extents and lvcreate refuses.
        if let (
            Some(DeviceSpec::Auto { size } | DeviceSpec::LoopBacked { size }),
            Some(m),
            Some(t),
        ) = (&device, metadata_percent, thinpool_percent)
        {
            let checks: &[(&str, u8, &Field<i64>)] = if metadata_size.is_some() {
                &[("thinpool_percent", t, &p.thinpool_percent)]
            } else {
                &[
                    ("metadata_percent", m, &p.metadata_percent),
                    ("thinpool_percent", t, &p.thinpool_percent),
                ]
            };
            let mib = extent.0 / MIB;
            if let Some(ms) = metadata_size {
                // The metadata LV, and lvm's spare of the same size for repairs.
                let total = size.0.saturating_sub(MIB) / extent.0;
                let data = total * u64::from(t) / 100;
                let meta = ms.0.div_ceil(extent.0);
                if data + 2 * meta > total {
                    let at = p
                        .metadata_size
                        .value()
                        .map_or(p.table.clone(), |v| v.span());
                    self.err_hint(
                        at,
                        format!(
                            "the data LV ({t}% = {data} extents), the metadata LV and lvm's spare copy of it ({meta} extents each) need {} of the VG's {total} {} extents",
                            data + 2 * meta,
                            extent.human()
                        ),
                        "lower `thinpool_percent` or raise `device_size`",
                    );
                    return None;
                }
            }
            for &(key, pct, field) in checks {
                // The VG is the device less lvm's metadata area (1MiB by default).
                let extents = size.0.saturating_sub(MIB) / extent.0 * u64::from(pct) / 100;
                if extents == 0 {
                    let at = field.value().map_or(
                        p.device_size.value().map_or(p.table.clone(), |v| v.span()),
                        |v| v.span(),
                    );
                    self.err_hint(
                        at,
                        format!(
                            "`{key}` = {pct}% of a {} device is less than one {} lvm extent",
                            size.human(),
                            extent.human()
                        ),
                        format!(
                            "raise `{key}` or `device_size` (at least {}MiB at {pct}%)",
                            (100 * mib / u64::from(pct.max(1))) + 1
                        ),
                    );
                    return None;
                }
            }
        }
        Some(DirectLvmSpec {
            device: device?,
            thinpool_percent: thinpool_percent?,
            metadata_percent: metadata_percent?,
            metadata_size,
            extent_size: extent,
            autoextend_threshold: autoextend_threshold?,
            autoextend_percent: autoextend_percent?,
        })
    }

    /// `extent_size`: a power of two from 1MiB to 1GiB (lvm takes smaller ones, but a
    /// thin pool's chunks and metadata are sized in MiB).
    fn extent_size(&mut self, p: &RawPool) -> Option<Bytes> {
        const RULE: SizeRule = SizeRule {
            min: MIB,
            max: GIB,
            multiple_of: MIB,
            max_why: "lvm extents larger than 1GiB only waste space here",
        };
        let b = self.size("extent_size", &p.extent_size, DEFAULT_EXTENT, &RULE)?;
        if !b.0.is_power_of_two() {
            let at = p.extent_size.value().map_or(p.table.clone(), |v| v.span());
            self.err_hint(
                at,
                format!("`extent_size` is {}, not a power of two", b.human()),
                "lvm extents are powers of two: 1MiB, 2MiB, 4MiB (lvm's default), ...",
            );
            return None;
        }
        Some(b)
    }

    fn device_path(&mut self, v: &Spanned<String>, s: &str) -> Option<PathBuf> {
        let rest = s.strip_prefix("/dev/").unwrap_or("");
        let ok = !rest.is_empty()
            && !s.contains('\0')
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if ok && !self.grants.host_paths {
            self.err_hint(
                v.span(),
                format!("`device = \"{s}\"` names a block device of the machine: a scenario file cannot choose one by itself"),
                format!("run with `{HOST_PATHS_FLAG}` if you trust this scenario with {s}, or use `device = \"auto\"` (a scratch disk in the VM) or \"loop\""),
            );
            return None;
        }
        if ok {
            return Some(PathBuf::from(s));
        }
        let message = format!(
            "`device` must be \"auto\", \"loop\" or a device path under /dev/, not \"{s}\""
        );
        let hint = match suggest(s, &["auto", "loop"]) {
            Some(m) => format!("did you mean \"{m}\"?"),
            None if !s.starts_with('/') && !s.is_empty() => {
                format!("a device path is absolute, like \"/dev/{s}\"")
            }
            None => "a device path is absolute and normalised, like \"/dev/vdb\"".to_owned(),
        };
        self.err_hint(v.span(), message, hint);
        None
    }

    fn step(
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
            let mut effects = vec![effect];
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
        let expect = match &s.expect {
            Field::Absent => Some(Vec::new()),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.expect(value.get_ref(), kind),
        };
        let spec = match (name, pools, action, expect) {
            (Some(name), Some(pools), Some(action), Some(expect)) => Some(StepSpec {
                index,
                name,
                pools,
                action,
                expect,
            }),
            _ => None,
        };
        let facts = Facts {
            index,
            name: shown_name,
            name_span: s.name.value().map(|v| v.span()),
            label,
            pools: fact_pools,
            effect,
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

    /// The thin a step names in `key`; reported when missing. Only a name that
    /// `defines` a thin is checked as an identifier: a reference to a bad name is
    /// reported either at its definition or, if there is none, by the walk.
    fn thin_name(
        &mut self,
        f: &Field<String>,
        table: &Span,
        action: ActionKind,
        key: &str,
        defines: bool,
    ) -> (Option<Ident>, Option<Spanned<String>>) {
        let v = self.required(
            f,
            table,
            &format!("{} step has no `{key}`", action.name()),
            &format!("add `{key} = \"...\"`, the name of a thin device"),
        );
        match v {
            Some(v) if defines => (self.ident(v, "thin name"), Some(v.clone())),
            Some(v) => (Ident::new(v.get_ref()).ok(), Some(v.clone())),
            None => (None, None),
        }
    }

    fn thin_id(&mut self, f: &Field<i64>) -> (Option<Option<ThinId>>, Option<Spanned<u32>>) {
        match f {
            Field::Absent => (Some(None), None),
            Field::Invalid { .. } => (None, None),
            Field::Given { value, .. } => {
                let id = u64::try_from(*value.get_ref())
                    .map_err(|_| "thin ids are not negative".to_owned())
                    .and_then(ThinId::new);
                match id {
                    Ok(id) => (Some(Some(id)), Some(Spanned::new(value.span(), id.get()))),
                    Err(e) => {
                        self.err_hint(
                            value.span(),
                            format!("invalid `id`: {e}"),
                            "leave `id` out to use the next free id",
                        );
                        (None, None)
                    }
                }
            }
        }
    }

    fn action(&mut self, kind: ActionKind, s: &RawStep) -> (Option<Action>, Effect) {
        match kind {
            ActionKind::CreateThin => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", true);
                let size = self.size("size", &s.size, DOCKER_BASE_SIZE, &THIN_SIZE);
                let (id, id_raw) = self.thin_id(&s.id);
                let action = match (thin, id, size) {
                    (Some(thin), Some(id), Some(size)) => {
                        Some(Action::CreateThin { thin, id, size })
                    }
                    _ => None,
                };
                let effect = Effect::Create {
                    thin: thin_raw,
                    size,
                    id: id_raw,
                };
                (action, effect)
            }
            ActionKind::Snapshot => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", true);
                let (origin, origin_raw) =
                    self.thin_name(&s.origin, &s.table, kind, "origin", false);
                let (id, id_raw) = self.thin_id(&s.id);
                let action = match (thin, origin, id) {
                    (Some(thin), Some(origin), Some(id)) => {
                        Some(Action::Snapshot { thin, origin, id })
                    }
                    _ => None,
                };
                let effect = Effect::Snapshot {
                    thin: thin_raw,
                    origin: origin_raw,
                    id: id_raw,
                };
                (action, effect)
            }
            ActionKind::DeleteThin => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                (
                    thin.map(|thin| Action::DeleteThin { thin }),
                    Effect::Delete { thin: thin_raw },
                )
            }
            ActionKind::SmallWrite => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.small_write(s, thin);
                (
                    spec.map(Action::SmallWrite),
                    Effect::Write {
                        thin: thin_raw,
                        region,
                    },
                )
            }
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
                let holders = [
                    ("fd", Holder::Fd),
                    ("mount", Holder::Mount),
                    ("mount-namespace", Holder::MountNamespace),
                ];
                let holder = match s.holder.value() {
                    None => Some(Holder::Fd),
                    Some(v) => self.choice("holder", v, &holders),
                };
                let limits = (Duration::ZERO, Duration::from_secs(600));
                let hold = self
                    .duration("hold", &s.hold, limits)
                    .map(|d| d.unwrap_or(Duration::from_secs(2)));
                let retry = self
                    .duration(
                        "retry_interval",
                        &s.retry_interval,
                        (Duration::from_millis(10), Duration::from_secs(600)),
                    )
                    .map(|d| d.unwrap_or(Duration::from_secs(1)));
                let spec = match (thin, holder, hold, retry) {
                    (Some(thin), Some(holder), Some(hold), Some(retry_interval)) => {
                        Some(DeferredSpec {
                            thin,
                            holder,
                            hold,
                            retry_interval,
                        })
                    }
                    _ => None,
                };
                let action = spec.map(|d| {
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
            ActionKind::RepairMetadata => {
                let grow_by = self.size("grow_by", &s.grow_by, 4 * MIB, &GROW_BY);
                (
                    grow_by.map(|grow_by| Action::RepairMetadata(RepairMetadataSpec { grow_by })),
                    Effect::Nothing,
                )
            }
            ActionKind::Reboot => {
                let repair = match &s.repair {
                    Field::Absent => Some(false),
                    Field::Invalid { .. } => None,
                    Field::Given { value, .. } => Some(*value.get_ref()),
                };
                (
                    repair.map(|repair| Action::Reboot(RebootSpec { repair })),
                    Effect::Nothing,
                )
            }
            ActionKind::Replay => {
                let points = match &s.points {
                    Field::Absent => Some(ReplayPoints::All),
                    Field::Invalid { .. } => None,
                    Field::Given { value, .. } => match value.get_ref() {
                        IntOrText::Text(t) if t == "all" => Some(ReplayPoints::All),
                        IntOrText::Int(_) => self
                            .int_value(
                                "points",
                                &Spanned::new(
                                    value.span(),
                                    match value.get_ref() {
                                        IntOrText::Int(i) => *i,
                                        IntOrText::Text(_) => 0,
                                    },
                                ),
                                (1, MAX_REPLAY_POINTS),
                                None,
                            )
                            .map(|n| ReplayPoints::Sampled(n as u32)),
                        IntOrText::Text(t) => {
                            self.err_hint(
                                value.span(),
                                format!("invalid `points` \"{t}\""),
                                "\"all\" (every FUA write and mark) or an integer (that many, evenly spread, the last among them)",
                            );
                            None
                        }
                    },
                };
                (
                    points.map(|points| Action::Replay(ReplaySpec { points })),
                    Effect::Nothing,
                )
            }
            ActionKind::Io => {
                let (thin, thin_raw) = self.thin_name(&s.thin, &s.table, kind, "thin", false);
                let (spec, region) = self.io(s, thin);
                (
                    spec.map(Action::Io),
                    Effect::Write {
                        thin: thin_raw,
                        region,
                    },
                )
            }
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

    /// `cow-overwrite`: chunk-dependent rules (region a multiple of two chunks, IO below
    /// a chunk) are checked when the pool is known, at run time.
    fn cow_overwrite(
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

    /// `delete` settings.
    fn delete(&mut self, s: &RawStep, thin: Option<Ident>) -> Option<DeleteSpec> {
        let fs = self.choice_or(
            "fs",
            &s.fs,
            FsKind::Xfs,
            &[("xfs", FsKind::Xfs), ("ext4", FsKind::Ext4)],
        );
        let files = self.size("files", &s.files, 32 * MIB, &FILES);
        let files = match (files, s.files.value()) {
            (Some(b), Some(v)) if !b.0.is_multiple_of(MIB) => {
                self.err_hint(
                    v.span(),
                    format!("`files` is {}, not a whole number of MiB", b.human()),
                    "files are written as 1MiB files",
                );
                None
            }
            (f, _) => f,
        };
        let snapshot = s.snapshot.value().is_some_and(|v| *v.get_ref());
        let method = self.choice_or(
            "method",
            &s.method,
            DeleteMethod::Fstrim,
            &[
                ("none", DeleteMethod::None),
                ("fstrim", DeleteMethod::Fstrim),
                ("discard-mount", DeleteMethod::DiscardMount),
                ("blkdiscard", DeleteMethod::Blkdiscard),
            ],
        );
        Some(DeleteSpec {
            thin: thin?,
            fs: fs?,
            files: files?,
            snapshot,
            method: method?,
        })
    }

    /// `metadata-fill` settings, and the origin region it maps (checked against the
    /// thin's size). Chunk-dependent rules (IO at most a chunk) are checked at run time.
    fn metadata_fill(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<MetadataFillSpec>, Option<Region>) {
        let io_size = self.size("io_size", &s.io_size, DEFAULT_IO_SIZE, &IO_SIZE);
        let span = self.size("span", &s.span, 512 * MIB, &METADATA_SPAN);
        let stride = self.int(
            "stride",
            &s.stride,
            64,
            (1, 1 << 20),
            Some("a stride is a number of chunks between two writes"),
        );
        let snapshots = self.int(
            "snapshots",
            &s.snapshots,
            32,
            (1, 1000),
            Some("each snapshot is a pool message (loop-lvm) or an lvcreate (direct-lvm)"),
        );
        let region = match (io_size, span) {
            (Some(io_size), Some(span)) => Some(Region {
                io_size,
                offset: Spanned::new(s.table.clone(), Bytes(0)),
                span: Some(Spanned::new(
                    s.span.value().map_or(s.table.clone(), |v| v.span()),
                    span,
                )),
            }),
            _ => None,
        };
        let spec = match (thin, io_size, span, stride, snapshots) {
            (Some(thin), Some(io_size), Some(span), Some(stride), Some(snapshots)) => {
                Some(MetadataFillSpec {
                    thin,
                    io_size,
                    span,
                    stride: stride as u64,
                    snapshots: snapshots as u32,
                })
            }
            _ => None,
        };
        (spec, region)
    }

    /// `fill` settings.
    fn fill(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<FillSpec>, Option<Ident>, Option<Spanned<String>>) {
        let io_size = self.size("io_size", &s.io_size, 64 * 1024, &IO_SIZE);
        let bytes = match &s.bytes {
            Field::Absent => Some(None),
            _ => self.size("bytes", &s.bytes, 0, &THIN_SIZE).map(Some),
        };
        let hold = self
            .duration("hold", &s.hold, (Duration::ZERO, Duration::from_secs(3600)))
            .map(|d| d.unwrap_or(Duration::from_secs(2)));
        let error_within = self.duration(
            "error_within",
            &s.error_within,
            (Duration::ZERO, Duration::from_secs(3600)),
        );
        let autoextend = s.autoextend.value().is_some_and(|v| *v.get_ref());
        let (mut victim, mut victim_raw) = (None, None);
        let recover = match s.recover.value().map(|v| (v.span(), v.get_ref().as_str())) {
            None | Some((_, "none")) => {
                if let Some(k) = s.grow_by.key().or(s.delete.key()) {
                    self.err_hint(
                        k,
                        "`grow_by` and `delete` need a `recover` method",
                        "add `recover = \"grow\"` or `recover = \"delete-thin\"`",
                    );
                    None
                } else {
                    Some(Recover::None)
                }
            }
            Some((_, "grow")) => match &s.grow_by {
                Field::Absent => {
                    self.err_hint(
                        s.recover.key().unwrap_or(s.table.clone()),
                        "`recover = \"grow\"` needs `grow_by`",
                        "e.g. `grow_by = \"64MiB\"`",
                    );
                    None
                }
                f => self
                    .size("grow_by", f, 0, &GROW_BY)
                    .map(|by| Recover::Grow { by }),
            },
            Some((_, "delete-thin")) => {
                let (v, raw) =
                    self.thin_name(&s.delete, &s.table, ActionKind::Fill, "delete", false);
                victim_raw = raw;
                victim = v.clone();
                if v.is_none() && !s.delete.is_present() {
                    self.err_hint(
                        s.recover.key().unwrap_or(s.table.clone()),
                        "`recover = \"delete-thin\"` needs `delete`, the thin to delete",
                        "e.g. `delete = \"other\"`",
                    );
                }
                v.map(|thin| Recover::DeleteThin { thin })
            }
            Some((span, other)) => {
                self.err_hint(
                    span,
                    format!("unknown `recover` method \"{other}\""),
                    "use \"none\", \"grow\" or \"delete-thin\"",
                );
                None
            }
        };
        let spec = match (thin, io_size, bytes, hold, error_within, recover) {
            (
                Some(thin),
                Some(io_size),
                Some(bytes),
                Some(hold),
                Some(error_within),
                Some(recover),
            ) => Some(FillSpec {
                thin,
                io_size,
                bytes,
                recover,
                hold,
                error_within,
                autoextend,
            }),
            _ => None,
        };
        let _ = victim;
        (spec, None, victim_raw)
    }

    /// `io` settings, and the region to check against the thin's size (none for a fio
    /// job of the scenario's own: fio places that IO).
    fn io(&mut self, s: &RawStep, thin: Option<Ident>) -> (Option<IoSpec>, Option<Region>) {
        let fio = self.choice_or(
            "engine",
            &s.engine,
            false,
            &[("thinbench", false), ("fio", true)],
        );
        let given_job = s.job.is_present() || s.job_file.is_present();
        if given_job && fio == Some(false) {
            let key = s.job.key().or(s.job_file.key()).unwrap_or(s.table.clone());
            self.err_hint(
                key,
                "a fio job needs `engine = \"fio\"`",
                "add `engine = \"fio\"`, or describe the IO with `rw`, `io_size`, `queue_depth`, ... for thinbench's engine",
            );
            return (None, None);
        }
        if fio == Some(true) && given_job {
            // The job says what IO to do: the shape keys would be ignored, so refuse them.
            let shape_keys = [
                ("rw", s.rw.key()),
                ("io_size", s.io_size.key()),
                ("queue_depth", s.queue_depth.key()),
                ("jobs", s.jobs.key()),
                ("offset", s.offset.key()),
                ("span", s.span.key()),
                ("runtime", s.runtime.key()),
                ("count", s.count.key()),
                ("seed", s.seed.key()),
            ];
            let mut ok = true;
            for (k, at) in shape_keys {
                if let Some(at) = at {
                    self.err_hint(
                        at,
                        format!("`{k}` cannot go with a fio job: the job says what IO to do"),
                        "put it in the job text, or leave out `job`/`job_file` to have thinbench write the job",
                    );
                    ok = false;
                }
            }
            let text = self.fio_job(s);
            let spec = match (thin, text, ok) {
                (Some(thin), Some((text, file)), true) => Some(IoSpec {
                    thin,
                    engine: IoEngineSpec::FioJob { text, file },
                }),
                _ => None,
            };
            return (spec, None);
        }
        let (shape, region) = self.io_shape(s);
        let spec = match (thin, shape, fio) {
            (Some(thin), Some(shape), Some(fio)) => Some(IoSpec {
                thin,
                engine: if fio {
                    IoEngineSpec::FioShape(shape)
                } else {
                    IoEngineSpec::Thinbench(shape)
                },
            }),
            _ => None,
        };
        (spec, region)
    }

    /// A fio job from `job` (inline) or `job_file` (relative to the scenario's directory),
    /// checked: errors name the job's line.
    fn fio_job(&mut self, s: &RawStep) -> Option<(String, Option<PathBuf>)> {
        let (text, file, at) = match (s.job.value(), s.job_file.value()) {
            (Some(j), Some(f)) => {
                self.err_hint(
                    f.span(),
                    "both `job` and `job_file` are given",
                    "give the job inline (`job`) or as a file (`job_file`), not both",
                );
                let _ = j;
                return None;
            }
            (Some(j), None) => (j.get_ref().clone(), None, j.span()),
            (None, Some(f)) => {
                use thinbench_schema::untrusted;
                let written = f.get_ref();
                let path = match untrusted::resolve_inside(
                    &self.base,
                    written,
                    self.grants.host_paths,
                ) {
                    Ok(p) => p,
                    Err(untrusted::PathRefusal::Unresolvable(e)) => {
                        self.err_hint(
                            f.span(),
                            format!(
                                "cannot read fio job file {}: {e}",
                                self.base.join(written).display()
                            ),
                            "`job_file` is relative to the scenario file's directory",
                        );
                        return None;
                    }
                    Err(why) => {
                        self.err_hint(
                            f.span(),
                            format!("`job_file` {why}"),
                            format!("`job_file` is relative to the scenario file's directory and stays inside it (unless run with `{HOST_PATHS_FLAG}`)"),
                        );
                        return None;
                    }
                };
                // The job file's contents are never quoted: it may be a file the
                // scenario's author could not read themselves.
                let text = untrusted::read(&path, untrusted::limit::FIO_JOB)
                    .map_err(|e| e.reason())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()));
                match text {
                    Ok(t) => (t, Some(path), f.span()),
                    Err(why) => {
                        self.err_hint(
                            f.span(),
                            format!("cannot read fio job file {}: {why}", path.display()),
                            "`job_file` is relative to the scenario file's directory",
                        );
                        return None;
                    }
                }
            }
            // A wrong type was reported where it was read.
            (None, None) => return None,
        };
        if let Err(e) = thinbench_workloads::fio::check_job_text(&text) {
            let where_ = match (e.line, &file) {
                (0, _) => String::new(),
                (n, Some(p)) => format!("{}:{n}: ", p.display()),
                (n, None) => format!("line {n} of the job: "),
            };
            self.err_hint(
                at,
                format!("fio job: {where_}{}", e.message),
                "the job runs on the step's thin device, given on fio's command line; only options that shape IO on it are allowed (docs/security.md)",
            );
            return None;
        }
        Some((text, file))
    }

    /// The shape keys of an `io` step (either engine).
    fn io_shape(&mut self, s: &RawStep) -> (Option<IoShape>, Option<Region>) {
        use thinbench_workloads::fio::FioRw;
        let rw = match self.required(
            &s.rw,
            &s.table,
            "io step has no `rw`",
            "add `rw = \"randwrite\"` (or \"write\", \"randread\", \"read\")",
        ) {
            Some(v) => {
                let v = v.clone();
                self.choice(
                    "rw",
                    &v,
                    &[
                        ("randwrite", FioRw::RandWrite),
                        ("write", FioRw::Write),
                        ("randread", FioRw::RandRead),
                        ("read", FioRw::Read),
                    ],
                )
            }
            None => None,
        };
        let io_size = self.size("io_size", &s.io_size, DEFAULT_IO_SIZE, &IO_SIZE);
        let queue_depth = self
            .int(
                "queue_depth",
                &s.queue_depth,
                1,
                (1, thinbench_workloads::io::MAX_QUEUE_DEPTH as i64),
                None,
            )
            .and_then(|n| u32::try_from(n).ok());
        let jobs = self
            .int(
                "jobs",
                &s.jobs,
                1,
                (1, thinbench_workloads::io::MAX_JOBS as i64),
                None,
            )
            .and_then(|n| u32::try_from(n).ok());
        let seed = self
            .int("seed", &s.seed, DEFAULT_SEED, (0, i64::MAX), None)
            .and_then(|n| u64::try_from(n).ok());
        let runtime = self.duration(
            "runtime",
            &s.runtime,
            (Duration::from_millis(100), Duration::from_secs(3600)),
        );
        let length = match (runtime, &s.count) {
            (Some(Some(_)), c) if c.is_present() => {
                if let Some(key) = c.key() {
                    self.err_hint(
                        key,
                        "io step has both `runtime` and `count`",
                        "give one of them: `runtime` (a time) or `count` (a number of IOs)",
                    );
                }
                None
            }
            (Some(Some(d)), _) => Some(IoLength::Runtime(d)),
            (Some(None), Field::Given { value, .. }) => self
                .int_value("count", value, (1, i64::MAX), None)
                .and_then(|n| u64::try_from(n).ok())
                .map(IoLength::Count),
            (Some(None), Field::Absent) => {
                self.err_hint(
                    s.table.clone(),
                    "io step has neither `runtime` nor `count`",
                    "say how long: `runtime = \"2s\"` or `count = 2048` (IOs)",
                );
                None
            }
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
        if let (Some(io), Some(off), Some(v)) = (io_size, offset, s.offset.value()) {
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
        if let (Some(io), Some(Some(sp)), Some(v), Some(jobs)) =
            (io_size, span, s.span.value(), jobs)
        {
            if sp.0 / io.0 < u64::from(jobs) {
                self.err_hint(
                    v.span(),
                    format!(
                        "`span` is {}: less than one {} IO for each of {jobs} jobs",
                        sp.human(),
                        io.human()
                    ),
                    "each job works on its own slice of the region",
                );
                region_ok = false;
            }
        }
        let region = region_of(s, io_size, offset, span, region_ok);
        let shape = match (rw, &region, queue_depth, jobs, length, seed) {
            (Some(rw), Some(r), Some(queue_depth), Some(jobs), Some(length), Some(seed)) => {
                Some(IoShape {
                    rw,
                    io_size: r.io_size,
                    queue_depth,
                    jobs,
                    offset: *r.offset.get_ref(),
                    span: r.span.as_ref().map(|s| *s.get_ref()),
                    length,
                    seed,
                })
            }
            _ => None,
        };
        (shape, region)
    }

    /// `engine-vs-fio` settings, and its region (from 0) to check against the thin.
    fn engine_vs_fio(
        &mut self,
        s: &RawStep,
        thin: Option<Ident>,
    ) -> (Option<PeerSpec>, Option<Region>) {
        const PEER_SPAN: SizeRule = SizeRule {
            min: 4 * MIB,
            max: 64 * 1024 * MIB,
            multiple_of: 64 * 1024,
            max_why: "the benchmark tests behaviour, not size: keep the device small",
        };
        let span = match &s.span {
            Field::Absent => Some(Bytes(64 * MIB)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let b = self.bytes("span", value);
                b.filter(|b| self.size_rule("span", value.span(), *b, &PEER_SPAN))
            }
        };
        let runtime = self
            .duration(
                "runtime",
                &s.runtime,
                (Duration::from_millis(200), Duration::from_secs(600)),
            )
            .map(|d| d.unwrap_or(Duration::from_secs(2)));
        let rounds = self
            .int("rounds", &s.rounds, 2, (1, 20), None)
            .and_then(|n| u32::try_from(n).ok());
        let sampling_cost = match &s.sampling_cost {
            Field::Absent => Some(true),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => Some(*value.get_ref()),
        };
        let region = span.map(|b| Region {
            io_size: Bytes(64 * 1024),
            offset: Spanned::new(s.table.clone(), Bytes(0)),
            span: Some(Spanned::new(
                s.span.value().map_or(s.table.clone(), |v| v.span()),
                b,
            )),
        });
        let spec = match (thin, span, runtime, rounds, sampling_cost) {
            (Some(thin), Some(span), Some(runtime), Some(rounds), Some(sampling_cost)) => {
                Some(PeerSpec {
                    thin,
                    span,
                    runtime,
                    rounds,
                    sampling_cost,
                })
            }
            _ => None,
        };
        (spec, region)
    }

    /// `small-write` settings, and the region to check against the thin's size.
    fn small_write(
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
        let pattern = match (sequential, &s.seed) {
            (None, _) => None,
            (Some(true), Field::Absent) => Some(AccessPattern::Sequential),
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
        let spec = match (thin, &region, pattern, limit) {
            (Some(thin), Some(r), Some(pattern), Some(limit)) => Some(SmallWriteSpec {
                thin,
                io_size: r.io_size,
                pattern,
                limit,
                offset: *r.offset.get_ref(),
                span: r.span.as_ref().map(|s| *s.get_ref()),
            }),
            _ => None,
        };
        (spec, region)
    }

    fn expect(&mut self, e: &RawExpect, kind: Option<ActionKind>) -> Option<Vec<Expect>> {
        let mut out = Vec::new();
        let mut ok = true;
        let not_workload = kind.filter(|k| !k.is_workload());
        match &e.data_blocks_allocated {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match value.get_ref() {
                IntOrText::Int(n) => match u64::try_from(*n) {
                    Ok(n) => out.push(Expect::DataBlocksAllocated(BlockCount::Exact(n))),
                    Err(_) => {
                        self.err(value.span(), "`data_blocks_allocated` must not be negative");
                        ok = false;
                    }
                },
                IntOrText::Text(t) if t == "chunks-touched" => {
                    if let Some(k) = not_workload {
                        self.err_hint(
                            value.span(),
                            format!("\"chunks-touched\" needs a workload, and {} steps run none", k.name()),
                            "expect an exact number of blocks instead, e.g. `data_blocks_allocated = 0`",
                        );
                        ok = false;
                    } else {
                        out.push(Expect::DataBlocksAllocated(BlockCount::ChunksTouched));
                    }
                }
                IntOrText::Text(t) => {
                    self.err_hint(
                        value.span(),
                        format!("`data_blocks_allocated` must be an integer or \"chunks-touched\", not \"{t}\""),
                        "\"chunks-touched\" expects as many new blocks as the workload touched distinct chunks",
                    );
                    ok = false;
                }
            },
        }
        let modes = [
            PoolMode::Rw,
            PoolMode::Ro,
            PoolMode::OutOfDataSpace,
            PoolMode::Fail,
            PoolMode::Error,
        ]
        .map(|m| (m.as_str(), m));
        match &e.mode {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match self.choice("mode", value, &modes) {
                Some(m) => out.push(Expect::Mode(m)),
                None => ok = false,
            },
        }
        match &e.needs_check {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => out.push(Expect::NeedsCheck(*value.get_ref())),
        }
        match &e.error_contains {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => out.push(Expect::ErrorContains(value.get_ref().clone())),
        }
        match &e.first_error {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                let v = value.get_ref();
                if v.len() > 1
                    && v.starts_with('E')
                    && v[1..].chars().all(|c| c.is_ascii_uppercase())
                {
                    out.push(Expect::FirstError(v.clone()));
                } else {
                    self.err_hint(
                        value.span(),
                        format!("`first_error` must be an errno name, not \"{v}\""),
                        "e.g. \"ENOSPC\" or \"EIO\"",
                    );
                    ok = false;
                }
            }
        }
        match &e.errors {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                if let Some(k) = not_workload {
                    self.err(
                        value.span(),
                        format!(
                            "`errors` counts workload IO errors, and {} steps run no workload",
                            k.name()
                        ),
                    );
                    ok = false;
                } else {
                    match self
                        .int_value("errors", value, (0, i64::MAX), None)
                        .and_then(|n| u64::try_from(n).ok())
                    {
                        Some(n) => out.push(Expect::Errors(n)),
                        None => ok = false,
                    }
                }
            }
        }
        match &e.p50_at_least {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { .. } => {
                if let Some(k) = not_workload {
                    self.err(
                        e.p50_at_least.key().unwrap_or_default(),
                        format!(
                            "`p50_at_least` is a workload's latency, and {} steps run no workload",
                            k.name()
                        ),
                    );
                    ok = false;
                } else {
                    match self.duration(
                        "p50_at_least",
                        &e.p50_at_least,
                        (Duration::ZERO, MAX_FAULT_DELAY),
                    ) {
                        Some(Some(d)) => out.push(Expect::P50AtLeast(d)),
                        _ => ok = false,
                    }
                }
            }
        }
        match &e.kernel_log {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                if value.get_ref().trim().is_empty() {
                    self.err(
                        value.span(),
                        "`kernel_log` is empty: every line would match",
                    );
                    ok = false;
                } else {
                    out.push(Expect::KernelLog(value.get_ref().clone()));
                }
            }
        }
        ok.then_some(out)
    }

    fn unique_step_names(&mut self, facts: &[Facts]) {
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
    fn walk(&mut self, pool_names: &[&str], facts: &[Facts]) {
        // Where each thin name is created, for hints.
        let mut creators: HashMap<&str, Vec<usize>> = HashMap::new();
        for f in facts {
            if let Effect::Create { thin: Some(t), .. } | Effect::Snapshot { thin: Some(t), .. } =
                &f.effect
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
            let mut w = PoolWalk {
                facts,
                creators: &creators,
                live: HashMap::new(),
                deleted: HashMap::new(),
                ids: HashMap::new(),
                d: Vec::new(),
            };
            for f in facts.iter().filter(|f| applies(f, pool)) {
                w.step(f);
            }
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
    /// Live thins: name → (virtual size if known, creating step).
    live: HashMap<&'a str, (Option<Bytes>, usize)>,
    /// Deleted thins: name → deleting step.
    deleted: HashMap<&'a str, usize>,
    /// Explicit thin ids used: id → step.
    ids: HashMap<u32, usize>,
    /// Problems, with the step they belong to.
    d: Vec<(Diagnostic, usize)>,
}

impl<'a> PoolWalk<'a> {
    fn step(&mut self, f: &'a Facts) {
        match &f.effect {
            Effect::Nothing => {}
            Effect::Create { thin, size, id } => {
                self.claim_id(f, id.as_ref());
                self.create(f, thin.as_ref(), *size);
            }
            Effect::Snapshot { thin, origin, id } => {
                let size = origin.as_ref().and_then(|o| self.existing(f, o)).flatten();
                self.claim_id(f, id.as_ref());
                self.create(f, thin.as_ref(), size);
            }
            Effect::Delete { thin } => {
                if let Some(t) = thin {
                    if self.existing(f, t).is_some() {
                        self.live.remove(t.get_ref().as_str());
                        self.deleted.insert(t.get_ref(), f.index);
                    }
                }
            }
            Effect::Write { thin, region } => self.write(f, thin.as_ref(), region.as_ref()),
            Effect::Many(effects) => {
                for e in effects {
                    match e {
                        Effect::Write { thin, region } => {
                            self.write(f, thin.as_ref(), region.as_ref())
                        }
                        Effect::Snapshot { thin, origin, id } => {
                            let size = origin.as_ref().and_then(|o| self.existing(f, o)).flatten();
                            self.claim_id(f, id.as_ref());
                            self.create(f, thin.as_ref(), size);
                        }
                        Effect::Delete { thin: Some(t) } if self.existing(f, t).is_some() => {
                            self.live.remove(t.get_ref().as_str());
                            self.deleted.insert(t.get_ref(), f.index);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn write(&mut self, f: &'a Facts, thin: Option<&'a Spanned<String>>, region: Option<&Region>) {
        let Some(t) = thin else { return };
        let size = self.existing(f, t).flatten();
        if let (Some(size), Some(r)) = (size, region) {
            self.check_region(f, t.get_ref(), size, r);
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

    fn create(&mut self, f: &Facts, thin: Option<&'a Spanned<String>>, size: Option<Bytes>) {
        let Some(t) = thin else { return };
        if let Some((_, by)) = self.live.get(t.get_ref().as_str()) {
            let d = Diagnostic::new(
                t.span(),
                format!(
                    "thin `{}` already exists: {} made it",
                    t.get_ref(),
                    self.label(*by)
                ),
            )
            .with_hint("use another name, or delete it first with a delete-thin step");
            self.report(f, d);
            return;
        }
        self.deleted.remove(t.get_ref().as_str());
        self.live.insert(t.get_ref(), (size, f.index));
    }

    fn claim_id(&mut self, f: &Facts, id: Option<&Spanned<u32>>) {
        let Some(id) = id else { return };
        if let Some(by) = self.ids.get(id.get_ref()) {
            let d = Diagnostic::new(
                id.span(),
                format!("thin id {} is already used by {}", id.get_ref(), self.label(*by)),
            )
            .with_hint("explicit ids must be unique among a pool's steps; leave `id` out to use the next free one");
            self.report(f, d);
        } else {
            self.ids.insert(*id.get_ref(), f.index);
        }
    }

    /// The size of live thin `t` (`Some(None)`: live, size unknown), or a report of why
    /// it does not exist.
    fn existing(&mut self, f: &Facts, t: &Spanned<String>) -> Option<Option<Bytes>> {
        let name = t.get_ref().as_str();
        if let Some((size, _)) = self.live.get(name) {
            return Some(*size);
        }
        let (message, hint) = if let Some(by) = self.deleted.get(name) {
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

    fn check_region(&mut self, f: &Facts, thin: &str, size: Bytes, r: &Region) {
        let offset = *r.offset.get_ref();
        let d = match &r.span {
            Some(span) => {
                let end = offset.0.checked_add(span.get_ref().0);
                (end.is_none_or(|e| e > size.0)).then(|| {
                    Diagnostic::new(
                        span.span(),
                        format!(
                            "`offset` + `span` ({} + {}) goes past the end of thin `{thin}` ({})",
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
                            "`offset` {} leaves no room for one {} IO in thin `{thin}` ({})",
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

/// `"90s"`, `"20m"`, `"1h"`, `"1h30m"`, `"1h 30m 10s"`, `"20 m"`: whole hours, minutes and seconds,
/// each at most once, largest first.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".to_owned());
    }
    let mut rest = t;
    let mut total: u64 = 0;
    // Rank of the last unit: 4 = none yet, 3 = h, 2 = m, 1 = s, 0 = ms. Total in ms.
    let mut last = 4;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration: expected a number at `{rest}`"
            ));
        }
        let (num, after) = rest.split_at(digits);
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let (rank, mult) = match unit {
            "h" => (3, 3_600_000),
            "m" => (2, 60_000),
            "s" => (1, 1000),
            "ms" => (0, 1),
            "" => return Err(format!("`{s}` has no unit after {num} (use h, m, s or ms)")),
            other => return Err(format!("`{s}`: unknown unit `{other}` (use h, m, s or ms)")),
        };
        if rank >= last {
            return Err(format!(
                "`{s}`: units must go from hours to milliseconds, each once"
            ));
        }
        last = rank;
        total = num
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| format!("`{s}` is too long"))?;
        rest = after.trim_start();
    }
    Ok(Duration::from_millis(total))
}

/// The shortest `1h30m`-style form of whole seconds.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let ms = d.subsec_millis();
    if s == 0 {
        return if ms == 0 {
            "0s".to_owned()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 {
        out.push_str(&format!("{sec}s"));
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load_plan_str, ScenarioError};

    /// Two pools, `a` (loop-lvm) and `b` (direct-lvm), to put steps after.
    const POOLS: &str = "format = 1\n\
        [[pool]]\nname = \"a\"\nkind = \"loop-lvm\"\n\
        [[pool]]\nname = \"b\"\nkind = \"direct-lvm\"\n";

    fn load(text: &str) -> Result<Plan, Vec<ScenarioError>> {
        load_plan_str(Path::new("t.toml"), text).map_err(|e| e.errors)
    }

    fn ok(text: &str) -> Plan {
        load(text).unwrap_or_else(|e| panic!("should load: {e:#?}"))
    }

    /// `ok` with `--allow-host-paths`.
    fn ok_granted(text: &str) -> Plan {
        let g = Grants { host_paths: true };
        crate::scenario::load_plan_str_granted(Path::new("t.toml"), text, &g)
            .unwrap_or_else(|e| panic!("should load: {e:#?}"))
    }

    /// The one error of `text` with `--allow-host-paths`.
    fn one_granted(text: &str) -> String {
        let g = Grants { host_paths: true };
        let e = crate::scenario::load_plan_str_granted(Path::new("t.toml"), text, &g)
            .expect_err("should fail")
            .errors;
        assert_eq!(e.len(), 1, "{e:#?}");
        e[0].to_string()
    }

    /// Messages (with hints) of a file that must fail.
    fn errors(text: &str) -> Vec<String> {
        match load(text) {
            Ok(p) => panic!("should fail: {p:#?}"),
            Err(e) => e
                .iter()
                .map(|e| match &e.hint {
                    Some(h) => format!("{} [hint: {h}]", e.message),
                    None => e.message.clone(),
                })
                .collect(),
        }
    }

    /// The single error of a file; panics when there are more.
    fn one(text: &str) -> String {
        let e = errors(text);
        assert_eq!(e.len(), 1, "{e:#?}");
        e.into_iter().next().unwrap_or_default()
    }

    fn steps(s: &str) -> String {
        format!("{POOLS}{s}")
    }

    /// A pool table with extra keys, and one trivial step.
    fn pool(kind: &str, extra: &str) -> String {
        format!(
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"{kind}\"\n{extra}\n\
             [[step]]\naction = \"create-thin\"\nthin = \"t\"\n"
        )
    }

    const CREATE_T: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n";

    #[test]
    fn durations() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_secs());
        assert_eq!(d("90s"), Ok(90));
        assert_eq!(d("20m"), Ok(1200));
        assert_eq!(d("1h"), Ok(3600));
        assert_eq!(d("1h30m"), Ok(5400));
        assert_eq!(d(" 1h 30m 5s "), Ok(5405));
        assert_eq!(d("20 m"), Ok(1200));
        assert_eq!(d("0s"), Ok(0));
        assert!(d("").is_err());
        assert!(d("20").unwrap_err().contains("no unit"));
        assert!(d("20 minutes")
            .unwrap_err()
            .contains("unknown unit `minutes`"));
        assert!(d("30m1h").unwrap_err().contains("hours to milliseconds"));
        let ms = |t: &str| parse_duration(t).map(|d| d.as_millis());
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1s 250ms"), Ok(1250));
        assert!(ms("5ms2s").is_err());
        assert_eq!(human_duration(Duration::from_millis(1250)), "1s250ms");
        assert!(d("1m1m").is_err());
        assert!(d("-5s").is_err());
        assert!(d("99999999999999999999h").unwrap_err().contains("too long"));
        assert_eq!(human_duration(Duration::from_secs(5405)), "1h30m5s");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn timeout_default_and_bounds() {
        let base = pool("loop-lvm", "");
        assert_eq!(ok(&base).timeout, DEFAULT_TIMEOUT);
        let with = |t: &str| {
            base.replacen(
                "format = 1\n",
                &format!("format = 1\ntimeout = \"{t}\"\n"),
                1,
            )
        };
        assert_eq!(ok(&with("1h30m")).timeout, Duration::from_secs(5400));
        assert_eq!(ok(&with("24h")).timeout, Duration::from_secs(86400));
        assert!(one(&with("0s")).contains("must be 1s to 24h, not 0s"));
        assert!(one(&with("25h")).contains("not 25h"));
    }

    #[test]
    fn format_version() {
        let base = pool("loop-lvm", "");
        let missing = base.replacen("format = 1\n", "", 1);
        let e = load(&missing).expect_err("no format");
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].line, e[0].col), (1, 1));
        assert!(e[0].message.contains("missing `format`"));
        // Another version: only that error, whatever else the file holds.
        let v2 = base.replacen("format = 1\n", "format = 2\nnew_key = 1\n", 1);
        let msg = one(&v2);
        assert!(msg.contains("unsupported scenario format 2"), "{msg}");
        assert!(msg.contains("reads format 1"), "{msg}");
        let text = base.replacen("format = 1", "format = \"1\"", 1);
        assert!(one(&text).contains("`format` must be an integer"));
    }

    #[test]
    fn scenario_name() {
        let base = pool("loop-lvm", "");
        assert_eq!(ok(&base).name.as_str(), "t");
        let bad_stem =
            load_plan_str(Path::new("dir/my scenario.toml"), &base).expect_err("stem has a space");
        assert_eq!(bad_stem.errors.len(), 1);
        assert!(bad_stem.errors[0].message.contains("no `name`"));
        let named = load_plan_str(
            Path::new("dir/my scenario.toml"),
            &base.replacen("format = 1\n", "format = 1\nname = \"mine\"\n", 1),
        )
        .expect("named");
        assert_eq!(named.name.as_str(), "mine");
        let bad = base.replacen("format = 1\n", "format = 1\nname = \"9lives\"\n", 1);
        assert!(one(&bad).contains("invalid scenario name: `9lives` must start with a letter"));
    }

    #[test]
    fn pool_count_and_names() {
        let e = one("format = 1\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
        assert!(e.contains("no [[pool]]"), "{e}");
        let e = one("format = 1\npool = []\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
        assert!(e.contains("no [[pool]]"), "{e}");
        let mut nine = String::from("format = 1\n");
        for i in 0..9 {
            nine.push_str(&format!("[[pool]]\nname = \"p{i}\"\nkind = \"loop-lvm\"\n"));
        }
        nine.push_str(CREATE_T);
        let e = load(&nine).expect_err("9 pools");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 26, "at the ninth [[pool]]");
        assert!(e[0]
            .message
            .contains("too many [[pool]] tables: 9, at most 8"));
        assert!(one("format = 1\n[[pool]]\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n")
            .contains("[[pool]] has no `name`"));
        assert!(one(&pool("loop_lvm", "")).contains("did you mean \"loop-lvm\"?"));
        assert!(one("format = 1\n[[pool]]\nname = \"p\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n")
            .contains("[[pool]] has no `kind`"));
    }

    #[test]
    fn chunk_sizes() {
        let chunk = |v: &str| pool("loop-lvm", &format!("chunk_size = {v}"));
        assert_eq!(ok(&chunk("65536")).pools[0].chunk.bytes(), Bytes(64 * KIB));
        assert_eq!(ok(&chunk("\"1GiB\"")).pools[0].chunk.bytes(), Bytes(GIB));
        assert!(one(&chunk("\"2GiB\"")).contains("exceeds dm-thin's maximum of 1GiB"));
        assert!(one(&chunk("\"0\"")).contains(CHUNK_HINT));
        assert!(one(&chunk("-65536")).contains("must not be negative"));
        assert!(one(&chunk("1.5")).contains("not a float"));
    }

    #[test]
    fn low_water_marks() {
        let lwm = |v: &str| pool("loop-lvm", &format!("low_water_mark = {v}"));
        assert_eq!(
            ok(&lwm("\"10%\"")).pools[0].low_water_mark,
            LowWaterMark::Percent(10)
        );
        assert_eq!(
            ok(&lwm("\"100%\"")).pools[0].low_water_mark,
            LowWaterMark::Percent(100)
        );
        assert_eq!(
            ok(&lwm("0")).pools[0].low_water_mark,
            LowWaterMark::Blocks(DataBlocks(0))
        );
        for bad in ["\"0%\"", "\"101%\"", "\"10\"", "\"ten%\""] {
            assert!(one(&lwm(bad)).contains("expected a percentage"), "{bad}");
        }
        assert!(one(&lwm("-1")).contains("must not be negative"));
        assert!(one(&lwm("true")).contains("not a boolean"));
    }

    #[test]
    fn loop_lvm_sizes() {
        let p = |extra: &str| pool("loop-lvm", extra);
        let plan = ok(&p("data_size = \"4GiB\"\nmetadata_size = 8388608"));
        let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
            panic!()
        };
        assert_eq!(
            (l.data_size, l.metadata_size),
            (Bytes(4 * GIB), Bytes(8 * MIB))
        );
        assert!(one(&p("chunk_size = \"1GiB\"\ndata_size = \"512MiB\""))
            .contains("`data_size` is 512MiB, smaller than one chunk (1GiB)"));
        assert!(one(&p("data_size = \"512KiB\"")).contains("below the minimum of 1MiB"));
        assert!(one(&p("data_size = 1048577")).contains("not a multiple of 512"));
        assert!(one(&p("data_size = \"17TiB\"")).contains("above the maximum of 16TiB"));
        let e = one(&p("metadata_size = \"17GiB\""));
        assert!(
            e.contains("above the maximum of 16GiB") && e.contains("dm-thin uses at most 16GiB"),
            "{e}"
        );
        assert!(one(&p("data_size = \"12 furlongs\"")).contains("unknown unit `furlongs`"));
        assert!(one(&p("data_size = \"abc\"")).contains("is not a size"));
        // Trailing spaces are fine; `Bytes::parse_human` trims.
        let plan = ok(&p("data_size = \"1GB \""));
        let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
            panic!()
        };
        assert_eq!(l.data_size, Bytes(1_000_000_000));
    }

    #[test]
    fn loop_lvm_dir() {
        let dir_of = |extra: &str| {
            let plan = ok(&pool("loop-lvm", extra));
            let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
                panic!()
            };
            l.dir.clone()
        };
        assert_eq!(dir_of(""), None);
        assert_eq!(
            dir_of("dir = \"pool-files/x\""),
            Some(PathBuf::from("pool-files/x"))
        );
        let outside = "dir = \"/var/tmp/x\"\nallow_outside_workdir = true";
        let PoolKindSpec::LoopLvm(l) = &ok_granted(&pool("loop-lvm", outside)).pools[0].kind else {
            panic!()
        };
        assert_eq!(l.dir, Some(PathBuf::from("/var/tmp/x")));
        // The file alone cannot let itself out: one error, naming the flag.
        let e = one(&pool("loop-lvm", outside));
        assert!(
            e.contains("cannot grant itself host paths") && e.contains("--allow-host-paths"),
            "{e}"
        );
        let p = |extra: &str| pool("loop-lvm", extra);
        assert!(one(&p("dir = \"/var/tmp\"")).contains("`dir` is absolute"));
        assert!(one(&p("dir = \"a/../../b\"")).contains("`..` component"));
        assert!(one(&p("dir = \"\"")).contains("`dir` is empty"));
        assert!(one(&p("allow_outside_workdir = true")).contains("no effect without `dir`"));
        assert!(one(&p("dir = \"x\\u0000\"")).contains("NUL"));
    }

    #[test]
    fn direct_lvm_devices() {
        let device_of = |extra: &str| {
            let plan = ok(&pool("direct-lvm", extra));
            let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
                panic!()
            };
            d.device.clone()
        };
        assert_eq!(
            device_of(""),
            DeviceSpec::Auto {
                size: Bytes(20 * GIB)
            }
        );
        assert_eq!(
            device_of("device = \"loop\"\ndevice_size = \"1GiB\""),
            DeviceSpec::LoopBacked { size: Bytes(GIB) }
        );
        let PoolKindSpec::DirectLvm(d) =
            &ok_granted(&pool("direct-lvm", "device = \"/dev/disk/by-id/x\"")).pools[0].kind
        else {
            panic!()
        };
        assert_eq!(
            d.device,
            DeviceSpec::Path(PathBuf::from("/dev/disk/by-id/x"))
        );
        let e = one(&pool("direct-lvm", "device = \"/dev/sda\""));
        assert!(
            e.contains("names a block device of the machine") && e.contains("--allow-host-paths"),
            "{e}"
        );
        let p = |extra: &str| pool("direct-lvm", extra);
        assert!(one(&p("device = \"vdb\"")).contains("like \"/dev/vdb\""));
        assert!(one(&p("device = \"Auto\"")).contains("did you mean \"auto\"?"));
        for bad in [
            "/dev/",
            "/dev/../etc/passwd",
            "/dev//vdb",
            "/etc/vdb",
            "/dev/./vdb",
        ] {
            assert!(
                one(&p(&format!("device = \"{bad}\""))).contains("under /dev/"),
                "{bad}"
            );
        }
        assert!(
            one_granted(&p("device = \"/dev/vdb\"\ndevice_size = \"1GiB\""))
                .contains("does not apply to a device path")
        );
        assert!(one(&p("device_size = \"32MiB\"")).contains("below the minimum of 64MiB"));
    }

    #[test]
    fn direct_lvm_metadata_size_and_extent_size() {
        let p = |extra: &str| pool("direct-lvm", extra);
        let plan = ok(&p(
            "device_size = \"1GiB\"\nextent_size = \"1MiB\"\nmetadata_size = \"2MiB\"",
        ));
        let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
            panic!("direct-lvm")
        };
        assert_eq!(d.metadata_size, Some(Bytes(2 * MIB)));
        assert_eq!(d.extent_size, Bytes(MIB));
        let PoolKindSpec::DirectLvm(d) = &ok(&p("")).pools[0].kind else {
            panic!("direct-lvm")
        };
        assert_eq!((d.metadata_size, d.extent_size), (None, Bytes(4 * MIB)));
        assert!(one(&p("metadata_size = \"1MiB\"")).contains("below the minimum of 2MiB"));
        assert!(one(&p("metadata_size = \"8MiB\"\nmetadata_percent = 2"))
            .contains("both size the metadata LV"));
        assert!(one(&p("extent_size = \"3MiB\"")).contains("not a power of two"));
        assert!(one(&p("extent_size = \"512KiB\"")).contains("below the minimum of 1MiB"));
        // 95% data leaves 5% of a 256MiB VG: no room for 2 × 16MiB of metadata.
        let e = one(&p("device_size = \"256MiB\"\nmetadata_size = \"16MiB\""));
        assert!(
            e.contains("lvm's spare copy") && e.contains("lower `thinpool_percent`"),
            "{e}"
        );
        // A smaller extent makes a small percentage possible.
        assert!(one(&p("device_size = \"256MiB\"")).contains("less than one 4MiB lvm extent"));
        ok(&p(
            "device_size = \"256MiB\"\nextent_size = \"1MiB\"\nmetadata_percent = 1",
        ));
    }

    #[test]
    fn direct_lvm_percentages() {
        let p = |extra: &str| pool("direct-lvm", extra);
        let plan = ok(&p("thinpool_percent = 90\nmetadata_percent = 10\nautoextend_threshold = 100\nautoextend_percent = 0"));
        let PoolKindSpec::DirectLvm(d) = &plan.pools[0].kind else {
            panic!()
        };
        assert_eq!((d.thinpool_percent, d.metadata_percent), (90, 10));
        assert_eq!((d.autoextend_threshold, d.autoextend_percent), (100, 0));
        let e = one(&p("autoextend_threshold = 49"));
        assert!(
            e.contains("must be 50 to 100, not 49") && e.contains("as 50"),
            "{e}"
        );
        assert!(one(&p("metadata_percent = 0")).contains("must be 1 to 100, not 0"));
        assert!(one(&p("thinpool_percent = 101")).contains("not 101"));
        assert!(one(&p("autoextend_percent = 101")).contains("must be 0 to 100"));
        assert!(one(&p("thinpool_percent = 100")).contains("is 101%"));
    }

    #[test]
    fn keys_of_the_other_kind() {
        let e = one(&pool("direct-lvm", "data_size = \"1GiB\""));
        assert!(
            e.contains("`data_size` is a key of loop-lvm pools, and this pool is direct-lvm"),
            "{e}"
        );
        assert!(
            e.contains("direct-lvm pools take:") && e.contains("device_size"),
            "{e}"
        );
        let e = errors(&pool(
            "loop-lvm",
            "device = \"auto\"\nthinpool_percent = 95",
        ));
        assert_eq!(e.len(), 2, "{e:#?}");
        // Other pool settings default the same on both kinds.
        let plan = ok(&pool("direct-lvm", "no_space = \"error\"\nno_space_timeout = \"0s\"\nblock_zeroing = true\ndiscard_passdown = false"));
        let p = &plan.pools[0];
        assert_eq!(p.no_space, NoSpacePolicy::Error);
        assert_eq!(p.no_space_timeout, Some(Duration::ZERO));
        assert!(p.block_zeroing && !p.discard_passdown);
        assert!(one(&pool("loop-lvm", "no_space_timeout = \"2h\"")).contains("0s to 1h"));
        assert!(one(&pool("loop-lvm", "no_space = \"queue_if_no_space\""))
            .contains("must be one of \"queue\", \"error\""));
    }

    #[test]
    fn actions() {
        let e = one(&steps("[[step]]\naction = \"mkfs\"\n"));
        assert!(
            e.contains("action `mkfs` is not supported yet in format v1 (planned)"),
            "{e}"
        );
        for reserved in RESERVED_ACTIONS {
            let e = one(&steps(&format!("[[step]]\naction = \"{reserved}\"\n")));
            assert!(e.contains("not supported yet"), "{reserved}: {e}");
        }
        let e = one(&steps("[[step]]\naction = \"create_thin\"\nthin = \"t\"\n"));
        assert!(
            e.contains("unknown action `create_thin`") && e.contains("did you mean `create-thin`?"),
            "{e}"
        );
        let e = one(&steps("[[step]]\naction = \"frobnicate\"\n"));
        assert!(
            e.contains("valid actions: create-thin, snapshot, delete-thin, small-write, cow-overwrite, fill, deferred-removal, deferred-deletion, delete"),
            "{e}"
        );
        assert!(one(&steps("[[step]]\nthin = \"t\"\n")).contains("[[step]] has no `action`"));
        let e = one(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\norigin = \"x\"\n",
        ));
        assert!(
            e.contains(
                "`origin` is not a key of create-thin steps (it is for: snapshot, cow-overwrite)"
            ),
            "{e}"
        );
        let e = one(&steps(&format!(
            "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\nid = 3\n"
        )));
        assert!(e.contains("(it is for: create-thin, snapshot)"), "{e}");
        assert!(one(&steps("[[step]]\naction = \"create-thin\"\n"))
            .contains("create-thin step has no `thin`"));
        assert!(one(&steps(&format!(
            "{CREATE_T}[[step]]\naction = \"snapshot\"\nthin = \"s\"\n"
        )))
        .contains("snapshot step has no `origin`"));
        let e = one(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"512KiB\"\n",
        ));
        assert!(e.contains("below the minimum of 1MiB"), "{e}");
        let plan = ok(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = 1048576\nid = 16777215\n",
        ));
        assert_eq!(
            plan.steps[0].action,
            Action::CreateThin {
                thin: Ident::new("t").unwrap(),
                id: Some(ThinId::new(16_777_215).unwrap()),
                size: Bytes(MIB),
            }
        );
        assert!(one(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nid = -1\n"
        ))
        .contains("not negative"));
    }

    #[test]
    fn step_names_and_pools() {
        let plan = ok(&steps(&format!("{CREATE_T}[[step]]\nname = \"d\"\naction = \"delete-thin\"\nthin = \"t\"\npools = [\"b\"]\n")));
        assert_eq!(plan.steps[0].name.as_str(), "step0-create-thin");
        assert_eq!(plan.steps[1].name.as_str(), "d");
        assert_eq!(plan.steps[1].pools, Some(vec![Ident::new("b").unwrap()]));
        assert!(plan.steps[1].applies_to(&Ident::new("b").unwrap()));
        assert!(!plan.steps[1].applies_to(&Ident::new("a").unwrap()));
        // A written name that is some other step's default name.
        let e = load(&steps(
            "[[step]]\nname = \"step1-delete-thin\"\naction = \"create-thin\"\nthin = \"t\"\n\
             [[step]]\naction = \"delete-thin\"\nthin = \"t\"\n",
        ))
        .expect_err("clash");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, 9, "at the written name");
        assert!(e[0]
            .message
            .contains("duplicate step name `step1-delete-thin`: steps #0 and #1"));
        let e = one(&steps(&format!("{CREATE_T}name = \"x\"\n[[step]]\nname = \"x\"\naction = \"delete-thin\"\nthin = \"t\"\n")));
        assert!(e.contains("duplicate step name `x`"), "{e}");
        assert!(one(&steps(
            "[[step]]\nname = \"a b\"\naction = \"create-thin\"\nthin = \"t\"\n"
        ))
        .contains("invalid step name"));
        let with_pools = |p: &str| {
            steps(&format!(
                "[[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = {p}\n"
            ))
        };
        assert!(one(&with_pools("[]")).contains("`pools` is empty"));
        assert!(one(&with_pools("[\"a\", \"a\"]")).contains("listed twice"));
        let e = one(&with_pools("[\"A\"]"));
        assert!(
            e.contains("no pool named `A`") && e.contains("did you mean `a`?"),
            "{e}"
        );
        assert!(one(&with_pools("\"a\"")).contains("must be an array of pool names"));
    }

    #[test]
    fn thins_exist_per_pool() {
        // Made on `a` only, written on both: wrong on `b` alone, and said so.
        let e = one(&steps(
            "[[step]]\nname = \"mk\"\naction = \"create-thin\"\nthin = \"t\"\npools = [\"a\"]\n\
             [[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n",
        ));
        assert!(
            e.contains("thin `t` does not exist here (in pool `b`)"),
            "{e}"
        );
        assert!(
            e.contains("step `mk` makes it, but not on this pool"),
            "{e}"
        );
        // Wrong on both pools: one error, no pool named.
        let e = one(&steps(
            "[[step]]\naction = \"delete-thin\"\nthin = \"ghost\"\n",
        ));
        assert_eq!(
            e,
            "no thin named `ghost` [hint: make it first with a create-thin or snapshot step]"
        );
        let e = one(&steps(&format!(
            "[[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n{CREATE_T}"
        )));
        assert!(
            e.contains("does not exist yet: step `step1-create-thin` makes it later"),
            "{e}"
        );
        let e = one(&steps(&format!(
            "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\n\
             [[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n"
        )));
        assert!(
            e.contains("thin `t` no longer exists: step `step1-delete-thin` deleted it"),
            "{e}"
        );
        let e = one(&steps(&format!("{CREATE_T}{CREATE_T}")));
        assert!(
            e.contains("thin `t` already exists: step `step0-create-thin` made it"),
            "{e}"
        );
        // Deleted names may be made again; the same name may live in two pools.
        ok(&steps(&format!(
            "{CREATE_T}[[step]]\naction = \"delete-thin\"\nthin = \"t\"\n{CREATE_T}"
        )));
        ok(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = [\"a\"]\n\
             [[step]]\naction = \"create-thin\"\nthin = \"t\"\npools = [\"b\"]\n",
        ));
        // One bad name is reported once, where it is defined, not at every use.
        let e = errors(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"bad name\"\n\
             [[step]]\naction = \"small-write\"\nthin = \"bad name\"\ncount = 1\n\
             [[step]]\naction = \"delete-thin\"\nthin = \"bad name\"\n",
        ));
        assert_eq!(e.len(), 1, "{e:#?}");
        assert!(e[0].contains("invalid thin name"));
        // A bad name never defined: the reference is still an error.
        assert!(
            one(&steps("[[step]]\naction = \"delete-thin\"\nthin = \"9\"\n"))
                .contains("no thin named `9`")
        );
    }

    #[test]
    fn thin_ids_are_unique_per_pool() {
        let mk = |thin: &str, id: u32, pools: &str| {
            format!("[[step]]\naction = \"create-thin\"\nthin = \"{thin}\"\nid = {id}\n{pools}")
        };
        let e = one(&steps(&format!("{}{}", mk("x", 7, ""), mk("y", 7, ""))));
        assert!(
            e.contains("thin id 7 is already used by step `step0-create-thin`"),
            "{e}"
        );
        ok(&steps(&format!(
            "{}{}",
            mk("x", 7, "pools = [\"a\"]\n"),
            mk("y", 7, "pools = [\"b\"]\n")
        )));
        let e = one(&steps(&format!(
            "{}[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"x\"\nid = 7\n",
            mk("x", 7, "")
        )));
        assert!(e.contains("thin id 7 is already used"), "{e}");
    }

    #[test]
    fn small_write_rules() {
        let w = |extra: &str| {
            steps(&format!(
                "{CREATE_T}[[step]]\naction = \"small-write\"\nthin = \"t\"\n{extra}\n"
            ))
        };
        let plan = ok(&w("pattern = \"random\"\nio_size = \"64KiB\"\nbytes = \"1MiB\"\noffset = \"128KiB\"\nspan = \"1MiB\""));
        let Action::SmallWrite(s) = &plan.steps[1].action else {
            panic!()
        };
        assert_eq!(s.io_size, Bytes(64 * KIB));
        assert_eq!(s.limit, Limit::Bytes(Bytes(MIB)));
        assert_eq!((s.offset, s.span), (Bytes(128 * KIB), Some(Bytes(MIB))));
        assert_eq!(s.pattern, AccessPattern::Random { seed: 1 });
        // The whole thin, exactly.
        ok(&w("count = 1\nspan = \"1GiB\""));
        ok(&w("count = 1\noffset = \"1023MiB\"\nio_size = \"1MiB\""));

        assert!(one(&w("")).contains("neither `bytes` nor `count`"));
        assert!(one(&w("count = 0")).contains("`count` must be at least 1, not 0"));
        assert!(one(&w("bytes = 0")).contains("`bytes` must be more than 0"));
        assert!(one(&w("bytes = \"6KiB\"")).contains("not a multiple of `io_size` (4KiB)"));
        assert!(one(&w("count = 1\nio_size = 100")).contains("below the minimum of 512B"));
        assert!(one(&w("count = 1\nio_size = \"32MiB\"")).contains("above the maximum of 16MiB"));
        assert!(one(&w("count = 1\nio_size = 1000")).contains("not a multiple of 512"));
        assert!(one(&w("count = 1\noffset = 512"))
            .contains("`offset` is 512B, not a multiple of `io_size` (4KiB)"));
        assert!(one(&w("count = 1\nspan = \"2KiB\"")).contains("less than one IO"));
        assert!(one(&w("count = 1\nspan = \"6KiB\"")).contains("`span` is 6KiB, not a multiple"));
        let e = one(&w("count = 1\noffset = \"512MiB\"\nspan = \"768MiB\""));
        assert!(
            e.contains("`offset` + `span` (512MiB + 768MiB) goes past the end of thin `t` (1GiB)"),
            "{e}"
        );
        let e = one(&w("count = 1\noffset = \"1GiB\""));
        assert!(e.contains("leaves no room for one 4KiB IO"), "{e}");
        let e = one(&w("count = 1\npattern = \"sequential\"\nseed = 3"));
        assert!(
            e.contains("`seed` only applies to `pattern = \"random\"`"),
            "{e}"
        );
        assert!(one(&w("count = 1\npattern = \"seq\""))
            .contains("must be one of \"random\", \"sequential\""));
        assert!(one(&w("count = 1\nseed = -3")).contains("`seed` must be at least 0"));
        let e = one(&w("count = 1\noffset = \"99999EiB\""));
        assert!(e.contains("overflows"), "{e}");
    }

    #[test]
    fn snapshots_have_their_origin_size() {
        let e = one(&steps(&format!(
            "{CREATE_T}[[step]]\naction = \"snapshot\"\nthin = \"s\"\norigin = \"t\"\n\
             [[step]]\naction = \"small-write\"\nthin = \"s\"\ncount = 1\nspan = \"2GiB\"\n"
        )));
        assert!(e.contains("past the end of thin `s` (1GiB)"), "{e}");
    }

    #[test]
    fn expectations() {
        let write = |expect: &str| {
            steps(&format!(
                "{CREATE_T}[[step]]\naction = \"small-write\"\nthin = \"t\"\ncount = 1\n[step.expect]\n{expect}\n"
            ))
        };
        let plan = ok(&write(
            "data_blocks_allocated = \"chunks-touched\"\nmode = \"out_of_data_space\"\nerrors = 3",
        ));
        assert_eq!(
            plan.steps[1].expect,
            [
                Expect::DataBlocksAllocated(BlockCount::ChunksTouched),
                Expect::Mode(PoolMode::OutOfDataSpace),
                Expect::Errors(3),
            ]
        );
        let plan = ok(&write("data_blocks_allocated = 5\nmode = \"Fail\""));
        assert_eq!(
            plan.steps[1].expect,
            [
                Expect::DataBlocksAllocated(BlockCount::Exact(5)),
                Expect::Mode(PoolMode::Fail)
            ]
        );
        assert!(one(&write("mode = \"fail\"")).contains("did you mean \"Fail\"?"));
        assert!(one(&write("data_blocks_allocated = \"chunks_touched\""))
            .contains("must be an integer or \"chunks-touched\""));
        assert!(one(&write("data_blocks_allocated = -1")).contains("must not be negative"));
        assert!(one(&write("errors = -1")).contains("`errors` must be at least 0"));
        assert!(one(&write("error = 0")).contains("did you mean `errors`?"));
        let create = |expect: &str| steps(&format!("{CREATE_T}[step.expect]\n{expect}\n"));
        ok(&create("data_blocks_allocated = 0\nmode = \"rw\""));
        assert!(one(&create("data_blocks_allocated = \"chunks-touched\""))
            .contains("create-thin steps run none"));
        assert!(one(&create("errors = 0")).contains("create-thin steps run no workload"));
        assert!(
            one(&steps(&format!("{CREATE_T}expect = 3\n"))).contains("`expect` must be a table")
        );
    }

    #[test]
    fn toml_oddities() {
        let e = one(&pool("loop-lvm", "chunk_size = 1979-05-27T07:32:00Z"));
        assert!(e.contains("date-times are not used"), "{e}");
        let e = one(&pool("loop-lvm", "[pool.extra]\nx = 1"));
        assert!(e.contains("unknown key `extra` in [[pool]]"), "{e}");
        let e = one("format = 1\n[pool]\nname = \"p\"\nkind = \"loop-lvm\"\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n");
        assert!(e.contains("write `[[pool]]`, not `[pool]`"), "{e}");
        // Both true: the key is unknown, and so the file has no steps.
        let e = errors(&pool("loop-lvm", "").replace("[[step]]", "[[steps]]"));
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(e[0].starts_with("no [[step]]"), "{e:#?}");
        assert!(
            e[1].contains("unknown key `steps`") && e[1].contains("did you mean `step`?"),
            "{e:#?}"
        );
    }

    #[test]
    fn messages_stay_one_line() {
        // Found by fuzzing (fuzz/ scenario): a thin name written as a multi-line string
        // came back inside "no thin named `...`" with its newlines, so one error printed
        // as several lines. Control characters in messages and hints are now escaped.
        let found = include_str!("../../tests/fixtures/scenarios/fuzz-multiline-thin.toml");
        let e = load(found).unwrap_err();
        assert!(
            e.iter().any(|e| e
                .message
                .starts_with("no thin named `cault.\\nformat = 1\\n")),
            "{e:#?}"
        );
        let e = errors(&steps(
            "[[step]]\naction = \"create-thin\"\nthin = \"a\\tb\\u001b[31m\\r\"\n",
        ));
        assert_eq!(
            e,
            [concat!(
                "invalid thin name: `a\\tb\\u{1b}[31m\\r` contains `\\t`: use letters, digits, `-` and `_` only",
                " [hint: names are 1 to 32 ASCII letters, digits, `-` and `_`, starting with a letter]"
            )]
        );
        for e in load(found).unwrap_err().iter() {
            assert!(!e.to_string().contains(['\r', '\t', '\u{1b}']));
            assert_eq!(
                e.to_string().lines().count(),
                1 + usize::from(e.hint.is_some())
            );
        }
    }

    #[test]
    fn faults() {
        let f = |extra: &str| {
            steps(&format!("{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"delay\"\n{extra}\n"))
        };
        let plan = ok(&f("write = \"5ms\""));
        assert_eq!(
            plan.pools[0].faults,
            [FaultSpec {
                device: FaultDevice::Data,
                at: FaultAt::Start,
                until: FaultUntil::End,
                target: FaultTarget::Delay(DelaySpec {
                    read_ms: 0,
                    write_ms: 5,
                    flush_ms: None
                })
            }]
        );
        assert!(plan.pools[1].faults.is_empty());
        let plan = ok(&f(
            "read = \"1s\"\nwrite = \"2ms\"\nflush = \"0ms\"\nat = \"start\"",
        ));
        assert_eq!(
            plan.pools[0].faults[0].target,
            FaultTarget::Delay(DelaySpec {
                read_ms: 1000,
                write_ms: 2,
                flush_ms: Some(0)
            })
        );
        // The pool narrowing of a shard keeps a pool's faults with it.
        let mut p = ok(&f("write = \"5ms\""));
        p.retain_pools(&["a".into()]).unwrap();
        assert_eq!(p.pools[0].faults.len(), 1);

        assert!(one(&f("write = \"2m\"")).contains("`write` must be 0s to 1m, not 2m"));
        assert!(one(&f("write = \"5\"")).contains("has no unit"));
        assert!(one(&f("write = 5")).contains("`write` must be a duration string"));
        assert!(one(&f("at = \"step2\"")).starts_with("invalid `at` \"step2\""));
        assert!(one(&f("wrte = \"1ms\"")).contains("did you mean `write`?"));
        // Schedules: a step that exists (CREATE_T's is `step0-create-thin`), times, amounts, usage.
        let plan = ok(&f("at = \"step:step0-create-thin\"\nuntil = \"after:2s\""));
        assert_eq!(
            plan.pools[0].faults[0].at,
            FaultAt::Step(Ident::new("step0-create-thin").unwrap())
        );
        assert_eq!(
            plan.pools[0].faults[0].until,
            FaultUntil::After(Duration::from_secs(2))
        );
        assert_eq!(
            ok(&f("at = \"usage:50%\"")).pools[0].faults[0].at,
            FaultAt::Usage(50)
        );
        assert_eq!(
            ok(&f("at = \"written:1MiB\"")).pools[0].faults[0].at,
            FaultAt::Written(Bytes(1 << 20))
        );
        let e = one(&f("at = \"step:nope\""));
        assert!(e.starts_with("the fault names no step `nope`"), "{e}");
        assert!(one(&f("at = \"usage:0%\"")).contains("from 1% to 100%"));
        assert!(one(&f("until = \"after:0s\"")).contains("above 0"));
        // flakey, error, log-writes, dust.
        let g = |target: &str, device: &str, extra: &str| {
            steps(&format!("{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"{device}\"\ntarget = \"{target}\"\n{extra}\n"))
        };
        let plan = ok(&g("flakey", "metadata", "mode = \"drop_writes\""));
        assert_eq!(
            plan.pools[0].faults[0].target,
            FaultTarget::Flakey(FlakeySpec {
                up_s: 0,
                down_s: 86_400,
                mode: FlakeyMode::DropWrites
            })
        );
        assert!(one(&g("flakey", "data", "up = \"1500ms\"")).contains("whole seconds"));
        assert!(one(&g("flakey", "data", "corrupt_byte = 3"))
            .contains("is for `mode = \"corrupt_bio_byte\"`"));
        let plan = ok(&g(
            "error",
            "data",
            "bad = [\"8MiB+64KiB\", \"8MiB+4KiB\", \"1MiB+512\"]",
        ));
        assert_eq!(
            plan.pools[0].faults[0].target,
            FaultTarget::Error(ErrorSpec {
                bad: vec![
                    (Bytes(1 << 20), Bytes(512)),
                    (Bytes(8 << 20), Bytes(64 << 10))
                ]
            })
        );
        assert!(one(&g("error", "data", "bad = [\"1MiB+100\"]")).contains("not whole sectors"));
        assert!(one(&g("error", "data", "")).starts_with("an error fault has no `bad` ranges"));
        assert!(one(&g("log-writes", "data", ""))
            .starts_with("a log-writes fault goes under the whole pool"));
        assert!(
            one(&g("delay", "pool", "")).starts_with("`device = \"pool\"` is for log-writes only")
        );
        assert!(
            one(&g("log-writes", "pool", "at = \"step:step0-create-thin\""))
                .contains("logs from the pool's construction")
        );
        assert!(
            ok(&g("log-writes", "pool", "log_size = \"64MiB\"")).pools[0]
                .faults
                .len()
                == 1
        );
        assert!(one(&g("dust", "data", "block_size = 1024")).contains("512 or 4096"));
        assert!(one(&g("delay", "data", "mode = \"drop_writes\""))
            .contains("`mode` is a key of the flakey target"));
        let e = one(&steps(&format!(
            "{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"dealy\"\n"
        )));
        assert!(e.contains("did you mean \"delay\"?"), "{e}");
        let e = one(&steps(&format!(
            "{CREATE_T}[[fault]]\npool = \"a\"\ndevice = \"journal\"\ntarget = \"delay\"\n"
        )));
        assert!(
            e.contains("`device` must be one of \"data\", \"metadata\", \"pool\""),
            "{e}"
        );
        let e = one(&steps(&format!(
            "{CREATE_T}[[fault]]\npool = \"c\"\ndevice = \"data\"\ntarget = \"delay\"\n"
        )));
        assert!(e.starts_with("[[fault]] names no pool: `c`"), "{e}");
        let e = errors(&steps(&format!("{CREATE_T}[[fault]]\npool = \"a\"\n")));
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e.iter().any(|x| x.starts_with("[[fault]] has no `device`"))
                && e.iter().any(|x| x.starts_with("[[fault]] has no `target`"))
        );
        // Two delays on one device: one layer of a target per device.
        let e = one(&f(
            "write = \"1ms\"\n[[fault]]\npool = \"a\"\ndevice = \"data\"\ntarget = \"delay\"\n",
        ));
        assert!(
            e.starts_with("a second `delay` fault on pool `a`'s data device"),
            "{e}"
        );
        // ... but one on each device is fine.
        let plan = ok(&f(
            "[[fault]]\npool = \"a\"\ndevice = \"metadata\"\ntarget = \"delay\"\nread = \"1ms\"",
        ));
        assert_eq!(plan.pools[0].faults.len(), 2);
    }

    #[test]
    fn faults_under_direct_lvm_are_refused_where_written() {
        let text = steps(&format!(
            "{CREATE_T}[[fault]]\npool = \"b\"\ndevice = \"data\"\ntarget = \"delay\"\nwrite = \"5ms\"\n"
        ));
        let errs = load(&text).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:#?}");
        let shown = errs[0].to_string();
        // `pool = "b"` is on line 13 (7 of pools, 4 of step, the header), its value at column 8.
        assert!(
            shown.starts_with("t.toml:13:8: error: not yet: a fault under a direct-lvm pool (`b`)"),
            "{shown}"
        );
        assert!(
            shown.contains("hint: a direct-lvm layer must sit over the PV disk"),
            "{shown}"
        );
    }
}

//! `[[pool]]` tables: the keys every pool takes, then loop-lvm (sparse files, their dir)
//! and direct-lvm (the device, percentages of the volume group, extents).

use super::lvm::MetadataSize;
use super::walk::PoolFacts;
use super::{Checker, SizeRule, GIB, HOST_PATHS_FLAG, KIB, MIB, TIB};
use crate::scenario::raw::{Field, IntOrText, RawPool, POOL_KEYS};
use crate::scenario::suggest;
use crate::spec::{
    Backing, DeviceSpec, DirectLvmSpec, LoopLvmSpec, LowWaterMark, NoSpacePolicy, PoolKindSpec,
    PoolSpec, GUEST_MEMORY_MIB,
};
use serde_spanned::Spanned;
use std::path::PathBuf;
use std::time::Duration;
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks, SECTOR_SIZE};

/// A RAM-backed pool may take at most 1/2 of the guest's memory.
const RAM_SHARE_DENOMINATOR: u64 = 2;

const MAX_NO_SPACE_TIMEOUT: Duration = Duration::from_secs(3600);

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

/// Docker's `dm.min_free_space` default, percent.
const DOCKER_MIN_FREE_SPACE: u8 = 10;

pub(super) const CHUNK_HINT: &str =
    "dm-thin chunk sizes are multiples of 64KiB (128 sectors) from 64KiB \
     to 1GiB; Docker uses 64KiB (loop-lvm) and 512KiB (direct-lvm)";

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
const REFUSED_METADATA_SIZE: SizeRule = SizeRule {
    min: SECTOR_SIZE,
    ..METADATA_SIZE
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

impl Checker {
    pub(super) fn pool(&mut self, p: &RawPool) -> Option<PoolSpec> {
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
                if key.starts_with("data_stripe") && kind == PoolKind::DirectLvm {
                    self.err_hint(
                        span,
                        super::pool_stripes::DIRECT_LVM_WHY,
                        "use a loop-lvm pool for a striped data device",
                    );
                } else if !POOL_KEYS.takes(kind.as_str(), key) {
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

        // loop-lvm only (the key's error says so on direct-lvm, where lvm checks sizes
        // before the kernel sees them).
        let refusal_kind = if kind == Some(PoolKind::LoopLvm) {
            self.pool_refusal_kind(p)
        } else {
            None
        };
        let mut refused_chunk = None;
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
                        // A chunk dm-thin refuses, for a pool whose refusal is the point:
                        // the table takes it as written (whole sectors).
                        Err(_) if refusal_kind.is_some() && b.0 > 0 && b.0 % 512 == 0 => {
                            refused_chunk = Some(b.0 / 512);
                            ChunkSize::new(Bytes(LOOP_LVM_CHUNK)).ok()
                        }
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
        let ignore_discard = p.ignore_discard.value().is_some_and(|v| *v.get_ref());
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
        if let (Some(n), Some(k)) = (p.name.value(), kind) {
            self.pools_walked.push(PoolFacts {
                name: n.get_ref().clone(),
                kind: k,
                chunk,
                refused: refusal_kind.is_some(),
            });
        }
        let backing = self.choice_or(
            "backing",
            &p.backing,
            Backing::Disk,
            &[("disk", Backing::Disk), ("ram", Backing::Ram)],
        );
        let ram = backing == Some(Backing::Ram);
        let kind_spec = match kind? {
            PoolKind::LoopLvm => self.loop_lvm(p, chunk, ram).map(PoolKindSpec::LoopLvm),
            PoolKind::DirectLvm => self.direct_lvm(p, chunk, ram).map(PoolKindSpec::DirectLvm),
        };
        if let (true, Some(k)) = (ram, &kind_spec) {
            if !self.ram_fits(p, k) {
                return None;
            }
        }
        if let (Some(lwm), Some(k), Some(c)) = (low_water_mark, &kind_spec, chunk) {
            self.low_water_mark_as_applied(p, lwm, k, c);
        }
        Some(PoolSpec {
            name: name?,
            kind: kind_spec?,
            chunk: chunk?,
            low_water_mark: low_water_mark?,
            block_zeroing,
            discard_passdown,
            ignore_discard,
            no_space: no_space?,
            no_space_timeout: no_space_timeout?,
            min_free_space: min_free_space?,
            faults: Vec::new(),
            backing: backing?,
            refusal: refusal_kind.map(|kind| crate::spec::PoolRefusal {
                kind,
                chunk_sectors: refused_chunk,
            }),
        })
    }

    /// `expect_error`: the kind of error the pool's construction must fail with.
    fn pool_refusal_kind(&mut self, p: &RawPool) -> Option<crate::errors::Kind> {
        let v = p.expect_error.value()?;
        let kind = crate::errors::Kind::parse(v.get_ref());
        if kind.is_none() {
            let names: Vec<&str> = crate::errors::Kind::ALL.iter().map(|k| k.name()).collect();
            self.err_hint(
                v.span(),
                format!(
                    "`expect_error` must be an error kind, not \"{}\"",
                    v.get_ref()
                ),
                format!("one of: {}", names.join(", ")),
            );
        }
        kind
    }

    /// A RAM-backed pool, full, must fit the guest's memory with room: at most half of it
    /// ([`RAM_SHARE_DENOMINATOR`]), the rest left to the kernel, the page cache, the
    /// guest's other tmpfs (/tmp's overlay, /run) and thinbench itself.
    fn ram_fits(&mut self, p: &RawPool, kind: &PoolKindSpec) -> bool {
        let (bytes, what) = match kind {
            PoolKindSpec::LoopLvm(l) => (
                l.data_size.0 + l.metadata_size.0,
                format!(
                    "data_size {} + metadata_size {}",
                    l.data_size.human(),
                    l.metadata_size.human()
                ),
            ),
            PoolKindSpec::DirectLvm(d) => match d.device {
                DeviceSpec::Ram { size } => (size.0, format!("device_size {}", size.human())),
                _ => return true,
            },
        };
        let memory = u64::from(GUEST_MEMORY_MIB) * MIB;
        let limit = memory / RAM_SHARE_DENOMINATOR;
        if bytes <= limit {
            return true;
        }
        let at = p.backing.key().unwrap_or_else(|| p.table.clone());
        self.err_hint(
            at,
            format!(
                "`backing = \"ram\"`: the pool takes up to {} in memory when full ({what}), more than the {} a RAM-backed pool may use: half of the VM's {}",
                Bytes(bytes).human(),
                Bytes(limit).human(),
                Bytes(memory).human()
            ),
            "make the pool smaller (behaviour, not size, is what a run tests), or use `backing = \"disk\"`",
        );
        false
    }

    /// The low water mark as the kernel will get it: loop-lvm caps a block count to the
    /// pool (then the event fires at the first allocation: a mark that means nothing),
    /// and lvm sets a direct-lvm pool's itself. Warnings, not errors: the run works.
    fn low_water_mark_as_applied(
        &mut self,
        p: &RawPool,
        lwm: LowWaterMark,
        kind: &PoolKindSpec,
        chunk: ChunkSize,
    ) {
        let span = p.low_water_mark.key().unwrap_or_else(|| p.table.clone());
        match (kind, lwm) {
            (PoolKindSpec::LoopLvm(l), LowWaterMark::Blocks(b)) => {
                let blocks = chunk.whole_blocks_in(l.data_size);
                if b.0 >= blocks.0 {
                    let given = if p.low_water_mark.key().is_some() {
                        "`low_water_mark`"
                    } else {
                        "the default `low_water_mark` (Docker's)"
                    };
                    self.warn_hint(
                        span,
                        format!(
                            "{given} of {} blocks is not below the pool's {} data blocks: the runner caps it to {}, so the low water mark event fires at the first allocation",
                            b.0, blocks.0, blocks.0
                        ),
                        "give a share of the pool: `low_water_mark = \"2%\"` is Docker's 32768 of 1638400 blocks (a 100GiB pool)",
                    );
                }
            }
            (PoolKindSpec::DirectLvm(_), _) if p.low_water_mark.key().is_some() => self.warn_hint(
                span,
                "`low_water_mark` is not used on direct-lvm: lvm sets the pool's low water mark itself",
                "the results record the pool's table as lvm loaded it, low water mark included",
            ),
            _ => {}
        }
    }

    pub(super) fn low_water_mark(&mut self, v: &Spanned<IntOrText>) -> Option<LowWaterMark> {
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

    fn loop_lvm(
        &mut self,
        p: &RawPool,
        chunk: Option<ChunkSize>,
        ram: bool,
    ) -> Option<LoopLvmSpec> {
        if let (true, Some(key)) = (ram, p.dir.key()) {
            self.err_hint(
                key,
                "`dir` and `backing = \"ram\"` both say where the pool's files go",
                "keep one: `backing = \"ram\"` puts them on a tmpfs the run mounts (and removes)",
            );
            return None;
        }
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
        // A pool whose refusal is the point takes any whole-sector metadata size: dm-thin
        // refuses one too small for its superblock and space maps.
        let rule = if p.expect_error.value().is_some() {
            &REFUSED_METADATA_SIZE
        } else {
            &METADATA_SIZE
        };
        let metadata_size = self.size(
            "metadata_size",
            &p.metadata_size,
            DOCKER_METADATA_SIZE,
            rule,
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
        let stacked = self.stacked(p);
        let data_stripes = self.data_stripes(p, data_size);
        let data_size = data_size.filter(|s| chunk.is_none_or(|c| *s >= c.bytes()))?;
        Some(LoopLvmSpec {
            data_size,
            metadata_size: metadata_size?,
            dir: dir?,
            stacked: stacked?,
            data_stripes: data_stripes?,
        })
    }

    /// `stacked_levels` and the lower pools' discard settings (only with it).
    fn stacked(&mut self, p: &RawPool) -> Option<Option<crate::spec::StackSpec>> {
        let levels = match &p.stacked_levels {
            Field::Absent => None,
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => Some(self.int_value(
                "stacked_levels",
                value,
                (1, 3),
                Some("deeper stacks test nothing two levels do not"),
            )?),
        };
        let Some(levels) = levels else {
            for key in [p.lower_discard_passdown.key(), p.lower_ignore_discard.key()]
                .into_iter()
                .flatten()
            {
                self.err_hint(
                    key,
                    "the lower pools' settings need `stacked_levels`",
                    "add `stacked_levels = 1` (a pool below this one), or remove the key",
                );
            }
            return Some(None);
        };
        Some(Some(crate::spec::StackSpec {
            levels: levels as u8,
            discard_passdown: p
                .lower_discard_passdown
                .value()
                .is_none_or(|v| *v.get_ref()),
            ignore_discard: p.lower_ignore_discard.value().is_some_and(|v| *v.get_ref()),
        }))
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

    fn direct_lvm(
        &mut self,
        p: &RawPool,
        chunk: Option<ChunkSize>,
        ram: bool,
    ) -> Option<DirectLvmSpec> {
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
            Dev::Path(_) | Dev::Loop if ram => {
                let at = p.device.key().unwrap_or_else(|| p.table.clone());
                self.err_hint(
                    at,
                    "`backing = \"ram\"` makes the PV a brd ram disk, and `device` names another PV",
                    "leave `device` out (or \"auto\") with `backing = \"ram\"`; `device_size` sizes the ram disk",
                );
                None
            }
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
                    _ if ram => DeviceSpec::Ram { size },
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
        let vgextend_size = match &p.vgextend_size {
            Field::Absent => Some(None),
            f => self.size("vgextend_size", f, 0, &DEVICE_SIZE).map(Some),
        };
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
        // On a device of known size, what lvm will make of it (whole extents, percentages
        // rounded down, its metadata floor and spare metadata LV): see `lvm`.
        if let (
            Some(
                DeviceSpec::Auto { size }
                | DeviceSpec::LoopBacked { size }
                | DeviceSpec::Ram { size },
            ),
            Some(m),
            Some(t),
            Some(chunk),
        ) = (&device, metadata_percent, thinpool_percent, chunk)
        {
            let metadata = metadata_size.map_or(MetadataSize::Percent(m), MetadataSize::Bytes);
            if !self.lvm_fits(p, *size, extent, t, metadata, chunk) {
                return None;
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
            vgextend_size: vgextend_size?,
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
}

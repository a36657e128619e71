//! lvm's arithmetic for a direct-lvm pool on a device of known size, as
//! `backend::direct_lvm` builds it (`pvcreate`, `vgcreate -s <extent>`, `lvcreate -l
//! <t>%VG`, `lvcreate -l <m>%VG` or `-L <size>`, `lvconvert --thinpool ... --poolmetadata`),
//! so that validation refuses what lvm would refuse. The rules, from lvm2 2.03
//! (`tools/lvcreate.c`, `lib/metadata/thin_manip.c`, `pool_manip.c`) and measured with
//! lvm 2.03.16 on a 256MiB loop device:
//!
//! - the PV's first 1MiB holds its label and metadata (`pe_start`); the VG has
//!   `(size - 1MiB) / extent` extents;
//! - a percentage of the VG is rounded down to whole extents, and 0 extents is refused
//!   ("Calculated size of logical volume is 0 extents");
//! - a size (`-L`) is rounded up to whole extents, and must fit the free extents
//!   ("insufficient free space");
//! - `lvconvert` refuses pool metadata under 2MiB (rounded up to an extent) and a data LV
//!   smaller than one chunk;
//! - `lvconvert` then makes lvm's spare metadata LV (`lvol0_pmspare`, for repairs), as many
//!   extents as the metadata LV (at most 16GiB), from what is left of the VG: it fails with
//!   "insufficient free space (F extents): S required" when that is not enough.

use super::{Checker, GIB, MIB};
use crate::scenario::raw::{Field, RawPool};
use thinbench_schema::units::{Bytes, ChunkSize};

/// What lvm keeps at the start of a PV (`pe_start`, the default data alignment).
const PV_HEADER: u64 = MIB;
/// lvm's floor for thin-pool metadata (`DEFAULT_THIN_POOL_MIN_METADATA_SIZE`).
const METADATA_FLOOR: u64 = 2 * MIB;
/// The most lvm makes its spare metadata LV (16GiB, rounded up to an extent).
const SPARE_MAX: u64 = 16 * GIB;

/// How the metadata LV is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MetadataSize {
    /// `metadata_percent`: `lvcreate -l <m>%VG`.
    Percent(u8),
    /// `metadata_size`: `lvcreate -L <size>`.
    Bytes(Bytes),
}

/// The LVs of a pool, in extents, as lvm makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    /// Extents in the VG.
    pub(super) vg: u64,
    pub(super) data: u64,
    pub(super) metadata: u64,
    /// lvm's spare metadata LV.
    pub(super) spare: u64,
}

/// The first lvm command of the recipe that would fail, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LvmRefusal {
    /// The device holds no extent past lvm's header.
    NoExtents,
    /// `thinpool_percent` of the VG is 0 extents.
    DataZero { vg: u64 },
    /// `metadata_percent` of the VG is 0 extents.
    MetadataZero { vg: u64 },
    /// `metadata_size` does not fit beside the data LV (`lvcreate -L`).
    MetadataNoRoom { layout: Layout },
    /// The metadata LV is under lvm's 2MiB floor (`lvconvert`).
    MetadataBelowFloor { layout: Layout, floor: u64 },
    /// The data LV is smaller than one chunk (`lvconvert`).
    DataBelowChunk { layout: Layout },
    /// No room for lvm's spare metadata LV (`lvconvert`).
    NoRoomForSpare { layout: Layout },
}

/// The pool's LVs on a `size` device with `extent`-sized extents, `thinpool_percent` of
/// the VG for data and `metadata` for metadata, or the first thing lvm would refuse.
pub(super) fn layout(
    size: Bytes,
    extent: Bytes,
    thinpool_percent: u8,
    metadata: MetadataSize,
    chunk: ChunkSize,
) -> Result<Layout, LvmRefusal> {
    let e = extent.0.max(1);
    let vg = size.0.saturating_sub(PV_HEADER) / e;
    if vg == 0 {
        return Err(LvmRefusal::NoExtents);
    }
    let of_vg = |pct: u8| vg * u64::from(pct) / 100;
    let data = of_vg(thinpool_percent);
    if data == 0 {
        return Err(LvmRefusal::DataZero { vg });
    }
    let metadata = match metadata {
        MetadataSize::Percent(m) => match of_vg(m) {
            0 => return Err(LvmRefusal::MetadataZero { vg }),
            n => n,
        },
        MetadataSize::Bytes(b) => b.0.div_ceil(e),
    };
    let layout = Layout {
        vg,
        data,
        metadata,
        spare: metadata.min(SPARE_MAX.div_ceil(e)),
    };
    if data + metadata > vg {
        return Err(LvmRefusal::MetadataNoRoom { layout });
    }
    let floor = METADATA_FLOOR.div_ceil(e);
    if metadata < floor {
        return Err(LvmRefusal::MetadataBelowFloor { layout, floor });
    }
    if data * e < chunk.bytes().0 {
        return Err(LvmRefusal::DataBelowChunk { layout });
    }
    if data + metadata + layout.spare > vg {
        return Err(LvmRefusal::NoRoomForSpare { layout });
    }
    Ok(layout)
}

impl Checker {
    /// Whether lvm can build the pool [`layout`] describes; if not, an error at the key
    /// that sizes the LV lvm would refuse (the device's size when that key is not given).
    pub(super) fn lvm_fits(
        &mut self,
        p: &RawPool,
        size: Bytes,
        extent: Bytes,
        t: u8,
        metadata: MetadataSize,
        chunk: ChunkSize,
    ) -> bool {
        let Err(refusal) = layout(size, extent, t, metadata, chunk) else {
            return true;
        };
        let device = p.device_size.value().map(|v| v.span());
        let at = |f: &Field<i64>| {
            f.value()
                .map(|v| v.span())
                .or(device.clone())
                .unwrap_or(p.table.clone())
        };
        let metadata_at = match metadata {
            MetadataSize::Bytes(_) => p.metadata_size.value().map(|v| v.span()),
            MetadataSize::Percent(_) => p.metadata_percent.value().map(|v| v.span()),
        }
        .or(p.thinpool_percent.value().map(|v| v.span()))
        .or(device.clone())
        .unwrap_or(p.table.clone());
        let (e, dev) = (extent.human(), size.human());
        let metadata_is = |l: &Layout| match metadata {
            MetadataSize::Percent(m) => format!("{m}% = {} extents", l.metadata),
            MetadataSize::Bytes(b) => {
                format!("`metadata_size` {} = {} extents", b.human(), l.metadata)
            }
        };
        match refusal {
            LvmRefusal::NoExtents => self.err_hint(
                p.extent_size.value().map(|v| v.span()).or(device).unwrap_or(p.table.clone()),
                format!("a {dev} device holds no {e} lvm extent past lvm's 1MiB header: the volume group would be empty"),
                "use a smaller `extent_size` or a bigger `device_size`",
            ),
            LvmRefusal::DataZero { vg } | LvmRefusal::MetadataZero { vg } => {
                let (key, pct, field) = match (refusal, metadata) {
                    (LvmRefusal::MetadataZero { .. }, MetadataSize::Percent(m)) => {
                        ("metadata_percent", m, &p.metadata_percent)
                    }
                    _ => ("thinpool_percent", t, &p.thinpool_percent),
                };
                let mib = extent.0 / MIB;
                self.err_hint(
                    at(field),
                    format!("`{key}` = {pct}% of a {dev} device is less than one {e} lvm extent (of the VG's {vg}): lvcreate refuses 0 extents"),
                    format!(
                        "raise `{key}` or `device_size` (at least {}MiB at {pct}%), or use a smaller `extent_size`",
                        100u64.div_ceil(u64::from(pct.max(1))) * mib + 1
                    ),
                );
            }
            LvmRefusal::MetadataNoRoom { layout: l } => self.err_hint(
                metadata_at,
                format!(
                    "the data LV ({t}% = {} extents) leaves {} of the VG's {} {e} extents, and the metadata LV ({}) does not fit: lvcreate would fail with \"insufficient free space\"",
                    l.data,
                    l.vg - l.data,
                    l.vg,
                    metadata_is(&l)
                ),
                "lower `thinpool_percent` or `metadata_size`, or raise `device_size`",
            ),
            LvmRefusal::MetadataBelowFloor { layout: l, floor } => self.err_hint(
                metadata_at,
                format!(
                    "the metadata LV ({}, {}) is below lvm's 2MiB floor for thin-pool metadata: lvconvert would refuse it",
                    metadata_is(&l),
                    Bytes(l.metadata * extent.0).human()
                ),
                format!("raise `metadata_percent` or `device_size` (the LV needs {floor} {e} extents), or use `metadata_size = \"2MiB\"`"),
            ),
            LvmRefusal::DataBelowChunk { layout: l } => self.err_hint(
                p.thinpool_percent
                    .value()
                    .map(|v| v.span())
                    .or(p.chunk_size.value().map(|v| v.span()))
                    .or(device)
                    .unwrap_or(p.table.clone()),
                format!(
                    "the data LV ({t}% = {} extents, {}) is smaller than one {} chunk: lvconvert would refuse the pool",
                    l.data,
                    Bytes(l.data * extent.0).human(),
                    chunk.bytes().human()
                ),
                "raise `device_size` or `thinpool_percent`, or lower `chunk_size`",
            ),
            LvmRefusal::NoRoomForSpare { layout: l } => self.err_hint(
                metadata_at,
                format!(
                    "the data LV ({t}% = {} extents), the metadata LV ({}) and lvm's spare copy of it ({} extents, made by lvconvert for repairs) need {} of the VG's {} {e} extents: lvconvert would fail with \"insufficient free space ({} extents): {} required\"",
                    l.data,
                    metadata_is(&l),
                    l.spare,
                    l.data + l.metadata + l.spare,
                    l.vg,
                    l.vg - l.data - l.metadata,
                    l.spare
                ),
                "lower `thinpool_percent` or the metadata's share, or raise `device_size`",
            ),
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kib: u64) -> ChunkSize {
        ChunkSize::new(Bytes(kib * 1024)).unwrap()
    }

    /// lvm 2.03.16 on a 256MiB loop device, 95%VG data and 4%VG metadata: 1MiB extents,
    /// 242 + 10 of 255 (3 free, "10 required"); 2MiB, 120 + 5 of 127 ("(2 extents): 5
    /// required"); 4MiB, 59 + 2 of 63 (the spare fits the 2 left).
    #[test]
    fn the_measured_256mib_vg() {
        let at = |e: u64| {
            layout(
                Bytes(256 * MIB),
                Bytes(e * MIB),
                95,
                MetadataSize::Percent(4),
                chunk(512),
            )
        };
        let l = |vg, data, metadata| Layout {
            vg,
            data,
            metadata,
            spare: metadata,
        };
        assert_eq!(
            at(1),
            Err(LvmRefusal::NoRoomForSpare {
                layout: l(255, 242, 10)
            })
        );
        assert_eq!(
            at(2),
            Err(LvmRefusal::NoRoomForSpare {
                layout: l(127, 120, 5)
            })
        );
        assert_eq!(at(4), Ok(l(63, 59, 2)));
    }

    #[test]
    fn each_refusal_in_the_order_lvm_meets_it() {
        let c = chunk(64);
        let dev = Bytes(64 * MIB);
        assert_eq!(
            layout(dev, Bytes(GIB), 95, MetadataSize::Percent(1), c),
            Err(LvmRefusal::NoExtents)
        );
        // 63 extents of 1MiB.
        let e = Bytes(MIB);
        assert_eq!(
            layout(dev, e, 1, MetadataSize::Percent(1), c),
            Err(LvmRefusal::DataZero { vg: 63 })
        );
        assert_eq!(
            layout(dev, e, 95, MetadataSize::Percent(1), c),
            Err(LvmRefusal::MetadataZero { vg: 63 })
        );
        let l = |data, metadata| Layout {
            vg: 63,
            data,
            metadata,
            spare: metadata,
        };
        assert_eq!(
            layout(dev, e, 95, MetadataSize::Bytes(Bytes(5 * MIB)), c),
            Err(LvmRefusal::MetadataNoRoom { layout: l(59, 5) })
        );
        // 2% of 63 is one 1MiB extent: under the 2MiB floor.
        assert_eq!(
            layout(dev, e, 90, MetadataSize::Percent(2), c),
            Err(LvmRefusal::MetadataBelowFloor {
                layout: l(56, 1),
                floor: 2
            })
        );
        assert_eq!(
            layout(dev, e, 90, MetadataSize::Percent(4), chunk(64 * 1024)),
            Err(LvmRefusal::DataBelowChunk { layout: l(56, 2) })
        );
        // A size is rounded up to whole extents: 2MiB + 512B is 3.
        assert_eq!(
            layout(dev, e, 90, MetadataSize::Bytes(Bytes(2 * MIB + 512)), c),
            Ok(l(56, 3))
        );
    }

    #[test]
    fn the_spare_stops_at_16gib() {
        let l = layout(
            Bytes(16 << 40),
            Bytes(GIB),
            50,
            MetadataSize::Percent(40),
            chunk(512),
        )
        .unwrap();
        assert_eq!((l.metadata, l.spare), (6553, 16));
    }
}

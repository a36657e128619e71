//! The metadata model: 4 KiB blocks of dm-thin's persistent-data b-trees and space maps,
//! from the pool's geometry and each thin's mapping summary; and `thin_metadata_size`
//! run as a peer process for comparison.
//!
//! What dm-thin keeps (`dm-thin-metadata.c`, `persistent-data/`):
//! * a superblock; the data space map (2-bit reference counts, one bitmap block per
//!   16,320 data blocks, an index b-tree over them) and the metadata space map (bitmaps
//!   over the metadata device, one index block); counts above 2 go to a ref-count b-tree
//!   (not modelled: it grows with leaves shadowed by many snapshots);
//! * the device-details b-tree (one 24-byte value per thin, 126 per leaf) and the
//!   top-level mapping b-tree (thin id → root of its mapping tree, 252 per leaf);
//! * per thin, a mapping b-tree: 8-byte key, 8-byte value (block << 24 | time), at most
//!   252 entries per 4 KiB leaf. A snapshot *shares* its origin's tree: it costs nothing
//!   until it is written; a write shadows the leaves it touches.
//!
//! Model: a thin's leaves are its own mappings (blocks it allocated) at `leaf_fill` × 252
//! per leaf, plus, for a snapshot that wrote, one shadowed origin leaf per run of its own
//! writes (at most as many as the origin part has leaves), the two together at most its
//! whole tree's leaves (its own mappings go into the shadowed leaves; a snapshot whose
//! mapping fits one leaf costs one block); an empty thin costs its root leaf; internal
//! nodes add leaves/252 per level (a written snapshot with one unique leaf in a bigger
//! tree shadows the root too). `leaf_fill` = 0.93 is calibrated
//! on the Debian 6.1 kernel (3,303 sequentially inserted mappings took 14 blocks; 6.1's
//! b-tree rebalances leaves on insert); `thin_metadata_size` assumes half-full leaves
//! (126). The kernel also holds back a reserve from what it reports free:
//! min(4096 blocks, total / 10) (`__set_metadata_reserve`), so the pool status shows
//! `used + reserve`; both figures are reported.

use std::process::Command;

use thinbench_model::extent::ThinStats;

/// Mapping entries per b-tree node at most (`(4096 - 32) / 16`, rounded down to ×3).
pub const LEAF_MAX: u64 = 252;
/// Device-details entries per leaf (`(4096 - 32) / 32`, rounded down to ×3).
pub const DETAILS_MAX: u64 = 126;
/// Data blocks per space-map bitmap block (`(4096 - 16) * 4`).
pub const BITMAP_SPAN: u64 = 16_320;
/// Fixed blocks the model cannot attribute, calibrated on kernel 6.1 (fresh pools).
pub const CALIBRATION: u64 = 2;
/// Default leaf fill.
pub const LEAF_FILL: f64 = 0.93;

/// Metadata blocks by component.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct MetaEstimate {
    /// Superblock, space maps, the two top-level trees, calibration.
    pub fixed: u64,
    /// Mapping-tree leaves and internal nodes of every thin.
    pub mappings: u64,
    /// Top-level and device-details trees.
    pub per_thin: u64,
    /// `fixed + mappings + per_thin`.
    pub total: u64,
    /// What the pool status would show as used: `total` plus the kernel's reserve.
    pub status_used: u64,
}

/// Nodes of a b-tree with `leaves` leaves (internal nodes at `LEAF_MAX` fan-out).
fn tree(leaves: u64) -> u64 {
    let mut n = leaves;
    let mut level = leaves;
    while level > 1 {
        level = level.div_ceil(LEAF_MAX);
        n += level;
    }
    n
}

/// Leaves (plus internal nodes) of one thin's mapping tree.
pub fn thin_blocks(t: &ThinStats, leaf_fill: f64) -> u64 {
    let per_leaf = ((LEAF_MAX as f64) * leaf_fill).max(1.0);
    let inherited = t.mapped - t.own;
    if t.mapped == 0 {
        return 1; // the empty root leaf
    }
    if t.own == 0 {
        return 0; // shares its origin's tree
    }
    let leaves = |n: u64| (n as f64 / per_leaf).ceil() as u64;
    let own_leaves = leaves(t.own);
    if inherited == 0 {
        return tree(own_leaves);
    }
    // A written snapshot shadows the origin leaves its writes land in and inserts its own
    // mappings into them, so its unique leaves are at most its whole tree's: a mapping
    // that fits one leaf costs one block (measured on 6.1: +1 block per written snapshot
    // of a small origin), not an own leaf beside a shadowed one.
    let shadowed = t.own_runs.min(leaves(inherited));
    let total = leaves(t.mapped).max(1);
    if total == 1 {
        return 1;
    }
    let unique = (own_leaves + shadowed).min(total).max(1);
    // The root (and the internal nodes above the unique leaves) are shadowed too.
    tree(unique).max(unique + 1)
}

/// The blocks that depend on the pool's geometry alone: superblock, space-map bitmaps and
/// their indexes, calibration. [`estimate`] is this plus the thins' trees, so the estimate
/// for another geometry is `total - fixed(old) + fixed(new)`.
pub fn fixed(data_blocks: u64, meta_blocks: u64) -> u64 {
    let data_bitmaps = data_blocks.div_ceil(BITMAP_SPAN);
    let meta_bitmaps = meta_blocks.div_ceil(BITMAP_SPAN);
    1 + data_bitmaps + tree(data_bitmaps.div_ceil(LEAF_MAX)) + meta_bitmaps + 1 + CALIBRATION
}

/// The model for the quantity `thin_metadata_size` sizes: a *full* pool of `data_blocks`
/// with `thins` thins, every data block mapped once (each thin an equal share, inserted
/// sequentially, nothing shared), at the model's leaf fill.
pub fn full_pool(data_blocks: u64, meta_blocks: u64, thins: u64) -> MetaEstimate {
    let n = thins.max(1);
    let share = data_blocks / n;
    let extra = data_blocks % n;
    let stats = (0..n).map(move |i| {
        let m = share + u64::from(i < extra);
        ThinStats {
            mapped: m,
            own: m,
            own_runs: u64::from(m > 0),
            runs: u64::from(m > 0),
        }
    });
    estimate(data_blocks, meta_blocks, stats, LEAF_FILL)
}

/// The estimate for a pool of `data_blocks` and `meta_blocks` holding `thins`.
pub fn estimate(
    data_blocks: u64,
    meta_blocks: u64,
    thins: impl Iterator<Item = ThinStats>,
    leaf_fill: f64,
) -> MetaEstimate {
    let fixed = fixed(data_blocks, meta_blocks);
    let (mut n, mut mappings) = (0u64, 0u64);
    for t in thins {
        n += 1;
        mappings += thin_blocks(&t, leaf_fill);
    }
    let per_thin = tree(n.div_ceil(LEAF_MAX).max(1)) + tree(n.div_ceil(DETAILS_MAX).max(1));
    let total = fixed + mappings + per_thin;
    MetaEstimate {
        fixed,
        mappings,
        per_thin,
        total,
        status_used: total + reserve(meta_blocks),
    }
}

/// The kernel's metadata reserve: min(4096, total / 10) blocks.
pub fn reserve(meta_blocks: u64) -> u64 {
    (meta_blocks / 10).min(4096)
}

/// `thin_metadata_size`'s answer, run as a peer: the command line and its estimate, or
/// why there is none. In JSON exactly one of `bytes` and `skipped` is present.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PeerEstimate {
    /// The command (run, or that would have run).
    pub command: String,
    /// Its estimate in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Why there is no estimate (the tool is absent, failed, or was not asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl PeerEstimate {
    /// A peer not run, with the command it would have been.
    pub fn skipped(command: String, why: impl Into<String>) -> PeerEstimate {
        PeerEstimate {
            command,
            bytes: None,
            skipped: Some(why.into()),
        }
    }
}

fn peer_args(chunk_sectors: u64, data_sectors: u64, max_thins: u64) -> Vec<String> {
    vec![
        "-b".to_string(),
        format!("{chunk_sectors}s"),
        "-s".into(),
        format!("{data_sectors}s"),
        "-m".into(),
        max_thins.max(1).to_string(),
        "-u".into(),
        "b".into(),
        "-n".into(),
    ]
}

/// The `thin_metadata_size` command line for a geometry.
pub fn peer_command(chunk_sectors: u64, data_sectors: u64, max_thins: u64) -> String {
    format!(
        "thin_metadata_size {}",
        peer_args(chunk_sectors, data_sectors, max_thins).join(" ")
    )
}

/// Runs `thin_metadata_size -b CHUNKs -s DATAs -m THINS -u b -n`.
pub fn thin_metadata_size(chunk_sectors: u64, data_sectors: u64, max_thins: u64) -> PeerEstimate {
    let args = peer_args(chunk_sectors, data_sectors, max_thins);
    let command = peer_command(chunk_sectors, data_sectors, max_thins);
    let bytes = match Command::new("thin_metadata_size").args(&args).output() {
        Err(e) => Err(format!("cannot run thin_metadata_size: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "thin_metadata_size failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(o) => {
            let s = String::from_utf8_lossy(&o.stdout);
            let num: String = s
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            num.parse::<f64>()
                .map(|v| v.round() as u64)
                .map_err(|_| format!("unexpected thin_metadata_size output: {s:?}"))
        }
    };
    match bytes {
        Ok(b) => PeerEstimate {
            command,
            bytes: Some(b),
            skipped: None,
        },
        Err(e) => PeerEstimate::skipped(command, e),
    }
}

/// `thin_metadata_size`'s formula (1 + ceil(data_blocks / 126) + thins blocks), for when
/// the tool is absent and to check the parse.
pub fn thin_metadata_size_formula(data_blocks: u64, max_thins: u64) -> u64 {
    1 + data_blocks.div_ceil(126) + max_thins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_cases_from_kernel_6_1() {
        // docker-devicemapper run: loop-lvm 256MiB data (4096 blocks), 64MiB metadata
        // (16384): a fresh pool used 1648 = 10 + reserve 1638; a thin with 543 mappings
        // after random writes: 4 blocks.
        let e = estimate(4096, 16384, std::iter::empty(), LEAF_FILL);
        assert_eq!(e.status_used, e.total + 1638);
        let t = ThinStats {
            mapped: 543,
            own: 543,
            own_runs: 400,
            runs: 400,
        };
        assert_eq!(thin_blocks(&t, LEAF_FILL), 4);
        let seq = ThinStats {
            mapped: 3303,
            own: 3303,
            own_runs: 1,
            runs: 1,
        };
        assert_eq!(thin_blocks(&seq, LEAF_FILL), 16);
    }

    #[test]
    fn snapshots_share_until_written() {
        let s = ThinStats {
            mapped: 10_000,
            own: 0,
            own_runs: 0,
            runs: 3,
        };
        assert_eq!(thin_blocks(&s, LEAF_FILL), 0);
        let w = ThinStats {
            mapped: 10_000,
            own: 10,
            own_runs: 2,
            runs: 5,
        };
        // 1 leaf of its own + 2 shadowed origin leaves + their parent.
        assert_eq!(thin_blocks(&w, LEAF_FILL), 4);
    }

    #[test]
    fn the_estimate_is_its_fixed_part_plus_the_trees() {
        let t = ThinStats {
            mapped: 5000,
            own: 5000,
            own_runs: 1,
            runs: 1,
        };
        let a = estimate(1 << 20, 1 << 14, std::iter::once(t), LEAF_FILL);
        let b = estimate(0, 0, std::iter::once(t), LEAF_FILL);
        assert_eq!(a.total - fixed(1 << 20, 1 << 14), b.total - fixed(0, 0));
        // 2^20 data blocks need 65 bitmaps: the fixed part grows with the pool.
        assert_eq!(fixed(1 << 20, 1 << 14) - fixed(0, 0), 65 + 1 + 2);
    }

    #[test]
    fn a_full_pool_maps_every_block_once() {
        // 1,000,000 blocks over 4 thins of 250,000: ceil(250000 / (252 × 0.93)) = 1067
        // leaves each, plus 5 internal nodes (ceil(1067 / 252)) and a root.
        let e = full_pool(1_000_000, 1 << 16, 4);
        assert_eq!(e.mappings, 4 * (1067 + 5 + 1));
        assert_eq!(e.total, e.fixed + e.mappings + e.per_thin);
        // thin_metadata_size's half-full leaves need more.
        assert!(thin_metadata_size_formula(1_000_000, 4) > e.total);
    }

    #[test]
    fn formula_matches_the_reference() {
        // dm-thin.md: blocks = 1 + ceil(data_blocks / 126) + max_thins.
        assert_eq!(thin_metadata_size_formula(1_638_400, 1000), 14_005);
    }
}

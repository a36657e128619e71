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
//! Model: a thin's leaves hold its mappings at the fill dm-btree's insert rules give
//! ([`crate::btree_sim`] executes them): keys inserted in ascending order (a sequential
//! write) append to the last leaf, which moves half its surplus to its left sibling
//! while that one has 8 or more free entries and splits in two otherwise, so leaves
//! settle at [`append_entries`]`(252)` = 248; keys inserted at random split nodes two
//! into three and rebalance with siblings, and leaves settle at [`RANDOM_ENTRIES`] = 218
//! on average (half to full). Which order a thin's mappings came in is read off its
//! runs: each run of its own mappings starts at a random place (one random insert), the
//! rest of the run appends after it. Internal nodes fill the same way as the leaves they
//! index (they gain a child where a leaf splits). A snapshot *shares* its origin's tree
//! until it writes; then the leaves its own mappings are in are its own (one per run of
//! them, plus a leaf per 248 further mappings in a run, at most its tree's leaves: a
//! copy-on-write overwrite goes into the shadowed leaf it replaces an entry of), and so
//! are the internal nodes above them, up to the root: one per leaf on each level until
//! the level has fewer nodes. An empty thin costs its root leaf. Fixed: the superblock,
//! the data space map's bitmaps and its index b-tree (168 16-byte entries per node), the
//! metadata space map's bitmaps and its one index block, and the two space maps'
//! ref-count b-trees (counts above 2), empty: a root leaf each. Not modelled: entries in
//! those ref-count trees (data blocks referenced by three or more leaves, when several
//! snapshots copy the same origin leaf; metadata nodes with three or more parents).
//! `thin_metadata_size` assumes half-full leaves (126). The kernel also holds back a
//! reserve from what it reports free: min(4096 blocks, total / 10)
//! (`__set_metadata_reserve`), so the pool status shows `used + reserve`; both figures
//! are reported.
//!
//! Measured (`thinbench plan --validate --depth`, docs/measurements.md): trees of three
//! levels, 10^5 mappings in order and at random, and 8 snapshots sharing one. The fill
//! rules replaced a single fitted leaf fill (0.93, from one 3,303-mapping thin) and a
//! calibration of 2 unexplained blocks (the two ref-count roots).

use std::process::Command;

use thinbench_model::extent::ThinStats;

/// Mapping entries per b-tree node at most (`calc_max_entries`: `(4096 - 32) / 16`,
/// rounded down to a multiple of 3).
pub const LEAF_MAX: u64 = 252;
/// Device-details entries per leaf (`(4096 - 32) / 32`, rounded down to ×3).
pub const DETAILS_MAX: u64 = 126;
/// Space-map index entries per node of the data space map's index tree (16-byte
/// `disk_index_entry` values: `(4096 - 32) / 24`, rounded down to ×3).
pub const INDEX_MAX: u64 = 168;
/// Data blocks per space-map bitmap block (`(4096 - 16) * 4`).
pub const BITMAP_SPAN: u64 = 16_320;
/// The two space maps' ref-count b-trees (for counts above 2), empty: a root leaf each.
pub const REF_COUNT_ROOTS: u64 = 2;
/// Mean entries per node when keys arrive in random order: what dm-btree's split and
/// rebalance rules give, by simulation (`btree_sim`; `random_fill_is_the_simulated_one`
/// re-derives it).
pub const RANDOM_ENTRIES: u64 = 218;
/// Free entries a sibling needs for `rebalance_or_split` to move entries into it.
pub const SPACE_THRESHOLD: u64 = 8;

/// Entries per node when keys arrive in ascending order, for nodes of `max` entries:
/// the last node fills, then halves the two's total with its left sibling while that
/// one has [`SPACE_THRESHOLD`] free, then splits in two; the left one is left at the
/// fixed point (248 of 252, 122 of 126).
pub const fn append_entries(max: u64) -> u64 {
    let mut left = max / 2;
    while max - left >= SPACE_THRESHOLD {
        left = (left + max) / 2;
    }
    left
}

/// [`append_entries`] of a mapping node.
pub const APPEND_ENTRIES: u64 = append_entries(LEAF_MAX);

/// Metadata blocks by component.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct MetaEstimate {
    /// Superblock and space maps (bitmaps, indexes, the empty ref-count roots).
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

/// Nodes of a b-tree with `leaves` leaves whose internal nodes hold `fan` children.
fn tree(leaves: u64, fan: u64) -> u64 {
    levels(leaves, fan).iter().sum()
}

/// Nodes per level of such a tree, leaves first, the root last.
fn levels(leaves: u64, fan: u64) -> Vec<u64> {
    let mut out = vec![leaves];
    let mut level = leaves;
    while level > 1 {
        level = level.div_ceil(fan.max(2));
        out.push(level);
    }
    out
}

/// Leaves for `entries` keys of which `random` arrived at random places and the rest
/// in ascending runs after them; and the mean entries per node they give.
fn leaves_for(entries: u64, random: u64) -> (u64, u64) {
    let random = random.min(entries);
    // In units of 1 / (RANDOM_ENTRIES * APPEND_ENTRIES) of a leaf, to stay in integers.
    let units = random * APPEND_ENTRIES + (entries - random) * RANDOM_ENTRIES;
    let leaves = units.div_ceil(RANDOM_ENTRIES * APPEND_ENTRIES).max(1);
    (leaves, entries.div_ceil(leaves).clamp(2, LEAF_MAX))
}

/// Leaves (plus internal nodes) of one thin's mapping tree that are its own.
pub fn thin_blocks(t: &ThinStats) -> u64 {
    if t.mapped == 0 {
        return 1; // the empty root leaf
    }
    if t.own == 0 {
        return 0; // shares its origin's tree
    }
    let inherited = t.mapped - t.own;
    let own_random = t.own_runs.min(t.own);
    if inherited == 0 {
        let (leaves, fan) = leaves_for(t.own, own_random);
        return tree(leaves, fan);
    }
    // A written snapshot: its whole tree (its origin's layout, read off all its runs)...
    let (total, fan) = leaves_for(t.mapped, t.runs.min(t.mapped));
    if total == 1 {
        return 1; // one leaf, shadowed: its own mappings went into it
    }
    // ... of which the leaves holding its own mappings are its own: one per run, and one
    // per APPEND_ENTRIES more in a run, the boundaries it crosses (a copy-on-write
    // overwrite goes into the shadowed leaf it replaces an entry of) ...
    let unique = (own_random + (t.own - own_random) / APPEND_ENTRIES).clamp(1, total);
    // ... and the internal nodes above them, each level at most what the tree has there.
    let whole = levels(total, fan);
    let mut below = unique;
    let mut n = unique;
    for &at_level in &whole[1..] {
        below = below.min(at_level);
        n += below;
    }
    n
}

/// The blocks that depend on the pool's geometry alone: superblock, space-map bitmaps and
/// their indexes, the ref-count roots. [`estimate`] is this plus the thins' trees, so the
/// estimate for another geometry is `total - fixed(old) + fixed(new)`.
pub fn fixed(data_blocks: u64, meta_blocks: u64) -> u64 {
    let data_bitmaps = data_blocks.div_ceil(BITMAP_SPAN);
    let meta_bitmaps = meta_blocks.div_ceil(BITMAP_SPAN);
    let data_index = tree(data_bitmaps.div_ceil(INDEX_MAX), append_entries(INDEX_MAX));
    1 + data_bitmaps + data_index + meta_bitmaps + 1 + REF_COUNT_ROOTS
}

/// The model for the quantity `thin_metadata_size` sizes: a *full* pool of `data_blocks`
/// with `thins` thins, every data block mapped once (each thin an equal share, inserted
/// sequentially, nothing shared).
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
    estimate(data_blocks, meta_blocks, stats)
}

/// The estimate for a pool of `data_blocks` and `meta_blocks` holding `thins`.
pub fn estimate(
    data_blocks: u64,
    meta_blocks: u64,
    thins: impl Iterator<Item = ThinStats>,
) -> MetaEstimate {
    let fixed = fixed(data_blocks, meta_blocks);
    let (mut n, mut mappings) = (0u64, 0u64);
    for t in thins {
        n += 1;
        mappings += thin_blocks(&t);
    }
    // Thin ids mostly come in ascending order: appends.
    let top = tree(n.div_ceil(APPEND_ENTRIES).max(1), APPEND_ENTRIES);
    let details = tree(
        n.div_ceil(append_entries(DETAILS_MAX)).max(1),
        APPEND_ENTRIES,
    );
    let per_thin = top + details;
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
    fn cases_from_kernel_6_1() {
        // docker-devicemapper run: loop-lvm 256MiB data (4096 blocks), 64MiB metadata
        // (16384): a fresh pool used 1648 = 10 + reserve 1638; a thin with 543 mappings
        // after random writes: 4 blocks (3 leaves and the root).
        let e = estimate(4096, 16384, std::iter::empty());
        assert_eq!(e.status_used, 1648);
        assert_eq!(e.status_used, e.total + 1638);
        let t = ThinStats {
            mapped: 543,
            own: 543,
            own_runs: 400,
            runs: 400,
        };
        assert_eq!(thin_blocks(&t), 4);
        // In order: ceil(3303 / 248) = 14 leaves and the root, as btree_sim builds it.
        let seq = ThinStats {
            mapped: 3303,
            own: 3303,
            own_runs: 1,
            runs: 1,
        };
        assert_eq!(thin_blocks(&seq), 15);
        assert_eq!(crate::btree_sim::build(0..3303).blocks(), 15);
    }

    #[test]
    fn fills_follow_from_the_split_rule() {
        assert_eq!(append_entries(LEAF_MAX), 248);
        assert_eq!(append_entries(DETAILS_MAX), 122);
        let s = crate::btree_sim::build(0..50_000);
        assert_eq!(s.leaves, 50_000u64.div_ceil(APPEND_ENTRIES));
        // Random order: a xorshift stream of keys, as random writes' chunks arrive.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let keys = (0..50_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        let r = crate::btree_sim::build(keys);
        let per_leaf = r.entries as f64 / r.leaves as f64;
        assert!(
            (per_leaf - RANDOM_ENTRIES as f64).abs() <= 4.0,
            "simulated random fill {per_leaf:.1} per leaf, model {RANDOM_ENTRIES}"
        );
        // The model on the same thins: within a few leaves of the simulation.
        let model = thin_blocks(&ThinStats {
            mapped: r.entries,
            own: r.entries,
            own_runs: r.entries,
            runs: r.entries,
        });
        assert!(
            model.abs_diff(r.blocks()) * 100 <= r.blocks() * 3,
            "{model} vs {r:?}"
        );
        let model = thin_blocks(&ThinStats {
            mapped: 50_000,
            own: 50_000,
            own_runs: 1,
            runs: 1,
        });
        assert_eq!(model, s.blocks());
    }

    #[test]
    fn snapshots_share_until_written() {
        let s = ThinStats {
            mapped: 10_000,
            own: 0,
            own_runs: 0,
            runs: 3,
        };
        assert_eq!(thin_blocks(&s), 0);
        let w = ThinStats {
            mapped: 10_000,
            own: 10,
            own_runs: 2,
            runs: 5,
        };
        // Its 2 runs in 2 shadowed leaves, and the root above them.
        assert_eq!(thin_blocks(&w), 3);
        // Three levels (100,000 in order: 404 leaves under 2 internal nodes): 48 scattered
        // copy-on-write writes own 48 leaves, both internal nodes and the root.
        let deep = ThinStats {
            mapped: 100_000,
            own: 48,
            own_runs: 48,
            runs: 49,
        };
        assert_eq!(thin_blocks(&deep), 48 + 2 + 1);
        // One write: a leaf, one internal node, the root.
        let one = ThinStats {
            mapped: 100_000,
            own: 1,
            own_runs: 1,
            runs: 3,
        };
        assert_eq!(thin_blocks(&one), 3);
    }

    #[test]
    fn the_estimate_is_its_fixed_part_plus_the_trees() {
        let t = ThinStats {
            mapped: 5000,
            own: 5000,
            own_runs: 1,
            runs: 1,
        };
        let a = estimate(1 << 20, 1 << 14, std::iter::once(t));
        let b = estimate(0, 0, std::iter::once(t));
        assert_eq!(a.total - fixed(1 << 20, 1 << 14), b.total - fixed(0, 0));
        // 2^20 data blocks need 65 bitmaps and an index node over them, 2^14 metadata
        // blocks two bitmaps: the fixed part grows with the pool.
        assert_eq!(fixed(1 << 20, 1 << 14) - fixed(0, 0), 65 + 1 + 2);
    }

    #[test]
    fn a_full_pool_maps_every_block_once() {
        // 1,000,000 blocks over 4 thins of 250,000, each one sequential run: the thins'
        // trees are four of one thin's.
        let e = full_pool(1_000_000, 1 << 16, 4);
        let one = ThinStats {
            mapped: 250_000,
            own: 250_000,
            own_runs: 1,
            runs: 1,
        };
        assert_eq!(e.mappings, 4 * thin_blocks(&one));
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

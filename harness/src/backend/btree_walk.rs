//! The shape of a pool's mapping b-trees, read from its metadata device: per thin, the
//! tree's levels, leaves, internal nodes and entries, and the distinct blocks of all
//! of them (snapshots share nodes). What the metadata model is checked against at depth
//! (`thinbench plan --validate --depth`): `thin_ls` and `thin_dump` give mappings, not
//! nodes.
//!
//! Read from a reserved metadata snapshot (the superblock's `held_root`, a copy of the
//! superblock whose trees the kernel keeps intact while it is held), by block, with
//! O_DIRECT (dm-bufio writes the device beneath the page cache). The on-disk layout is
//! `dm-thin-metadata.c`'s `thin_disk_superblock` and `dm-btree-internal.h`'s
//! `node_header`: 32 bytes (csum, flags, blocknr, nr_entries, max_entries, value_size,
//! padding), then `max_entries` 64-bit keys, then the values. The data-mapping tree has
//! two levels of b-tree: thin id → the root of that thin's tree of chunk → block.
//! Everything read is checked (magic, node flags, its own block number, entry counts that
//! fit the block, a bound on levels and nodes), so a torn or foreign device gives an
//! error, never a loop or a panic.

use std::collections::HashSet;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Metadata block size.
pub const BLOCK: usize = 4096;
/// `THIN_SUPERBLOCK_MAGIC`.
pub const SUPERBLOCK_MAGIC: u64 = 27_022_010;
const INTERNAL_NODE: u32 = 1;
const LEAF_NODE: u32 = 2;
const HEADER: usize = 32;
/// Levels a tree may have before the walk calls it broken (252^8 entries is far past
/// any pool).
const MAX_LEVELS: u32 = 8;
/// Nodes the walk visits at most (a 16GiB metadata device has 4M blocks).
const MAX_NODES: usize = 4 << 20;

/// One thin's mapping tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TreeShape {
    /// Thin device id.
    pub thin: u64,
    /// Levels: 1 is a root leaf; 3 is a root, one level of internal nodes, leaves.
    pub levels: u32,
    /// Leaf nodes.
    pub leaves: u64,
    /// Internal nodes, the root included when it is one.
    pub internal: u64,
    /// Entries in the leaves: the thin's mappings.
    pub mappings: u64,
}

/// Every mapping tree of a pool, and the blocks they take together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappingTrees {
    /// Per thin, by id.
    pub thins: Vec<TreeShape>,
    /// Distinct blocks of all per-thin trees (a node shared by snapshots counted once).
    pub tree_blocks: u64,
    /// Blocks of the top level (thin id → tree root).
    pub top_blocks: u64,
    /// Blocks of the device-details tree.
    pub details_blocks: u64,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// A node's header, checked, and where its values start.
struct Node {
    leaf: bool,
    nr: usize,
    values_at: usize,
    value_size: usize,
}

fn node(b: &[u8], at: u64) -> Result<Node, String> {
    let flags = u32_at(b, 4);
    let blocknr = u64_at(b, 8);
    let nr = u32_at(b, 16) as usize;
    let max = u32_at(b, 20) as usize;
    let value_size = u32_at(b, 24) as usize;
    if blocknr != at {
        return Err(format!("block {at}: a b-tree node claims block {blocknr}"));
    }
    let leaf = match flags & (INTERNAL_NODE | LEAF_NODE) {
        INTERNAL_NODE => false,
        LEAF_NODE => true,
        f => return Err(format!("block {at}: not a b-tree node (flags {f:#x})")),
    };
    if value_size == 0 || nr > max || HEADER + max * (8 + value_size) > BLOCK {
        return Err(format!(
            "block {at}: b-tree node with {nr} of {max} entries of {value_size} bytes does not fit a block"
        ));
    }
    if !leaf && value_size != 8 {
        return Err(format!(
            "block {at}: internal node with {value_size}-byte values"
        ));
    }
    Ok(Node {
        leaf,
        nr,
        values_at: HEADER + max * 8,
        value_size,
    })
}

/// What [`walk`] found.
#[derive(Default)]
struct Walked {
    levels: u32,
    leaves: u64,
    internal: u64,
    entries: u64,
    /// (key, 64-bit value) of every leaf entry, in order, when asked for.
    pairs: Vec<(u64, u64)>,
}

type Read<'a> = dyn FnMut(u64) -> Result<Vec<u8>, String> + 'a;

/// Walk the tree at `root` level by level, adding every node to `seen`; with `pairs`,
/// collect the leaves' entries (64-bit values only).
fn walk(
    read: &mut Read,
    root: u64,
    seen: &mut HashSet<u64>,
    pairs: bool,
) -> Result<Walked, String> {
    let mut level = vec![root];
    let mut w = Walked::default();
    while !level.is_empty() {
        w.levels += 1;
        if w.levels > MAX_LEVELS {
            return Err(format!(
                "tree at block {root}: more than {MAX_LEVELS} levels"
            ));
        }
        let mut next = Vec::new();
        let mut leaf_level = None;
        for &at in &level {
            if seen.len() >= MAX_NODES {
                return Err(format!("more than {MAX_NODES} b-tree nodes"));
            }
            seen.insert(at);
            let b = read(at)?;
            let n = node(&b, at)?;
            if *leaf_level.get_or_insert(n.leaf) != n.leaf {
                return Err(format!("tree at block {root}: leaves at different depths"));
            }
            if n.leaf {
                w.leaves += 1;
                w.entries += n.nr as u64;
                if pairs {
                    if n.value_size != 8 {
                        return Err(format!("block {at}: top-level leaf values are not 64-bit"));
                    }
                    w.pairs
                        .extend((0..n.nr).map(|i| {
                            (u64_at(&b, HEADER + i * 8), u64_at(&b, n.values_at + i * 8))
                        }));
                }
            } else {
                w.internal += 1;
                next.extend((0..n.nr).map(|i| u64_at(&b, n.values_at + i * 8)));
            }
        }
        level = next;
    }
    Ok(w)
}

/// The mapping trees of the metadata snapshot held on a device, read through `read`
/// (block number → its 4096 bytes).
pub fn mapping_trees(read: &mut Read) -> Result<MappingTrees, String> {
    let sb = read(0)?;
    if u64_at(&sb, 32) != SUPERBLOCK_MAGIC {
        return Err("block 0 is not a thin-pool superblock".into());
    }
    let held = u64_at(&sb, 56);
    if held == 0 {
        return Err("no metadata snapshot is held".into());
    }
    let copy = read(held)?;
    if u64_at(&copy, 32) != SUPERBLOCK_MAGIC {
        return Err(format!("held root {held} is not a superblock copy"));
    }
    let (mapping_root, details_root) = (u64_at(&copy, 320), u64_at(&copy, 328));
    let top = walk(read, mapping_root, &mut HashSet::new(), true)?;
    let mut seen = HashSet::new();
    let mut thins = Vec::new();
    for &(thin, root) in &top.pairs {
        let t = walk(read, root, &mut seen, false)?;
        thins.push(TreeShape {
            thin,
            levels: t.levels,
            leaves: t.leaves,
            internal: t.internal,
            mappings: t.entries,
        });
    }
    let details = walk(read, details_root, &mut HashSet::new(), false)?;
    Ok(MappingTrees {
        thins,
        tree_blocks: seen.len() as u64,
        top_blocks: top.leaves + top.internal,
        details_blocks: details.leaves + details.internal,
    })
}

/// [`mapping_trees`] of the metadata device at `path` (a metadata snapshot must be held).
pub fn read_device(path: &Path) -> Result<MappingTrees, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .map_err(|e| format!("opening {} (O_DIRECT): {e}", path.display()))?;
    let mut buf = thinbench_workloads::engine::AlignedBuf::new(BLOCK);
    let mut read = |at: u64| -> Result<Vec<u8>, String> {
        let off = at
            .checked_mul(BLOCK as u64)
            .ok_or_else(|| format!("block {at} is past any device"))?;
        f.read_exact_at(&mut buf, off)
            .map_err(|e| format!("reading block {at} of {}: {e}", path.display()))?;
        Ok(buf.to_vec())
    };
    mapping_trees(&mut read)
}

#[cfg(test)]
#[path = "btree_walk_tests.rs"]
mod tests;

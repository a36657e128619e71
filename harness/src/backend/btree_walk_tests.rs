use std::collections::HashMap;

use super::*;

/// A metadata image in memory: block number → block.
#[derive(Default)]
struct Image(HashMap<u64, Vec<u8>>);

impl Image {
    fn put_u64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn put_u32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn superblocks(&mut self, held: u64, mapping_root: u64, details_root: u64) {
        let mut sb = vec![0u8; BLOCK];
        Self::put_u64(&mut sb, 32, SUPERBLOCK_MAGIC);
        Self::put_u64(&mut sb, 56, held);
        let mut copy = vec![0u8; BLOCK];
        Self::put_u64(&mut copy, 32, SUPERBLOCK_MAGIC);
        Self::put_u64(&mut copy, 320, mapping_root);
        Self::put_u64(&mut copy, 328, details_root);
        self.0.insert(0, sb);
        self.0.insert(held, copy);
    }
    /// A node at `at`: leaf or internal, (key, value) entries, `value_size` bytes each.
    fn node(&mut self, at: u64, leaf: bool, entries: &[(u64, u64)], value_size: u32) {
        let mut b = vec![0u8; BLOCK];
        let max = ((BLOCK - HEADER) / (8 + value_size as usize) / 3 * 3) as u32;
        Self::put_u32(&mut b, 4, if leaf { LEAF_NODE } else { INTERNAL_NODE });
        Self::put_u64(&mut b, 8, at);
        Self::put_u32(&mut b, 16, entries.len() as u32);
        Self::put_u32(&mut b, 20, max);
        Self::put_u32(&mut b, 24, value_size);
        let values = HEADER + max as usize * 8;
        for (i, (k, v)) in entries.iter().enumerate() {
            Self::put_u64(&mut b, HEADER + i * 8, *k);
            Self::put_u64(&mut b, values + i * value_size as usize, *v);
        }
        self.0.insert(at, b);
    }
    fn walk(&self) -> Result<MappingTrees, String> {
        let mut read = |at: u64| {
            self.0
                .get(&at)
                .cloned()
                .ok_or_else(|| format!("block {at} is not in the image"))
        };
        mapping_trees(&mut read)
    }
}

/// Two thins whose trees share a leaf (a snapshot that wrote one leaf of its own).
fn two_thins() -> Image {
    let mut m = Image::default();
    m.superblocks(1, 2, 3);
    m.node(2, true, &[(5, 4), (7, 10)], 8);
    m.node(3, true, &[(5, 0), (7, 0)], 24);
    m.node(4, false, &[(0, 5), (300, 6)], 8);
    m.node(5, true, &[(0, 100), (1, 101), (2, 102)], 8);
    m.node(6, true, &[(300, 103), (301, 104)], 8);
    m.node(10, false, &[(0, 5), (300, 11)], 8);
    m.node(11, true, &[(300, 200), (301, 104)], 8);
    m
}

#[test]
fn shapes_per_thin_and_shared_nodes_counted_once() {
    let t = two_thins().walk().unwrap();
    let shape = |thin, leaves, mappings| TreeShape {
        thin,
        levels: 2,
        leaves,
        internal: 1,
        mappings,
    };
    assert_eq!(t.thins, vec![shape(5, 2, 5), shape(7, 2, 5)]);
    // Roots 4 and 10, leaves 5 (shared), 6 and 11.
    assert_eq!(t.tree_blocks, 5);
    assert_eq!((t.top_blocks, t.details_blocks), (1, 1));
}

#[test]
fn a_root_leaf_is_one_level() {
    let mut m = Image::default();
    m.superblocks(9, 2, 3);
    m.node(2, true, &[(1, 4)], 8);
    m.node(3, true, &[(1, 0)], 24);
    m.node(4, true, &[], 8);
    let t = m.walk().unwrap();
    assert_eq!(t.thins[0].levels, 1);
    assert_eq!((t.thins[0].leaves, t.thins[0].internal), (1, 0));
    assert_eq!(t.tree_blocks, 1);
}

#[test]
fn broken_images_are_errors_not_loops() {
    let mut m = two_thins();
    m.node(6, false, &[(300, 4)], 8); // a cycle: 4 → 6 → 4
    let e = m.walk().unwrap_err();
    assert!(e.contains("levels") || e.contains("depths"), "{e}");

    let mut m = two_thins();
    Image::put_u64(m.0.get_mut(&5).unwrap(), 8, 77);
    assert_eq!(
        m.walk().unwrap_err(),
        "block 5: a b-tree node claims block 77"
    );

    let mut m = two_thins();
    Image::put_u64(m.0.get_mut(&0).unwrap(), 56, 0);
    assert_eq!(m.walk().unwrap_err(), "no metadata snapshot is held");

    let mut m = two_thins();
    Image::put_u32(m.0.get_mut(&6).unwrap(), 16, 300);
    assert!(m.walk().unwrap_err().contains("does not fit a block"));

    let mut m = two_thins();
    m.0.get_mut(&0).unwrap()[32] ^= 1;
    assert!(m.walk().unwrap_err().contains("not a thin-pool superblock"));
}

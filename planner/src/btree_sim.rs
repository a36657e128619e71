//! dm-persistent-data's b-tree insert, executed: the split and rebalance rules of
//! `drivers/md/persistent-data/dm-btree.c` (Linux 5.14 on, 6.1 included) on one tree of
//! 64-bit keys, no sharing. The metadata model's leaf fills come from it
//! ([`crate::metadata`]): a fill is what these rules give, not a number fitted to a
//! kernel's block count.
//!
//! The rules (`btree_insert_raw`): on the way down every full node on the path is made
//! room in first (a full leaf only if the key is new). The root splits beneath itself
//! (`btree_split_beneath`: its entries halved into two new children). Any other full
//! node (`rebalance_or_split`) moves entries to its left sibling if that one has at least
//! `SPACE_THRESHOLD` = 8 free entries (`redistribute2`: the two halve their total), else
//! to its right sibling likewise, else splits: one into two (halves) when it is the first
//! or last child or its parent has at most two, else two into three (with its left
//! sibling: thirds). Siblings shared with a snapshot are never touched; this simulation
//! has none.

/// Entries per node (`calc_max_entries` for 8-byte keys and values in 4 KiB).
pub const MAX_ENTRIES: usize = 252;
/// `SPACE_THRESHOLD` of `rebalance_or_split`.
pub const SPACE_THRESHOLD: usize = 8;

#[derive(Debug, Clone)]
struct Node {
    leaf: bool,
    keys: Vec<u64>,
    /// Child node indices (internal nodes).
    kids: Vec<usize>,
}

impl Node {
    fn len(&self) -> usize {
        self.keys.len()
    }
}

/// One b-tree.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    root: usize,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree::new()
    }
}

/// The largest `i` with `keys[i] <= key`, or `None`.
fn lower_bound(keys: &[u64], key: u64) -> Option<usize> {
    keys.partition_point(|&k| k <= key).checked_sub(1)
}

/// Shape of a tree: levels, leaves, internal nodes, entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Levels (1: a root leaf).
    pub levels: u32,
    /// Leaves.
    pub leaves: u64,
    /// Internal nodes.
    pub internal: u64,
    /// Entries in the leaves.
    pub entries: u64,
}

impl Shape {
    /// Every node.
    pub fn blocks(&self) -> u64 {
        self.leaves + self.internal
    }
}

impl Tree {
    /// An empty tree: one empty root leaf (`dm_btree_empty`).
    pub fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                leaf: true,
                keys: Vec::new(),
                kids: Vec::new(),
            }],
            root: 0,
        }
    }

    fn new_node(&mut self, leaf: bool) -> usize {
        self.nodes.push(Node {
            leaf,
            keys: Vec::new(),
            kids: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Insert `key` (an overwrite if present), as `btree_insert_raw` does.
    pub fn insert(&mut self, key: u64) {
        let mut cur = self.root;
        let mut parent: Option<(usize, usize)> = None;
        loop {
            let n = &self.nodes[cur];
            let full = n.len() == MAX_ENTRIES
                && !(n.leaf && lower_bound(&n.keys, key).is_some_and(|i| n.keys[i] == key));
            if full {
                cur = match parent {
                    None => {
                        self.split_beneath(cur);
                        cur
                    }
                    Some((p, i)) => self.rebalance_or_split(p, i, cur, key),
                };
            }
            let n = &mut self.nodes[cur];
            let i = lower_bound(&n.keys, key);
            if n.leaf {
                match i {
                    Some(i) if n.keys[i] == key => {}
                    Some(i) => n.keys.insert(i + 1, key),
                    None => n.keys.insert(0, key),
                }
                return;
            }
            let i = match i {
                Some(i) => i,
                None => {
                    n.keys[0] = key;
                    0
                }
            };
            parent = Some((cur, i));
            cur = n.kids[i];
        }
    }

    fn split_beneath(&mut self, at: usize) {
        let n = self.nodes[at].clone();
        let half = n.len() / 2;
        let (l, r) = (self.new_node(n.leaf), self.new_node(n.leaf));
        self.nodes[l].keys = n.keys[..half].to_vec();
        self.nodes[r].keys = n.keys[half..].to_vec();
        if !n.leaf {
            self.nodes[l].kids = n.kids[..half].to_vec();
            self.nodes[r].kids = n.kids[half..].to_vec();
        }
        let root = &mut self.nodes[at];
        root.leaf = false;
        root.keys = vec![n.keys[0], n.keys[half]];
        root.kids = vec![l, r];
    }

    /// Move entries so that `left` holds `target` of the two's total (`redistribute2`).
    fn redistribute2(&mut self, left: usize, right: usize) {
        let total = self.nodes[left].len() + self.nodes[right].len();
        self.rebalance_to(&[left, right], &[total / 2, total - total / 2]);
    }

    /// Lay the entries of `ids` (in order) out with `targets` entries each.
    fn rebalance_to(&mut self, ids: &[usize], targets: &[usize]) {
        let mut keys = Vec::new();
        let mut kids = Vec::new();
        for &id in ids {
            keys.append(&mut self.nodes[id].keys);
            kids.append(&mut self.nodes[id].kids);
        }
        let mut at = 0;
        for (&id, &t) in ids.iter().zip(targets) {
            self.nodes[id].keys = keys[at..at + t].to_vec();
            if !kids.is_empty() {
                self.nodes[id].kids = kids[at..at + t].to_vec();
            }
            at += t;
        }
    }

    /// `rebalance_or_split` of child `i` (= `cur`) of `p`; returns the node to go on in.
    fn rebalance_or_split(&mut self, p: usize, i: usize, cur: usize, key: u64) -> usize {
        let nr_parent = self.nodes[p].len();
        let free = |t: &Tree, id: usize| MAX_ENTRIES - t.nodes[id].len();
        if i > 0 {
            let left = self.nodes[p].kids[i - 1];
            if free(self, left) >= SPACE_THRESHOLD {
                self.redistribute2(left, cur);
                self.nodes[p].keys[i] = self.nodes[cur].keys[0];
                return if key < self.nodes[cur].keys[0] {
                    left
                } else {
                    cur
                };
            }
        }
        if i + 1 < nr_parent {
            let right = self.nodes[p].kids[i + 1];
            if free(self, right) >= SPACE_THRESHOLD {
                self.redistribute2(cur, right);
                self.nodes[p].keys[i + 1] = self.nodes[right].keys[0];
                return if key < self.nodes[right].keys[0] {
                    cur
                } else {
                    right
                };
            }
        }
        if nr_parent <= 2 || i == 0 || i + 1 == nr_parent {
            // split_one_into_two
            let leaf = self.nodes[cur].leaf;
            let right = self.new_node(leaf);
            self.redistribute2(cur, right);
            let k = self.nodes[right].keys[0];
            self.nodes[p].keys.insert(i + 1, k);
            self.nodes[p].kids.insert(i + 1, right);
            return if key < k { cur } else { right };
        }
        // split_two_into_three, with the left sibling (i > 0 here).
        let left = self.nodes[p].kids[i - 1];
        let leaf = self.nodes[cur].leaf;
        let middle = self.new_node(leaf);
        let total = self.nodes[left].len() + self.nodes[cur].len();
        let tl = total / 3;
        let tc = (total - tl) / 2;
        self.rebalance_to(&[left, middle, cur], &[tl, tc, total - tl - tc]);
        let (mk, rk) = (self.nodes[middle].keys[0], self.nodes[cur].keys[0]);
        self.nodes[p].keys[i] = rk;
        self.nodes[p].keys.insert(i, mk);
        self.nodes[p].kids.insert(i, middle);
        if key < mk {
            left
        } else if key < rk {
            middle
        } else {
            cur
        }
    }

    /// The tree's shape.
    pub fn shape(&self) -> Shape {
        let mut s = Shape {
            levels: 0,
            leaves: 0,
            internal: 0,
            entries: 0,
        };
        let mut level = vec![self.root];
        while !level.is_empty() {
            s.levels += 1;
            let mut next = Vec::new();
            for id in level {
                let n = &self.nodes[id];
                if n.leaf {
                    s.leaves += 1;
                    s.entries += n.len() as u64;
                } else {
                    s.internal += 1;
                    next.extend(&n.kids);
                }
            }
            level = next;
        }
        s
    }
}

/// The shape after inserting `keys` in order into an empty tree.
pub fn build(keys: impl IntoIterator<Item = u64>) -> Shape {
    let mut t = Tree::new();
    for k in keys {
        t.insert(k);
    }
    t.shape()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_leaf_splits_beneath_into_halves() {
        assert_eq!(build(0..252).blocks(), 1);
        let s = build(0..253);
        assert_eq!((s.levels, s.leaves, s.internal, s.entries), (2, 2, 1, 253));
    }

    #[test]
    fn appends_fill_leaves_to_the_threshold() {
        // The last leaf fills, then moves half its surplus left until the left sibling
        // has fewer than 8 free: leaves settle at 248 (252 - 4) before a split.
        let s = build(0..100_000);
        assert_eq!(s.levels, 3);
        assert_eq!(s.entries, 100_000);
        // ceil(100000 / 248) = 404 leaves, give or take the last two.
        assert!((403..=405).contains(&s.leaves), "{s:?}");
    }

    #[test]
    fn random_inserts_are_between_half_and_full() {
        let mut x = 1u64;
        let keys = (0..100_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        let s = build(keys);
        let per_leaf = s.entries as f64 / s.leaves as f64;
        assert!(per_leaf > 126.0 && per_leaf < 252.0, "{per_leaf}");
        assert_eq!(s.levels, 3);
    }
}

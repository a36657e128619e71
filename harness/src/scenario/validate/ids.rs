//! The thin ids a pool will hand out, simulated over the steps as the backends choose
//! them: loop-lvm (and the fake pool) the lowest free id from 1 up
//! (`backend::pool::pick_thin_id`), direct-lvm lvm's one past the highest in use
//! (`get_free_thin_pool_device_id` in lvm2's `thin_manip.c`, which does not reuse holes).
//! The walk refuses a step whose id the run could not have: none left, or an explicit id
//! a live thin holds.

use std::collections::{BTreeMap, HashMap};
use thinbench_schema::ids::ThinId;
use thinbench_schema::record::PoolKind;

/// How a pool kind chooses the id of a thin made without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdRule {
    /// The lowest free id from 1 up (loop-lvm, the fake pool).
    LowestFree,
    /// One past the highest id in use (lvm, for direct-lvm).
    AfterHighest,
}

impl IdRule {
    pub(super) fn of(kind: PoolKind) -> IdRule {
        match kind {
            PoolKind::LoopLvm => IdRule::LowestFree,
            PoolKind::DirectLvm => IdRule::AfterHighest,
        }
    }
}

/// The ids of one pool's live thins, by id and by name.
pub(super) struct ThinIds<'a> {
    rule: IdRule,
    holders: BTreeMap<u32, &'a str>,
    by_name: HashMap<&'a str, u32>,
}

impl<'a> ThinIds<'a> {
    pub(super) fn new(rule: IdRule) -> ThinIds<'a> {
        ThinIds {
            rule,
            holders: BTreeMap::new(),
            by_name: HashMap::new(),
        }
    }

    pub(super) fn rule(&self) -> IdRule {
        self.rule
    }

    /// The id a thin made now without one would get, `None` when none is left.
    pub(super) fn next(&self) -> Option<u32> {
        let id = match self.rule {
            IdRule::AfterHighest => self.holders.keys().next_back().map_or(1, |h| h + 1),
            IdRule::LowestFree => {
                let mut candidate = 1u32;
                for &used in self.holders.range(1..).map(|(id, _)| id) {
                    if used != candidate {
                        break;
                    }
                    candidate += 1;
                }
                candidate
            }
        };
        (id <= ThinId::MAX).then_some(id)
    }

    /// The live thin holding `id`.
    pub(super) fn holder(&self, id: u32) -> Option<&'a str> {
        self.holders.get(&id).copied()
    }

    /// Thin `name` now holds `id`.
    pub(super) fn take(&mut self, name: &'a str, id: u32) {
        self.holders.insert(id, name);
        self.by_name.insert(name, id);
    }

    /// Thin `name` is deleted: its id is free again.
    pub(super) fn free(&mut self, name: &str) {
        if let Some(id) = self.by_name.remove(name) {
            self.holders.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_lvm_reuses_the_lowest_hole_and_lvm_goes_past_the_highest() {
        let mut low = ThinIds::new(IdRule::LowestFree);
        let mut lvm = ThinIds::new(IdRule::AfterHighest);
        for ids in [&mut low, &mut lvm] {
            assert_eq!(ids.next(), Some(1));
            ids.take("a", 1);
            ids.take("b", 2);
            ids.take("c", 3);
            ids.free("b");
        }
        assert_eq!(low.next(), Some(2));
        assert_eq!(lvm.next(), Some(4));
        low.free("c");
        lvm.free("c");
        assert_eq!((low.next(), lvm.next()), (Some(2), Some(2)));
        assert_eq!(low.holder(1), Some("a"));
        assert_eq!(low.holder(3), None);
    }

    #[test]
    fn the_last_id_held_ends_lvms_ids_but_not_the_lowest_free() {
        let mut low = ThinIds::new(IdRule::LowestFree);
        let mut lvm = ThinIds::new(IdRule::AfterHighest);
        low.take("top", ThinId::MAX);
        lvm.take("top", ThinId::MAX);
        assert_eq!(low.next(), Some(1));
        assert_eq!(lvm.next(), None);
    }
}

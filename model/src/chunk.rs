//! The reference model of dm-thin data-block allocation: given the thin operations and
//! the writes and discards a run issued, how many data blocks the pool must have used,
//! per thin how many are mapped, exclusive and shared, and which writes must have failed
//! for lack of space. It is the run's accounting oracle (compared with the pool's status
//! line and `thin_ls`) and the core of the capacity planner.
//!
//! It follows `drivers/md/dm-thin.c` and `dm-thin-metadata.c` (Linux 6.1), including
//! where the kernel is cruder than "reference counts > 1 are shared":
//!
//! * IO is split at chunk boundaries (the thin target sets `max_io_len` to the chunk).
//!   Per piece: unmapped → provision one block (`provision_block`); mapped and *shared*
//!   → allocate one block and remap, copying the old block unless the piece covers the
//!   whole chunk (`break_sharing`, `io_overwrites_block`); the old block loses a
//!   reference. Mapped and not shared → written in place.
//! * "Shared" is decided by time, not by reference count (`__snapshotted_since`): every
//!   mapping records the pool's `time` when it was inserted; `create_snap` increments
//!   `time` and stamps origin and snapshot with it as `snapshotted_time`; a mapping is
//!   shared iff `thin.snapshotted_time > mapping.time`. So after the *origin* broke
//!   sharing of a chunk, the snapshot's first write to that chunk still copies, and after
//!   a snapshot is deleted the origin's older chunks still copy on first write. Such a
//!   copy allocates one block and frees the old one (net zero), but needs a free block:
//!   in a full pool it fails with ENOSPC although nothing is really shared any more.
//! * Discards unmap only chunks they cover entirely (`get_bio_block_range` rounds the
//!   start up and the end down); a block is freed when its last reference goes. A
//!   discard of a shared chunk unmaps it from the discarded thin only: the block stays
//!   allocated for the others (and is not passed down to the data device). A pool with
//!   `ignore_discard` takes no discards ([`PoolModel::set_ignore_discard`]): its thins
//!   refuse them (EOPNOTSUPP) and nothing is unmapped. Checked on Linux 6.1 (a partial
//!   block, a shared block, both features, a range past the thin's end: EINVAL from the
//!   block layer, before dm-thin).
//! * An allocation with no free block fails (`alloc_data_block` → ENOSPC) and changes
//!   nothing. The kernel cannot reuse blocks freed in the current metadata transaction,
//!   but it commits and retries before declaring the pool full, so "free" here is the
//!   same count the pool reports after a commit (status reads commit).
//!
//! Not modelled: external origins, held metadata snapshots
//! (while one is held, unmapping does not free data blocks), a zero-length write, and the
//! 24-bit wrap of `time`. A whole-chunk write is assumed to reach dm-thin as one bio: a
//! device whose `max_sectors_kb` is below the chunk size splits it and the kernel copies.

use std::collections::{BTreeMap, HashMap};
use std::ops::AddAssign;

use thinbench_schema::ids::ThinId;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};

use crate::error::ModelError;

/// One thin's mapping of a chunk: the data block and the pool time it was inserted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapping {
    block: u64,
    time: u32,
}

#[derive(Debug, Clone)]
struct Thin {
    // A map per chunk is fine up to ~10^7 mappings. For 10^9 chunks this becomes a map
    // of extents (chunk start → (block start, len, time)), as thin_dump's range
    // mappings, with the reference counts kept per block range in the same way; the
    // rules above work unchanged per extent piece.
    map: BTreeMap<u64, Mapping>,
    snapshotted_time: u32,
}

/// What one write did, piece by piece (a piece is the part of the write in one chunk).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteEffect {
    /// Pieces the write was split into.
    pub pieces: u64,
    /// Unmapped chunks given a new block.
    pub provisioned: DataBlocks,
    /// Shared chunks broken by a partial piece: new block, old contents copied.
    pub copied: DataBlocks,
    /// Shared chunks broken by a piece covering the whole chunk: new block, no copy.
    pub overwritten_whole: DataBlocks,
    /// Old blocks freed because breaking sharing dropped their last reference (the
    /// kernel thought them shared; see the module doc).
    pub released: DataBlocks,
    /// Pieces written in place (mapped, not shared).
    pub in_place: u64,
    /// Pieces that needed a block and found none: they fail with ENOSPC (or queue) and
    /// change nothing.
    pub no_space: u64,
}

impl WriteEffect {
    /// Blocks allocated: provisions plus both kinds of copy-on-write.
    pub fn allocated(&self) -> DataBlocks {
        self.provisioned + self.copied + self.overwritten_whole
    }

    /// Change of the pool's used data blocks, `allocated - released`: what to compare
    /// with the pool's used-count delta (never negative: each release pairs with an
    /// allocation).
    pub fn net_blocks(&self) -> i64 {
        self.allocated().0 as i64 - self.released.0 as i64
    }
}

impl AddAssign for WriteEffect {
    fn add_assign(&mut self, o: WriteEffect) {
        self.pieces += o.pieces;
        self.provisioned += o.provisioned;
        self.copied += o.copied;
        self.overwritten_whole += o.overwritten_whole;
        self.released += o.released;
        self.in_place += o.in_place;
        self.no_space += o.no_space;
    }
}

/// What a discard did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscardEffect {
    /// Chunks unmapped from the thin.
    pub unmapped: DataBlocks,
    /// Blocks freed in the pool (unmapped and referenced by no other thin).
    pub freed: DataBlocks,
}

/// Per-thin block counts, with `thin_ls`'s meanings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThinUsage {
    /// Chunks mapped.
    pub mapped: DataBlocks,
    /// Mapped blocks no other thin references.
    pub exclusive: DataBlocks,
    /// Mapped blocks some other thin references too (`mapped - exclusive`).
    pub shared: DataBlocks,
}

/// One thin as the kernel's metadata records it, for [`PoolModel::from_metadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinMetadata {
    /// Thin device id.
    pub id: ThinId,
    /// Its `snap_time` (the pool time of the last snapshot it took part in).
    pub snapshotted_time: u32,
    /// `(virtual chunk, data block, time)` for every mapped chunk.
    pub mappings: Vec<(u64, u64, u32)>,
}

/// A thin pool's data space and thins, as dm-thin allocates them.
#[derive(Debug, Clone)]
pub struct PoolModel {
    chunk: ChunkSize,
    total: DataBlocks,
    /// dm-thin's `pmd->time`: bumped by each snapshot.
    time: u32,
    thins: BTreeMap<ThinId, Thin>,
    /// References per data block in use (absent = free). The kernel's data space map.
    refs: HashMap<u64, u32>,
    /// Blocks freed and free again, reused before fresh ones (which block does not
    /// matter to any count; only that one is free).
    freed: Vec<u64>,
    /// Blocks `next_fresh..total` were never allocated.
    next_fresh: u64,
    /// The pool's `ignore_discard` feature: discards unmap nothing.
    ignore_discard: bool,
}

impl PoolModel {
    /// An empty pool of `total` data blocks of `chunk` bytes each.
    pub fn new(chunk: ChunkSize, total: DataBlocks) -> PoolModel {
        PoolModel {
            chunk,
            total,
            time: 0,
            thins: BTreeMap::new(),
            refs: HashMap::new(),
            freed: Vec::new(),
            next_fresh: 0,
            ignore_discard: false,
        }
    }

    /// The pool's `ignore_discard` feature (fixed for the pool's life: the kernel refuses
    /// a reload that changes it): on, discards unmap nothing.
    pub fn set_ignore_discard(&mut self, on: bool) {
        self.ignore_discard = on;
    }

    /// Chunk (data block) size.
    pub fn chunk(&self) -> ChunkSize {
        self.chunk
    }

    /// Data blocks in the pool.
    pub fn total(&self) -> DataBlocks {
        self.total
    }

    /// The data device grew (or the pool was reloaded larger): new blocks are free.
    pub fn grow(&mut self, total: DataBlocks) {
        self.total = self.total.max(total);
    }

    /// Data blocks in use (referenced by at least one thin): the pool status's used count.
    pub fn data_blocks_used(&self) -> DataBlocks {
        DataBlocks(self.refs.len() as u64)
    }

    /// Data blocks free.
    pub fn free(&self) -> DataBlocks {
        self.total.saturating_sub(self.data_blocks_used())
    }

    /// Ids of the thins, in order.
    pub fn thins(&self) -> impl Iterator<Item = ThinId> + '_ {
        self.thins.keys().copied()
    }

    /// `create_thin <id>`: a new, empty thin.
    pub fn create_thin(&mut self, id: ThinId) -> Result<(), ModelError> {
        if self.thins.contains_key(&id) {
            return Err(ModelError::ThinExists { id });
        }
        // A new device's snapshotted_time is the current time (`__open_device` with
        // create), so none of its own mappings will ever look shared until snapshotted.
        self.thins.insert(
            id,
            Thin {
                map: BTreeMap::new(),
                snapshotted_time: self.time,
            },
        );
        Ok(())
    }

    /// `create_snap <id> <origin>`: a new thin sharing every mapping of `origin`.
    pub fn create_snap(&mut self, id: ThinId, origin: ThinId) -> Result<(), ModelError> {
        if self.thins.contains_key(&id) {
            return Err(ModelError::ThinExists { id });
        }
        let o = self
            .thins
            .get_mut(&origin)
            .ok_or(ModelError::NoSuchThin { id: origin })?;
        // `__create_snap`: time++, then both devices' snapshotted_time = time, which
        // makes every existing mapping of both look shared.
        self.time += 1;
        o.snapshotted_time = self.time;
        let map = o.map.clone();
        for m in map.values() {
            *self
                .refs
                .get_mut(&m.block)
                .expect("mapped block has a reference") += 1;
        }
        self.thins.insert(
            id,
            Thin {
                map,
                snapshotted_time: self.time,
            },
        );
        Ok(())
    }

    /// `delete <id>`: drop the thin; blocks no other thin references are freed. Returns
    /// how many were freed.
    pub fn delete(&mut self, id: ThinId) -> Result<DataBlocks, ModelError> {
        let thin = self
            .thins
            .remove(&id)
            .ok_or(ModelError::NoSuchThin { id })?;
        let mut freed = 0;
        for m in thin.map.values() {
            freed += u64::from(self.unref(m.block));
        }
        Ok(DataBlocks(freed))
    }

    /// A write of `len` bytes at `offset` of thin `id`.
    pub fn write(
        &mut self,
        id: ThinId,
        offset: Bytes,
        len: Bytes,
    ) -> Result<WriteEffect, ModelError> {
        let cb = self.chunk.bytes().0;
        let time = self.time;
        let mut eff = WriteEffect::default();
        let end = offset.0.saturating_add(len.0);
        let mut pos = offset.0;
        // Split borrows: the thin's map and the pool's allocator are touched together.
        let PoolModel {
            thins,
            refs,
            freed,
            next_fresh,
            total,
            ..
        } = self;
        let thin = thins.get_mut(&id).ok_or(ModelError::NoSuchThin { id })?;
        let mut alloc = Allocator {
            refs,
            freed,
            next_fresh,
            total: *total,
        };
        while pos < end {
            let chunk = pos / cb;
            let piece_end = end.min((chunk + 1) * cb);
            let whole = pos == chunk * cb && piece_end == (chunk + 1) * cb;
            eff.pieces += 1;
            match thin.map.get(&chunk).copied() {
                None => match alloc.alloc() {
                    Some(block) => {
                        thin.map.insert(chunk, Mapping { block, time });
                        eff.provisioned.0 += 1;
                    }
                    None => eff.no_space += 1,
                },
                Some(old) if thin.snapshotted_time > old.time => match alloc.alloc() {
                    Some(block) => {
                        thin.map.insert(chunk, Mapping { block, time });
                        eff.released.0 += u64::from(alloc.unref(old.block));
                        if whole {
                            eff.overwritten_whole.0 += 1;
                        } else {
                            eff.copied.0 += 1;
                        }
                    }
                    None => eff.no_space += 1,
                },
                Some(_) => eff.in_place += 1,
            }
            pos = piece_end;
        }
        Ok(eff)
    }

    /// A discard of `len` bytes at `offset` of thin `id`: unmaps the chunks it covers
    /// entirely; partial chunks at either end are left alone.
    pub fn discard(
        &mut self,
        id: ThinId,
        offset: Bytes,
        len: Bytes,
    ) -> Result<DiscardEffect, ModelError> {
        let cb = self.chunk.bytes().0;
        let first = offset.0.div_ceil(cb);
        let end = offset.0.saturating_add(len.0) / cb;
        let thin = self
            .thins
            .get_mut(&id)
            .ok_or(ModelError::NoSuchThin { id })?;
        let mut eff = DiscardEffect::default();
        if first >= end || self.ignore_discard {
            return Ok(eff);
        }
        // Collect first: unmapping touches the thin and the space map together.
        let gone: Vec<(u64, u64)> = thin
            .map
            .range(first..end)
            .map(|(&c, m)| (c, m.block))
            .collect();
        for (c, _) in &gone {
            thin.map.remove(c);
        }
        for (_, block) in gone {
            eff.unmapped.0 += 1;
            eff.freed.0 += u64::from(self.unref(block));
        }
        Ok(eff)
    }

    /// Chunks mapped by thin `id` (thin_ls `MAPPED_BLOCKS`).
    pub fn mapped(&self, id: ThinId) -> Result<DataBlocks, ModelError> {
        Ok(self.usage(id)?.mapped)
    }

    /// Blocks of thin `id` no other thin references (thin_ls `EXCLUSIVE_BLOCKS`).
    pub fn exclusive(&self, id: ThinId) -> Result<DataBlocks, ModelError> {
        Ok(self.usage(id)?.exclusive)
    }

    /// Blocks of thin `id` another thin references too (thin_ls `SHARED_BLOCKS`).
    pub fn shared(&self, id: ThinId) -> Result<DataBlocks, ModelError> {
        Ok(self.usage(id)?.shared)
    }

    /// Mapped, exclusive and shared counts of thin `id` in one pass.
    pub fn usage(&self, id: ThinId) -> Result<ThinUsage, ModelError> {
        let thin = self.thins.get(&id).ok_or(ModelError::NoSuchThin { id })?;
        let mapped = thin.map.len() as u64;
        let exclusive = thin
            .map
            .values()
            .filter(|m| self.refs.get(&m.block) == Some(&1))
            .count() as u64;
        Ok(ThinUsage {
            mapped: DataBlocks(mapped),
            exclusive: DataBlocks(exclusive),
            shared: DataBlocks(mapped - exclusive),
        })
    }

    /// The chunks thin `id` maps, in order (to compare with the kernel's metadata).
    pub fn mapped_chunks(&self, id: ThinId) -> Result<Vec<u64>, ModelError> {
        let thin = self.thins.get(&id).ok_or(ModelError::NoSuchThin { id })?;
        Ok(thin.map.keys().copied().collect())
    }

    /// Thin `id`'s mappings, `(virtual chunk, data block)` in chunk order. The model's
    /// block numbers are its own: two thins share a block when they map the same one.
    pub fn mappings(&self, id: ThinId) -> Result<Vec<(u64, u64)>, ModelError> {
        let thin = self.thins.get(&id).ok_or(ModelError::NoSuchThin { id })?;
        Ok(thin.map.iter().map(|(c, m)| (*c, m.block)).collect())
    }

    /// The pool as the kernel's own metadata describes it (`thin_dump` of a metadata
    /// snapshot): its `time`, and per thin its `snap_time` and every mapping (virtual
    /// chunk, data block, insertion time). For IO the model cannot place (a filesystem's),
    /// this replaces the whole model: block numbers become the kernel's, so sharing is
    /// what it is in the kernel (the same data block in two thins), and the time rules of
    /// the module doc keep applying to later writes.
    pub fn from_metadata(
        chunk: ChunkSize,
        total: DataBlocks,
        time: u32,
        thins: &[ThinMetadata],
    ) -> Result<PoolModel, ModelError> {
        let mut p = PoolModel::new(chunk, total);
        p.time = time;
        for t in thins {
            if p.thins.contains_key(&t.id) {
                return Err(ModelError::ThinExists { id: t.id });
            }
            let mut map = BTreeMap::new();
            for &(chunk, block, time) in &t.mappings {
                if block >= total.0 {
                    return Err(ModelError::BlockBeyondPool {
                        id: t.id,
                        chunk,
                        block,
                    });
                }
                if map.insert(chunk, Mapping { block, time }).is_none() {
                    *p.refs.entry(block).or_insert(0) += 1;
                }
            }
            p.thins.insert(
                t.id,
                Thin {
                    map,
                    snapshotted_time: t.snapshotted_time,
                },
            );
        }
        // Free blocks: those below the highest one in use that nothing references, then
        // the never-used rest. Which free block is handed out next matters to no count.
        p.next_fresh = p.refs.keys().max().map_or(0, |m| m + 1);
        p.freed = (0..p.next_fresh)
            .rev()
            .filter(|b| !p.refs.contains_key(b))
            .collect();
        Ok(p)
    }

    fn unref(&mut self, block: u64) -> bool {
        Allocator {
            refs: &mut self.refs,
            freed: &mut self.freed,
            next_fresh: &mut self.next_fresh,
            total: self.total,
        }
        .unref(block)
    }
}

/// The data space map, borrowed apart from the thins.
struct Allocator<'a> {
    refs: &'a mut HashMap<u64, u32>,
    freed: &'a mut Vec<u64>,
    next_fresh: &'a mut u64,
    total: DataBlocks,
}

impl Allocator<'_> {
    /// A free block with one reference, or `None` when the pool is full.
    fn alloc(&mut self) -> Option<u64> {
        let block = match self.freed.pop() {
            Some(b) => b,
            None if *self.next_fresh < self.total.0 => {
                *self.next_fresh += 1;
                *self.next_fresh - 1
            }
            None => return None,
        };
        self.refs.insert(block, 1);
        Some(block)
    }

    /// Drop one reference; true if that freed the block.
    fn unref(&mut self, block: u64) -> bool {
        let r = self.refs.get_mut(&block).expect("unref of a free block");
        *r -= 1;
        if *r == 0 {
            self.refs.remove(&block);
            self.freed.push(block);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: u64 = 1024;
    const CHUNK: u64 = 64 * K;

    fn pool(blocks: u64) -> PoolModel {
        PoolModel::new(ChunkSize::new(Bytes(CHUNK)).unwrap(), DataBlocks(blocks))
    }
    fn id(n: u64) -> ThinId {
        ThinId::new(n).unwrap()
    }
    fn w(p: &mut PoolModel, t: u64, off: u64, len: u64) -> WriteEffect {
        p.write(id(t), Bytes(off), Bytes(len)).unwrap()
    }
    fn usage(p: &PoolModel, t: u64) -> (u64, u64, u64) {
        let u = p.usage(id(t)).unwrap();
        (u.mapped.0, u.exclusive.0, u.shared.0)
    }

    #[test]
    fn first_write_provisions_once_per_chunk() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        let e = w(&mut p, 1, 4 * K, 4 * K);
        assert_eq!((e.pieces, e.provisioned, e.in_place), (1, DataBlocks(1), 0));
        // Same chunk again: already provisioned, exclusive → in place.
        let e = w(&mut p, 1, 8 * K, 4 * K);
        assert_eq!((e.provisioned, e.in_place), (DataBlocks(0), 1));
        assert_eq!(p.data_blocks_used(), DataBlocks(1));
        assert_eq!(p.free(), DataBlocks(99));
    }

    #[test]
    fn writes_split_at_chunk_boundaries() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        // 8 KiB straddling the first boundary → two pieces, two provisions.
        let e = w(&mut p, 1, CHUNK - 4 * K, 8 * K);
        assert_eq!((e.pieces, e.provisioned), (2, DataBlocks(2)));
        // 3 whole chunks from offset 2*CHUNK → 3 pieces.
        let e = w(&mut p, 1, 2 * CHUNK, 3 * CHUNK);
        assert_eq!((e.pieces, e.provisioned), (3, DataBlocks(3)));
        assert_eq!(p.mapped(id(1)).unwrap(), DataBlocks(5));
        assert_eq!(w(&mut p, 1, 0, 0), WriteEffect::default());
    }

    #[test]
    fn snapshot_shares_every_mapping() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        assert_eq!(p.data_blocks_used(), DataBlocks(4));
        assert_eq!(usage(&p, 1), (4, 0, 4));
        assert_eq!(usage(&p, 2), (4, 0, 4));
    }

    #[test]
    fn partial_write_to_shared_chunk_copies() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        let e = w(&mut p, 1, 4 * K, 4 * K);
        assert_eq!(
            (e.copied, e.overwritten_whole, e.provisioned, e.released),
            (DataBlocks(1), DataBlocks(0), DataBlocks(0), DataBlocks(0))
        );
        assert_eq!(p.data_blocks_used(), DataBlocks(5));
        assert_eq!(usage(&p, 1), (4, 1, 3));
        assert_eq!(usage(&p, 2), (4, 1, 3));
        // The new block was mapped at the current time: writing it again is in place.
        let e = w(&mut p, 1, 8 * K, 4 * K);
        assert_eq!((e.in_place, e.allocated()), (1, DataBlocks(0)));
    }

    #[test]
    fn whole_chunk_write_to_shared_chunk_is_overwrite_not_copy() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        let e = w(&mut p, 1, CHUNK, CHUNK);
        assert_eq!(
            (e.copied, e.overwritten_whole),
            (DataBlocks(0), DataBlocks(1))
        );
        // Unaligned whole-chunk length is two partial pieces: two copies.
        let e = w(&mut p, 1, 2 * CHUNK + 4 * K, CHUNK);
        assert_eq!(
            (e.copied, e.overwritten_whole, e.pieces),
            (DataBlocks(2), DataBlocks(0), 2)
        );
        assert_eq!(p.data_blocks_used(), DataBlocks(7));
    }

    #[test]
    fn writing_the_snapshot_breaks_sharing_too() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        let e = w(&mut p, 2, 0, 4 * K);
        assert_eq!(e.copied, DataBlocks(1));
        assert_eq!(usage(&p, 1), (1, 1, 0));
        assert_eq!(usage(&p, 2), (1, 1, 0));
    }

    #[test]
    fn sharing_is_by_time_not_refcount() {
        // dm-thin's __snapshotted_since: after the origin broke sharing, the snapshot's
        // old block has one reference but still predates the snapshot → the snapshot's
        // first write copies again, allocating one block and freeing the old.
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        w(&mut p, 1, 0, 4 * K);
        assert_eq!(p.data_blocks_used(), DataBlocks(2));
        assert_eq!(usage(&p, 2), (1, 1, 0));
        let e = w(&mut p, 2, 0, 4 * K);
        assert_eq!(
            (e.copied, e.released, e.net_blocks()),
            (DataBlocks(1), DataBlocks(1), 0)
        );
        assert_eq!(p.data_blocks_used(), DataBlocks(2));
        // Same after deleting the snapshot: the origin's pre-snapshot chunks copy once.
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 2 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        assert_eq!(p.delete(id(2)).unwrap(), DataBlocks(0));
        assert_eq!(usage(&p, 1), (2, 2, 0));
        let e = w(&mut p, 1, 0, 4 * K);
        assert_eq!((e.copied, e.released), (DataBlocks(1), DataBlocks(1)));
        let e = w(&mut p, 1, 0, 4 * K);
        assert_eq!(e.in_place, 1);
        assert_eq!(p.data_blocks_used(), DataBlocks(2));
    }

    #[test]
    fn stale_sharing_needs_a_free_block() {
        // A full pool refuses even a "copy" that would free its old block.
        let mut p = pool(1);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        p.delete(id(2)).unwrap();
        let e = w(&mut p, 1, 0, 4 * K);
        assert_eq!((e.no_space, e.allocated()), (1, DataBlocks(0)));
        assert_eq!(p.data_blocks_used(), DataBlocks(1));
    }

    #[test]
    fn delete_of_snapshot_frees_only_its_exclusive_blocks() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        // The snapshot diverges in 2 chunks (2 new blocks, exclusive to it).
        w(&mut p, 2, 0, 4 * K);
        w(&mut p, 2, 5 * CHUNK, 4 * K); // unmapped in both: provision
        assert_eq!(p.data_blocks_used(), DataBlocks(6));
        assert_eq!(usage(&p, 2), (5, 2, 3));
        assert_eq!(p.delete(id(2)).unwrap(), DataBlocks(2));
        assert_eq!(p.data_blocks_used(), DataBlocks(4));
        assert_eq!(usage(&p, 1), (4, 4, 0));
        assert_eq!(p.delete(id(2)), Err(ModelError::NoSuchThin { id: id(2) }));
    }

    #[test]
    fn delete_of_origin_keeps_blocks_the_snapshot_uses() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 3 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        w(&mut p, 1, 0, 4 * K); // origin diverges in chunk 0
        assert_eq!(p.delete(id(1)).unwrap(), DataBlocks(1));
        assert_eq!(usage(&p, 2), (3, 3, 0));
        assert_eq!(p.data_blocks_used(), DataBlocks(3));
    }

    #[test]
    fn discard_unmaps_only_whole_chunks() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        // Inside one chunk: nothing.
        assert_eq!(
            p.discard(id(1), Bytes(4 * K), Bytes(8 * K)).unwrap(),
            DiscardEffect::default()
        );
        // From mid chunk 0 to mid chunk 2: only chunk 1 is covered.
        let e = p
            .discard(id(1), Bytes(CHUNK / 2), Bytes(2 * CHUNK))
            .unwrap();
        assert_eq!(
            e,
            DiscardEffect {
                unmapped: DataBlocks(1),
                freed: DataBlocks(1)
            }
        );
        assert_eq!(p.mapped(id(1)).unwrap(), DataBlocks(3));
        // Unmapped chunks: nothing to do.
        let e = p.discard(id(1), Bytes(CHUNK), Bytes(CHUNK)).unwrap();
        assert_eq!(e, DiscardEffect::default());
        // Rewriting a discarded chunk provisions again.
        assert_eq!(w(&mut p, 1, CHUNK, 4 * K).provisioned, DataBlocks(1));
    }

    #[test]
    fn an_ignore_discard_pool_unmaps_nothing() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 4 * CHUNK);
        p.set_ignore_discard(true);
        let e = p.discard(id(1), Bytes(0), Bytes(4 * CHUNK)).unwrap();
        assert_eq!(e, DiscardEffect::default());
        assert_eq!(usage(&p, 1), (4, 4, 0));
        // An unknown thin is still an error.
        assert!(p.discard(id(9), Bytes(0), Bytes(CHUNK)).is_err());
        p.set_ignore_discard(false);
        assert_eq!(
            p.discard(id(1), Bytes(0), Bytes(4 * CHUNK)).unwrap().freed,
            DataBlocks(4)
        );
    }

    #[test]
    fn discard_of_shared_chunk_unmaps_without_freeing() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 2 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        let e = p.discard(id(1), Bytes(0), Bytes(2 * CHUNK)).unwrap();
        assert_eq!(
            e,
            DiscardEffect {
                unmapped: DataBlocks(2),
                freed: DataBlocks(0)
            }
        );
        assert_eq!(p.data_blocks_used(), DataBlocks(2));
        assert_eq!(usage(&p, 2), (2, 2, 0));
        let e = p.discard(id(2), Bytes(0), Bytes(10 * CHUNK)).unwrap();
        assert_eq!(
            e,
            DiscardEffect {
                unmapped: DataBlocks(2),
                freed: DataBlocks(2)
            }
        );
        assert_eq!(p.data_blocks_used(), DataBlocks(0));
    }

    #[test]
    fn out_of_space_fails_the_piece_and_allocates_nothing() {
        let mut p = pool(3);
        p.create_thin(id(1)).unwrap();
        // 4 chunks into a 3-block pool: 3 provisioned, the 4th piece fails.
        let e = w(&mut p, 1, 0, 4 * CHUNK);
        assert_eq!((e.provisioned, e.no_space), (DataBlocks(3), 1));
        assert_eq!(p.free(), DataBlocks(0));
        // Writes to provisioned, exclusive chunks still succeed when full.
        assert_eq!(w(&mut p, 1, 0, 4 * K).in_place, 1);
        // A snapshot then makes every chunk shared: a CoW now fails too.
        p.create_snap(id(2), id(1)).unwrap();
        let e = w(&mut p, 1, 0, 4 * K);
        assert_eq!((e.no_space, e.copied), (1, DataBlocks(0)));
        assert_eq!(usage(&p, 1), (3, 0, 3));
        // Freeing space (delete the snapshot) lets the write through.
        p.delete(id(2)).unwrap();
        assert_eq!(p.free(), DataBlocks(0));
        let mut q = pool(4);
        q.create_thin(id(1)).unwrap();
        w(&mut q, 1, 0, 3 * CHUNK);
        q.discard(id(1), Bytes(0), Bytes(CHUNK)).unwrap();
        assert_eq!(
            w(&mut q, 1, 3 * CHUNK, 2 * CHUNK).provisioned,
            DataBlocks(2)
        );
        assert_eq!(q.free(), DataBlocks(0));
    }

    #[test]
    fn freed_blocks_are_reused() {
        let mut p = pool(2);
        p.create_thin(id(1)).unwrap();
        p.create_thin(id(2)).unwrap();
        w(&mut p, 1, 0, 2 * CHUNK);
        assert_eq!(p.delete(id(1)).unwrap(), DataBlocks(2));
        assert_eq!(w(&mut p, 2, 0, 2 * CHUNK).provisioned, DataBlocks(2));
        assert_eq!(p.data_blocks_used(), DataBlocks(2));
    }

    #[test]
    fn id_errors() {
        let mut p = pool(1);
        p.create_thin(id(1)).unwrap();
        assert_eq!(
            p.create_thin(id(1)),
            Err(ModelError::ThinExists { id: id(1) })
        );
        assert_eq!(
            p.create_snap(id(1), id(1)),
            Err(ModelError::ThinExists { id: id(1) })
        );
        assert_eq!(
            p.create_snap(id(2), id(9)),
            Err(ModelError::NoSuchThin { id: id(9) })
        );
        assert!(p.write(id(9), Bytes(0), Bytes(1)).is_err());
        assert!(p.discard(id(9), Bytes(0), Bytes(1)).is_err());
        assert!(p.usage(id(9)).is_err());
        assert_eq!(p.thins().collect::<Vec<_>>(), [id(1)]);
    }

    #[test]
    fn from_metadata_keeps_the_kernels_sharing_and_times() {
        // Origin 1 mapped chunks 0..3 at time 0, snapshot 2 taken at time 1, then the
        // origin rewrote chunk 0 (new block 7 at time 1): what thin_dump would show.
        let md = [
            ThinMetadata {
                id: id(1),
                snapshotted_time: 1,
                mappings: vec![(0, 7, 1), (1, 4, 0), (2, 5, 0)],
            },
            ThinMetadata {
                id: id(2),
                snapshotted_time: 1,
                mappings: vec![(0, 3, 0), (1, 4, 0), (2, 5, 0)],
            },
        ];
        let chunk = ChunkSize::new(Bytes(CHUNK)).unwrap();
        let mut p = PoolModel::from_metadata(chunk, DataBlocks(10), 1, &md).unwrap();
        assert_eq!(p.data_blocks_used(), DataBlocks(4));
        assert_eq!(usage(&p, 1), (3, 1, 2));
        assert_eq!(usage(&p, 2), (3, 1, 2));
        assert_eq!(p.mapped_chunks(id(1)).unwrap(), [0, 1, 2]);
        // Chunk 0 of the origin was mapped at time 1: written in place.
        assert_eq!(w(&mut p, 1, 0, 4 * K).in_place, 1);
        // Chunk 1 is shared: a copy, into a free block (there are 6).
        assert_eq!(w(&mut p, 1, CHUNK, 4 * K).copied, DataBlocks(1));
        assert_eq!(p.data_blocks_used(), DataBlocks(5));
        // Discarding the snapshot frees its exclusive blocks only (3 and, now, 4).
        let e = p.discard(id(2), Bytes(0), Bytes(3 * CHUNK)).unwrap();
        assert_eq!((e.unmapped, e.freed), (DataBlocks(3), DataBlocks(2)));
        // Every free block can be allocated again: 10 - 3 used.
        p.create_thin(id(3)).unwrap();
        assert_eq!(w(&mut p, 3, 0, 8 * CHUNK).provisioned, DataBlocks(7));
        assert_eq!(w(&mut p, 3, 8 * CHUNK, CHUNK).no_space, 1);
        // Blocks beyond the pool are refused.
        let bad = [ThinMetadata {
            id: id(1),
            snapshotted_time: 0,
            mappings: vec![(0, 10, 0)],
        }];
        assert!(matches!(
            PoolModel::from_metadata(chunk, DataBlocks(10), 0, &bad),
            Err(ModelError::BlockBeyondPool { block: 10, .. })
        ));
    }

    #[test]
    fn snapshot_of_snapshot() {
        let mut p = pool(100);
        p.create_thin(id(1)).unwrap();
        w(&mut p, 1, 0, 2 * CHUNK);
        p.create_snap(id(2), id(1)).unwrap();
        p.create_snap(id(3), id(2)).unwrap();
        assert_eq!(usage(&p, 3), (2, 0, 2));
        assert_eq!(p.delete(id(1)).unwrap(), DataBlocks(0));
        assert_eq!(p.delete(id(2)).unwrap(), DataBlocks(0));
        assert_eq!(usage(&p, 3), (2, 2, 0));
        assert_eq!(p.delete(id(3)).unwrap(), DataBlocks(2));
        assert_eq!(p.data_blocks_used(), DataBlocks(0));
    }
}

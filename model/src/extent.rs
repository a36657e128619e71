//! The compact allocation model: dm-thin's data-block accounting with extents instead of
//! a map entry per chunk, for fleets of 10^5 thins and 10^9 mapped chunks.
//!
//! It applies exactly the rules of the per-chunk reference model
//! (`thinbench_model::chunk::PoolModel`, which cites `dm-thin.c`), per extent piece
//! instead of per chunk; a property test runs both on random small fleets and requires the
//! same data blocks after every operation.
//!
//! * A thin maps chunk ranges to block ranges: a sorted `Vec` of [`Ext`]. A snapshot copies
//!   the origin's vector (a memcpy) and adds one reference to each of its block ranges.
//! * Reference counts are kept per block *range* ([`RefMap`]), split only where counts
//!   differ.
//! * Block numbers are not the kernel's: which free block dm-thin picks never changes a
//!   count, so a block is named `epoch << 40 | chunk`, where the epoch is renewed at a thin's
//!   first write after it was snapshotted. A thin's consecutive writes then land on consecutive block
//!   numbers and merge into one extent, whatever other thins allocate in between.
//! * The kernel decides "shared" by time (`thin.snapshotted_time > mapping.time`). Every
//!   mapping a thin inserts after its last snapshot behaves the same until the next one,
//!   so a new mapping is stamped with the thin's `snapshotted_time` rather than the pool's
//!   time: same decisions, and extents written at different pool times still merge.
//! * Capacity is unbounded: the planner asks how many blocks a fleet *needs*, and compares
//!   that with the pool to find when it fills. (Past full, the kernel fails the writes;
//!   the per-chunk model covers that.)

use std::collections::{BTreeMap, HashMap};

/// Chunks addressable in one thin (2^40 chunks of 64 KiB = 64 PiB, far past dm-thin's
/// 16 TiB thin limit).
pub const MAX_CHUNKS: u64 = 1 << 40;
const MAX_EPOCH: u64 = (1 << 24) - 1;

/// One run of a thin's mapping: chunks `chunk..chunk+len` → blocks `block..block+len`,
/// inserted at (thin-relative) time `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ext {
    chunk: u64,
    len: u64,
    block: u64,
    time: u32,
}

impl Ext {
    fn end(&self) -> u64 {
        self.chunk + self.len
    }
    /// The part of this extent within chunks `[a, b)` (which must overlap it).
    fn slice(&self, a: u64, b: u64) -> Ext {
        let s = a.max(self.chunk);
        let e = b.min(self.end());
        Ext {
            chunk: s,
            len: e - s,
            block: self.block + (s - self.chunk),
            time: self.time,
        }
    }
}

#[derive(Debug, Clone)]
struct Thin {
    exts: Vec<Ext>,
    snapshotted_time: u32,
    epoch: u64,
    /// `snapshotted_time` when `epoch` was taken: a write after a later snapshot takes a
    /// new epoch first (lazily, so an image layer snapshotted 10^5 times takes none).
    epoch_at: u32,
    mapped: u64,
    /// Chunks this thin allocated itself and still maps (provisioned or copied).
    own: u64,
    /// Runs of `own`: extents whose blocks carry one of this thin's epochs.
    own_runs: u64,
    epochs: Vec<u64>,
}

/// What a write did, in blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effect {
    /// Unmapped chunks given a block.
    pub provisioned: u64,
    /// Shared chunks given a new block (copy-on-write, copy or whole-chunk overwrite).
    pub broken: u64,
    /// Old blocks freed by breaking sharing (dm-thin's time rule; see the module doc).
    pub released: u64,
    /// Blocks freed by a discard or delete.
    pub freed: u64,
}

impl Effect {
    /// Blocks allocated.
    pub fn allocated(&self) -> u64 {
        self.provisioned + self.broken
    }
}

/// Reference counts per block range.
#[derive(Debug, Clone, Default)]
pub struct RefMap {
    /// start → (len, count); ranges never overlap; absent = free.
    map: BTreeMap<u64, (u64, u32)>,
}

impl RefMap {
    /// Split the range containing `pos` so that a range starts at `pos`.
    fn split(&mut self, pos: u64) {
        if let Some((&s, &(len, c))) = self.map.range(..pos).next_back() {
            if s + len > pos {
                self.map.insert(s, (pos - s, c));
                self.map.insert(pos, (s + len - pos, c));
            }
        }
    }

    /// New blocks `[start, start+len)` with one reference each (never in use before).
    fn insert(&mut self, start: u64, len: u64) {
        if let Some((&s, v)) = self.map.range_mut(..start).next_back() {
            if s + v.0 == start && v.1 == 1 {
                v.0 += len;
                return;
            }
        }
        self.map.insert(start, (len, 1));
    }

    /// One more reference to every block of `[start, start+len)` (all in use).
    fn inc(&mut self, start: u64, len: u64) {
        self.split(start);
        self.split(start + len);
        for (_, v) in self.map.range_mut(start..start + len) {
            v.1 += 1;
        }
    }

    /// One reference fewer to every block of `[start, start+len)`; returns how many
    /// blocks that freed.
    fn dec(&mut self, start: u64, len: u64) -> u64 {
        self.split(start);
        self.split(start + len);
        let mut freed = 0;
        let mut gone = Vec::new();
        for (&s, v) in self.map.range_mut(start..start + len) {
            v.1 -= 1;
            if v.1 == 0 {
                freed += v.0;
                gone.push(s);
            }
        }
        for s in gone {
            self.map.remove(&s);
        }
        freed
    }

    /// Blocks of `[start, start+len)` with exactly one reference.
    fn exclusive(&self, start: u64, len: u64) -> u64 {
        let end = start + len;
        let mut n = 0;
        let first = self
            .map
            .range(..=start)
            .next_back()
            .map(|(&s, _)| s)
            .unwrap_or(start);
        for (&s, &(l, c)) in self.map.range(first..end) {
            let a = s.max(start);
            let b = (s + l).min(end);
            if b > a && c == 1 {
                n += b - a;
            }
        }
        n
    }

    /// Number of ranges held (memory diagnostics).
    pub fn ranges(&self) -> usize {
        self.map.len()
    }
}

/// Why the model refused an operation (a planner bug or a plan past the model's limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtentError {
    /// No thin with this id.
    #[error("no thin {0}")]
    NoSuchThin(u32),
    /// A thin with this id exists.
    #[error("thin {0} exists")]
    ThinExists(u32),
    /// A chunk past [`MAX_CHUNKS`].
    #[error("chunk {0} is past the model's limit of 2^40 chunks per thin")]
    ChunkTooLarge(u64),
    /// More snapshots than the model numbers.
    #[error("more than 2^24 thin epochs (snapshots and creations)")]
    TooManyEpochs,
}

/// A dm-thin pool's data-block accounting, by extents. See the module doc.
#[derive(Debug, Clone, Default)]
pub struct ExtentPool {
    time: u32,
    next_epoch: u64,
    thins: HashMap<u32, Thin>,
    refs: RefMap,
    used: u64,
    owner: HashMap<u64, u32>,
}

impl ExtentPool {
    /// An empty pool.
    pub fn new() -> ExtentPool {
        ExtentPool::default()
    }

    /// Data blocks in use.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Live thins.
    pub fn thin_count(&self) -> usize {
        self.thins.len()
    }

    /// Extents held over all thins (memory diagnostics).
    pub fn extent_count(&self) -> usize {
        self.thins.values().map(|t| t.exts.len()).sum()
    }

    /// Reference-count ranges held (memory diagnostics).
    pub fn ref_ranges(&self) -> usize {
        self.refs.ranges()
    }

    fn epoch(&mut self, id: u32) -> Result<u64, ExtentError> {
        if self.next_epoch > MAX_EPOCH {
            return Err(ExtentError::TooManyEpochs);
        }
        self.next_epoch += 1;
        self.owner.insert(self.next_epoch, id);
        Ok(self.next_epoch)
    }

    /// `create_thin`: an empty thin.
    pub fn create_thin(&mut self, id: u32) -> Result<(), ExtentError> {
        if self.thins.contains_key(&id) {
            return Err(ExtentError::ThinExists(id));
        }
        let epoch = self.epoch(id)?;
        self.thins.insert(
            id,
            Thin {
                exts: Vec::new(),
                snapshotted_time: self.time,
                epoch,
                epoch_at: self.time,
                mapped: 0,
                own: 0,
                own_runs: 0,
                epochs: vec![epoch],
            },
        );
        Ok(())
    }

    /// `create_snap`: a new thin sharing every mapping of `origin`.
    pub fn create_snap(&mut self, id: u32, origin: u32) -> Result<(), ExtentError> {
        if self.thins.contains_key(&id) {
            return Err(ExtentError::ThinExists(id));
        }
        if !self.thins.contains_key(&origin) {
            return Err(ExtentError::NoSuchThin(origin));
        }
        let e_snap = self.epoch(id)?;
        self.time += 1;
        let time = self.time;
        let o = self.thins.get_mut(&origin).expect("checked above");
        o.snapshotted_time = time;
        let exts = o.exts.clone();
        let mapped = o.mapped;
        for e in &exts {
            self.refs.inc(e.block, e.len);
        }
        self.thins.insert(
            id,
            Thin {
                exts,
                snapshotted_time: time,
                epoch: e_snap,
                epoch_at: time,
                mapped,
                own: 0,
                own_runs: 0,
                epochs: vec![e_snap],
            },
        );
        Ok(())
    }

    /// `delete`: drop the thin; returns the blocks freed.
    pub fn delete(&mut self, id: u32) -> Result<u64, ExtentError> {
        let t = self.thins.remove(&id).ok_or(ExtentError::NoSuchThin(id))?;
        let mut freed = 0;
        for e in &t.exts {
            freed += self.refs.dec(e.block, e.len);
        }
        for ep in t.epochs {
            self.owner.remove(&ep);
        }
        self.used -= freed;
        Ok(freed)
    }

    /// One write operation covering the chunk ranges `ranges` (sorted, disjoint,
    /// `(start, len)`), as one workload step: each chunk touched changes state once (a
    /// chunk touched again in the same step is written in place).
    pub fn write(&mut self, id: u32, ranges: &[(u64, u64)]) -> Result<Effect, ExtentError> {
        if let Some(&(s, l)) = ranges.last() {
            if s + l > MAX_CHUNKS {
                return Err(ExtentError::ChunkTooLarge(s + l));
            }
        }
        let ExtentPool {
            thins,
            refs,
            used,
            owner,
            next_epoch,
            ..
        } = self;
        let t = thins.get_mut(&id).ok_or(ExtentError::NoSuchThin(id))?;
        let st = t.snapshotted_time;
        if st > t.epoch_at {
            if *next_epoch > MAX_EPOCH {
                return Err(ExtentError::TooManyEpochs);
            }
            *next_epoch += 1;
            t.epoch = *next_epoch;
            t.epoch_at = st;
            t.epochs.push(t.epoch);
            owner.insert(t.epoch, id);
        }
        let base = t.epoch << 40;
        let mut eff = Effect::default();
        let mut old = std::mem::take(&mut t.exts);
        let mut out: Vec<Ext> = Vec::with_capacity(old.len() + ranges.len());
        let mut i = 0; // next old extent not yet emitted (old[i] may have been trimmed)
        let fresh = |out: &mut Vec<Ext>, refs: &mut RefMap, a: u64, b: u64| {
            refs.insert(base + a, b - a);
            push(
                out,
                Ext {
                    chunk: a,
                    len: b - a,
                    block: base + a,
                    time: st,
                },
            );
        };
        for &(ra, rl) in ranges {
            let rb = ra + rl;
            // Old extents wholly before this range pass through.
            while i < old.len() && old[i].end() <= ra {
                push(&mut out, old[i]);
                i += 1;
            }
            let mut pos = ra;
            while pos < rb {
                match old.get(i).copied() {
                    Some(e) if e.chunk < rb => {
                        if e.chunk > pos {
                            // Gap before the extent: unmapped → provision.
                            fresh(&mut out, refs, pos, e.chunk);
                            eff.provisioned += e.chunk - pos;
                            pos = e.chunk;
                        }
                        // Part of e before the range passes through.
                        if e.chunk < pos {
                            push(&mut out, e.slice(e.chunk, pos));
                        }
                        let b = e.end().min(rb);
                        let piece = e.slice(pos, b);
                        if st > e.time {
                            // Shared by time: new block, old one loses a reference.
                            fresh(&mut out, refs, pos, b);
                            eff.broken += piece.len;
                            eff.released += refs.dec(piece.block, piece.len);
                        } else {
                            push(&mut out, piece);
                        }
                        pos = b;
                        if e.end() <= rb {
                            i += 1;
                        } else {
                            // The rest of e is looked at by the next range.
                            old[i] = e.slice(rb, e.end());
                        }
                    }
                    _ => {
                        fresh(&mut out, refs, pos, rb);
                        eff.provisioned += rb - pos;
                        pos = rb;
                    }
                }
            }
        }
        out.extend_from_slice(&old[i.min(old.len())..]);
        *used += eff.allocated();
        *used -= eff.released;
        t.exts = out;
        recount(t, owner, id);
        Ok(eff)
    }

    /// A discard of chunks `[start, start+len)`: unmaps them; returns blocks unmapped and
    /// freed (`Effect::freed`; `provisioned` holds the chunks unmapped).
    pub fn discard(&mut self, id: u32, start: u64, len: u64) -> Result<Effect, ExtentError> {
        let ExtentPool {
            thins,
            refs,
            used,
            owner,
            ..
        } = self;
        let t = thins.get_mut(&id).ok_or(ExtentError::NoSuchThin(id))?;
        let end = start + len;
        let mut eff = Effect::default();
        let old = std::mem::take(&mut t.exts);
        let mut out = Vec::with_capacity(old.len() + 1);
        for e in old {
            if e.end() <= start || e.chunk >= end {
                out.push(e);
                continue;
            }
            if e.chunk < start {
                out.push(e.slice(e.chunk, start));
            }
            let gone = e.slice(start, end);
            eff.provisioned += gone.len;
            eff.freed += refs.dec(gone.block, gone.len);
            if e.end() > end {
                out.push(e.slice(end, e.end()));
            }
        }
        *used -= eff.freed;
        t.exts = out;
        recount(t, owner, id);
        Ok(eff)
    }

    /// Chunks mapped by thin `id`.
    pub fn mapped(&self, id: u32) -> Result<u64, ExtentError> {
        Ok(self
            .thins
            .get(&id)
            .ok_or(ExtentError::NoSuchThin(id))?
            .mapped)
    }

    /// Blocks of thin `id` no other thin references.
    pub fn exclusive(&self, id: u32) -> Result<u64, ExtentError> {
        let t = self.thins.get(&id).ok_or(ExtentError::NoSuchThin(id))?;
        Ok(t.exts
            .iter()
            .map(|e| self.refs.exclusive(e.block, e.len))
            .sum())
    }

    /// Per-thin figures the metadata model needs, for every live thin.
    pub fn thin_stats(&self) -> impl Iterator<Item = ThinStats> + '_ {
        self.thins.values().map(|t| ThinStats {
            mapped: t.mapped,
            own: t.own,
            own_runs: t.own_runs,
            runs: t.exts.len() as u64,
        })
    }
}

/// A thin's mapping, summarised for the metadata model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThinStats {
    /// Chunks mapped.
    pub mapped: u64,
    /// Chunks mapped to blocks this thin allocated (the rest came from its origin).
    pub own: u64,
    /// Runs (extents) of `own`.
    pub own_runs: u64,
    /// Runs of the whole mapping.
    pub runs: u64,
}

fn recount(t: &mut Thin, owner: &HashMap<u64, u32>, id: u32) {
    let (mut mapped, mut own, mut runs) = (0, 0, 0);
    for e in &t.exts {
        mapped += e.len;
        if owner.get(&(e.block >> 40)) == Some(&id) {
            own += e.len;
            runs += 1;
        }
    }
    t.mapped = mapped;
    t.own = own;
    t.own_runs = runs;
}

fn push(out: &mut Vec<Ext>, e: Ext) {
    if e.len == 0 {
        return;
    }
    if let Some(l) = out.last_mut() {
        if l.end() == e.chunk && l.block + l.len == e.block && l.time == e.time {
            l.len += e.len;
            return;
        }
    }
    out.push(e);
}

/// Chunk numbers (any order, repeats allowed) as the sorted, disjoint `(start, len)`
/// ranges [`ExtentPool::write`] takes.
pub fn chunk_ranges_of(mut chunks: Vec<u64>) -> Vec<(u64, u64)> {
    chunks.sort_unstable();
    chunks.dedup();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for c in chunks {
        match out.last_mut() {
            Some((s, l)) if *s + *l == c => *l += 1,
            _ => out.push((c, 1)),
        }
    }
    out
}

//! The `small-write` workload: stamped, fixed-size writes at reproducible offsets of one
//! device, measured per IO, counting the distinct chunks it wrote; and
//! [`verify_writes`], which reads them back and checks every sector.
//!
//! The distinct-chunk count is the oracle for "data blocks the pool allocated" on a fresh
//! thin: each chunk first written costs exactly one block (see [`crate::model`]). Write
//! errors are results (a full pool answers ENOSPC), so they are counted, not returned.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use thinbench_schema::record::WorkloadStats;
use thinbench_schema::units::{Bytes, ChunkSize, SECTOR_SIZE};

use crate::drive::{Counted, DriveHandler, Plan};
use crate::engine::{AlignedBuf, Completion, Device, IoEngine, IoOp, SyncEngine};
use crate::error::{errno_text, WorkloadError};
use crate::latency::LatencyRecorder;
use crate::offsets::{Limit, OffsetPattern, Offsets, Region};
use crate::pattern::{self, Mismatch};

/// The workload's name in scenarios and results.
pub const WORKLOAD: &str = "small-write";

/// How often `progress` is called, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Completions between clock reads for progress: cheap at a million IOPS, and still
/// under 100 ms at 6 ms per IO.
const PROGRESS_CHECK_IOS: u64 = 16;

/// Settings of one `small-write` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallWriteParams {
    /// Bytes per IO; a non-zero multiple of 512.
    pub io_size: Bytes,
    /// Offset order.
    pub offsets: OffsetPattern,
    /// How much to write.
    pub limit: Limit,
    /// Start of the region written; a multiple of `io_size`.
    pub offset: Bytes,
    /// Length of the region written; must lie within the device.
    pub span: Bytes,
    /// Device id stamped into every sector (the thin's id, say).
    pub device_id: u64,
    /// Generation stamped into every sector: which pass wrote it.
    pub generation: u64,
    /// Seed of the sectors' fill (independent of the offset stream's seed).
    pub seed: u64,
    /// The pool's chunk size, for counting distinct chunks.
    pub chunk: ChunkSize,
    /// Stop at the first failed IO (default). Otherwise go on and count failures.
    pub stop_on_error: bool,
    /// Whether the device is meant to be opened with O_DIRECT; checked against it.
    pub direct: bool,
    /// `fdatasync` after the last write (its time is not part of the IO phase).
    pub fsync_at_end: bool,
    /// Keep the list of successful writes in the outcome (for [`verify_writes`]).
    pub record_writes: bool,
    /// Busy-wait this long inside each write's timed window, before the syscall: a
    /// slowdown of known cost for validating a performance gate (zero: none).
    pub busy_wait_per_io: Duration,
}

impl SmallWriteParams {
    /// Defaults over `[0, span)`: 4 KiB random writes (seed 1) totalling `span` bytes,
    /// device id 0, generation 1, fill seed 0, stop on error, O_DIRECT, fdatasync at
    /// the end, writes not recorded.
    pub fn new(chunk: ChunkSize, span: Bytes) -> SmallWriteParams {
        SmallWriteParams {
            io_size: Bytes(4 * Bytes::KIB),
            offsets: OffsetPattern::Random { seed: 1 },
            limit: Limit::Bytes(span),
            offset: Bytes(0),
            span,
            device_id: 0,
            generation: 1,
            seed: 0,
            chunk,
            stop_on_error: true,
            direct: true,
            fsync_at_end: true,
            record_writes: false,
            busy_wait_per_io: Duration::ZERO,
        }
    }
}

/// A progress report during a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// IOs completed (successful or not).
    pub ios: u64,
    /// Bytes written successfully.
    pub bytes: Bytes,
    /// Bytes the limit asks for.
    pub planned: Bytes,
    /// Failed IOs so far.
    pub errors: u64,
    /// Time since the IO phase began.
    pub elapsed: Duration,
}

/// What a `small-write` run did.
#[derive(Debug, Clone)]
pub struct SmallWriteOutcome {
    /// Figures for the result record.
    pub stats: WorkloadStats,
    /// Chunks written successfully at least once.
    pub chunks_touched: ChunkSet,
    /// Successful writes `(offset, len)` in completion order, if `record_writes`: 16
    /// bytes per IO (a 100 GiB fill in 4 KiB IOs: 400 MiB). Not coalesced, so the model
    /// replays exactly the bios the device saw (two half-chunk writes copy; one
    /// whole-chunk write does not).
    pub writes: Vec<(Bytes, Bytes)>,
    /// The run ended early because `stop` was set.
    pub interrupted: bool,
    /// Time `fdatasync` took, if it was asked for and succeeded (a failure is counted in
    /// `stats.errors`).
    pub sync_elapsed: Option<Duration>,
    /// Full latency histogram, to merge across steps or thins.
    pub latency: LatencyRecorder,
}

/// Run `small-write` on `dev`, which must have been opened as `p.direct` says.
///
/// `progress` is called at most every 100 ms; `stop` is checked before every IO, and a
/// run it ends reports `interrupted`. Returns an error only when the run cannot be
/// carried out (bad parameters, region beyond the device, the engine failing); IO
/// errors are counted in the outcome.
pub fn run(
    dev: &mut Device,
    p: &SmallWriteParams,
    progress: &mut dyn FnMut(Progress),
    stop: &AtomicBool,
) -> Result<SmallWriteOutcome, WorkloadError> {
    if p.direct != dev.is_direct() {
        return Err(WorkloadError::InvalidParam {
            param: "direct",
            reason: format!(
                "{} was opened with O_DIRECT {} but the workload asks for {}",
                dev.path().display(),
                dev.is_direct(),
                p.direct
            ),
        });
    }
    let region = Region::new(p.offset, p.span, p.io_size)?;
    let io_len = dev.io_len_within(region.end(), p.io_size)?;
    let dev: &Device = dev;
    let mut engine = SyncEngine::new(dev, io_len).with_busy_wait(p.busy_wait_per_io);
    let mut out = drive(&mut engine, dev.path(), p, region, progress, stop)?;
    if p.fsync_at_end {
        let start = Instant::now();
        match dev.fdatasync() {
            Ok(()) => out.sync_elapsed = Some(start.elapsed()),
            Err(e) => {
                // Buffered writes to a full pool fail here, not at write time.
                out.stats.errors += 1;
                out.stats
                    .first_error
                    .get_or_insert_with(|| format!("fdatasync: {}", errno_text(&e)));
            }
        }
    }
    Ok(out)
}

/// The IO phase, on any engine: keep every slot busy until the limit, an error (if
/// stopping on errors) or `stop`, then drain.
fn drive(
    engine: &mut dyn IoEngine,
    path: &Path,
    p: &SmallWriteParams,
    region: Region,
    progress: &mut dyn FnMut(Progress),
    stop: &AtomicBool,
) -> Result<SmallWriteOutcome, WorkloadError> {
    let planned = p.limit.ios(p.io_size);
    let io_len = region.io_size().0 as usize;
    let chunk_bytes = p.chunk.bytes().0;
    let mut offsets = Offsets::new(region, p.offsets);
    let mut writes = Vec::new();
    if p.record_writes {
        // Reserve up front so recording does not reallocate on the hot path (capped:
        // an unbounded limit must not reserve gigabytes).
        writes.reserve(planned.min(1 << 16) as usize);
    }
    let start = Instant::now();
    let mut tally = WriteTally {
        p,
        planned,
        chunk_bytes,
        chunks: ChunkSet::new(),
        last_chunk: None,
        writes,
        latency: LatencyRecorder::new(),
        ops: 0,
        bytes: 0,
        errors: 0,
        first_error: None,
        progress,
        start,
        next_progress: start + PROGRESS_EVERY,
        completed: 0,
    };
    let end = crate::drive::drive(
        engine,
        Plan {
            op: IoOp::Write,
            io_len,
            offsets: &mut offsets,
            count: planned,
            deadline: None,
            stop,
            path,
        },
        &mut tally,
    )?;
    let WriteTally {
        chunks,
        writes,
        latency,
        ops,
        bytes,
        errors,
        first_error,
        ..
    } = tally;
    let elapsed = start.elapsed();

    let stats = Counted {
        workload: WORKLOAD.to_owned(),
        bytes,
        ops,
        errors,
        first_error,
        latency: &latency,
        distinct_chunks_touched: chunks.len(),
    }
    .stats(elapsed);
    Ok(SmallWriteOutcome {
        stats,
        chunks_touched: chunks,
        writes,
        interrupted: end.interrupted,
        sync_elapsed: None,
        latency,
    })
}

/// A run's figures as its writes complete, and the progress reports.
struct WriteTally<'a> {
    p: &'a SmallWriteParams,
    planned: u64,
    chunk_bytes: u64,
    chunks: ChunkSet,
    /// Consecutive small IOs mostly land in the chunk just recorded: skip the set then.
    last_chunk: Option<u64>,
    writes: Vec<(Bytes, Bytes)>,
    latency: LatencyRecorder,
    ops: u64,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
    progress: &'a mut dyn FnMut(Progress),
    start: Instant,
    next_progress: Instant,
    /// Completions at the last batch, to read the clock every [`PROGRESS_CHECK_IOS`].
    completed: u64,
}

impl DriveHandler for WriteTally<'_> {
    fn fill(&mut self, buf: &mut [u8], offset: Bytes) {
        let p = self.p;
        pattern::stamp(buf, p.device_id, offset, p.generation, p.seed);
    }

    fn completed(&mut self, c: Completion) -> bool {
        match c.result {
            Ok(()) => {
                self.ops += 1;
                self.bytes += c.request.len as u64;
                self.latency.record(c.latency);
                let off = c.request.offset.0;
                let (first, last) = (
                    off / self.chunk_bytes,
                    (off + c.request.len as u64 - 1) / self.chunk_bytes,
                );
                if self.last_chunk != Some(first) || first != last {
                    for chunk in first..=last {
                        self.chunks.insert(chunk);
                    }
                    self.last_chunk = Some(last);
                }
                if self.p.record_writes {
                    self.writes
                        .push((c.request.offset, Bytes(c.request.len as u64)));
                }
                false
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| errno_text(&e));
                self.p.stop_on_error
            }
        }
    }

    fn batch_done(&mut self, completed: u64) {
        let before = std::mem::replace(&mut self.completed, completed);
        if completed / PROGRESS_CHECK_IOS != before / PROGRESS_CHECK_IOS {
            let now = Instant::now();
            if now >= self.next_progress {
                (self.progress)(Progress {
                    ios: completed,
                    bytes: Bytes(self.bytes),
                    planned: Bytes(self.planned.saturating_mul(self.p.io_size.0)),
                    errors: self.errors,
                    elapsed: now - self.start,
                });
                self.next_progress = now + PROGRESS_EVERY;
            }
        }
    }
}

/// A set of chunk indices, stored as runs of consecutive indices: a sequential fill of a
/// large device costs one entry, a random pattern one entry per isolated chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkSet {
    runs: RunSet,
}

impl ChunkSet {
    /// An empty set.
    pub fn new() -> ChunkSet {
        ChunkSet::default()
    }
    /// Add a chunk; true if it was not there yet.
    pub fn insert(&mut self, chunk: u64) -> bool {
        self.runs.insert(chunk)
    }
    /// Whether `chunk` is in the set.
    pub fn contains(&self, chunk: u64) -> bool {
        self.runs.contains(chunk)
    }
    /// Number of chunks.
    pub fn len(&self) -> u64 {
        self.runs.len
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.runs.len == 0
    }
    /// The chunks in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.runs.runs.iter().flat_map(|(&s, &e)| s..e)
    }
    /// The runs `[start, end)` of consecutive chunks, ascending.
    pub fn ranges(&self) -> impl Iterator<Item = std::ops::Range<u64>> + '_ {
        self.runs.runs.iter().map(|(&s, &e)| s..e)
    }
}

/// Disjoint, non-adjacent runs `start → end` (exclusive) of u64 indices, with a count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RunSet {
    runs: BTreeMap<u64, u64>,
    len: u64,
}

impl RunSet {
    fn contains(&self, x: u64) -> bool {
        self.runs
            .range(..=x)
            .next_back()
            .is_some_and(|(_, &e)| x < e)
    }

    fn insert(&mut self, x: u64) -> bool {
        // Indices are chunk or sector numbers of a device, far below u64::MAX, so `x + 1`
        // (the exclusive end) cannot overflow.
        let next = x + 1;
        let prev = self.runs.range(..=x).next_back().map(|(&s, &e)| (s, e));
        if let Some((_, e)) = prev {
            if x < e {
                return false;
            }
        }
        // Merge with a run starting right after x, and with one ending right at x.
        let end = self.runs.remove(&next).unwrap_or(next);
        match prev {
            Some((s, e)) if e == x => {
                self.runs.insert(s, end);
            }
            _ => {
                self.runs.insert(x, end);
            }
        }
        self.len += 1;
        true
    }
}

/// What [`verify_writes`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Distinct sectors read and checked.
    pub checked_sectors: u64,
    /// Sectors that did not hold the last write to them (all of them counted).
    pub mismatch_count: u64,
    /// The first [`VerifyReport::MAX_LISTED`] mismatches found, by offset.
    pub mismatches: Vec<(Bytes, Mismatch)>,
}

impl VerifyReport {
    /// Most mismatches listed (a wiped device would otherwise list millions).
    pub const MAX_LISTED: usize = 100;

    /// Whether every sector checked out.
    pub fn is_clean(&self) -> bool {
        self.mismatch_count == 0
    }
}

/// Largest read `verify_writes` issues.
const VERIFY_READ_MAX: usize = 1 << 20;

/// Read back every sector of `writes` (`(offset, len, generation)`, in the order they
/// were acknowledged) from `dev` and check it holds the *last* write to it, stamped for
/// `device_id`. Open `dev` with O_DIRECT: a buffered read may be served from the page
/// cache and miss what the device really holds.
///
/// A read error ends the check with an error (the device is then unreadable, which is a
/// finding in itself).
pub fn verify_writes(
    dev: &Device,
    writes: &[(Bytes, Bytes, u64)],
    device_id: u64,
) -> Result<VerifyReport, WorkloadError> {
    let sector = SECTOR_SIZE;
    let mut longest = 0u64;
    for &(off, len, _) in writes {
        if !off.0.is_multiple_of(sector) || !len.0.is_multiple_of(sector) || len.0 == 0 {
            return Err(WorkloadError::InvalidParam {
                param: "writes",
                reason: format!("write of {len} at {off} is not whole sectors"),
            });
        }
        longest = longest.max(len.0);
    }
    let mut buf = AlignedBuf::new((longest as usize).min(VERIFY_READ_MAX));
    let mut report = VerifyReport::default();
    // Newest first: the first time a sector is seen is its last write; older writes to
    // it are superseded and skipped.
    let mut seen = RunSet::default();
    for &(off, len, generation) in writes.iter().rev() {
        let mut pos = off.0;
        let end = off.0 + len.0;
        while pos < end {
            let piece = (end - pos).min(buf.len() as u64);
            let (first, count) = (pos / sector, piece / sector);
            if (first..first + count).all(|s| seen.contains(s)) {
                pos += piece;
                continue;
            }
            let data = &mut buf[..piece as usize];
            dev.read_at(data, Bytes(pos))
                .map_err(|source| WorkloadError::Read {
                    path: dev.path().to_owned(),
                    offset: Bytes(pos),
                    len: Bytes(piece),
                    source,
                })?;
            for (i, bytes) in data.chunks_exact(sector as usize).enumerate() {
                let s = first + i as u64;
                if !seen.insert(s) {
                    continue;
                }
                report.checked_sectors += 1;
                let at = Bytes(s * sector);
                let found = match pattern::verify(bytes, device_id, at) {
                    Ok(stamp) if stamp.generation == generation => continue,
                    Ok(stamp) => Mismatch::WrongGeneration {
                        expected: generation,
                        found: stamp.generation,
                    },
                    Err(m) => m,
                };
                report.mismatch_count += 1;
                if report.mismatches.len() < VerifyReport::MAX_LISTED {
                    report.mismatches.push((at, found));
                }
            }
            pos += piece;
        }
    }
    report.mismatches.sort_by_key(|&(at, _)| at);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_file::temp_device;
    use std::collections::BTreeSet;
    use std::io;

    use crate::engine::IoRequest;

    fn chunk64k() -> ChunkSize {
        ChunkSize::new(Bytes(64 * 1024)).unwrap()
    }

    #[test]
    fn run_set_matches_btreeset() {
        // Pseudo-random inserts in a small range exercise every merge case.
        let mut rs = RunSet::default();
        let mut bs = BTreeSet::new();
        let mut x = 12345u64;
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = (x >> 33) % 700;
            assert_eq!(rs.insert(v), bs.insert(v));
            assert_eq!(rs.len, bs.len() as u64);
        }
        for v in 0..710 {
            assert_eq!(rs.contains(v), bs.contains(&v), "{v}");
        }
        // Runs are disjoint and never adjacent (fully merged).
        let runs: Vec<_> = rs.runs.iter().map(|(&s, &e)| (s, e)).collect();
        for w in runs.windows(2) {
            assert!(w[0].1 < w[1].0, "{runs:?}");
        }
        let cs = ChunkSet { runs: rs };
        assert!(cs.iter().eq(bs.iter().copied()));
    }

    #[test]
    fn chunk_set_sequential_is_one_run() {
        let mut cs = ChunkSet::new();
        assert!(cs.is_empty());
        for c in (0..1000).rev() {
            assert!(cs.insert(c));
        }
        assert!(!cs.insert(500));
        assert_eq!(cs.len(), 1000);
        assert_eq!(
            cs.ranges().map(|r| (r.start, r.end)).collect::<Vec<_>>(),
            [(0, 1000)]
        );
        assert!(cs.contains(999) && !cs.contains(1000));
    }

    /// An engine that answers from memory, failing chosen IOs with a chosen errno, like
    /// thin-provisioning-tools' ramdisk engine.
    struct FakeEngine {
        buf: Vec<u8>,
        done: Option<Completion>,
        n: u64,
        fail: Box<dyn Fn(u64) -> Option<i32>>,
        submitted: Vec<Bytes>,
    }

    impl FakeEngine {
        fn new(fail: impl Fn(u64) -> Option<i32> + 'static) -> FakeEngine {
            FakeEngine {
                buf: vec![0; 1 << 16],
                done: None,
                n: 0,
                fail: Box::new(fail),
                submitted: Vec::new(),
            }
        }
    }

    impl IoEngine for FakeEngine {
        fn queue_depth(&self) -> usize {
            1
        }
        fn buf_mut(&mut self, _slot: usize) -> &mut [u8] {
            &mut self.buf
        }
        fn submit(&mut self, request: IoRequest) -> io::Result<()> {
            let result = match (self.fail)(self.n) {
                Some(errno) => Err(io::Error::from_raw_os_error(errno)),
                None => Ok(()),
            };
            self.n += 1;
            self.submitted.push(request.offset);
            self.done = Some(Completion {
                request,
                result,
                latency: Duration::from_micros(10),
            });
            Ok(())
        }
        fn complete(&mut self, done: &mut dyn FnMut(Completion)) -> io::Result<usize> {
            Ok(self.done.take().map(done).map_or(0, |()| 1))
        }
    }

    fn params(limit: u64) -> (SmallWriteParams, Region) {
        let mut p = SmallWriteParams::new(chunk64k(), Bytes(1 << 20));
        p.offsets = OffsetPattern::Sequential;
        p.limit = Limit::Count(limit);
        p.record_writes = true;
        let r = Region::new(p.offset, p.span, p.io_size).unwrap();
        (p, r)
    }

    /// The IO phase on a fake engine, without progress reports.
    fn drive_fake(
        e: &mut FakeEngine,
        p: &SmallWriteParams,
        r: Region,
        stopped: bool,
    ) -> SmallWriteOutcome {
        drive(
            e,
            Path::new("fake"),
            p,
            r,
            &mut |_| {},
            &AtomicBool::new(stopped),
        )
        .unwrap()
    }

    #[test]
    fn counts_ops_bytes_chunks() {
        let (p, r) = params(40);
        let mut e = FakeEngine::new(|_| None);
        let out = drive_fake(&mut e, &p, r, false);
        let s = &out.stats;
        assert_eq!((s.ops, s.errors, s.bytes), (40, 0, Bytes(40 * 4096)));
        assert_eq!(s.workload, "small-write");
        // 40 sequential 4 KiB writes = 160 KiB = chunks 0, 1, 2.
        assert_eq!(s.distinct_chunks_touched, 3);
        assert_eq!(out.chunks_touched.iter().collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(out.writes.len(), 40);
        assert_eq!(s.latency.count, 40);
        assert!(!out.interrupted);
    }

    #[test]
    fn stops_at_first_enospc_by_default() {
        let (p, r) = params(100);
        let mut e = FakeEngine::new(|n| (n >= 20).then_some(libc::ENOSPC));
        let out = drive_fake(&mut e, &p, r, false);
        assert_eq!((out.stats.ops, out.stats.errors), (20, 1));
        assert_eq!(
            out.stats.first_error.as_deref(),
            Some("ENOSPC: No space left on device")
        );
        assert_eq!(e.submitted.len(), 21);
        // Failed IOs do not count as touched chunks: 20 writes = 80 KiB = chunks 0, 1.
        assert_eq!(out.stats.distinct_chunks_touched, 2);
        assert_eq!(out.writes.len(), 20);
    }

    #[test]
    fn goes_on_after_errors_when_asked() {
        let (mut p, r) = params(100);
        p.stop_on_error = false;
        // Every IO in chunk 1 (IOs 16..32) fails with EIO.
        let mut e = FakeEngine::new(|n| (16..32).contains(&n).then_some(libc::EIO));
        let out = drive_fake(&mut e, &p, r, false);
        assert_eq!((out.stats.ops, out.stats.errors), (84, 16));
        assert_eq!(out.stats.first_error.as_deref(), Some("EIO: I/O error"));
        assert!(!out.chunks_touched.contains(1));
        assert_eq!(out.stats.distinct_chunks_touched, 6); // chunks 0, 2..=6
    }

    #[test]
    fn stop_flag_interrupts() {
        let (p, r) = params(100);
        let mut e = FakeEngine::new(|_| None);
        let out = drive_fake(&mut e, &p, r, true);
        assert!(out.interrupted);
        assert_eq!(out.stats.ops, 0);
        assert_eq!(out.stats.iops, 0.0);
    }

    #[test]
    fn stamps_each_io_for_its_offset() {
        let (mut p, r) = params(3);
        p.offsets = OffsetPattern::Random { seed: 9 };
        p.device_id = 7;
        p.generation = 4;
        let mut e = FakeEngine::new(|_| None);
        drive_fake(&mut e, &p, r, false);
        // The buffer holds the last IO's stamp, addressed to its offset.
        let last = *e.submitted.last().unwrap();
        for (i, s) in e.buf[..4096].chunks_exact(512).enumerate() {
            let st = pattern::verify(s, 7, Bytes(last.0 + i as u64 * 512)).unwrap();
            assert_eq!(st.generation, 4);
        }
    }

    #[test]
    fn run_checks_direct_and_region() {
        let (_dir, path) = temp_device(1 << 20);
        let mut dev = Device::open(&path, false).unwrap();
        let stop = AtomicBool::new(false);
        let mut p = SmallWriteParams::new(chunk64k(), Bytes(1 << 20));
        // Params say O_DIRECT, device is buffered: refused, not silently run.
        let e = run(&mut dev, &p, &mut |_| {}, &stop).unwrap_err();
        assert!(
            matches!(
                e,
                WorkloadError::InvalidParam {
                    param: "direct",
                    ..
                }
            ),
            "{e}"
        );
        p.direct = false;
        p.span = Bytes(2 << 20);
        let e = run(&mut dev, &p, &mut |_| {}, &stop).unwrap_err();
        assert!(matches!(e, WorkloadError::RegionBeyondDevice { .. }), "{e}");
        p.span = Bytes(1 << 20);
        p.io_size = Bytes(1000);
        let e = run(&mut dev, &p, &mut |_| {}, &stop).unwrap_err();
        assert!(
            matches!(
                e,
                WorkloadError::InvalidParam {
                    param: "io_size",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn verify_expects_the_last_generation() {
        let (_dir, path) = temp_device(1 << 20);
        let dev = Device::open(&path, false).unwrap();
        let mut b = AlignedBuf::new(4096);
        for gen in [1, 2] {
            pattern::stamp(&mut b, 5, Bytes(8192), gen, 0);
            dev.write_at(&b, Bytes(8192)).unwrap();
        }
        // Written at gen 1, then gen 2: the later entry wins.
        let w = [(Bytes(8192), Bytes(4096), 1), (Bytes(8192), Bytes(4096), 2)];
        let r = verify_writes(&dev, &w, 5).unwrap();
        assert!(r.is_clean(), "{r:?}");
        assert_eq!(r.checked_sectors, 8);
        // Claiming gen 3 was acknowledged last: every sector is stale.
        let w = [(Bytes(8192), Bytes(4096), 3)];
        let r = verify_writes(&dev, &w, 5).unwrap();
        assert_eq!(r.mismatch_count, 8);
        assert_eq!(
            r.mismatches[0],
            (
                Bytes(8192),
                Mismatch::WrongGeneration {
                    expected: 3,
                    found: 2
                }
            )
        );
        // Wrong device id.
        let r = verify_writes(&dev, &w, 6).unwrap();
        assert_eq!(r.mismatches[0].1, Mismatch::WrongDevice { found: 5 });
        // Unwritten area reads as zeros.
        let r = verify_writes(&dev, &[(Bytes(0), Bytes(1024), 1)], 5).unwrap();
        assert_eq!(
            r.mismatches,
            [(Bytes(0), Mismatch::Zeroed), (Bytes(512), Mismatch::Zeroed)]
        );
        assert!(verify_writes(&dev, &[(Bytes(100), Bytes(512), 1)], 5).is_err());
    }
}

//! The `io` workload: fio-shaped IO on one device — reads or writes, sequential or
//! random, one IO size, a queue depth, several jobs, for a time or a number of IOs — run
//! on io_uring (or the synchronous engine where io_uring is unavailable), measured per
//! IO into HDR histograms. It is the engine the peer benchmark stands next to fio.
//!
//! Each job is a thread with its own device handle, ring, buffers, offset stream and
//! histogram, over its own slice of the region (as fio's `offset_increment` would
//! place them): nothing is shared on the hot path; histograms and chunk sets merge at the
//! end. Everything is allocated before the jobs start (they meet at a barrier), so the
//! timed loop allocates nothing.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use thinbench_schema::record::WorkloadStats;
use thinbench_schema::units::{Bytes, ChunkSize};

use crate::drive::{drive, Counted, DriveHandler, Plan};
use crate::engine::{Completion, Device, IoEngine, IoOp, SyncEngine};
use crate::error::{errno_text, WorkloadError};
use crate::latency::LatencyRecorder;
use crate::offsets::{OffsetPattern, Offsets, Region};
use crate::pattern;
use crate::small_write::ChunkSet;
use crate::uring::{RingSetup, UringEngine};

/// The workload's name in results (with the engine that ran: `io/io_uring`).
pub const WORKLOAD: &str = "io";

/// Most jobs (threads) one run may start.
pub const MAX_JOBS: usize = 64;
/// Deepest queue per job.
pub const MAX_QUEUE_DEPTH: usize = 1024;

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineChoice {
    /// io_uring, else the synchronous engine (the outcome says which ran, and why).
    Auto,
    /// io_uring or an error.
    IoUring,
    /// The synchronous engine (queue depth 1).
    Sync,
}

/// The engine that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// io_uring at the asked queue depth.
    IoUring,
    /// One blocking syscall at a time.
    Sync,
}

impl EngineKind {
    /// As shown in results.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::IoUring => "io_uring",
            EngineKind::Sync => "sync",
        }
    }
}

/// How long a run lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoLimit {
    /// Each job issues IOs until this much time has passed (fio's `time_based`).
    Runtime(Duration),
    /// This many IOs in all, shared out among the jobs.
    Count(u64),
}

/// What writes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteData {
    /// Every sector stamped for the integrity oracle (device id, generation, seed), on
    /// the hot path: the cost the harness's own writes always pay.
    Stamped {
        /// Device id in the stamp.
        device_id: u64,
        /// Generation in the stamp.
        generation: u64,
        /// Fill seed.
        seed: u64,
    },
    /// Buffers filled once before the run and written as they are (fio's default,
    /// `refill_buffers=0`).
    Fixed,
}

/// Settings of one `io` run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoParams {
    /// Read or write.
    pub op: IoOp,
    /// Offset order within each job's slice (a random seed is varied per job).
    pub offsets: OffsetPattern,
    /// Bytes per IO; a non-zero multiple of 512.
    pub io_size: Bytes,
    /// IOs in flight per job (1 ..= [`MAX_QUEUE_DEPTH`]).
    pub queue_depth: usize,
    /// Jobs (1 ..= [`MAX_JOBS`]); job `j` works on slice `j` of `jobs` equal slices.
    pub jobs: usize,
    /// Start of the region.
    pub offset: Bytes,
    /// Length of the region.
    pub span: Bytes,
    /// How long.
    pub limit: IoLimit,
    /// Which engine.
    pub engine: EngineChoice,
    /// What writes carry (ignored for reads).
    pub data: WriteData,
    /// The pool's chunk size, for counting the chunks written.
    pub chunk: ChunkSize,
    /// O_DIRECT (the default; buffered IO measures the page cache).
    pub direct: bool,
}

/// What an `io` run did.
#[derive(Debug, Clone)]
pub struct IoOutcome {
    /// Figures for the result record; `workload` is `io/<engine>`.
    pub stats: WorkloadStats,
    /// The merged histogram of every job.
    pub latency: LatencyRecorder,
    /// The engine that ran.
    pub engine: EngineKind,
    /// Why io_uring did not run, when the engine is the fallback.
    pub fallback: Option<String>,
    /// How io_uring's ring was set up (`None` for the synchronous engine).
    pub ring_setup: Option<RingSetup>,
    /// Most IOs in flight at once in any job (io_uring: should equal the queue depth).
    pub max_in_flight: usize,
    /// Chunks written successfully (empty for reads).
    pub chunks_touched: ChunkSet,
    /// `stop` ended the run early.
    pub interrupted: bool,
}

struct JobOut {
    ops: u64,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
    latency: LatencyRecorder,
    chunks: Vec<u64>,
    max_in_flight: usize,
    engine: EngineKind,
    fallback: Option<String>,
    ring_setup: Option<RingSetup>,
    interrupted: bool,
}

/// Run `p` on the device at `path`. Errors mean the run could not be carried out (bad
/// parameters, the region beyond the device, an engine failure, io_uring asked for and
/// unavailable); failed IOs are counted in the outcome (the first one stops its job).
pub fn run(path: &Path, p: &IoParams, stop: &AtomicBool) -> Result<IoOutcome, WorkloadError> {
    let invalid = |param, reason: String| Err(WorkloadError::InvalidParam { param, reason });
    if !(1..=MAX_JOBS).contains(&p.jobs) {
        return invalid("jobs", format!("{} is not within 1..={MAX_JOBS}", p.jobs));
    }
    if !(1..=MAX_QUEUE_DEPTH).contains(&p.queue_depth) {
        return invalid(
            "queue_depth",
            format!("{} is not within 1..={MAX_QUEUE_DEPTH}", p.queue_depth),
        );
    }
    let whole = Region::new(p.offset, p.span, p.io_size)?;
    let slice_slots = whole.slots() / p.jobs as u64;
    if slice_slots == 0 {
        return invalid(
            "jobs",
            format!(
                "{} jobs need at least one {} IO each, the region has {}",
                p.jobs,
                p.io_size,
                whole.slots()
            ),
        );
    }
    let slices: Vec<Region> = (0..p.jobs as u64)
        .map(|j| {
            Region::new(
                Bytes(p.offset.0 + j * slice_slots * p.io_size.0),
                Bytes(slice_slots * p.io_size.0),
                p.io_size,
            )
        })
        .collect::<Result<_, _>>()?;
    let barrier = Barrier::new(p.jobs);
    let wall_start = std::sync::OnceLock::new();
    let results: Vec<Result<JobOut, WorkloadError>> = std::thread::scope(|s| {
        let handles: Vec<_> = slices
            .iter()
            .enumerate()
            .map(|(j, region)| {
                let (barrier, wall_start) = (&barrier, &wall_start);
                s.spawn(move || job(path, p, j, *region, barrier, wall_start, stop))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(WorkloadError::InvalidParam {
                        param: "jobs",
                        reason: "a job thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let wall = wall_start.get().map_or(Duration::ZERO, Instant::elapsed);
    let mut jobs = Vec::with_capacity(results.len());
    for r in results {
        jobs.push(r?);
    }
    let mut latency = LatencyRecorder::new();
    let mut chunks = ChunkSet::new();
    let (mut ops, mut bytes, mut errors) = (0, 0, 0);
    let mut first_error = None;
    for j in &jobs {
        ops += j.ops;
        bytes += j.bytes;
        errors += j.errors;
        if first_error.is_none() {
            first_error.clone_from(&j.first_error);
        }
        latency.merge(&j.latency);
        for &c in &j.chunks {
            chunks.insert(c);
        }
    }
    let first = &jobs[0];
    let stats = Counted {
        workload: format!("{WORKLOAD}/{}", first.engine.as_str()),
        bytes,
        ops,
        errors,
        first_error,
        latency: &latency,
        distinct_chunks_touched: chunks.len(),
    }
    .stats(wall);
    Ok(IoOutcome {
        stats,
        latency,
        engine: first.engine,
        fallback: first.fallback.clone(),
        ring_setup: first.ring_setup,
        max_in_flight: jobs.iter().map(|j| j.max_in_flight).max().unwrap_or(0),
        chunks_touched: chunks,
        interrupted: jobs.iter().any(|j| j.interrupted),
    })
}

/// One job: set up everything, meet the others at the barrier, run, return figures.
/// Every job reaches the barrier, even after a set-up error, or the others would wait
/// for ever.
fn job(
    path: &Path,
    p: &IoParams,
    j: usize,
    region: Region,
    barrier: &Barrier,
    wall_start: &std::sync::OnceLock<Instant>,
    stop: &AtomicBool,
) -> Result<JobOut, WorkloadError> {
    let setup = || -> Result<(Device, usize), WorkloadError> {
        let dev = Device::open(path, p.direct)?;
        let io_len = dev.io_len_within(region.end(), p.io_size)?;
        Ok((dev, io_len))
    };
    let set_up = setup();
    let (dev, io_len) = match set_up {
        Ok(x) => x,
        Err(e) => {
            barrier.wait();
            return Err(e);
        }
    };
    let offsets = Offsets::new(
        region,
        match p.offsets {
            OffsetPattern::Random { seed } => OffsetPattern::Random {
                seed: seed.wrapping_add(j as u64),
            },
            other => other,
        },
    );
    let count = match p.limit {
        IoLimit::Count(n) => {
            let share = n / p.jobs as u64;
            Some(share + u64::from((j as u64) < n % p.jobs as u64))
        }
        IoLimit::Runtime(_) => None,
    };
    let mut ctx = Loop {
        p,
        region,
        offsets,
        count,
        stop,
        chunk_bits: vec![0u64; chunk_words(region, p.chunk)],
    };
    let uring = match p.engine {
        EngineChoice::Sync => Err("sync engine asked for".to_owned()),
        EngineChoice::Auto | EngineChoice::IoUring => {
            UringEngine::new(&dev, p.queue_depth, io_len).map_err(|e| errno_text(&e))
        }
    };
    match uring {
        Ok(mut eng) => {
            prefill(&mut eng, p, io_len);
            barrier.wait();
            let start = *wall_start.get_or_init(Instant::now);
            let mut out = ctx.run(&mut eng, io_len, start, path)?;
            out.max_in_flight = eng.max_in_flight();
            out.engine = EngineKind::IoUring;
            out.ring_setup = Some(eng.setup());
            Ok(out)
        }
        Err(why) if p.engine == EngineChoice::IoUring => {
            barrier.wait();
            Err(WorkloadError::InvalidParam {
                param: "engine",
                reason: format!("io_uring is unavailable: {why}"),
            })
        }
        Err(why) => {
            let mut eng = SyncEngine::new(&dev, io_len);
            prefill(&mut eng, p, io_len);
            barrier.wait();
            let start = *wall_start.get_or_init(Instant::now);
            let mut out = ctx.run(&mut eng, io_len, start, path)?;
            out.max_in_flight = 1;
            out.engine = EngineKind::Sync;
            out.fallback = (p.engine == EngineChoice::Auto).then_some(why);
            Ok(out)
        }
    }
}

/// Fixed write data: every slot's buffer stamped once (non-zero, incompressible), as fio
/// fills its buffers once.
fn prefill(eng: &mut dyn IoEngine, p: &IoParams, io_len: usize) {
    if p.op == IoOp::Write && p.data == WriteData::Fixed {
        for slot in 0..eng.queue_depth() {
            pattern::stamp(
                &mut eng.buf_mut(slot)[..io_len],
                0,
                Bytes(0),
                0,
                slot as u64,
            );
        }
    }
}

fn chunk_words(region: Region, chunk: ChunkSize) -> usize {
    let c = chunk.bytes().0.max(1);
    let first = region.offset().0 / c;
    let last = region.end().0.div_ceil(c);
    (last - first).div_ceil(64) as usize
}

/// The timed loop of one job.
struct Loop<'a> {
    p: &'a IoParams,
    region: Region,
    offsets: Offsets,
    /// IOs this job issues, when the limit is a count.
    count: Option<u64>,
    stop: &'a AtomicBool,
    /// Chunks written, one bit per chunk (see [`JobTally`]).
    chunk_bits: Vec<u64>,
}

impl Loop<'_> {
    /// Keep every slot busy until the limit, the first error or `stop`, then drain.
    /// Generic over the engine so the hot loop is monomorphised (no virtual calls).
    fn run<E: IoEngine>(
        &mut self,
        eng: &mut E,
        io_len: usize,
        start: Instant,
        path: &Path,
    ) -> Result<JobOut, WorkloadError> {
        let p = self.p;
        let chunk = p.chunk.bytes().0.max(1);
        let first_chunk = self.region.offset().0 / chunk;
        let mut tally = JobTally {
            p,
            chunk,
            first_chunk,
            chunk_bits: &mut self.chunk_bits,
            latency: LatencyRecorder::new(),
            ops: 0,
            bytes: 0,
            errors: 0,
            first_error: None,
        };
        let end = drive(
            eng,
            Plan {
                op: p.op,
                io_len,
                offsets: &mut self.offsets,
                count: self.count.unwrap_or(u64::MAX),
                deadline: match p.limit {
                    IoLimit::Runtime(d) => Some(start + d),
                    IoLimit::Count(_) => None,
                },
                stop: self.stop,
                path,
            },
            &mut tally,
        )?;
        let chunks = tally
            .chunk_bits
            .iter()
            .enumerate()
            .flat_map(|(w, &bits)| {
                (0..64)
                    .filter(move |b| bits & (1 << b) != 0)
                    .map(move |b| first_chunk + (w * 64 + b) as u64)
            })
            .collect();
        Ok(JobOut {
            ops: tally.ops,
            bytes: tally.bytes,
            errors: tally.errors,
            first_error: tally.first_error,
            latency: tally.latency,
            chunks,
            max_in_flight: 0,
            engine: EngineKind::Sync,
            fallback: None,
            ring_setup: None,
            interrupted: end.interrupted,
        })
    }
}

/// One job's figures as its IOs complete; the first failed IO halts the job.
struct JobTally<'a> {
    p: &'a IoParams,
    chunk: u64,
    first_chunk: u64,
    /// Chunks written, one bit each from the region's first chunk: a bit set per IO is
    /// cheaper than a tree insert, and allocated up front.
    chunk_bits: &'a mut [u64],
    latency: LatencyRecorder,
    ops: u64,
    bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

impl DriveHandler for JobTally<'_> {
    fn fill(&mut self, buf: &mut [u8], offset: Bytes) {
        if let (
            IoOp::Write,
            WriteData::Stamped {
                device_id,
                generation,
                seed,
            },
        ) = (self.p.op, self.p.data)
        {
            pattern::stamp(buf, device_id, offset, generation, seed);
        }
    }

    fn completed(&mut self, c: Completion) -> bool {
        match c.result {
            Ok(()) => {
                self.ops += 1;
                self.bytes += c.request.len as u64;
                self.latency.record(c.latency);
                if self.p.op == IoOp::Write {
                    let off = c.request.offset.0;
                    let last = (off + c.request.len as u64 - 1) / self.chunk;
                    for ch in off / self.chunk..=last {
                        let i = (ch - self.first_chunk) as usize;
                        self.chunk_bits[i / 64] |= 1 << (i % 64);
                    }
                }
                false
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| errno_text(&e));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_file::temp_device;

    fn params(engine: EngineChoice) -> IoParams {
        IoParams {
            op: IoOp::Write,
            offsets: OffsetPattern::Random { seed: 3 },
            io_size: Bytes(4096),
            queue_depth: 8,
            jobs: 2,
            offset: Bytes(0),
            span: Bytes(1 << 20),
            limit: IoLimit::Count(400),
            engine,
            data: WriteData::Stamped {
                device_id: 5,
                generation: 2,
                seed: 9,
            },
            chunk: ChunkSize::new(Bytes(64 * 1024)).unwrap(),
            direct: false,
        }
    }

    #[test]
    fn io_uring_runs_at_depth_and_writes_stamped_sectors() {
        let (_d, path) = temp_device(1 << 20);
        let stop = AtomicBool::new(false);
        let out = run(&path, &params(EngineChoice::Auto), &stop).unwrap();
        if out.engine == EngineKind::Sync {
            eprintln!("skipped: io_uring unavailable here: {:?}", out.fallback);
            return;
        }
        assert_eq!(out.stats.ops, 400);
        assert_eq!(out.stats.errors, 0);
        assert_eq!(out.stats.latency.count, 400);
        assert_eq!(out.stats.workload, "io/io_uring");
        assert!(out.max_in_flight > 1 && out.max_in_flight <= 8, "{out:?}");
        // Random 4 KiB writes over 16 chunks: every chunk written, none outside.
        assert_eq!(
            out.chunks_touched.iter().collect::<Vec<_>>(),
            (0..16).collect::<Vec<_>>()
        );
        // What landed is stamped for where it landed.
        let data = std::fs::read(&path).unwrap();
        let mut stamped = 0;
        for (i, s) in data.chunks_exact(512).enumerate() {
            if s.iter().any(|&b| b != 0) {
                let st = pattern::verify(s, 5, Bytes(i as u64 * 512)).unwrap();
                assert_eq!(st.generation, 2);
                stamped += 1;
            }
        }
        assert!(stamped >= 8 * 100, "{stamped}");
    }

    #[test]
    fn sync_engine_is_the_depth_one_fallback() {
        let (_d, path) = temp_device(1 << 20);
        let stop = AtomicBool::new(false);
        let mut p = params(EngineChoice::Sync);
        p.op = IoOp::Read;
        p.limit = IoLimit::Count(10);
        let out = run(&path, &p, &stop).unwrap();
        assert_eq!(out.engine, EngineKind::Sync);
        assert_eq!(out.max_in_flight, 1);
        assert_eq!(out.stats.ops, 10);
        assert!(out.chunks_touched.is_empty());
        assert_eq!(out.fallback, None);
    }

    #[test]
    fn runtime_limit_ends_the_run() {
        let (_d, path) = temp_device(1 << 20);
        let stop = AtomicBool::new(false);
        let mut p = params(EngineChoice::Auto);
        p.limit = IoLimit::Runtime(Duration::from_millis(100));
        p.data = WriteData::Fixed;
        let t = Instant::now();
        let out = run(&path, &p, &stop).unwrap();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(out.stats.ops > 0);
        assert!(out.stats.elapsed_ns >= 100_000_000);
    }

    #[test]
    fn bad_parameters_are_errors_not_panics() {
        let (_d, path) = temp_device(1 << 20);
        let stop = AtomicBool::new(false);
        for (f, want) in [
            (
                Box::new(|p: &mut IoParams| p.jobs = 0) as Box<dyn Fn(&mut IoParams)>,
                "jobs",
            ),
            (
                Box::new(|p: &mut IoParams| p.queue_depth = 0),
                "queue_depth",
            ),
            (Box::new(|p: &mut IoParams| p.jobs = 300), "jobs"),
            (Box::new(|p: &mut IoParams| p.span = Bytes(4096)), "jobs"),
        ] {
            let mut p = params(EngineChoice::Auto);
            f(&mut p);
            match run(&path, &p, &stop) {
                Err(WorkloadError::InvalidParam { param, .. }) => assert_eq!(param, want),
                other => panic!("expected invalid {want}, got {other:?}"),
            }
        }
        let mut p = params(EngineChoice::Auto);
        p.span = Bytes(2 << 20);
        assert!(matches!(
            run(&path, &p, &stop),
            Err(WorkloadError::RegionBeyondDevice { .. })
        ));
    }
}

//! The one submit/complete loop every workload drives an [`IoEngine`] with: keep every
//! slot busy until the plan ends (a count, a deadline, `stop`, or the caller halting on
//! a completion), then drain what is in flight so every IO issued is accounted for.
//!
//! What a workload does with its IOs (stamping write buffers, recording latency, counting
//! errors, deciding to halt, reporting progress) lives in its [`DriveHandler`]; the loop
//! owns only slots, counts and the stop conditions.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use thinbench_schema::units::Bytes;

use crate::engine::{Completion, IoEngine, IoOp, IoRequest};
use crate::error::WorkloadError;
use crate::offsets::Offsets;

/// What to issue and when to stop issuing.
pub(crate) struct Plan<'a> {
    /// Read or write, for every IO.
    pub op: IoOp,
    /// Bytes per IO.
    pub io_len: usize,
    /// Where each IO goes, in issue order.
    pub offsets: &'a mut Offsets,
    /// Most IOs issued (`u64::MAX` for no count limit).
    pub count: u64,
    /// No IO is issued once a reaped batch finds this passed (one clock read per batch).
    pub deadline: Option<Instant>,
    /// Checked before every IO; setting it ends the run as interrupted.
    pub stop: &'a AtomicBool,
    /// The device's path, for errors.
    pub path: &'a Path,
}

/// A workload's part of the loop.
pub(crate) trait DriveHandler {
    /// Prepare the buffer of the IO about to be issued at `offset` (stamp a write).
    fn fill(&mut self, buf: &mut [u8], offset: Bytes);
    /// Take one finished IO; `true` halts issuing (in-flight IOs are still drained and
    /// handed over).
    fn completed(&mut self, c: Completion) -> bool;
    /// After each reaped batch, with the completions so far.
    fn batch_done(&mut self, _completed: u64) {}
}

/// How a drive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriveEnd {
    /// IOs issued (all completed: the loop drains).
    pub issued: u64,
    /// `stop` ended it.
    pub interrupted: bool,
}

/// Run `plan` on `eng`, handing every completion to `h`. Generic over the engine so the
/// hot loop is monomorphised (no virtual calls) where the caller knows the engine.
/// Errors are the engine failing to queue or reap, never an IO's own failure.
pub(crate) fn drive<E: IoEngine + ?Sized, H: DriveHandler>(
    eng: &mut E,
    plan: Plan<'_>,
    h: &mut H,
) -> Result<DriveEnd, WorkloadError> {
    let mut free: Vec<usize> = (0..eng.queue_depth()).rev().collect();
    let (mut in_flight, mut issued, mut completed) = (0usize, 0u64, 0u64);
    let (mut halted, mut interrupted, mut expired) = (false, false, false);
    loop {
        while !halted && !interrupted && !expired && issued < plan.count {
            let Some(slot) = free.pop() else { break };
            if plan.stop.load(Ordering::Relaxed) {
                interrupted = true;
                free.push(slot);
                break;
            }
            let offset = plan.offsets.next().expect("offset streams are endless");
            h.fill(&mut eng.buf_mut(slot)[..plan.io_len], offset);
            eng.submit(IoRequest {
                slot,
                op: plan.op,
                offset,
                len: plan.io_len,
            })
            .map_err(|source| WorkloadError::Submit {
                path: plan.path.to_owned(),
                offset,
                source,
            })?;
            in_flight += 1;
            issued += 1;
        }
        if in_flight == 0 {
            break;
        }
        let n = eng
            .complete(&mut |c: Completion| {
                free.push(c.request.slot);
                halted |= h.completed(c);
            })
            .map_err(|source| WorkloadError::Complete {
                path: plan.path.to_owned(),
                source,
            })?;
        in_flight -= n;
        completed += n as u64;
        h.batch_done(completed);
        if let Some(d) = plan.deadline {
            expired = expired || Instant::now() >= d;
        }
    }
    Ok(DriveEnd {
        issued,
        interrupted,
    })
}

#[cfg(test)]
#[path = "drive_tests.rs"]
mod tests;

/// What a workload counted, made into its figures over `elapsed` (one shape for `io`
/// and `small-write`).
pub(crate) struct Counted<'a> {
    pub workload: String,
    pub bytes: u64,
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency: &'a crate::latency::LatencyRecorder,
    pub distinct_chunks_touched: u64,
}

impl Counted<'_> {
    /// The figures, rates over `elapsed`.
    pub fn stats(self, elapsed: std::time::Duration) -> thinbench_schema::record::WorkloadStats {
        let secs = elapsed.as_secs_f64();
        let per_sec = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };
        thinbench_schema::record::WorkloadStats {
            workload: self.workload,
            bytes: Bytes(self.bytes),
            ops: self.ops,
            errors: self.errors,
            first_error: self.first_error,
            elapsed_ns: u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            iops: per_sec(self.ops as f64),
            mb_per_s: per_sec(self.bytes as f64) / 1e6,
            latency: self.latency.summary(),
            distinct_chunks_touched: self.distinct_chunks_touched,
        }
    }
}

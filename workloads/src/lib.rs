//! IO engines, workloads and integrity patterns.
//!
//! The pieces, bottom up:
//!
//! * [`engine`]: aligned buffers, a [`Device`] opened for (O_DIRECT) positional IO, and
//!   the [`IoEngine`] trait workloads drive ([`SyncEngine`], depth 1).
//! * [`uring`]: [`UringEngine`], the io_uring engine with a queue depth.
//! * `drive`: the one submit/complete loop both workloads drive an engine with.
//! * [`fio`]: fio job text (generated, or a user's, checked) and fio's JSON parsed.
//! * [`io`]: the `io` workload (fio-shaped: read/write, seq/random, queue depth, jobs).
//! * [`pattern`]: self-describing 512-byte sectors, so a read-back sector says whether it
//!   is the last write to that place ([`pattern::stamp`], [`pattern::verify`]).
//! * [`offsets`]: reproducible offset streams ([`OffsetPattern`], [`Region`], [`Limit`]).
//! * [`latency`]: an HDR histogram per workload ([`LatencyRecorder`]).
//! * [`small_write`]: the `small-write` workload and [`verify_writes`].
//!
//! Nothing here needs root: tests run on regular files. The harness points the same code
//! at dm-thin devices. Library code never prints; results are values
//! (`thinbench_schema::record::WorkloadStats`).
#![warn(missing_docs)]

mod drive;
pub mod engine;
pub mod error;
pub mod fio;
mod fio_job;
pub mod io;
pub mod latency;
pub mod offsets;
pub mod pattern;
pub mod small_write;
#[cfg(test)]
mod test_file;
pub mod uring;

pub use engine::{AlignedBuf, Completion, Device, IoEngine, IoOp, IoRequest, SyncEngine};
pub use error::WorkloadError;
pub use latency::LatencyRecorder;
pub use offsets::{Limit, OffsetPattern, Offsets, Region};
pub use pattern::{Corruption, Mismatch, Stamp};
pub use small_write::{
    verify_writes, ChunkSet, Progress, SmallWriteOutcome, SmallWriteParams, VerifyReport,
};
pub use uring::UringEngine;

//! The case's status sampler: one thread per case, from the pool's construction to its
//! teardown, reading the pool's status (noflush: sampling never forces a metadata
//! commit) every interval through a reader of its own — through every step, between
//! steps, while IO is held. A stretch the pool could not be read (down for a reboot or a
//! repair) is an event saying so, not a silent hole. What sampling costs its own thread
//! (CPU time, measured by the kernel) is readable for any stretch of the case.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thinbench_schema::record::{EventKind, PoolSample};

use crate::backend::StatusReader;
use crate::record::Recorder;

/// `step` when the case is between steps.
const BETWEEN: usize = usize::MAX;

/// What the runner and the sampler thread share.
struct Shared {
    stop: AtomicBool,
    paused: AtomicBool,
    step: AtomicUsize,
    samples: AtomicU64,
    cpu_ns: AtomicU64,
}

/// A case's running sampler; [`stop`](Sampler::stop) joins it.
pub struct Sampler {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    interval: Duration,
    rec: Recorder,
    pool: String,
}

/// What a sampler cost over a stretch: its own thread's CPU time, measured by the kernel
/// (`RUSAGE_THREAD`), against the wall time of the stretch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SamplerCost {
    /// Status reads done.
    pub samples: u64,
    /// CPU time (user + system) of the sampler thread.
    pub cpu: Duration,
    /// Wall time of the stretch.
    pub wall: Duration,
}

/// Where a stretch of [`Sampler::cost_since`] starts.
#[derive(Debug, Clone, Copy)]
pub struct CostMark {
    samples: u64,
    cpu_ns: u64,
    at: Instant,
}

/// Sampling paused while this lives (a benchmark's "sampling off" phase); the stretch is
/// a `sampling_gap` event saying so.
pub struct Paused<'a> {
    sampler: &'a Sampler,
    from_ms: u64,
    why: String,
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        let s = self.sampler;
        s.shared.paused.store(false, Ordering::Relaxed);
        s.rec.event(EventKind::SamplingGap {
            pool: s.pool.clone(),
            from_ms: self.from_ms,
            to_ms: s.rec.t_ms(),
            why: std::mem::take(&mut self.why),
        });
    }
}

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given; RUSAGE_THREAD is the caller only.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

impl Sampler {
    /// Start sampling, every `interval`, the pool `reader` reads (named `pool` in the
    /// records) into `rec`.
    pub fn start(
        rec: Recorder,
        mut reader: Box<dyn StatusReader>,
        pool: String,
        interval: Duration,
    ) -> Sampler {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            step: AtomicUsize::new(BETWEEN),
            samples: AtomicU64::new(0),
            cpu_ns: AtomicU64::new(0),
        });
        let s = shared.clone();
        let (rec_here, pool_here) = (rec.clone(), pool.clone());
        let handle = std::thread::spawn(move || {
            let cpu_at_start = thread_cpu();
            let started = Instant::now();
            // Since when, and why, the pool could not be read.
            let mut down: Option<(u64, String)> = None;
            let gap_over = |down: &mut Option<(u64, String)>| {
                if let Some((from_ms, why)) = down.take() {
                    rec.event(EventKind::SamplingGap {
                        pool: pool.clone(),
                        from_ms,
                        to_ms: rec.t_ms(),
                        why,
                    });
                }
            };
            // The slot of the next reading: slot k is due at `started + k × interval`.
            let mut slot = 0u32;
            loop {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                if !s.paused.load(Ordering::Relaxed) {
                    let read = reader.read();
                    match read {
                        Ok(u) => {
                            gap_over(&mut down);
                            let step = s.step.load(Ordering::Relaxed);
                            let step = (step != BETWEEN).then_some(step);
                            let at = rec.t_ms();
                            rec.sample(&PoolSample::from_usage(at, &pool, step, "periodic", &u));
                            s.samples.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            down.get_or_insert_with(|| (rec.t_ms(), e.to_string()));
                        }
                    }
                    let cpu = thread_cpu().saturating_sub(cpu_at_start);
                    s.cpu_ns.store(cpu.as_nanos() as u64, Ordering::Relaxed);
                }
                // A fixed rate, not a fixed pause: reads that take long do not stretch it.
                // A reading that ran past the next slot is followed at once by the slot it
                // ran into. Two slots or more with no reading (a read blocked on a
                // suspended device, or this thread not scheduled) are a gap, said as such,
                // and skipped, not caught up in a burst stamped as if periodic.
                let now = Instant::now();
                let current = (now - started).as_nanos() / interval.as_nanos().max(1);
                let current = u32::try_from(current).unwrap_or(u32::MAX - 2);
                // (While the pool cannot be read, its own gap covers the stretch.)
                if current >= slot + 3 && down.is_none() && !s.paused.load(Ordering::Relaxed) {
                    let due = started + interval * (slot + 1);
                    let to_ms = rec.t_ms();
                    let late = (now - due).as_millis() as u64;
                    rec.event(EventKind::SamplingGap {
                        pool: pool.clone(),
                        from_ms: to_ms.saturating_sub(late),
                        to_ms,
                        why: format!(
                            "no reading for {late} ms: the status read took that long (the pool's device suspended or being replaced), or the sampler was not scheduled"
                        ),
                    });
                }
                slot = (slot + 1).max(current);
                let next = started + interval * slot;
                if next > now {
                    std::thread::park_timeout(next - now);
                }
            }
            gap_over(&mut down);
        });
        Sampler {
            shared,
            handle: Some(handle),
            interval,
            rec: rec_here,
            pool: pool_here,
        }
    }

    /// The interval it samples at.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The step the case is in (`None`: between steps), for the samples that follow.
    pub fn set_step(&self, step: Option<usize>) {
        self.shared
            .step
            .store(step.unwrap_or(BETWEEN), Ordering::Relaxed);
    }

    /// Now, as the start of a stretch whose cost [`cost_since`](Self::cost_since) tells.
    pub fn mark(&self) -> CostMark {
        CostMark {
            samples: self.shared.samples.load(Ordering::Relaxed),
            cpu_ns: self.shared.cpu_ns.load(Ordering::Relaxed),
            at: Instant::now(),
        }
    }

    /// What sampling cost since `m`.
    pub fn cost_since(&self, m: &CostMark) -> SamplerCost {
        let ns = self.shared.cpu_ns.load(Ordering::Relaxed);
        SamplerCost {
            samples: self.shared.samples.load(Ordering::Relaxed) - m.samples,
            cpu: Duration::from_nanos(ns.saturating_sub(m.cpu_ns)),
            wall: m.at.elapsed(),
        }
    }

    /// No sampling while the guard lives, for the reason `why`.
    pub fn pause(&self, why: &str) -> Paused<'_> {
        self.shared.paused.store(true, Ordering::Relaxed);
        Paused {
            sampler: self,
            from_ms: self.rec.t_ms(),
            why: format!("paused: {why}"),
        }
    }

    /// Stop and join.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.halt();
    }
}

#[cfg(test)]
#[path = "sampler_tests.rs"]
mod tests;

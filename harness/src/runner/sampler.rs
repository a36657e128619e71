//! Periodic pool status sampling on its own thread (its own status reader) while a workload
//! runs.
//! Reads are noflush, so sampling never forces a metadata commit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thinbench_schema::record::PoolSample;

use crate::backend::StatusReader;
use crate::record::Recorder;

/// Interval between samples.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// A running sampler; `stop` joins it.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<SamplerCost>>,
    started: Instant,
}

/// What a sampler cost while it ran: its own thread's CPU time, measured by the kernel
/// (`RUSAGE_THREAD`), against the wall time it ran for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SamplerCost {
    /// Status reads done.
    pub samples: u64,
    /// CPU time (user + system) of the sampler thread.
    pub cpu: Duration,
    /// Wall time from start to stop.
    pub wall: Duration,
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
    /// Start sampling the pool `reader` reads into `rec`.
    pub fn start(
        rec: Recorder,
        mut reader: Box<dyn StatusReader>,
        pool: String,
        step: usize,
    ) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            let cpu_at_start = thread_cpu();
            let mut samples = 0;
            while !s.load(Ordering::Relaxed) {
                samples += 1;
                if let Ok(u) = reader.read() {
                    rec.sample(&PoolSample::from_usage(
                        rec.t_ms(),
                        &pool,
                        Some(step),
                        "periodic",
                        &u,
                    ));
                }
                std::thread::sleep(INTERVAL);
            }
            SamplerCost {
                samples,
                cpu: thread_cpu().saturating_sub(cpu_at_start),
                wall: Duration::ZERO,
            }
        });
        Sampler {
            stop,
            handle: Some(handle),
            started: Instant::now(),
        }
    }

    /// Stop, join, and say what sampling cost.
    pub fn stop(mut self) -> SamplerCost {
        self.stop.store(true, Ordering::Relaxed);
        let wall = self.started.elapsed();
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .map(|c| SamplerCost { wall, ..c })
            .unwrap_or_default()
    }
}

//! Periodic pool status sampling on its own thread (own dm handle) while a workload runs.
//! Reads are noflush, so sampling never forces a metadata commit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use thinbench_schema::record::PoolSample;

use crate::backend::{dm::Dm, read_pool_status};
use crate::record::Recorder;

/// Interval between samples.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// A running sampler; `stop` joins it.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Start sampling `dm_name` into `rec`.
    pub fn start(rec: Recorder, dm_name: String, pool: String, step: usize) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            let Ok(dm) = Dm::open() else { return };
            while !s.load(Ordering::Relaxed) {
                if let Ok(u) = read_pool_status(&dm, &dm_name) {
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
        });
        Sampler {
            stop,
            handle: Some(handle),
        }
    }

    /// Stop and join.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

//! Time behind a trait, so the runner's time-based logic (fault schedules, triggers, step
//! timeouts) can be tested deterministically with a fake clock instead of real sleeps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A source of monotonic time that can also sleep.
pub trait Clock: Send + Sync {
    /// Time elapsed since this clock's origin.
    fn elapsed(&self) -> Duration;
    /// Waits `d` (really, or by advancing a fake clock).
    fn sleep(&self, d: Duration);
}

/// The real clock: `Instant` and `thread::sleep`.
#[derive(Debug)]
pub struct RealClock {
    origin: Instant,
}

impl Default for RealClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for RealClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A fake clock: time moves only when a test advances it or something sleeps on it.
#[derive(Debug, Default)]
pub struct FakeClock {
    now: Mutex<Duration>,
}

impl FakeClock {
    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += d;
    }
}

impl Clock for FakeClock {
    fn elapsed(&self) -> Duration {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

/// One clock shared by the parts of a case (its fault schedule, its flush records), so
/// the times they take compare. A fresh real clock by default, so state that holds one
/// can still derive `Default`.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn Clock>);

impl Default for SharedClock {
    fn default() -> Self {
        SharedClock(Arc::new(RealClock::default()))
    }
}

impl SharedClock {
    /// Time elapsed since the clock's origin.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_advanced_or_slept_on() {
        let c = FakeClock::default();
        assert_eq!(c.elapsed(), Duration::ZERO);
        c.sleep(Duration::from_secs(3));
        c.advance(Duration::from_millis(500));
        assert_eq!(c.elapsed(), Duration::from_millis(3500));
    }

    #[test]
    fn shared_clock_clones_read_one_clock() {
        let fake = Arc::new(FakeClock::default());
        let a = SharedClock(fake.clone());
        let b = a.clone();
        fake.advance(Duration::from_millis(7));
        assert_eq!(a.elapsed(), Duration::from_millis(7));
        assert_eq!(b.elapsed(), a.elapsed());
    }

    #[test]
    fn real_clock_sleep_passes_real_time() {
        let c = RealClock::default();
        c.sleep(Duration::from_millis(5));
        assert!(c.elapsed() >= Duration::from_millis(5));
    }
}

//! Time behind a trait, so the runner's time-based logic (fault schedules, triggers, step
//! timeouts) can be tested deterministically with a fake clock instead of real sleeps.

use std::sync::Mutex;
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
    fn real_clock_sleep_passes_real_time() {
        let c = RealClock::default();
        c.sleep(Duration::from_millis(5));
        assert!(c.elapsed() >= Duration::from_millis(5));
    }
}

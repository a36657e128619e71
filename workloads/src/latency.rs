//! Per-IO latency recording: an HDR histogram in nanoseconds, summarised into the result
//! contract's [`LatencySummary`].
//!
//! HDR histograms record in O(1) without allocating, keep 3 significant figures over the
//! whole range (so p99.9 of a microsecond-scale run is as exact as the max of a run that
//! hit the 60 s `no_space_timeout`), and merge losslessly across threads or steps.

use std::time::Duration;

use hdrhistogram::Histogram;
use thinbench_schema::record::LatencySummary;

/// Largest latency kept exactly: one hour. Longer ones are recorded as one hour (a stuck
/// IO that long is reported by the run's timeout anyway).
const MAX_NS: u64 = 3_600 * 1_000_000_000;
/// Significant figures: 0.1% resolution at every magnitude.
const SIGFIG: u8 = 3;

/// Records IO latencies, 1 ns .. 1 h, at 3 significant figures (about 270 KiB).
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    hist: Histogram<u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// An empty recorder.
    pub fn new() -> LatencyRecorder {
        // Fixed bounds rather than auto-resize: recording never allocates, and two
        // recorders always have the same shape, so `merge` cannot fail.
        let hist = Histogram::new_with_bounds(1, MAX_NS, SIGFIG)
            .expect("1ns..1h at 3 significant figures is a valid histogram");
        LatencyRecorder { hist }
    }

    /// Record one IO's latency; beyond one hour it is recorded as one hour.
    pub fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.hist.saturating_record(ns);
    }

    /// Add everything `other` recorded.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        if self.hist.add(&other.hist).is_err() {
            // Unreachable with equal bounds; should the bounds ever differ, clamp rather
            // than lose the samples.
            for v in other.hist.iter_recorded() {
                self.hist
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
    }

    /// Number of latencies recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Count, mean, percentiles, min and max in nanoseconds (each within 0.1%); all zero
    /// when nothing was recorded.
    pub fn summary(&self) -> LatencySummary {
        if self.hist.is_empty() {
            return LatencySummary::default();
        }
        let h = &self.hist;
        LatencySummary {
            count: h.len(),
            mean_ns: h.mean(),
            p50_ns: h.value_at_quantile(0.50),
            p90_ns: h.value_at_quantile(0.90),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
            min_ns: h.min(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(got: u64, want: u64) -> bool {
        got.abs_diff(want) as f64 <= want as f64 * 0.001 + 1.0
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(LatencyRecorder::new().summary(), LatencySummary::default());
    }

    #[test]
    fn percentiles_of_a_uniform_run() {
        let mut r = LatencyRecorder::new();
        for us in 1..=1000u64 {
            r.record(Duration::from_micros(us));
        }
        let s = r.summary();
        assert_eq!(s.count, 1000);
        assert!(within(s.min_ns, 1_000), "{s:?}");
        assert!(within(s.max_ns, 1_000_000), "{s:?}");
        assert!(within(s.p50_ns, 500_000), "{s:?}");
        assert!(within(s.p90_ns, 900_000), "{s:?}");
        assert!(within(s.p99_ns, 990_000), "{s:?}");
        assert!(within(s.p999_ns, 999_000), "{s:?}");
        assert!((s.mean_ns - 500_500.0).abs() < 500_500.0 * 0.001, "{s:?}");
    }

    #[test]
    fn huge_values_saturate_instead_of_failing() {
        let mut r = LatencyRecorder::new();
        r.record(Duration::from_secs(10 * 3600));
        r.record(Duration::ZERO);
        let s = r.summary();
        assert_eq!(s.count, 2);
        assert!(within(s.max_ns, MAX_NS), "{s:?}");
        assert_eq!(s.min_ns, 0);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = LatencyRecorder::new();
        let mut b = LatencyRecorder::new();
        a.record(Duration::from_micros(10));
        b.record(Duration::from_micros(20));
        b.record(Duration::from_millis(5));
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 3);
        assert!(within(s.min_ns, 10_000));
        assert!(within(s.max_ns, 5_000_000));
    }
}

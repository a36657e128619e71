//! Small statistics over the figures a run records: the percentile curve of a
//! [`LatencySummary`], medians over repeated measurements, relative change.

use thinbench_schema::record::LatencySummary;

/// A latency in nanoseconds (the schema's unit for latencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Nanos(pub u64);

impl Nanos {
    /// The same latency in microseconds.
    pub fn micros(self) -> f64 {
        self.0 as f64 / 1_000.0
    }
}

/// The points of a latency distribution a run records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Percentile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Largest.
    Max,
}

impl Percentile {
    /// All, in increasing order: the x axis of a percentile curve.
    pub const ALL: [Percentile; 5] = [
        Percentile::P50,
        Percentile::P90,
        Percentile::P99,
        Percentile::P999,
        Percentile::Max,
    ];

    /// Short label (`p99.9`).
    pub fn label(self) -> &'static str {
        match self {
            Percentile::P50 => "p50",
            Percentile::P90 => "p90",
            Percentile::P99 => "p99",
            Percentile::P999 => "p99.9",
            Percentile::Max => "max",
        }
    }

    /// This percentile of `l`.
    pub fn of(self, l: &LatencySummary) -> Nanos {
        Nanos(match self {
            Percentile::P50 => l.p50_ns,
            Percentile::P90 => l.p90_ns,
            Percentile::P99 => l.p99_ns,
            Percentile::P999 => l.p999_ns,
            Percentile::Max => l.max_ns,
        })
    }
}

/// The percentile curve of a latency summary; empty when no IO was measured (a summary
/// of zero IOs has zeros everywhere, which is no latency at all).
pub fn latency_curve(l: &LatencySummary) -> Vec<(Percentile, Nanos)> {
    if l.count == 0 {
        return Vec::new();
    }
    Percentile::ALL.iter().map(|p| (*p, p.of(l))).collect()
}

// The statistics both results readers use live in the results contract.
pub use thinbench_schema::stats::{median, pct_change, ratio};

#[cfg(test)]
mod tests {
    use super::*;

    fn lat(count: u64) -> LatencySummary {
        LatencySummary {
            count,
            mean_ns: 2_000.0,
            p50_ns: 1_000,
            p90_ns: 2_000,
            p99_ns: 5_000,
            p999_ns: 9_000,
            max_ns: 12_000,
            min_ns: 500,
        }
    }

    #[test]
    fn curve_is_monotonic_in_order_and_empty_without_ios() {
        let c = latency_curve(&lat(10));
        let labels: Vec<_> = c.iter().map(|(p, _)| p.label()).collect();
        assert_eq!(labels, ["p50", "p90", "p99", "p99.9", "max"]);
        assert_eq!(c[2].1, Nanos(5_000));
        assert!((c[4].1.micros() - 12.0).abs() < 1e-9);
        assert!(latency_curve(&lat(0)).is_empty());
    }
}

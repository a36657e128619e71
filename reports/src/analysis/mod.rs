//! Numbers derived from runs, before any rendering: latency percentiles, medians,
//! changes, pairing of pools by kind, and run-vs-run comparison.

pub mod compare;
pub mod kernels;
pub mod pairing;
pub mod stats;

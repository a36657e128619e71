//! thinbench harness: scenario files → validated plan → environment (host kernel, or a
//! qemu VM booting its own kernel) → thin pool backends → workloads → results.
//!
//! The command (`thinbench/`, its own crate) is a thin CLI over this library. Library code never prints
//! to stdout; it reports through the run's event stream and returns errors.

pub mod backend;
pub mod cleanup;
pub mod env;
pub mod errors;
pub mod record;
pub mod runner;
pub mod scenario;
pub mod spec;
pub mod sys;

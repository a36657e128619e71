//! The dm-thin allocation models, below everything that runs or plans a pool.
//!
//! * [`chunk`]: the per-chunk reference model ([`PoolModel`]), following `dm-thin.c`
//!   rule by rule: the oracle every run's accounting is checked against.
//! * [`extent`]: the same rules on extents and reference-counted block ranges
//!   ([`ExtentPool`]), for the capacity planner's fleets of 10^5 thins.
//!
//! `tests/agree.rs` runs both on random fleets and requires the same counts after every
//! operation. Nothing here does IO.
#![warn(missing_docs)]

pub mod chunk;
pub mod error;
pub mod extent;

pub use chunk::{DiscardEffect, PoolModel, ThinUsage, WriteEffect};
pub use error::ModelError;
pub use extent::{ExtentError, ExtentPool};

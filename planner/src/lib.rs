//! thinbench's capacity planner.
//!
//! A *fleet* (a TOML plan: a pool, images made of layers, containers per image, their
//! writes, deletes, discards and churn over time, a write rate) is turned into the data
//! and metadata blocks a dm-thin pool needs, free space over time, when the pool fills,
//! when its thresholds fire, and recommended sizes.
//!
//! The pieces, bottom up:
//!
//! * `thinbench_model::extent`: the compact allocation model it runs on (`ExtentPool`),
//!   exact against the per-chunk reference model `thinbench_model::PoolModel`.
//! * [`fleet`]: the plan format: parsed with positions, validated into a [`Fleet`].
//! * [`simulate`]: drives the model through the fleet's life, step by step.
//! * [`btree_sim`]: dm-btree's insert rules executed, where the metadata model's leaf
//!   fills come from.
//! * [`metadata`]: the b-tree cost of mappings and thins, and `thin_metadata_size`.
//! * [`report`]: the [`PlanReport`] (JSON), its CSV files and a terse text table.
//! * [`scenario`]: a plan scaled down to a thinbench scenario, to check it on the kernel;
//!   [`depth`]: the scenario that checks the metadata model on deep trees.
//!
//! Library code never prints.
#![warn(missing_docs)]

pub mod btree_sim;
pub mod depth;
pub mod fleet;
pub mod metadata;
pub mod report;
pub mod scenario;
pub mod simulate;

pub use fleet::{load_fleet, load_fleet_str, Fleet, PlanErrors};
pub use report::PlanReport;
pub use simulate::plan;

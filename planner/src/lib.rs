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
//! * [`simulate`]: drives the model through the fleet's life, step by step, on the typed
//!   pool or unbounded (the fleet's demand).
//! * [`btree_sim`]: dm-btree's insert rules executed, where the metadata model's leaf
//!   fills come from.
//! * [`metadata`]: the b-tree cost of mappings and thins, and `thin_metadata_size`.
//! * [`rates`]: gross and net growth over a stated window; every threshold's day.
//! * [`recommend`]: sizes from the demand over the horizon; the chunk trade-off.
//! * [`contract`]: the plan as the report's JSON shows it, and the schema version.
//! * [`report`]: the [`PlanReport`] (JSON); [`render`]: its CSV files and a text table.
//! * [`plan`](mod@plan): the whole, [`plan()`](fn@plan).
//! * [`scenario`]: a plan scaled down to a thinbench scenario, to check it on the kernel;
//!   [`depth`]: the scenario that checks the metadata model on deep trees.
//!
//! Library code never prints.
#![warn(missing_docs)]

pub mod btree_sim;
pub mod contract;
pub mod depth;
pub mod fleet;
pub mod metadata;
pub mod plan;
pub mod rates;
pub mod recommend;
pub mod render;
pub mod report;
pub mod scenario;
pub mod simulate;

pub use fleet::{load_fleet, load_fleet_str, Fleet, PlanErrors};
pub use plan::plan;
pub use report::PlanReport;

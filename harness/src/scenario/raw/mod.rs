//! Scenario files as written: one struct per TOML table, one field per key, every value
//! with its position. Nothing is interpreted here beyond TOML types (no units, no
//! defaults, no cross references); that is `scenario::validate`'s job.
//!
//! The text is parsed once into the spanned tree of `thinbench_schema::toml_tree` (shared
//! with the planner's plans), whose table reader reports every unknown key and wrong type
//! at once; each kind of table (and its [`KeySet`]) has a file of its own here.

mod control;
mod discard_keys;
mod dm_table_keys;
mod expect;
mod fault;
mod fs_keys;
mod pool;
mod scenario;
mod step;
mod tool_keys;

#[cfg(test)]
mod tests;

pub(crate) use dm_table_keys::RawDmTable;
pub(crate) use expect::RawExpect;
pub(crate) use fault::{RawFault, FAULT_KEYS};
pub(crate) use pool::{RawPool, POOL_KEYS};
pub(crate) use scenario::{RawScenario, TOP_KEYS};
pub(crate) use step::{RawStep, STEP_KEYS};

pub(crate) use thinbench_schema::toml_tree::{Field, IntOrText, Span};

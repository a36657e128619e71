//! The result contract of thinbench: typed units, validated ids, and the records a run
//! writes (`summary.json`, `events.jsonl`, `samples.csv`); and the one shape of an error
//! in an input file ([`positioned`]: `FILE:LINE:COL: error: …`), which the scenario,
//! plan and gate-config readers share, with the spanned TOML reader of scenarios and plans
//! ([`toml_tree`]) and the one size and duration grammar of every file and flag
//! ([`grammar`]); and the words a comparison's verdicts are said in ([`verdict`]), which
//! the gate and `compare` share.
//!
//! This crate is a leaf (serde, and toml for the input readers) so that every other
//! crate, and outside tools that read results, can depend on it without pulling the
//! harness in. Changes are additive;
//! anything that breaks a reader bumps [`FORMAT_VERSION`].
#![warn(missing_docs)]

pub mod autoextend;
pub mod escape;
pub mod format;
pub mod grammar;
pub mod ids;
pub mod json_schema;
pub mod keys;
pub mod load;
pub mod positioned;
pub mod record;
pub mod stats;
pub mod toml_tree;
pub mod units;
pub mod untrusted;
pub mod verdict;

/// Version of the on-disk result format (`summary.json` `format_version`). Readers refuse
/// a major version they do not know.
pub const FORMAT_VERSION: u32 = 1;

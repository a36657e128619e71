//! Scenario files: TOML as written (`raw`), loaded with positions for error messages.
//!
//! `load` reads a file into a [`crate::spec::ScenarioSpec`] through `raw` (1:1 tables, every
//! value with its position) and `validate` (raw tables → [`crate::spec::ScenarioSpec`]); `error`
//! holds the positioned errors.
//! The format is documented in `docs/scenario-format.md`.

mod error;
mod load;
pub(crate) mod raw;
mod validate;

pub(crate) use error::{suggest, Diagnostic};
pub use error::{ScenarioError, ScenarioErrors};
pub use load::{
    load_scenario, load_scenario_granted, load_scenario_str, load_scenario_str_granted,
};
pub use validate::{parse_duration, Grants, HOST_PATHS_FLAG, SCENARIO_FORMAT_VERSION};

/// The keys of a scenario file, table by table: what the reader checks unknown keys and
/// value types against, and what `thinbench schema scenario` turns into a JSON Schema.
pub fn keys() -> &'static thinbench_schema::keys::KeySet {
    &raw::TOP_KEYS
}

//! Scenario → plan: the validated, default-filled form of a scenario file.

mod matrix;
mod model;
mod validate;

pub use matrix::{matrix, select, MatrixEntry, Shard};
pub use model::*;
pub(crate) use validate::{check_format_version, validate};
pub use validate::{parse_duration, Grants, HOST_PATHS_FLAG, SCENARIO_FORMAT_VERSION};

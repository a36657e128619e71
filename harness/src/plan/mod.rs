//! Scenario → plan: the validated, default-filled form of a scenario file.

mod model;
mod validate;

pub use model::*;
pub(crate) use validate::{check_format_version, validate};
pub use validate::{parse_duration, SCENARIO_FORMAT_VERSION};

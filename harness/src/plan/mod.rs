//! Scenario → plan: the validated, default-filled form of a scenario file.

mod model;

pub use model::*;

//! The plan: the validated, default-filled form of a scenario file (made by
//! `scenario::validate`), and the matrix of (scenario, pool) entries that CI shards split.

mod matrix;
mod model;

pub use matrix::{matrix, select, MatrixEntry, Shard};
pub use model::*;

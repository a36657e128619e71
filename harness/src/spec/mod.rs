//! The scenario spec ([`ScenarioSpec`]): the validated, default-filled form of a scenario
//! file (made by `scenario::validate`), and the matrix of (scenario, pool) entries that CI
//! shards split. ("Plan" is the capacity planner's word, for a fleet's sizing.)

mod control;
mod discard;
mod fault;
mod fs;
mod kernel;
mod matrix;
mod model;
mod table;
mod tool;

pub use control::{ActivateSpec, ControlDevice, MessageSpec, PoolMessage, PoolRefusal};
pub use discard::DiscardSpec;
pub use fault::*;
pub use fs::{
    FileLayout, FileOp, FileOrder, FileSpec, MkfsProfile, MkfsSpec, MountSpec, VerifyFilesSpec,
};
pub use kernel::KernelRequest;
pub use matrix::{matrix, select, select_across, MatrixEntry, Shard};
pub use model::*;
pub use table::{ReloadSpec, ResizeAmount, ResizeDevice, ResizeSpec};
pub use tool::{Damage, MetadataSource, MetadataTool, MetadataToolSpec};

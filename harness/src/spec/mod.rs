//! The scenario spec ([`ScenarioSpec`]): the validated, default-filled form of a scenario
//! file (made by `scenario::validate`), and the matrix of (scenario, pool) entries that CI
//! shards split. ("Plan" is the capacity planner's word, for a fleet's sizing.)

mod control;
mod discard;
mod dm_table;
mod fault;
mod fs;
mod kernel;
mod matrix;
mod model;
mod table;
mod tool;

pub use control::{ActivateSpec, ControlDevice, MessageSpec, PoolMessage, PoolRefusal};
pub use discard::DiscardSpec;
pub use dm_table::{
    Count, DeviceRef, DmTableSpec, TableArg, TableDevice, TableLineSpec, POOL_FEATURES, TARGETS,
};
pub use fault::*;
pub use fs::{
    FileLayout, FileOp, FileOrder, FileSpec, FsTarget, MkfsProfile, MkfsSpec, MountSpec,
    VerifyFilesSpec,
};
pub use kernel::KernelRequest;
pub use matrix::{matrix, select, select_across, MatrixEntry, Shard};
pub use model::*;
pub use table::{ReloadSpec, ResizeAmount, ResizeDevice, ResizeSpec};
pub use tool::{
    Damage, GeneratedLayout, GeneratedMetadata, MetadataSource, MetadataTool, MetadataToolSpec,
};

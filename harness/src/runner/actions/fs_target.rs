//! What a filesystem step's filesystem is on: a thin, or a device of the case
//! (`create-device`). A case device's IO reaches the pool only when it is stacked over
//! thins of the case (`over`): those thins are the ones its filesystem may write, and
//! so the ones the steps' resync rebuilds from the metadata.

use std::path::PathBuf;

use thinbench_schema::ids::ThinId;
use thinbench_schema::units::Bytes;

use super::ctx::StepCtx;
use crate::runner::error::StepError;
use crate::spec::FsTarget;

/// A filesystem step's device.
pub(super) struct Target {
    /// Its block device node.
    pub node: PathBuf,
    /// Its size.
    pub size: Bytes,
    /// The thins its IO may write: the thin, or a case device's members.
    pub ids: Vec<ThinId>,
}

/// The live device of `on`.
pub(super) fn target(ctx: &StepCtx<'_>, on: &FsTarget) -> Result<Target, StepError> {
    match on {
        FsTarget::Thin(t) => {
            let t = ctx
                .backend
                .thin(t)
                .ok_or_else(|| StepError::from(format!("no thin {t}")))?;
            Ok(Target {
                node: t.node(),
                size: t.size,
                ids: vec![t.id],
            })
        }
        FsTarget::Device(d) => {
            let e = ctx
                .state
                .device(d)
                .ok_or_else(|| StepError::from(format!("no device {d}")))?;
            Ok(Target {
                node: e.device.dm.devnode(),
                size: e.device.size,
                ids: member_ids(ctx, &e.over),
            })
        }
    }
}

/// The ids of the thins named `over` (the members of a case device).
pub(super) fn member_ids(ctx: &StepCtx<'_>, over: &[thinbench_schema::ids::Ident]) -> Vec<ThinId> {
    over.iter()
        .filter_map(|t| ctx.backend.thin(t).map(|t| t.id))
        .collect()
}

/// thinbench's mount point for `on`, under the case's scratch directory: `fs/<thin>`,
/// or `fs/device.<name>` (no thin's name has a dot).
pub(super) fn mount_dir(ctx: &StepCtx<'_>, on: &FsTarget) -> PathBuf {
    let base = ctx.state.scratch.join("fs");
    match on {
        FsTarget::Thin(t) => base.join(t.as_str()),
        FsTarget::Device(d) => base.join(format!("device.{d}")),
    }
}

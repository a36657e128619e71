//! `create-device` with `over`: a linear or striped device over thins of the case (the
//! peer's `striped_on_thin`). Made without IO — stamping it would provision its thins
//! whole — so it allocates nothing; its IO is its thins', resynced from the metadata by
//! the steps that do it (filesystem steps, `io`).

use super::ctx::{ActionOutput, StepCtx};
use crate::backend::case_device::{CaseDevice, Layout};
use crate::backend::names::Names;
use crate::runner::case::CaseDeviceEntry;
use crate::runner::error::StepError;
use crate::spec::CaseDeviceSpec;

/// The device over `d.over`, each member live and big enough for its share.
pub(super) fn create(
    ctx: &mut StepCtx<'_>,
    d: &CaseDeviceSpec,
    names: &Names,
    layout: Layout,
) -> Result<ActionOutput, StepError> {
    let share = d.size.0 / d.over.len() as u64;
    let mut members = Vec::new();
    for t in &d.over {
        let thin = ctx
            .backend
            .thin(t)
            .ok_or_else(|| StepError::from(format!("no thin {t}")))?;
        if thin.size.0 < share {
            return Err(StepError::Refused(format!(
                "thin {t} is {} and device {} needs {} of each thin under it",
                thin.size.human(),
                d.name,
                thinbench_schema::units::Bytes(share).human()
            )));
        }
        let node = thin.node();
        super::ctx::needs_block_device(&node)?;
        members.push(thin.dm.majmin());
    }
    let dev = CaseDevice::over(
        names,
        ctx.pool.name.as_str(),
        d.name.as_str(),
        d.size,
        layout,
        &members,
    )?;
    ctx.state.devices.push(CaseDeviceEntry {
        name: d.name.clone(),
        device: dev,
        content: Vec::new(),
        overwritten_by: None,
        over: d.over.clone(),
    });
    Ok(ActionOutput {
        predicted: Some(0),
        predicted_note: Some(format!("device {} is made without IO", d.name)),
        ..Default::default()
    })
}

/// The pool's used blocks before IO to device `name`, when it is over thins.
pub(super) fn used_if_over(ctx: &StepCtx<'_>, name: &thinbench_schema::ids::Ident) -> Option<u64> {
    let over = !ctx.state.device(name)?.over.is_empty();
    over.then(|| ctx.state.model.as_ref().map(|m| m.data_blocks_used().0))
        .flatten()
}

/// After `io` to a device over thins: its thins (and any mounted filesystem's) resynced
/// from the metadata, the step's prediction the change since `used0`.
pub(super) fn resync_io(
    ctx: &mut StepCtx<'_>,
    name: &thinbench_schema::ids::Ident,
    used0: u64,
    out: &mut ActionOutput,
) -> Result<(), StepError> {
    let over = ctx
        .state
        .device(name)
        .map(|d| d.over.clone())
        .unwrap_or_default();
    let ids = super::fs_target::member_ids(ctx, &over);
    super::fs::resync(ctx, used0, &ids, &format!("after IO to device {name}"), out)
}

//! `create-device` over other devices: over thins of the case (`over`, the peer's
//! `striped_on_thin`), over another device of the case (`over_device`), or over the
//! pool's own device (`over_pool`, read only). Made without IO — stamping a device over
//! thins would provision them whole — so it allocates nothing and is not stamped; its IO
//! is its thins', resynced from the metadata by the steps that do it (filesystem steps,
//! `io`).

use std::io::{Seek, SeekFrom};

use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

use super::ctx::{ActionOutput, StepCtx};
use crate::backend::case_device::{CaseDevice, Layout};
use crate::backend::dm::Dm;
use crate::backend::names::Names;
use crate::runner::case::CaseDeviceEntry;
use crate::runner::error::StepError;
use crate::spec::CaseDeviceSpec;

/// What a device is made over: its members (`major:minor`, each of `share` bytes at
/// least), the thins whose IO its IO is, the device below it.
struct Under {
    members: Vec<(String, Bytes, String)>,
    over: Vec<Ident>,
    below: Option<Ident>,
    holds_pool: bool,
}

/// The size of the block device `node`.
fn device_size(node: &std::path::Path) -> Result<Bytes, StepError> {
    let mut f =
        std::fs::File::open(node).map_err(|e| StepError::io(node.display().to_string(), e))?;
    let end = f
        .seek(SeekFrom::End(0))
        .map_err(|e| StepError::io(node.display().to_string(), e))?;
    Ok(Bytes(end))
}

fn under(ctx: &StepCtx<'_>, d: &CaseDeviceSpec) -> Result<Under, StepError> {
    if let Some(b) = &d.over_device {
        let lower = ctx
            .state
            .device(b)
            .ok_or_else(|| StepError::from(format!("no device {b}")))?;
        return Ok(Under {
            members: vec![(
                lower.device.dm.majmin(),
                lower.device.size,
                format!("device {b}"),
            )],
            over: lower.over.clone(),
            below: Some(b.clone()),
            holds_pool: lower.holds_pool,
        });
    }
    if d.over_pool {
        let name = ctx.backend.pool_dm_name().to_owned();
        let pool = Dm::open()?
            .info(&name)?
            .ok_or_else(|| StepError::from(format!("no pool device {name}")))?;
        let size = device_size(&pool.devnode())?;
        return Ok(Under {
            members: vec![(pool.majmin(), size, "the pool device".into())],
            over: Vec::new(),
            below: None,
            holds_pool: true,
        });
    }
    let mut members = Vec::new();
    for t in &d.over {
        let thin = ctx
            .backend
            .thin(t)
            .ok_or_else(|| StepError::from(format!("no thin {t}")))?;
        super::ctx::needs_block_device(&thin.node())?;
        members.push((thin.dm.majmin(), thin.size, format!("thin {t}")));
    }
    Ok(Under {
        members,
        over: d.over.clone(),
        below: None,
        holds_pool: true,
    })
}

/// The device over what `d` names, each member big enough for its share.
pub(super) fn create(
    ctx: &mut StepCtx<'_>,
    d: &CaseDeviceSpec,
    names: &Names,
    layout: Layout,
) -> Result<ActionOutput, StepError> {
    let u = under(ctx, d)?;
    let share = Bytes(d.size.0 / u.members.len().max(1) as u64);
    for (_, size, what) in &u.members {
        if *size < share {
            return Err(StepError::Refused(format!(
                "{what} is {} and device {} needs {} of it",
                size.human(),
                d.name,
                share.human()
            )));
        }
    }
    let majmins: Vec<String> = u.members.iter().map(|m| m.0.clone()).collect();
    let dev = CaseDevice::over(
        names,
        ctx.pool.name.as_str(),
        d.name.as_str(),
        d.size,
        layout,
        &majmins,
    )?;
    ctx.state.devices.push(CaseDeviceEntry {
        name: d.name.clone(),
        device: dev,
        content: Vec::new(),
        overwritten_by: None,
        over: u.over,
        stamped: false,
        below: u.below,
        holds_pool: u.holds_pool,
    });
    Ok(ActionOutput {
        predicted: Some(0),
        predicted_note: Some(format!("device {} is made without IO", d.name)),
        ..Default::default()
    })
}

/// The pool's used blocks before IO to device `name`, when its IO is thins'.
pub(super) fn used_if_over(ctx: &StepCtx<'_>, name: &Ident) -> Option<u64> {
    let over = !ctx.state.device(name)?.over.is_empty();
    over.then(|| ctx.state.model.as_ref().map(|m| m.data_blocks_used().0))
        .flatten()
}

/// After `io` to a device over thins: its thins (and any mounted filesystem's) resynced
/// from the metadata, the step's prediction the change since `used0`.
pub(super) fn resync_io(
    ctx: &mut StepCtx<'_>,
    name: &Ident,
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

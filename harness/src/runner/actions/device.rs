//! Devices of a case other than its pool and thins: `create-device` (made, then every
//! sector written with stamps so any later read can be checked), a thin reading one as
//! its external origin (`create-thin` with `external_origin`), and `verify` (a thin's or a
//! device's content read back against what the case knows it holds).

use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::units::Bytes;
use thinbench_workloads::offsets::{Limit, OffsetPattern};
use thinbench_workloads::small_write::{self, SmallWriteParams};

use super::ctx::{ActionOutput, StepCtx};
use super::write::{integrity_verdict, verify_thin, STAMP_DEVICE};
use crate::backend::case_device::{CaseDevice, Layout};
use crate::runner::case::CaseDeviceEntry;
use crate::runner::error::StepError;
use crate::spec::{CaseDeviceKind, CaseDeviceSpec, VerifyTarget};
use crate::sys::signals;

/// `create-device`: the device, its whole content stamped with a generation of its own.
pub fn create(ctx: &mut StepCtx<'_>, d: &CaseDeviceSpec) -> Result<ActionOutput, StepError> {
    let names = ctx
        .state
        .names
        .clone()
        .ok_or("the case has no run names to give a device")?;
    let layout = match d.kind {
        CaseDeviceKind::Linear => Layout::Linear,
        CaseDeviceKind::Striped { stripes, stripe } => Layout::Striped { stripes, stripe },
    };
    if !d.over.is_empty() || d.over_device.is_some() || d.over_pool {
        return super::device_over::create(ctx, d, &names, layout);
    }
    let dev = CaseDevice::create(
        &names,
        ctx.pool.name.as_str(),
        d.name.as_str(),
        d.size,
        layout,
        &ctx.state.scratch,
    )?;
    let generation = ctx.state.next_generation();
    let content = match stamp(&dev, d.size, ctx, generation) {
        Ok(c) => c,
        Err(e) => {
            let _ = dev.remove();
            return Err(e);
        }
    };
    ctx.state.devices.push(CaseDeviceEntry {
        name: d.name.clone(),
        device: dev,
        content,
        overwritten_by: None,
        over: Vec::new(),
        stamped: true,
        below: None,
        holds_pool: false,
    });
    Ok(ActionOutput {
        predicted: Some(0),
        ..Default::default()
    })
}

/// Writes all of `dev` sequentially with stamps of `generation`, in the largest IO
/// (64KiB, 4KiB or 512B) that divides its size; returns the writes.
fn stamp(
    dev: &CaseDevice,
    size: Bytes,
    ctx: &StepCtx<'_>,
    generation: u64,
) -> Result<Vec<(Bytes, Bytes, u64)>, StepError> {
    let io = [64 * 1024, 4096, 512]
        .into_iter()
        .find(|io| size.0.is_multiple_of(*io))
        .unwrap_or(512);
    let mut p = SmallWriteParams::new(ctx.pool.chunk, size);
    p.io_size = Bytes(io);
    p.offsets = OffsetPattern::Sequential;
    p.limit = Limit::Bytes(size);
    p.device_id = STAMP_DEVICE;
    p.generation = generation;
    p.seed = generation;
    p.stop_on_error = true;
    p.direct = true;
    p.fsync_at_end = true;
    p.record_writes = true;
    let mut d = thinbench_workloads::engine::Device::open(dev.dm.devnode(), true)?;
    let out = small_write::run(&mut d, &p, &mut |_| {}, signals::stop_flag())?;
    if out.interrupted {
        return Err("interrupted".into());
    }
    if out.stats.errors > 0 {
        return Err(format!(
            "writing device {}: {} IO error(s), first {}",
            dev.dm.name,
            out.stats.errors,
            out.stats.first_error.as_deref().unwrap_or("?")
        )
        .into());
    }
    Ok(out
        .writes
        .iter()
        .map(|(o, l)| (*o, *l, generation))
        .collect())
}

/// `create-thin` with `external_origin`: the thin reads the device where it has no block
/// of its own, so its integrity log starts with the device's content (as far as the thin
/// reaches).
pub fn create_external(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    id: Option<ThinId>,
    size: Bytes,
    origin: &Ident,
) -> Result<ActionOutput, StepError> {
    let (origin_dm, content) = {
        let d = ctx
            .state
            .device(origin)
            .ok_or_else(|| format!("no device {origin}"))?;
        if let Some(by) = &d.overwritten_by {
            return Err(format!(
                "device {origin} holds {by}'s unstamped IO: a thin over it could not be checked"
            )
            .into());
        }
        if !d.stamped {
            return Err(format!(
                "device {origin} is made over other devices and not stamped: a thin over it could not be checked"
            )
            .into());
        }
        (d.device.dm.clone(), d.content.clone())
    };
    let t = ctx
        .backend
        .create_thin_external(thin, id, size, &origin_dm)?;
    ctx.state
        .model
        .as_mut()
        .ok_or("no model")?
        .create_thin(t.id)?;
    let seen: Vec<(Bytes, Bytes, u64)> = content
        .into_iter()
        .filter(|(o, _, _)| o.0 < size.0)
        .map(|(o, l, g)| (o, Bytes(l.0.min(size.0 - o.0)), g))
        .collect();
    ctx.state.written.insert(thin.clone(), Default::default());
    ctx.state.log.insert(thin.clone(), seen.clone());
    ctx.state.acked.insert(thin.clone(), seen);
    Ok(ActionOutput {
        predicted: Some(0),
        ..Default::default()
    })
}

/// `verify`: a thin's every known write, or a device's content, read back.
pub fn verify(ctx: &mut StepCtx<'_>, target: &VerifyTarget) -> Result<ActionOutput, StepError> {
    let check = match target {
        VerifyTarget::Thin(t) => verify_thin(ctx, t, &format!("{t} reads back"))?,
        VerifyTarget::Device(name) => {
            let d = ctx
                .state
                .device(name)
                .ok_or_else(|| format!("no device {name}"))?;
            if let Some(by) = &d.overwritten_by {
                return Err(format!(
                    "device {name} holds {by}'s unstamped IO: there is nothing to check it against"
                )
                .into());
            }
            if !d.stamped {
                return Err(format!(
                    "device {name} is made over other devices and not stamped: there is nothing to check it against"
                )
                .into());
            }
            let dev =
                thinbench_workloads::engine::Device::open_read_only(d.device.dm.devnode(), true)?;
            let rep = small_write::verify_writes(&dev, &d.content, STAMP_DEVICE)?;
            integrity_verdict(ctx, &format!("device {name} reads back"), &rep)
        }
    };
    Ok(ActionOutput {
        predicted: Some(0),
        checks: vec![check],
        ..Default::default()
    })
}

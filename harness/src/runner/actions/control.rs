//! Table control: pool messages (the model follows create_thin, create_snap and delete),
//! suspend and resume, activate and deactivate; and the case's end, which resumes what a
//! scenario left suspended so the teardown does not wait on it.

use std::time::{Duration, Instant};

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::units::Bytes;

use super::ctx::{ActionOutput, StepCtx};
use crate::backend::PoolBackend;
use crate::runner::case::CaseState;
use crate::runner::error::StepError;
use crate::spec::{ActivateSpec, ControlDevice, MessageSpec, PoolMessage};

fn model(state: &mut CaseState) -> &mut PoolModel {
    state
        .model
        .as_mut()
        .expect("step.rs creates the model before any action")
}

/// An id the kernel accepted: within 24 bits (validation lets a larger one through only
/// to a step expecting the kernel's refusal, and the kernel refuses it).
fn accepted(id: u64) -> Result<ThinId, StepError> {
    ThinId::new(id).map_err(|e| StepError::from(format!("the kernel accepted thin id {id}: {e}")))
}

/// The name and size of the thin holding `id`, among the case's named thins.
fn named(ctx: &StepCtx<'_>, id: ThinId) -> Option<(Ident, Option<Bytes>)> {
    if let Some((n, (_, size))) = ctx
        .state
        .control
        .no_device
        .iter()
        .find(|(_, (i, _))| *i == id)
    {
        return Some((n.clone(), *size));
    }
    ctx.state.written.keys().find_map(|n| {
        ctx.backend
            .thin(n)
            .filter(|t| t.id == id)
            .map(|t| (n.clone(), Some(t.size)))
    })
}

/// `message`: the text to the pool; on success the model and the case's names follow.
pub fn message(ctx: &mut StepCtx<'_>, m: &MessageSpec) -> Result<ActionOutput, StepError> {
    ctx.backend.pool_message(&m.message.to_string())?;
    let mut predicted = 0i64;
    match m.message {
        PoolMessage::CreateThin { id } => {
            let id = accepted(id)?;
            model(ctx.state).create_thin(id)?;
            ctx.state.control.message_made_thins = true;
            if let Some(t) = &m.thin {
                ctx.state.control.no_device.insert(t.clone(), (id, None));
                ctx.state.written.insert(t.clone(), Default::default());
                ctx.state.log.insert(t.clone(), Vec::new());
            }
        }
        PoolMessage::CreateSnap { id, origin } => {
            let (id, origin) = (accepted(id)?, accepted(origin)?);
            model(ctx.state).create_snap(id, origin)?;
            ctx.state.control.message_made_thins = true;
            if let Some(t) = &m.thin {
                let from = named(ctx, origin);
                let size = from.as_ref().and_then(|(_, s)| *s);
                ctx.state.control.no_device.insert(t.clone(), (id, size));
                if let Some((o, _)) = from {
                    let written = ctx.state.written.get(&o).cloned().unwrap_or_default();
                    let log = ctx.state.log.get(&o).cloned().unwrap_or_default();
                    let acked = ctx.state.acked.get(&o).cloned().unwrap_or_default();
                    ctx.state.written.insert(t.clone(), written);
                    ctx.state.log.insert(t.clone(), log);
                    ctx.state.acked.insert(t.clone(), acked);
                } else {
                    ctx.state.written.insert(t.clone(), Default::default());
                    ctx.state.log.insert(t.clone(), Vec::new());
                }
            }
        }
        PoolMessage::Delete { id } => {
            let id = accepted(id)?;
            let name = named(ctx, id).map(|(n, _)| n);
            let freed = model(ctx.state).delete(id)?;
            predicted = -(freed.0 as i64);
            if let Some(n) = name {
                ctx.state.control.no_device.remove(&n);
                ctx.state.written.remove(&n);
                ctx.state.log.remove(&n);
            }
        }
        PoolMessage::SetTransactionId { .. } => {}
        PoolMessage::ReserveMetadataSnap => {
            ctx.state.control.metadata_snap_held = true;
            ctx.state.control.held_model = ctx.state.model.clone();
        }
        PoolMessage::ReleaseMetadataSnap => {
            ctx.state.control.metadata_snap_held = false;
            ctx.state.control.held_model = None;
        }
    }
    Ok(ActionOutput {
        predicted: Some(predicted),
        ..Default::default()
    })
}

/// The dm name of a control step's device.
fn dm_name(backend: &dyn PoolBackend, device: &ControlDevice) -> Result<String, StepError> {
    match device {
        ControlDevice::Pool => Ok(backend.pool_dm_name().to_owned()),
        ControlDevice::Thin(t) => backend
            .thin(t)
            .map(|d| d.dm.name.clone())
            .ok_or_else(|| StepError::from(format!("no thin {t} with a device"))),
    }
}

/// `suspend` (`flush` false: noflush).
pub fn suspend(
    ctx: &mut StepCtx<'_>,
    device: &ControlDevice,
    flush: bool,
    pool_resumes_after: Option<Duration>,
) -> Result<ActionOutput, StepError> {
    let name = dm_name(&*ctx.backend, device)?;
    let out = waits_for_pool(ctx, pool_resumes_after, "suspend", |b| {
        b.suspend_device(&name, flush)
    })?;
    if !ctx.state.control.suspended.contains(&name) {
        ctx.state.control.suspended.push(name);
    }
    Ok(out)
}

/// `resume`.
pub fn resume(
    ctx: &mut StepCtx<'_>,
    device: &ControlDevice,
    pool_resumes_after: Option<Duration>,
) -> Result<ActionOutput, StepError> {
    let name = dm_name(&*ctx.backend, device)?;
    let out = waits_for_pool(ctx, pool_resumes_after, "resume", |b| {
        b.resume_device(&name)
    })?;
    ctx.state.control.suspended.retain(|n| *n != name);
    Ok(out)
}

/// Run a thin's `op`; with `after`, the (suspended) pool is resumed from another thread
/// after that long (and is no longer suspended), and `op` must not have completed
/// before: it waited for the pool's internal resume of its thins. The check and the
/// wait are the step's.
fn waits_for_pool(
    ctx: &mut StepCtx<'_>,
    after: Option<Duration>,
    what: &str,
    op: impl FnOnce(&dyn crate::backend::PoolBackend) -> Result<(), crate::backend::BackendError>,
) -> Result<ActionOutput, StepError> {
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let backend = &*ctx.backend;
    let Some(after) = after else {
        op(backend)?;
        return Ok(out);
    };
    let pool = backend.pool_dm_name().to_owned();
    let t0 = Instant::now();
    let (done, resumed) = std::thread::scope(|s| {
        let resumer = s.spawn(|| {
            std::thread::sleep(after);
            let at = t0.elapsed();
            crate::backend::dm::Dm::open()
                .and_then(|dm| dm.resume(&pool))
                .map(|()| at)
        });
        let r = op(backend).map(|()| t0.elapsed());
        (r, resumer.join())
    });
    let resumed =
        resumed.map_err(|_| StepError::Failed("the pool's resumer panicked".into()))??;
    let done = done?;
    ctx.state.control.suspended.retain(|n| *n != pool);
    out.checks.push(crate::runner::case::verdict(
        &format!("the thin's {what} waited for the pool's resume (from another thread)"),
        format!("done after the pool's resume at {} ms", resumed.as_millis()),
        format!("done at {} ms", done.as_millis()),
        done >= resumed,
        ctx.step,
    ));
    out.metrics.push(super::ctx::metric(
        &format!("control.{what}_waited_ms"),
        done.as_secs_f64() * 1000.0,
        "ms",
        thinbench_schema::record::MetricKind::Timing,
        thinbench_schema::record::Better::Neither,
    ));
    Ok(out)
}

/// `activate`: a device for a thin without one, of the size given or the one it had.
pub fn activate(ctx: &mut StepCtx<'_>, a: &ActivateSpec) -> Result<ActionOutput, StepError> {
    let (id, last) = match ctx.state.control.no_device.get(&a.thin) {
        Some(&(id, size)) => (id, size),
        None => {
            let t = ctx
                .backend
                .thin(&a.thin)
                .ok_or_else(|| StepError::from(format!("no thin {}", a.thin)))?;
            (t.id, Some(t.size))
        }
    };
    let size = a
        .size
        .or(last)
        .ok_or_else(|| StepError::from(format!("thin {} has no size: give `size`", a.thin)))?;
    ctx.backend.activate_thin(&a.thin, id, size, a.read_only)?;
    ctx.state.control.no_device.remove(&a.thin);
    Ok(ActionOutput {
        predicted: Some(0),
        ..Default::default()
    })
}

/// `deactivate`: the thin's device removed; the thin stays in the pool.
pub fn deactivate(ctx: &mut StepCtx<'_>, thin: &Ident) -> Result<ActionOutput, StepError> {
    let t = ctx
        .backend
        .thin(thin)
        .cloned()
        .ok_or_else(|| StepError::from(format!("no thin {thin}")))?;
    ctx.backend.deactivate_thin(thin, false)?;
    ctx.state.control.suspended.retain(|n| *n != t.dm.name);
    ctx.state
        .control
        .no_device
        .insert(thin.clone(), (t.id, Some(t.size)));
    Ok(ActionOutput {
        predicted: Some(0),
        ..Default::default()
    })
}

/// A thin without a device is deleted by a message (deactivated ones through the
/// backend, which knows them): `Some` when `thin` was one.
pub fn delete_without_device(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
) -> Option<Result<ActionOutput, StepError>> {
    let &(id, _) = ctx.state.control.no_device.get(thin)?;
    let sent = if ctx.backend.thin(thin).is_some() {
        ctx.backend.delete_inactive_thin(thin)
    } else {
        ctx.backend.pool_message(&format!("delete {id}"))
    };
    Some(sent.map_err(StepError::from).and_then(|()| {
        let freed = model(ctx.state).delete(id)?;
        ctx.state.control.no_device.remove(thin);
        ctx.state.written.remove(thin);
        ctx.state.log.remove(thin);
        Ok(ActionOutput {
            predicted: Some(-(freed.0 as i64)),
            ..Default::default()
        })
    }))
}

/// The id a loop-lvm create-thin without `id` gets once messages made thins the backend
/// did not: the lowest the model has free from 1, the backend's rule over every thin.
pub fn free_id(state: &CaseState) -> Option<ThinId> {
    if !state.control.message_made_thins {
        return None;
    }
    let used: std::collections::BTreeSet<u32> =
        state.model.as_ref()?.thins().map(|t| t.get()).collect();
    let free = (1..=ThinId::MAX).find(|i| !used.contains(i))?;
    ThinId::try_from(free).ok()
}

/// At the case's end: what the scenario left suspended is resumed, last first, so the
/// teardown neither waits on it nor leaves it behind. Returns what could not be resumed.
/// The mounts go after the background workloads stop (`CaseState::fs`'s
/// `unmount_all`): a file being written keeps its filesystem busy.
pub fn end_of_case(backend: &dyn PoolBackend, state: &mut CaseState) -> Vec<String> {
    let names = std::mem::take(&mut state.control.suspended);
    names
        .iter()
        .rev()
        .filter_map(|n| backend.resume_device(n).err().map(|e| e.to_string()))
        .collect()
}

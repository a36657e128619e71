//! Thin device life cycle: create, snapshot, delete (pool message, or lvm for direct-lvm).

use crate::runner::error::StepError;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::units::Bytes;

use super::ctx::{ActionOutput, StepCtx};

fn model<'c>(ctx: &'c mut StepCtx<'_>) -> &'c mut thinbench_model::chunk::PoolModel {
    ctx.state
        .model
        .as_mut()
        .expect("step.rs creates the model before any action")
}

pub fn create(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    id: Option<ThinId>,
    size: Bytes,
) -> Result<ActionOutput, StepError> {
    let loop_lvm = ctx.pool.kind.kind() == thinbench_schema::record::PoolKind::LoopLvm;
    let id = id.or_else(|| {
        loop_lvm
            .then(|| super::control::free_id(ctx.state))
            .flatten()
    });
    let t = ctx.backend.create_thin(thin, id, size)?;
    model(ctx).create_thin(t.id)?;
    ctx.state.written.insert(thin.clone(), Default::default());
    ctx.state.log.insert(thin.clone(), Vec::new());
    Ok(ActionOutput {
        predicted: Some(0),
        ..Default::default()
    })
}

pub fn snapshot(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    origin: &Ident,
    id: Option<ThinId>,
) -> Result<ActionOutput, StepError> {
    let oid = ctx
        .backend
        .thin(origin)
        .ok_or_else(|| format!("no thin {origin}"))?
        .id;
    // Docker's dm.min_free_space, checked where Docker checked it: at snapshot creation.
    let min = u64::from(ctx.pool.min_free_space);
    if min > 0 {
        let u = ctx.backend.status()?;
        let pct = |used: u64, total: u64| {
            (total - used.min(total))
                .checked_mul(100)
                .and_then(|f| f.checked_div(total))
                .unwrap_or(0)
        };
        let (data_free, meta_free) = (
            pct(u.data_used.0, u.data_total.0),
            pct(u.meta_used.0, u.meta_total.0),
        );
        if data_free < min || meta_free < min {
            let which = if data_free < min {
                format!("data {data_free}%")
            } else {
                format!("metadata {meta_free}%")
            };
            return Err(StepError::Refused(format!(
                "snapshot {thin} refused: free {which} is below min_free_space {min}% (Docker's dm.min_free_space)"
            )));
        }
    }
    // A mounted origin is synced, and the suspend the snapshot takes of it freezes it
    // (dm's lockfs): the snapshot holds the filesystem as the file model has it. The
    // filesystem's flush is its own IO, resynced from the metadata below.
    let mounted = ctx.state.fs.mount_of(origin).map(std::path::Path::to_owned);
    let used0 = ctx
        .state
        .model
        .as_ref()
        .map_or(0, |m| m.data_blocks_used().0);
    if let Some(d) = &mounted {
        super::fs::syncfs(d)?;
    }
    let t = ctx.backend.snapshot(thin, origin, id)?;
    model(ctx).create_snap(t.id, oid)?;
    ctx.state.fs.snapshot(thin, origin);
    let inherited = ctx.state.written.get(origin).cloned().unwrap_or_default();
    ctx.state.written.insert(thin.clone(), inherited);
    let log = ctx.state.log.get(origin).cloned().unwrap_or_default();
    ctx.state.log.insert(thin.clone(), log);
    let acked = ctx.state.acked.get(origin).cloned().unwrap_or_default();
    ctx.state.acked.insert(thin.clone(), acked);
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    if mounted.is_some() {
        super::fs::resync(
            ctx,
            used0,
            &[oid, t.id],
            "after the snapshot of the mounted origin",
            &mut out,
        )?;
        out.predicted_note = Some("the mounted origin synced and frozen by its suspend: its flush resynced from thin_dump".into());
    }
    Ok(out)
}

pub fn delete(ctx: &mut StepCtx<'_>, thin: &Ident) -> Result<ActionOutput, StepError> {
    if let Some(done) = super::control::delete_without_device(ctx, thin) {
        return done;
    }
    let id = ctx
        .backend
        .thin(thin)
        .ok_or_else(|| format!("no thin {thin}"))?
        .id;
    ctx.backend.delete_thin(thin)?;
    let freed = model(ctx).delete(id)?;
    ctx.state.written.remove(thin);
    ctx.state.log.remove(thin);
    ctx.state.fs.thins.remove(thin);
    Ok(ActionOutput {
        predicted: Some(-(freed.0 as i64)),
        ..Default::default()
    })
}

//! A `file` write in the background: the step resolves the file inside its mount point
//! and starts the records' writes on a thread of its own; the `wait` naming it joins it,
//! and only then does the file model learn the file (its records in file order), the
//! file read back against it, and the block model rebuilt from the kernel's metadata
//! after every mounted filesystem is synced (`fs::resync`: where a filesystem put its
//! blocks is not the model's to predict). Meanwhile the steps' model checks are skipped,
//! saying so (`step.rs`), as beside a background `small-write`.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use thinbench_schema::record::WorkloadStats;
use thinbench_schema::units::Bytes;

use super::ctx::{ActionOutput, StepCtx};
use crate::runner::background::{BackgroundJob, FileJob, Outcome};
use crate::runner::case::check;
use crate::runner::error::StepError;
use crate::runner::fs_layout::{self, Plan, Written};
use crate::runner::fs_state;
use crate::spec::{FileOp, FileSpec};

/// The largest file read back at the wait (a `file` write is at most 64MiB).
const READ_LIMIT: u64 = 128 << 20;

/// A `file` write with `background = true`: starts its writes for the step's `wait`.
pub fn start(ctx: &mut StepCtx<'_>, s: &FileSpec) -> Result<ActionOutput, StepError> {
    let FileOp::Write { size } = s.op else {
        return Err(StepError::Refused(format!(
            "a background file step writes a new file, not `{}`",
            s.op.name()
        )));
    };
    // Validation keeps background writes to thins.
    let thin = s.on.thin().cloned().ok_or_else(|| {
        StepError::Refused(format!(
            "a background file write goes on a thin, not {}",
            s.on
        ))
    })?;
    let t = ctx
        .backend
        .thin(&thin)
        .cloned()
        .ok_or_else(|| format!("no thin {}", thin))?;
    let dir = ctx
        .state
        .fs
        .mount_of(&thin)
        .map(std::path::Path::to_owned)
        .ok_or_else(|| StepError::Refused(format!("thin {} is not mounted", thin)))?;
    if !ctx.state.fs.thins.contains_key(&thin) {
        return Err(format!("thin {} has no file model", thin).into());
    }
    let used0 = ctx
        .state
        .model
        .as_ref()
        .map(|m| m.data_blocks_used().0)
        .ok_or("no model")?;
    // Resolved here, so a path leading outside the filesystem fails this step, not its wait.
    let file = fs_state::inside(&dir, &s.path, true).map_err(StepError::Failed)?;
    let state = &mut *ctx.state;
    let plan = Plan::new(
        ctx.step.name.as_str(),
        thin.as_str(),
        &s.path,
        size.0,
        s.layout,
        &mut || state.next_generation(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (p, fsync) = (plan.clone(), s.fsync);
    let handle = std::thread::Builder::new()
        .name(format!("bg-{}", ctx.step.name))
        .spawn(move || fs_layout::write(&file, &p, fsync, &flag).map(Outcome::File))
        .map_err(|e| format!("cannot start the background file write: {e}"))?;
    let generation = plan.records.first().map_or(0, |r| r.seq);
    ctx.state.background.insert(
        ctx.step.name.clone(),
        BackgroundJob {
            step: ctx.step.name.clone(),
            index: ctx.step.index,
            thin: thin.clone(),
            thin_id: t.id,
            generation,
            stop,
            handle: Some(handle),
            file: Some(FileJob { plan, used0 }),
        },
    );
    Ok(ActionOutput::default())
}

/// The wait of a background `file` write: the file model learns the file, the file is
/// read back against it, and the block model is resynced.
pub fn finish(
    ctx: &mut StepCtx<'_>,
    mut job: BackgroundJob,
    w: Written,
) -> Result<ActionOutput, StepError> {
    if w.interrupted {
        return Err("interrupted".into());
    }
    let Some(FileJob { plan, used0 }) = job.file.take() else {
        return Err(format!("background step {} wrote no file", job.step).into());
    };
    let files = &mut ctx
        .state
        .fs
        .thins
        .get_mut(&job.thin)
        .ok_or_else(|| format!("thin {} has no file model", job.thin))?
        .files;
    files.insert(plan.path.clone(), plan.records.clone());
    let mut out = ActionOutput::default();
    let dir = ctx
        .state
        .fs
        .mount_of(&job.thin)
        .map(std::path::Path::to_owned)
        .ok_or_else(|| StepError::Refused(format!("thin {} is not mounted", job.thin)))?;
    let read = fs_state::inside(&dir, &plan.path, false).and_then(|p| {
        thinbench_schema::untrusted::read(&p, READ_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|b| fs_state::decode(&b))
    });
    out.checks.push(check(
        &format!(
            "thin {}: file {} == the file model (background step {})",
            job.thin, plan.path, job.step
        ),
        fs_state::shown_model(Some(&plan.records)),
        fs_state::shown_read(Some(&read)),
        ctx.step,
    ));
    super::fs::resync(
        ctx,
        used0,
        &[job.thin_id],
        &format!("after background step {}", job.step),
        &mut out,
    )?;
    // The whole pool, model against kernel: the write began steps ago (`step.rs` takes
    // the pool's use as the wait began).
    out.model_used_after = ctx.state.model.as_ref().map(|m| m.data_blocks_used().0);
    let secs = w.elapsed.as_secs_f64().max(1e-9);
    out.workload = Some(WorkloadStats {
        workload: "file".into(),
        bytes: Bytes(w.bytes),
        ops: w.records,
        errors: 0,
        first_error: None,
        elapsed_ns: w.elapsed.as_nanos() as u64,
        iops: w.records as f64 / secs,
        mb_per_s: w.bytes as f64 / secs / 1e6,
        latency: w.latency.summary(),
        distinct_chunks_touched: 0,
    });
    Ok(out)
}

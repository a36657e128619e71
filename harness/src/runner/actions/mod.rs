//! Step actions, one module each. Every action gets a [`StepCtx`] and returns an
//! [`ActionOutput`]: its figures, and the model's prediction of data blocks allocated
//! (the accounting oracle), which `step.rs` checks against the kernel.

mod cow;
mod deferred;
mod delete;
mod fill;
mod io;
mod metadata;
mod power;
mod thins;
mod write;

pub use deferred::MOUNT_BASE;

use thinbench_schema::record::{
    Better, ExpectationResult, Metric, MetricKind, PhaseStats, WorkloadStats,
};

use super::step::CaseState;
use crate::backend::PoolBackend;
use crate::plan::{Action, PoolSpec, StepSpec};
use crate::record::Recorder;

/// What an action works with.
pub struct StepCtx<'a> {
    /// The step.
    pub step: &'a StepSpec,
    /// Its pool's spec.
    pub pool: &'a PoolSpec,
    /// The live pool.
    pub backend: &'a mut dyn PoolBackend,
    /// Case state (model, write logs).
    pub state: &'a mut CaseState,
    /// Event stream.
    pub rec: &'a Recorder,
}

/// What an action produced.
#[derive(Default)]
pub struct ActionOutput {
    /// Model prediction of the pool's data-block change during the step.
    pub predicted: Option<i64>,
    /// Where `predicted` comes from when the model could not predict it (a filesystem
    /// placed the IO and the model was resynced from the kernel's metadata): shown in the
    /// expectation, so nobody mistakes it for a prediction.
    pub predicted_note: Option<String>,
    /// Chunks touched for the first time in their thin (workloads).
    pub first_touched: Option<u64>,
    /// Whole-step workload figures.
    pub workload: Option<WorkloadStats>,
    /// Per-phase figures.
    pub phases: Vec<PhaseStats>,
    /// Named figures.
    pub metrics: Vec<Metric>,
    /// Built-in checks of the action (integrity, …).
    pub checks: Vec<ExpectationResult>,
}

/// A named figure for [`ActionOutput::metrics`].
pub fn metric(name: &str, value: f64, unit: &str, kind: MetricKind, better: Better) -> Metric {
    Metric {
        name: name.into(),
        value,
        unit: unit.into(),
        kind,
        better,
    }
}

/// Dispatch to the action's module.
pub fn run(ctx: &mut StepCtx<'_>) -> Result<ActionOutput, String> {
    match &ctx.step.action {
        Action::CreateThin { thin, id, size } => thins::create(ctx, thin, *id, *size),
        Action::Snapshot { thin, origin, id } => thins::snapshot(ctx, thin, origin, *id),
        Action::DeleteThin { thin } => thins::delete(ctx, thin),
        Action::SmallWrite(w) => write::small_write(ctx, w),
        Action::CowOverwrite(c) => cow::run(ctx, c),
        Action::Fill(f) => fill::run(ctx, f),
        Action::DeferredRemoval(d) => deferred::removal(ctx, d),
        Action::DeferredDeletion(d) => deferred::deletion(ctx, d),
        Action::Delete(d) => delete::run(ctx, d),
        Action::MetadataFill(m) => metadata::fill(ctx, m),
        Action::RepairMetadata(r) => metadata::repair(ctx, r),
        Action::Reboot(r) => power::reboot(ctx, r),
        Action::Replay(r) => power::replay(ctx, r),
        Action::Io(s) => io::io(ctx, s),
        Action::EngineVsFio(p) => io::engine_vs_fio(ctx, p),
    }
}

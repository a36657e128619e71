//! What every action works with ([`StepCtx`]) and gives back ([`ActionOutput`], figures
//! made by [`metric`]): below the actions and their dispatcher, so both import it.

use thinbench_schema::record::{
    Better, ExpectationResult, Metric, MetricKind, PhaseStats, WorkloadStats,
};

use crate::backend::PoolBackend;
use crate::record::Recorder;
use crate::runner::case::CaseState;
use crate::runner::sampler::Sampler;
use crate::spec::{PoolSpec, StepSpec};

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
    /// The case's status sampler (none when the pool's status cannot be read).
    pub sampler: Option<&'a Sampler>,
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
    /// The model's data blocks in use after the step, where the action cannot predict a
    /// change over the step alone (a `wait`: its workload began steps ago); the step's
    /// prediction is then this less the pool's use as the step began.
    pub model_used_after: Option<u64>,
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

/// A filesystem goes only on a block device: the fake pool's thins are files, and
/// `mount` would quietly put a loop device under one (as root), which is not a thin.
pub fn needs_block_device(dev: &std::path::Path) -> Result<(), crate::runner::error::StepError> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(dev) {
        Ok(m) if m.file_type().is_block_device() => Ok(()),
        Ok(_) => Err(crate::backend::BackendError::Unsupported(format!(
            "{} is not a block device: a filesystem on a thin needs a kernel pool",
            dev.display()
        ))
        .into()),
        Err(e) => Err(crate::runner::error::StepError::io(
            format!("{}", dev.display()),
            e,
        )),
    }
}

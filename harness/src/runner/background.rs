//! A workload running while later steps run (`background = true`: a `small-write`'s
//! block IO or a `file` write's): its thread, and how a case stops one it never waited
//! for. What a `wait` does with its outcome is the
//! action's (`actions/background.rs`); the step runner only asks whether any is in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use thinbench_schema::ids::{Ident, ThinId};
use thinbench_workloads::small_write::SmallWriteOutcome;

/// What a background step's thread did.
pub enum Outcome {
    /// A `small-write`'s block IO.
    Blocks(Box<SmallWriteOutcome>),
    /// A `file` write's records.
    File(super::fs_layout::Written),
}

/// What the thread returns: the workload's outcome, or why it could not run.
pub type JobResult = Result<Outcome, String>;

/// What the wait of a `file` write needs besides the thread's outcome.
pub struct FileJob {
    /// The records written, in file order (the file model's entry at the wait).
    pub plan: super::fs_layout::Plan,
    /// The model's data blocks in use as the step began.
    pub used0: u64,
}

/// A background step in flight.
pub struct BackgroundJob {
    /// The step's name (what a `wait` names).
    pub step: Ident,
    /// The step's index, for messages.
    pub index: usize,
    /// The thin it writes.
    pub thin: Ident,
    /// That thin's dm id (the model's key).
    pub thin_id: ThinId,
    /// The generation its writes are stamped with.
    pub generation: u64,
    /// Set to end the workload early (the case ends, or a stop was asked for).
    pub stop: Arc<AtomicBool>,
    /// The workload's thread.
    pub handle: Option<JoinHandle<JobResult>>,
    /// A `file` write's plan; `None` for block IO.
    pub file: Option<FileJob>,
}

impl BackgroundJob {
    /// Waits for the workload to end on its own.
    pub fn join(&mut self) -> JobResult {
        match self.handle.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err("the background workload's thread panicked".into())),
            None => Err("the background workload was already waited for".into()),
        }
    }

    /// Ends the workload at its next IO and waits for it.
    pub fn abandon(&mut self) -> JobResult {
        self.stop.store(true, Ordering::SeqCst);
        self.join()
    }
}

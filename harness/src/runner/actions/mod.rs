//! Step actions, one module each. Every action gets a [`StepCtx`] and returns an
//! [`ActionOutput`]: its figures, and the model's prediction of data blocks allocated
//! (the accounting oracle), which `step.rs` checks against the kernel.

mod autoextend;
mod cow;
mod ctx;
mod deferred;
mod delete;
mod discard;
mod fill;
mod io;
mod metadata;
mod power;
mod thins;
mod write;

pub use deferred::MOUNT_BASE;

pub use ctx::{metric, ActionOutput, StepCtx};

use crate::runner::error::StepError;
use crate::spec::Action;

/// Dispatch to the action's module.
pub fn run(ctx: &mut StepCtx<'_>) -> Result<ActionOutput, StepError> {
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
        Action::Discard(d) => discard::run(ctx, d),
    }
}

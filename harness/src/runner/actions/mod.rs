//! Step actions, one module each. Every action gets a [`StepCtx`] and returns an
//! [`ActionOutput`]: its figures, and the model's prediction of data blocks allocated
//! (the accounting oracle), which `step.rs` checks against the kernel.

mod autoextend;
mod background;
mod control;
mod cow;
mod ctx;
mod deferred;
mod delete;
mod device;
mod device_over;
mod discard;
mod dm_table;
mod fill;
mod fs;
mod fs_background;
mod fs_target;
mod io;
mod io_file;
mod metadata;
mod power;
mod reload;
mod restore_generated;
mod resync;
mod thins;
mod tool;
mod write;

pub use control::end_of_case;
pub use deferred::MOUNT_BASE;

pub use ctx::{metric, ActionOutput, StepCtx};

use crate::runner::error::StepError;
use crate::spec::Action;

/// Dispatch to the action's module.
pub fn run(ctx: &mut StepCtx<'_>) -> Result<ActionOutput, StepError> {
    match &ctx.step.action {
        Action::CreateThin {
            thin,
            id,
            size,
            external_origin: None,
        } => thins::create(ctx, thin, *id, *size),
        Action::CreateThin {
            thin,
            id,
            size,
            external_origin: Some(origin),
        } => device::create_external(ctx, thin, *id, *size, origin),
        Action::CreateDevice(d) => device::create(ctx, d),
        Action::Verify { target } => device::verify(ctx, target),
        Action::Snapshot { thin, origin, id } => thins::snapshot(ctx, thin, origin, *id),
        Action::DeleteThin { thin } => thins::delete(ctx, thin),
        Action::SmallWrite(w) if w.background => background::start(ctx, w),
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
        Action::Io(s) => match &s.target {
            crate::spec::IoTarget::File { on, path } => io_file::io_file(ctx, on, path, &s.engine),
            _ => io::io(ctx, s),
        },
        Action::EngineVsFio(p) => io::engine_vs_fio(ctx, p),
        Action::Wait { step } => background::wait(ctx, step),
        Action::Message(m) => control::message(ctx, m),
        Action::Suspend {
            device,
            flush,
            pool_resumes_after,
        } => control::suspend(ctx, device, *flush, *pool_resumes_after),
        Action::Resume {
            device,
            pool_resumes_after,
        } => control::resume(ctx, device, *pool_resumes_after),
        Action::Activate(a) => control::activate(ctx, a),
        Action::Deactivate { thin } => control::deactivate(ctx, thin),
        Action::Reload(r) => reload::reload(ctx, r),
        Action::Resize(r) => reload::resize(ctx, r),
        Action::Discard(d) => discard::run(ctx, d),
        Action::Mkfs(m) => fs::mkfs(ctx, m),
        Action::Mount(m) => fs::mount(ctx, m),
        Action::Umount { on } => fs::umount(ctx, on),
        Action::File(f) if f.background => fs_background::start(ctx, f),
        Action::File(f) => fs::file(ctx, f),
        Action::VerifyFiles(v) => fs::verify_files(ctx, v),
        Action::Fsck { on } => fs::fsck(ctx, on),
        // Generated metadata (`thin_restore` with `generate`) starts from no thins.
        Action::MetadataTool(m) => match &m.generate {
            Some(g) => restore_generated::restore(ctx, g, m.damage),
            None => tool::run(ctx, m),
        },
        Action::DmTable(t) => dm_table::run(ctx, t),
        Action::Idle { hold } => {
            let end = std::time::Instant::now() + *hold;
            while std::time::Instant::now() < end && !crate::sys::signals::stop_requested() {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok(ActionOutput {
                predicted: Some(0),
                ..Default::default()
            })
        }
    }
}

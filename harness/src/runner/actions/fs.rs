//! The filesystem steps: `mkfs`, `mount`, `umount`, `file`, `verify-files`, `fsck`, on
//! any thin, snapshots included, or a device of the case (`fs_target.rs`: over thins,
//! its IO is theirs to resync). The file model (`runner/fs_state.rs`) says what each
//! thin's files hold — a snapshot's are its origin's as of the snapshot — and
//! `verify-files` checks every file against it, and against the scenario's own claims.
//!
//! Where a filesystem writes is not the model's to predict: after each step the
//! filesystem is synced and the block model rebuilt from the kernel's metadata
//! (`thin_dump`), as after `delete`'s filesystem, every thin no filesystem writes checked
//! unchanged first; the step's "data blocks allocated == model" says so. `fsck` (`-n`,
//! read-only) is predicted: 0.

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use thinbench_schema::ids::ThinId;

use super::ctx::{ActionOutput, StepCtx};
use super::fs_target::{mount_dir, target};
use crate::runner::case::check;
use crate::runner::error::StepError;
use crate::runner::fs_layout;
use crate::runner::fs_state::{self, Mount, Record};
use crate::spec::{
    FileOp, FileSpec, FsKind, FsTarget, MkfsProfile, MkfsSpec, MountSpec, VerifyFilesSpec,
};
use crate::sys::command;

/// xfsprogs 5.19 and later refuse smaller filesystems ("must be larger than 300MB").
const XFS_MIN: u64 = 300 << 20;

fn mounted(ctx: &StepCtx<'_>, on: &FsTarget) -> Result<PathBuf, StepError> {
    ctx.state
        .fs
        .mount_at(on)
        .map(Path::to_owned)
        .ok_or_else(|| StepError::Refused(format!("{on} is not mounted")))
}

fn used(ctx: &StepCtx<'_>) -> Result<u64, StepError> {
    ctx.state
        .model
        .as_ref()
        .map(|m| m.data_blocks_used().0)
        .ok_or_else(|| "no model".into())
}

/// `syncfs` of the filesystem mounted at `dir`.
pub(super) fn syncfs(dir: &Path) -> Result<(), StepError> {
    let f = File::open(dir).map_err(|e| StepError::io(format!("{}", dir.display()), e))?;
    // SAFETY: syncfs on an fd we own.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(StepError::io(
            format!("syncfs {}", dir.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// The ids of the mounted thins (and of the thins under mounted case devices), of the
/// thins background steps write (the model learns those writes at their waits), and of
/// `also`: the thins the model cannot predict.
fn fs_ids(ctx: &StepCtx<'_>, also: &[ThinId]) -> Vec<ThinId> {
    let mut ids: Vec<ThinId> = ctx
        .state
        .fs
        .mounts
        .iter()
        .flat_map(|m| target(ctx, &m.on).map(|t| t.ids).unwrap_or_default())
        .collect();
    ids.extend(ctx.state.background.values().map(|j| j.thin_id));
    ids.extend_from_slice(also);
    ids
}

/// Every mounted filesystem synced, the model rebuilt from the metadata (the thins no
/// filesystem wrote checked first); the step's prediction is the rebuilt model's change
/// since `used0`, noted as such.
pub(super) fn resync(
    ctx: &mut StepCtx<'_>,
    used0: u64,
    also: &[ThinId],
    when: &str,
    out: &mut ActionOutput,
) -> Result<(), StepError> {
    for m in ctx.state.fs.mounts.clone() {
        syncfs(&m.dir)?;
    }
    let ids = fs_ids(ctx, also);
    let (c, _) = super::resync::resync(ctx, &ids, when)?;
    out.checks.push(c);
    out.predicted = Some(used(ctx)? as i64 - used0 as i64);
    out.predicted_note = Some("filesystem IO resynced from thin_dump".into());
    Ok(())
}

/// `mkfs`.
pub fn mkfs(ctx: &mut StepCtx<'_>, s: &MkfsSpec) -> Result<ActionOutput, StepError> {
    let t = target(ctx, &s.on)?;
    if ctx.state.fs.mount_at(&s.on).is_some() {
        return Err(StepError::Refused(format!("{} is mounted", s.on)));
    }
    if s.fs == FsKind::Xfs && t.size.0 < XFS_MIN {
        return Err(StepError::Refused(format!(
            "mkfs.xfs needs at least 300MiB and {} is {}: make it larger, or use fs = \"ext4\"",
            s.on,
            t.size.human()
        )));
    }
    let dev = t.node.clone();
    super::ctx::needs_block_device(&dev)?;
    let used0 = used(ctx)?;
    let d = dev.to_string_lossy().into_owned();
    let args: Vec<&str> = match (s.fs, s.profile) {
        (FsKind::Ext4, MkfsProfile::Docker) => vec![
            "-q",
            "-F",
            "-E",
            "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
            &d,
        ],
        (FsKind::Ext4, MkfsProfile::Defaults) => vec!["-q", "-F", &d],
        (FsKind::Xfs, MkfsProfile::Docker) => vec!["-q", "-f", "-K", &d],
        (FsKind::Xfs, MkfsProfile::Defaults) => vec!["-q", "-f", &d],
    };
    let prog = match s.fs {
        FsKind::Ext4 => "mkfs.ext4",
        FsKind::Xfs => "mkfs.xfs",
    };
    command::run(prog, &args)?;
    if let FsTarget::Device(d) = &s.on {
        let by = format!("step {}", ctx.step.name);
        ctx.state.device_written(d, &by);
    }
    ctx.state.fs.made(&s.on, s.fs);
    let mut out = ActionOutput::default();
    resync(ctx, used0, &t.ids, "after mkfs", &mut out)?;
    Ok(out)
}

/// `mount`, at `<case scratch>/fs/<thin>` (`fs/device.<name>` for a case device).
pub fn mount(ctx: &mut StepCtx<'_>, s: &MountSpec) -> Result<ActionOutput, StepError> {
    let t = target(ctx, &s.on)?;
    let fs =
        ctx.state.fs.files_of(&s.on).map(|f| f.fs).ok_or_else(|| {
            StepError::Refused(format!("{} has no filesystem the case made", s.on))
        })?;
    if ctx.state.fs.mount_at(&s.on).is_some() {
        return Err(StepError::Refused(format!("{} is already mounted", s.on)));
    }
    let dev = t.node.clone();
    super::ctx::needs_block_device(&dev)?;
    let used0 = used(ctx)?;
    let dir = mount_dir(ctx, &s.on);
    std::fs::create_dir_all(&dir).map_err(|e| StepError::io(format!("{}", dir.display()), e))?;
    let _ = crate::sys::modules::ensure(fs.as_str());
    let mut opts = Vec::new();
    if s.discard {
        opts.push("discard");
    }
    if fs == FsKind::Xfs && s.nouuid.unwrap_or(true) {
        opts.push("nouuid");
    }
    let o = opts.join(",");
    let (d, m) = (dev.to_string_lossy(), dir.to_string_lossy());
    let mut args = vec!["-t", fs.as_str()];
    if !o.is_empty() {
        args.extend(["-o", o.as_str()]);
    }
    args.extend([d.as_ref(), m.as_ref()]);
    if let Err(e) = command::run("mount", &args) {
        let _ = std::fs::remove_dir(&dir);
        return Err(e.into());
    }
    ctx.state.fs.mounts.push(Mount {
        on: s.on.clone(),
        dir,
    });
    let mut out = ActionOutput::default();
    resync(ctx, used0, &t.ids, "after mount", &mut out)?;
    Ok(out)
}

/// `umount`.
pub fn umount(ctx: &mut StepCtx<'_>, on: &FsTarget) -> Result<ActionOutput, StepError> {
    let t = target(ctx, on)?;
    let dir = mounted(ctx, on)?;
    let used0 = used(ctx)?;
    command::run("umount", &[&dir.to_string_lossy()])?;
    ctx.state.fs.mounts.retain(|m| &m.on != on);
    let _ = std::fs::remove_dir(&dir);
    let mut out = ActionOutput::default();
    resync(ctx, used0, &t.ids, "after umount", &mut out)?;
    Ok(out)
}

/// `file`.
pub fn file(ctx: &mut StepCtx<'_>, s: &FileSpec) -> Result<ActionOutput, StepError> {
    let t = target(ctx, &s.on)?;
    let dir = mounted(ctx, &s.on)?;
    let used0 = used(ctx)?;
    let len = match s.op {
        FileOp::Write { size } | FileOp::Append { size } => size.0,
        _ => 0,
    };
    if let (FileOp::Write { size }, Some(layout)) = (&s.op, s.layout) {
        // Many records, in order or not; the file model learns them once all are written.
        let state = &mut *ctx.state;
        let plan = fs_layout::Plan::new(
            ctx.step.name.as_str(),
            s.on.name().as_str(),
            &s.path,
            size.0,
            Some(layout),
            &mut || state.next_generation(),
        );
        fs_layout::write_now(&dir, &plan, s.fsync).map_err(StepError::Failed)?;
        ctx.state
            .fs
            .files_mut(&s.on)
            .ok_or_else(|| format!("{} has no file model", s.on))?
            .files
            .insert(plan.path, plan.records);
    } else {
        let rec = Record {
            step: ctx.step.name.to_string(),
            thin: s.on.name().to_string(),
            seq: ctx.state.next_generation(),
            len,
        };
        let files = &mut ctx
            .state
            .fs
            .files_mut(&s.on)
            .ok_or_else(|| format!("{} has no file model", s.on))?
            .files;
        fs_state::apply(&dir, files, &s.path, &s.op, rec, s.fsync).map_err(StepError::Failed)?;
    }
    let mut out = ActionOutput::default();
    resync(
        ctx,
        used0,
        &t.ids,
        &format!("after {} {}", s.op.name(), s.path),
        &mut out,
    )?;
    Ok(out)
}

/// `verify-files`: every file of the thin against the file model, then the scenario's
/// claims against what was read.
pub fn verify_files(ctx: &mut StepCtx<'_>, s: &VerifyFilesSpec) -> Result<ActionOutput, StepError> {
    let t = target(ctx, &s.on)?;
    let dir = mounted(ctx, &s.on)?;
    let used0 = used(ctx)?;
    let read = fs_state::read_tree(&dir);
    let model = ctx
        .state
        .fs
        .files_of(&s.on)
        .map(|f| f.files.clone())
        .unwrap_or_default();
    let mut out = ActionOutput::default();
    let paths: std::collections::BTreeSet<&String> = read.keys().chain(model.keys()).collect();
    for p in paths {
        let (r, m) = (read.get(p), model.get(p));
        let mut observed = fs_state::shown_read(r);
        if let (Some(r), Some(m)) = (r, m) {
            if fs_state::lengths_differ(r, m) {
                observed = format!(
                    "{observed} (record lengths {:?}, the model's {:?})",
                    r.as_ref()
                        .map(|x| x.iter().map(|y| y.1).collect::<Vec<_>>())
                        .unwrap_or_default(),
                    m.iter().map(|y| y.len).collect::<Vec<_>>()
                );
            }
        }
        out.checks.push(check(
            &format!("{}: file {p} == the file model", s.on),
            fs_state::shown_model(m),
            observed,
            ctx.step,
        ));
    }
    for (p, stamps) in &s.contents {
        out.checks.push(check(
            &format!("{}: file {p} (the scenario's claim)", s.on),
            fs_state::shown(Some(stamps)),
            fs_state::shown_read(read.get(p)),
            ctx.step,
        ));
    }
    for p in &s.absent {
        out.checks.push(check(
            &format!("{}: file {p} (the scenario's claim)", s.on),
            "absent".into(),
            fs_state::shown_read(read.get(p)),
            ctx.step,
        ));
    }
    // Reading may update access times: synced and resynced like any filesystem IO.
    resync(ctx, used0, &t.ids, "after reading", &mut out)?;
    Ok(out)
}

/// `fsck`: a read-only check (`e2fsck -fn`, `xfs_repair -n`); a finding fails the step
/// (`refused`, with the tool's words).
pub fn fsck(ctx: &mut StepCtx<'_>, on: &FsTarget) -> Result<ActionOutput, StepError> {
    let t = target(ctx, on)?;
    if ctx.state.fs.mount_at(on).is_some() {
        return Err(StepError::Refused(format!("{on} is mounted")));
    }
    let fs = ctx
        .state
        .fs
        .files_of(on)
        .map(|f| f.fs)
        .ok_or_else(|| StepError::Refused(format!("{on} has no filesystem the case made")))?;
    let dev = t.node.clone();
    super::ctx::needs_block_device(&dev)?;
    let d = dev.to_string_lossy().into_owned();
    let (prog, args): (&str, Vec<&str>) = match fs {
        FsKind::Ext4 => ("e2fsck", vec!["-f", "-n", &d]),
        FsKind::Xfs => ("xfs_repair", vec!["-n", &d]),
    };
    // Named without the device path (which carries the run id), so verdicts compare.
    let shown = format!("{prog} {}", args[..args.len() - 1].join(" "));
    if let Err(e) = command::run(prog, &args) {
        return Err(StepError::Refused(format!(
            "{shown} found problems on {on}: {e}"
        )));
    }
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    out.checks.push(check(
        &format!("{on}: {shown}"),
        "clean".into(),
        "clean".into(),
        ctx.step,
    ));
    Ok(out)
}

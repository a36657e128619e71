//! `deferred-removal` and `deferred-deletion`: what Docker's devicemapper driver did when
//! a device was still in use. A holder keeps the thin busy — an open fd, a mounted
//! filesystem, or a mount leaked into another mount namespace (the source of "Device is
//! Busy") — then:
//! - removal: a plain remove fails with EBUSY; `DM_DEFERRED_REMOVE` succeeds, the device
//!   shows the deferred flag and disappears at its last close;
//! - deletion: the pool `delete` fails with EBUSY while the device is active; the thin is
//!   recorded as deferred-deleted (Docker's "Deferred Deleted Device Count") and a worker
//!   retries every interval until the delete goes through.

use crate::runner::error::{Context, StepError};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{Better, ExpectationResult, Metric, MetricKind, Status};

use super::ctx::{ActionOutput, StepCtx};
use crate::backend::{is_busy, PoolBackend};
use crate::spec::{DeferredSpec, Holder};
use crate::sys::command;

/// Where holders mount filesystems; `thinbench cleanup` unmounts what is left here.
pub const MOUNT_BASE: &str = "/run/thinbench/mnt";

fn metric(name: &str, value: f64, unit: &str, kind: MetricKind) -> Metric {
    super::ctx::metric(name, value, unit, kind, Better::Neither)
}

fn passed(what: &str, observed: String) -> ExpectationResult {
    ExpectationResult {
        what: what.into(),
        expected: "yes".into(),
        observed,
        status: Status::Passed,
        message: None,
    }
}

fn failed(ctx: &StepCtx<'_>, what: &str, observed: String) -> ExpectationResult {
    ExpectationResult {
        what: what.into(),
        expected: "yes".into(),
        message: Some(format!(
            "step {} ({}): {what}: {observed}",
            ctx.step.index, ctx.step.name
        )),
        observed,
        status: Status::Failed,
    }
}

/// What keeps the device busy.
enum Held {
    Fd(File),
    Mount(PathBuf),
    Namespace(Child),
}

fn mkfs(dev: &Path) -> Result<(), StepError> {
    // The mount that follows needs ext4 (loaded in the VM's background); a failure shows
    // as mount's own error.
    let _ = crate::sys::modules::ensure("ext4");
    // Docker's ext4 options for thin devices.
    command::run(
        "mkfs.ext4",
        &[
            "-q",
            "-F",
            "-E",
            "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
            &dev.to_string_lossy(),
        ],
    )
    .map(|_| ())
    .map_err(StepError::from)
}

fn hold(dev: &Path, holder: Holder, mnt: &Path) -> Result<Held, StepError> {
    match holder {
        Holder::Fd => File::open(dev)
            .map(Held::Fd)
            .context(format!("opening {}", dev.display())),
        Holder::Mount => {
            super::ctx::needs_block_device(dev)?;
            mkfs(dev)?;
            std::fs::create_dir_all(mnt).context(format!("{}", mnt.display()))?;
            command::run(
                "mount",
                &["-t", "ext4", &dev.to_string_lossy(), &mnt.to_string_lossy()],
            )?;
            Ok(Held::Mount(mnt.to_owned()))
        }
        Holder::MountNamespace => {
            super::ctx::needs_block_device(dev)?;
            mkfs(dev)?;
            std::fs::create_dir_all(mnt).context(format!("{}", mnt.display()))?;
            // A process in its own mount namespace mounts the device and keeps it: the
            // mount is invisible here, yet the device stays busy.
            let script = format!(
                "mount -t ext4 {} {} && echo ready && exec sleep 3600",
                dev.display(),
                mnt.display()
            );
            let mut cmd = Command::new("unshare");
            cmd.args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; the holder must die with the run.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd.spawn().context("unshare")?;
            let mut line = String::new();
            let out = child.stdout.take().ok_or("unshare: no stdout")?;
            BufReader::new(out).read_line(&mut line)?;
            if line.trim() != "ready" {
                let _ = child.kill();
                return Err("the mount in the other namespace failed".into());
            }
            Ok(Held::Namespace(child))
        }
    }
}

fn release(h: Held) -> Result<(), StepError> {
    match h {
        Held::Fd(f) => {
            drop(f);
            Ok(())
        }
        Held::Mount(m) => command::run("umount", &[&m.to_string_lossy()])
            .map(|_| ())
            .map_err(StepError::from),
        Held::Namespace(mut c) => {
            // The namespace, and its mount, end with its last process.
            let _ = c.kill();
            c.wait().map(|_| ()).map_err(StepError::from)
        }
    }
}

fn mount_point(ctx: &StepCtx<'_>) -> PathBuf {
    Path::new(MOUNT_BASE).join(format!(
        "{}-{}-{}",
        std::process::id(),
        ctx.pool.name,
        ctx.step.name
    ))
}

/// Wait until `dm_name` is gone; the time it took.
fn wait_gone(backend: &dyn PoolBackend, thin: &Ident, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if matches!(backend.deferred_pending(thin), Ok(None)) {
            return Some(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The step's prediction: the thin goes, with its exclusive blocks. A filesystem made by
/// the holder takes blocks the model never saw (the kernel places mkfs's IO), but they are
/// allocated and freed within this one step, so the step's net change is exactly the
/// model's exclusive blocks — provided the thin shares nothing the mkfs overwrote, which
/// holds for a thin that is not part of a snapshot relation.
fn model_delete(
    ctx: &mut StepCtx<'_>,
    thin: &Ident,
    id: thinbench_schema::ids::ThinId,
) -> Result<i64, StepError> {
    let freed = ctx.state.model.as_mut().ok_or("no model")?.delete(id)?;
    ctx.state.written.remove(thin);
    ctx.state.log.remove(thin);
    Ok(-(freed.0 as i64))
}

/// A thin made busy by its holder.
struct Busy {
    t: crate::backend::ThinDev,
    mnt: PathBuf,
    held: Held,
    /// Blocks the holder's mkfs took (0 for an fd).
    fs_blocks: i64,
}

fn make_busy(ctx: &mut StepCtx<'_>, d: &DeferredSpec) -> Result<Busy, StepError> {
    let t = ctx
        .backend
        .thin(&d.thin)
        .ok_or_else(|| format!("no thin {}", d.thin))?
        .clone();
    let mnt = mount_point(ctx);
    let used = |ctx: &StepCtx<'_>| {
        ctx.backend
            .status()
            .map(|u| u.data_used.0 as i64)
            .map_err(StepError::from)
    };
    let before = used(ctx)?;
    let held = hold(&t.node(), d.holder, &mnt)?;
    // Filesystem IO (mkfs) is the kernel's to place: the model learns it from the pool.
    let fs_blocks = used(ctx)? - before;
    Ok(Busy {
        t,
        mnt,
        held,
        fs_blocks,
    })
}

/// `deferred-removal`.
pub fn removal(ctx: &mut StepCtx<'_>, d: &DeferredSpec) -> Result<ActionOutput, StepError> {
    let Busy {
        t,
        mnt,
        held,
        fs_blocks,
    } = make_busy(ctx, d)?;
    let mut out = ActionOutput::default();
    let busy = ctx.backend.deactivate_thin(&d.thin, false);
    out.checks.push(match &busy {
        Err(e) if is_busy(e) => passed(
            "plain remove of a busy device fails with EBUSY (\"Device is Busy\")",
            "EBUSY".into(),
        ),
        Err(e) => failed(
            ctx,
            "plain remove of a busy device fails with EBUSY",
            e.to_string(),
        ),
        Ok(()) => failed(
            ctx,
            "plain remove of a busy device fails with EBUSY",
            "it succeeded".into(),
        ),
    });
    let t0 = Instant::now();
    let deferred = ctx.backend.deactivate_thin(&d.thin, true);
    let pending = ctx.backend.deferred_pending(&d.thin).ok().flatten();
    out.checks.push(match (&deferred, pending) {
        (Ok(()), Some(true)) => passed(
            "deferred remove accepted, device shows the deferred flag",
            "ACTIVE (DEFERRED REMOVE)".into(),
        ),
        (r, p) => failed(
            ctx,
            "deferred remove accepted, device shows the deferred flag",
            format!("{r:?}, pending {p:?}"),
        ),
    });
    std::thread::sleep(d.hold);
    let still = ctx
        .backend
        .deferred_pending(&d.thin)
        .ok()
        .flatten()
        .is_some();
    out.checks.push(if still {
        passed(
            "device still present while held",
            format!("after {} ms", d.hold.as_millis()),
        )
    } else {
        failed(
            ctx,
            "device still present while held",
            "it vanished while still held".into(),
        )
    });
    let released = Instant::now();
    release(held)?;
    let gone = wait_gone(&*ctx.backend, &d.thin, Duration::from_secs(30));
    out.checks.push(match gone {
        Some(g) => passed(
            "device disappears at last close",
            format!("{:.1} ms after release", ms(g)),
        ),
        None => failed(
            ctx,
            "device disappears at last close",
            "still there 30 s after release".into(),
        ),
    });
    let _ = std::fs::remove_dir(&mnt);
    // Now delete the thin; the pool can still report EBUSY for a moment: retry.
    let mut retries = 0u32;
    let del_start = Instant::now();
    loop {
        match ctx.backend.delete_inactive_thin(&d.thin) {
            Ok(()) => break,
            Err(e) if is_busy(&e) && del_start.elapsed() < Duration::from_secs(10) => {
                retries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(
                    StepError::from(e).context(format!("deleting {} after its removal", d.thin))
                )
            }
        }
    }
    out.metrics.push(metric(
        "deferred.removal_pending_ms",
        ms(released.duration_since(t0)),
        "ms",
        MetricKind::Timing,
    ));
    if let Some(g) = gone {
        out.metrics.push(metric(
            "deferred.removal_after_release_ms",
            ms(g),
            "ms",
            MetricKind::Timing,
        ));
    }
    out.metrics.push(metric(
        "deferred.delete_busy_retries",
        f64::from(retries),
        "count",
        MetricKind::Timing,
    ));
    out.metrics.push(metric(
        "deferred.fs_blocks",
        fs_blocks as f64,
        "blocks",
        MetricKind::Exact,
    ));
    out.predicted = Some(model_delete(ctx, &d.thin, t.id)?);
    Ok(out)
}

/// `deferred-deletion`: Docker's userspace deferred deletion with a retry worker.
pub fn deletion(ctx: &mut StepCtx<'_>, d: &DeferredSpec) -> Result<ActionOutput, StepError> {
    let Busy {
        t,
        mnt,
        held,
        fs_blocks,
    } = make_busy(ctx, d)?;
    let mut out = ActionOutput::default();
    // Docker: deactivate (deferred, since it is busy), then delete.
    ctx.backend.deactivate_thin(&d.thin, true)?;
    let first = ctx.backend.delete_inactive_thin(&d.thin);
    let mut deferred_count = 0u32;
    out.checks.push(match &first {
        Err(e) if is_busy(e) => {
            deferred_count = 1;
            passed(
                "delete of a busy thin fails with EBUSY and is deferred",
                "EBUSY: deferred".into(),
            )
        }
        other => failed(
            ctx,
            "delete of a busy thin fails with EBUSY and is deferred",
            format!("{other:?}"),
        ),
    });
    out.metrics.push(metric(
        "deferred.deleted_device_count_peak",
        f64::from(deferred_count),
        "count",
        MetricKind::Exact,
    ));
    // The worker: retry every interval; the holder lets go after `hold`.
    let start = Instant::now();
    let mut held = Some(held);
    let mut attempts = 1u32;
    let mut done = first.is_ok();
    while !done && start.elapsed() < d.hold + Duration::from_secs(60) {
        std::thread::sleep(d.retry_interval);
        if start.elapsed() >= d.hold {
            if let Some(h) = held.take() {
                release(h)?;
                let _ = wait_gone(&*ctx.backend, &d.thin, Duration::from_secs(10));
            }
        }
        attempts += 1;
        match ctx.backend.delete_inactive_thin(&d.thin) {
            Ok(()) => done = true,
            Err(e) if is_busy(&e) => {}
            Err(e) => {
                return Err(StepError::from(e).context(format!("deferred deletion of {}", d.thin)))
            }
        }
    }
    if let Some(h) = held.take() {
        let _ = release(h);
    }
    let _ = std::fs::remove_dir(&mnt);
    out.checks.push(if done {
        passed(
            "the worker deletes the thin once it is free",
            format!("after {attempts} attempts, {:.0} ms", ms(start.elapsed())),
        )
    } else {
        failed(
            ctx,
            "the worker deletes the thin once it is free",
            format!("still not deleted after {attempts} attempts"),
        )
    });
    out.metrics.push(metric(
        "deferred.deletion_attempts",
        f64::from(attempts),
        "count",
        MetricKind::Timing,
    ));
    out.metrics.push(metric(
        "deferred.deletion_ms",
        ms(start.elapsed()),
        "ms",
        MetricKind::Timing,
    ));
    out.metrics.push(metric(
        "deferred.deleted_device_count",
        f64::from(u8::from(!done)),
        "count",
        MetricKind::Exact,
    ));
    if !done {
        return Ok(out);
    }
    out.metrics.push(metric(
        "deferred.fs_blocks",
        fs_blocks as f64,
        "blocks",
        MetricKind::Exact,
    ));
    out.predicted = Some(model_delete(ctx, &d.thin, t.id)?);
    Ok(out)
}

//! `delete`: files deleted on a filesystem on a thin, as Docker used its base device, and
//! how much of their space comes back — to the pool (data blocks) and, for loop-lvm, to
//! the filesystem holding the pool's sparse data file ("loop-lvm does not give space
//! back").
//!
//! The accounting oracle cannot predict where a filesystem writes. So the model is not
//! asked to: after the filesystem's IO, the model is rebuilt from the kernel's own
//! metadata (`thin_dump` of a metadata snapshot), and the step's expectation says so.
//! What the model *can* predict it still predicts: Docker's delete-time BLKDISCARD over
//! the whole thin and the delete that follows are checked against the model exactly.
//! Every thin the filesystem did not write must be unchanged in the kernel's metadata,
//! so a resync never hides a model error elsewhere.

use crate::runner::error::{Context, StepError};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{Better, ExpectationResult, Metric, MetricKind, Status};
use thinbench_schema::units::Bytes;
use thinbench_workloads::pattern;

use super::ctx::{ActionOutput, StepCtx};
use super::resync::{model, resync};
use super::write::STAMP_DEVICE;
use crate::spec::{DeleteMethod, DeleteSpec, FsKind};
use crate::sys::command;

const FILE_SIZE: u64 = Bytes::MIB;
/// `BLKDISCARD` = `_IO(0x12, 119)`: discard a byte range `[start, len]` of a block device.
const BLKDISCARD: u64 = 0x1277;
/// xfsprogs 5.19 and later refuse smaller filesystems ("must be larger than 300MB").
const XFS_MIN: u64 = 300 * Bytes::MIB;

fn metric(name: &str, value: f64, unit: &str, better: Better) -> Metric {
    super::ctx::metric(name, value, unit, MetricKind::Exact, better)
}

fn expectation(
    ctx: &StepCtx<'_>,
    what: &str,
    expected: String,
    observed: String,
) -> ExpectationResult {
    crate::runner::case::check(what, expected, observed, ctx.step)
}

/// A mounted filesystem, unmounted (and its directory removed) on every path.
struct Mounted {
    dir: PathBuf,
    mounted: bool,
}

impl Mounted {
    fn mount(dev: &Path, dir: &Path, fs: FsKind, discard: bool) -> Result<Mounted, StepError> {
        fs::create_dir_all(dir).context(format!("creating {}", dir.display()))?;
        // xfs is loaded on demand in the VM; a failure shows as mount's own error.
        let _ = crate::sys::modules::ensure(fs.as_str());
        let mut opts = Vec::new();
        if fs == FsKind::Xfs {
            // Docker mounted xfs with nouuid: snapshots share the origin's uuid.
            opts.push("nouuid");
        }
        if discard {
            opts.push("discard");
        }
        let mut args = vec!["-t", fs.as_str()];
        let o = opts.join(",");
        if !o.is_empty() {
            args.extend(["-o", &o]);
        }
        let (d, m) = (dev.to_string_lossy(), dir.to_string_lossy());
        args.extend([d.as_ref(), m.as_ref()]);
        if let Err(e) = command::run("mount", &args) {
            let _ = fs::remove_dir(dir);
            return Err(e.into());
        }
        Ok(Mounted {
            dir: dir.to_owned(),
            mounted: true,
        })
    }

    fn umount(&mut self) -> Result<(), StepError> {
        if self.mounted {
            command::run("umount", &[&self.dir.to_string_lossy()])?;
            self.mounted = false;
        }
        let _ = fs::remove_dir(&self.dir);
        Ok(())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if self.mounted && self.umount().is_err() {
            // Busy: detach it now so teardown can remove the thin; it goes at last close.
            let _ = command::run("umount", &["-l", &self.dir.to_string_lossy()]);
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

fn syncfs(dir: &Path) -> Result<(), StepError> {
    let f = File::open(dir).context(format!("{}", dir.display()))?;
    // SAFETY: syncfs on an fd we own.
    if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
        return Err(format!(
            "syncfs {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        )
        .into());
    }
    Ok(())
}

fn mkfs(fs: FsKind, dev: &Path) -> Result<(), StepError> {
    let d = dev.to_string_lossy();
    let (prog, args): (&str, Vec<&str>) = match fs {
        // -K: no discard at mkfs (Docker's choice: the thin is fresh anyway).
        FsKind::Xfs => ("mkfs.xfs", vec!["-q", "-f", "-K", &d]),
        FsKind::Ext4 => (
            "mkfs.ext4",
            vec![
                "-q",
                "-F",
                "-E",
                "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
                &d,
            ],
        ),
    };
    command::run(prog, &args)
        .map(|_| ())
        .map_err(StepError::from)
}

/// The byte count of `fstrim -v`'s "<dir>: 957.6 MiB (1004126208 bytes) trimmed".
fn fstrim_bytes(said: &str) -> Option<u64> {
    let open = said.rfind('(')?;
    said[open + 1..].split_whitespace().next()?.parse().ok()
}

/// 1MiB files of stamped data, each fsynced.
fn write_files(dir: &Path, n: u64, generation: u64) -> Result<(), StepError> {
    let mut buf = vec![0u8; FILE_SIZE as usize];
    for i in 0..n {
        pattern::stamp(
            &mut buf,
            STAMP_DEVICE,
            Bytes(i * FILE_SIZE),
            generation,
            generation,
        );
        let p = dir.join(format!("f{i:05}"));
        let mut f = File::create(&p).context(format!("{}", p.display()))?;
        f.write_all(&buf)
            .and_then(|_| f.sync_all())
            .context(format!("writing {}", p.display()))?;
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .context(format!("{}", dir.display()))
}

/// Sectors of the files that do not read back as written: (checked, wrong, first problem).
fn verify_files(
    dir: &Path,
    n: u64,
    generation: u64,
) -> Result<(u64, u64, Option<String>), StepError> {
    let (mut checked, mut wrong, mut first) = (0u64, 0u64, None);
    for i in 0..n {
        let p = dir.join(format!("f{i:05}"));
        let data = fs::read(&p).context(format!("{}", p.display()))?;
        if data.len() as u64 != FILE_SIZE {
            wrong += FILE_SIZE / 512;
            first.get_or_insert_with(|| format!("{} is {} bytes", p.display(), data.len()));
            continue;
        }
        for (k, sector) in data.chunks_exact(512).enumerate() {
            checked += 1;
            let off = Bytes(i * FILE_SIZE + k as u64 * 512);
            let bad = match pattern::verify(sector, STAMP_DEVICE, off) {
                Ok(s) if s.generation == generation => None,
                Ok(s) => Some(format!(
                    "generation {}, expected {generation}",
                    s.generation
                )),
                Err(m) => Some(m.to_string()),
            };
            if let Some(b) = bad {
                wrong += 1;
                first.get_or_insert_with(|| format!("{} sector {k}: {b}", p.display()));
            }
        }
    }
    Ok((checked, wrong, first))
}

fn remove_files(dir: &Path, n: u64) -> Result<(), StepError> {
    for i in 0..n {
        let p = dir.join(format!("f{i:05}"));
        fs::remove_file(&p).context(format!("rm {}", p.display()))?;
    }
    Ok(())
}

/// BLKDISCARD over `len` bytes from 0: Docker's discard of a whole device it deleted.
fn blkdiscard(dev: &Path, len: u64) -> Result<(), StepError> {
    let f = OpenOptions::new()
        .write(true)
        .open(dev)
        .context(format!("opening {}", dev.display()))?;
    let range: [u64; 2] = [0, len];
    // SAFETY: BLKDISCARD reads two u64s from the pointer, which outlives the call.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), BLKDISCARD as _, range.as_ptr()) };
    if r != 0 {
        return Err(format!(
            "BLKDISCARD on {}: {}",
            dev.display(),
            std::io::Error::last_os_error()
        )
        .into());
    }
    Ok(())
}

/// Bytes the loop-lvm data file occupies on its filesystem (`st_blocks * 512`).
fn file_bytes(path: &Path) -> Result<u64, StepError> {
    let f = File::open(path).context(format!("{}", path.display()))?;
    f.sync_all().context(format!("fsync {}", path.display()))?;
    let m = f.metadata().context(format!("{}", path.display()))?;
    Ok(m.blocks() * 512)
}

fn used(ctx: &StepCtx<'_>) -> Result<u64, StepError> {
    ctx.backend
        .status()
        .map(|u| u.data_used.0)
        .map_err(StepError::from)
}

/// Wait until the pool's used count holds still (discards a filesystem queued may still
/// be completing after umount); its value.
fn settle(ctx: &StepCtx<'_>) -> Result<u64, StepError> {
    let start = Instant::now();
    let mut last = used(ctx)?;
    let mut still = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        let now = used(ctx)?;
        if now != last {
            last = now;
            still = Instant::now();
        } else if still.elapsed() >= Duration::from_millis(300) {
            break;
        }
    }
    Ok(last)
}

/// The `delete` action.
pub fn run(ctx: &mut StepCtx<'_>, d: &DeleteSpec) -> Result<ActionOutput, StepError> {
    let t = ctx
        .backend
        .thin(&d.thin)
        .ok_or_else(|| format!("no thin {}", d.thin))?
        .clone();
    if d.fs == FsKind::Xfs && t.size.0 < XFS_MIN {
        return Err(format!(
            "mkfs.xfs needs at least 300MiB and thin {} is {}: make it larger, or use fs = \"ext4\"",
            d.thin,
            t.size.human()
        ).into());
    }
    let n_files = d.files.0 / FILE_SIZE;
    let dev = t.node();
    let dir = ctx.state.scratch.join(format!("mnt-{}", ctx.step.name));
    let data_file = ctx.backend.data_file();
    let used0 = model(ctx)?.data_blocks_used().0;
    let mut out = ActionOutput::default();
    let discard_mount = d.method == DeleteMethod::DiscardMount;

    // 1. Docker's filesystem on the thin, and the files.
    super::ctx::needs_block_device(&dev)?;
    mkfs(d.fs, &dev)?;
    let generation = ctx.state.next_generation();
    let mut m = Mounted::mount(&dev, &dir, d.fs, discard_mount)?;
    write_files(&dir, n_files, generation)?;
    m.umount()?;
    // Only this thin is written by the filesystem; a snapshot taken below is not, and
    // must stay as the model has it.
    let fs_thins = [t.id];
    let (check, mapped_written) = resync(ctx, &fs_thins, "after mkfs and writing")?;
    out.checks.push(check);
    let fs_blocks = settle(ctx)? as i64 - used0 as i64;

    // 2. The snapshot that must keep its blocks.
    if d.snapshot {
        let name = Ident::new(&format!("{}-snap", ctx.step.name)).context("snapshot name")?;
        super::thins::snapshot(ctx, &name, &d.thin, None)?;
    }

    // 3. Before: the pool, and the loop-lvm data file on its filesystem.
    let blocks_before = settle(ctx)?;
    let host_before = data_file.as_deref().map(file_bytes).transpose()?;

    // 4. The deletion.
    let mut m = Mounted::mount(&dev, &dir, d.fs, discard_mount)?;
    let (checked, wrong, first) = verify_files(&dir, n_files, generation)?;
    out.checks.push(ExpectationResult {
        what: "integrity: files read back as written before deletion".into(),
        expected: format!("{checked} sectors intact"),
        observed: format!("{} sectors intact", checked - wrong),
        status: if wrong == 0 {
            Status::Passed
        } else {
            Status::Failed
        },
        message: first.map(|f| {
            format!(
                "step {} ({}): {wrong} of {checked} sectors wrong; first: {f}",
                ctx.step.index, ctx.step.name
            )
        }),
    });
    remove_files(&dir, n_files)?;
    File::open(&dir)
        .and_then(|f| f.sync_all())
        .context(format!("{}", dir.display()))?;
    syncfs(&dir)?;
    match d.method {
        DeleteMethod::Fstrim => {
            // "<mnt>: 957.6 MiB (1004126208 bytes) trimmed"
            let said = command::run("fstrim", &["-v", &dir.to_string_lossy()])?;
            if let Some(b) = fstrim_bytes(&said) {
                out.metrics.push(metric(
                    "space.fstrim_bytes",
                    b as f64,
                    "bytes",
                    Better::Neither,
                ));
            }
        }
        // The filesystem discards what it freed as its log commits: force that.
        DeleteMethod::DiscardMount => syncfs(&dir)?,
        DeleteMethod::None | DeleteMethod::Blkdiscard => {}
    }
    m.umount()?;
    let (check, mapped_deleted) = resync(ctx, &fs_thins, "after deleting")?;
    out.checks.push(check);
    let mut unmapped = mapped_written as i64 - mapped_deleted as i64;
    let mut note = "resynced from thin_dump: fs-chosen IO".to_owned();
    if d.method == DeleteMethod::Blkdiscard {
        // Docker's delete: discard the whole device, then delete it. Both exactly
        // predicted by the model, and checked on their own.
        let before = settle(ctx)?;
        blkdiscard(&dev, t.size.0)?;
        let m = model(ctx)?;
        let discarded = m.discard(t.id, Bytes(0), t.size)?;
        unmapped += discarded.unmapped.0 as i64;
        ctx.backend.delete_thin(&d.thin)?;
        let freed = model(ctx)?.delete(t.id)?;
        ctx.state.written.remove(&d.thin);
        ctx.state.log.remove(&d.thin);
        let after = used(ctx)?;
        out.checks.push(expectation(
            ctx,
            "blkdiscard + delete: data blocks freed == model (predicted)",
            (discarded.freed.0 + freed.0).to_string(),
            (before as i64 - after as i64).to_string(),
        ));
        out.metrics.push(metric(
            "space.blkdiscard_chunks_unmapped",
            discarded.unmapped.0 as f64,
            "blocks",
            Better::Neither,
        ));
        note = "filesystem IO resynced from thin_dump; blkdiscard + delete predicted".into();
    }

    // 5. After.
    let blocks_after = settle(ctx)?;
    let host_after = data_file.as_deref().map(file_bytes).transpose()?;
    let per = |v: u64| v as f64;
    out.metrics.extend([
        metric(
            "space.files_bytes",
            per(d.files.0),
            "bytes",
            Better::Neither,
        ),
        metric("space.fs_blocks", fs_blocks as f64, "blocks", Better::Lower),
        metric(
            "space.pool_blocks_before",
            per(blocks_before),
            "blocks",
            Better::Neither,
        ),
        metric(
            "space.pool_blocks_after",
            per(blocks_after),
            "blocks",
            Better::Lower,
        ),
        metric(
            "space.pool_blocks_returned",
            blocks_before as f64 - blocks_after as f64,
            "blocks",
            Better::Higher,
        ),
        // Chunks the thin stopped mapping (the discards dm-thin honoured); with a
        // snapshot they stay allocated, shared, and pool_blocks_returned stays low.
        metric(
            "space.thin_blocks_unmapped",
            unmapped as f64,
            "blocks",
            Better::Higher,
        ),
        metric(
            "space.discard_passdown",
            f64::from(u8::from(ctx.pool.discard_passdown)),
            "bool",
            Better::Neither,
        ),
    ]);
    if let (Some(b), Some(a)) = (host_before, host_after) {
        out.metrics.extend([
            metric("space.host_bytes_before", per(b), "bytes", Better::Neither),
            metric("space.host_bytes_after", per(a), "bytes", Better::Lower),
            metric(
                "space.host_bytes_returned",
                b as f64 - a as f64,
                "bytes",
                Better::Higher,
            ),
        ]);
    }
    let end = model(ctx)?.data_blocks_used().0;
    out.predicted = Some(end as i64 - used0 as i64);
    out.predicted_note = Some(note);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fstrim_output() {
        assert_eq!(
            super::fstrim_bytes("/run/x/mnt: 957.6 MiB (1004126208 bytes) trimmed\n"),
            Some(1_004_126_208)
        );
        assert_eq!(super::fstrim_bytes("nonsense"), None);
    }
}

//! Power cuts: `reboot` (the pool goes down with its faults in force — a flakey
//! `drop_writes` is a power cut's view of the disk — and comes back from the same backing
//! devices) and `replay` (the pool's `log-writes` log replayed onto scratch copies, each
//! chosen crash point checked: `thin_check` of the metadata, then the flushed writes read
//! back through a read-only pool over the copies).
//!
//! The integrity oracle of both is the same: writes acknowledged before a flush that
//! completed before the cut must read back; a sector may also hold a later write to it
//! (acknowledged, not yet flushed, but it reached the disk before the cut) — never
//! anything else.

use crate::runner::error::{Context, StepError};
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::path::Path;
use std::time::{Duration, Instant};

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::{Better, MetricKind, PoolMode};
use thinbench_schema::units::Bytes;
use thinbench_workloads::engine::{AlignedBuf, Device};
use thinbench_workloads::pattern;

use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::STAMP_DEVICE;
use crate::backend::dm::Dm;
use crate::backend::fault_log::PoolDevice;
use crate::backend::log_writes::{LogReader, PointKind, Region, Replayer, Select};
use crate::backend::table::PoolTable;
use crate::backend::{loopdev, thin_tools};
use crate::runner::case::{verdict, LoggedWrite};
use crate::spec::{RebootSpec, ReplayPoints, ReplaySpec};

/// What a durable-write check found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Durable {
    /// Sectors read.
    checked: u64,
    /// Sectors holding a later (unflushed) write instead: allowed.
    newer: u64,
    /// Sectors holding neither: lost or damaged.
    bad: u64,
    /// The first bad one.
    first_bad: Option<String>,
}

/// Read back `durable` (a thin's writes flushed before the cut, oldest first) from `dev`:
/// each sector must hold its last durable write, or a write of `later` to it.
fn verify_durable(
    dev: &Device,
    durable: &[LoggedWrite],
    later: &[LoggedWrite],
) -> Result<Durable, StepError> {
    const SECTOR: u64 = 512;
    let mut want: HashMap<u64, u64> = HashMap::new();
    for &(off, len, g) in durable {
        for s in off.0 / SECTOR..(off.0 + len.0) / SECTOR {
            want.insert(s, g);
        }
    }
    let mut newer: HashMap<u64, Vec<u64>> = HashMap::new();
    for &(off, len, g) in later {
        for s in off.0 / SECTOR..(off.0 + len.0) / SECTOR {
            if want.contains_key(&s) {
                newer.entry(s).or_default().push(g);
            }
        }
    }
    let mut sectors: Vec<u64> = want.keys().copied().collect();
    sectors.sort_unstable();
    let mut d = Durable::default();
    let mut buf = AlignedBuf::new(1 << 20);
    let mut i = 0;
    while i < sectors.len() {
        // A run of consecutive sectors, at most one buffer long.
        let first = sectors[i];
        let mut n = 1;
        while i + n < sectors.len()
            && sectors[i + n] == first + n as u64
            && (n as u64 + 1) * SECTOR <= buf.len() as u64
        {
            n += 1;
        }
        let bytes = &mut buf[..n * SECTOR as usize];
        dev.read_at(bytes, Bytes(first * SECTOR)).map_err(|e| {
            format!(
                "reading {} at byte {}: {e}",
                dev.path().display(),
                first * SECTOR
            )
        })?;
        for (k, sector) in bytes.chunks_exact(SECTOR as usize).enumerate() {
            let s = first + k as u64;
            d.checked += 1;
            let g = want[&s];
            match pattern::verify(sector, STAMP_DEVICE, Bytes(s * SECTOR)) {
                Ok(st) if st.generation == g => {}
                Ok(st) if newer.get(&s).is_some_and(|v| v.contains(&st.generation)) => d.newer += 1,
                other => {
                    d.bad += 1;
                    if d.first_bad.is_none() {
                        d.first_bad = Some(match other {
                            Ok(st) => format!(
                                "byte {}: generation {} (flushed: {g})",
                                s * SECTOR,
                                st.generation
                            ),
                            Err(m) => format!("byte {}: {m} (flushed generation {g})", s * SECTOR),
                        });
                    }
                }
            }
        }
        i += n;
    }
    Ok(d)
}

/// The `reboot` action.
pub fn reboot(ctx: &mut StepCtx<'_>, r: &RebootSpec) -> Result<ActionOutput, StepError> {
    let step = ctx.step;
    let sched = ctx.state.faults.clone();
    // The writes that must survive: those flushed before anything in force could lose a
    // write (no such fault: all flushed ones).
    let since = sched.as_ref().and_then(|s| s.damage_since());
    let durable = ctx
        .state
        .flushes
        .iter()
        .rev()
        .find(|f| since.is_none_or(|t| f.at < t))
        .map(|f| f.lens.clone())
        .unwrap_or_default();
    let t = Instant::now();
    let mut power_on = || match &sched {
        Some(s) => s.end_all(
            &Dm::open().map_err(|e| e.to_string())?,
            "power back on (reboot)",
        ),
        None => Ok(Vec::new()),
    };
    let rb = ctx
        .backend
        .reboot(&mut power_on, r.repair)
        .context("reboot")?;
    let took = t.elapsed();
    let after = ctx.backend.status()?;
    let mut o = ActionOutput::default();
    // A thin may be gone only if it did not exist at the last flush before the cut (its
    // creation was never committed).
    let wrongly_lost: Vec<String> = rb
        .lost_thins
        .iter()
        .filter(|(n, _)| durable.contains_key(n))
        .map(|(n, e)| format!("{n}: {e}"))
        .collect();
    o.checks.push(verdict(
        "thins that existed at the last flush before the cut survive it",
        "all".into(),
        if wrongly_lost.is_empty() {
            format!(
                "all ({} created after it gone: {})",
                rb.lost_thins.len(),
                rb.lost_thins
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            wrongly_lost.join("; ")
        },
        wrongly_lost.is_empty(),
        step,
    ));
    for (n, _) in &rb.lost_thins {
        ctx.state.log.remove(n);
        ctx.state.acked.remove(n);
        ctx.state.written.remove(n);
    }
    let check = rb.check.text();
    let after_repair = rb.check_after_repair.as_ref().map(|c| c.text());
    o.checks.push(verdict(
        "thin_check of the metadata the power cut left",
        "thin_check: ok".into(),
        match &after_repair {
            Some(a) => format!("{check}; after thin_repair: {a}"),
            None => check.clone(),
        },
        check == "thin_check: ok" || after_repair.as_deref() == Some("thin_check: ok"),
        step,
    ));
    o.checks.push(verdict(
        "the pool comes back rw without needs_check",
        "rw (needs_check false)".into(),
        format!(
            "{} (needs_check {})",
            after.mode.as_str(),
            after.needs_check
        ),
        after.mode == PoolMode::Rw && !after.needs_check,
        step,
    ));
    // Flushed writes, per thin.
    let (mut checked, mut newer, mut lost_durable) = (0u64, 0u64, 0u64);
    let names: Vec<Ident> = ctx.state.acked.keys().cloned().collect();
    for name in &names {
        let Some(thin) = ctx.backend.thin(name).cloned() else {
            continue;
        };
        let log = ctx.state.acked.get(name).cloned().unwrap_or_default();
        let n = durable.get(name).copied().unwrap_or(0).min(log.len());
        if n == 0 {
            continue;
        }
        let dev = Device::open_read_only(thin.node(), true)?;
        let d = verify_durable(&dev, &log[..n], &log[n..])?;
        checked += d.checked;
        newer += d.newer;
        lost_durable += d.bad;
        o.checks.push(verdict(
            &format!("integrity: {name}'s flushed writes after the reboot"),
            format!("{} sectors intact", d.checked),
            format!(
                "{} intact ({} hold a later unflushed write){}",
                d.checked - d.bad,
                d.newer,
                d.first_bad
                    .map(|b| format!("; first bad {b}"))
                    .unwrap_or_default()
            ),
            d.bad == 0,
            step,
        ));
        // From here on only the flushed writes are known; what else survived is not.
        ctx.state.log.insert(name.clone(), log[..n].to_vec());
    }
    // The kernel's metadata is the truth now: the model follows it (what survived of the
    // unflushed writes is the kernel's to say), after checking it holds every chunk of a
    // flushed write.
    let total = ctx.state.model.as_ref().ok_or("no model")?.total();
    let chunk = ctx.state.model.as_ref().ok_or("no model")?.chunk();
    let dump = ctx.backend.thin_dump(total)?;
    let mut missing = Vec::new();
    for name in &names {
        let (Some(thin), Some(log)) = (ctx.backend.thin(name), ctx.state.log.get(name)) else {
            continue;
        };
        let mapped: std::collections::BTreeSet<u64> = dump
            .thin(thin.id)
            .map(|t| t.mappings.iter().map(|m| m.0).collect())
            .unwrap_or_default();
        let want: std::collections::BTreeSet<u64> = log
            .iter()
            .flat_map(|&(o, l, _)| o.0 / chunk.bytes().0..=(o.0 + l.0 - 1) / chunk.bytes().0)
            .collect();
        let absent = want.difference(&mapped).count();
        if absent > 0 {
            missing.push(format!("{name}: {absent} flushed chunk(s) unmapped"));
        }
        ctx.state.written.insert(name.clone(), mapped);
    }
    o.checks.push(verdict(
        "the kernel maps every chunk of a flushed write after the reboot",
        "all mapped".into(),
        if missing.is_empty() {
            "all mapped".into()
        } else {
            missing.join("; ")
        },
        missing.is_empty(),
        step,
    ));
    let kernel = PoolModel::from_metadata(chunk, total, dump.time, &dump.thins)
        .context("model from thin_dump")?;
    if since.is_none() && rb.repaired.is_none() {
        // Nothing in force could lose a write, and the pool committed as it went down:
        // the kernel's metadata after the reboot is exactly the model before it.
        let before = ctx.state.model.as_ref().ok_or("no model")?;
        let differ: Vec<String> = before
            .thins()
            .chain(kernel.thins())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|id| {
                let (m, k) = (before.mapped_chunks(id).ok(), kernel.mapped_chunks(id).ok());
                (m != k).then(|| {
                    let n = |c: &Option<Vec<u64>>| {
                        c.as_ref()
                            .map_or("no thin".into(), |c| format!("{} chunks", c.len()))
                    };
                    format!("thin id {id}: model {}, kernel {}", n(&m), n(&k))
                })
            })
            .collect();
        o.checks.push(verdict(
            "the kernel's mappings after the reboot == the model's before it (no fault could lose a write)",
            "every thin's mapped chunks equal".into(),
            if differ.is_empty() {
                "every thin's mapped chunks equal".into()
            } else {
                differ.join("; ")
            },
            differ.is_empty(),
            step,
        ));
        o.predicted = Some(0);
        o.predicted_note = Some("a reboot with nothing in force that loses writes".into());
    } else {
        // What the pool held in memory and lost at the cut is the kernel's to say: no
        // prediction, said so; the model is the kernel's metadata from here (checked
        // above to cover every flushed write).
        o.checks.push(crate::runner::case::skipped(
            "data blocks allocated == model",
            "skipped: a power cut under a fault that loses writes (or a thin_repair): what the pool lost is the kernel's to say; the model follows thin_dump from here, checked to map every flushed write",
        ));
    }
    ctx.state.model = Some(kernel);
    let exact =
        |n: &str, v: f64, unit: &str| metric(n, v, unit, MetricKind::Exact, Better::Neither);
    o.metrics.push(exact(
        "reboot.flushed_sectors_checked",
        checked as f64,
        "sectors",
    ));
    o.metrics.push(exact(
        "reboot.sectors_with_later_writes",
        newer as f64,
        "sectors",
    ));
    o.metrics.push(exact(
        "reboot.flushed_sectors_lost",
        lost_durable as f64,
        "sectors",
    ));
    o.metrics.push(exact(
        "reboot.thin_repair_run",
        f64::from(u8::from(rb.repaired.is_some())),
        "count",
    ));
    o.metrics.push(metric(
        "reboot.duration_ms",
        took.as_secs_f64() * 1000.0,
        "ms",
        MetricKind::Timing,
        Better::Lower,
    ));
    o.checks.push(verdict(
        "reboot commands",
        "the pool down with its faults in force, faults out, thin_check, pool up".into(),
        rb.commands.join(" ; "),
        true,
        step,
    ));
    Ok(o)
}

/// Wait until the log-writes device has logged everything it was given, so the log file
/// holds it: its status counts logged entries; the superblock's count follows a mark.
fn settle_log(dm: &Dm, lw: &str, log_file: &Path) -> Result<(), StepError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = dm.status(lw)?;
        let logged: u64 = status
            .first()
            .and_then(|l| l.3.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("unreadable log-writes status of {lw}: {status:?}"))?;
        let counted = LogReader::open(log_file)
            .map(|r| r.nr_entries())
            .unwrap_or(0);
        if counted >= logged {
            // The last entry's own data IO is not waited for by the kernel (see
            // `log_writes`); the last entry is our mark, which has none, but give the
            // loop device a moment for the ones before it.
            std::thread::sleep(Duration::from_millis(200));
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the log of {lw} did not settle: {logged} logged, {counted} in its superblock"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `replay` action.
pub fn replay(ctx: &mut StepCtx<'_>, r: &ReplaySpec) -> Result<ActionOutput, StepError> {
    let step = ctx.step;
    let log = ctx
        .backend
        .pool_log()
        .ok_or("`replay` needs a log-writes fault under the pool (`[[fault]] target = \"log-writes\"`, `device = \"pool\"`)")?;
    let dm = Dm::open()?;
    let (lw, log_file) = (log.dm_name.to_owned(), log.log_file.to_owned());
    let run_id = log.run_id.to_owned();
    log.mark(&dm, &format!("replay-{}", step.index))?;
    let ranges = ctx.backend.pool_log_ranges()?;
    settle_log(&dm, &lw, &log_file)?;
    let t = Instant::now();
    let reader = LogReader::open(&log_file)?;
    let summary = reader.summary();
    let select = match r.points {
        ReplayPoints::All => Select::All,
        ReplayPoints::Sampled(n) => {
            Select::Sampled(NonZeroUsize::new(n as usize).unwrap_or(NonZeroUsize::MIN))
        }
    };
    let all = reader.points(Select::All).len();
    // Before the pool's first commit its superblock is not written: such a point is the
    // disk before the pool existed, not a crash state of it. (lvm zeroes the metadata
    // LV's start first, so the first write there is the superblock only if it says so.)
    let super_at = ranges
        .iter()
        .find(|r| r.device == PoolDevice::Metadata && r.at.0 == 0)
        .map(|r| r.start.0 * 512)
        .ok_or("the log's ranges have no start of the metadata device")?;
    let mut first_super = None;
    let mut mark_at: Vec<(u64, String)> = Vec::new();
    let mut sb = [0u8; 512];
    for e in reader.entries() {
        let e = e?;
        if first_super.is_none()
            && e.has_data()
            && e.offset.0 == super_at
            && reader.read_at(&mut sb, e.data_offset.0).is_ok()
            && is_thin_superblock(&sb)
        {
            first_super = Some(e.index);
        }
        if let Some(m) = &e.mark {
            mark_at.push((e.index, m.clone()));
        }
    }
    let first_super = first_super.ok_or("the log holds no write of the metadata superblock")?;
    let points: Vec<_> = reader
        .points(select)
        .into_iter()
        .filter(|p| p.index >= first_super)
        .collect();
    let scratch = ctx.state.scratch.join(format!("replay-{}", step.index));
    std::fs::create_dir_all(&scratch).context(format!("{}", scratch.display()))?;
    let (meta_img, data_img) = (scratch.join("metadata.img"), scratch.join("data.img"));
    let regions = ranges
        .iter()
        .map(|r| Region {
            start: r.start,
            len: r.len,
            file: match r.device {
                PoolDevice::Metadata => meta_img.clone(),
                PoolDevice::Data => data_img.clone(),
            },
            at: r.at,
        })
        .collect();
    // A log under a whole PV (direct-lvm) also holds lvm's writes outside the pool's LVs.
    let mut replayer = Replayer::new(&reader, regions)?.skipping_unmapped();
    let flush_lens: BTreeMap<String, BTreeMap<Ident, usize>> = ctx
        .state
        .flushes
        .iter()
        .filter_map(|f| f.mark.clone().map(|m| (m, f.lens.clone())))
        .collect();
    let mut inconsistent: Vec<String> = Vec::new();
    let mut damaged: Vec<String> = Vec::new();
    let (mut data_checked, mut sectors_checked) = (0u64, 0u64);
    for p in &points {
        replayer.advance_to(p)?;
        let what = format!(
            "entry {} ({})",
            p.index,
            match &p.kind {
                PointKind::Flush => "flush".to_owned(),
                PointKind::Fua => "FUA".to_owned(),
                PointKind::FlushFua => "flush+FUA".to_owned(),
                PointKind::Mark { label } => format!("mark {label}"),
            }
        );
        if let thin_tools::MetadataCheck::Failed(e) | thin_tools::MetadataCheck::Skipped(e) =
            thin_tools::thin_check(&meta_img)
        {
            inconsistent.push(format!("{what}: thin_check: {e}"));
            continue;
        }
        // The writes flushed before the last flush mark at or before this point.
        let lens = mark_at
            .iter()
            .rfind(|(i, m)| *i <= p.index && m.starts_with("flush-"))
            .and_then(|(_, m)| flush_lens.get(m));
        let Some(lens) = lens else { continue };
        match check_point(ctx, &dm, &run_id, &meta_img, &data_img, lens) {
            Ok((n, bad)) => {
                data_checked += 1;
                sectors_checked += n;
                if let Some(b) = bad {
                    damaged.push(format!("{what}: {b}"));
                }
            }
            Err(e) => damaged.push(format!("{what}: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let skipped = replayer.skipped_sectors();
    let took = t.elapsed();
    let first = |v: &[String]| {
        v.first()
            .cloned()
            .map(|f| format!("; first: {f}"))
            .unwrap_or_default()
    };
    o_checks(step, &points, &inconsistent, &damaged, data_checked, first).map(|mut o| {
        let exact =
            |n: &str, v: f64, unit: &str| metric(n, v, unit, MetricKind::Exact, Better::Neither);
        o.metrics
            .push(exact("replay.points_checked", points.len() as f64, "count"));
        o.metrics
            .push(exact("replay.points_in_log", all as f64, "count"));
        o.metrics.push(exact(
            "replay.points_data_checked",
            data_checked as f64,
            "count",
        ));
        o.metrics.push(exact(
            "replay.sectors_checked",
            sectors_checked as f64,
            "sectors",
        ));
        o.metrics.push(exact(
            "replay.inconsistent_points",
            inconsistent.len() as f64,
            "count",
        ));
        o.metrics.push(exact(
            "replay.damaged_points",
            damaged.len() as f64,
            "count",
        ));
        o.metrics
            .push(exact("replay.log_entries", summary.entries as f64, "count"));
        o.metrics
            .push(exact("replay.log_fuas", summary.fuas as f64, "count"));
        o.metrics
            .push(exact("replay.log_flushes", summary.flushes as f64, "count"));
        o.metrics
            .push(exact("replay.log_marks", summary.marks as f64, "count"));
        // lvm's own writes (labels, metadata area, spare LV) on a PV under log-writes.
        o.metrics.push(exact(
            "replay.sectors_outside_pool",
            skipped as f64,
            "sectors",
        ));
        o.metrics.push(metric(
            "replay.duration_ms",
            took.as_secs_f64() * 1000.0,
            "ms",
            MetricKind::Timing,
            Better::Lower,
        ));
        o.predicted = Some(0);
        o
    })
}

fn o_checks(
    step: &crate::spec::StepSpec,
    points: &[crate::backend::log_writes::Point],
    inconsistent: &[String],
    damaged: &[String],
    data_checked: u64,
    first: impl Fn(&[String]) -> String,
) -> Result<ActionOutput, StepError> {
    let mut o = ActionOutput::default();
    o.checks.push(verdict(
        "replay: thin_check at every chosen crash point",
        format!("{} points consistent", points.len()),
        format!(
            "{} consistent, {} not{}",
            points.len() - inconsistent.len(),
            inconsistent.len(),
            first(inconsistent)
        ),
        inconsistent.is_empty() && !points.is_empty(),
        step,
    ));
    o.checks.push(verdict(
        "replay: flushed writes intact at every crash point after a flush",
        format!("{data_checked} points intact"),
        format!(
            "{} intact, {} not{}",
            data_checked as usize - damaged.len().min(data_checked as usize),
            damaged.len(),
            first(damaged)
        ),
        damaged.is_empty(),
        step,
    ));
    Ok(o)
}

/// One crash point's data: a read-only pool over loop devices of the replayed copies,
/// each thin's flushed writes read back. Returns sectors checked and the first problem.
fn check_point(
    ctx: &mut StepCtx<'_>,
    dm: &Dm,
    run_id: &str,
    meta_img: &Path,
    data_img: &Path,
    lens: &BTreeMap<Ident, usize>,
) -> Result<(u64, Option<String>), StepError> {
    let mut meta = loopdev::attach(meta_img)?;
    let mut data = match loopdev::attach(data_img) {
        Ok(d) => d,
        Err(e) => {
            let _ = meta.detach();
            return Err(e.into());
        }
    };
    let pool_part = ctx.pool.name.as_str();
    let names = crate::backend::names::Names::new(run_id);
    let pool_name = names.dm(pool_part, "replay-pool");
    let sectors = std::fs::metadata(data_img)
        .map(|m| m.len() / 512)
        .unwrap_or(0);
    let blocks = sectors / ctx.pool.chunk.sectors().0;
    let table = PoolTable {
        metadata_dev: meta.majmin.clone(),
        data_dev: data.majmin.clone(),
        block_sectors: ctx.pool.chunk.sectors().0,
        low_water_mark: 0,
        // Read-only: the copy must stay the crash state for the next point.
        features: vec!["skip_block_zeroing".into(), "read_only".into()],
    };
    let mut made: Vec<String> = Vec::new();
    let result = (|| {
        let pool = dm.create(
            &pool_name,
            &names.uuid(pool_part, "replay-pool"),
            &[(
                0,
                blocks * ctx.pool.chunk.sectors().0,
                "thin-pool".into(),
                table.to_string(),
            )],
        )?;
        made.push(pool_name.clone());
        let (mut n, mut bad) = (0u64, None);
        for (thin, &len) in lens {
            let Some(t) = ctx.backend.thin(thin).cloned() else {
                continue;
            };
            let log = ctx.state.acked.get(thin).cloned().unwrap_or_default();
            let len = len.min(log.len());
            if len == 0 {
                continue;
            }
            let part = format!("replay-{thin}");
            let name = names.dm(pool_part, &part);
            let d = dm.create(
                &name,
                &names.uuid(pool_part, &part),
                &[(
                    0,
                    t.size.sectors().0,
                    "thin".into(),
                    format!("{} {}", pool.majmin(), t.id),
                )],
            )?;
            made.push(name);
            let dev = Device::open_read_only(d.devnode(), true)?;
            let r = verify_durable(&dev, &log[..len], &log[len..])?;
            n += r.checked;
            if r.bad > 0 && bad.is_none() {
                bad = Some(format!(
                    "{thin}: {} of {} flushed sectors wrong; first {}",
                    r.bad,
                    r.checked,
                    r.first_bad.unwrap_or_default()
                ));
            }
        }
        Ok((n, bad))
    })();
    for name in made.iter().rev() {
        let _ = dm.remove(name, false);
    }
    let _ = data.detach();
    let _ = meta.detach();
    result
}

/// dm-thin's superblock magic (`THIN_SUPERBLOCK_MAGIC`, `dm-thin-metadata.c`), after
/// the checksum, flags, block number and uuid.
const THIN_SUPERBLOCK_MAGIC: u64 = 27022010;

/// Whether a sector is the start of a thin-pool superblock (not lvm's zeroes, nor an
/// older pool's leftovers at another offset).
fn is_thin_superblock(sector: &[u8; 512]) -> bool {
    let magic: [u8; 8] = sector[32..40].try_into().unwrap_or_default();
    u64::from_le_bytes(magic) == THIN_SUPERBLOCK_MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// Sectors stamped as the workload would, at `off` with generation `g`.
    fn stamp(file: &std::fs::File, off: u64, sectors: u64, g: u64) {
        for s in 0..sectors {
            let mut b = vec![0u8; 512];
            let at = Bytes(off + s * 512);
            pattern::stamp(&mut b, STAMP_DEVICE, at, g, g);
            file.write_all_at(&b, at.0).unwrap();
        }
    }

    #[test]
    fn a_superblock_is_known_by_its_magic() {
        let mut s = [0u8; 512];
        assert!(!is_thin_superblock(&s), "lvm's zeroed start");
        s[32..40].copy_from_slice(&THIN_SUPERBLOCK_MAGIC.to_le_bytes());
        assert!(is_thin_superblock(&s));
        s[32] ^= 1;
        assert!(!is_thin_superblock(&s));
    }

    #[test]
    fn durable_writes_may_be_newer_never_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(1 << 20).unwrap();
        // Flushed: gen 1 at 0..4KiB, gen 2 at 4..8KiB. Later (unflushed): gen 3 at 0..1KiB.
        let durable = vec![(Bytes(0), Bytes(4096), 1), (Bytes(4096), Bytes(4096), 2)];
        let later = vec![(Bytes(0), Bytes(1024), 3)];
        stamp(&f, 0, 8, 1);
        stamp(&f, 4096, 8, 2);
        let dev = Device::open_read_only(&path, false).unwrap();
        let d = verify_durable(&dev, &durable, &later).unwrap();
        assert_eq!((d.checked, d.newer, d.bad), (16, 0, 0));
        // The later write reached the disk: allowed.
        stamp(&f, 0, 2, 3);
        let d = verify_durable(&dev, &durable, &later).unwrap();
        assert_eq!((d.checked, d.newer, d.bad), (16, 2, 0));
        // A flushed sector lost (zeros), and one holding an older generation: both bad.
        f.write_all_at(&[0u8; 512], 4096).unwrap();
        stamp(&f, 4608, 1, 1);
        let d = verify_durable(&dev, &durable, &later).unwrap();
        assert_eq!((d.checked, d.newer, d.bad), (16, 2, 2));
        assert!(d.first_bad.unwrap().starts_with("byte 4096"));
        // A later write that is not logged is not accepted either.
        stamp(&f, 1024, 1, 9);
        let d = verify_durable(&dev, &durable, &later).unwrap();
        assert_eq!(d.bad, 3);
    }
}

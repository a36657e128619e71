//! `dm-table`: a hand-written table loaded into the pool or a device of the case, or made
//! a device of its own for the length of the step. What the kernel says is the result: a
//! refusal is the step's error (its kind from the ioctl's errno), and a refused table
//! must leave the device's live table as it was, which is checked.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use thinbench_schema::record::{Better, MetricKind};

use super::ctx::{metric, ActionOutput, StepCtx};
use crate::backend::dm::{Dm, TableLine};
use crate::runner::case::check;
use crate::runner::error::StepError;
use crate::spec::{DeviceRef, DmTableSpec, TableDevice};

/// A device's `major:minor` and length in sectors, as a table names it.
fn resolve(ctx: &StepCtx<'_>, dm: &Dm, r: &DeviceRef) -> Option<(String, u64)> {
    let sectors_of = |majmin: &str| {
        std::fs::read_to_string(format!("/sys/dev/block/{majmin}/size"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    match r {
        DeviceRef::Case(n) => ctx
            .state
            .device(n)
            .map(|d| (d.device.dm.majmin(), d.device.size.sectors().0)),
        DeviceRef::Pool => {
            let name = ctx.backend.pool_dm_name();
            let dev = dm.info(name).ok().flatten()?;
            let m = dev.majmin();
            sectors_of(&m).map(|s| (m, s))
        }
        DeviceRef::PoolMetadata | DeviceRef::PoolData => {
            // `thin-pool <metadata> <data> …`: the pool's live table names both.
            let table = dm.table(ctx.backend.pool_dm_name()).ok()?;
            let params = &table.first()?.3;
            let i = usize::from(matches!(r, DeviceRef::PoolData));
            let m = params.split_whitespace().nth(i)?.to_owned();
            sectors_of(&m).map(|s| (m, s))
        }
    }
}

/// Zero the first 4KiB of each device in `wipe` (direct, synced).
fn wipe(ctx: &StepCtx<'_>, t: &DmTableSpec) -> Result<(), StepError> {
    for n in &t.wipe {
        let d = ctx
            .state
            .device(n)
            .ok_or_else(|| format!("no device `{n}` to wipe"))?;
        let node = d.device.dm.devnode();
        let io = |e: std::io::Error| format!("wiping {} ({n}): {e}", node.display());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(&node)
            .map_err(io)?;
        let buf = thinbench_workloads::engine::AlignedBuf::new(4096);
        f.write_all(&buf).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    Ok(())
}

/// A thin-pool's total data blocks, from its status line
/// (`<transaction> <used>/<total metadata> <used>/<total data> …`).
fn pool_data_blocks(dm: &Dm, name: &str) -> Result<u64, StepError> {
    let status = dm.status(name)?;
    let line = status.first().ok_or("no status line")?;
    if line.2 != "thin-pool" {
        return Err(format!("{name} is a {} device, not a thin-pool", line.2).into());
    }
    line.3
        .split_whitespace()
        .nth(2)
        .and_then(|d| d.split_once('/'))
        .and_then(|(_, total)| total.parse().ok())
        .ok_or_else(|| format!("{name}'s status `{}` has no data blocks", line.3).into())
}

/// A thin's own live table loaded again: resumed, or left in the inactive slot for a
/// later `resume` of the thin (which then swaps it in).
fn thin_again(
    ctx: &mut StepCtx<'_>,
    dm: &Dm,
    n: &thinbench_schema::ids::Ident,
    resume: bool,
) -> Result<ActionOutput, StepError> {
    let name = ctx
        .backend
        .thin(n)
        .ok_or_else(|| format!("no thin {n} with a device"))?
        .dm
        .name
        .clone();
    let live = dm.table(&name)?;
    dm.load(&name, &live)?;
    if resume {
        dm.resume(&name)?;
    }
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let waiting = dm.inactive_present(&name)?.unwrap_or(false);
    out.checks.push(check(
        &format!("thin {n}'s own table loaded: a table in its inactive slot"),
        (!resume).to_string(),
        waiting.to_string(),
        ctx.step,
    ));
    if resume {
        out.checks.push(check(
            "the thin's live table after the resume",
            text(&live),
            text(&dm.table(&name)?),
            ctx.step,
        ));
    }
    Ok(out)
}

/// A table as dmsetup prints it.
fn text(t: &[TableLine]) -> String {
    t.iter()
        .map(|(s, l, ty, p)| format!("{s} {l} {ty} {p}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `dm-table`.
pub fn run(ctx: &mut StepCtx<'_>, t: &DmTableSpec) -> Result<ActionOutput, StepError> {
    let dm = Dm::open()?;
    wipe(ctx, t)?;
    let table = t
        .render(&|r| resolve(ctx, &dm, r))
        .map_err(|e| StepError::Failed(format!("the table names {e}")))?;
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let mut data_blocks = None;
    let loaded = match &t.device {
        TableDevice::Probe(n) => {
            let names = ctx
                .state
                .names
                .clone()
                .ok_or("the case has no run names to give a device")?;
            let part = format!("table-{n}");
            let name = names.dm(ctx.pool.name.as_str(), &part);
            dm.create(&name, &names.uuid(ctx.pool.name.as_str(), &part), &table)?;
            let live = dm.table(&name);
            let blocks = t.data_blocks.map(|_| pool_data_blocks(&dm, &name));
            // Made for this step only: removed before anything can fail.
            let removed = dm.remove(&name, false);
            let live = live?;
            removed?;
            data_blocks = blocks.transpose()?;
            live
        }
        // Its own table again: nothing rendered, nothing wiped.
        TableDevice::Thin(n) => return thin_again(ctx, &dm, n, t.resume),
        TableDevice::Pool | TableDevice::Case(_) => {
            let name = match &t.device {
                TableDevice::Case(n) => ctx
                    .state
                    .device(n)
                    .ok_or_else(|| format!("no device `{n}`"))?
                    .device
                    .dm
                    .name
                    .clone(),
                _ => ctx.backend.pool_dm_name().to_owned(),
            };
            let before = dm.table(&name)?;
            let result = dm.load(&name, &table).and_then(|()| {
                if t.resume {
                    dm.resume(&name)
                } else {
                    dm.clear(&name)
                }
            });
            if let Err(e) = result {
                // A load the kernel took but a resume it refused stays inactive: drop it.
                // A refused resume (the swap) leaves the device suspended: resume it on
                // its old table, which must still be live.
                let _ = dm.clear(&name);
                if dm.is_suspended(&name)? == Some(true) {
                    dm.resume(&name)?;
                }
                let after = dm.table(&name)?;
                if after != before {
                    return Err(StepError::Failed(format!(
                        "the kernel refused the table ({e}) yet {name}'s live table changed: from `{}` to `{}`",
                        text(&before),
                        text(&after)
                    )));
                }
                return Err(e.into());
            }
            let live = dm.table(&name)?;
            if t.data_blocks.is_some() {
                data_blocks = Some(pool_data_blocks(&dm, &name)?);
            }
            if let TableDevice::Case(n) = &t.device {
                if let Some(d) = ctx.state.devices.iter_mut().find(|d| &d.name == n) {
                    d.overwritten_by = Some(ctx.step.name.to_string());
                }
            }
            if t.resume {
                live
            } else {
                before
            }
        }
    };
    // The kernel's own rendering of what it took, against what was asked: the targets
    // line by line (the kernel may print parameters in its own form).
    let targets = |t: &[TableLine]| {
        t.iter()
            .map(|l| format!("{}+{} {}", l.0, l.1, l.2))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let expected = if t.resume || matches!(t.device, TableDevice::Probe(_)) {
        targets(&table)
    } else {
        targets(&loaded)
    };
    out.checks.push(check(
        "the device's live table (start+length target)",
        expected,
        targets(&loaded),
        ctx.step,
    ));
    if let (Some(want), Some(got)) = (t.data_blocks, data_blocks) {
        out.checks.push(check(
            "the pool's data blocks",
            want.to_string(),
            got.to_string(),
            ctx.step,
        ));
    }
    out.metrics.push(metric(
        "dm_table.lines",
        loaded.len() as f64,
        "count",
        MetricKind::Exact,
        Better::Neither,
    ));
    Ok(out)
}

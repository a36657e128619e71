//! Table control: `reload` (the pool's table again with changed features; the pool's
//! recorded settings follow it) and `resize` (a device grown, or a shrink the kernel or
//! lvm refuses; the model learns the new size).

use thinbench_schema::record::{Better, MetricKind};
use thinbench_schema::units::Bytes;

use super::ctx::{metric, ActionOutput, StepCtx};
use crate::runner::case::{check, verdict};
use crate::runner::error::StepError;
use crate::spec::{NoSpacePolicy, PoolSpec, ReloadSpec, ResizeDevice, ResizeSpec};

/// dm-thin's metadata block, bytes.
const METADATA_BLOCK: u64 = 4096;

/// The pool's settings after `r` took effect: what later steps and the oracles assume
/// (the chunk stays: a live pool keeps its block size).
pub fn applied(r: &ReloadSpec, pool: &PoolSpec) -> PoolSpec {
    let mut p = pool.clone();
    if let Some(n) = r.no_space {
        p.no_space = n;
    }
    if let Some(z) = r.block_zeroing {
        p.block_zeroing = z;
    }
    if let Some(d) = r.discard_passdown {
        p.discard_passdown = d;
    }
    if let Some(l) = r.low_water_mark {
        p.low_water_mark = l;
    }
    p
}

/// The table features a reload asks for, as (feature, on).
fn asked(r: &ReloadSpec) -> Vec<(&'static str, bool)> {
    [
        (
            "error_if_no_space",
            r.no_space.map(|n| n == NoSpacePolicy::Error),
        ),
        ("skip_block_zeroing", r.block_zeroing.map(|z| !z)),
        ("no_discard_passdown", r.discard_passdown.map(|d| !d)),
        ("ignore_discard", r.ignore_discard),
        ("read_only", r.read_only),
    ]
    .into_iter()
    .filter_map(|(f, on)| on.map(|on| (f, on)))
    .collect()
}

pub fn reload(ctx: &mut StepCtx<'_>, r: &ReloadSpec) -> Result<ActionOutput, StepError> {
    let t = ctx.backend.reload(r)?;
    if let Some(c) = r.chunk {
        if t.block_sectors != c.sectors().0 {
            return Err(StepError::Refused(format!(
                "the kernel kept the pool's {}-sector data blocks: it loaded the table asking for {} sectors and ignored its block size (a live pool's block size does not change)",
                t.block_sectors,
                c.sectors().0
            )));
        }
    }
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
    for (feature, on) in asked(r) {
        let has = t.has_feature(feature);
        out.checks.push(check(
            &format!("the reloaded table's `{feature}`"),
            on_off(on),
            on_off(has),
            ctx.step,
        ));
    }
    let now = applied(r, ctx.state.settings.as_ref().unwrap_or(ctx.pool));
    ctx.state.settings = Some(now);
    out.metrics.push(metric(
        "reload.low_water_mark_blocks",
        t.low_water_mark as f64,
        "blocks",
        MetricKind::Exact,
        Better::Neither,
    ));
    Ok(out)
}

pub fn resize(ctx: &mut StepCtx<'_>, r: &ResizeSpec) -> Result<ActionOutput, StepError> {
    let done = ctx.backend.resize(r)?;
    let after = ctx.backend.status()?;
    let model = ctx.state.model.as_mut().ok_or("no model")?;
    model.grow(after.data_total);
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let (what, blocks, expected) = match r.device {
        ResizeDevice::Data => (
            "the pool's data blocks after the resize",
            after.data_total.0,
            ctx.pool.chunk.whole_blocks_in(done.after).0,
        ),
        ResizeDevice::Metadata => (
            "the pool's metadata blocks after the resize",
            after.meta_total.0,
            done.after.0 / METADATA_BLOCK,
        ),
    };
    out.checks.push(verdict(
        what,
        format!(
            "{expected} ({} device / {})",
            done.after.human(),
            match r.device {
                ResizeDevice::Data => ctx.pool.chunk.bytes().human(),
                ResizeDevice::Metadata => Bytes(METADATA_BLOCK).human(),
            }
        ),
        blocks.to_string(),
        blocks == expected,
        ctx.step,
    ));
    for (name, v) in [
        ("resize.before_bytes", done.before.0),
        ("resize.after_bytes", done.after.0),
    ] {
        out.metrics.push(metric(
            name,
            v as f64,
            "bytes",
            MetricKind::Exact,
            Better::Neither,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LowWaterMark;
    use thinbench_schema::units::DataBlocks;

    #[test]
    fn the_recorded_settings_follow_what_a_reload_changed_and_only_that() {
        let plan = crate::scenario::load_scenario_str(
            std::path::Path::new("t.toml"),
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n[[step]]\naction = \"reload\"\n",
        )
        .unwrap();
        let pool = &plan.pools[0];
        assert_eq!(applied(&ReloadSpec::default(), pool), *pool);
        let r = ReloadSpec {
            no_space: Some(NoSpacePolicy::Error),
            block_zeroing: Some(true),
            discard_passdown: Some(false),
            low_water_mark: Some(LowWaterMark::Blocks(DataBlocks(3))),
            read_only: Some(true),
            ..ReloadSpec::default()
        };
        let p = applied(&r, pool);
        assert_eq!(p.no_space, NoSpacePolicy::Error);
        assert!(p.block_zeroing && !p.discard_passdown);
        assert_eq!(p.low_water_mark, LowWaterMark::Blocks(DataBlocks(3)));
        assert_eq!((p.chunk, &p.name), (pool.chunk, &pool.name));
        assert_eq!(
            asked(&r),
            [
                ("error_if_no_space", true),
                ("skip_block_zeroing", false),
                ("no_discard_passdown", true),
                ("read_only", true)
            ]
        );
    }
}

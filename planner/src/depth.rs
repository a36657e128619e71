//! The metadata model at depth: a scenario whose mapping trees the kernel builds three
//! levels deep, with what the planner predicts after every step
//! (`thinbench plan PLAN --validate --depth`).
//!
//! A fleet scaled down to a validation run ([`crate::scenario`]) has mapping trees of one
//! or two leaves; a planner needs the model where trees have 10^5–10^6 mappings. Writing
//! that much data under emulation is slow, so each mapping costs one 4 KiB IO: a loop-lvm
//! pool with `block_zeroing = false` (dm-thin maps a whole chunk for a partial write and
//! writes only the IO), one IO per chunk. The kernel builds every tree itself, insert by
//! insert; `thin_restore` of a generated XML would be faster but its trees are laid out
//! by userspace (`thin_restore` packs leaves), so it would validate thin_restore, not
//! dm-btree's split and rebalance rules.
//!
//! The steps, on one pool at the plan's chunk size (`mappings` = N):
//! 1. thin `seq`: N chunks mapped in ascending order (a strided sequential write, one IO
//!    per chunk) in [`FILL_STEPS`] steps: appends, leaves left ~full;
//! 2. thin `rnd`: about N chunks mapped in random order (random IOs over a region of
//!    8 N chunks, in as many steps): inserts between existing keys, leaves half to full;
//! 3. [`SNAPSHOTS`] snapshots of `seq`, sharing its tree; each writes one IO every
//!    [`SNAP_STRIDE_CHUNKS`] chunks over its own eighth of the origin, shadowing the
//!    leaves (and the internal nodes above them) its writes land in, each origin leaf by
//!    at most one snapshot.
//!
//! Data blocks are predicted exactly (the extent model); metadata blocks by
//! [`crate::metadata::estimate`], compared with the kernel's used metadata blocks minus
//! its reserve at every step, and the trees' levels, leaves and mappings are read from
//! the kernel's metadata after every step (`metadata.tree.*` metrics).

use std::fmt::Write as _;

use thinbench_model::extent::{chunk_ranges_of, ExtentPool};
use thinbench_schema::units::Bytes;
use thinbench_workloads::{OffsetPattern, Offsets, Region};

use crate::scenario::{PredictedStep, ValidationScenario};

/// Steps each thin is filled in (a comparison after each).
pub const FILL_STEPS: u64 = 4;
/// Snapshots of the sequential thin.
pub const SNAPSHOTS: u64 = 8;
/// Chunks between two writes of a snapshot: more than a leaf holds, so every write
/// lands in another leaf.
pub const SNAP_STRIDE_CHUNKS: u64 = 256;
/// IO size of every write.
pub const IO: u64 = 4096;
/// The random thin's region, in multiples of N chunks.
pub const RANDOM_SPAN: u64 = 8;
/// Fewest mappings per thin (fewer would not give three levels at full leaves:
/// 252 × 252 = 63,504).
pub const MIN_MAPPINGS: u64 = 70_000;
/// Most mappings per thin (the pool's sparse files grow with them: 10^6 chunks of 64KiB
/// a thin is 61GiB of data space, 3.8GiB written).
pub const MAX_MAPPINGS: u64 = 4_000_000;

struct Builder {
    pool: ExtentPool,
    chunk: u64,
    toml: String,
    steps: Vec<PredictedStep>,
    ids: Vec<(String, u32)>,
    written: u64,
    ios: u64,
    peak: u64,
}

impl Builder {
    fn id(&self, thin: &str) -> u32 {
        self.ids
            .iter()
            .find(|(n, _)| n == thin)
            .map(|x| x.1)
            .expect("known thin")
    }

    fn push(&mut self, action: &str, thin: &str, what: String, before: u64, body: &str) {
        let name = format!("d{:02}-{action}", self.steps.len());
        let used = self.pool.used();
        self.peak = self.peak.max(used);
        let delta = used as i64 - before as i64;
        let _ = writeln!(
            self.toml,
            "\n# {what}\n[[step]]\nname = \"{name}\"\naction = \"{action}\"\nthin = \"{thin}\""
        );
        self.toml.push_str(body);
        let _ = writeln!(self.toml, "expect = {{ data_blocks_allocated = {delta} }}");
        self.steps.push(PredictedStep {
            name,
            action: action.into(),
            thin: thin.into(),
            what,
            data_blocks: delta,
            data_used: used,
            thins: self.pool.thin_stats().collect(),
        });
    }

    fn create(&mut self, thin: &str, size: u64, what: String) -> Result<(), String> {
        let id = self.ids.len() as u32 + 1;
        let before = self.pool.used();
        self.pool.create_thin(id).map_err(|e| e.to_string())?;
        self.ids.push((thin.into(), id));
        self.push(
            "create-thin",
            thin,
            what,
            before,
            &format!("size = {size}\n"),
        );
        Ok(())
    }

    fn snapshot(&mut self, thin: &str, origin: &str, what: String) -> Result<(), String> {
        let id = self.ids.len() as u32 + 1;
        let before = self.pool.used();
        self.pool
            .create_snap(id, self.id(origin))
            .map_err(|e| e.to_string())?;
        self.ids.push((thin.into(), id));
        self.push(
            "snapshot",
            thin,
            what,
            before,
            &format!("origin = \"{origin}\"\n"),
        );
        Ok(())
    }

    /// `count` IOs of [`IO`] bytes at `offset` in `span`, `pattern` as the workloads
    /// issue it; the model is fed the chunks the same offset stream touches.
    fn write(
        &mut self,
        thin: &str,
        pattern: OffsetPattern,
        (offset, span, count): (u64, u64, u64),
        what: String,
    ) -> Result<(), String> {
        let region =
            Region::new(Bytes(offset), Bytes(span), Bytes(IO)).map_err(|e| e.to_string())?;
        let chunks: Vec<u64> = Offsets::new(region, pattern)
            .take(count as usize)
            .map(|o| o.0 / self.chunk)
            .collect();
        let ranges = chunk_ranges_of(chunks);
        let before = self.pool.used();
        self.pool
            .write(self.id(thin), &ranges)
            .map_err(|e| e.to_string())?;
        let body = match pattern {
            OffsetPattern::Strided { stride, .. } => format!(
                "io_size = {IO}\noffset = {offset}\nspan = {span}\npattern = \"sequential\"\nstride = {stride}\ncount = {count}\n"
            ),
            OffsetPattern::Random { seed } => format!(
                "io_size = {IO}\noffset = {offset}\nspan = {span}\npattern = \"random\"\nseed = {seed}\ncount = {count}\n"
            ),
            OffsetPattern::Sequential => {
                return Err("the depth scenario writes strided or random".into())
            }
        };
        self.written += count * IO;
        self.ios += count;
        self.push("small-write", thin, what, before, &body);
        Ok(())
    }
}

/// The depth scenario for `mappings` chunks per filled thin at `chunk` bytes (a multiple
/// of 64KiB). `Err`: out of bounds.
pub fn depth_scenario(mappings: u64, chunk: u64) -> Result<ValidationScenario, String> {
    if !(MIN_MAPPINGS..=MAX_MAPPINGS).contains(&mappings) {
        return Err(format!(
            "--mappings must be {MIN_MAPPINGS} to {MAX_MAPPINGS} (three levels need more than 252 full leaves), not {mappings}"
        ));
    }
    if chunk < 65536 || !chunk.is_multiple_of(65536) {
        return Err(format!("chunk size {chunk} is not a multiple of 64KiB"));
    }
    let mib = 1u64 << 20;
    let n = mappings.div_ceil(FILL_STEPS) * FILL_STEPS;
    let stride = chunk / IO;
    let mut b = Builder {
        pool: ExtentPool::new(),
        chunk,
        toml: String::new(),
        steps: Vec::new(),
        ids: Vec::new(),
        written: 0,
        ios: 0,
        peak: 0,
    };
    let seq_size = (n * chunk).div_ceil(mib) * mib;
    b.create(
        "seq",
        seq_size,
        format!("{n} chunks, mapped in ascending order"),
    )?;
    let part = n / FILL_STEPS;
    for k in 0..FILL_STEPS {
        b.write(
            "seq",
            OffsetPattern::Strided { stride, first: 0 },
            (k * part * chunk, part * chunk, part),
            format!(
                "seq: chunks {} to {}, one 4KiB IO each, in order",
                k * part,
                (k + 1) * part - 1
            ),
        )?;
    }
    // Random IOs over 8 N chunks: 8 N (1 - e^(-1/8)) ≈ 0.94 N distinct chunks per N IOs.
    let rnd_span = RANDOM_SPAN * n * chunk;
    b.create(
        "rnd",
        rnd_span,
        format!("{} chunks of room, mapped in random order", RANDOM_SPAN * n),
    )?;
    for k in 0..FILL_STEPS {
        b.write(
            "rnd",
            OffsetPattern::Random { seed: 100 + k },
            (0, rnd_span, part),
            format!("rnd: {part} random 4KiB IOs (seed {})", 100 + k),
        )?;
    }
    let region = n / SNAPSHOTS;
    for s in 0..SNAPSHOTS {
        let name = format!("snap{s}");
        b.snapshot(
            &name,
            "seq",
            format!("snapshot {s} of seq: shares its tree"),
        )?;
        let count = region / SNAP_STRIDE_CHUNKS;
        b.write(
            &name,
            OffsetPattern::Strided {
                stride: SNAP_STRIDE_CHUNKS * stride,
                first: 0,
            },
            (s * region * chunk, region * chunk, count),
            format!(
                "snap{s}: {count} IOs, one every {SNAP_STRIDE_CHUNKS} chunks of its eighth of seq (copies of shared leaves)"
            ),
        )?;
    }
    // Room for the peak and the reserve; sparse files, so the size costs nothing.
    let data_size = (b.peak * chunk + b.peak * chunk / 8).div_ceil(mib) * mib;
    // Metadata: twice the model's end figure and the kernel's largest reserve, at least
    // 64MiB (10^5 mappings: 64MiB; 10^6: 114MiB).
    let end = b
        .steps
        .last()
        .map_or(0, |s| s.metadata(data_size / chunk, 16_384).total);
    let metadata_size = ((end * 2 + 4096) * 4096).div_ceil(mib).max(64) * mib;
    let toml = format!(
        r#"# Generated by `thinbench plan --validate --depth`: the metadata model on mapping
# trees three levels deep, built by the kernel one 4KiB IO per chunk.
format = 1
name = "plan-depth"
description = "metadata model at depth: {n} mappings in order, {n} random, {SNAPSHOTS} snapshots sharing"
timeout = "2h"

[[pool]]
name = "loop"
kind = "loop-lvm"
chunk_size = {chunk}
data_size = {data_size}
metadata_size = {metadata_size}
block_zeroing = false
min_free_space = 0
low_water_mark = 0
{steps}"#,
        steps = b.toml
    );
    let notes = vec![
        format!(
            "{n} mappings per filled thin, chunk {}: one 4KiB IO per chunk",
            Bytes(chunk).human()
        ),
        "loop-lvm only, disk-backed sparse files (a RAM-backed pool must fit 1GiB full)".into(),
    ];
    Ok(ValidationScenario {
        toml,
        factor: 1,
        chunk,
        data_size,
        direct_steps: 0,
        steps: b.steps,
        bytes_written: b.written,
        ios: b.ios,
        peak_used: b.peak,
        containers: Vec::new(),
        timeline_steps: 0,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fills_map_what_they_say() {
        let v = depth_scenario(MIN_MAPPINGS, 65536).unwrap();
        let last = v.steps.last().unwrap();
        // thin_stats() has no order: tell the thins apart by what they hold.
        let mut thins = last.thins.clone();
        thins.sort_by_key(|t| (t.own, t.own_runs));
        let (snaps, filled) = thins.split_at(SNAPSHOTS as usize);
        for s in snaps {
            assert_eq!(s.mapped, 70_000);
            assert_eq!(s.own, 70_000 / SNAPSHOTS / SNAP_STRIDE_CHUNKS);
        }
        let (rnd, seq) = if filled[0].own_runs > filled[1].own_runs {
            (filled[0], filled[1])
        } else {
            (filled[1], filled[0])
        };
        assert_eq!((seq.mapped, seq.own), (70_000, 70_000));
        assert!(seq.own_runs < 100, "in order: long runs ({seq:?})");
        assert!(rnd.mapped > 65_000 && rnd.mapped < 70_000, "{rnd:?}");
        // The extent model allocates a step's chunks in chunk order, so neighbours written
        // in one step share a run: still mostly single chunks.
        assert!(
            rnd.own_runs * 10 > rnd.mapped * 8,
            "random: mostly single chunks ({rnd:?})"
        );
        assert_eq!(
            v.ios,
            70_000 + 70_000 + SNAPSHOTS * (70_000 / SNAPSHOTS / SNAP_STRIDE_CHUNKS)
        );
        assert!(depth_scenario(1000, 65536).is_err());
    }
}

//! A plan scaled down to a thinbench scenario, to check the model on the kernel.
//!
//! [`scale_down`] turns a [`Fleet`] into the TOML text of a scenario that `thinbench run`
//! accepts (actions `create-thin`, `snapshot`, `small-write`, `delete-thin`) and, for each
//! of its steps, what the planner predicts: the data blocks the step allocates (from the
//! extent model, exact) and every thin's mapping summary after it (for the metadata model,
//! which needs the pool's measured geometry: see [`PredictedStep::metadata`]).
//!
//! The scaling: every byte amount, span, explicit offset and the thins' virtual size are
//! divided by a power of two `factor` (rounded to whole IOs), IO counts too (at least one
//! IO), so random writes keep their density; IO sizes, patterns and seeds are kept. Each
//! image keeps at least one container and the fleet at most [`MAX_THINS`] live thins. The
//! timeline runs its first steps (at most [`MAX_TIMELINE_STEPS`]): churn as the planner
//! does it (oldest containers deleted, new ones started, replacements scaled like the
//! containers), then each container's growth, a sequential write at its lineage's end.
//! `factor` is the smallest that keeps data written and the pool's peak use within
//! [`DATA_BUDGET`]. Discards (`fstrim`) have no scenario action yet and are left out.

use std::collections::VecDeque;
use std::fmt::Write as _;

use thinbench_schema::units::Bytes;

use crate::fleet::{advance, region, Amount, Fleet, Pattern, Target, WriteSpec};
use crate::metadata::{self, MetaEstimate};
use crate::simulate::chunk_ranges;
use thinbench_model::extent::{ExtentError, ExtentPool, ThinStats};

/// Live thins at most in the scaled scenario.
pub const MAX_THINS: u64 = 20;
/// Timeline steps run at most.
pub const MAX_TIMELINE_STEPS: u64 = 1;
/// Bytes written, and data blocks in use at the peak, at most.
pub const DATA_BUDGET: u64 = 64 << 20;
/// Steps run on the direct-lvm pool too: the first ones (the base, the image layers, the
/// first containers). lvm's commands take seconds each under qemu TCG, and a prefix of the
/// steps has the same predictions. The loop-lvm pool runs them all.
pub const DIRECT_STEPS: usize = 20;
/// IOs issued at most (qemu TCG does a few hundred small IOs a second).
pub const IO_BUDGET: u64 = 2000;
/// Largest IO a sequential write is issued with (see [`seq_io`]).
pub const MAX_SEQ_IO: u64 = 1 << 20;

/// One scenario step and its prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PredictedStep {
    /// The step's name in the scenario.
    pub name: String,
    /// Its action.
    pub action: String,
    /// The thin it acts on.
    pub thin: String,
    /// What the fleet's life is doing (e.g. "image web layer 2").
    pub what: String,
    /// Data blocks the step changes the pool's use by (negative: freed).
    pub data_blocks: i64,
    /// Data blocks in use after it.
    pub data_used: u64,
    /// Every live thin's mapping summary after it (for the metadata model).
    #[serde(skip)]
    pub thins: Vec<ThinStats>,
}

impl PredictedStep {
    /// The metadata model after this step, for a pool of `data_blocks` and
    /// `meta_blocks` (the measured geometry: the model's fixed part depends on it).
    pub fn metadata(&self, data_blocks: u64, meta_blocks: u64) -> MetaEstimate {
        metadata::estimate(data_blocks, meta_blocks, self.thins.iter().copied())
    }
}

/// A plan scaled down to a scenario.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ValidationScenario {
    /// The scenario's TOML text.
    pub toml: String,
    /// Every byte amount was divided by this.
    pub factor: u64,
    /// Chunk size in bytes (both pools).
    pub chunk: u64,
    /// Data size of the loop-lvm pool, bytes.
    pub data_size: u64,
    /// How many of the first steps the direct-lvm pool runs too (the loop-lvm pool runs
    /// every step).
    pub direct_steps: usize,
    /// The steps, in order, with their predictions.
    pub steps: Vec<PredictedStep>,
    /// Bytes the scenario writes.
    pub bytes_written: u64,
    /// IOs it issues.
    pub ios: u64,
    /// Peak data blocks in use.
    pub peak_used: u64,
    /// Containers per image in the scaled fleet.
    pub containers: Vec<(String, u64)>,
    /// Timeline steps run.
    pub timeline_steps: u64,
    /// What was left out or changed, for the report.
    pub notes: Vec<String>,
}

/// Scale `f` down into a scenario (see the module's documentation). `Err`: why it cannot.
pub fn scale_down(f: &Fleet) -> Result<ValidationScenario, String> {
    let mut last = String::new();
    let mut factor = 1u64;
    while factor <= 1 << 20 {
        match build(f, factor) {
            Ok(v)
                if v.bytes_written <= DATA_BUDGET
                    && v.peak_used * v.chunk <= DATA_BUDGET
                    && v.ios <= IO_BUDGET =>
            {
                return Ok(v)
            }
            Ok(v) => {
                last = format!(
                    "factor {factor}: {} written in {} IOs, {} in use",
                    Bytes(v.bytes_written).human(),
                    v.ios,
                    Bytes(v.peak_used * v.chunk).human()
                )
            }
            Err(e) => last = format!("factor {factor}: {e}"),
        }
        factor *= 2;
    }
    Err(format!("no scale factor fits the budget ({last})"))
}

fn scale_bytes(b: u64, factor: u64, io: u64) -> u64 {
    (b / factor / io * io).max(io)
}

fn scale_write(w: &WriteSpec, factor: u64) -> WriteSpec {
    let io = w.io_size.0;
    let amount = match w.amount {
        Amount::Bytes(b) => Amount::Bytes(Bytes(scale_bytes(b.0, factor, io))),
        Amount::Count(n) => Amount::Count((n / factor).max(1)),
    };
    let target = match w.target {
        Target::At(o) => Target::At(Bytes(o.0 / factor / io * io)),
        t => t,
    };
    WriteSpec {
        target,
        amount,
        pattern: w.pattern,
        io_size: w.io_size,
        span: w.span.map(|s| Bytes(scale_bytes(s.0, factor, io))),
    }
}

/// An identifier from an image name: letters and digits, at most 8, starting with a letter.
fn ident(s: &str, i: usize) -> String {
    let mut t: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    if !t.starts_with(|c: char| c.is_ascii_alphabetic()) {
        t = format!("i{i}{t}");
        t.truncate(8);
    }
    t
}

struct Builder {
    pool: ExtentPool,
    chunk: u64,
    thin_size: u64,
    toml: String,
    steps: Vec<PredictedStep>,
    ids: std::collections::HashMap<String, u32>,
    next_id: u32,
    written: u64,
    ios: u64,
    peak: u64,
}

/// The IO size a sequential write of `len` bytes at `off` is issued with: the largest
/// power of two up to [`MAX_SEQ_IO`] dividing both. It covers the same bytes, so the same
/// chunks, as the plan's IO size, in fewer IOs.
pub fn seq_io(off: u64, len: u64, io: u64) -> u64 {
    let mut s = io;
    while s * 2 <= MAX_SEQ_IO && off.is_multiple_of(s * 2) && len.is_multiple_of(s * 2) {
        s *= 2;
    }
    s
}

impl Builder {
    fn push(&mut self, action: &str, thin: &str, what: String, before: u64, body: &str) {
        let name = format!("s{:03}-{}", self.steps.len(), action);
        let used = self.pool.used();
        self.peak = self.peak.max(used);
        let delta = used as i64 - before as i64;
        let _ = writeln!(
            self.toml,
            "\n# {what}\n[[step]]\nname = \"{name}\"\naction = \"{action}\"\nthin = \"{thin}\""
        );
        self.toml.push_str(body);
        if self.steps.len() >= DIRECT_STEPS {
            self.toml.push_str("pools = [\"loop\"]\n");
        }
        if delta >= 0 {
            let _ = writeln!(self.toml, "expect = {{ data_blocks_allocated = {delta} }}");
        }
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

    fn create(&mut self, thin: &str, what: String) -> Result<(), ExtentError> {
        self.next_id += 1;
        let id = self.next_id;
        let before = self.pool.used();
        self.pool.create_thin(id)?;
        self.ids.insert(thin.into(), id);
        let body = format!("size = {}\n", self.thin_size);
        self.push("create-thin", thin, what, before, &body);
        Ok(())
    }

    fn snapshot(&mut self, thin: &str, origin: &str, what: String) -> Result<(), ExtentError> {
        self.next_id += 1;
        let id = self.next_id;
        let before = self.pool.used();
        self.pool.create_snap(id, self.ids[origin])?;
        self.ids.insert(thin.into(), id);
        let body = format!("origin = \"{origin}\"\n");
        self.push("snapshot", thin, what, before, &body);
        Ok(())
    }

    fn delete(&mut self, thin: &str, what: String) -> Result<(), ExtentError> {
        let before = self.pool.used();
        let id = self.ids.remove(thin).expect("live thin");
        self.pool.delete(id)?;
        self.push("delete-thin", thin, what, before, "");
        Ok(())
    }

    /// Apply `w` to `thin` whose lineage ends at `hw`; returns the new end.
    fn write(
        &mut self,
        thin: &str,
        w: &WriteSpec,
        hw: Bytes,
        image_end: Bytes,
        what: String,
    ) -> Result<Bytes, String> {
        let (off, span) = region(w, Bytes(self.thin_size), hw, image_end)?;
        let io = w.io_size.0;
        let (ios, bytes, body) = match w.pattern {
            Pattern::Sequential => {
                // The planner writes the region once (IOs past its end are not issued).
                let len = w.ios().min(span.0 / io) * io;
                let big = seq_io(off.0, len, io);
                let body = format!(
                    "io_size = {big}\noffset = {}\npattern = \"sequential\"\ncount = {}\n",
                    off.0,
                    len / big
                );
                (len / big, len, body)
            }
            Pattern::Random { seed } => {
                let body = format!(
                    "io_size = {io}\noffset = {}\npattern = \"random\"\nseed = {seed}\ncount = {}\nspan = {}\n",
                    off.0,
                    w.ios(),
                    span.0
                );
                (w.ios(), w.ios() * io, body)
            }
        };
        self.written += bytes;
        self.ios += ios;
        let ranges = chunk_ranges(w, off, span, self.chunk);
        let before = self.pool.used();
        self.pool
            .write(self.ids[thin], &ranges)
            .map_err(|e| e.to_string())?;
        self.push("small-write", thin, what, before, &body);
        Ok(advance(w, hw, off, span))
    }
}

#[derive(Clone)]
struct Live {
    name: String,
    hw: Bytes,
}

fn build(f: &Fleet, factor: u64) -> Result<ValidationScenario, String> {
    let chunk = f.pool.chunk.bytes().0;
    let mib = 1u64 << 20;
    let thin_size = (f.thin_size.0 / factor).div_ceil(mib).max(1) * mib;
    let fixed: u64 = 1 + f.images.iter().map(|i| i.layers.len() as u64).sum::<u64>();
    if fixed >= MAX_THINS {
        return Err(format!(
            "the base and the image layers are {fixed} thins; at most {} fit a validation run",
            MAX_THINS - 1
        ));
    }
    let room = MAX_THINS - fixed;
    let total_c: u64 = f.images.iter().map(|i| i.containers).sum();
    let containers: Vec<u64> = f
        .images
        .iter()
        .map(|i| {
            if i.containers == 0 {
                0
            } else if total_c <= room {
                i.containers
            } else {
                (i.containers * room / total_c).max(1)
            }
        })
        .collect();
    if containers.iter().sum::<u64>() > room {
        return Err("too many images to keep a container of each".into());
    }
    let mut b = Builder {
        pool: ExtentPool::new(),
        chunk,
        thin_size,
        toml: String::new(),
        steps: Vec::new(),
        ids: Default::default(),
        next_id: 0,
        written: 0,
        ios: 0,
        peak: 0,
    };
    let e = |e: ExtentError| e.to_string();
    b.create("base", "the base device".into()).map_err(e)?;
    let mut hw = Bytes(0);
    for (k, w) in f.base_writes.iter().enumerate() {
        let w = scale_write(w, factor);
        hw = b.write("base", &w, hw, Bytes(0), format!("base write {k}"))?;
    }
    let mut tops = Vec::new();
    for (i, im) in f.images.iter().enumerate() {
        let short = ident(&im.name, i);
        let (mut top, mut end) = ("base".to_string(), hw);
        for (k, w) in im.layers.iter().enumerate() {
            let name = format!("{short}-l{k}");
            b.snapshot(&name, &top, format!("image {} layer {k}", im.name))
                .map_err(e)?;
            let w = scale_write(w, factor);
            end = b.write(
                &name,
                &w,
                end,
                end,
                format!("image {} layer {k} writes", im.name),
            )?;
            top = name;
        }
        tops.push((short, top, end));
    }
    let mut live: Vec<VecDeque<Live>> = vec![VecDeque::new(); f.images.len()];
    let mut started = vec![0u64; f.images.len()];
    let start = |b: &mut Builder,
                 live: &mut VecDeque<Live>,
                 started: &mut u64,
                 i: usize,
                 why: &str|
     -> Result<(), String> {
        let (short, top, end) = &tops[i];
        let im = &f.images[i];
        let name = format!("{short}-c{started}");
        *started += 1;
        b.snapshot(
            &name,
            top,
            format!("{why}: container {name} of {}", im.name),
        )
        .map_err(|x| x.to_string())?;
        let mut hw = *end;
        for (k, w) in im.container_writes.iter().enumerate() {
            let w = scale_write(w, factor);
            hw = b.write(&name, &w, hw, *end, format!("container {name} write {k}"))?;
        }
        live.push_back(Live { name, hw });
        Ok(())
    };
    for i in 0..f.images.len() {
        for _ in 0..containers[i] {
            start(&mut b, &mut live[i], &mut started[i], i, "time 0")?;
        }
    }
    let tl = &f.timeline;
    let steps = (tl.duration_s / tl.step_s).min(MAX_TIMELINE_STEPS);
    let growth = tl.write_rate_per_day.0 * tl.step_s / 86_400 / factor / 4096 * 4096;
    for s in 1..=steps {
        let t = s * tl.step_s;
        for (i, im) in f.images.iter().enumerate() {
            let Some(ch) = im.churn else { continue };
            let due = t / ch.every_s - (t - tl.step_s) / ch.every_s;
            let per = if im.containers == 0 {
                0
            } else {
                (ch.replace * containers[i])
                    .div_ceil(im.containers)
                    .min(containers[i])
            };
            for _ in 0..due * per {
                if let Some(c) = live[i].pop_front() {
                    b.delete(&c.name, format!("step {s} churn: delete {}", c.name))
                        .map_err(e)?;
                }
                start(
                    &mut b,
                    &mut live[i],
                    &mut started[i],
                    i,
                    &format!("step {s} churn"),
                )?;
            }
        }
        if growth > 0 {
            for q in live.iter_mut() {
                for c in q.iter_mut() {
                    let len = growth.min(thin_size.saturating_sub(c.hw.0)) / 4096 * 4096;
                    if len == 0 {
                        continue;
                    }
                    let w = WriteSpec {
                        target: Target::New,
                        amount: Amount::Bytes(Bytes(len)),
                        pattern: Pattern::Sequential,
                        io_size: Bytes(4096),
                        span: None,
                    };
                    c.hw = b.write(&c.name, &w, c.hw, c.hw, format!("step {s} growth"))?;
                }
            }
        }
    }
    // The pool: twice the peak, whole MiB, at least 64MiB (Docker's min_free_space 10%
    // and the low water mark stay far away).
    let data_size = (b.peak * chunk * 2).div_ceil(mib).max(64) * mib;
    let mut notes = vec![format!(
        "every size and IO count divided by {factor}: thins {} instead of {}",
        Bytes(thin_size).human(),
        f.thin_size.human()
    )];
    for (i, im) in f.images.iter().enumerate() {
        if containers[i] != im.containers {
            notes.push(format!(
                "image {}: {} containers instead of {}",
                im.name, containers[i], im.containers
            ));
        }
    }
    let total_steps = tl.duration_s / tl.step_s;
    if steps < total_steps {
        notes.push(format!(
            "timeline: the first {steps} of {total_steps} steps"
        ));
    }
    if tl.fstrim && tl.deleted_percent > 0 {
        notes.push("fstrim discards are not run (no discard action in scenario format 1)".into());
    }
    notes.push(format!(
        "direct-lvm at the plan's chunk size {} (Docker's recipe uses 512KiB) so one prediction covers both pools; it runs the first {} of {} steps (lvm is slow under TCG)",
        Bytes(chunk).human(),
        DIRECT_STEPS.min(b.steps.len()),
        b.steps.len()
    ));
    let header = header(f, factor, chunk, data_size, b.peak);
    Ok(ValidationScenario {
        toml: format!("{header}{}", b.toml),
        factor,
        chunk,
        data_size,
        direct_steps: DIRECT_STEPS.min(b.steps.len()),
        steps: b.steps,
        bytes_written: b.written,
        ios: b.ios,
        peak_used: b.peak,
        containers: f
            .images
            .iter()
            .zip(&containers)
            .map(|(i, c)| (i.name.clone(), *c))
            .collect(),
        timeline_steps: steps,
        notes,
    })
}

fn header(f: &Fleet, factor: u64, chunk: u64, data_size: u64, peak: u64) -> String {
    let mib = 1u64 << 20;
    // direct-lvm: 95% data, 1% metadata of the disk; the 1% must be one 4MiB extent.
    let device = ((data_size * 100 / 95).div_ceil(mib).max(448)).div_ceil(4) * 4 * mib;
    let name: String = format!("plan-{}", ident(&f.name, 0));
    format!(
        r#"# Generated by `thinbench plan --validate` from plan `{plan}`, sizes divided by {factor}.
# Every step expects the data blocks the planner predicts (peak {peak} blocks).
format = 1
name = "{name}"
description = "plan {plan} scaled down by {factor} to check the planner on the kernel"
timeout = "20m"

[[pool]]
name = "loop"
kind = "loop-lvm"
chunk_size = {chunk}
data_size = {data_size}
metadata_size = "64MiB"
min_free_space = 0

[[pool]]
name = "direct"
kind = "direct-lvm"
device = "auto"
device_size = {device}
chunk_size = {chunk}
thinpool_percent = 95
metadata_percent = 1
autoextend_threshold = 100
min_free_space = 0
"#,
        plan = f.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn docker_default_scales_into_the_budget() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans/docker-default.toml");
        let f = crate::load_fleet(&p).unwrap();
        let v = scale_down(&f).unwrap();
        assert!(v.bytes_written <= DATA_BUDGET);
        assert!(v.data_size <= 512 << 20);
        let creates = v
            .steps
            .iter()
            .filter(|s| s.action == "create-thin" || s.action == "snapshot")
            .count() as u64;
        let deletes = v.steps.iter().filter(|s| s.action == "delete-thin").count() as u64;
        assert!(creates - deletes <= MAX_THINS);
        assert!(deletes > 0, "churn deletes containers");
        let used: i64 = v.steps.iter().map(|s| s.data_blocks).sum();
        assert_eq!(used as u64, v.steps.last().unwrap().data_used);
    }
}

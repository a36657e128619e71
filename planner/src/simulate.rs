//! Drives the extent model through a fleet's life: the base device, each image's layer
//! chain, the containers (snapshots of the top layer) and their writes at time 0; then
//! step by step: churn (oldest containers deleted, new ones started), each running
//! container's growth at the write rate, deletions inside containers (freed only with
//! fstrim). Every step records data and metadata use and the thresholds crossed.
//!
//! Two modes ([`Mode`]): on the typed pool (what *that* pool does: Docker's
//! min_free_space refusals, lvm's autoextension, the thresholds it crosses), and on an
//! unbounded pool (the fleet's *demand*: nothing refused, nothing fires), from which the
//! recommendation is sized, so an undersized pool cannot cut the demand short.
//! Both run through the span: the longer of the timeline's duration and its horizon.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use thinbench_schema::units::{Bytes, ChunkSize};
use thinbench_workloads::{OffsetPattern, Offsets, Region};

use serde::Serialize;

use crate::fleet::{region, Fleet, LowWater, Pattern, WriteSpec};
use crate::metadata::{self, MetaEstimate};
use thinbench_model::extent::{chunk_ranges_of, Effect, ExtentError, ExtentPool};

/// What a simulation's pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The typed pool: its size, thresholds, refusals and autoextension act.
    Pool,
    /// Unbounded: the fleet's demand. Nothing is refused and no threshold fires; the
    /// metadata's fixed part (space maps) is left at an empty pool's, so that rows depend
    /// on the fleet alone (add [`metadata::fixed`] for a real geometry).
    Demand,
}

/// The simulated period, seconds: the longer of the timeline's duration and horizon.
pub fn span_s(f: &Fleet) -> u64 {
    f.timeline.duration_s.max(f.timeline.horizon_s)
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Seconds since time 0.
    pub t_s: u64,
    /// Days since time 0.
    pub day: f64,
    /// Live thins (base, layers, containers).
    pub thins: u64,
    /// Running containers.
    pub containers: u64,
    /// Data blocks the fleet needs.
    pub data_used: u64,
    /// Data blocks allocated since time 0's start, counting blocks later freed (gross).
    pub data_allocated: u64,
    /// Data blocks in the pool (grows with autoextension); 0 on an unbounded pool.
    pub data_total: u64,
    /// `data_total - data_used`, at least 0.
    pub data_free: u64,
    /// Percent used.
    pub data_used_pct: f64,
    /// Chunks mapped over all thins (shared ones counted per thin).
    pub mapped_chunks: u64,
    /// Metadata blocks (model).
    pub meta_blocks: u64,
    /// Metadata blocks the pool status would show (model + kernel reserve).
    pub meta_status_used: u64,
    /// Metadata blocks in the device.
    pub meta_total: u64,
    /// Percent used, as the status shows.
    pub meta_used_pct: f64,
    /// Virtual size of all thins / data size.
    pub overprovisioning: f64,
}

/// A threshold crossed or a policy acting.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// When, seconds since time 0 (the end of the step it happened in).
    pub t_s: u64,
    /// Same, days.
    pub day: f64,
    /// What.
    pub what: String,
    /// Details.
    pub detail: String,
}

/// Data blocks by component at time 0.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// Component.
    pub name: String,
    /// Net data blocks its operations allocated.
    pub data_blocks: u64,
}

/// One simulation's results.
#[derive(Debug, Clone)]
pub struct SimSummary {
    /// Chunk size simulated.
    pub chunk: Bytes,
    /// The mode it ran in.
    pub mode: Mode,
    /// Data blocks after time 0's set-up.
    pub initial_data: u64,
    /// Metadata after time 0's set-up.
    pub initial_meta: MetaEstimate,
    /// Data blocks by component at time 0.
    pub components: Vec<Component>,
    /// Copy-on-write breaks of sharing (blocks).
    pub broken: u64,
    /// Timeline.
    pub rows: Vec<Row>,
    /// Events.
    pub events: Vec<Event>,
    /// Container starts refused by min_free_space.
    pub refused: u64,
    /// Model size: extents held at the end.
    pub extents: usize,
    /// Model size: reference-count ranges at the end.
    pub ref_ranges: usize,
    /// Live thins at the end.
    pub thins: usize,
    /// Every thin's virtual size, bytes (for overprovisioning).
    pub thin_size: u64,
}

impl SimSummary {
    /// Peak data blocks in use.
    pub fn peak_data(&self) -> u64 {
        self.rows.iter().map(|r| r.data_used).max().unwrap_or(0)
    }
    /// Peak metadata blocks (model, without the reserve).
    pub fn peak_meta(&self) -> u64 {
        self.rows.iter().map(|r| r.meta_blocks).max().unwrap_or(0)
    }
    /// Peak live thins.
    pub fn peak_thins(&self) -> u64 {
        self.rows.iter().map(|r| r.thins).max().unwrap_or(0)
    }
    /// The demand, read off a typed pool's simulation when that pool constrained nothing
    /// (no start refused, no autoextension): the fleet's life was then the same as on an
    /// unbounded pool, and only the geometry-dependent figures differ (the metadata's
    /// fixed part, the pool's totals), which are set as [`Mode::Demand`] sets them.
    /// `None` otherwise (simulate the demand). Saves one simulation in the common case.
    pub fn as_demand(&self) -> Option<SimSummary> {
        if self.mode != Mode::Pool
            || self.refused > 0
            || self.events.iter().any(|e| e.what == "autoextended")
        {
            return None;
        }
        let mut d = self.clone();
        d.mode = Mode::Demand;
        d.events.clear();
        let empty = metadata::fixed(0, 0);
        for r in &mut d.rows {
            let m = r.meta_blocks - metadata::fixed(r.data_total, r.meta_total) + empty;
            r.meta_blocks = m;
            r.meta_status_used = m;
            r.data_total = 0;
            r.data_free = 0;
            r.data_used_pct = pct(r.data_used, 0);
            r.meta_total = 0;
            r.meta_used_pct = pct(m, 0);
            r.overprovisioning = (r.thins * self.thin_size) as f64;
        }
        Some(d)
    }

    /// The rows up to `t_s` (inclusive).
    pub fn rows_until(&self, t_s: u64) -> &[Row] {
        let n = self.rows.partition_point(|r| r.t_s <= t_s);
        &self.rows[..n]
    }
}

/// Chunk ranges `(start, len)`, sorted and coalesced.
pub type Ranges = Arc<Vec<(u64, u64)>>;

/// The chunks a write touches in region `[off, off+span)`: exact, from the same offset
/// stream thinbench's `small-write` issues.
pub fn chunk_ranges(w: &WriteSpec, off: Bytes, span: Bytes, chunk: u64) -> Vec<(u64, u64)> {
    let io = w.io_size.0;
    let n = w.ios();
    let slots = span.0 / io;
    match w.pattern {
        Pattern::Sequential => {
            let end = off.0 + n.min(slots) * io;
            let (a, b) = (off.0 / chunk, end.div_ceil(chunk));
            if b > a {
                vec![(a, b - a)]
            } else {
                vec![]
            }
        }
        Pattern::Random { seed } => {
            let region = Region::new(off, span, w.io_size).expect("validated region");
            let mut cs: Vec<u64> = Vec::with_capacity(n as usize * 2);
            for o in Offsets::new(region, OffsetPattern::Random { seed }).take(n as usize) {
                let (a, b) = (o.0 / chunk, (o.0 + io - 1) / chunk);
                cs.extend(a..=b);
            }
            chunk_ranges_of(cs)
        }
    }
}

struct Container {
    id: u32,
    hw: Bytes,
    last_growth: Option<(u64, u64)>,
}

struct ImageState {
    top: u32,
    end: Bytes,
    live: VecDeque<Container>,
    started: u64,
}

/// One simulation at one chunk size.
pub struct Sim<'a> {
    fleet: &'a Fleet,
    chunk: u64,
    pool: ExtentPool,
    next_id: u32,
    cache: HashMap<(WriteSpec, u64, u64), Ranges>,
    pub(crate) broken: u64,
    mode: Mode,
    allocated: u64,
    data_total: u64,
    meta_total: u64,
    rows: Vec<Row>,
    events: Vec<Event>,
    fired: Vec<&'static str>,
    refused: u64,
    last_meta: u64,
}

impl<'a> Sim<'a> {
    /// A simulation of `fleet` at `chunk`, on the typed pool or unbounded.
    pub fn new(fleet: &'a Fleet, chunk: ChunkSize, mode: Mode) -> Sim<'a> {
        let cb = chunk.bytes().0;
        let (data_total, meta_total) = match mode {
            Mode::Pool => (
                fleet.pool.data_size.0 / cb,
                fleet.pool.metadata_size.0 / 4096,
            ),
            Mode::Demand => (0, 0),
        };
        Sim {
            fleet,
            chunk: cb,
            pool: ExtentPool::new(),
            next_id: 0,
            cache: HashMap::new(),
            broken: 0,
            mode,
            allocated: 0,
            data_total,
            meta_total,
            rows: Vec::new(),
            events: Vec::new(),
            fired: Vec::new(),
            refused: 0,
            last_meta: 0,
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// Apply `w` to thin `id` whose lineage ends at `hw`; returns the new end.
    fn write(
        &mut self,
        id: u32,
        w: &WriteSpec,
        hw: Bytes,
        image_end: Bytes,
        eff: &mut Effect,
    ) -> Result<Bytes, ExtentError> {
        let (off, span) = region(w, self.fleet.thin_size, hw, image_end)
            .expect("validated: regions stay inside the thin");
        let key = (*w, off.0, span.0);
        let chunk = self.chunk;
        let ranges = self
            .cache
            .entry(key)
            .or_insert_with(|| Arc::new(chunk_ranges(w, off, span, chunk)))
            .clone();
        let e = self.pool.write(id, &ranges)?;
        self.broken += e.broken;
        self.allocated += e.allocated();
        add(eff, e);
        Ok(crate::fleet::advance(w, hw, off, span))
    }

    fn free_pct_ok(&self) -> bool {
        let p = u64::from(self.fleet.pool.min_free_space_pct);
        let free = self.data_total.saturating_sub(self.pool.used());
        // Metadata as of the last recorded step: re-estimating it per container start
        // would be quadratic in thins; it moves by a few blocks per container.
        let meta = self.last_meta;
        let mfree = self.meta_total.saturating_sub(meta);
        free * 100 >= p * self.data_total && mfree * 100 >= p * self.meta_total
    }

    fn start_container(
        &mut self,
        img: &mut ImageState,
        spec_idx: usize,
        eff: &mut Effect,
        t_s: u64,
    ) -> Result<(), ExtentError> {
        // Docker's dm.min_free_space: refuse the snapshot below the threshold.
        if self.mode == Mode::Pool && self.fleet.pool.min_free_space_pct > 0 && !self.free_pct_ok()
        {
            self.refused += 1;
            if self.refused == 1 {
                self.events.push(Event {
                    t_s,
                    day: t_s as f64 / 86_400.0,
                    what: "snapshot refused".into(),
                    detail: format!(
                        "free data or metadata below min_free_space {}%: Docker refuses new containers from here",
                        self.fleet.pool.min_free_space_pct
                    ),
                });
            }
            return Ok(());
        }
        let id = self.id();
        self.pool.create_snap(id, img.top)?;
        let mut hw = img.end;
        let writes = self.fleet.images[spec_idx].container_writes.clone();
        for w in &writes {
            hw = self.write(id, w, hw, img.end, eff)?;
        }
        img.live.push_back(Container {
            id,
            hw,
            last_growth: None,
        });
        img.started += 1;
        Ok(())
    }

    fn meta(&self) -> MetaEstimate {
        metadata::estimate(self.data_total, self.meta_total, self.pool.thin_stats())
    }

    fn record(&mut self, t_s: u64, containers: u64) {
        let meta = self.meta();
        self.last_meta = meta.status_used;
        let used = self.pool.used();
        let mapped: u64 = self.pool.thin_stats().map(|t| t.mapped).sum();
        let thins = self.pool.thin_count() as u64;
        let row = Row {
            t_s,
            day: t_s as f64 / 86_400.0,
            thins,
            containers,
            data_used: used,
            data_allocated: self.allocated,
            data_total: self.data_total,
            data_free: self.data_total.saturating_sub(used),
            data_used_pct: pct(used, self.data_total),
            mapped_chunks: mapped,
            meta_blocks: meta.total,
            meta_status_used: meta.status_used,
            meta_total: self.meta_total,
            meta_used_pct: pct(meta.status_used, self.meta_total),
            overprovisioning: (thins * self.fleet.thin_size.0) as f64
                / ((self.data_total * self.chunk) as f64).max(1.0),
        };
        if self.mode == Mode::Pool {
            self.thresholds(&row);
        }
        self.rows.push(row);
    }

    fn fire(&mut self, key: &'static str, t_s: u64, detail: String) {
        if !self.fired.contains(&key) {
            self.fired.push(key);
            self.events.push(Event {
                t_s,
                day: t_s as f64 / 86_400.0,
                what: key.into(),
                detail,
            });
        }
    }

    fn thresholds(&mut self, r: &Row) {
        let p = &self.fleet.pool;
        let lwm = match p.low_water_mark {
            LowWater::Blocks(b) => b.min(r.data_total),
            LowWater::Percent(x) => r.data_total * u64::from(x) / 100,
        };
        if r.data_free < lwm {
            self.fire(
                "low water mark",
                r.t_s,
                format!(
                    "free data blocks {} < {lwm}: dm-thin sends its event",
                    r.data_free
                ),
            );
        }
        let m = u64::from(p.min_free_space_pct);
        if m > 0 && r.data_free * 100 < m * r.data_total {
            self.fire(
                "min_free_space (data)",
                r.t_s,
                format!(
                    "free data {:.1}% < {m}%: Docker refuses new containers",
                    100.0 - r.data_used_pct
                ),
            );
        }
        if m > 0 && r.meta_total.saturating_sub(r.meta_status_used) * 100 < m * r.meta_total {
            self.fire(
                "min_free_space (metadata)",
                r.t_s,
                format!("free metadata {:.1}% < {m}%", 100.0 - r.meta_used_pct),
            );
        }
        let th = u64::from(p.autoextend_threshold);
        if th < 100 && r.data_used * 100 >= th * r.data_total {
            match p.max_data_size {
                Some(max) if self.data_total * self.chunk < max.0 => {
                    let grow = (self.data_total * u64::from(p.autoextend_percent) / 100).max(1);
                    let new = (self.data_total + grow).min(max.0 / self.chunk);
                    self.events.push(Event {
                        t_s: r.t_s,
                        day: r.day,
                        what: "autoextended".into(),
                        detail: format!(
                            "data {:.0}% ≥ {th}%: lvm grows the pool by {}% to {}",
                            r.data_used_pct,
                            p.autoextend_percent,
                            Bytes(new * self.chunk).approx()
                        ),
                    });
                    self.data_total = new;
                }
                _ => self.fire(
                    "autoextend threshold",
                    r.t_s,
                    format!(
                        "data {:.0}% ≥ {th}%: lvm would extend by {}% (or refuse new thins without room)",
                        r.data_used_pct, p.autoextend_percent
                    ),
                ),
            }
        }
        if th < 100 && r.meta_status_used * 100 >= th * r.meta_total {
            self.fire(
                "metadata autoextend threshold",
                r.t_s,
                format!("metadata {:.0}% ≥ {th}%", r.meta_used_pct),
            );
        }
        if r.data_used >= r.data_total {
            self.fire(
                "data full",
                r.t_s,
                "writes to new blocks fail (error_if_no_space) or queue".into(),
            );
        }
        if r.meta_status_used >= r.meta_total {
            self.fire(
                "metadata full",
                r.t_s,
                "the pool goes read-only and needs thin_check".into(),
            );
        }
    }

    /// Run the whole fleet; returns what the report needs.
    pub fn run(mut self) -> Result<SimSummary, ExtentError> {
        let f = self.fleet;
        let mut components = Vec::new();
        let base = self.id();
        self.pool.create_thin(base)?;
        let mut eff = Effect::default();
        let mut hw = Bytes(0);
        for w in &f.base_writes {
            hw = self.write(base, w, hw, Bytes(0), &mut eff)?;
        }
        components.push(Component {
            name: "base device".into(),
            data_blocks: eff.allocated() - eff.released,
        });
        let mut images = Vec::new();
        for im in &f.images {
            let mut eff = Effect::default();
            let mut top = base;
            let mut end = hw;
            for w in &im.layers {
                let id = self.id();
                self.pool.create_snap(id, top)?;
                end = self.write(id, w, end, end, &mut eff)?;
                top = id;
            }
            components.push(Component {
                name: format!("image {} ({} layers)", im.name, im.layers.len()),
                data_blocks: eff.allocated() - eff.released,
            });
            images.push(ImageState {
                top,
                end,
                live: VecDeque::new(),
                started: 0,
            });
        }
        self.last_meta = self.meta().status_used;
        for (i, im) in f.images.iter().enumerate() {
            let mut eff = Effect::default();
            let mut st = std::mem::replace(
                &mut images[i],
                ImageState {
                    top: 0,
                    end: Bytes(0),
                    live: VecDeque::new(),
                    started: 0,
                },
            );
            for _ in 0..im.containers {
                self.start_container(&mut st, i, &mut eff, 0)?;
            }
            images[i] = st;
            components.push(Component {
                name: format!("containers of {} ({} × writes)", im.name, im.containers),
                data_blocks: eff.allocated() - eff.released,
            });
        }
        let containers = |imgs: &[ImageState]| imgs.iter().map(|s| s.live.len() as u64).sum();
        let initial_data = self.pool.used();
        let initial_meta = self.meta();
        self.record(0, containers(&images));
        let tl = &f.timeline;
        let growth = tl.write_rate_per_day.0 * tl.step_s / 86_400;
        let steps = span_s(f) / tl.step_s;
        let cb = self.chunk;
        for s in 1..=steps {
            let t = s * tl.step_s;
            for (i, im) in f.images.iter().enumerate() {
                let Some(ch) = im.churn else { continue };
                let prev = (t - tl.step_s) / ch.every_s;
                let due = t / ch.every_s - prev;
                let mut st = std::mem::replace(
                    &mut images[i],
                    ImageState {
                        top: 0,
                        end: Bytes(0),
                        live: VecDeque::new(),
                        started: 0,
                    },
                );
                let mut eff = Effect::default();
                for _ in 0..due * ch.replace {
                    if let Some(c) = st.live.pop_front() {
                        // Docker discarded the whole thin first (BLKDISCARD); dm-thin frees
                        // the same blocks either way, so only delete is modelled.
                        self.pool.delete(c.id)?;
                    }
                    self.start_container(&mut st, i, &mut eff, t)?;
                }
                images[i] = st;
            }
            if growth > 0 || tl.deleted_percent > 0 {
                for st in images.iter_mut() {
                    for c in st.live.iter_mut() {
                        let off = c.hw.0;
                        let len = growth.min(f.thin_size.0.saturating_sub(off));
                        if len > 0 {
                            let (a, b) = (off / cb, (off + len).div_ceil(cb));
                            let e = self.pool.write(c.id, &[(a, b - a)])?;
                            self.broken += e.broken;
                            self.allocated += e.allocated();
                            c.hw = Bytes(off + len);
                        }
                        if tl.fstrim && tl.deleted_percent > 0 {
                            if let Some((o, l)) = c.last_growth {
                                let del = l * u64::from(tl.deleted_percent) / 100;
                                let (a, b) = (o.div_ceil(cb), (o + del) / cb);
                                if b > a {
                                    self.pool.discard(c.id, a, b - a)?;
                                }
                            }
                        }
                        c.last_growth = (len > 0).then_some((off, len));
                    }
                }
            }
            self.record(t, containers(&images));
        }
        let thins = self.pool.thin_count();
        Ok(SimSummary {
            chunk: Bytes(cb),
            mode: self.mode,
            initial_data,
            initial_meta,
            components,
            broken: self.broken,
            rows: self.rows,
            events: self.events,
            refused: self.refused,
            extents: self.pool.extent_count(),
            ref_ranges: self.pool.ref_ranges(),
            thins,
            thin_size: f.thin_size.0,
        })
    }
}

fn add(a: &mut Effect, b: Effect) {
    a.provisioned += b.provisioned;
    a.broken += b.broken;
    a.released += b.released;
    a.freed += b.freed;
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

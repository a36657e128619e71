//! Recommended sizes from the fleet's *demand* over the horizon.
//!
//! The demand is simulated on an unbounded pool (`simulate::Mode::Demand`), so the pool
//! size typed into the plan changes nothing here. The chunk is chosen first (least data +
//! metadata at the peak over the horizon, larger chunks preferred within 2%); data and
//! metadata are then sized from the demand *at that chunk*:
//!
//! * data: the smallest whole GiB whose every data threshold stays unfired at the peak
//!   need: Docker's `min_free_space`, lvm's autoextend threshold and dm-thin's low water
//!   mark (whichever fires at the lowest use binds), and below full;
//! * metadata: twice the model's peak (b-tree splits, shadowing, the ref-count tree the
//!   model leaves out) plus the kernel's reserve, under the same `min_free_space` and
//!   autoextend thresholds, in 4 MiB steps, within dm-thin's 2 MiB..16 GiB.
//!
//! How long it lasts: from the end of the simulation, at the demand's net rates, the day
//! the first threshold would fire on the recommended pool.

use serde::Serialize;
use thinbench_schema::units::Bytes;

use crate::fleet::{Fleet, LowWater};
use crate::metadata;
use crate::rates::{demand_reaches, extrapolate, lwm_level, Rates};
use crate::simulate::{Row, SimSummary};

/// Metadata's safety factor over the model's peak.
pub const META_FACTOR: u64 = 2;
/// dm-thin's largest metadata device, 4 KiB blocks (16 GiB).
pub const META_MAX_BLOCKS: u64 = 4 << 20;
/// Metadata sizes step, 4 KiB blocks (4 MiB).
pub const META_STEP_BLOCKS: u64 = 1024;

/// One chunk size of the trade-off table (from the demand over the horizon).
#[derive(Debug, Clone, Serialize)]
pub struct TradeoffRow {
    /// Chunk size.
    #[serde(rename = "chunk_bytes")]
    pub chunk: Bytes,
    /// Peak data need, bytes.
    pub peak_data_bytes: Bytes,
    /// Peak metadata (model, on a pool of the peak data), bytes.
    pub peak_meta_bytes: Bytes,
    /// Data + metadata at peak.
    pub peak_total_bytes: Bytes,
    /// Copy-on-write copies/overwrites, bytes moved (blocks × chunk).
    pub cow_bytes: Bytes,
    /// Mapped chunks at peak (metadata entries, b-tree work).
    pub peak_mapped_chunks: u64,
    /// The day the demand reaches the typed pool's data size (`null`: never at the net
    /// rate).
    pub days_to_full: Option<f64>,
    /// Whether `days_to_full` is extrapolated past the simulated period.
    pub extrapolated: bool,
}

/// The demand's peak over the rows up to the horizon: (data blocks, metadata blocks of a
/// pool of `data_blocks` × `meta_blocks`).
fn peaks(rows: &[Row], data_blocks: u64, meta_blocks: u64) -> (u64, u64) {
    let d = rows.iter().map(|r| r.data_used).max().unwrap_or(0);
    let m = rows.iter().map(|r| r.meta_blocks).max().unwrap_or(0);
    (
        d,
        m - metadata::fixed(0, 0) + metadata::fixed(data_blocks, meta_blocks),
    )
}

impl TradeoffRow {
    /// The row for one demand simulation.
    pub fn from_demand(s: &SimSummary, fleet: &Fleet) -> TradeoffRow {
        let cb = s.chunk.0;
        let rows = s.rows_until(fleet.timeline.horizon_s);
        let (pd, _) = peaks(rows, 0, 0);
        let (_, pm) = peaks(rows, pd, 0);
        let (d, m) = (pd * cb, pm * 4096);
        let rates = Rates::of(fleet, s);
        let full = demand_reaches(
            &s.rows,
            fleet.pool.data_size.0 / cb,
            rates.net_blocks_per_day,
        );
        TradeoffRow {
            chunk: s.chunk,
            peak_data_bytes: Bytes(d),
            peak_meta_bytes: Bytes(m),
            peak_total_bytes: Bytes(d + m),
            cow_bytes: Bytes(s.broken * cb),
            peak_mapped_chunks: rows.iter().map(|r| r.mapped_chunks).max().unwrap_or(0),
            days_to_full: full.map(|f| f.0),
            extrapolated: full.is_some_and(|f| f.1),
        }
    }
}

/// Recommended sizes, with the reasoning.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// Data device size.
    #[serde(rename = "data_size_bytes")]
    pub data_size: Bytes,
    /// Metadata device size.
    #[serde(rename = "metadata_size_bytes")]
    pub metadata_size: Bytes,
    /// Chunk size.
    #[serde(rename = "chunk_bytes")]
    pub chunk: Bytes,
    /// How long it must hold (the plan's horizon), days.
    pub horizon_days: f64,
    /// The demand's peak data over the horizon, bytes.
    pub peak_data_bytes: Bytes,
    /// The model's peak metadata over the horizon on the recommended pool, bytes
    /// (without the kernel's reserve).
    pub peak_metadata_bytes: Bytes,
    /// Data in use at which the first data threshold fires on the recommended pool,
    /// bytes (use stays at or below it).
    pub data_limit_bytes: Bytes,
    /// That threshold.
    pub data_limit_by: String,
    /// `1 - peak / data_size`, percent: the data left free at the peak.
    pub data_headroom_pct: f64,
    /// Metadata need (model peak × [`META_FACTOR`] + reserve) / metadata size, percent.
    pub metadata_used_pct: f64,
    /// The day the first threshold would fire on the recommended pool at the net rates
    /// (`null`: never, the demand does not grow).
    pub lasts_days: Option<f64>,
    /// Whether `lasts_days` is extrapolated past the simulated period.
    pub lasts_extrapolated: bool,
    /// What fires then (`"min_free_space 10% on data"`, ...).
    pub lasts_limited_by: String,
    /// Why, one line each.
    pub why: Vec<String>,
}

/// The data thresholds of a pool of `total` blocks: (name, the highest use that does not
/// fire it), lowest first; never empty (`full` is always there). A low water mark of
/// 100% fires at any use and is left out.
fn data_limits(fleet: &Fleet, total: u64) -> Vec<(String, u64)> {
    let p = &fleet.pool;
    let mut v = Vec::new();
    if p.low_water_mark != LowWater::Percent(100) {
        v.push((
            match p.low_water_mark {
                LowWater::Blocks(b) => format!("low water mark {b} blocks"),
                LowWater::Percent(x) => format!("low water mark {x}%"),
            },
            lwm_level(p.low_water_mark, total),
        ));
    }
    v.extend(shared_limits(fleet, total));
    v.sort_by_key(|x| x.1);
    v
}

/// The thresholds data and metadata both have: min_free_space, lvm's autoextend
/// threshold, full.
fn shared_limits(fleet: &Fleet, total: u64) -> Vec<(String, u64)> {
    let p = &fleet.pool;
    let m = u64::from(p.min_free_space_pct);
    let th = u64::from(p.autoextend_threshold);
    let mut v = vec![("full".to_string(), total.saturating_sub(1))];
    if m > 0 {
        v.push((
            format!("min_free_space {m}%"),
            total - (m * total).div_ceil(100),
        ));
    }
    if th < 100 {
        v.push((
            format!("autoextend threshold {th}%"),
            (th * total).div_ceil(100).saturating_sub(1),
        ));
    }
    v
}

/// The metadata thresholds of a device of `total` blocks, as for data.
fn meta_limits(fleet: &Fleet, total: u64) -> Vec<(String, u64)> {
    let mut v = shared_limits(fleet, total);
    v.sort_by_key(|x| x.1);
    v
}

/// The chunk with the least data + metadata at the peak; ties within 2% go to the larger
/// (fewer mappings, less b-tree work, faster provisioning).
fn pick_chunk(table: &[TradeoffRow]) -> Option<Bytes> {
    let best = table
        .iter()
        .filter(|r| r.peak_meta_bytes.0 <= 16 * Bytes::GIB)
        .min_by_key(|r| r.peak_total_bytes.0)?;
    let tol = best.peak_total_bytes.0 / 50;
    table
        .iter()
        .filter(|r| r.peak_total_bytes.0 <= best.peak_total_bytes.0 + tol)
        .map(|r| r.chunk)
        .max()
}

impl Recommendation {
    /// Sizes for `fleet` from the demand simulations: `demand` at the plan's chunk, and
    /// (when the trade-off ran) one per trade-off chunk in `table` / `sims`.
    pub fn new(
        fleet: &Fleet,
        demand: &SimSummary,
        table: &[TradeoffRow],
        sims: &[&SimSummary],
    ) -> Recommendation {
        let chunk = pick_chunk(table).unwrap_or(demand.chunk);
        let s = sims
            .iter()
            .copied()
            .find(|s| s.chunk == chunk)
            .unwrap_or(demand);
        let cb = s.chunk.0;
        let horizon = fleet.timeline.horizon_s;
        let rows = s.rows_until(horizon);
        let (peak, _) = peaks(rows, 0, 0);
        // Data: the smallest whole GiB under which the peak fires nothing. Start from each
        // threshold's bound (a low water mark in blocks may be far above the peak), then
        // step over the rounding; a low water mark of 100% fires on any pool and is left
        // out of `data_limits`.
        let gib_blocks = (Bytes::GIB / cb).max(1);
        let p = &fleet.pool;
        let mut lower = peak.saturating_add(1);
        let mut pct_bound = |free_pct: u64| {
            if free_pct < 100 {
                lower = lower.max((peak.saturating_mul(100)).div_ceil(100 - free_pct));
            }
        };
        pct_bound(u64::from(p.min_free_space_pct));
        pct_bound(100 - u64::from(p.autoextend_threshold));
        match p.low_water_mark {
            LowWater::Blocks(b) => lower = lower.max(peak.saturating_add(b)),
            LowWater::Percent(x) => pct_bound(u64::from(x)),
        }
        let max_blocks = u64::MAX / cb / 2;
        let mut total = lower
            .div_ceil(gib_blocks)
            .max(1)
            .saturating_mul(gib_blocks)
            .min(max_blocks);
        for _ in 0..1000 {
            if data_limits(fleet, total)[0].1 >= peak || total >= max_blocks {
                break;
            }
            total += gib_blocks;
        }
        // Metadata: the smallest 4 MiB step holding twice the model's peak + reserve
        // under every metadata threshold.
        let need = |mb: u64| META_FACTOR * peaks(rows, total, mb).1 + metadata::reserve(mb);
        let mut mb = META_STEP_BLOCKS;
        while mb < META_MAX_BLOCKS && meta_limits(fleet, mb)[0].1 < need(mb) {
            mb += META_STEP_BLOCKS;
        }
        let (_, peak_meta) = peaks(rows, total, mb);
        let dl = &data_limits(fleet, total)[0];
        let ml = &meta_limits(fleet, mb)[0];
        // How long it lasts: the first of the data and the metadata limit.
        let rates = Rates::of(fleet, s);
        let data_day = demand_reaches(&s.rows, dl.1 + 1, rates.net_blocks_per_day);
        let meta_day = s.rows.last().and_then(|last| {
            let now = META_FACTOR
                * (last.meta_blocks - metadata::fixed(0, 0) + metadata::fixed(total, mb))
                + metadata::reserve(mb);
            extrapolate(
                last.day,
                now,
                ml.1 + 1,
                META_FACTOR as f64 * rates.metadata_net_blocks_per_day,
            )
            .map(|d| (d, true))
        });
        let (lasts, by) = match (data_day, meta_day) {
            (Some(d), Some(m)) if m.0 < d.0 => (Some(m), format!("{} on metadata", ml.0)),
            (Some(d), _) => (Some(d), format!("{} on data", dl.0)),
            (None, Some(m)) => (Some(m), format!("{} on metadata", ml.0)),
            (None, None) => (None, "nothing: the demand does not grow".into()),
        };
        let data_size = total * cb;
        let meta_need = need(mb);
        let horizon_days = horizon as f64 / 86_400.0;
        let mut why = vec![
            format!(
                "data: the demand's peak over the {horizon_days:.0}-day horizon is {} ({} blocks of {}); {} holds up to {} blocks in use before {} fires (the first of the low water mark, min_free_space and the autoextend threshold to fire); {:.1}% left free at the peak",
                Bytes(peak * cb).approx(),
                peak,
                Bytes(cb).human(),
                Bytes(data_size).human(),
                dl.1,
                dl.0,
                100.0 - peak as f64 * 100.0 / total as f64
            ),
            format!(
                "metadata: {META_FACTOR} × the model's peak {} + the kernel's reserve = {} ({:.1}% of {}), below {} ({} blocks), in 4MiB steps",
                Bytes(peak_meta * 4096).approx(),
                Bytes(meta_need * 4096).approx(),
                meta_need as f64 * 100.0 / mb as f64,
                Bytes(mb * 4096).human(),
                ml.0,
                ml.1
            ),
        ];
        if !table.is_empty() {
            why.push(format!(
                "chunk: {} has the least data + metadata at the peak (larger chunks preferred within 2%)",
                chunk.human()
            ));
        }
        why.push(match lasts {
            Some((d, _)) => format!(
                "lasts: to day {d:.1} at the net rate of {}/day (days {:.1}-{:.1}), when {by} would fire",
                Bytes(rates.net_bytes_per_day.max(0.0) as u64).approx(),
                rates.window_from_day,
                rates.window_to_day
            ),
            None => "lasts: indefinitely: the demand does not grow at the net rate".into(),
        });
        Recommendation {
            data_size: Bytes(data_size),
            metadata_size: Bytes(mb * 4096),
            chunk,
            horizon_days,
            peak_data_bytes: Bytes(peak * cb),
            peak_metadata_bytes: Bytes(peak_meta * 4096),
            data_limit_bytes: Bytes(dl.1 * cb),
            data_limit_by: dl.0.clone(),
            data_headroom_pct: 100.0 - peak as f64 * 100.0 / total as f64,
            metadata_used_pct: meta_need as f64 * 100.0 / mb as f64,
            lasts_days: lasts.map(|l| l.0),
            lasts_extrapolated: lasts.is_some_and(|l| l.1),
            lasts_limited_by: by,
            why,
        }
    }
}

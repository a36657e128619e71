//! Growth rates that say what they are taken over, and every threshold's day.
//!
//! *Gross* growth is the data blocks allocated per day (new data, copy-on-write), counting
//! blocks later freed; *net* is the change of data in use per day (gross minus what
//! deletes, churn and discards return). Both are taken over one stated window: the second
//! half of the fleet's demand simulation (churn makes single steps jumpy; the first half
//! holds time 0's set-up). Days to full and every extrapolated threshold use the net rate.

use serde::Serialize;

use crate::fleet::{Fleet, LowWater};
use crate::simulate::{Row, SimSummary};

/// Growth over a window of the demand simulation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rates {
    /// Window start, days.
    pub window_from_day: f64,
    /// Window end, days.
    pub window_to_day: f64,
    /// Data allocated per day in the window (gross), bytes.
    pub gross_bytes_per_day: f64,
    /// Change of data in use per day in the window (net), bytes.
    pub net_bytes_per_day: f64,
    /// Same, data blocks of the simulated chunk.
    pub net_blocks_per_day: f64,
    /// Change of metadata in use per day in the window (model), 4 KiB blocks.
    pub metadata_net_blocks_per_day: f64,
    /// What the running containers write per day at time 0 (write rate × containers).
    pub time0_write_bytes_per_day: f64,
}

impl Rates {
    /// The rates of a demand simulation.
    pub fn of(fleet: &Fleet, s: &SimSummary) -> Rates {
        let cb = s.chunk.0 as f64;
        let n = s.rows.len();
        let containers = s.rows.first().map(|r| r.containers).unwrap_or(0);
        let time0 = (fleet.timeline.write_rate_per_day.0 * containers) as f64;
        if n < 2 {
            return Rates {
                window_from_day: 0.0,
                window_to_day: 0.0,
                gross_bytes_per_day: 0.0,
                net_bytes_per_day: 0.0,
                net_blocks_per_day: 0.0,
                metadata_net_blocks_per_day: 0.0,
                time0_write_bytes_per_day: time0,
            };
        }
        let (a, b) = (&s.rows[(n - 1) / 2], &s.rows[n - 1]);
        let days = (b.day - a.day).max(f64::MIN_POSITIVE);
        let net_blocks = (b.data_used as f64 - a.data_used as f64) / days;
        Rates {
            window_from_day: a.day,
            window_to_day: b.day,
            gross_bytes_per_day: (b.data_allocated - a.data_allocated) as f64 * cb / days,
            net_bytes_per_day: net_blocks * cb,
            net_blocks_per_day: net_blocks,
            metadata_net_blocks_per_day: (b.meta_status_used as f64 - a.meta_status_used as f64)
                / days,
            time0_write_bytes_per_day: time0,
        }
    }
}

/// The day `level` is reached, continuing from `(day, value)` at `per_day`; `None` if
/// the rate does not grow.
pub fn extrapolate(day: f64, value: u64, level: u64, per_day: f64) -> Option<f64> {
    if value >= level {
        return Some(day);
    }
    (per_day > 0.0).then(|| day + (level - value) as f64 / per_day)
}

/// What became of one threshold on the typed pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// It fired in the simulated period: `day` is when.
    Fired,
    /// It did not fire in the simulated period; `day` is when it would at the net rate.
    Extrapolated,
    /// It did not fire and the net rate does not reach it.
    Never,
    /// Not configured (e.g. min_free_space 0%, autoextend threshold 100).
    Off,
}

/// One threshold of the typed pool.
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    /// Its name, as in the events (`"low water mark"`, `"data full"`, ...).
    pub name: String,
    /// Where it is, in words (`"free data < 32768 blocks"`).
    pub level: String,
    /// What became of it.
    pub status: Status,
    /// The day it fired or would fire; `null` for `never` and `off`.
    pub day: Option<f64>,
    /// One line for a person.
    pub detail: String,
}

/// Data blocks in use at which the low water mark fires (used above this), of `total`.
pub fn lwm_level(lwm: LowWater, total: u64) -> u64 {
    let b = match lwm {
        LowWater::Blocks(b) => b.min(total),
        LowWater::Percent(x) => total * u64::from(x) / 100,
    };
    total - b
}

/// Every threshold of the typed pool: from the pool simulation's events, or extrapolated
/// from its last row at the demand's net rates.
pub fn thresholds(
    fleet: &Fleet,
    pool: &SimSummary,
    rates: &Rates,
    horizon_days: f64,
) -> Vec<Threshold> {
    let p = &fleet.pool;
    let Some(last) = pool.rows.last() else {
        return Vec::new();
    };
    let fired = |name: &str| pool.events.iter().find(|e| e.what == name).map(|e| e.day);
    let mut out = Vec::new();
    let m = u64::from(p.min_free_space_pct);
    let th = u64::from(p.autoextend_threshold);
    let dt = last.data_total;
    let mt = last.meta_total;
    // (name, level text, on, used level (fires above it), data or metadata, event name)
    let mut add = |name: &str, level: String, on: Option<(u64, bool)>, event: &str| {
        let (status, day, detail) = match (on, fired(event)) {
            (None, _) => (Status::Off, None, "off".to_string()),
            (_, Some(d)) => (Status::Fired, Some(d), format!("fires on day {d:.1}")),
            (Some((lvl, data)), None) => {
                let (value, rate, unit) = if data {
                    (last.data_used, rates.net_blocks_per_day, "data")
                } else {
                    (
                        last.meta_status_used,
                        rates.metadata_net_blocks_per_day,
                        "metadata",
                    )
                };
                match extrapolate(last.day, value, lvl + 1, rate) {
                    Some(d) => (
                        Status::Extrapolated,
                        Some(d),
                        format!(
                            "not within the horizon ({horizon_days:.0} days); extrapolated day {d:.1} at the net {unit} rate"
                        ),
                    ),
                    None => (
                        Status::Never,
                        None,
                        format!(
                            "not within the horizon ({horizon_days:.0} days); never at the net {unit} rate (it does not grow)"
                        ),
                    ),
                }
            }
        };
        out.push(Threshold {
            name: name.into(),
            level,
            status,
            day,
            detail,
        });
    };
    let lwm = lwm_level(p.low_water_mark, dt);
    add(
        "low water mark",
        format!("free data < {} blocks", dt - lwm),
        Some((lwm, true)),
        "low water mark",
    );
    let mfs = |total: u64| total - (m * total).div_ceil(100);
    add(
        "min_free_space (data)",
        format!("free data < {m}%"),
        (m > 0).then(|| (mfs(dt), true)),
        "min_free_space (data)",
    );
    add(
        "min_free_space (metadata)",
        format!("free metadata < {m}%"),
        (m > 0).then(|| (mfs(mt), false)),
        "min_free_space (metadata)",
    );
    let ae = |total: u64| (th * total).div_ceil(100).saturating_sub(1);
    let extended = pool.events.iter().any(|e| e.what == "autoextended");
    add(
        "autoextend threshold",
        format!("data used ≥ {th}%"),
        (th < 100).then(|| (ae(dt), true)),
        if extended {
            "autoextended"
        } else {
            "autoextend threshold"
        },
    );
    add(
        "metadata autoextend threshold",
        format!("metadata used ≥ {th}%"),
        (th < 100).then(|| (ae(mt), false)),
        "metadata autoextend threshold",
    );
    add(
        "data full",
        format!("data used = {dt} blocks"),
        Some((dt.saturating_sub(1), true)),
        "data full",
    );
    add(
        "metadata full",
        format!("metadata used = {mt} blocks"),
        Some((mt.saturating_sub(1), false)),
        "metadata full",
    );
    out
}

/// The first day the demand's data in use reaches `blocks` (interpolated between steps),
/// or extrapolated from the last row at `net_per_day`: `(day, extrapolated)`.
pub fn demand_reaches(rows: &[Row], blocks: u64, net_per_day: f64) -> Option<(f64, bool)> {
    let mut prev: Option<&Row> = None;
    for r in rows {
        if r.data_used >= blocks {
            let Some(p) = prev else {
                return Some((r.day, false));
            };
            let need = blocks.saturating_sub(p.data_used) as f64;
            let grew = r.data_used as f64 - p.data_used as f64;
            let frac = if grew > 0.0 {
                (need / grew).min(1.0)
            } else {
                1.0
            };
            return Some((p.day + frac * (r.day - p.day), false));
        }
        prev = Some(r);
    }
    let last = rows.last()?;
    extrapolate(last.day, last.data_used, blocks, net_per_day).map(|d| (d, true))
}

//! The plan as the report's JSON shows it: plain objects, numbers in bytes and seconds,
//! either/or values as a `kind` string beside nullable fields, never a language's enum
//! encoding. Documented field by field in `docs/plan-report.md` and checked against
//! `docs/plan-report.schema.json` by `planner/tests/json_contract.rs`; kept apart from the
//! planner's own types so that they can change without changing the contract.

use serde::Serialize;

use crate::fleet::{Fleet, LowWater, Pattern, Target, WriteSpec};

/// The version of the report's JSON and CSV files. Bumped on any change a reader could
/// notice except added fields.
pub const SCHEMA_VERSION: u32 = 2;

/// One write.
#[derive(Debug, Clone, Serialize)]
pub struct WriteJson {
    /// `"new"`, `"image"` or `"offset"`.
    pub target: &'static str,
    /// The byte offset when `target` is `"offset"`, else `null`.
    pub offset_bytes: Option<u64>,
    /// IOs issued.
    pub ios: u64,
    /// Bytes written (`ios × io_size_bytes`).
    pub bytes: u64,
    /// `"sequential"` or `"random"`.
    pub pattern: &'static str,
    /// The seed when `pattern` is `"random"`, else `null`.
    pub seed: Option<u64>,
    /// Bytes per IO.
    pub io_size_bytes: u64,
    /// Region length, or `null` for the default.
    pub span_bytes: Option<u64>,
}

impl From<&WriteSpec> for WriteJson {
    fn from(w: &WriteSpec) -> WriteJson {
        let (target, offset_bytes) = match w.target {
            Target::New => ("new", None),
            Target::Image => ("image", None),
            Target::At(b) => ("offset", Some(b.0)),
        };
        let (pattern, seed) = match w.pattern {
            Pattern::Sequential => ("sequential", None),
            Pattern::Random { seed } => ("random", Some(seed)),
        };
        WriteJson {
            target,
            offset_bytes,
            ios: w.ios(),
            bytes: w.bytes().0,
            pattern,
            seed,
            io_size_bytes: w.io_size.0,
            span_bytes: w.span.map(|s| s.0),
        }
    }
}

/// The pool as typed.
#[derive(Debug, Clone, Serialize)]
pub struct PoolJson {
    /// Data device, bytes.
    pub data_size_bytes: u64,
    /// Metadata device, bytes.
    pub metadata_size_bytes: u64,
    /// Chunk, bytes.
    pub chunk_bytes: u64,
    /// `"blocks"` or `"percent"`.
    pub low_water_mark_unit: &'static str,
    /// The low water mark in that unit.
    pub low_water_mark: u64,
    /// Docker's `dm.min_free_space`, percent (0: off).
    pub min_free_space_pct: u8,
    /// lvm's autoextend threshold, percent (100: off).
    pub autoextend_threshold_pct: u8,
    /// lvm's autoextend step, percent.
    pub autoextend_percent: u8,
    /// Room to autoextend into, bytes, or `null`.
    pub max_data_size_bytes: Option<u64>,
}

/// Periodic replacement.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnJson {
    /// Period, seconds.
    pub every_s: u64,
    /// Containers replaced each period.
    pub replace: u64,
}

/// An image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageJson {
    /// Name.
    pub name: String,
    /// Containers at time 0.
    pub containers: u64,
    /// Layers, bottom up.
    pub layers: Vec<WriteJson>,
    /// What each container writes when it starts.
    pub container_writes: Vec<WriteJson>,
    /// Churn, or `null`.
    pub churn: Option<ChurnJson>,
}

/// The timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineJson {
    /// Simulated period, seconds.
    pub duration_s: u64,
    /// How long the recommendation must hold, seconds.
    pub horizon_s: u64,
    /// Step, seconds.
    pub step_s: u64,
    /// New data per running container per day, bytes.
    pub write_rate_bytes_per_day: u64,
    /// Percent of each step's growth deleted a step later.
    pub deleted_percent: u8,
    /// Whether deletes are discarded.
    pub fstrim: bool,
    /// Whether a thin is discarded before it is deleted.
    pub discard_on_delete: bool,
}

/// The plan as validated.
#[derive(Debug, Clone, Serialize)]
pub struct PlanJson {
    /// Name.
    pub name: String,
    /// Free text, or `null`.
    pub description: Option<String>,
    /// The pool as typed.
    pub pool: PoolJson,
    /// Every thin's virtual size, bytes.
    pub thin_size_bytes: u64,
    /// Writes to the base device.
    pub base_writes: Vec<WriteJson>,
    /// Images.
    pub images: Vec<ImageJson>,
    /// The timeline.
    pub timeline: TimelineJson,
}

impl From<&Fleet> for PlanJson {
    fn from(f: &Fleet) -> PlanJson {
        let p = &f.pool;
        let (low_water_mark_unit, low_water_mark) = match p.low_water_mark {
            LowWater::Blocks(b) => ("blocks", b),
            LowWater::Percent(x) => ("percent", u64::from(x)),
        };
        let t = &f.timeline;
        PlanJson {
            name: f.name.clone(),
            description: f.description.clone(),
            pool: PoolJson {
                data_size_bytes: p.data_size.0,
                metadata_size_bytes: p.metadata_size.0,
                chunk_bytes: p.chunk.bytes().0,
                low_water_mark_unit,
                low_water_mark,
                min_free_space_pct: p.min_free_space_pct,
                autoextend_threshold_pct: p.autoextend_threshold,
                autoextend_percent: p.autoextend_percent,
                max_data_size_bytes: p.max_data_size.map(|b| b.0),
            },
            thin_size_bytes: f.thin_size.0,
            base_writes: f.base_writes.iter().map(WriteJson::from).collect(),
            images: f
                .images
                .iter()
                .map(|i| ImageJson {
                    name: i.name.clone(),
                    containers: i.containers,
                    layers: i.layers.iter().map(WriteJson::from).collect(),
                    container_writes: i.container_writes.iter().map(WriteJson::from).collect(),
                    churn: i.churn.map(|c| ChurnJson {
                        every_s: c.every_s,
                        replace: c.replace,
                    }),
                })
                .collect(),
            timeline: TimelineJson {
                duration_s: t.duration_s,
                horizon_s: t.horizon_s,
                step_s: t.step_s,
                write_rate_bytes_per_day: t.write_rate_per_day.0,
                deleted_percent: t.deleted_percent,
                fstrim: t.fstrim,
                discard_on_delete: t.discard_on_delete,
            },
        }
    }
}

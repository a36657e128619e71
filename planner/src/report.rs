//! The plan's results: [`PlanReport`], serialised as the versioned JSON contract
//! (`docs/plan-report.md`, `docs/plan-report.schema.json`). Built once from the
//! simulations; `render` only formats it (text table, CSV files).

use serde::Serialize;
use thinbench_schema::units::Bytes;

use crate::contract::{PlanJson, SCHEMA_VERSION};
use crate::fleet::Fleet;
use crate::metadata::{self, MetaEstimate, PeerEstimate};
use crate::rates::{demand_reaches, thresholds, Rates, Status, Threshold};
use crate::recommend::{Recommendation, TradeoffRow};
use crate::simulate::{span_s, Component, Event, Row, SimSummary};

/// What the model's metadata is compared with `thin_metadata_size` on: the same pool
/// size, chunk and thin count, and the same quantity.
#[derive(Debug, Clone, Serialize)]
pub struct PeerComparison {
    /// The quantity compared: `"full pool"` (every data block mapped once), the only one
    /// `thin_metadata_size` computes.
    pub quantity: &'static str,
    /// Which pool: `"recommended"`.
    pub pool: &'static str,
    /// Its data size, bytes.
    pub data_size_bytes: Bytes,
    /// Its chunk, bytes.
    pub chunk_bytes: Bytes,
    /// Thins (the demand's peak).
    pub thins: u64,
    /// The model for that full pool, 4 KiB blocks (each thin an equal share of the
    /// data blocks, unshared; without the kernel's reserve).
    pub model_blocks: u64,
    /// `thin_metadata_size`, run as a peer.
    pub peer: PeerEstimate,
    /// `thin_metadata_size`'s formula (1 + data blocks / 126 + thins), blocks.
    pub formula_blocks: u64,
    /// `(peer - model) / model`, percent; `null` when the peer was skipped.
    pub peer_vs_model_pct: Option<f64>,
}

/// The metadata figures.
#[derive(Debug, Clone, Serialize)]
pub struct MetaComparison {
    /// Model: peak metadata blocks on the typed pool (without the reserve).
    pub model_peak_blocks: u64,
    /// Same, bytes.
    pub model_peak_bytes: Bytes,
    /// The model beside `thin_metadata_size`, like for like.
    pub thin_metadata_size: PeerComparison,
    /// The model's stated error against the kernel (see `metadata`).
    pub model_error: String,
}

/// How big and how fast the model was.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStats {
    /// Milliseconds for the typed pool's simulation.
    pub ms: f64,
    /// Extents at the end.
    pub extents: usize,
    /// Reference-count ranges at the end.
    pub ref_ranges: usize,
    /// Live thins at the end.
    pub thins: usize,
}

/// Everything a plan predicts. Serialised, this is the report's JSON (see the module doc).
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The plan as validated (the JSON contract's form).
    pub plan: PlanJson,
    /// The fleet, for renderers (not serialised: `plan` is its contract form).
    #[serde(skip)]
    pub fleet: Fleet,
    /// How long a recommendation must hold, days.
    pub horizon_days: f64,
    /// The simulated period: the longer of the duration and the horizon, days.
    pub span_days: f64,
    /// Data blocks in the typed pool at time 0.
    pub data_blocks_total: u64,
    /// Data blocks needed after time 0's set-up.
    pub initial_data_blocks: u64,
    /// Same, bytes.
    pub initial_data_bytes: Bytes,
    /// Metadata after set-up (typed pool).
    pub initial_metadata: MetaEstimate,
    /// Data blocks by component at time 0, then metadata blocks.
    pub components: Vec<Component>,
    /// Overprovisioning at time 0 (virtual sizes / data size).
    pub overprovisioning: f64,
    /// Gross and net growth of the demand, with their window.
    pub rates: Rates,
    /// The day the typed pool's data is full (the `data full` threshold): `null` if never.
    pub days_to_full: Option<f64>,
    /// Whether that is extrapolated at the net rate.
    pub days_to_full_extrapolated: bool,
    /// The first day the fleet's demand exceeds the typed pool's data size (`null`: never
    /// at the net rate).
    pub demand_exceeds_pool_day: Option<f64>,
    /// Whether that is extrapolated at the net rate.
    pub demand_exceeds_pool_extrapolated: bool,
    /// Container starts Docker's min_free_space refused on the typed pool.
    pub refused_starts: u64,
    /// Every threshold of the typed pool: fired, extrapolated, never or off.
    pub thresholds: Vec<Threshold>,
    /// What happened on the typed pool, in time order.
    pub events: Vec<Event>,
    /// Metadata figures.
    pub metadata: MetaComparison,
    /// Recommended sizes (from the demand; independent of the typed pool).
    pub recommendation: Recommendation,
    /// Trade-off over chunk sizes (from the demand over the horizon).
    pub tradeoff: Vec<TradeoffRow>,
    /// The typed pool's timeline.
    pub timeline: Vec<Row>,
    /// Copy-on-write breaks on the typed pool (blocks).
    pub cow_blocks: u64,
    /// Model size and time.
    pub model: ModelStats,
}

/// The model's error as measured (see docs/measurements.md).
const MODEL_ERROR: &str = "plan --validate on Debian 6.1: docker-default scaled by 128 \
    (71 steps, 20 thins, trees of 1-2 leaves) 0.0% at every step; --depth (trees three \
    levels deep, 994,051 mappings, 8 written snapshots) within 0.7% at every step; \
    entries of the ref-count trees are left out, so fleets whose snapshots copy the same \
    leaves are under-estimated";

impl PlanReport {
    /// The report from the typed pool's simulation `pool`, the demand at the plan's chunk
    /// `demand`, the trade-off and the recommendation.
    pub fn build(
        fleet: &Fleet,
        pool: SimSummary,
        demand: &SimSummary,
        tradeoff: Vec<TradeoffRow>,
        recommendation: Recommendation,
        peer: bool,
        ms: f64,
    ) -> PlanReport {
        let cb = pool.chunk.0;
        let first = pool.rows.first().cloned();
        let data_total = first.as_ref().map(|r| r.data_total).unwrap_or(0);
        let horizon_days = fleet.timeline.horizon_s as f64 / 86_400.0;
        let rates = Rates::of(fleet, demand);
        let ths = thresholds(fleet, &pool, &rates, horizon_days);
        let full = ths.iter().find(|t| t.name == "data full");
        let exceeds = demand_reaches(&demand.rows, data_total + 1, rates.net_blocks_per_day);
        // Like for like: thin_metadata_size's quantity (a full pool) on the recommended
        // pool's geometry and the demand's peak thins.
        let r = &recommendation;
        let rcb = r.chunk.0;
        let rdata = r.data_size.0 / rcb;
        let thins = demand
            .rows_until(fleet.timeline.horizon_s)
            .iter()
            .map(|x| x.thins)
            .max()
            .unwrap_or(0)
            .max(1);
        let model_full = metadata::full_pool(rdata, r.metadata_size.0 / 4096, thins).total;
        let (cs, ds) = (rcb / 512, r.data_size.0 / 512);
        let peer_est = if peer {
            metadata::thin_metadata_size(cs, ds, thins)
        } else {
            PeerEstimate::skipped(metadata::peer_command(cs, ds, thins), "not run (--no-peer)")
        };
        let peer_vs = peer_est.bytes.map(|b| {
            (b as f64 - (model_full * 4096) as f64) / ((model_full * 4096) as f64).max(1.0) * 100.0
        });
        let mut components = pool.components.clone();
        components.push(Component {
            name: "metadata (4KiB blocks, model)".into(),
            data_blocks: pool.initial_meta.total,
        });
        let peak_meta = pool.peak_meta();
        PlanReport {
            schema_version: SCHEMA_VERSION,
            plan: PlanJson::from(fleet),
            fleet: fleet.clone(),
            horizon_days,
            span_days: span_s(fleet) as f64 / 86_400.0,
            data_blocks_total: data_total,
            initial_data_blocks: pool.initial_data,
            initial_data_bytes: Bytes(pool.initial_data * cb),
            initial_metadata: pool.initial_meta,
            components,
            overprovisioning: first.as_ref().map(|r| r.overprovisioning).unwrap_or(0.0),
            rates,
            days_to_full: full.and_then(|t| t.day),
            days_to_full_extrapolated: full.is_some_and(|t| t.status == Status::Extrapolated),
            demand_exceeds_pool_day: exceeds.map(|e| e.0),
            demand_exceeds_pool_extrapolated: exceeds.is_some_and(|e| e.1),
            refused_starts: pool.refused,
            thresholds: ths,
            events: pool.events.clone(),
            metadata: MetaComparison {
                model_peak_blocks: peak_meta,
                model_peak_bytes: Bytes(peak_meta * 4096),
                thin_metadata_size: PeerComparison {
                    quantity: "full pool",
                    pool: "recommended",
                    data_size_bytes: r.data_size,
                    chunk_bytes: r.chunk,
                    thins,
                    model_blocks: model_full,
                    peer: peer_est,
                    formula_blocks: metadata::thin_metadata_size_formula(rdata, thins),
                    peer_vs_model_pct: peer_vs,
                },
                model_error: MODEL_ERROR.into(),
            },
            recommendation,
            tradeoff,
            cow_blocks: pool.broken,
            model: ModelStats {
                ms,
                extents: pool.extents,
                ref_ranges: pool.ref_ranges,
                thins: pool.thins,
            },
            timeline: pool.rows,
        }
    }

    /// JSON, pretty.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serialises")
    }
}

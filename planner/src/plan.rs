//! Planning a fleet: the typed pool's simulation (what is reported about it), the demand
//! at the plan's chunk and at each trade-off chunk (what is recommended), then the report.

use std::time::Instant;

use thinbench_model::extent::ExtentError;
use thinbench_schema::units::{Bytes, ChunkSize};

use crate::fleet::Fleet;
use crate::recommend::{Recommendation, TradeoffRow};
use crate::report::PlanReport;
use crate::simulate::{Mode, Sim, SimSummary};

/// The chunk sizes of the trade-off table.
pub const TRADEOFF_CHUNKS: [u64; 5] = [64, 128, 256, 512, 1024];

/// Longest horizon, in steps of the timeline (as the duration's bound).
pub const MAX_STEPS: u64 = 100_000;

/// `fleet` with its horizon set to `horizon_s` (e.g. `plan --horizon 90d`). `Err`: why
/// not, for a person.
pub fn with_horizon(fleet: &Fleet, horizon_s: u64) -> Result<Fleet, String> {
    let step = fleet.timeline.step_s;
    if horizon_s == 0 {
        return Err("the horizon must be above zero".into());
    }
    if horizon_s / step > MAX_STEPS {
        return Err(format!(
            "a horizon of {} steps of {step} s: at most {MAX_STEPS} steps",
            horizon_s / step
        ));
    }
    let mut f = fleet.clone();
    f.timeline.horizon_s = horizon_s;
    Ok(f)
}

/// Plan a fleet: simulate the typed pool and the demand (at each trade-off chunk when
/// `tradeoff`), recommend from the demand, and build the report (run
/// `thin_metadata_size` too, when `peer` is set).
pub fn plan(fleet: &Fleet, tradeoff: bool, peer: bool) -> Result<PlanReport, ExtentError> {
    let t0 = Instant::now();
    let pool = Sim::new(fleet, fleet.pool.chunk, Mode::Pool).run()?;
    let model_ms = t0.elapsed().as_secs_f64() * 1e3;
    let demand = match pool.as_demand() {
        Some(d) => d,
        None => Sim::new(fleet, fleet.pool.chunk, Mode::Demand).run()?,
    };
    let mut table = Vec::new();
    let mut others: Vec<SimSummary> = Vec::new();
    if tradeoff {
        for k in TRADEOFF_CHUNKS {
            let c = ChunkSize::new(Bytes(k * Bytes::KIB)).expect("valid chunk");
            if c == fleet.pool.chunk {
                table.push(TradeoffRow::from_demand(&demand, fleet));
            } else {
                let s = Sim::new(fleet, c, Mode::Demand).run()?;
                table.push(TradeoffRow::from_demand(&s, fleet));
                others.push(s);
            }
        }
    }
    let sims: Vec<&SimSummary> = others.iter().chain(std::iter::once(&demand)).collect();
    let rec = Recommendation::new(fleet, &demand, &table, &sims);
    Ok(PlanReport::build(
        fleet, pool, &demand, table, rec, peer, model_ms,
    ))
}

//! `thinbench plan PLAN.toml`: capacity planning over `thinbench_planner`. Prints the
//! terse table; `--json` and `--csv` write the full report.

use std::path::PathBuf;

use anyhow::Context;

use super::exit_code;

/// Arguments of `thinbench plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The plan (docs/plan-format.md).
    pub file: PathBuf,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write timeline.csv, tradeoff.csv, components.csv and events.csv into this directory.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Skip the chunk-size trade-off (one simulation instead of six).
    #[arg(long)]
    pub no_tradeoff: bool,
    /// Do not run thin_metadata_size (its formula is shown instead).
    #[arg(long)]
    pub no_peer: bool,
}

pub fn run(a: PlanArgs) -> anyhow::Result<i32> {
    let fleet = match thinbench_planner::load_fleet(&a.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Ok(exit_code::ERROR);
        }
    };
    let report = thinbench_planner::plan(&fleet, !a.no_tradeoff, !a.no_peer)
        .context("the allocation model refused the plan")?;
    print!("{}", report.text());
    if let Some(p) = &a.json {
        std::fs::write(p, report.to_json()).with_context(|| format!("writing {}", p.display()))?;
        println!("json: {}", p.display());
    }
    if let Some(d) = &a.csv {
        report
            .write_csv(d)
            .with_context(|| format!("writing CSV into {}", d.display()))?;
        println!("csv: {}", d.display());
    }
    Ok(exit_code::OK)
}

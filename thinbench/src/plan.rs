//! `thinbench plan PLAN.toml`: capacity planning over `thinbench_planner`. Prints the
//! terse table; `--json` and `--csv` write the full report. `--validate` scales the plan
//! down to a scenario, runs it on the kernel and compares predicted with measured blocks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use thinbench_planner::metadata;
use thinbench_planner::scenario::{scale_down, ValidationScenario};
use thinbench_schema::record::{RunSummary, Status};

use crate::args::EnvArg;
use crate::exit_code;

/// Metadata tolerance of `--validate`: the model may be off by this percentage of the
/// kernel's metadata blocks (used minus the reserve) ...
pub const META_TOLERANCE_PCT: f64 = 20.0;
/// ... or by this many blocks, whichever is larger (a fresh pool uses ~10 blocks, where
/// one block is 10%).
pub const META_TOLERANCE_BLOCKS: i64 = 4;
/// `--depth`'s metadata tolerance: ±5% of the kernel's blocks at every step (the trees
/// there are hundreds of blocks, so no block allowance).
pub const DEPTH_TOLERANCE_PCT: f64 = 5.0;

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
    /// How long the recommendation must hold (a duration: "90d", "12w"); overrides the
    /// plan's `[timeline] horizon`.
    #[arg(long, value_parser = crate::args::duration_arg)]
    pub horizon: Option<std::time::Duration>,
    /// Skip the chunk-size trade-off (one simulation instead of six).
    #[arg(long)]
    pub no_tradeoff: bool,
    /// Do not run thin_metadata_size (its formula is shown instead).
    #[arg(long)]
    pub no_peer: bool,
    /// Check the model on the kernel: scale the plan down to a scenario, run it
    /// (`thinbench run`), compare predicted and measured data and metadata blocks per step.
    #[arg(long)]
    pub validate: bool,
    /// With --validate: where the scenario runs.
    #[arg(long, value_enum, default_value_t = EnvArg::Vm)]
    pub env: EnvArg,
    /// With --validate: results directory (default: runs/plan-validate-<plan>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With --validate: do not run, compare the run already in `--out DIR/run` again
    /// (e.g. after a model change).
    #[arg(long)]
    pub compare_only: bool,
    /// With --validate: check the metadata model on deep trees instead of the fleet
    /// scaled down: thins of `--mappings` chunks mapped in order and at random, and
    /// snapshots sharing one, at the plan's chunk size, within ±5% at every step
    /// (docs/planner.md#the-metadata-model-at-depth).
    #[arg(long, requires = "validate")]
    pub depth: bool,
    /// With --depth: mappings per filled thin (three levels need more than 63,504).
    #[arg(long, default_value_t = 100_000, requires = "depth")]
    pub mappings: u64,
}

pub fn run(a: PlanArgs) -> anyhow::Result<i32> {
    let fleet = match thinbench_planner::load_fleet(&a.file) {
        Ok(f) => f,
        Err(e) => {
            crate::snippet::eprint_errors(&e.errors);
            return Ok(exit_code::ERROR);
        }
    };
    let fleet = match &a.horizon {
        None => fleet,
        Some(h) => {
            let set = thinbench_planner::plan::with_horizon(&fleet, h.as_secs());
            match set {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: invalid --horizon: {e}");
                    return Ok(exit_code::ERROR);
                }
            }
        }
    };
    if a.validate {
        return validate(&a, &fleet);
    }
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

/// One row of the comparison: a step on one pool.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompareRow {
    /// Pool (case) name.
    pub pool: String,
    /// Pool kind.
    pub kind: String,
    /// Step name.
    pub step: String,
    /// Action.
    pub action: String,
    /// What the fleet's life does there.
    pub what: String,
    /// Data blocks the planner predicts the step allocates (negative: frees).
    pub data_predicted: i64,
    /// Data blocks the kernel allocated (pool status after minus before).
    pub data_measured: Option<i64>,
    /// Data blocks in use after the step, predicted.
    pub data_used_predicted: u64,
    /// Data blocks in use after the step, measured.
    pub data_used_measured: Option<u64>,
    /// Whether both data figures agree exactly.
    pub data_exact: bool,
    /// Metadata blocks the model predicts after the step (without the kernel's reserve).
    pub meta_predicted: u64,
    /// The kernel's metadata blocks used after the step, minus its reserve.
    pub meta_measured: Option<i64>,
    /// `(predicted - measured) / measured`, percent.
    pub meta_error_pct: Option<f64>,
    /// Whether the metadata error is within the tolerance.
    pub meta_within: bool,
    /// Mapping-tree blocks the model predicts (its `mappings` part: every thin's leaves
    /// and internal nodes, a shared node once).
    pub trees_predicted: u64,
    /// Distinct mapping-tree blocks in the kernel's metadata after the step
    /// (`metadata.trees.blocks`, read from the metadata snapshot), when measured.
    pub trees_measured: Option<u64>,
    /// The deepest mapping tree's levels after the step (`metadata.trees.levels`).
    pub levels: Option<u64>,
    /// Mappings in the kernel's trees after the step, summed over thins.
    pub mappings_measured: Option<u64>,
}

/// What `--validate` writes as `validate.json`.
#[derive(Debug, serde::Serialize)]
struct Validation<'a> {
    plan: &'a str,
    scenario: &'a ValidationScenario,
    run_dir: String,
    run_status: String,
    kernel: String,
    meta_tolerance_pct: f64,
    meta_tolerance_blocks: i64,
    data_steps: usize,
    data_exact_steps: usize,
    meta_max_abs_error_pct: f64,
    meta_mean_abs_error_pct: f64,
    rows: Vec<CompareRow>,
    passed: bool,
}

fn validate(a: &PlanArgs, fleet: &thinbench_planner::Fleet) -> anyhow::Result<i32> {
    let scaled = if a.depth {
        thinbench_planner::depth::depth_scenario(a.mappings, fleet.pool.chunk.bytes().0)
    } else {
        scale_down(fleet)
    };
    let v = match scaled {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "{}: error: cannot scale the plan down: {e}",
                a.file.display()
            );
            return Ok(exit_code::ERROR);
        }
    };
    let out = a.out.clone().unwrap_or_else(|| {
        let depth = if a.depth { "-depth" } else { "" };
        PathBuf::from("runs").join(format!("plan-validate-{}{depth}", fleet.name))
    });
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let out = std::fs::canonicalize(&out)?;
    let scen = out.join("plan-scenario.toml");
    std::fs::write(&scen, &v.toml).with_context(|| format!("writing {}", scen.display()))?;
    if let Err(errs) = thinbench_harness::scenario::load_scenario(&scen) {
        eprintln!("{errs}");
        anyhow::bail!(
            "the generated scenario is invalid (a planner bug): {}",
            scen.display()
        );
    }
    println!(
        "plan {}: scaled down by {} to {} steps ({} written, peak {} data blocks of {}), chunk {}",
        fleet.name,
        v.factor,
        v.steps.len(),
        thinbench_schema::units::Bytes(v.bytes_written).human(),
        v.peak_used,
        thinbench_schema::units::Bytes(v.data_size).human(),
        thinbench_schema::units::Bytes(v.chunk).human(),
    );
    for n in &v.notes {
        println!("  {n}");
    }
    println!("scenario: {}", scen.display());
    let run_dir = out.join("run");
    let env = match a.env {
        EnvArg::Auto => "auto",
        EnvArg::Host => "host",
        EnvArg::Vm => "vm",
    };
    let st = if a.compare_only {
        None
    } else {
        // The run's own output goes to stderr: stdout is the comparison.
        let stdout_to_stderr: Stdio = {
            use std::os::fd::AsFd;
            std::io::stderr().as_fd().try_clone_to_owned()?.into()
        };
        let exe = std::env::current_exe().context("locating thinbench")?;
        let st = Command::new(exe)
            .args(["run", "--env", env, "--out"])
            .arg(&run_dir)
            .arg(&scen)
            .stdout(stdout_to_stderr)
            .status()
            .context("running thinbench run")?;
        Some(st)
    };
    let sum_path = run_dir.join("summary.json");
    let text = match thinbench_schema::untrusted::read_text(
        &sum_path,
        thinbench_schema::untrusted::limit::SUMMARY_JSON,
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("no run summary: {e} (run exit {st:?})");
            return Ok(exit_code::FAILED);
        }
    };
    let s: RunSummary = serde_json::from_str(&text).context("reading summary.json")?;
    let tol = if a.depth {
        (DEPTH_TOLERANCE_PCT, 0)
    } else {
        (META_TOLERANCE_PCT, META_TOLERANCE_BLOCKS)
    };
    let rows = compare(&v, &s, tol);
    let ok = report(a, fleet, &v, &s, &rows, (&out, &run_dir), tol)?;
    let run_ok = st.is_none_or(|st| st.success());
    if !ok || !run_ok || s.status != Status::Passed {
        println!(
            "validation FAILED (run exit {:?}, status {:?})",
            st.and_then(|st| st.code()),
            s.status
        );
        return Ok(exit_code::FAILED);
    }
    println!("validation passed");
    Ok(exit_code::OK)
}

/// Predicted vs measured, per pool and step; metadata within `(percent, blocks)`.
pub fn compare(
    v: &ValidationScenario,
    s: &RunSummary,
    (tol_pct, tol_blocks): (f64, i64),
) -> Vec<CompareRow> {
    let mut rows = Vec::new();
    for c in &s.cases {
        let direct = c.pool.kind.as_str() == "direct-lvm";
        for (i, p) in v.steps.iter().enumerate() {
            if direct && i >= v.direct_steps {
                continue;
            }
            let st = c.steps.iter().find(|x| x.name == p.name);
            let after = st.and_then(|x| x.pool_after.as_ref());
            let data_measured = st.and_then(|x| x.data_blocks_allocated);
            let used = after.map(|u| u.data_used.0);
            let (mp, mm, trees) = match after {
                Some(u) => {
                    let e = p.metadata(u.data_total.0, u.meta_total.0);
                    let reserve = metadata::reserve(u.meta_total.0) as i64;
                    (e.total, Some(u.meta_used.0 as i64 - reserve), e.mappings)
                }
                None => (0, None, 0),
            };
            let err = mm.map(|m| (mp as f64 - m as f64) * 100.0 / (m.max(1) as f64));
            let within = mm.is_some_and(|m| {
                let d = (mp as i64 - m).abs();
                d <= tol_blocks || (d as f64) * 100.0 <= tol_pct * m as f64
            });
            let metric = |name: &str| {
                st.and_then(|x| x.metrics.iter().find(|m| m.name == name))
                    .map(|m| m.value as u64)
            };
            let mappings_measured = st.and_then(|x| {
                let per_thin: Vec<u64> = x
                    .metrics
                    .iter()
                    .filter(|m| {
                        m.name.starts_with("metadata.tree.") && m.name.ends_with(".mappings")
                    })
                    .map(|m| m.value as u64)
                    .collect();
                (!per_thin.is_empty()).then(|| per_thin.iter().sum())
            });
            rows.push(CompareRow {
                pool: c.pool.name.clone(),
                kind: c.pool.kind.as_str().to_string(),
                step: p.name.clone(),
                action: p.action.clone(),
                what: p.what.clone(),
                data_predicted: p.data_blocks,
                data_measured,
                data_used_predicted: p.data_used,
                data_used_measured: used,
                data_exact: data_measured == Some(p.data_blocks) && used == Some(p.data_used),
                meta_predicted: mp,
                meta_measured: mm,
                meta_error_pct: err,
                meta_within: within,
                trees_predicted: trees,
                trees_measured: metric("metadata.trees.blocks"),
                levels: metric("metadata.trees.levels"),
                mappings_measured,
            });
        }
    }
    rows
}

fn report(
    a: &PlanArgs,
    fleet: &thinbench_planner::Fleet,
    v: &ValidationScenario,
    s: &RunSummary,
    rows: &[CompareRow],
    (out, run_dir): (&Path, &Path),
    (tol_pct, tol_blocks): (f64, i64),
) -> anyhow::Result<bool> {
    println!(
        "kernel {} ({}), run {}: {:?}",
        s.environment.kernel,
        s.environment.kind,
        run_dir.display(),
        s.status
    );
    println!(
        "{:<7} {:<24} {:<12} {:>9} {:>9} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>9}",
        "pool",
        "step",
        "action",
        "data pred",
        "data meas",
        "",
        "meta",
        "meta",
        "meta",
        "trees",
        "trees",
        "levels",
        "mappings"
    );
    println!(
        "{:<7} {:<24} {:<12} {:>9} {:>9} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>6} {:>9}",
        "", "", "", "", "", "", "pred", "meas", "error", "pred", "meas", "meas", "meas"
    );
    let opt = |v: Option<u64>| v.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    for r in rows {
        println!(
            "{:<7} {:<24} {:<12} {:>9} {:>9} {:>6} {:>6} {:>6} {:>7}{} {:>6} {:>6} {:>6} {:>9}",
            r.pool,
            r.step,
            r.action,
            r.data_predicted,
            r.data_measured
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            if r.data_exact { "exact" } else { "DIFF" },
            r.meta_predicted,
            r.meta_measured
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            r.meta_error_pct
                .map(|e| format!("{e:+.1}%"))
                .unwrap_or_else(|| "-".into()),
            if r.meta_within { " " } else { "!" },
            r.trees_predicted,
            opt(r.trees_measured),
            opt(r.levels),
            opt(r.mappings_measured),
        );
    }
    let data_exact = rows.iter().filter(|r| r.data_exact).count();
    let errs: Vec<f64> = rows.iter().filter_map(|r| r.meta_error_pct).collect();
    let max = errs.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let mean = if errs.is_empty() {
        0.0
    } else {
        errs.iter().map(|e| e.abs()).sum::<f64>() / errs.len() as f64
    };
    let meta_ok = rows.iter().filter(|r| r.meta_within).count();
    let expected_rows = v.steps.len() + v.direct_steps;
    println!(
        "data: {data_exact}/{} steps exact (loop-lvm {} steps, direct-lvm the first {})",
        rows.len(),
        v.steps.len(),
        v.direct_steps
    );
    for c in &s.cases {
        let last = rows.iter().rev().find(|r| r.pool == c.pool.name);
        if let Some(r) = last {
            println!(
                "metadata on {} ({}): final model {} blocks vs kernel {} (used minus reserve), {}",
                c.pool.name,
                c.pool.kind.as_str(),
                r.meta_predicted,
                r.meta_measured.unwrap_or(-1),
                r.meta_error_pct
                    .map(|e| format!("{e:+.1}%"))
                    .unwrap_or_default()
            );
        }
    }
    println!(
        "metadata: {meta_ok}/{} steps within ±{tol_pct}% or ±{tol_blocks} blocks; |error| max {max:.1}%, mean {mean:.1}%",
        rows.len()
    );
    if let Some(deepest) = rows.iter().filter_map(|r| r.levels).max() {
        let mappings = rows
            .iter()
            .filter_map(|r| r.mappings_measured)
            .max()
            .unwrap_or(0);
        println!(
            "mapping trees (the kernel's, read from its metadata): up to {deepest} levels, up to {mappings} mappings in all"
        );
    }
    let passed = data_exact == rows.len()
        && meta_ok == rows.len()
        && rows.len() == expected_rows
        && !rows.is_empty();
    let json = Validation {
        plan: &fleet.name,
        scenario: v,
        run_dir: run_dir.display().to_string(),
        run_status: format!("{:?}", s.status),
        kernel: s.environment.kernel.clone(),
        meta_tolerance_pct: tol_pct,
        meta_tolerance_blocks: tol_blocks,
        data_steps: rows.len(),
        data_exact_steps: data_exact,
        meta_max_abs_error_pct: max,
        meta_mean_abs_error_pct: mean,
        rows: rows.to_vec(),
        passed,
    };
    let jp = out.join("validate.json");
    std::fs::write(&jp, serde_json::to_string_pretty(&json)?)?;
    let cp = out.join("validate.csv");
    let mut w = csv::Writer::from_path(&cp)?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    println!("json: {}\ncsv: {}", jp.display(), cp.display());
    let _ = a;
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_json_is_the_versioned_contract() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("plan.json");
        let csv = dir.path().join("csv");
        let code = run(PlanArgs {
            file: root.join("plans/docker-default.toml"),
            json: Some(json.clone()),
            csv: Some(csv.clone()),
            horizon: Some(std::time::Duration::from_secs(10 * 86_400)),
            no_tradeoff: true,
            no_peer: true,
            validate: false,
            env: EnvArg::Vm,
            out: None,
            compare_only: false,
            depth: false,
            mappings: 100_000,
        })
        .unwrap();
        assert_eq!(code, exit_code::OK);
        let text = std::fs::read_to_string(&json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["horizon_days"], 10.0);
        assert_eq!(v["span_days"], 30.0);
        assert!(!text.contains("\"Ok\"") && !text.contains("\"Err\""));
        assert_eq!(
            v["metadata"]["thin_metadata_size"]["peer"]["skipped"],
            "not run (--no-peer)"
        );
        let events = std::fs::read_to_string(csv.join("events.csv")).unwrap();
        assert_eq!(events, "t_s,day,what,detail\n");
    }

    #[test]
    fn the_scaled_down_docker_default_is_a_valid_scenario() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let f = thinbench_planner::load_fleet(&root.join("plans/docker-default.toml")).unwrap();
        let v = scale_down(&f).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan-scenario.toml");
        std::fs::write(&p, &v.toml).unwrap();
        let plan = thinbench_harness::scenario::load_scenario(&p)
            .unwrap_or_else(|e| panic!("{e}\n{}", v.toml));
        assert_eq!(plan.steps.len(), v.steps.len());
        assert!(v.direct_steps > 0 && v.direct_steps <= v.steps.len());
    }

    #[test]
    fn the_depth_scenario_is_a_valid_scenario() {
        let v = thinbench_planner::depth::depth_scenario(100_000, 65536).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan-scenario.toml");
        std::fs::write(&p, &v.toml).unwrap();
        let plan = thinbench_harness::scenario::load_scenario(&p)
            .unwrap_or_else(|e| panic!("{e}\n{}", v.toml));
        assert_eq!(plan.steps.len(), v.steps.len());
        assert_eq!(plan.pools.len(), 1);
        assert_eq!(v.direct_steps, 0);
        // One 4KiB IO per chunk: 100,000 in order, 100,000 at random, 8 × 48 in snapshots.
        assert_eq!(v.ios, 200_384);
    }
}

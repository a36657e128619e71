//! `thinbench gate`, `thinbench baseline update` and `thinbench merge`: thin layers over
//! the gate crate (docs/gate.md). They print; the library decides.

use std::path::{Path, PathBuf};

use anyhow::Context;
use thinbench_gate::analysis::Row;
use thinbench_gate::verdict::Outcome;
use thinbench_gate::{GateError, Overall};

use crate::exit_code;

/// What an inconclusive verdict (and nothing failed) does to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnInconclusive {
    /// Exit 3: CI can tell it apart from a regression.
    Report,
    /// Exit 1, like a regression.
    Fail,
    /// Exit 0.
    Pass,
}

/// Options of `gate`.
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// Baseline: a baseline store (ci/baselines: the candidate's environment is picked),
    /// run directories, or directories holding them.
    #[arg(long, required = true, num_args = 1..)]
    pub baseline: Vec<PathBuf>,
    /// Candidate: run directories, or directories holding them (`run --repeat N`,
    /// `merge` outputs).
    #[arg(long, required = true, num_args = 1..)]
    pub candidate: Vec<PathBuf>,
    /// Gate config (docs/gate.md), e.g. ci/gate.toml; default: the built-in defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output directory (default: CANDIDATE/gate for one candidate, else runs/gate).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit code when something is inconclusive and nothing regressed: `report` 3,
    /// `fail` 1, `pass` 0.
    #[arg(long, value_enum, default_value_t = OnInconclusive::Report)]
    pub inconclusive: OnInconclusive,
}

/// `baseline` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BaselineCmd {
    /// Write runs into the baseline store, under their environment's fingerprint,
    /// replacing the samples of their scenarios there.
    Update {
        /// Runs: run directories or directories holding them (`run --repeat N` output).
        #[arg(long = "from", required = true, num_args = 1..)]
        from: Vec<PathBuf>,
        /// The store.
        #[arg(long, default_value = "ci/baselines")]
        store: PathBuf,
    },
}

/// Options of `merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Result directories (shards' outputs, downloaded artifacts).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to merge them (new or empty).
    #[arg(long)]
    pub out: PathBuf,
    /// Do not render OUT/report.
    #[arg(long)]
    pub no_report: bool,
}

/// A config error is the user's file: print it as the scenario loader does (positioned,
/// every one), not as a chain of causes.
fn config_error(e: GateError) -> anyhow::Result<i32> {
    match e {
        GateError::Config(errs) => {
            crate::snippet::eprint_errors(&errs.errors);
            Ok(exit_code::ERROR)
        }
        other => Err(other.into()),
    }
}

fn print_row(r: &Row) {
    let side = |s: &Option<thinbench_gate::analysis::SampleSummary>| {
        s.as_ref()
            .map(|s| s.display())
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "  {:<12} {}: {} -> {}{}{}",
        r.verdict.label(),
        r.key,
        side(&r.baseline),
        side(&r.candidate),
        if r.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", r.unit)
        },
        match r.explain() {
            e if e.is_empty() => String::new(),
            e => format!(" ({e})"),
        }
    );
}

pub fn gate(a: GateArgs) -> anyhow::Result<i32> {
    let out = match (&a.out, a.candidate.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [one]) => one.join("gate"),
        (None, _) => PathBuf::from("runs/gate"),
    };
    let req = thinbench_gate::GateRequest {
        baseline: &a.baseline,
        candidate: &a.candidate,
        config: a.config.as_deref(),
        out: &out,
    };
    let o = match thinbench_gate::run_gate(&req) {
        Ok(o) => o,
        Err(e) => return config_error(e),
    };
    let r = &o.report;
    let c = &r.counts;
    let word = match r.verdict {
        Overall::Pass => "PASS",
        Overall::Regression => "REGRESSION",
        Overall::Inconclusive => "INCONCLUSIVE",
    };
    println!("gate: {word}: {} figures: {}", r.rows.len(), c.describe());
    for g in &r.groups {
        println!(
            "environment {}: baseline {} run(s), candidate {} run(s)",
            g.slug,
            g.baseline_runs.len(),
            g.candidate_runs.len()
        );
        if !g.not_in_candidate.is_empty() {
            println!(
                "  not compared (no candidate run): {}",
                g.not_in_candidate.join(", ")
            );
        }
    }
    // Failures in full; inconclusive ones up to a screenful (all are in gate.md).
    for row in r.with_outcome(Outcome::Fail) {
        print_row(row);
    }
    const SHOWN: usize = 20;
    let inconclusive: Vec<&Row> = r.with_outcome(Outcome::Inconclusive).collect();
    for row in inconclusive.iter().take(SHOWN) {
        print_row(row);
    }
    if inconclusive.len() > SHOWN {
        println!(
            "  … and {} more inconclusive (see gate.md)",
            inconclusive.len() - SHOWN
        );
    }
    println!("markdown: {}", o.files.markdown.display());
    println!("junit: {}", o.files.junit.display());
    println!("json: {}", o.files.json.display());
    Ok(match (r.verdict, a.inconclusive) {
        (Overall::Pass, _) => exit_code::OK,
        (Overall::Regression, _) => exit_code::FAILED,
        (Overall::Inconclusive, OnInconclusive::Report) => exit_code::GATE_INCONCLUSIVE,
        (Overall::Inconclusive, OnInconclusive::Fail) => exit_code::FAILED,
        (Overall::Inconclusive, OnInconclusive::Pass) => exit_code::OK,
    })
}

pub fn baseline(c: BaselineCmd) -> anyhow::Result<i32> {
    match c {
        BaselineCmd::Update { from, store } => {
            let runs = thinbench_gate::load_sample_set(&from)?;
            let up = thinbench_gate::baseline::update(&store, &runs)
                .with_context(|| format!("updating the baseline store {}", store.display()))?;
            for w in &up.warnings {
                eprintln!("thinbench: warning: {w}");
            }
            for u in &up.updated {
                println!("baseline {} ({})", u.dir.display(), u.fingerprint);
                for (scenario, n) in &u.scenarios {
                    println!("  {scenario}: {n} sample(s)");
                }
            }
            println!("commit {} to keep them", store.display());
            Ok(exit_code::OK)
        }
    }
}

/// One run per scenario and set of cases, for the merged report (which shows runs side by
/// side: every sample of every shard would bury the plots). The gate reads them all.
fn report_selection(out: &Path, runs: &[thinbench_gate::merge::MergedRun]) -> Vec<PathBuf> {
    let mut seen = std::collections::BTreeSet::new();
    let mut dirs = Vec::new();
    for r in runs {
        let dir = out.join(&r.to);
        let cases = thinbench_gate::load::load_run(&dir)
            .map(|l| {
                l.summary
                    .cases
                    .iter()
                    .map(|c| c.id.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if seen.insert((r.scenario.clone(), cases)) {
            dirs.push(dir);
        }
    }
    dirs
}

pub fn merge(a: MergeArgs) -> anyhow::Result<i32> {
    let m = thinbench_gate::merge::merge(&a.dirs, &a.out)?;
    for w in &m.warnings {
        eprintln!("thinbench: warning: {w}");
    }
    println!("merged {} run(s) into {}", m.runs.len(), a.out.display());
    if !a.no_report && !m.runs.is_empty() {
        let picked = report_selection(&a.out, &m.runs);
        match crate::report::render_runs(&picked, &a.out.join("report")) {
            Ok(files) => println!("report: {}", files.html.display()),
            // The merged results stand without the report.
            Err(e) => eprintln!("thinbench: no report: {e:#}"),
        }
    }
    Ok(exit_code::OK)
}

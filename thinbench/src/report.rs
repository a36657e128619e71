//! `thinbench report RUN…` and `thinbench compare A B`: thin layers over the reports
//! crate. `run` also calls [`render_run`] at its end.

use std::path::{Path, PathBuf};

use anyhow::Context;
use thinbench_gate::config::{GateConfig, MissingPolicy};
use thinbench_gate::figures::{FigureClass, FigureKey, FigureMeta};
use thinbench_gate::GateError;
use thinbench_reports::{CompareRules, Comparison, FigureRule, ReportFiles, Treatment};
use thinbench_schema::format;
use thinbench_schema::record::MetricKind;
use thinbench_schema::verdict::counts_line;

use crate::exit_code;

/// Options of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Run directories (one gives that run's report; several are shown side by side), or
    /// directories holding them (`run --repeat`, `merge` outputs).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Output directory (default: RUN/report for one run, else runs/report-<first run id>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// What `compare`'s exit code says (also in the README and docs/reports.md).
const COMPARE_EXIT_CODES: &str = "\
Exit codes:
  0  nothing changed or regressed (inconclusive timings do not fail: one run a side
     cannot judge a timing, nor can runs in different environments)
  1  an exact figure changed, a timing regressed or changed beyond its noise band, or a
     figure of A is missing from B (each is named: case / step / figure, A -> B)
  2  usage or config error, unreadable runs: no verdict";

/// Options of `compare`.
#[derive(Debug, clap::Args)]
#[command(after_help = COMPARE_EXIT_CODES)]
pub struct CompareArgs {
    /// The baseline: a run directory, or a directory holding runs (`run --repeat N`:
    /// their samples, judged by their medians).
    pub a: PathBuf,
    /// Compared with it: a run directory, or a directory holding runs.
    pub b: PathBuf,
    /// Gate config (docs/gate.md, e.g. ci/gate.toml): figures its rules declare varying
    /// (`kind = "timing"`) are compared as timings rather than exactly, `kind = "ignore"`
    /// leaves them out; `better`, `noise`, `floor`, `exact` and `missing` apply too.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output directory (default: runs/compare-<A id>-vs-<B id>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn load(dir: &Path) -> anyhow::Result<thinbench_reports::LoadedRun> {
    thinbench_reports::load_run(dir).with_context(|| format!("reading run {}", dir.display()))
}

fn print_files(f: &ReportFiles) {
    println!("report: {}", f.html.display());
    println!("markdown: {}", f.markdown.display());
}

/// Render one finished run's report into `RUN/report/`.
pub fn render_run(run_dir: &Path) -> anyhow::Result<ReportFiles> {
    let run = load(run_dir)?;
    let model = thinbench_reports::build_model(&[run]);
    let out = run_dir.join("report");
    thinbench_reports::write_report(&model, &out)
        .with_context(|| format!("writing the report into {}", out.display()))
}

/// Render the runs in `dirs` side by side into `out`.
pub fn render_runs(dirs: &[PathBuf], out: &Path) -> anyhow::Result<ReportFiles> {
    let runs = dirs
        .iter()
        .map(|d| load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let model = thinbench_reports::build_model(&runs);
    thinbench_reports::write_report(&model, out)
        .with_context(|| format!("writing the report into {}", out.display()))
}

pub fn report(a: ReportArgs) -> anyhow::Result<i32> {
    // A directory without summary.json holds runs (a `--repeat` or `merge` output).
    let mut dirs = Vec::new();
    for d in &a.runs {
        let found = thinbench_gate::find_run_dirs(d)?;
        if found.is_empty() {
            anyhow::bail!(
                "{}: no run directory (one with summary.json) in it",
                d.display()
            );
        }
        dirs.extend(found);
    }
    let runs = dirs
        .iter()
        .map(|d| load(d))
        .collect::<Result<Vec<_>, _>>()?;
    for r in &runs {
        for w in &r.warnings {
            eprintln!("thinbench: {}: {w}", r.dir.display());
        }
    }
    // One path given (a run, or a directory of runs): its report goes beside the runs.
    let out = match (&a.out, a.runs.as_slice(), runs.first()) {
        (Some(o), _, _) => o.clone(),
        (None, [one], _) => one.join("report"),
        (None, _, Some(first)) => {
            PathBuf::from("runs").join(format!("report-{}", first.summary.run_id))
        }
        (None, _, None) => unreachable!("clap requires at least one run"),
    };
    let model = thinbench_reports::build_model(&runs);
    let files = thinbench_reports::write_report(&model, &out)
        .with_context(|| format!("writing the report into {}", out.display()))?;
    print_files(&files);
    Ok(exit_code::OK)
}

/// Every run under `path` (a run directory, or a directory holding runs), loaded.
fn load_side(path: &Path) -> anyhow::Result<Vec<thinbench_reports::LoadedRun>> {
    let dirs = thinbench_gate::find_run_dirs(path)?;
    if dirs.is_empty() {
        anyhow::bail!(
            "{}: no run directory (one with summary.json) in it",
            path.display()
        );
    }
    let runs = dirs
        .iter()
        .map(|d| load(d))
        .collect::<Result<Vec<_>, _>>()?;
    for r in &runs {
        for w in &r.warnings {
            eprintln!("thinbench: {}: {w}", r.dir.display());
        }
    }
    Ok(runs)
}

/// The gate config's policy for every figure of either side, as compare's plain rules
/// (the reports crate does not know the gate).
fn rules_from_config(
    config: &GateConfig,
    sides: [&[thinbench_reports::LoadedRun]; 2],
) -> Result<CompareRules, GateError> {
    // Both sides' clock: the report compares only within one (its environment notes say
    // so otherwise), and the config's `clock` rules follow it.
    let clock = sides
        .iter()
        .flat_map(|s| s.first())
        .map(|r| thinbench_gate::fingerprint::Fingerprint::of(&r.summary.environment).clock)
        .next()
        .unwrap_or_default();
    let mut rules = CompareRules {
        source: config.source.clone(),
        missing_ignored: config.defaults.missing == MissingPolicy::Ignore,
        ..CompareRules::default()
    };
    for f in sides
        .into_iter()
        .flat_map(thinbench_reports::figure_addresses)
    {
        if rules.figures.contains_key(&f.id) {
            continue;
        }
        let key = FigureKey {
            case: f.id.case.clone(),
            step: Some(f.id.step.clone()),
            figure: f.id.name.clone(),
        };
        let meta = FigureMeta {
            action: Some(f.action),
            unit: f.unit,
            kind: f.kind,
            better: f.better,
            class: FigureClass::Metric,
        };
        let r = config.resolve(&key, &meta, &clock)?;
        let treatment = match (r.ignore, r.kind) {
            (true, _) => Treatment::Ignore,
            (false, MetricKind::Timing) => Treatment::Varying,
            (false, MetricKind::Exact) => Treatment::Exact,
        };
        let rule = FigureRule {
            treatment,
            better: r.better,
            noise_pct: r.timing.noise * 100.0,
            floor: r.timing.floor,
            exact_directional: r.exact_directional,
        };
        rules.figures.insert(f.id, rule);
    }
    Ok(rules)
}

/// Environment notes: which fields differ, and whether timings are judged at all.
fn print_environment_notes(c: &Comparison) {
    for d in &c.environment_differences {
        println!("note: {} differs ({} vs {})", d.field, d.a, d.b);
    }
    match &c.timings_not_comparable {
        Some(why) => println!("note: no timing is judged (inconclusive): {why}"),
        None if !c.environment_differences.is_empty() => {
            println!("note: timings may not be comparable")
        }
        None => {}
    }
}

pub fn compare(a: CompareArgs) -> anyhow::Result<i32> {
    let (ra, rb) = (load_side(&a.a)?, load_side(&a.b)?);
    let rules = match &a.config {
        None => CompareRules::default(),
        Some(path) => {
            let loaded = thinbench_gate::config::load_config(path)
                .map_err(GateError::from)
                .and_then(|cfg| rules_from_config(&cfg, [&ra, &rb]));
            match loaded {
                Ok(r) => r,
                Err(GateError::Config(errs)) => {
                    crate::snippet::eprint_errors(&errs.errors);
                    return Ok(exit_code::ERROR);
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let Some(c) = thinbench_reports::compare_sets(&ra, &rb, &rules) else {
        anyhow::bail!("a side has no run");
    };
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("compare-{}-vs-{}", c.a.run_id, c.b.run_id))
    });
    let files = thinbench_reports::write_comparison(&c, &out)
        .with_context(|| format!("writing the comparison into {}", out.display()))?;
    for s in &c.same_runs {
        eprintln!("thinbench: warning: {s}: a run compared with itself can only be unchanged");
    }
    if c.scenario_differs {
        println!("note: the runs are of different scenarios; figures may not mean the same");
    }
    print_environment_notes(&c);
    if c.a_runs.len() > 1 || c.b_runs.len() > 1 {
        println!(
            "A: {} runs, B: {} runs (figures are their medians)",
            c.a_runs.len(),
            c.b_runs.len()
        );
    }
    if let Some(cfg) = &c.config {
        println!("rules: {} (figures ignored: {})", cfg.display(), c.ignored);
    }
    let failed: Vec<_> = c.failures().collect();
    println!(
        "compare: {}: {} figures: {}",
        if failed.is_empty() { "PASS" } else { "FAIL" },
        c.rows.len(),
        counts_line(|k| c.count(k))
    );
    for r in &failed {
        let f = |v: Option<f64>| v.map(format::precise_number).unwrap_or_else(|| "-".into());
        println!(
            "  {} {}: {} -> {} {}{}",
            r.verdict.label(),
            r.id,
            f(r.a),
            f(r.b),
            r.unit,
            r.change_pct
                .map(|p| format!(" ({p:+.1}%)"))
                .unwrap_or_default()
        );
    }
    print_files(&files);
    Ok(if failed.is_empty() {
        exit_code::OK
    } else {
        exit_code::FAILED
    })
}

//! `thinbench report RUN…` and `thinbench compare A B`: thin layers over the reports
//! crate. `run` also calls [`render_run`] at its end.

use std::path::{Path, PathBuf};

use anyhow::Context;
use thinbench_reports::ReportFiles;
use thinbench_schema::verdict::{counts_line, Verdict};

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

/// Options of `compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline run directory.
    pub a: PathBuf,
    /// The run compared with it.
    pub b: PathBuf,
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

pub fn compare(a: CompareArgs) -> anyhow::Result<i32> {
    let (ra, rb) = (load(&a.a)?, load(&a.b)?);
    let c = thinbench_reports::compare(&ra, &rb);
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!(
            "compare-{}-vs-{}",
            ra.summary.run_id, rb.summary.run_id
        ))
    });
    let files = thinbench_reports::write_comparison(&c, &out)
        .with_context(|| format!("writing the comparison into {}", out.display()))?;
    if c.scenario_differs {
        println!("note: the runs are of different scenarios; figures may not mean the same");
    }
    for d in &c.environment_differences {
        println!(
            "note: {} differs ({} vs {}): timings are not comparable",
            d.field, d.a, d.b
        );
    }
    println!("{} figures: {}", c.rows.len(), counts_line(|k| c.count(k)));
    for r in c
        .rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Regressed | Verdict::Changed))
    {
        let f = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_else(|| "-".into());
        println!(
            "  {} {} {} {}: {} -> {} {}{}",
            r.verdict.label(),
            r.pool,
            r.step,
            r.figure,
            f(r.a),
            f(r.b),
            r.unit,
            r.change_pct
                .map(|p| format!(" ({p:+.1}%)"))
                .unwrap_or_default()
        );
    }
    print_files(&files);
    Ok(exit_code::OK)
}

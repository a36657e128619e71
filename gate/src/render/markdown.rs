//! `gate.md`: the verdict and what decided it, written to be appended to a CI job summary.
//! Failures first, then inconclusive figures (those with one reason grouped into one line
//! with a count, their names collapsed), improvements, the harness's own cost apart from
//! the pools' figures, and every figure collapsed; tables over [`COLLAPSE_ROWS`] rows in
//! `<details>`; values in their unit ([`values`](super::values)). The candidate's report
//! plots are linked only under a URL base: a job summary shows no image by relative path
//! (docs/reports.md), so without one a note says where they are.

use std::fmt::Write;

use crate::analysis::{GateReport, Overall, Row};
use crate::verdict::{Inconclusive, Outcome, Verdict};
use thinbench_schema::escape::{html, markdown_cell as cell};
use thinbench_schema::format::relative_change;

use super::values::sides;

/// Tables with more rows than this are collapsed, as in the report's Markdown.
pub const COLLAPSE_ROWS: usize = 15;

/// The environment variable naming the URL base of `gate.md`'s images (the report's too).
pub const IMAGE_BASE_ENV: &str = "THINBENCH_SUMMARY_IMAGE_BASE";

/// Metric name prefixes that measure thinbench itself, not the pool (`oracle.`: the
/// `thin_ls` cross-check; `sampling.`: the status sampler's cost); the report keeps the
/// same list (reports/src/render/layout/shared.rs).
pub const HARNESS_COST_PREFIXES: [&str; 2] = ["oracle.", "sampling."];

/// Whether a figure is the harness's own cost.
pub fn is_harness_cost(figure: &str) -> bool {
    HARNESS_COST_PREFIXES.iter().any(|p| figure.starts_with(p))
}

/// A plot to embed: a title and a path relative to the Markdown file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotRef {
    /// Heading (scenario and run).
    pub group: String,
    /// Alt text.
    pub title: String,
    /// Relative path.
    pub path: String,
}

/// What the last column of a figure table says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// The reason (sections that share one verdict).
    Why,
    /// The verdict and its reason, an inconclusive one in a few words.
    Verdict,
}

/// A short word for an inconclusive reason (the full one is in its section).
fn short(reason: &Inconclusive) -> &'static str {
    match reason {
        Inconclusive::TooFewSamples { .. } => "too few samples",
        Inconclusive::TooNoisy { .. } => "too noisy",
        Inconclusive::Unstable { .. } => "unstable",
        Inconclusive::ZeroBaseline => "zero baseline",
    }
}

/// `body` under `summary`, inside `<details>` when `collapse`: the blank line after the
/// summary tag lets GitHub render the Markdown inside.
fn collapsible(x: &mut String, summary: &str, collapse: bool, body: impl FnOnce(&mut String)) {
    if collapse {
        let _ = writeln!(x, "<details><summary>{}</summary>\n", html(summary));
        body(x);
        x.push_str("</details>\n\n");
    } else {
        body(x);
    }
}

/// A figure table, collapsed when long.
fn table(x: &mut String, rows: &[&Row], last: Last) {
    let summary = format!("{} figures", rows.len());
    collapsible(x, &summary, rows.len() > COLLAPSE_ROWS, |x| {
        table_rows(x, rows, last)
    });
}

fn table_rows(x: &mut String, rows: &[&Row], last: Last) {
    let head = match last {
        Last::Why => "why",
        Last::Verdict => "verdict",
    };
    let _ = writeln!(
        x,
        "| case | step | figure | baseline | candidate | change | {head} |"
    );
    x.push_str("|---|---|---|---:|---:|---:|---|\n");
    for r in rows {
        let (b, c) = sides(r);
        let side = |v: Option<String>, s: &Option<crate::analysis::SampleSummary>| match (v, s) {
            (Some(v), Some(s)) if s.n > 1 => format!("{v} (n={})", s.n),
            (Some(v), _) => v,
            (None, _) => "—".into(),
        };
        let change = r
            .stats
            .map(|s| relative_change(s.change))
            .unwrap_or_default();
        let why = match (last, &r.verdict) {
            (Last::Why, _) => r.reason(),
            (Last::Verdict, Verdict::Inconclusive { reason }) => {
                format!("{}: {}", r.verdict.label(), short(reason))
            }
            (Last::Verdict, v) => format!("{} {}", v.label(), r.reason()),
        };
        let _ = writeln!(
            x,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.key.case),
            cell(r.key.step.as_deref().unwrap_or("")),
            cell(&r.key.figure),
            cell(&side(b, &r.baseline)),
            cell(&side(c, &r.candidate)),
            change,
            cell(why.trim())
        );
    }
    x.push('\n');
}

/// Inconclusive or not-gated figures: each reason shared by several as one line with
/// their count and their names collapsed; the others in a table with their values.
fn by_reason(x: &mut String, rows: &[&Row]) {
    let mut by_reason: Vec<(String, Vec<&Row>)> = Vec::new();
    for r in rows {
        let why = r.reason();
        match by_reason.iter_mut().find(|(w, _)| *w == why) {
            Some((_, v)) => v.push(r),
            None => by_reason.push((why, vec![r])),
        }
    }
    let mut alone = Vec::new();
    for (why, group) in &by_reason {
        if group.len() < 2 {
            alone.extend(group.iter().copied());
            continue;
        }
        let _ = writeln!(x, "**{} figures: {}.**\n", group.len(), cell(why));
        collapsible(x, &format!("The {} figures", group.len()), true, |x| {
            names(x, group)
        });
    }
    if !alone.is_empty() {
        table(x, &alone, Last::Why);
    }
}

/// The figures of `rows` by case and step, one line each.
fn names(x: &mut String, rows: &[&Row]) {
    let mut lines: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for r in rows {
        let (case, step) = (r.key.case.as_str(), r.key.step.as_deref().unwrap_or(""));
        let fig = r.key.figure.as_str();
        match lines.iter_mut().find(|(c, s, _)| *c == case && *s == step) {
            Some((_, _, figs)) if !figs.contains(&fig) => figs.push(fig),
            Some(_) => {}
            None => lines.push((case, step, vec![fig])),
        }
    }
    x.push_str("| case | step | figures |\n|---|---|---|\n");
    for (case, step, figs) in lines {
        let _ = writeln!(
            x,
            "| {} | {} | {} |",
            cell(case),
            cell(step),
            cell(&figs.join(", "))
        );
    }
    x.push('\n');
}

/// `base/path` as a Markdown link destination, what would end it percent-encoded (as the
/// report's Markdown does, reports/src/render/markdown.rs).
fn link(base: &str, path: &str) -> String {
    let mut out = String::with_capacity(base.len() + path.len() + 1);
    for c in base.chars().chain(std::iter::once('/')).chain(path.chars()) {
        if c.is_ascii_control() || " ()<>\"'`\\".contains(c) {
            let _ = write!(out, "%{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The candidate's plots: images under `base`, else where to find them.
fn plots_section(x: &mut String, plots: &[PlotRef], base: Option<&str>) {
    if plots.is_empty() {
        return;
    }
    x.push_str("## Candidate report plots\n");
    let base = base
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| b.strip_suffix('/').unwrap_or(b));
    if base.is_none() {
        let _ = writeln!(
            x,
            "\nNot embedded (a CI job summary shows no image by relative path, and none \
             inline): they are under `plots/` in the gate artifact, and in each run's \
             `report/report.html`. To embed them, set `{IMAGE_BASE_ENV}` to the URL this \
             directory is served from."
        );
    }
    let mut group = "";
    for p in plots {
        if p.group != group {
            let _ = writeln!(x, "\n### {}\n", cell(&p.group));
            group = &p.group;
        }
        let alt = cell(&p.title).replace('[', "\\[").replace(']', "\\]");
        match base {
            Some(b) => {
                let _ = writeln!(x, "![{alt}]({})", link(b, &p.path));
            }
            None => {
                let _ = writeln!(x, "- `{}`", p.path.replace('`', "'"));
            }
        }
    }
}

/// The report as Markdown; `plots` are linked under `image_base` (a URL of the directory
/// `gate.md` is served from), else listed.
pub fn render(r: &GateReport, plots: &[PlotRef], image_base: Option<&str>) -> String {
    let mut x = String::new();
    let word = match r.verdict {
        Overall::Pass => "PASS",
        Overall::Regression => "REGRESSION",
        Overall::Inconclusive => "INCONCLUSIVE",
    };
    let _ = writeln!(x, "# thinbench gate: {word}\n");
    let c = &r.counts;
    let _ = writeln!(
        x,
        "**{} figures**: {}{}.\n",
        r.rows.len(),
        c.describe(),
        if c.ignored > 0 {
            format!(" ({} left out by the config)", c.ignored)
        } else {
            String::new()
        }
    );
    let s = &r.settings;
    let _ = writeln!(
        x,
        "Config: {}. Timings: median of each side, {:.0} % bootstrap CI of its relative change \
         ({} resamples), Mann-Whitney U at α = {}, noise threshold {}, at least {} samples a side; \
         exact figures must be equal.\n",
        r.config
            .as_ref()
            .map(|p| format!("`{}`", p.display()))
            .unwrap_or_else(|| "built-in defaults".into()),
        s.confidence * 100.0,
        s.resamples,
        s.alpha,
        s.noise,
        s.min_samples
    );
    for g in &r.groups {
        let _ = writeln!(
            x,
            "Environment `{}`: {}; baseline {} run(s), candidate {} run(s).",
            g.slug,
            g.fingerprint,
            g.baseline_runs.len(),
            g.candidate_runs.len()
        );
        if !g.not_in_candidate.is_empty() {
            let _ = writeln!(
                x,
                "Not compared (in the baseline, not run by the candidate): {}.",
                g.not_in_candidate.join(", ")
            );
        }
        x.push('\n');
    }
    // Failures whatever they measure: they decide the exit code.
    let fails: Vec<&Row> = r.with_outcome(Outcome::Fail).collect();
    if !fails.is_empty() {
        x.push_str("## Regressions and behaviour changes\n\n");
        table(&mut x, &fails, Last::Why);
    }
    let (harness, pool): (Vec<&Row>, Vec<&Row>) = r
        .rows
        .iter()
        .partition(|row| is_harness_cost(&row.key.figure));
    let inc: Vec<&Row> = pool
        .iter()
        .copied()
        .filter(|row| row.outcome == Outcome::Inconclusive)
        .collect();
    if !inc.is_empty() {
        x.push_str("## Inconclusive\n\n");
        by_reason(&mut x, &inc);
    }
    let not_gated: Vec<&Row> = pool
        .iter()
        .copied()
        .filter(|row| row.outcome == Outcome::NotGated)
        .collect();
    if !not_gated.is_empty() {
        x.push_str("## Not gated\n\n");
        by_reason(&mut x, &not_gated);
    }
    let improved: Vec<&Row> = pool
        .iter()
        .copied()
        .filter(|row| row.verdict == Verdict::Improved)
        .collect();
    if !improved.is_empty() {
        x.push_str("## Improved\n\n");
        table(&mut x, &improved, Last::Why);
    }
    if !harness.is_empty() {
        x.push_str("## Harness cost\n\n");
        x.push_str(
            "What thinbench's own checks and sampling took (`oracle.*`, `sampling.*`): not \
             the pool's figures. Best left out of the gate (`kind = \"ignore\"`, as \
             ci/gate.toml does for `oracle.thin_ls_ms`).\n\n",
        );
        table(&mut x, &harness, Last::Verdict);
    }
    let _ = writeln!(
        x,
        "<details><summary>All {} figures of the pools</summary>\n",
        pool.len()
    );
    table_rows(&mut x, &pool, Last::Verdict);
    x.push_str("</details>\n");
    plots_section(&mut x, plots, image_base);
    x
}

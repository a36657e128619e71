//! `gate.md`: the verdict and what decided it, for a CI job summary or a review comment.
//! Failures first, then inconclusive figures with their reason, improvements, and every
//! figure in a collapsed table; the candidate's report plots at the end.

use std::fmt::Write;

use crate::analysis::{GateReport, Overall, Row};
use crate::verdict::{Outcome, Verdict};
use thinbench_schema::format::relative_change;

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

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(x: &mut String, rows: &[&Row], last: &str) {
    let _ = writeln!(
        x,
        "| case | step | figure | baseline | candidate | change | {last} |"
    );
    x.push_str("|---|---|---|---:|---:|---:|---|\n");
    for r in rows {
        let side = |s: &Option<crate::analysis::SampleSummary>| {
            s.as_ref()
                .map(|s| {
                    if s.n > 1 {
                        format!("{} (n={})", s.display(), s.n)
                    } else {
                        s.display()
                    }
                })
                .unwrap_or_else(|| "—".into())
        };
        let change = r
            .stats
            .map(|s| relative_change(s.change))
            .unwrap_or_else(|| "".into());
        let why = if last == "verdict" {
            format!("{} {}", r.verdict.label(), r.reason())
        } else {
            r.reason()
        };
        let figure = if r.unit.is_empty() {
            cell(&r.key.figure)
        } else {
            format!("{} ({})", cell(&r.key.figure), cell(&r.unit))
        };
        let _ = writeln!(
            x,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.key.case),
            cell(r.key.step.as_deref().unwrap_or("")),
            figure,
            cell(&side(&r.baseline)),
            cell(&side(&r.candidate)),
            change,
            cell(why.trim())
        );
    }
    x.push('\n');
}

/// The report as Markdown; `plots` are embedded at the end.
pub fn render(r: &GateReport, plots: &[PlotRef]) -> String {
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
    let fails: Vec<&Row> = r.with_outcome(Outcome::Fail).collect();
    if !fails.is_empty() {
        x.push_str("## Regressions and behaviour changes\n\n");
        table(&mut x, &fails, "why");
    }
    let inc: Vec<&Row> = r.with_outcome(Outcome::Inconclusive).collect();
    if !inc.is_empty() {
        x.push_str("## Inconclusive\n\n");
        table(&mut x, &inc, "why");
    }
    let improved: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| row.verdict == Verdict::Improved)
        .collect();
    if !improved.is_empty() {
        x.push_str("## Improved\n\n");
        table(&mut x, &improved, "why");
    }
    let all: Vec<&Row> = r.rows.iter().collect();
    let _ = writeln!(x, "<details><summary>All {} figures</summary>\n", all.len());
    table(&mut x, &all, "verdict");
    x.push_str("</details>\n");
    if !plots.is_empty() {
        x.push_str("\n## Candidate report plots\n");
        let mut group = "";
        for p in plots {
            if p.group != group {
                let _ = writeln!(x, "\n### {}\n", p.group);
                group = &p.group;
            }
            let _ = writeln!(x, "![{}]({})", p.title, p.path);
        }
    }
    x
}

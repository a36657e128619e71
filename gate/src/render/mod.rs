//! Renderers of a [`GateReport`] (JSON, JUnit, Markdown, tracker exports), and
//! [`write_outputs`], which writes them all into one directory with the candidate's
//! report plots beside the Markdown.

pub mod export;
pub mod json;
pub mod junit;
pub mod markdown;
mod values;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use thinbench_schema::record::Better;

use crate::analysis::GateReport;
use crate::error::GateError;
use crate::load::LoadedRun;
use markdown::PlotRef;

/// The files [`write_outputs`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputFiles {
    /// `gate.json`.
    pub json: PathBuf,
    /// `junit.xml`.
    pub junit: PathBuf,
    /// `gate.md`.
    pub markdown: PathBuf,
    /// `bencher.json` (Bencher Metric Format).
    pub bencher: PathBuf,
    /// `benchmark-smaller-is-better.json` (github-action-benchmark).
    pub gab_smaller: PathBuf,
    /// `benchmark-bigger-is-better.json` (github-action-benchmark).
    pub gab_bigger: PathBuf,
}

fn write(path: PathBuf, text: &str) -> Result<PathBuf, GateError> {
    fs::write(&path, text).map_err(|e| GateError::write(&path, e))?;
    Ok(path)
}

/// Copy the PNG plots of the first candidate run of each scenario (the report `run`
/// renders into `RUN/report/`) into `out/plots/<run-id>/`, so the Markdown and its
/// images travel together as one CI artifact.
fn copy_plots(candidate: &[LoadedRun], out: &Path) -> Result<Vec<PlotRef>, GateError> {
    let mut seen = BTreeSet::new();
    let mut plots = Vec::new();
    for run in candidate {
        let s = &run.summary;
        let report = run.dir.join("report");
        let Ok(rd) = fs::read_dir(&report) else {
            continue;
        };
        let mut pngs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .collect();
        if pngs.is_empty() || !seen.insert(s.scenario.name.clone()) {
            continue;
        }
        pngs.sort();
        let dest = out.join("plots").join(&s.run_id);
        fs::create_dir_all(&dest).map_err(|e| GateError::write(&dest, e))?;
        for png in pngs {
            let name = png.file_name().unwrap_or_default().to_owned();
            let to = dest.join(&name);
            fs::copy(&png, &to).map_err(|e| GateError::write(&to, e))?;
            plots.push(PlotRef {
                group: format!("{} (run {})", s.scenario.name, s.run_id),
                title: png
                    .file_stem()
                    .map(|x| x.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                path: format!("plots/{}/{}", s.run_id, name.to_string_lossy()),
            });
        }
    }
    Ok(plots)
}

/// Write every output of `report` into `out` (created if needed); `gate.md` links its
/// plots under `THINBENCH_SUMMARY_IMAGE_BASE` when set.
pub fn write_outputs(
    report: &GateReport,
    candidate: &[LoadedRun],
    out: &Path,
) -> Result<OutputFiles, GateError> {
    let base = std::env::var(markdown::IMAGE_BASE_ENV).ok();
    write_outputs_with(report, candidate, out, base.as_deref())
}

/// [`write_outputs`] with `gate.md`'s plots linked under `image_base` (`None`: listed,
/// not embedded).
pub fn write_outputs_with(
    report: &GateReport,
    candidate: &[LoadedRun],
    out: &Path,
    image_base: Option<&str>,
) -> Result<OutputFiles, GateError> {
    fs::create_dir_all(out).map_err(|e| GateError::write(out, e))?;
    let plots = copy_plots(candidate, out)?;
    let md = markdown::render(report, &plots, image_base);
    Ok(OutputFiles {
        json: write(out.join("gate.json"), &json::render(report))?,
        junit: write(out.join("junit.xml"), &junit::render(report, candidate))?,
        markdown: write(out.join("gate.md"), &md)?,
        bencher: write(out.join("bencher.json"), &export::bmf(report))?,
        gab_smaller: write(
            out.join("benchmark-smaller-is-better.json"),
            &export::github_action_benchmark(report, Better::Lower),
        )?,
        gab_bigger: write(
            out.join("benchmark-bigger-is-better.json"),
            &export::github_action_benchmark(report, Better::Higher),
        )?,
    })
}

//! Rendering: the model laid out once as a document (`layout`), then translated by
//! dumb [`Renderer`]s (Markdown, HTML, CSV); figures drawn by [`plots::Plotter`]s.

mod csv;
mod document;
mod html;
pub(crate) mod layout;
mod markdown;
mod plot_spec;
pub(crate) mod plots;
mod renderer;

use crate::analysis::compare::Comparison;
use crate::error::ReportError;
use crate::model::ReportModel;
use document::Document;
use renderer::{create_dir, Renderer};
use std::path::{Path, PathBuf};

/// The files a report or comparison was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportFiles {
    /// Self-contained HTML (inline SVG plots and CSS).
    pub html: PathBuf,
    /// Markdown, with its PNG plots beside it.
    pub markdown: PathBuf,
    /// One CSV per table, under `csv/`.
    pub csv: Vec<PathBuf>,
    /// The Markdown's plots.
    pub pngs: Vec<PathBuf>,
}

fn write_document(doc: &Document, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    create_dir(out_dir)?;
    let md = markdown::MarkdownRenderer.render(doc, out_dir)?;
    let html = html::HtmlRenderer.render(doc, out_dir)?;
    let csv = csv::CsvRenderer.render(doc, out_dir)?;
    Ok(ReportFiles {
        html: html
            .main
            .unwrap_or_else(|| out_dir.join(format!("{}.html", doc.stem))),
        markdown: md
            .main
            .unwrap_or_else(|| out_dir.join(format!("{}.md", doc.stem))),
        csv: csv.files,
        pngs: md.files,
    })
}

/// Write `report.html`, `report.md` with its PNG plots beside it, and `csv/*.csv` (one
/// per table) into `out_dir`, creating it.
pub fn write_report(model: &ReportModel, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    write_document(&layout::report(model), out_dir)
}

/// Write `compare.md`, `compare.html` and `csv/*.csv` into `out_dir`, creating it.
pub fn write_comparison(c: &Comparison, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    write_document(&layout::comparison(c), out_dir)
}

/// The Markdown of a report, with PNG links but without drawing them (tests, previews).
pub fn report_markdown(model: &ReportModel) -> String {
    markdown::to_string(&layout::report(model))
}

/// The Markdown of a comparison.
pub fn comparison_markdown(c: &Comparison) -> String {
    markdown::to_string(&layout::comparison(c))
}

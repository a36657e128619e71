//! Rendering: the model laid out once as a document (`layout`), then translated by
//! dumb [`Renderer`]s (Markdown, HTML, CSV); figures drawn by [`plots::Plotter`]s.

mod csv;
mod document;
mod html;
pub(crate) mod layout;
pub(crate) mod markdown;
mod plot_spec;
pub(crate) mod plots;
mod renderer;

use crate::analysis::compare::Comparison;
use crate::analysis::kernels::KernelComparison;
use crate::error::ReportError;
use crate::model::ReportModel;
use document::Document;
use markdown::ImageLinks;
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

fn write_document(
    doc: &Document,
    out_dir: &Path,
    images: &ImageLinks,
) -> Result<ReportFiles, ReportError> {
    create_dir(out_dir)?;
    let md = markdown::MarkdownRenderer {
        images: images.clone(),
    }
    .render(doc, out_dir)?;
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
/// per table) into `out_dir`, creating it. `report.md` links its plots under
/// `THINBENCH_SUMMARY_IMAGE_BASE` when set ([`ImageLinks::from_env`]).
pub fn write_report(model: &ReportModel, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    write_report_with(model, out_dir, &ImageLinks::from_env())
}

/// [`write_report`] with `report.md`'s image links as `images` says.
pub fn write_report_with(
    model: &ReportModel,
    out_dir: &Path,
    images: &ImageLinks,
) -> Result<ReportFiles, ReportError> {
    write_document(&layout::report(model), out_dir, images)
}

/// Write `compare.md`, `compare.html` and `csv/*.csv` into `out_dir`, creating it.
pub fn write_comparison(c: &Comparison, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    write_document(&layout::comparison(c), out_dir, &ImageLinks::from_env())
}

/// Write `kernels.md`, `kernels.html` and `csv/*.csv` into `out_dir`, creating it.
pub fn write_kernel_comparison(
    c: &KernelComparison,
    out_dir: &Path,
) -> Result<ReportFiles, ReportError> {
    write_document(&layout::kernels(c), out_dir, &ImageLinks::from_env())
}

/// The Markdown of a kernel matrix's comparison.
pub fn kernel_comparison_markdown(c: &KernelComparison) -> String {
    markdown::to_string(&layout::kernels(c), &ImageLinks::Note)
}

/// The Markdown of a report without drawing its plots (tests, previews); no image links,
/// as without `THINBENCH_SUMMARY_IMAGE_BASE`.
pub fn report_markdown(model: &ReportModel) -> String {
    report_markdown_with(model, &ImageLinks::Note)
}

/// The Markdown of a report with its image links as `images` says.
pub fn report_markdown_with(model: &ReportModel, images: &ImageLinks) -> String {
    markdown::to_string(&layout::report(model), images)
}

/// The Markdown of a comparison.
pub fn comparison_markdown(c: &Comparison) -> String {
    markdown::to_string(&layout::comparison(c), &ImageLinks::Note)
}

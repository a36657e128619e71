//! Markdown (GitHub flavour) that also works as a CI job summary: the document's tables
//! as pipe tables, those longer than [`COLLAPSE_ROWS`] inside `<details>`; figures as PNGs
//! beside the file. A job summary loads no relative image and strips inline ones
//! (docs/reports.md), so figures are linked only under a URL base ([`ImageLinks::Base`]);
//! without one a note says where the plots are.

use super::document::{Block, Cell, Document, Table, Tone};
use super::plots::{Plotter, PngPlotter};
use super::renderer::{write_file, Renderer, Written};
use crate::error::ReportError;
use std::fmt::Write as _;
use std::path::Path;

/// Tables with more rows than this are collapsed (`<details>`), so a summary stays short.
pub(crate) const COLLAPSE_ROWS: usize = 15;

/// The environment variable naming the URL base of the Markdown's images.
pub const IMAGE_BASE_ENV: &str = "THINBENCH_SUMMARY_IMAGE_BASE";

/// How the Markdown refers to its plots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ImageLinks {
    /// No image links (a job summary would show them broken): one note says the plots
    /// are in `report.html` and beside the file, and each figure names its PNG.
    #[default]
    Note,
    /// `![…](<base>/<figure>.png)`: the URL of the directory the PNGs are served from
    /// (`.` for a file read beside its PNGs).
    Base(String),
}

impl ImageLinks {
    /// `Base` for a non-empty `base` (one trailing `/` dropped), else `Note`.
    pub fn from_base(base: Option<&str>) -> ImageLinks {
        match base.map(str::trim) {
            Some(b) if !b.is_empty() => {
                ImageLinks::Base(b.strip_suffix('/').unwrap_or(b).to_owned())
            }
            _ => ImageLinks::Note,
        }
    }

    /// From [`IMAGE_BASE_ENV`]; unset or empty: `Note`.
    pub fn from_env() -> ImageLinks {
        ImageLinks::from_base(std::env::var(IMAGE_BASE_ENV).ok().as_deref())
    }
}

pub(crate) struct MarkdownRenderer {
    pub images: ImageLinks,
}

impl Renderer for MarkdownRenderer {
    fn render(&self, doc: &Document, out_dir: &Path) -> Result<Written, ReportError> {
        let plotter = PngPlotter { dir: out_dir };
        let pngs = doc
            .figures()
            .map(|f| plotter.plot(f))
            .collect::<Result<Vec<_>, _>>()?;
        let path = out_dir.join(format!("{}.md", doc.stem));
        write_file(&path, to_string(doc, &self.images).as_bytes())?;
        Ok(Written {
            main: Some(path),
            files: pngs,
        })
    }
}

/// The file name a figure's PNG gets.
pub(crate) fn png_name(id: &str) -> String {
    format!("{id}.png")
}

/// `base/name` as a Markdown link destination: what would end it (space, parentheses,
/// angle brackets, quotes, control characters) percent-encoded. The gate's Markdown does
/// the same to its plot links (gate/src/render/markdown.rs).
fn link(base: &str, name: &str) -> String {
    let mut out = String::with_capacity(base.len() + name.len() + 1);
    for c in base.chars().chain(std::iter::once('/')).chain(name.chars()) {
        if c.is_ascii_control() || " ()<>\"'`\\".contains(c) {
            let _ = write!(out, "%{:02X}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

use thinbench_schema::escape::{html, markdown_cell as esc};

fn cell(c: &Cell) -> String {
    let t = esc(&c.text);
    match c.tone {
        Tone::Bad if !t.is_empty() => format!("**{t}**"),
        _ => t,
    }
}

/// A pipe table under its caption; a long one inside `<details>` with the caption as its
/// summary (the blank line after `<summary>` lets GitHub render the table inside).
fn table(out: &mut String, t: &Table) {
    let long = t.rows.len() > COLLAPSE_ROWS;
    if long {
        let _ = writeln!(
            out,
            "<details><summary>{} ({} rows)</summary>\n",
            html(&t.caption),
            t.rows.len()
        );
    } else {
        let _ = writeln!(out, "*{}*\n", esc(&t.caption));
    }
    if t.rows.is_empty() {
        out.push_str("(none)\n\n");
        return;
    }
    out.push('|');
    for h in &t.header {
        let _ = write!(out, " {} |", esc(h));
    }
    out.push_str("\n|");
    for n in &t.numeric {
        out.push_str(if *n { "---:|" } else { "---|" });
    }
    out.push('\n');
    for r in &t.rows {
        out.push('|');
        for c in r {
            let _ = write!(out, " {} |", cell(c));
        }
        out.push('\n');
    }
    out.push('\n');
    if long {
        out.push_str("</details>\n\n");
    }
}

/// The Markdown text of `doc`, its figures linked as `images` says.
pub(crate) fn to_string(doc: &Document, images: &ImageLinks) -> String {
    let mut out = format!("# {}\n\n", esc(&doc.title));
    // Said once, before the first figure, when there are figures and nowhere to link them.
    let mut plots_note = *images == ImageLinks::Note;
    for b in &doc.blocks {
        if plots_note && matches!(b, Block::Figure(_)) {
            plots_note = false;
            let _ = writeln!(
                out,
                "> **Note:** Plots are not embedded here (a CI job summary shows no image by \
                 relative path, and none inline): see `{}.html` in the report artifact, every \
                 plot inline, or the PNGs beside this file. To embed them, set \
                 `{IMAGE_BASE_ENV}` to the URL this directory is served from.\n",
                doc.stem
            );
        }
        match b {
            Block::Heading { level, text, .. } => {
                let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), esc(text));
            }
            Block::Text(t) => {
                let _ = writeln!(out, "{t}\n");
            }
            Block::Callout { tone, text } => {
                let lead = match tone {
                    Tone::Bad => "**Warning:** ",
                    Tone::Warn => "**Note:** ",
                    Tone::Good | Tone::Plain => "",
                };
                let _ = writeln!(out, "> {lead}{}\n", text.replace('\n', " "));
            }
            Block::KeyValues { title, rows, .. } => {
                let _ = writeln!(out, "**{}**\n\n```text", esc(title));
                let w = rows
                    .iter()
                    .map(|(k, _)| k.chars().count())
                    .max()
                    .unwrap_or(0);
                for (k, v) in rows {
                    let _ = writeln!(
                        out,
                        " {:<w$}  {}",
                        format!("{k}:"),
                        v.replace('\n', " "),
                        w = w + 1
                    );
                }
                out.push_str("```\n\n");
            }
            Block::Table(t) => table(&mut out, t),
            Block::Figure(f) => {
                let png = png_name(&f.id);
                match images {
                    ImageLinks::Base(base) => {
                        let alt = esc(&f.caption).replace('[', "\\[").replace(']', "\\]");
                        let _ = writeln!(out, "![{alt}]({})\n", link(base, &png));
                        let _ = writeln!(out, "{}\n", f.caption);
                    }
                    ImageLinks::Note => {
                        let _ = writeln!(out, "{} (plot: `{png}`)\n", f.caption);
                    }
                }
                table(&mut out, &f.table);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::document::Figure;
    use crate::render::plot_spec::{BarsPlot, PlotSpec};

    fn doc_with(rows: usize) -> Document {
        let mut t = Table::new("t", "Some <rows>", &[("n", true)]);
        for i in 0..rows {
            t.rows.push(vec![Cell::text(i.to_string())]);
        }
        Document {
            stem: "report",
            title: "T".into(),
            blocks: vec![
                Block::Table(t.clone()),
                Block::Figure(Box::new(Figure {
                    id: "usage-a".into(),
                    caption: "Usage of [a].".into(),
                    plot: PlotSpec::Bars(BarsPlot {
                        title: String::new(),
                        panels: Vec::new(),
                    }),
                    table: Table::new("usage-a", "Usage", &[("n", true)]),
                })),
            ],
            csv_only: Vec::new(),
        }
    }

    #[test]
    fn long_tables_collapse_with_a_blank_line_after_the_summary() {
        let md = to_string(&doc_with(COLLAPSE_ROWS + 1), &ImageLinks::Note);
        assert!(
            md.contains("<details><summary>Some &lt;rows&gt; (16 rows)</summary>\n\n| n |"),
            "{md}"
        );
        assert!(md.contains("| 15 |\n\n</details>\n\n"), "{md}");
        let md = to_string(&doc_with(COLLAPSE_ROWS), &ImageLinks::Note);
        assert!(!md.contains("<details>"), "{md}");
        assert!(md.contains("*Some <rows>*\n\n| n |"), "{md}");
    }

    #[test]
    fn images_only_under_a_base_else_a_note() {
        let doc = doc_with(1);
        let md = to_string(&doc, &ImageLinks::Note);
        assert!(!md.contains("!["), "{md}");
        assert!(
            md.contains("see `report.html` in the report artifact"),
            "{md}"
        );
        assert!(md.contains(IMAGE_BASE_ENV), "{md}");
        assert!(md.contains("Usage of [a]. (plot: `usage-a.png`)"), "{md}");

        let base = ImageLinks::from_base(Some("https://x.example/run 1/(report)/"));
        let md = to_string(&doc, &base);
        assert!(
            md.contains("![Usage of \\[a\\].](https://x.example/run%201/%28report%29/usage-a.png)"),
            "{md}"
        );
        assert!(!md.contains("Plots are not embedded"), "{md}");
        let here = to_string(&doc, &ImageLinks::from_base(Some(".")));
        assert!(here.contains("](./usage-a.png)"), "{here}");
    }

    #[test]
    fn an_empty_base_is_no_base() {
        assert_eq!(ImageLinks::from_base(Some("  ")), ImageLinks::Note);
        assert_eq!(ImageLinks::from_base(None), ImageLinks::Note);
        assert_eq!(
            ImageLinks::from_base(Some("https://h/r/")),
            ImageLinks::Base("https://h/r".into())
        );
    }
}

//! Markdown (GitHub flavour): the document's tables as pipe tables, figures as PNGs
//! beside the file, referenced by relative path.

use super::document::{Block, Cell, Document, Table, Tone};
use super::plots::{Plotter, PngPlotter};
use super::renderer::{write_file, Renderer, Written};
use crate::error::ReportError;
use std::fmt::Write as _;
use std::path::Path;

pub(crate) struct MarkdownRenderer;

impl Renderer for MarkdownRenderer {
    fn render(&self, doc: &Document, out_dir: &Path) -> Result<Written, ReportError> {
        let plotter = PngPlotter { dir: out_dir };
        let pngs = doc
            .figures()
            .map(|f| plotter.plot(f))
            .collect::<Result<Vec<_>, _>>()?;
        let path = out_dir.join(format!("{}.md", doc.stem));
        write_file(&path, to_string(doc).as_bytes())?;
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

use thinbench_schema::escape::markdown_cell as esc;

fn cell(c: &Cell) -> String {
    let t = esc(&c.text);
    match c.tone {
        Tone::Bad if !t.is_empty() => format!("**{t}**"),
        _ => t,
    }
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "*{}*\n", esc(&t.caption));
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
}

/// The Markdown text of `doc`.
pub(crate) fn to_string(doc: &Document) -> String {
    let mut out = format!("# {}\n\n", esc(&doc.title));
    for b in &doc.blocks {
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
                let _ = writeln!(out, "![{}]({})\n", esc(&f.caption), png_name(&f.id));
                let _ = writeln!(out, "{}\n", f.caption);
                table(&mut out, &f.table);
            }
        }
    }
    out
}

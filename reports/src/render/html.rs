//! Self-contained HTML: inline CSS, plots as inline SVG, no script, and a content
//! security policy that forbids loading anything, so the page reads the same offline
//! and attached to a CI run.

use super::document::{Block, Cell, Document, Table, Tone};
use super::plots::{Plotter, SvgPlotter};
use super::renderer::{write_file, Renderer, Written};
use crate::error::ReportError;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

pub(crate) struct HtmlRenderer;

impl Renderer for HtmlRenderer {
    fn render(&self, doc: &Document, out_dir: &Path) -> Result<Written, ReportError> {
        let mut svgs = HashMap::new();
        for f in doc.figures() {
            svgs.insert(f.id.clone(), SvgPlotter.plot(f)?);
        }
        let path = out_dir.join(format!("{}.html", doc.stem));
        write_file(&path, to_string(doc, &svgs).as_bytes())?;
        Ok(Written {
            main: Some(path),
            files: Vec::new(),
        })
    }
}

pub(crate) use thinbench_schema::escape::html as esc;

/// Inline `code` spans of Markdown-ish text as `<code>`; everything else escaped.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

const CSS: &str = r#"
:root { --fg:#222; --muted:#666; --line:#ddd; --bad:#b71c1c; --warn:#8a5a00; --good:#1b5e20; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 "DejaVu Sans", system-ui, sans-serif; color:var(--fg); background:#fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 24px 48px; background:#fff; }
h1 { font-size: 1.6em; margin: .4em 0 .6em; }
h2 { font-size: 1.3em; margin-top: 1.8em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
h3 { font-size: 1.1em; margin-top: 1.4em; }
nav.toc { font-size: .92em; margin: 0 0 1em; }
nav.toc a { margin-right: 1em; white-space: nowrap; }
.callout { border-left: 5px solid #999; background:#f4f4f4; padding: .6em .9em; margin: .6em 0; }
.callout.bad { border-color: var(--bad); background:#fdecea; color: var(--bad); font-weight: 600; }
.callout.warn { border-color: #e0a000; background:#fff7e0; color: var(--warn); font-weight: 600; }
.callout.good { border-color: #2e7d32; background:#edf7ee; color: var(--good); }
.table-wrap { overflow-x: auto; margin: .4em 0 1.2em; }
table { border-collapse: collapse; font-size: .9em; }
caption { text-align: left; font-style: italic; color: var(--muted); padding: .2em 0; caption-side: top; }
th, td { border: 1px solid var(--line); padding: 3px 8px; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bad { color: var(--bad); font-weight: 600; } td.warn { color: var(--warn); font-weight: 600; } td.good { color: var(--good); }
.kv { border: 1px solid var(--line); border-left: 6px solid #999; padding: .3em .8em .5em; margin: .8em 0; max-width: 900px; }
.kv h3 { margin: .3em 0; }
.kv table { font-size: .88em; } .kv th { background: none; border: none; padding: 1px 10px 1px 0; white-space: nowrap; font-weight: 600; }
.kv td { border: none; padding: 1px 0; font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
figure.plot { margin: 1em 0 .4em; }
figure.plot svg { width: 100%; max-width: 960px; height: auto; display: block; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .92em; margin-top: .3em; }
code { background: #f2f2f2; padding: 0 3px; border-radius: 3px; }
"#;

fn table(out: &mut String, t: &Table) {
    let _ = write!(
        out,
        "<div class=\"table-wrap\"><table id=\"table-{}\"><caption>{}</caption><thead><tr>",
        esc(&t.id),
        esc(&t.caption)
    );
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    if t.rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\">(none)</td></tr>",
            t.header.len()
        );
    }
    for r in &t.rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(
                out,
                "<td{}>{}</td>",
                class(c, t.numeric.get(i) == Some(&true)),
                esc(&c.text)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn class(c: &Cell, numeric: bool) -> String {
    let mut cls = Vec::new();
    if numeric {
        cls.push("num");
    }
    match c.tone {
        Tone::Bad => cls.push("bad"),
        Tone::Warn => cls.push("warn"),
        Tone::Good => cls.push("good"),
        Tone::Plain => {}
    }
    if cls.is_empty() {
        String::new()
    } else {
        format!(" class=\"{}\"", cls.join(" "))
    }
}

/// The page. `svgs` maps figure ids to their SVG markup.
pub(crate) fn to_string(doc: &Document, svgs: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>{}</title><style>{CSS}</style></head>\n<body><main>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title)
    );
    let toc: Vec<String> = doc
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading {
                level: 2,
                text,
                anchor,
            } => Some(format!("<a href=\"#{}\">{}</a>", esc(anchor), esc(text))),
            _ => None,
        })
        .collect();
    if !toc.is_empty() {
        let _ = writeln!(out, "<nav class=\"toc\">{}</nav>", toc.join(" "));
    }
    for b in &doc.blocks {
        match b {
            Block::Heading {
                level,
                text,
                anchor,
            } => {
                let _ = writeln!(
                    out,
                    "<h{level} id=\"{}\">{}</h{level}>",
                    esc(anchor),
                    esc(text)
                );
            }
            Block::Text(t) => {
                let _ = writeln!(out, "<p>{}</p>", inline(t));
            }
            Block::Callout { tone, text } => {
                let cls = match tone {
                    Tone::Bad => "bad",
                    Tone::Warn => "warn",
                    Tone::Good => "good",
                    Tone::Plain => "plain",
                };
                let _ = writeln!(
                    out,
                    "<div class=\"callout {cls}\" role=\"note\">{}</div>",
                    inline(text)
                );
            }
            Block::KeyValues {
                id,
                title,
                rows,
                colour,
            } => {
                let style = colour
                    .map(|c| format!(" style=\"border-left-color:{}\"", c.css()))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<div class=\"kv\" id=\"kv-{}\"{style}><h3>{}</h3><table>",
                    esc(id),
                    esc(title)
                );
                for (k, v) in rows {
                    let _ = write!(out, "<tr><th>{}:</th><td>{}</td></tr>", esc(k), esc(v));
                }
                out.push_str("</table></div>\n");
            }
            Block::Table(t) => table(&mut out, t),
            Block::Figure(f) => {
                let svg = svgs.get(&f.id).map(String::as_str).unwrap_or("");
                // plotters writes a bare <svg>: add an accessible name.
                let svg = svg.replacen(
                    "<svg ",
                    &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(&f.caption)),
                    1,
                );
                let _ = writeln!(
                    out,
                    "<figure class=\"plot\" id=\"fig-{}\">{svg}<figcaption>{}</figcaption></figure>",
                    esc(&f.id),
                    inline(&f.caption)
                );
                table(&mut out, &f.table);
            }
        }
    }
    out.push_str("</main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_inline_code() {
        assert_eq!(esc("<a & 'b'>"), "&lt;a &amp; &#39;b&#39;&gt;");
        assert_eq!(inline("run `x<y`"), "run <code>x&lt;y</code>");
    }
}

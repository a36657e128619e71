//! The document under construction: blocks in order, CSV-only tables, and the unique
//! ids (file stems, anchors) every section draws from.

use crate::render::document::{Block, Document, Figure, Table, Tone};
use crate::render::plot_spec::PlotSpec;
use std::collections::HashSet;

/// Hands out unique ids (file stems, anchors).
#[derive(Default)]
pub(super) struct Ids(HashSet<String>);

impl Ids {
    pub(super) fn get(&mut self, base: &str) -> String {
        let slug = slug(base);
        let mut id = slug.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{slug}-{n}");
            n += 1;
        }
        id
    }
}

pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    if t.is_empty() {
        "x".into()
    } else {
        t.to_owned()
    }
}

pub(super) struct Builder {
    pub(super) blocks: Vec<Block>,
    pub(super) csv_only: Vec<Table>,
    pub(super) ids: Ids,
}

impl Builder {
    pub(super) fn new() -> Builder {
        Builder {
            blocks: Vec::new(),
            csv_only: Vec::new(),
            ids: Ids::default(),
        }
    }
    pub(super) fn h(&mut self, level: u8, text: &str) {
        let anchor = self.ids.get(&format!("sec-{text}"));
        self.blocks.push(Block::Heading {
            level,
            text: text.to_owned(),
            anchor,
        });
    }
    pub(super) fn text(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Text(t.into()));
    }
    pub(super) fn callout(&mut self, tone: Tone, t: impl Into<String>) {
        self.blocks.push(Block::Callout {
            tone,
            text: t.into(),
        });
    }
    pub(super) fn table(&mut self, id: &str, caption: &str, header: &[(&str, bool)]) -> Table {
        Table::new(&self.ids.get(id), caption, header)
    }
    /// A figure; it shares its table's id (the PNG and the CSV differ in extension).
    pub(super) fn figure(&mut self, caption: &str, plot: PlotSpec, table: Table) {
        self.blocks.push(Block::Figure(Box::new(Figure {
            id: table.id.clone(),
            caption: caption.to_owned(),
            plot,
            table,
        })));
    }
    pub(super) fn doc(self, stem: &'static str, title: String) -> Document {
        Document {
            stem,
            title,
            blocks: self.blocks,
            csv_only: self.csv_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_unique_ids() {
        assert_eq!(slug("usage-loop (loop-lvm)"), "usage-loop-loop-lvm");
        assert_eq!(slug("//"), "x");
        let mut ids = Ids::default();
        assert_eq!(ids.get("a b"), "a-b");
        assert_eq!(ids.get("a-b"), "a-b-2");
    }
}

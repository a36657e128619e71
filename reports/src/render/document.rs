//! The laid-out document every renderer walks: headings, notes, key-value blocks,
//! tables and figures (a plot with the table of its data). Built from the model by
//! `layout`; Markdown, HTML and CSV only translate it.

use super::plot_spec::{PlotSpec, Rgb};

/// A report or comparison, laid out.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// File stem of the outputs (`report`, `compare`).
    pub stem: &'static str,
    /// Title.
    pub title: String,
    /// Content in order.
    pub blocks: Vec<Block>,
    /// Tables written to CSV only (raw data too long for a page).
    pub csv_only: Vec<Table>,
}

impl Document {
    /// Every figure, in order.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Figure(f) => Some(&**f),
            _ => None,
        })
    }
    /// Every table written as CSV: tables, figure tables, key-value blocks, CSV-only.
    pub fn csv_tables(&self) -> Vec<Table> {
        let mut out = Vec::new();
        for b in &self.blocks {
            match b {
                Block::Table(t) => out.push(t.clone()),
                Block::Figure(f) => out.push(f.table.clone()),
                Block::KeyValues {
                    id, title, rows, ..
                } => out.push(Table {
                    id: id.clone(),
                    caption: title.clone(),
                    header: vec!["field".into(), "value".into()],
                    numeric: vec![false, false],
                    rows: rows
                        .iter()
                        .map(|(k, v)| vec![Cell::text(k), Cell::text(v)])
                        .collect(),
                }),
                _ => {}
            }
        }
        out.extend(self.csv_only.iter().cloned());
        out
    }
}

/// One piece of content.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A heading; `anchor` is its HTML id.
    Heading {
        level: u8,
        text: String,
        anchor: String,
    },
    /// A paragraph of plain text.
    Text(String),
    /// A note that must be seen.
    Callout { tone: Tone, text: String },
    /// `Key: value` lines, like `docker info`.
    KeyValues {
        id: String,
        title: String,
        rows: Vec<(String, String)>,
        /// Colour of the thing described (a pool), shown beside it where the format can.
        colour: Option<Rgb>,
    },
    /// A table.
    Table(Table),
    /// A plot with its data table.
    Figure(Box<Figure>),
}

/// A table; `id` is its CSV file stem.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub id: String,
    pub caption: String,
    pub header: Vec<String>,
    /// Right-align (numeric) per column.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(id: &str, caption: &str, header: &[(&str, bool)]) -> Table {
        Table {
            id: id.to_owned(),
            caption: caption.to_owned(),
            header: header.iter().map(|(h, _)| (*h).to_owned()).collect(),
            numeric: header.iter().map(|(_, n)| *n).collect(),
            rows: Vec::new(),
        }
    }
}

/// A table cell: display text, a plain value for CSV, and a tone.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    pub text: String,
    /// Machine-readable value for CSV; the display text when `None`.
    pub raw: Option<String>,
    pub tone: Tone,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            raw: None,
            tone: Tone::Plain,
        }
    }
    /// A number shown as `text`, exported as `v`.
    pub fn num(v: f64, text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            raw: Some(thinbench_schema::format::raw(v)),
            tone: Tone::Plain,
        }
    }
    /// An optional number; `n/a` and an empty CSV cell when absent.
    pub fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> Cell {
        match v {
            Some(v) => Cell::num(v, f(v)),
            None => Cell {
                text: "n/a".into(),
                raw: Some(String::new()),
                tone: Tone::Plain,
            },
        }
    }
    pub fn tone(mut self, t: Tone) -> Cell {
        self.tone = t;
        self
    }
    /// What CSV gets.
    pub fn csv(&self) -> &str {
        self.raw.as_deref().unwrap_or(&self.text)
    }
}

/// Emphasis of a cell or note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Plain,
    Good,
    Warn,
    Bad,
}

/// A plot and the table of its data.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    /// File stem of its PNG and id of its SVG.
    pub id: String,
    pub caption: String,
    pub plot: PlotSpec,
    pub table: Table,
}

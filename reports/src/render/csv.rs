//! CSV: one file per table (figure data and key-value blocks included) under `csv/`,
//! with plain numbers (no units in cells; units are in the headers).

use super::document::Document;
use super::renderer::{create_dir, Renderer, Written};
use crate::error::ReportError;
use std::path::Path;

pub(crate) struct CsvRenderer;

impl Renderer for CsvRenderer {
    fn render(&self, doc: &Document, out_dir: &Path) -> Result<Written, ReportError> {
        let dir = out_dir.join("csv");
        create_dir(&dir)?;
        let mut files = Vec::new();
        for t in doc.csv_tables() {
            let path = dir.join(format!("{}.csv", t.id));
            let csv_err = |source| ReportError::Csv {
                path: path.clone(),
                source,
            };
            let mut w = csv::Writer::from_path(&path).map_err(csv_err)?;
            w.write_record(&t.header).map_err(csv_err)?;
            for r in &t.rows {
                w.write_record(r.iter().map(|c| c.csv())).map_err(csv_err)?;
            }
            w.flush().map_err(|source| ReportError::Write {
                path: path.clone(),
                source,
            })?;
            files.push(path);
        }
        Ok(Written { main: None, files })
    }
}

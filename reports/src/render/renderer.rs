//! The [`Renderer`] trait every output format implements, what a renderer wrote, and
//! the file-system helpers they share.

use super::document::Document;
use crate::error::ReportError;
use std::path::{Path, PathBuf};

/// What a renderer wrote: its main file (if it has one) and the others.
pub(crate) struct Written {
    pub main: Option<PathBuf>,
    pub files: Vec<PathBuf>,
}

/// Writes a laid-out document in one format.
pub(crate) trait Renderer {
    /// Write `doc` under `out_dir`.
    fn render(&self, doc: &Document, out_dir: &Path) -> Result<Written, ReportError>;
}

pub(crate) fn write_file(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn create_dir(path: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(path).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

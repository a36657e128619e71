//! Errors of loading a scenario: positioned (`FILE:LINE:COL`), with a hint, and always
//! collected into one list so a user sees every mistake in a file at once.
//!
//! Inside the crate, checks report a [`Diagnostic`] carrying a byte span of the scenario
//! text; the loader turns spans into 1-based line:column once, at the end, with
//! [`LineIndex`].

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// Every error found in one scenario file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_list(&self.errors))]
pub struct ScenarioErrors {
    /// The errors; never empty when returned by the loader.
    pub errors: Vec<ScenarioError>,
}

/// One mistake in a scenario file.
///
/// Displays as `FILE:LINE:COL: error: MESSAGE`, plus `\n  hint: HINT` when there is a
/// hint. Line and column are 1-based (the column counts characters); line 0 means the
/// error is about the file as a whole (it could not be read) and displays as
/// `FILE: error: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_one(self))]
pub struct ScenarioError {
    /// The scenario file.
    pub file: PathBuf,
    /// 1-based line; 0 when the error has no position.
    pub line: usize,
    /// 1-based column in characters; 0 when the error has no position.
    pub col: usize,
    /// What is wrong, lowercase, one line.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

fn render_one(e: &ScenarioError) -> String {
    let mut s = if e.line == 0 {
        format!("{}: error: {}", e.file.display(), e.message)
    } else {
        format!(
            "{}:{}:{}: error: {}",
            e.file.display(),
            e.line,
            e.col,
            e.message
        )
    };
    if let Some(h) = &e.hint {
        s.push_str("\n  hint: ");
        s.push_str(h);
    }
    s
}

fn render_list(errors: &[ScenarioError]) -> String {
    errors.iter().map(render_one).collect::<Vec<_>>().join("\n")
}

/// A mistake found while checking the text: where (byte range), what, and a hint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Diagnostic {
    /// Byte range of the offending key or value in the scenario text.
    pub span: Range<usize>,
    /// One line, lowercase.
    pub message: String,
    /// Optional advice.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic without a hint.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            hint: None,
        }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
}

/// Byte offset → 1-based line and character column, for one text.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// Line and column of byte `offset` (clamped to the text; a position inside a
    /// multi-byte character counts as that character).
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // `starts[0] == 0`, so the partition point is at least 1.
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self.text[start..]
            .char_indices()
            .take_while(|(i, c)| start + i + c.len_utf8() <= offset)
            .count();
        (line, col + 1)
    }

    /// The positioned, user-facing form of `d`.
    pub fn error(&self, file: &std::path::Path, d: Diagnostic) -> ScenarioError {
        let (line, col) = self.position(d.span.start);
        ScenarioError {
            file: file.to_path_buf(),
            line,
            col,
            message: one_line(d.message),
            hint: d.hint.map(one_line),
        }
    }
}

/// `s` with control characters escaped (`\n`, `\t`, `\u{1b}`): messages quote values
/// from the file, which TOML strings can fill with newlines and terminal escapes, and a
/// message stays one line.
fn one_line(s: String) -> String {
    if !s.chars().any(char::is_control) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The candidate closest to `word` for a "did you mean" hint: edit distance at most 2
/// (ignoring case; a swap of neighbours counts 1), and at most half the candidate's
/// length so that two-letter keys do not match any two-letter typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let word: Vec<char> = word.to_lowercase().chars().collect();
    candidates
        .iter()
        .map(|c| {
            let cand: Vec<char> = c.to_lowercase().chars().collect();
            (edit_distance(&word, &cand), cand.len(), *c)
        })
        .filter(|&(dist, len, _)| dist <= 2 && dist * 2 <= len)
        .min_by_key(|&(dist, _, _)| dist)
        .map(|(_, _, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    // Rows i-2, i-1 and i of the usual dynamic programme.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            cur[j] = best;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

impl fmt::Debug for LineIndex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineIndex")
            .field("lines", &self.starts.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let idx = LineIndex::new("ab\nçé = 1\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(2), (1, 3)); // the newline itself
        assert_eq!(idx.position(3), (2, 1));
        // `ç` and `é` are two bytes each: byte 7 is the third character.
        assert_eq!(idx.position(7), (2, 3));
        assert_eq!(idx.position(12), (3, 1));
        assert_eq!(idx.position(13), (4, 1));
        assert_eq!(idx.position(14), (4, 2)); // end of text
        assert_eq!(idx.position(999), (4, 2));
        // Inside a multi-byte character: that character's column.
        assert_eq!(idx.position(4), (2, 1));
    }

    #[test]
    fn suggestions() {
        let keys = ["chunk_size", "name", "id", "data_size", "metadata_size"];
        assert_eq!(suggest("chunk_sise", &keys), Some("chunk_size"));
        assert_eq!(suggest("chnuk_size", &keys), Some("chunk_size")); // swap = 1
        assert_eq!(suggest("Name", &keys), Some("name"));
        assert_eq!(suggest("nmae", &keys), Some("name"));
        assert_eq!(suggest("ix", &keys), Some("id"));
        assert_eq!(suggest("xy", &keys), None); // 2 edits on a 2-letter key: noise
        assert_eq!(suggest("chunk", &keys), None);
        assert_eq!(suggest("metadata", &keys), None);
        assert_eq!(suggest("", &keys), None);
        let a: Vec<char> = "kitten".chars().collect();
        let b: Vec<char> = "sitting".chars().collect();
        assert_eq!(edit_distance(&a, &b), 3);
        assert_eq!(edit_distance(&[], &b), 7);
    }

    #[test]
    fn display_formats() {
        let e = ScenarioError {
            file: "s.toml".into(),
            line: 3,
            col: 7,
            message: "bad".into(),
            hint: Some("fix it".into()),
        };
        assert_eq!(e.to_string(), "s.toml:3:7: error: bad\n  hint: fix it");
        let unread = ScenarioError {
            file: "s.toml".into(),
            line: 0,
            col: 0,
            message: "cannot read: gone".into(),
            hint: None,
        };
        assert_eq!(unread.to_string(), "s.toml: error: cannot read: gone");
        let all = ScenarioErrors {
            errors: vec![unread, e],
        };
        assert_eq!(
            all.to_string(),
            "s.toml: error: cannot read: gone\ns.toml:3:7: error: bad\n  hint: fix it"
        );
        let idx = LineIndex::new("a\nb");
        let pe = idx.error(Path::new("f"), Diagnostic::new(2..3, "m"));
        assert_eq!((pe.line, pe.col, pe.hint), (2, 1, None));
    }
}

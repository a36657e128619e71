//! Errors in a text file at `FILE:LINE:COL`, shared by every reader of thinbench's TOML
//! inputs (scenario files, planner plans, `ci/gate.toml`), so that they look alike and
//! keep one promise: **one error, one line** (plus one `  hint:` line).
//!
//! A reader collects [`Diagnostic`]s (a byte span of the text, a message, a hint) while
//! it checks, then turns them into [`Positioned`] errors once, at the end, with a
//! [`LineIndex`] of the text. Messages quote values from the file, and a TOML string can
//! hold newlines and terminal escapes: control characters are escaped (`\n`, `\t`,
//! `\u{1b}`) when an error is made and again when it is shown, so no input can break an
//! error over several lines or colour a terminal.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One mistake in a text file.
///
/// Displays as `FILE:LINE:COL: error: MESSAGE`, plus `\n  hint: HINT` when there is a
/// hint. Line and column are 1-based and the column counts characters (not bytes); line
/// 0 means the error is about the file as a whole (it could not be read) and displays as
/// `FILE: error: MESSAGE`. Control characters in the file name, message and hint are
/// shown escaped, so the error is always one line (two with a hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positioned {
    /// The file, as the user named it.
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

impl Positioned {
    /// An error about `file` as a whole (line and column 0), e.g. it could not be read.
    pub fn whole_file(file: &Path, message: impl Into<String>) -> Positioned {
        Positioned {
            file: file.to_path_buf(),
            line: 0,
            col: 0,
            message: one_line(message.into()),
            hint: None,
        }
    }

    /// `errors` one per line (each hint on the line after its error), for the `Display`
    /// of a list.
    pub fn display_list(errors: &[Positioned]) -> impl fmt::Display + '_ {
        DisplayList(errors)
    }
}

impl Positioned {
    fn write(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        let file = self.file.display().to_string();
        write!(f, "{}", OneLine(&file))?;
        if self.line != 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        write!(f, ": {label}: {}", OneLine(&self.message))?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {}", OneLine(h))?;
        }
        Ok(())
    }

    /// The same shape as an error, labelled `warning:`: something that will run, but
    /// not as the file seems to say.
    pub fn as_warning(&self) -> impl fmt::Display + '_ {
        struct W<'a>(&'a Positioned);
        impl fmt::Display for W<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f, "warning")
            }
        }
        W(self)
    }
}

impl fmt::Display for Positioned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, "error")
    }
}

impl std::error::Error for Positioned {}

struct DisplayList<'e>(&'e [Positioned]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A mistake found while checking a text, before positions are computed: where (a byte
/// range of the text), what, and optionally how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Byte range of the offending key or value in the text.
    pub span: Range<usize>,
    /// What is wrong: one line, lowercase.
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
///
/// Lines end at `\n` (so a CRLF line's `\r` is its last character); the end of the text
/// is a position too (one past its last character), and offsets past it are clamped to
/// it. An offset inside a multi-byte character is that character's position.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// The index of `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based (line, column in characters) of byte `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // `starts[0] == 0`, so the partition point is at least 1.
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        // Characters wholly before `offset`: one inside a character does not count it.
        let col = self.text[start..]
            .char_indices()
            .take_while(|(i, c)| start + i + c.len_utf8() <= offset)
            .count();
        (line, col + 1)
    }

    /// The positioned, user-facing form of `d` (at its span's start), its message and
    /// hint kept to one line.
    pub fn error(&self, file: &Path, d: Diagnostic) -> Positioned {
        let (line, col) = self.position(d.span.start);
        Positioned {
            file: file.to_path_buf(),
            line,
            col,
            message: one_line(d.message),
            hint: d.hint.map(one_line),
        }
    }

    /// [`LineIndex::error`] of each of `diags`, in file order (by span start; a stable
    /// sort, so errors at one position keep the order they were found in).
    pub fn errors(&self, file: &Path, mut diags: Vec<Diagnostic>) -> Vec<Positioned> {
        diags.sort_by_key(|d| d.span.start);
        diags.into_iter().map(|d| self.error(file, d)).collect()
    }
}

impl fmt::Debug for LineIndex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineIndex")
            .field("lines", &self.starts.len())
            .finish()
    }
}

/// `s` with control characters escaped (`\n`, `\t`, `\r`, `\u{1b}`), and the Unicode
/// line and paragraph separators (`\u{2028}`, `\u{2029}`); unchanged (and not copied)
/// when it has none. Escaping twice changes nothing more: the escaped form has none.
pub fn one_line(s: String) -> String {
    if s.chars().any(breaks_line) {
        OneLine(&s).to_string()
    } else {
        s
    }
}

/// A parser's message that may run over several lines (toml's do, with a caret under
/// the text) as one: its non-blank lines, trimmed, joined by `: `.
pub fn fold_lines(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// What [`one_line`] escapes: what a terminal or an editor could take as a line break
/// or a command.
fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Shows a string as [`one_line`] does, without copying it first.
struct OneLine<'s>(&'s str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in self.0.split_inclusive(breaks_line) {
            let mut chars = part.chars();
            match chars.next_back() {
                Some(c) if breaks_line(c) => {
                    f.write_str(chars.as_str())?;
                    write!(f, "{}", c.escape_default())?;
                }
                _ => f.write_str(part)?,
            }
        }
        Ok(())
    }
}

/// The candidate closest to `word` for a "did you mean" hint: edit distance at most 2
/// (ignoring case; a swap of neighbours counts 1), and at most half the candidate's
/// length so that two-letter keys do not match any two-letter typo.
pub fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let idx = LineIndex::new("ab\nçé = 1\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(2), (1, 3)); // the newline itself: the line's end
        assert_eq!(idx.position(3), (2, 1)); // the next line's start
                                             // `ç` and `é` are two bytes each: byte 7 is the third character.
        assert_eq!(idx.position(7), (2, 3));
        assert_eq!(idx.position(12), (3, 1)); // an empty line
        assert_eq!(idx.position(13), (4, 1));
        assert_eq!(idx.position(14), (4, 2)); // end of text
        assert_eq!(idx.position(999), (4, 2)); // past it: clamped
    }

    #[test]
    fn inside_a_multi_byte_character_is_that_character() {
        // `ç` is bytes 3..5, `€` bytes 5..8, `🦀` bytes 8..12.
        let idx = LineIndex::new("ab\nç€🦀z");
        assert_eq!(idx.position(4), (2, 1));
        assert_eq!(idx.position(5), (2, 2));
        assert_eq!(idx.position(6), (2, 2));
        assert_eq!(idx.position(7), (2, 2));
        assert_eq!(idx.position(8), (2, 3));
        assert_eq!(idx.position(11), (2, 3));
        assert_eq!(idx.position(12), (2, 4));
        assert_eq!(idx.position(13), (2, 5)); // end of text
    }

    #[test]
    fn crlf_lines_end_with_their_cr() {
        let text = "a = 1\r\nbé = 2\r\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(5), (1, 6)); // `\r`
        assert_eq!(idx.position(6), (1, 7)); // `\n`
        assert_eq!(idx.position(7), (2, 1));
        let two = text.find("2").unwrap_or_default();
        assert_eq!(idx.position(two), (2, 6));
        assert_eq!(idx.position(text.len()), (3, 1)); // EOF after the last line end
    }

    #[test]
    fn empty_text_and_eof() {
        let idx = LineIndex::new("");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(5), (1, 1));
        let idx = LineIndex::new("\n");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (2, 1));
        // An empty span at EOF (an unterminated table header, say).
        let e = LineIndex::new("x = 1\n[t").error(Path::new("f"), Diagnostic::new(8..8, "m"));
        assert_eq!((e.line, e.col), (2, 3));
    }

    #[test]
    fn display_formats() {
        let e = Positioned {
            file: "s.toml".into(),
            line: 3,
            col: 7,
            message: "bad".into(),
            hint: Some("fix it".into()),
        };
        assert_eq!(e.to_string(), "s.toml:3:7: error: bad\n  hint: fix it");
        let unread = Positioned::whole_file(Path::new("s.toml"), "cannot read: gone");
        assert_eq!(unread.to_string(), "s.toml: error: cannot read: gone");
        assert_eq!(
            Positioned::display_list(&[unread, e]).to_string(),
            "s.toml: error: cannot read: gone\ns.toml:3:7: error: bad\n  hint: fix it"
        );
        assert_eq!(Positioned::display_list(&[]).to_string(), "");
    }

    #[test]
    fn errors_are_sorted_stably_and_made_one_line() {
        let idx = LineIndex::new("a\nb\n");
        let errs = idx.errors(
            Path::new("f"),
            vec![
                Diagnostic::new(2..3, "second"),
                Diagnostic::new(0..1, "first\nline").with_hint("a\tb"),
                Diagnostic::new(2..2, "third"),
            ],
        );
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "f:1:1: error: first\\nline\n  hint: a\\tb",
                "f:2:1: error: second",
                "f:2:1: error: third",
            ]
        );
        assert_eq!(errs[0].message, "first\\nline");
    }

    #[test]
    fn control_characters_never_break_the_line() {
        assert_eq!(one_line("plain ç".into()), "plain ç");
        assert_eq!(
            one_line("a\nb\r\tc\u{1b}[31m\u{7f}\u{85}\u{2028}".into()),
            "a\\nb\\r\\tc\\u{1b}[31m\\u{7f}\\u{85}\\u{2028}"
        );
        // Idempotent: already escaped text is left alone.
        let once = one_line("x\ny".into());
        assert_eq!(one_line(once.clone()), once);
        // Even an error built by hand, not through `LineIndex`, shows one line per
        // error and one per hint.
        let e = Positioned {
            file: "dir\n/f.toml".into(),
            line: 1,
            col: 2,
            message: "no thin named `a\nb`".into(),
            hint: Some("x\r\ny\u{1b}".into()),
        };
        assert_eq!(
            e.to_string(),
            "dir\\n/f.toml:1:2: error: no thin named `a\\nb`\n  hint: x\\r\\ny\\u{1b}"
        );
    }

    #[test]
    fn parser_messages_fold_to_one_line() {
        assert_eq!(
            fold_lines("TOML parse error at line 1\n  |\n1 | x =\n  |    ^\n\ninvalid string\n"),
            "TOML parse error at line 1: |: 1 | x =: |    ^: invalid string"
        );
        assert_eq!(fold_lines(""), "");
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
}

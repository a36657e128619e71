//! Positioned errors (`FILE:LINE:COL: error: MSG`) printed with the source line and a
//! caret under the column, as rustc does, for a person at a terminal (or `--snippets`);
//! tools and tests get the one-line form alone, unchanged.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use annotate_snippets::{Level, Renderer, Snippet};
use thinbench_schema::positioned::Positioned;
use thinbench_schema::untrusted;

/// `--snippets`: show them even when stderr is not a terminal.
static ASKED: AtomicBool = AtomicBool::new(false);

/// Set from the command line.
pub fn ask(yes: bool) {
    ASKED.store(yes, Ordering::Relaxed);
}

/// Print `errors` on stderr: the one-line form, each followed by its snippet when wanted.
pub fn eprint_errors(errors: &[Positioned]) {
    let tty = std::io::stderr().is_terminal();
    if !(tty || ASKED.load(Ordering::Relaxed)) {
        eprintln!("{}", Positioned::display_list(errors));
        return;
    }
    // Each file read once, as hostile input; `None` when it cannot be (then no snippets).
    let mut texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    for e in errors {
        eprintln!("{e}");
        let text = texts
            .entry(e.file.clone())
            .or_insert_with(|| untrusted::read_text(&e.file, untrusted::limit::INPUT_TOML).ok());
        if let Some(s) = text.as_deref().and_then(|t| snippet(e, t, tty)) {
            eprintln!("{s}");
        }
    }
}

/// The source line of `e` in `text` with a caret under its column; `None` for an error
/// without a position or one past the text.
fn snippet(e: &Positioned, text: &str, styled: bool) -> Option<String> {
    if e.line == 0 {
        return None;
    }
    let line = text.lines().nth(e.line - 1)?;
    // The column counts characters; the span is bytes of the line: one character wide,
    // or the line's end when the column is past it.
    let start = line
        .char_indices()
        .nth(e.col.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let end = line[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    let origin = e.file.display().to_string();
    let message = Level::Error.title(&e.message).snippet(
        Snippet::source(line)
            .line_start(e.line)
            .origin(&origin)
            .annotation(Level::Error.span(start..end)),
    );
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let rendered = renderer.render(message).to_string();
    // The title repeats the one-line form printed just before: keep what follows it.
    let (_, rest) = rendered.split_once('\n')?;
    Some(rest.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize) -> Positioned {
        Positioned {
            file: PathBuf::from("s.toml"),
            line,
            col,
            message: "unknown key `nmae`".into(),
            hint: None,
        }
    }

    #[test]
    fn a_caret_under_the_column() {
        let text = "format = 1\nnmae = \"x\"\n";
        let s = snippet(&at(2, 1), text, false).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].ends_with("--> s.toml:2:1"), "{s}");
        assert!(lines.iter().any(|l| l.ends_with("| nmae = \"x\"")), "{s}");
        let caret = lines.iter().find(|l| l.trim_end().ends_with('^')).unwrap();
        let source = lines.iter().find(|l| l.contains("nmae")).unwrap();
        // The caret stands under the column's character.
        assert_eq!(caret.find('^'), source.find('n'));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "name = \"é\" x\n";
        let s = snippet(&at(1, 12), text, false).unwrap();
        let source = s.lines().find(|l| l.contains("name")).unwrap();
        let caret = s.lines().find(|l| l.trim_end().ends_with('^')).unwrap();
        assert_eq!(
            caret.chars().position(|c| c == '^'),
            source.chars().position(|c| c == 'x')
        );
    }

    #[test]
    fn no_snippet_without_a_position_or_past_the_text() {
        assert_eq!(snippet(&at(0, 0), "a = 1\n", false), None);
        assert_eq!(snippet(&at(5, 1), "a = 1\n", false), None);
        // A column past the line's end points at its end rather than failing.
        assert!(snippet(&at(1, 40), "a = 1\n", false).is_some());
    }
}

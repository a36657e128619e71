//! Escaping text for the document formats the results readers write (the report's HTML
//! and Markdown, the gate's Markdown and JUnit XML): one place, so a fix reaches them all.

/// Text for HTML content and attribute values.
pub fn html(s: &str) -> String {
    markup(s, "&#39;", false)
}

/// Text for one cell of a Markdown table: a `|` would end the cell and a newline the row.
pub fn markdown_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('\r', "")
}

/// Text for XML 1.0 attributes and content; the control characters XML forbids even
/// escaped become `?`.
pub fn xml(s: &str) -> String {
    markup(s, "&apos;", true)
}

/// `&`, `<`, `>` and both quotes as entities (`apos` for `'`), and with
/// `replace_controls` the C0 controls other than tab and newlines as `?`.
fn markup(s: &str, apos: &str, replace_controls: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str(apos),
            c if replace_controls && (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                o.push('?')
            }
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html("a < b && \"c\" 'd' >"),
            "a &lt; b &amp;&amp; &quot;c&quot; &#39;d&#39; &gt;"
        );
        assert_eq!(html("plain µs"), "plain µs");
    }

    #[test]
    fn markdown_cells_stay_one_cell() {
        assert_eq!(markdown_cell("a|b\\c\r\nd"), "a\\|b\\\\c d");
    }
}

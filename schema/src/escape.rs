//! Escaping text for the documents the results readers write (the report's HTML and
//! Markdown, the gate's Markdown; the gate's JUnit XML is quick-junit's): one place, so a
//! fix reaches them all.

/// Text for one cell of a Markdown table: a `|` would end the cell and a newline the row.
pub fn markdown_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('\r', "")
}

/// Text for HTML content and attribute values.
pub fn html(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
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

//! Plain-text layout for terminals: wrapped paragraphs and aligned tables (pure).

/// `text` wrapped at `width` columns, every line prefixed with `indent`. Words longer
/// than a line stay whole.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.chars().count() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}

/// `text` wrapped for a place that already has `lead_width` columns in front of its
/// first line; the following lines start with `indent` (a hanging indent, for lists).
pub(crate) fn wrap_hanging(lead_width: usize, text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut used = lead_width;
    let mut first_on_line = true;
    for word in text.split_whitespace() {
        let length = word.chars().count();
        if !first_on_line && used + 1 + length > width {
            out.push('\n');
            out.push_str(indent);
            used = indent.chars().count();
            first_on_line = true;
        }
        if !first_on_line {
            out.push(' ');
            used += 1;
        }
        out.push_str(word);
        used += length;
        first_on_line = false;
    }
    out
}

/// Rows aligned in columns two spaces apart; the last column is not padded.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] - cell.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_the_width_with_the_indent() {
        assert_eq!(wrap("aa bb cc dd", 8, "  "), "  aa bb\n  cc dd");
        assert_eq!(wrap("  ", 8, "  "), "");
        assert_eq!(
            wrap("averyveryverylongword x", 8, ""),
            "averyveryverylongword\nx"
        );
    }

    #[test]
    fn hanging_indents_indent_all_but_the_first_line() {
        assert_eq!(wrap_hanging(2, "aa bb cc dd", 8, "  "), "aa bb\n  cc dd");
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["A".to_owned(), "BB".to_owned(), "C".to_owned()],
            vec!["aaa".to_owned(), "b".to_owned(), "c".to_owned()],
        ];
        assert_eq!(table(&rows), "A    BB  C\naaa  b   c\n");
    }
}

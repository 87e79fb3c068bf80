//! Text for terminals (pure): values made safe to print, then laid out in wrapped
//! paragraphs and aligned tables.
//!
//! Safe: text from a cluster or a file can carry anything. A learner can name an
//! image `x\e[2J\e]0;pwned\a`; printed raw, that clears the instructor's screen and
//! retitles the window. Every control character (C0, DEL, C1 — CSI 0x9b among them —
//! and the bidirectional overrides that reorder what is shown) is written as a visible
//! escape such as `\u001b` instead: JSON's own form, so JSON printed through the
//! `Printer` stays valid JSON with the same values. One function does it; views call it on each value
//! they did not write themselves, and the `Printer` once more on everything it prints.

use std::borrow::Cow;

/// `value` with every control character shown as an escape; newlines and tabs are kept,
/// for values that are legitimately several lines (messages, explanations).
pub(crate) fn clean(value: &str) -> Cow<'_, str> {
    escape(value, Keep::Lines)
}

/// `value` on one line: newlines and tabs are escaped too, so a name cannot forge a
/// line of its own in a table or a list.
pub(crate) fn clean_line(value: &str) -> Cow<'_, str> {
    escape(value, Keep::Nothing)
}

/// Text a view has already drawn: the colour sequences the view added (`ESC [ … m`)
/// pass, every other control character is escaped. The `Printer`'s last line of
/// defence, for a value a view forgot.
pub(crate) fn clean_styled(text: &str) -> Cow<'_, str> {
    escape(text, Keep::LinesAndColours)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    Lines,
    LinesAndColours,
}

fn escape(value: &str, keep: Keep) -> Cow<'_, str> {
    let unsafe_at = value.char_indices().find(|&(at, c)| {
        !(allowed(c, keep) || keep == Keep::LinesAndColours && colour_len(&value[at..]) > 0)
    });
    let Some((first, _)) = unsafe_at else {
        return Cow::Borrowed(value);
    };
    let mut out = String::with_capacity(value.len() + 8);
    out.push_str(&value[..first]);
    let mut rest = &value[first..];
    while let Some(c) = rest.chars().next() {
        let colour = if keep == Keep::LinesAndColours {
            colour_len(rest)
        } else {
            0
        };
        if colour > 0 {
            out.push_str(&rest[..colour]);
            rest = &rest[colour..];
            continue;
        }
        if allowed(c, keep) {
            out.push(c);
        } else {
            // Every character escaped is in the BMP, so four digits hold it.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

fn allowed(c: char, keep: Keep) -> bool {
    match c {
        '\n' | '\t' => keep != Keep::Nothing,
        // C0, DEL and C1 (U+0080–U+009F, where 0x9b is a one-byte CSI).
        _ if c.is_control() => false,
        // Bidirectional embeddings, overrides and isolates: they reorder what is shown.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => false,
        _ => true,
    }
}

/// The length of a colour (SGR) sequence at the start of `text`: `ESC [`, digits and
/// semicolons, `m`; 0 when `text` does not start with one.
fn colour_len(text: &str) -> usize {
    let Some(rest) = text.strip_prefix("\u{1b}[") else {
        return 0;
    };
    let parameters = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    if parameters <= 32 && rest.as_bytes().get(parameters) == Some(&b'm') {
        2 + parameters + 1
    } else {
        0
    }
}

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

    /// An image name a learner chose: clear the screen, retitle the window (OSC … BEL and
    /// OSC … ST), a one-byte CSI, a carriage return that overwrites the line.
    const HOSTILE: &str =
        "postgres\u{1b}[2J\u{1b}]0;pwned\u{7}:17\u{1b}]2;t\u{1b}\\\u{9b}31m\rok\u{202e}";

    #[test]
    fn every_control_character_is_shown_not_obeyed() {
        let cleaned = clean_line(HOSTILE);
        assert_eq!(
            cleaned,
            "postgres\\u001b[2J\\u001b]0;pwned\\u0007:17\\u001b]2;t\\u001b\\\\u009b31m\\u000dok\\u202e"
        );
        assert!(!cleaned.chars().any(char::is_control));
    }

    #[test]
    fn lines_and_tabs_stay_where_they_belong() {
        assert_eq!(clean("a\n\tb\u{7}"), "a\n\tb\\u0007");
        assert_eq!(clean_line("a\n\tb"), "a\\u000a\\u0009b");
        assert!(matches!(clean("plain ✓ text"), Cow::Borrowed(_)));
    }

    /// JSON printed through the `Printer` (`-o json`) stays JSON, with the same values.
    #[test]
    fn json_with_control_characters_stays_the_same_json() {
        let json = serde_json::json!({ "image": HOSTILE }).to_string();
        let cleaned = clean_styled(&json);
        assert!(!cleaned.chars().any(char::is_control), "{cleaned}");
        let back: serde_json::Value = serde_json::from_str(&cleaned).expect("still JSON");
        assert_eq!(back["image"], HOSTILE);
    }

    #[test]
    fn drawn_colours_pass_and_everything_else_is_escaped() {
        let drawn = format!("\u{1b}[1mLEARNER\u{1b}[0m {HOSTILE}\n");
        let cleaned = clean_styled(&drawn);
        assert!(cleaned.starts_with("\u{1b}[1mLEARNER\u{1b}[0m postgres\\u001b[2J"));
        assert!(cleaned.ends_with("ok\\u202e\n"));
        assert_eq!(cleaned.matches('\u{1b}').count(), 2, "{cleaned}");
    }
}

//! Shows which lines differ between two rendered manifests — the article's "comment out
//! line 17 / line 20" exercise, done by the tool (pure).

use similar::TextDiff;

/// A unified diff of `old` and `new` with three lines of context, labelled with the
/// variants' names.
pub(crate) fn unified(old_label: &str, old: &str, new_label: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_lines_are_marked() {
        let diff = unified("a", "one\ntwo\nthree\n", "b", "one\n2\nthree\n");
        assert_eq!(
            diff,
            "--- a\n+++ b\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"
        );
    }

    #[test]
    fn equal_texts_give_an_empty_diff() {
        assert_eq!(unified("a", "x\n", "b", "x\n"), "");
    }
}

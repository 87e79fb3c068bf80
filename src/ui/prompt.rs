//! Questions to the user. With `--yes`, or when standard input is not a terminal
//! (unattended classroom setup), the answer is yes without asking.

/// Asks `question` once; `assume_yes` or a non-terminal standard input answers yes.
pub(crate) fn confirm(question: &str, assume_yes: bool, stdin_is_terminal: bool) -> bool {
    if assume_yes || !stdin_is_terminal {
        return true;
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(true)
        .interact()
        .unwrap_or(false)
}

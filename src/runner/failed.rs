//! A command that ran and exited non-zero, told as one error: the command, its exit code
//! and the last lines of its output.

use super::{CommandLine, Output};

/// A command that ran and failed: the command, its exit code and the end of its output,
/// which is where tools put the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{command}` failed{}: {tail}", code.map(|c| format!(" (exit {c})")).unwrap_or_default())]
pub struct Failed {
    pub command: String,
    pub code: Option<i32>,
    /// The last lines of standard error (or of standard output when that is empty).
    pub tail: String,
}

/// How many lines of a failed command's output an error shows.
const TAIL_LINES: usize = 3;

impl Failed {
    pub fn of(command: &CommandLine, output: &Output) -> Self {
        let text = if output.stderr.trim().is_empty() {
            &output.stdout
        } else {
            &output.stderr
        };
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty())
            .collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join(" / ");
        Self {
            command: command.to_string(),
            code: output.code,
            tail: if tail.is_empty() {
                "no output".to_owned()
            } else {
                tail
            },
        }
    }
}

//! What the process learns from its environment, read once at start-up so the rest
//! of the program is a function of it (and tests can build one by hand).

use std::io::IsTerminal;

/// Terminal and colour facts about this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub no_color: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub stdin_is_terminal: bool,
}

impl Environment {
    /// Reads the real process environment.
    pub fn from_process() -> Self {
        Self {
            no_color: std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty()),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
        }
    }

    /// Colour on standard output: only on a terminal, and never under `NO_COLOR`.
    pub const fn stdout_color(&self) -> bool {
        self.stdout_is_terminal && !self.no_color
    }

    /// Colour on standard error, by the same rule.
    pub const fn stderr_color(&self) -> bool {
        self.stderr_is_terminal && !self.no_color
    }
}

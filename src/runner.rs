//! The one place that runs other programs — docker, kind, kubectl, apt-get, sudo. Every
//! command has a timeout, can be shown before it runs (`-v`), and fails with an error
//! that names it. Logic elsewhere takes a `&dyn Runner`, so tests can script it.

mod failed;
mod find;
// Public for the integration tests, which run verbs in-process against it; the binary
// never names it.
#[doc(hidden)]
pub mod scripted;
mod system;

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub use failed::Failed;
pub use find::find_program;
pub use system::{Echo, SystemRunner};

/// A command to run: program, arguments and extra environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// What a finished command printed and how it exited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A command that could not be run to the end.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("`{command}` was not found; is it installed and on PATH?")]
    NotFound { command: String },
    #[error("`{command}` did not finish within {seconds} s and was stopped")]
    TimedOut { command: String, seconds: u64 },
    #[error("cannot run `{command}`: {source}")]
    Io {
        command: String,
        source: std::io::Error,
    },
}

/// Runs commands. `SystemRunner` runs them for real; tests script their own.
pub trait Runner: Sync {
    /// Runs `command` with its output captured; a non-zero exit is not an error here.
    fn run(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError>;

    /// Runs `command` with its output shown to the user (package installs).
    fn run_shown(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError>;

    /// Starts `command` in the background, detached from this process, its output
    /// appended to `log`; returns at once. For daemons such as `dockerd`.
    fn start_detached(&self, command: &CommandLine, log: &Path) -> Result<(), RunError>;

    /// From now on (`on`), runs `docker` and `kind` with the `docker` group in effect
    /// (`sg docker -c …`): the user is in the group, but a new membership counts only
    /// from the next login. Returns false where that is not possible (no `sg`).
    fn docker_group(&self, on: bool) -> bool {
        let _ = on;
        false
    }
}

/// Runs `command` and fails unless it exits 0: the one checked run every caller uses.
pub fn checked(
    runner: &dyn Runner,
    command: &CommandLine,
    timeout: Duration,
) -> anyhow::Result<Output> {
    let output = runner.run(command, timeout)?;
    if output.success() {
        Ok(output)
    } else {
        Err(Failed::of(command, &output).into())
    }
}

/// Runs `command` with its output shown to the user and fails unless it exits 0: the
/// output is on the screen, so the error only points at it.
pub fn checked_shown(
    runner: &dyn Runner,
    command: &CommandLine,
    timeout: Duration,
) -> anyhow::Result<()> {
    let output = runner.run_shown(command, timeout)?;
    if output.success() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("`{command}` failed; its output is above"))
    }
}

impl CommandLine {
    pub fn new<I, S>(program: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            program: program.to_owned(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        }
    }

    /// Adds an environment variable.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The command run as root: unchanged for root, through `sudo` otherwise (with the
    /// extra environment passed on the command line, as sudo resets it).
    pub fn as_root(self, is_root: bool) -> Self {
        if is_root {
            return self;
        }
        let mut args: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        args.push(self.program);
        args.extend(self.args);
        Self {
            program: "sudo".to_owned(),
            args,
            env: Vec::new(),
        }
    }
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl fmt::Display for CommandLine {
    /// The command as one could paste it into a shell.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .chain(std::iter::once(quote(&self.program)))
            .chain(self.args.iter().map(|a| quote(a)));
        f.write_str(&words.collect::<Vec<_>>().join(" "))
    }
}

/// `word` quoted for a POSIX shell when it needs it.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

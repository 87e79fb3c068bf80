//! The one place that runs other programs — docker, kind, kubectl, apt-get, sudo. Every
//! command has a timeout, can be shown before it runs (`-v`), and fails with an error
//! that names it. Logic elsewhere takes a `&dyn Runner`, so tests can script it.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::ui::Printer;

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

/// Runs commands for real through `duct`.
#[derive(Debug)]
pub struct SystemRunner {
    printer: Printer,
    /// Show every command before it runs.
    verbose: bool,
    /// Where sidecar-lab installs kind and kubectl: a program found there is run from
    /// there, even when the directory is not (yet) on PATH.
    bin_dir: Option<std::path::PathBuf>,
    /// PATH, to find programs by absolute path for `sg`, whose shell would search a
    /// different PATH (and miss the bin dir).
    path: Option<String>,
    /// Run docker and kind through `sg docker -c`.
    docker_group: std::sync::atomic::AtomicBool,
}

impl Clone for SystemRunner {
    fn clone(&self) -> Self {
        Self {
            printer: self.printer,
            verbose: self.verbose,
            bin_dir: self.bin_dir.clone(),
            path: self.path.clone(),
            docker_group: std::sync::atomic::AtomicBool::new(
                self.docker_group.load(std::sync::atomic::Ordering::SeqCst),
            ),
        }
    }
}

impl SystemRunner {
    pub const fn new(printer: Printer, verbose: bool) -> Self {
        Self {
            printer,
            verbose,
            bin_dir: None,
            path: None,
            docker_group: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs programs found in `bin_dir` from there; `path` is PATH.
    pub fn preferring(mut self, bin_dir: Option<std::path::PathBuf>, path: Option<String>) -> Self {
        self.bin_dir = bin_dir;
        self.path = path;
        self
    }

    /// `command` as it runs: through `sg docker -c` with the program's absolute path
    /// when the docker group is not in effect in this login yet.
    fn in_group(&self, command: &CommandLine) -> CommandLine {
        let grouped = self.docker_group.load(std::sync::atomic::Ordering::SeqCst)
            && matches!(command.program.as_str(), "docker" | "kind");
        if !grouped {
            return command.clone();
        }
        let program = std::path::PathBuf::from(self.program(command));
        let absolute = if program.is_absolute() {
            Some(program)
        } else {
            crate::install::detect::find_program(&command.program, self.path.as_deref())
        };
        let inner = CommandLine {
            program: absolute.map_or_else(|| command.program.clone(), |p| p.display().to_string()),
            ..command.clone()
        };
        CommandLine::new(
            "sg",
            ["docker".to_owned(), "-c".to_owned(), inner.to_string()],
        )
    }

    /// The program to start. A string, not a path: duct runs a one-component *path*
    /// as `./name` instead of looking it up on PATH.
    fn program(&self, command: &CommandLine) -> std::ffi::OsString {
        let plain = !command.program.contains('/');
        self.bin_dir
            .as_ref()
            .map(|dir| dir.join(&command.program))
            .filter(|path| plain && path.is_file())
            .map_or_else(
                || std::ffi::OsString::from(&command.program),
                std::path::PathBuf::into_os_string,
            )
    }

    fn expression(&self, command: &CommandLine) -> duct::Expression {
        if self.verbose {
            self.printer.note(&format!("$ {command}"));
        }
        let mut expression = duct::cmd(self.program(command), &command.args).unchecked();
        for (name, value) in &command.env {
            expression = expression.env(name, value);
        }
        expression
    }

    fn finish(
        command: &CommandLine,
        handle: std::io::Result<duct::Handle>,
        timeout: Duration,
    ) -> Result<Output, RunError> {
        let handle = handle.map_err(|source| start_error(command, source))?;
        let io = |source| RunError::Io {
            command: command.to_string(),
            source,
        };
        match handle.wait_timeout(timeout).map_err(io)? {
            Some(output) => Ok(Output {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }),
            None => {
                // Best effort: the process may have ended between the wait and the kill.
                let _ = handle.kill();
                Err(RunError::TimedOut {
                    command: command.to_string(),
                    seconds: timeout.as_secs(),
                })
            }
        }
    }
}

impl Runner for SystemRunner {
    fn run(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError> {
        let command = &self.in_group(command);
        let expression = self
            .expression(command)
            .stdin_null()
            .stdout_capture()
            .stderr_capture();
        Self::finish(command, expression.start(), timeout)
    }

    fn run_shown(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError> {
        let command = &self.in_group(command);
        // Shown on standard error, so standard output stays clean for `-o json`; standard
        // input stays connected so that sudo can ask for a password.
        let expression = self.expression(command).stdout_to_stderr();
        Self::finish(command, expression.start(), timeout)
    }

    fn docker_group(&self, on: bool) -> bool {
        let sg = crate::install::detect::find_program("sg", self.path.as_deref()).is_some();
        if sg || !on {
            self.docker_group
                .store(on, std::sync::atomic::Ordering::SeqCst);
        }
        sg
    }

    fn start_detached(&self, command: &CommandLine, log: &Path) -> Result<(), RunError> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| RunError::Io {
                command: command.to_string(),
                source,
            })?;
        let stderr = log_file.try_clone().map_err(|source| RunError::Io {
            command: command.to_string(),
            source,
        })?;
        let mut process = std::process::Command::new(self.program(command));
        process
            .args(&command.args)
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(log_file)
            .stderr(stderr);
        if self.verbose {
            self.printer
                .note(&format!("$ {command} >>{} 2>&1 &", log.display()));
        }
        // The child is not waited for: it is meant to outlive this process.
        process
            .spawn()
            .map(drop)
            .map_err(|source| start_error(command, source))
    }
}

fn start_error(command: &CommandLine, source: std::io::Error) -> RunError {
    if source.kind() == std::io::ErrorKind::NotFound {
        RunError::NotFound {
            command: command.program.clone(),
        }
    } else {
        RunError::Io {
            command: command.to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;

    fn runner() -> SystemRunner {
        let environment = Environment {
            no_color: true,
            ..Environment::default()
        };
        SystemRunner::new(Printer::new(&environment), false)
    }

    #[test]
    fn commands_print_as_pastable_shell() {
        let command =
            CommandLine::new("sh", ["-c", "echo 'hi' there", "plain-word"]).with_env("A", "b c");
        assert_eq!(
            command.to_string(),
            r#"A='b c' sh -c 'echo '\''hi'\'' there' plain-word"#
        );
    }

    #[test]
    fn root_commands_go_through_sudo_with_their_environment() {
        let command = CommandLine::new("apt-get", ["install", "-y", "docker.io"])
            .with_env("DEBIAN_FRONTEND", "noninteractive");
        assert_eq!(command.clone().as_root(true), command);
        assert_eq!(
            command.as_root(false).to_string(),
            "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io"
        );
    }

    #[test]
    fn output_and_exit_codes_are_captured() {
        let output = runner()
            .run(
                &CommandLine::new("sh", ["-c", "echo out; echo err >&2; exit 3"]),
                Duration::from_secs(10),
            )
            .expect("runs");
        assert_eq!(
            output,
            Output {
                code: Some(3),
                stdout: "out\n".into(),
                stderr: "err\n".into()
            }
        );
    }

    #[test]
    fn a_missing_program_is_named() {
        let error = runner()
            .run(
                &CommandLine::new("no-such-program-here", Vec::<String>::new()),
                Duration::from_secs(5),
            )
            .expect_err("missing");
        assert_eq!(
            error.to_string(),
            "`no-such-program-here` was not found; is it installed and on PATH?"
        );
    }

    #[test]
    fn a_hung_command_is_stopped_at_its_timeout() {
        let started = std::time::Instant::now();
        let error = runner()
            .run(
                &CommandLine::new("sleep", ["30"]),
                Duration::from_millis(300),
            )
            .expect_err("times out");
        assert!(matches!(error, RunError::TimedOut { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// A runner for tests: answers from a script of (command prefix → output) and records
/// every command it was asked to run.
#[cfg(test)]
pub mod scripted {
    use std::path::Path;
    use std::sync::Mutex;
    use std::time::Duration;

    use super::{CommandLine, Output, RunError, Runner};

    #[derive(Default)]
    pub struct ScriptedRunner {
        answers: Vec<(String, Result<Output, String>)>,
        pub calls: Mutex<Vec<String>>,
    }

    impl ScriptedRunner {
        /// Commands starting with `prefix` print `stdout` and exit with `code`.
        pub fn answer(mut self, prefix: &str, code: i32, stdout: &str) -> Self {
            let output = Output {
                code: Some(code),
                stdout: stdout.to_owned(),
                stderr: String::new(),
            };
            self.answers.push((prefix.to_owned(), Ok(output)));
            self
        }

        fn reply(&self, command: &CommandLine) -> Result<Output, RunError> {
            let line = command.to_string();
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(line.clone());
            }
            match self
                .answers
                .iter()
                .find(|(prefix, _)| line.starts_with(prefix.as_str()))
            {
                Some((_, Ok(output))) => Ok(output.clone()),
                Some((_, Err(_))) | None => Err(RunError::NotFound {
                    command: command.program.clone(),
                }),
            }
        }
    }

    impl Runner for ScriptedRunner {
        fn run(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
            self.reply(command)
        }

        fn run_shown(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
            self.reply(command)
        }

        fn start_detached(&self, command: &CommandLine, _: &Path) -> Result<(), RunError> {
            self.reply(command).map(drop)
        }
    }
}

//! The runner that starts real processes through `duct`: each command with a timeout that
//! stops it with everything it started, shown first under `-v` through an echo hook (the
//! runner says what runs; the caller decides how that looks), docker and kind through
//! `sg docker` when the group is not in effect yet.
#![allow(
    clippy::disallowed_methods,
    reason = "the process door: the one place that starts programs"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{CommandLine, Output, RunError, Runner, find_program};

/// Where `-v` sends each command line before it runs: the runner does not draw.
pub type Echo = Arc<dyn Fn(&str) + Send + Sync>;

/// Runs commands for real through `duct`.
pub struct SystemRunner {
    /// Shows every command before it runs (`-v`); `None` shows nothing.
    echo: Option<Echo>,
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
            echo: self.echo.clone(),
            bin_dir: self.bin_dir.clone(),
            path: self.path.clone(),
            docker_group: std::sync::atomic::AtomicBool::new(
                self.docker_group.load(std::sync::atomic::Ordering::SeqCst),
            ),
        }
    }
}

impl std::fmt::Debug for SystemRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemRunner")
            .field("echo", &self.echo.is_some())
            .field("bin_dir", &self.bin_dir)
            .field("path", &self.path)
            .field("docker_group", &self.docker_group)
            .finish()
    }
}

impl SystemRunner {
    /// A runner that hands every command line to `echo` before it runs (`-v`).
    pub fn new(echo: Option<Echo>) -> Self {
        Self {
            echo,
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

    /// Hands `line` to the echo hook, if there is one.
    fn show(&self, line: &str) {
        if let Some(echo) = &self.echo {
            echo(line);
        }
    }

    /// `command` as it runs: through `sg docker -c` with the program's absolute path
    /// when the docker group is not in effect in this login yet.
    fn in_group(&self, command: &CommandLine) -> CommandLine {
        let grouped = self.docker_group.load(std::sync::atomic::Ordering::SeqCst)
            && talks_to_docker(&command.program);
        if !grouped {
            return command.clone();
        }
        let program = std::path::PathBuf::from(self.program(command));
        let absolute = if program.is_absolute() {
            Some(program)
        } else {
            find_program(&command.program, self.path.as_deref())
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

    /// `command` as a duct expression; `own_group` starts it as the leader of a process
    /// group of its own, so that a timeout can stop it with everything it started.
    fn expression(&self, command: &CommandLine, own_group: bool) -> duct::Expression {
        self.show(&format!("$ {command}"));
        let mut expression = duct::cmd(self.program(command), &command.args).unchecked();
        for (name, value) in &command.env {
            expression = expression.env(name, value);
        }
        if own_group {
            expression = expression.before_spawn(|process| {
                use std::os::unix::process::CommandExt;
                process.process_group(0);
                Ok(())
            });
        }
        expression
    }

    fn finish(
        command: &CommandLine,
        handle: std::io::Result<duct::Handle>,
        timeout: Duration,
        own_group: bool,
    ) -> Result<Output, RunError> {
        let handle = handle.map_err(|source| start_error(command, source))?;
        // Known to the Ctrl-C handler while it runs: the terminal signals only its own group.
        let group = own_group
            .then(|| handle.pids().first().copied().map(crate::interrupt::group))
            .flatten();
        let child = handle.pids().first().copied();
        let _tree = (!own_group)
            .then(|| child.map(crate::interrupt::tree))
            .flatten();
        let io = |source| RunError::Io {
            command: command.to_string(),
            source,
        };
        if let Some(output) = handle.wait_timeout(timeout).map_err(io)? {
            Ok(Output {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        } else {
            // The whole group, not only the child: kind killed alone leaves its
            // `docker ps` hanging on a daemon that does not answer, for ever.
            if let Some(group) = &group {
                group.kill();
            } else if let Some(child) = child {
                // A child in the terminal's group (sudo asking for a password) cannot
                // be killed by group without this process: kill it and its
                // descendants, found from their parent links.
                crate::interrupt::kill_tree(child);
            }
            // Best effort: the process may have ended between the wait and the kill.
            let _ = handle.kill();
            // Reaped, so no zombie stays; bounded, in case something left the group
            // and still holds the output pipes.
            let _ = handle.wait_timeout(Duration::from_secs(2));
            Err(RunError::TimedOut {
                command: command.to_string(),
                seconds: timeout.as_secs(),
            })
        }
    }
}

impl Runner for SystemRunner {
    fn run(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError> {
        // Nothing new starts once a signal is ending the program.
        crate::interrupt::await_ending();
        let command = &self.in_group(command);
        let expression = self
            .expression(command, true)
            .stdin_null()
            .stdout_capture()
            .stderr_capture();
        Self::finish(command, expression.start(), timeout, true)
    }

    fn run_shown(&self, command: &CommandLine, timeout: Duration) -> Result<Output, RunError> {
        use std::io::IsTerminal;

        crate::interrupt::await_ending();
        let command = &self.in_group(command);
        // Shown on standard error, so standard output stays clean for `-o json`; standard
        // input stays connected so that sudo can ask for a password. On a terminal the
        // child stays in the foreground group: only that group may read the terminal (sudo
        // would be stopped by SIGTTIN), and Ctrl-C reaches it there; a timeout kills it and
        // its descendants by their parent links instead of by group.
        let own_group = !std::io::stdin().is_terminal();
        let expression = self.expression(command, own_group).stdout_to_stderr();
        Self::finish(command, expression.start(), timeout, own_group)
    }

    fn docker_group(&self, on: bool) -> bool {
        let sg = find_program("sg", self.path.as_deref()).is_some();
        if sg || !on {
            self.docker_group
                .store(on, std::sync::atomic::Ordering::SeqCst);
        }
        sg
    }

    fn start_detached(&self, command: &CommandLine, log: &Path) -> Result<(), RunError> {
        crate::interrupt::await_ending();
        let log_file = crate::files::open_for_append(log).map_err(|source| RunError::Io {
            command: command.to_string(),
            source,
        })?;
        let stderr = log_file.try_clone().map_err(|source| RunError::Io {
            command: command.to_string(),
            source,
        })?;
        let mut process = std::process::Command::new(self.program(command));
        // A group of its own: a Ctrl-C at the terminal is not for a daemon meant to stay.
        std::os::unix::process::CommandExt::process_group(&mut process, 0);
        process
            .args(&command.args)
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(log_file)
            .stderr(stderr);
        self.show(&format!("$ {command} >>{} 2>&1 &", log.display()));
        // The child is not waited for: it is meant to outlive this process.
        process
            .spawn()
            .map(drop)
            .map_err(|source| start_error(command, source))
    }
}

/// Whether `program` is docker or kind, by name or by path (the doctor runs the kind it
/// found by its absolute path): both need the docker group's socket.
fn talks_to_docker(program: &str) -> bool {
    Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| matches!(name, "docker" | "kind"))
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

    fn runner() -> SystemRunner {
        SystemRunner::new(None)
    }

    #[test]
    fn every_command_is_handed_to_the_echo_before_it_runs() {
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let heard = Arc::clone(&lines);
        let echo: Echo = Arc::new(move |line: &str| {
            if let Ok(mut lines) = heard.lock() {
                lines.push(line.to_owned());
            }
        });
        let runner = SystemRunner::new(Some(echo));
        let output = runner
            .run(&CommandLine::new("true", ["a b"]), Duration::from_secs(10))
            .expect("runs");
        assert!(output.success());
        assert_eq!(*lines.lock().expect("lines"), ["$ true 'a b'"]);
    }

    #[test]
    fn commands_print_as_pastable_shell() {
        let command =
            CommandLine::new("sh", ["-c", "echo 'hi' there", "plain-word"]).with_env("A", "b c");
        assert_eq!(
            command.to_string(),
            r"A='b c' sh -c 'echo '\''hi'\'' there' plain-word"
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
    fn docker_and_kind_are_known_by_path_too() {
        for program in [
            "docker",
            "kind",
            "/home/u/.local/bin/kind",
            "/usr/bin/docker",
        ] {
            assert!(talks_to_docker(program), "{program}");
        }
        for program in ["kubectl", "/usr/bin/kindle", "sg", "dockerd", ""] {
            assert!(!talks_to_docker(program), "{program}");
        }
    }

    #[test]
    fn kind_by_absolute_path_goes_through_the_docker_group() {
        let runner = runner();
        runner
            .docker_group
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let kind = CommandLine::new("/opt/bin/kind", ["get", "clusters"]);
        assert_eq!(
            runner.in_group(&kind).to_string(),
            "sg docker -c '/opt/bin/kind get clusters'"
        );
        let kubectl = CommandLine::new("/opt/bin/kubectl", ["version"]);
        assert_eq!(runner.in_group(&kubectl), kubectl);
    }

    /// The processes whose process group is `pgid`, from /proc.
    fn members(pgid: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                // pid (comm) state ppid pgrp …: comm may hold spaces, so split after it.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(2))
                    == Some(pgid)
            })
            .collect()
    }

    #[test]
    fn a_timeout_stops_the_child_and_everything_it_started() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pid_file = dir.path().join("pid");
        // The shell writes its pid (its group, as it leads one), then waits on two
        // grandchildren that would outlive a kill of the shell alone.
        let script = format!(
            "echo $$ > '{}'; sleep 30 & sleep 31 & wait",
            pid_file.display()
        );
        let error = runner()
            .run(
                &CommandLine::new("sh", ["-c", script.as_str()]),
                Duration::from_millis(500),
            )
            .expect_err("times out");
        assert!(matches!(error, RunError::TimedOut { .. }), "{error}");
        let pgid = std::fs::read_to_string(&pid_file).expect("pid written");
        let pgid = pgid.trim();
        let started = std::time::Instant::now();
        // SIGKILL is delivered at once, but the kernel reaps orphans a moment later.
        while !members(pgid).is_empty() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(members(pgid), Vec::<String>::new(), "left behind");
    }

    #[test]
    fn a_timeout_in_the_terminals_group_stops_the_descendants_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pid_file = dir.path().join("pids");
        let script = format!(
            "sleep 30 & echo $! > '{0}'; sleep 31 & echo $! >> '{0}'; wait",
            pid_file.display()
        );
        let command = CommandLine::new("sh", ["-c", script.as_str()]);
        let runner = runner();
        // As run_shown starts it on a terminal: in this process's group.
        let expression = runner.expression(&command, false).stdout_capture();
        let error = SystemRunner::finish(
            &command,
            expression.start(),
            Duration::from_millis(500),
            false,
        )
        .expect_err("times out");
        assert!(matches!(error, RunError::TimedOut { .. }), "{error}");
        let pids = std::fs::read_to_string(&pid_file).expect("pids written");
        let pids: Vec<i32> = pids.lines().filter_map(|l| l.trim().parse().ok()).collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        let running = || {
            crate::interrupt::processes()
                .into_iter()
                .filter(|p| pids.contains(&p.pid) && p.state != 'Z')
                .count()
        };
        let started = std::time::Instant::now();
        while running() > 0 && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(running(), 0, "left behind");
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

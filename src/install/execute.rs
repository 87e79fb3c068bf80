//! Carries out host steps through the runner: package installs shown as
//! they run, `dockerd` started in the background where there is no systemd, and a wait
//! until the daemon answers.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::http::HttpClient;
use crate::install::download::{Event, Report};
use crate::install::step::HostStep;
use crate::runner::{CommandLine, Runner};

/// How long a package install may take on a slow network.
const PACKAGE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long the daemon may take to answer after it was started.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs `steps` in order; stops at the first that fails, naming it.
pub(crate) fn steps(
    steps: &[HostStep],
    runner: &dyn Runner,
    client: &HttpClient,
    report: &dyn Report,
    state_dir: &Path,
) -> anyhow::Result<()> {
    // Ask for the sudo password once, up front, where the user can type it: the daemon
    // is later started in the background, where sudo could not ask.
    if steps.iter().any(needs_sudo) {
        run_checked(runner, report, &CommandLine::new("sudo", ["-v"]))?;
    }
    for step in steps {
        match step {
            HostStep::Run(command) => run_checked(runner, report, command)?,
            HostStep::RunConvenienceScript { url, is_root } => {
                report.report(Event::ConvenienceScript);
                // The script is about 25 kB; 1 MiB bounds a hostile answer.
                let script = client.get_text(url, 1024 * 1024)?;
                crate::files::create_dir_all(state_dir)
                    .with_context(|| format!("cannot create `{}`", state_dir.display()))?;
                let path = state_dir.join("get-docker.sh");
                crate::state::write_atomically(&path, script.as_bytes())?;
                let command =
                    CommandLine::new("sh", [path.display().to_string()]).as_root(*is_root);
                run_checked(runner, report, &command)?;
            }
            HostStep::StartDockerd { command, log } => {
                if let Some(dir) = log.parent() {
                    crate::files::create_dir_all(dir)
                        .with_context(|| format!("cannot create `{}`", dir.display()))?;
                }
                report.report(Event::Detached { command, log });
                runner.start_detached(command, log)?;
            }
            HostStep::WriteFile { path, contents } => {
                crate::state::write_atomically(path, contents.as_bytes())?;
            }
            HostStep::WaitForDaemon { through_sudo } => {
                wait_for_daemon(runner, report, *through_sudo, steps)?;
            }
        }
    }
    Ok(())
}

fn needs_sudo(step: &HostStep) -> bool {
    match step {
        HostStep::Run(command) | HostStep::StartDockerd { command, .. } => {
            command.program == "sudo"
        }
        HostStep::RunConvenienceScript { is_root, .. } => !is_root,
        HostStep::WaitForDaemon { through_sudo } => *through_sudo,
        HostStep::WriteFile { .. } => false,
    }
}

fn run_checked(
    runner: &dyn Runner,
    report: &dyn Report,
    command: &CommandLine,
) -> anyhow::Result<()> {
    report.report(Event::Running(command));
    let output = runner.run_shown(command, PACKAGE_TIMEOUT)?;
    if !output.success() {
        let code = output
            .code
            .map_or("a signal".to_owned(), |c| format!("exit code {c}"));
        bail!("`{command}` failed with {code}; its output is above");
    }
    Ok(())
}

fn wait_for_daemon(
    runner: &dyn Runner,
    report: &dyn Report,
    through_sudo: bool,
    steps: &[HostStep],
) -> anyhow::Result<()> {
    let command = CommandLine::new("docker", ["info", "--format", "{{.ServerVersion}}"])
        .as_root(!through_sudo);
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < DAEMON_TIMEOUT {
        match runner.run(&command, Duration::from_secs(10)) {
            Ok(output) if output.success() => {
                report.report(Event::DaemonAnswers(output.stdout.trim()));
                return Ok(());
            }
            Ok(output) => output
                .stderr
                .lines()
                .next()
                .unwrap_or_default()
                .clone_into(&mut last),
            Err(error) => last = error.to_string(),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let log = steps.iter().find_map(|s| match s {
        HostStep::StartDockerd { log, .. } => Some(format!("; its log is `{}`", log.display())),
        _ => None,
    });
    bail!(
        "the Docker daemon did not answer `{command}` within {} s ({last}){}",
        DAEMON_TIMEOUT.as_secs(),
        log.unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;
    use crate::runner::scripted::ScriptedRunner;
    use crate::ui::Printer;

    fn printer() -> Printer {
        Printer::new(&Environment {
            no_color: true,
            ..Environment::default()
        })
    }

    #[test]
    fn sudo_is_asked_for_once_up_front_and_steps_run_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runner = ScriptedRunner::new()
            .ok("sudo", "")
            .ok("docker info", "28.2.2\n");
        let staged = dir.path().join("staged.conf");
        let steps = [
            HostStep::Run(CommandLine::new("sysctl", ["-w", "a=1"]).as_root(false)),
            HostStep::WriteFile {
                path: staged.clone(),
                contents: "a = 1\n".into(),
            },
            HostStep::Run(
                CommandLine::new("install", ["staged.conf", "/etc/x.conf"]).as_root(false),
            ),
        ];
        let client = HttpClient::new().expect("client");
        steps_ok(&steps, &runner, &client, dir.path());
        let calls = runner.calls();
        assert_eq!(
            calls,
            [
                "sudo -v",
                "sudo sysctl -w a=1",
                "sudo install staged.conf /etc/x.conf"
            ]
        );
        assert_eq!(
            crate::files::read_to_string(staged).expect("written"),
            "a = 1\n"
        );
    }

    #[test]
    fn a_failing_step_stops_the_rest_and_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runner = ScriptedRunner::new()
            .answer("apt-get update", 100, "", "")
            .ok("apt-get", "");
        let steps = [
            HostStep::Run(CommandLine::new("apt-get", ["update"])),
            HostStep::Run(CommandLine::new("apt-get", ["install", "-y", "docker.io"])),
        ];
        let client = HttpClient::new().expect("client");
        let error =
            super::steps(&steps, &runner, &client, &printer(), dir.path()).expect_err("fails");
        assert_eq!(
            error.to_string(),
            "`apt-get update` failed with exit code 100; its output is above"
        );
        assert_eq!(runner.calls().len(), 1);
    }

    fn steps_ok(steps: &[HostStep], runner: &ScriptedRunner, client: &HttpClient, dir: &Path) {
        super::steps(steps, runner, client, &printer(), dir).expect("steps run");
    }
}

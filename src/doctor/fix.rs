//! The safe fixes `doctor --fix` applies: the inotify limits (now, and under
//! /etc/sysctl.d/ so they survive a reboot), starting the Docker daemon, and the
//! `docker` group. Pure: checks and host in, commands out; nothing that installs or
//! removes software.

use crate::doctor::gather::Facts;
use crate::doctor::{Check, Status};
use crate::install::detect::DockerStatus;
use crate::install::docker::{self, DockerHost, DockerPlan, DockerSource};
use crate::install::step::HostStep;
use crate::runner::CommandLine;

/// The file the inotify limits are persisted in.
pub(crate) const SYSCTL_FILE: &str = "/etc/sysctl.d/99-sidecar-lab.conf";

const WATCHES: (&str, u64) = ("fs.inotify.max_user_watches", 524_288);
const INSTANCES: (&str, u64) = ("fs.inotify.max_user_instances", 512);

/// One fix: what it repairs, and its commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fix {
    pub check: &'static str,
    pub title: String,
    pub steps: Vec<HostStep>,
}

/// The fixes for the checks that did not pass, in order.
pub(crate) fn plan(checks: &[Check], facts: &Facts, host: &DockerHost) -> Vec<Fix> {
    let needs = |id: &str| {
        checks
            .iter()
            .any(|c| c.id == id && c.status != Status::Pass)
    };
    let mut fixes = Vec::new();
    if needs("inotify-watches") || needs("inotify-instances") {
        // Raise only what is too low; never lower a larger value someone set on purpose.
        let watches = facts.inotify_watches.unwrap_or(0).max(WATCHES.1);
        let instances = facts.inotify_instances.unwrap_or(0).max(INSTANCES.1);
        let settings = [
            format!("{}={watches}", WATCHES.0),
            format!("{}={instances}", INSTANCES.0),
        ];
        let contents = format!(
            "# Raised for kind by sidecar-lab (kind known issues: \"too many open files\").\n{} = {watches}\n{} = {instances}\n",
            WATCHES.0, INSTANCES.0
        );
        let staged = host.state_dir.join("99-sidecar-lab.conf");
        fixes.push(Fix {
            check: "inotify",
            title: format!("raise the inotify limits and keep them in {SYSCTL_FILE}"),
            steps: vec![
                HostStep::Run(
                    CommandLine::new("sysctl", ["-w".to_owned()].into_iter().chain(settings))
                        .as_root(host.is_root),
                ),
                HostStep::WriteFile {
                    path: staged.clone(),
                    contents,
                },
                HostStep::Run(
                    CommandLine::new(
                        "install",
                        ["-m", "0644", &staged.display().to_string(), SYSCTL_FILE],
                    )
                    .as_root(host.is_root),
                ),
            ],
        });
    }
    let fixable = facts.docker.as_ref().filter(|status| {
        matches!(
            status,
            DockerStatus::DaemonDown {
                dockerd_installed: true,
                ..
            } | DockerStatus::PermissionDenied { .. }
        )
    });
    if let Some(status) = fixable {
        if let DockerPlan::Steps { steps, .. } =
            docker::plan(host, status, DockerSource::Distribution)
        {
            let title = match status {
                DockerStatus::PermissionDenied { .. } => "add this user to the `docker` group",
                _ => "start the Docker daemon",
            };
            fixes.push(Fix {
                check: "docker-daemon",
                title: title.to_owned(),
                steps,
            });
        }
    }
    fixes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::checks::{Target, all};
    use crate::platform::Distro;
    use crate::version::MinorVersion;
    use std::path::Path;

    fn host(is_root: bool, systemd: bool) -> DockerHost {
        DockerHost {
            platform: "linux-amd64".parse().expect("platform"),
            distro: Some(Distro::parse_os_release("ID=debian\n")),
            is_root,
            systemd,
            user: (!is_root).then(|| "learner".to_owned()),
            state_dir: "/state".into(),
            dockerd: None,
        }
    }

    fn commands(fixes: &[Fix]) -> Vec<String> {
        fixes
            .iter()
            .flat_map(|f| &f.steps)
            .map(|s| match s {
                HostStep::Run(c) => c.to_string(),
                HostStep::StartDockerd { command, .. } => format!("{command} &"),
                HostStep::WriteFile { path, .. } => format!("write {}", path.display()),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn fixes_for(facts: &Facts, host: &DockerHost) -> Vec<Fix> {
        let target = Target {
            kubernetes: MinorVersion::new(1, 37),
            cluster_name: "sidecar-lab".into(),
        };
        plan(&all(facts, &target), facts, host)
    }

    #[test]
    fn low_inotify_limits_are_raised_and_persisted_through_sudo() {
        let facts = Facts {
            inotify_watches: Some(8192),
            inotify_instances: Some(1024),
            ..Facts::default()
        };
        let commands = commands(&fixes_for(&facts, &host(false, true)));
        assert_eq!(
            commands[0],
            "sudo sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=1024"
        );
        let fixes = fixes_for(&facts, &host(false, true));
        let HostStep::WriteFile { path, contents } = &fixes[0].steps[1] else {
            panic!("{fixes:?}")
        };
        assert_eq!(path, Path::new("/state/99-sidecar-lab.conf"));
        assert!(
            contents.contains(
                "fs.inotify.max_user_watches = 524288\nfs.inotify.max_user_instances = 1024\n"
            ),
            "{contents}"
        );
        assert_eq!(
            commands[2],
            format!("sudo install -m 0644 /state/99-sidecar-lab.conf {SYSCTL_FILE}")
        );
    }

    #[test]
    fn a_stopped_daemon_is_started_without_systemd() {
        let facts = Facts {
            docker: Some(DockerStatus::DaemonDown {
                client: None,
                dockerd_installed: true,
            }),
            inotify_watches: Some(600_000),
            inotify_instances: Some(600),
            ..Facts::default()
        };
        let fixes = fixes_for(&facts, &host(true, false));
        assert_eq!(fixes.len(), 1);
        assert_eq!(fixes[0].title, "start the Docker daemon");
        // The fixture's host is Debian, whose docker.io puts dockerd in /usr/sbin.
        assert_eq!(commands(&fixes)[0], "/usr/sbin/dockerd &");
    }

    #[test]
    fn permission_denied_adds_the_group() {
        let facts = Facts {
            docker: Some(DockerStatus::PermissionDenied { client: None }),
            inotify_watches: Some(600_000),
            inotify_instances: Some(600),
            ..Facts::default()
        };
        let commands = commands(&fixes_for(&facts, &host(false, true)));
        assert_eq!(
            commands[..2],
            ["sudo groupadd -f docker", "sudo usermod -aG docker learner"]
        );
    }

    #[test]
    fn installing_software_is_not_a_doctor_fix() {
        let facts = Facts {
            docker: Some(DockerStatus::Missing),
            inotify_watches: Some(600_000),
            inotify_instances: Some(600),
            ..Facts::default()
        };
        assert!(fixes_for(&facts, &host(true, true)).is_empty());
    }
}

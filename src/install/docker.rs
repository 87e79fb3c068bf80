//! What it takes to get a working Docker daemon on this host: install the package, start
//! the daemon (with systemd, or `dockerd` itself where there is none), give the user the
//! `docker` group. Pure: the host and Docker's status in, steps out.

use std::path::PathBuf;

use crate::install::detect::{DockerStatus, docker_at_least};
use crate::install::step::HostStep;
use crate::platform::{Distro, Os, PackageManager, Platform};
use crate::runner::CommandLine;

/// Where Docker comes from on Debian and Ubuntu.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DockerSource {
    /// The distribution's own `docker.io` package.
    #[default]
    Distribution,
    /// Docker's convenience script from get.docker.com (latest Docker CE).
    GetDockerCom,
}

/// Docker's convenience script.
pub const GET_DOCKER_URL: &str = "https://get.docker.com";

/// The oldest Docker kind supports (kind v0.20 release notes).
pub const MINIMUM_DOCKER: (u32, u32) = (20, 10);

/// The host facts the Docker steps depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerHost {
    pub platform: Platform,
    pub distro: Option<Distro>,
    pub is_root: bool,
    /// True when systemd manages services (`/run/systemd/system` exists).
    pub systemd: bool,
    /// The user to add to the `docker` group (not root).
    pub user: Option<String>,
    /// sidecar-lab's state directory: `dockerd`'s log goes there when sidecar-lab starts it.
    pub state_dir: PathBuf,
    /// Where `dockerd` is, when it is installed (Debian puts it in /usr/sbin, often not
    /// on a user's PATH).
    pub dockerd: Option<PathBuf>,
}

impl DockerHost {
    /// Where `dockerd`'s output goes when sidecar-lab starts it.
    pub fn dockerd_log(&self) -> PathBuf {
        self.state_dir.join("dockerd.log")
    }
}

/// What to do about Docker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerPlan {
    /// Docker runs and answers.
    Fine { server: String },
    /// These steps make it work.
    Steps {
        why: String,
        steps: Vec<HostStep>,
        notes: Vec<String>,
    },
    /// sidecar-lab cannot do it; the reason says what the user can do.
    Cannot(String),
}

/// The Docker plan for `host` given what was found.
pub fn plan(host: &DockerHost, status: &DockerStatus, source: DockerSource) -> DockerPlan {
    let (major, minor) = MINIMUM_DOCKER;
    match status {
        DockerStatus::Running { server, .. } if docker_at_least(server, major, minor) => {
            DockerPlan::Fine {
                server: server.clone(),
            }
        }
        DockerStatus::Running { server, .. } => DockerPlan::Cannot(format!(
            "Docker {server} is older than {major}.{minor}, which kind needs: upgrade it with your package manager"
        )),
        DockerStatus::Broken(message) => DockerPlan::Cannot(format!(
            "{message}; check the daemon (`docker info`) and run again"
        )),
        DockerStatus::PermissionDenied { .. } => {
            let mut steps = group_steps(host);
            steps.push(HostStep::WaitForDaemon { through_sudo: true });
            DockerPlan::Steps {
                why: "the daemon runs, but this user may not use its socket".to_owned(),
                steps,
                notes: vec![group_note()],
            }
        }
        DockerStatus::DaemonDown {
            dockerd_installed: true,
            ..
        } => {
            if host.platform.os == Os::Darwin {
                return DockerPlan::Cannot(MACOS.to_owned());
            }
            let mut steps = start_steps(host);
            steps.extend(group_steps(host));
            steps.push(HostStep::WaitForDaemon {
                through_sudo: !host.is_root,
            });
            DockerPlan::Steps {
                why: "Docker is installed but its daemon is not running".to_owned(),
                steps,
                notes: notes(host),
            }
        }
        DockerStatus::Missing
        | DockerStatus::DaemonDown {
            dockerd_installed: false,
            ..
        } => {
            let why = if *status == DockerStatus::Missing {
                "Docker is not installed"
            } else {
                "only the Docker client is installed, not the daemon"
            };
            install_plan(host, source, why)
        }
    }
}

const MACOS: &str = "on macOS, install Docker Desktop (https://docs.docker.com/desktop/) or colima (`brew install colima docker && colima start`), then run this again";

fn install_plan(host: &DockerHost, source: DockerSource, why: &str) -> DockerPlan {
    if host.platform.os == Os::Darwin {
        return DockerPlan::Cannot(MACOS.to_owned());
    }
    let mut steps = match package_steps(host, source) {
        Ok(steps) => steps,
        Err(reason) => return DockerPlan::Cannot(reason),
    };
    steps.extend(start_steps(host));
    steps.extend(group_steps(host));
    steps.push(HostStep::WaitForDaemon {
        through_sudo: !host.is_root,
    });
    DockerPlan::Steps {
        why: why.to_owned(),
        steps,
        notes: notes(host),
    }
}

/// The steps that install Docker's packages from `source`, or why this host has none.
fn package_steps(host: &DockerHost, source: DockerSource) -> Result<Vec<HostStep>, String> {
    let root = |program: &str, args: &[&str]| {
        HostStep::Run(CommandLine::new(program, args.iter().copied()).as_root(host.is_root))
    };
    let manager = host.distro.as_ref().and_then(Distro::package_manager);
    Ok(match (source, manager) {
        (DockerSource::GetDockerCom, _) => vec![HostStep::RunConvenienceScript {
            url: GET_DOCKER_URL.to_owned(),
            is_root: host.is_root,
        }],
        // On a freshly booted cloud VM unattended-upgrades holds the package lock for
        // minutes: apt waits for it (printing who holds it) instead of failing at once.
        (DockerSource::Distribution, Some(PackageManager::Apt)) => vec![
            root("apt-get", &["-o", APT_LOCK_WAIT, "update"]),
            HostStep::Run(
                CommandLine::new(
                    "apt-get",
                    ["-o", APT_LOCK_WAIT, "install", "-y", "docker.io"],
                )
                .with_env("DEBIAN_FRONTEND", "noninteractive")
                .as_root(host.is_root),
            ),
        ],
        (
            DockerSource::Distribution,
            Some(manager @ (PackageManager::DnfFedora | PackageManager::DnfRhel)),
        ) => dnf_steps(manager, &root),
        (DockerSource::Distribution, None) => {
            let name = host
                .distro
                .as_ref()
                .map_or("this Linux distribution", Distro::name);
            return Err(format!(
                "sidecar-lab does not know how to install Docker on {name}: install it as https://docs.docker.com/engine/install/ describes (or use --docker-source get.docker.com), then run this again"
            ));
        }
    })
}

/// Docker CE from Docker's own repository, added through dnf (Fedora and RHEL spell it
/// differently).
fn dnf_steps(manager: PackageManager, root: &dyn Fn(&str, &[&str]) -> HostStep) -> Vec<HostStep> {
    let add_repo = if manager == PackageManager::DnfFedora {
        root(
            "dnf",
            &[
                "config-manager",
                "addrepo",
                "--overwrite",
                "--from-repofile=https://download.docker.com/linux/fedora/docker-ce.repo",
            ],
        )
    } else {
        root(
            "dnf",
            &[
                "config-manager",
                "--add-repo",
                "https://download.docker.com/linux/rhel/docker-ce.repo",
            ],
        )
    };
    vec![
        root("dnf", &["-y", "install", "dnf-plugins-core"]),
        add_repo,
        root(
            "dnf",
            &[
                "-y",
                "install",
                "docker-ce",
                "docker-ce-cli",
                "containerd.io",
                "docker-buildx-plugin",
                "docker-compose-plugin",
            ],
        ),
    ]
}

/// How long apt waits for the package lock another process holds (seconds).
pub const APT_LOCK_WAIT: &str = "DPkg::Lock::Timeout=600";

/// What to do about a daemon that takes connections but never answers: restart it (with
/// systemd), or stop it so that `sidecar-lab up` starts it again (without).
pub fn hung_daemon_fix(systemd: bool, is_root: bool) -> String {
    let sudo = if is_root { "" } else { "sudo " };
    if systemd {
        format!(
            "Restart the daemon with `{sudo}systemctl restart docker` (its log: `journalctl -u docker`), then run `sidecar-lab up` again"
        )
    } else {
        format!(
            "Stop the daemon with `{sudo}pkill -x dockerd`, then run `sidecar-lab up` again: it starts dockerd (without systemd here)"
        )
    }
}

fn start_steps(host: &DockerHost) -> Vec<HostStep> {
    if host.systemd {
        vec![HostStep::Run(
            CommandLine::new("systemctl", ["enable", "--now", "docker"]).as_root(host.is_root),
        )]
    } else {
        // VMs and containers without systemd are common: start the daemon directly.
        // Debian's and Ubuntu's docker.io install it in /usr/sbin, Docker's packages in
        // /usr/bin; neither need be on this user's PATH.
        let dockerd = host.dockerd.as_ref().map_or_else(
            || match host.distro.as_ref().and_then(Distro::package_manager) {
                Some(PackageManager::Apt) => "/usr/sbin/dockerd".to_owned(),
                _ => "/usr/bin/dockerd".to_owned(),
            },
            |path| path.display().to_string(),
        );
        vec![HostStep::StartDockerd {
            command: CommandLine::new(&dockerd, Vec::<String>::new()).as_root(host.is_root),
            log: host.dockerd_log(),
        }]
    }
}

fn group_steps(host: &DockerHost) -> Vec<HostStep> {
    match (&host.user, host.is_root) {
        (Some(user), false) => vec![
            HostStep::Run(CommandLine::new("groupadd", ["-f", "docker"]).as_root(false)),
            HostStep::Run(
                CommandLine::new("usermod", ["-aG", "docker", user.as_str()]).as_root(false),
            ),
        ],
        _ => Vec::new(),
    }
}

fn group_note() -> String {
    "membership of the `docker` group takes effect at the next login (or in a shell started with `newgrp docker`); until then sidecar-lab runs docker through sudo. The group grants root-level access to the host".to_owned()
}

fn notes(host: &DockerHost) -> Vec<String> {
    let mut notes = Vec::new();
    if !host.systemd {
        notes.push(format!(
            "no systemd here: dockerd is started directly, its log in {}; it does not start again after a reboot",
            host.dockerd_log().display()
        ));
    }
    if !host.is_root && host.user.is_some() {
        notes.push(group_note());
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(distro: &str, is_root: bool, systemd: bool) -> DockerHost {
        DockerHost {
            platform: "linux-amd64".parse().expect("platform"),
            distro: Some(Distro::parse_os_release(distro)),
            is_root,
            systemd,
            user: (!is_root).then(|| "learner".to_owned()),
            state_dir: PathBuf::from("/state"),
            dockerd: None,
        }
    }

    fn commands(plan: &DockerPlan) -> Vec<String> {
        let DockerPlan::Steps { steps, .. } = plan else {
            return vec![format!("{plan:?}")];
        };
        steps
            .iter()
            .map(|step| match step {
                HostStep::Run(command) => command.to_string(),
                HostStep::RunConvenienceScript { url, .. } => format!("script {url}"),
                HostStep::StartDockerd { command, log } => {
                    format!("{command} >>{}", log.display())
                }
                HostStep::WaitForDaemon { through_sudo } => {
                    format!("wait (sudo: {through_sudo})")
                }
                HostStep::WriteFile { path, .. } => format!("write {}", path.display()),
            })
            .collect()
    }

    #[test]
    fn debian_as_root_without_systemd() {
        let plan = plan(
            &host("ID=debian\n", true, false),
            &DockerStatus::Missing,
            DockerSource::Distribution,
        );
        assert_eq!(
            commands(&plan),
            [
                "apt-get -o DPkg::Lock::Timeout=600 update",
                "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y docker.io",
                "/usr/sbin/dockerd >>/state/dockerd.log",
                "wait (sudo: false)",
            ]
        );
    }

    #[test]
    fn ubuntu_as_a_user_with_systemd() {
        let status = DockerStatus::DaemonDown {
            client: None,
            dockerd_installed: false,
        };
        let plan = plan(
            &host("ID=ubuntu\nID_LIKE=debian\n", false, true),
            &status,
            DockerSource::Distribution,
        );
        assert_eq!(
            commands(&plan),
            [
                "sudo apt-get -o DPkg::Lock::Timeout=600 update",
                "sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y docker.io",
                "sudo systemctl enable --now docker",
                "sudo groupadd -f docker",
                "sudo usermod -aG docker learner",
                "wait (sudo: true)",
            ]
        );
    }

    #[test]
    fn fedora_and_rhel_use_dockers_repository() {
        let fedora = commands(&plan(
            &host("ID=fedora\n", true, true),
            &DockerStatus::Missing,
            DockerSource::Distribution,
        ));
        assert!(
            fedora[1].contains("linux/fedora/docker-ce.repo"),
            "{fedora:?}"
        );
        let rhel = commands(&plan(
            &host("ID=rocky\nID_LIKE=\"rhel centos fedora\"\n", true, true),
            &DockerStatus::Missing,
            DockerSource::Distribution,
        ));
        assert!(rhel[1].contains("linux/rhel/docker-ce.repo"), "{rhel:?}");
        assert!(rhel[2].starts_with("dnf -y install docker-ce"), "{rhel:?}");
    }

    #[test]
    fn the_convenience_script_on_request() {
        let plan = plan(
            &host("ID=debian\n", true, true),
            &DockerStatus::Missing,
            DockerSource::GetDockerCom,
        );
        assert_eq!(commands(&plan)[0], "script https://get.docker.com");
    }

    #[test]
    fn a_stopped_daemon_is_only_started() {
        let status = DockerStatus::DaemonDown {
            client: Some("20.10.24".into()),
            dockerd_installed: true,
        };
        assert_eq!(
            commands(&plan(
                &host("ID=debian\n", true, true),
                &status,
                DockerSource::Distribution
            )),
            ["systemctl enable --now docker", "wait (sudo: false)"]
        );
    }

    #[test]
    fn permission_denied_adds_the_group_and_says_a_login_is_needed() {
        let plan = plan(
            &host("ID=debian\n", false, true),
            &DockerStatus::PermissionDenied { client: None },
            DockerSource::Distribution,
        );
        assert_eq!(
            commands(&plan),
            [
                "sudo groupadd -f docker",
                "sudo usermod -aG docker learner",
                "wait (sudo: true)"
            ]
        );
        let DockerPlan::Steps { notes, .. } = plan else {
            panic!("steps")
        };
        assert!(notes[0].contains("next login") && notes[0].contains("newgrp docker"));
    }

    #[test]
    fn what_sidecar_lab_cannot_do_is_explained() {
        let running_old = DockerStatus::Running {
            client: None,
            server: "19.03.15".into(),
        };
        assert!(
            matches!(plan(&host("ID=debian\n", true, true), &running_old, DockerSource::Distribution), DockerPlan::Cannot(m) if m.contains("older than 20.10"))
        );
        let mut mac = host("", false, false);
        mac.platform = "darwin-arm64".parse().expect("platform");
        mac.distro = None;
        assert!(
            matches!(plan(&mac, &DockerStatus::Missing, DockerSource::Distribution), DockerPlan::Cannot(m) if m.contains("Docker Desktop") && m.contains("colima"))
        );
        assert!(
            matches!(plan(&host("ID=arch\n", true, true), &DockerStatus::Missing, DockerSource::Distribution), DockerPlan::Cannot(m) if m.contains("docs.docker.com"))
        );
    }

    #[test]
    fn a_hung_daemon_is_restarted_the_way_this_host_runs_it() {
        insta::assert_snapshot!(
            [
                hung_daemon_fix(true, false),
                hung_daemon_fix(true, true),
                hung_daemon_fix(false, false),
            ]
            .join("\n"),
            @r"
        Restart the daemon with `sudo systemctl restart docker` (its log: `journalctl -u docker`), then run `sidecar-lab up` again
        Restart the daemon with `systemctl restart docker` (its log: `journalctl -u docker`), then run `sidecar-lab up` again
        Stop the daemon with `sudo pkill -x dockerd`, then run `sidecar-lab up` again: it starts dockerd (without systemd here)
        "
        );
    }

    #[test]
    fn a_running_daemon_is_fine() {
        let running = DockerStatus::Running {
            client: None,
            server: "20.10.24+dfsg1".into(),
        };
        assert_eq!(
            plan(
                &host("ID=debian\n", true, true),
                &running,
                DockerSource::Distribution
            ),
            DockerPlan::Fine {
                server: "20.10.24+dfsg1".into()
            }
        );
    }
}

//! What is installed already: Docker (CLI, daemon, access), kind and kubectl with their
//! versions. Interpreting each command's output is pure; `probe` runs the commands.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::runner::{CommandLine, Output, RunError, Runner, find_program};
use crate::version::ReleaseVersion;

/// How long a version command may take: a hung Docker daemon must not hang the lab.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Docker as found on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerStatus {
    /// No `docker` command.
    Missing,
    /// The CLI is there but no daemon answers; `dockerd` may or may not be installed.
    DaemonDown {
        client: Option<String>,
        dockerd_installed: bool,
    },
    /// The daemon runs but this user may not use its socket (not in the `docker` group).
    PermissionDenied { client: Option<String> },
    /// The daemon answers.
    Running {
        client: Option<String>,
        server: String,
    },
    /// Something else went wrong; the message says what.
    Broken(String),
}

/// A kind or kubectl binary that was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// `None` when its version could not be read.
    pub version: Option<ReleaseVersion>,
}

/// Reads `docker version --format '{{json .}}'`: the JSON names the client and (when the
/// daemon answered) the server; standard error tells why the server is missing.
pub fn docker_status(result: &Result<Output, RunError>, dockerd_installed: bool) -> DockerStatus {
    let output = match result {
        Err(RunError::NotFound { .. }) => return DockerStatus::Missing,
        Err(error) => return DockerStatus::Broken(error.to_string()),
        Ok(output) => output,
    };
    let json: Option<serde_json::Value> = output
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok());
    let field = |path: &str| {
        json.as_ref()
            .and_then(|j| j.pointer(path))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let client = field("/Client/Version");
    if let Some(server) = field("/Server/Version") {
        return DockerStatus::Running { client, server };
    }
    let stderr = output.stderr.to_ascii_lowercase();
    if stderr.contains("permission denied") {
        DockerStatus::PermissionDenied { client }
    } else if stderr.contains("cannot connect to the docker daemon")
        || stderr.contains("is the docker daemon running")
        || stderr.contains("no such file or directory")
        || stderr.contains("connection refused")
    {
        DockerStatus::DaemonDown {
            client,
            dockerd_installed,
        }
    } else {
        let first = output
            .stderr
            .lines()
            .next()
            .unwrap_or("no output")
            .trim()
            .to_owned();
        DockerStatus::Broken(format!("`docker version` failed: {first}"))
    }
}

/// True when a Docker server version is at least `major.minor` (`20.10.24+dfsg1` → 20.10).
pub fn docker_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let found_major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let found_minor = parts
        .next()
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(0);
    found_major.is_some_and(|m| (m, found_minor) >= (major, minor))
}

/// Reads `kind version`: `kind v0.32.0 go1.26.3 linux/amd64`.
pub fn kind_version(stdout: &str) -> Option<ReleaseVersion> {
    stdout
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
}

/// Reads `kubectl version --client -o json`: `clientVersion.gitVersion`, such as
/// `v1.37.0` (vendor suffixes like `-eks-1a2b` are dropped).
pub fn kubectl_version(stdout: &str) -> Option<ReleaseVersion> {
    let json: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let git = json.pointer("/clientVersion/gitVersion")?.as_str()?;
    git.split(['-', '+']).next()?.parse().ok()
}

/// Runs `docker version` (stopped after `timeout`) and reads its answer.
pub fn probe_docker(
    runner: &dyn Runner,
    path_var: Option<&str>,
    timeout: Duration,
) -> DockerStatus {
    let docker = runner.run(
        &CommandLine::new("docker", ["version", "--format", "{{json .}}"]),
        timeout,
    );
    docker_status(&docker, find_dockerd(path_var).is_some())
}

/// Finds kind and kubectl — in `bin_dir` first, then on PATH (`path_var`) — and runs
/// their version commands.
pub fn probe_binaries(
    runner: &dyn Runner,
    bin_dir: &Path,
    path_var: Option<&str>,
) -> (Option<Found>, Option<Found>) {
    let found = |name: &str, args: &[&str], parse: fn(&str) -> Option<ReleaseVersion>| {
        let in_bin_dir = bin_dir.join(name);
        let path = if in_bin_dir.is_file() {
            Some(in_bin_dir)
        } else {
            find_program(name, path_var)
        };
        path.map(|path| {
            let output = runner.run(
                &CommandLine::new(&path.display().to_string(), args.iter().copied()),
                PROBE_TIMEOUT,
            );
            let version = output
                .ok()
                .filter(Output::success)
                .and_then(|o| parse(&o.stdout));
            Found { path, version }
        })
    };
    let kind = found("kind", &["version"], kind_version);
    let kubectl = found(
        "kubectl",
        &["version", "--client", "-o", "json"],
        kubectl_version,
    );
    (kind, kubectl)
}

/// `dockerd`: on PATH, or where packages put it (Debian's docker.io in /usr/sbin, which
/// is not on a user's PATH).
pub fn find_dockerd(path_var: Option<&str>) -> Option<PathBuf> {
    let system = "/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin";
    find_program("dockerd", path_var).or_else(|| find_program("dockerd", Some(system)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(code: i32, stdout: &str, stderr: &str) -> Output {
        Output {
            code: Some(code),
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        }
    }

    const CLIENT_ONLY: &str = r#"{"Client":{"Platform":{"Name":""},"Version":"28.2.2","ApiVersion":"1.50","Os":"linux","Arch":"amd64"},"Server":null}"#;

    #[test]
    fn a_running_daemon() {
        let stdout = r#"{"Client":{"Version":"28.2.2"},"Server":{"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}}"#;
        assert_eq!(
            docker_status(&Ok(output(0, stdout, "")), true),
            DockerStatus::Running {
                client: Some("28.2.2".into()),
                server: "20.10.24+dfsg1".into()
            }
        );
    }

    #[test]
    fn the_three_docker_failure_modes_are_told_apart() {
        let missing = Err(RunError::NotFound {
            command: "docker".into(),
        });
        assert_eq!(docker_status(&missing, false), DockerStatus::Missing);

        let down = Ok(output(
            1,
            CLIENT_ONLY,
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
        ));
        assert_eq!(
            docker_status(&down, false),
            DockerStatus::DaemonDown {
                client: Some("28.2.2".into()),
                dockerd_installed: false
            }
        );

        for message in [
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version\": dial unix /var/run/docker.sock: connect: permission denied",
            "permission denied while trying to connect to the Docker API socket at unix:///var/run/docker.sock",
        ] {
            assert_eq!(
                docker_status(&Ok(output(1, CLIENT_ONLY, message)), true),
                DockerStatus::PermissionDenied {
                    client: Some("28.2.2".into())
                }
            );
        }
    }

    #[test]
    fn a_hung_daemon_is_reported_not_waited_for() {
        let hung = Err(RunError::TimedOut {
            command: "docker version".into(),
            seconds: 10,
        });
        assert!(
            matches!(docker_status(&hung, true), DockerStatus::Broken(m) if m.contains("did not finish"))
        );
    }

    #[test]
    fn docker_versions_compare_by_major_and_minor() {
        assert!(docker_at_least("20.10.24+dfsg1", 20, 10));
        assert!(docker_at_least("28.2.2", 20, 10));
        assert!(!docker_at_least("19.03.15", 20, 10));
        assert!(!docker_at_least("", 20, 10));
    }

    #[test]
    fn kind_and_kubectl_versions_are_read() {
        assert_eq!(
            kind_version("kind v0.32.0 go1.26.3 linux/amd64\n").map(|v| v.to_string()),
            Some("v0.32.0".into())
        );
        assert_eq!(
            kind_version("kind v0.33.0-alpha+fed2688 go1.26.7 linux/amd64"),
            None
        );
        let kubectl = r#"{"clientVersion":{"major":"1","minor":"37","gitVersion":"v1.37.0","platform":"linux/amd64"},"kustomizeVersion":"v5.7.1"}"#;
        assert_eq!(
            kubectl_version(kubectl).map(|v| v.to_string()),
            Some("v1.37.0".into())
        );
        let eks = r#"{"clientVersion":{"gitVersion":"v1.30.4-eks-a737599"}}"#;
        assert_eq!(
            kubectl_version(eks).map(|v| v.to_string()),
            Some("v1.30.4".into())
        );
        assert_eq!(kubectl_version("Client Version: v1.37.0"), None);
    }
}

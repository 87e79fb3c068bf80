//! Gathers the facts the checks read: `/proc` and `/sys` values, and the answers of
//! docker, kind, kubectl and df — each command with a short timeout, so a hung daemon
//! is reported rather than waited on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::Environment;
use crate::install::detect::{self, DockerStatus, Found};
use crate::platform::Platform;
use crate::runner::{CommandLine, Output, Runner};

/// How long each probe may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// The facts about the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The platform, or why it is not supported.
    pub platform: Option<Result<Platform, String>>,
    pub cpus: Option<usize>,
    /// `MemTotal` from /proc/meminfo, in KiB.
    pub memory_kib: Option<u64>,
    /// Free space where Docker keeps (or would keep) its data.
    pub disk: Option<DiskFree>,
    pub docker: Option<DockerStatus>,
    /// `docker info --format '{{json .}}'`, when the daemon answered.
    pub docker_info: Option<serde_json::Value>,
    /// `stat -f -c %T /sys/fs/cgroup`: `cgroup2fs` on cgroup v2.
    pub cgroup_fs: Option<String>,
    pub inotify_watches: Option<u64>,
    pub inotify_instances: Option<u64>,
    pub kind: Option<Found>,
    pub kubectl: Option<Found>,
    /// `kind get clusters`, when kind runs.
    pub kind_clusters: Option<Vec<String>>,
    pub proxy: Vec<(String, String)>,
    /// `/etc/docker/daemon.json`.
    pub daemon_json: Option<String>,
    /// `/proc/version`.
    pub kernel: Option<String>,
    pub is_root: bool,
}

/// Free space on the file system of `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskFree {
    pub path: PathBuf,
    pub free_kib: u64,
}

/// Gathers everything; `bin_dir` is where sidecar-lab installs kind and kubectl.
pub(crate) fn gather(environment: &Environment, runner: &dyn Runner, bin_dir: &Path) -> Facts {
    let path = environment.path.as_deref();
    let read = |file: &str| crate::files::read_to_string(file).ok();
    let number = |file: &str| read(file).and_then(|text| text.trim().parse().ok());
    let platform = match &environment.platform_override {
        Some(text) => text.parse::<Platform>().map_err(|e| e.to_string()),
        None => Platform::of_this_build().map_err(|e| e.to_string()),
    };
    let mut docker = detect::probe_docker(runner, path, TIMEOUT);
    // A user just added to the docker group has it only from the next login: docker and
    // kind (by any path) then go through `sg docker`, for the doctor as for `up`. The
    // socket's refusal is still reported, so the login's missing group is said.
    let refused = matches!(docker, DockerStatus::PermissionDenied { .. });
    if refused && runner.docker_group(true) {
        match detect::probe_docker(runner, path, TIMEOUT) {
            DockerStatus::Running { .. } => {}
            other => {
                runner.docker_group(false);
                docker = other;
            }
        }
    }
    let answers = matches!(docker, DockerStatus::Running { .. }) || refused;
    // Ask the daemon more only when it answered: a hung daemon costs one timeout, not two.
    let docker_info = matches!(docker, DockerStatus::Running { .. })
        .then(|| run(runner, &["docker", "info", "--format", "{{json .}}"]))
        .flatten()
        .and_then(|out| serde_json::from_str(out.stdout.trim()).ok());
    let docker_root = docker_info
        .as_ref()
        .and_then(|info: &serde_json::Value| info.get("DockerRootDir")?.as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/lib/docker"));
    let (kind, kubectl) = detect::probe_binaries(runner, bin_dir, path);
    // kind asks the daemon too: one that did not answer is not asked again (a hung one
    // would cost another timeout, and leave kind's own `docker ps` behind).
    let kind_clusters = kind.as_ref().filter(|_| answers).and_then(|found| {
        let out = run(
            runner,
            &[&found.path.display().to_string(), "get", "clusters"],
        )?;
        out.success().then(|| {
            out.stdout
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
    });
    Facts {
        platform: Some(platform),
        cpus: std::thread::available_parallelism().ok().map(usize::from),
        memory_kib: read("/proc/meminfo").and_then(|text| meminfo_total(&text)),
        disk: disk_free(runner, &docker_root),
        docker: Some(docker),
        docker_info,
        cgroup_fs: run(runner, &["stat", "-f", "-c", "%T", "/sys/fs/cgroup"])
            .filter(Output::success)
            .map(|out| out.stdout.trim().to_owned()),
        inotify_watches: sysctl(runner, "fs.inotify.max_user_watches")
            .or_else(|| number("/proc/sys/fs/inotify/max_user_watches")),
        inotify_instances: sysctl(runner, "fs.inotify.max_user_instances")
            .or_else(|| number("/proc/sys/fs/inotify/max_user_instances")),
        kind,
        kubectl,
        kind_clusters,
        proxy: environment.proxy.clone(),
        daemon_json: read("/etc/docker/daemon.json"),
        kernel: read("/proc/version"),
        is_root: run(runner, &["id", "-u"]).is_some_and(|out| out.stdout.trim() == "0"),
    }
}

/// `sysctl -n KEY` as a number (absent on hosts without the key, such as macOS).
fn sysctl(runner: &dyn Runner, key: &str) -> Option<u64> {
    run(runner, &["sysctl", "-n", key])
        .filter(Output::success)
        .and_then(|out| out.stdout.trim().parse().ok())
}

fn run(runner: &dyn Runner, words: &[&str]) -> Option<Output> {
    let (program, args) = words.split_first()?;
    runner
        .run(&CommandLine::new(program, args.iter().copied()), TIMEOUT)
        .ok()
}

/// `MemTotal` in KiB from the text of /proc/meminfo.
pub(crate) fn meminfo_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// Free KiB from `df -Pk` output (the fourth column of the second line).
pub(crate) fn df_available(text: &str) -> Option<u64> {
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// Free space at `path`, or at its nearest existing ancestor (Docker's data directory
/// may not exist yet).
fn disk_free(runner: &dyn Runner, path: &Path) -> Option<DiskFree> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let out = run(runner, &["df", "-Pk", &existing.display().to_string()])?;
    Some(DiskFree {
        path: existing.to_path_buf(),
        free_kib: df_available(&out.stdout)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_df_are_read() {
        assert_eq!(
            meminfo_total("MemTotal:       24683656 kB\nMemFree: 1 kB\n"),
            Some(24_683_656)
        );
        assert_eq!(meminfo_total("nothing"), None);
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 15085716  80200172      16% /var/lib/docker\n";
        assert_eq!(df_available(df), Some(80_200_172));
        assert_eq!(df_available("Filesystem\n"), None);
    }
}

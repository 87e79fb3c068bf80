//! Each check as a pure function of the gathered facts and the lab's target (Kubernetes
//! minor, cluster name). Thresholds: kind's known issues and release notes
//! (install-facts.md §3).

use crate::doctor::gather::Facts;
use crate::doctor::{Check, Status};
use crate::install::detect::{DockerStatus, Found, docker_at_least};
use crate::platform::Os;
use crate::version::MinorVersion;

/// What the lab will create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub kubernetes: MinorVersion,
    pub cluster_name: String,
}

/// The ids of the checks every report has, in order; others (`docker-init`, `wsl`,
/// `docker-rootless`, `docker-image-store`) appear only when they apply.
pub const ALWAYS: [&str; 13] = [
    "os-arch",
    "cpus",
    "memory",
    "disk",
    "docker-cli",
    "docker-daemon",
    "cgroup",
    "inotify-watches",
    "inotify-instances",
    "kind",
    "kubectl",
    "cluster-name",
    "proxy",
];

/// Every check, in a fixed order.
pub fn all(facts: &Facts, target: &Target) -> Vec<Check> {
    let mut checks = vec![
        os_arch(facts),
        cpus(facts),
        memory(facts),
        disk(facts),
        docker_cli(facts),
        docker_daemon(facts),
        cgroup(facts, target),
        inotify_watches(facts),
        inotify_instances(facts),
        tool("kind", facts.kind.as_ref(), None),
        tool("kubectl", facts.kubectl.as_ref(), Some(target.kubernetes)),
        cluster_name(facts, target),
        proxy(facts),
    ];
    checks.extend(extras(facts));
    checks
}

const GIB: u64 = 1024 * 1024;

fn os_arch(facts: &Facts) -> Check {
    match &facts.platform {
        Some(Ok(platform)) => Check::pass(
            "os-arch",
            format!("{platform}: kind and kubectl are published for it"),
        ),
        Some(Err(reason)) => Check::fail("os-arch", reason.clone(), None),
        None => Check::warn("os-arch", "the platform could not be determined", None),
    }
}

fn cpus(facts: &Facts) -> Check {
    match facts.cpus {
        Some(n) if n >= 2 => Check::pass("cpus", format!("{n} CPUs")),
        Some(n) => Check::fail(
            "cpus",
            format!("{n} CPU: a kind control plane needs at least 2"),
            Some("give the VM at least 2 CPUs".into()),
        ),
        None => Check::warn("cpus", "the number of CPUs could not be read", None),
    }
}

fn memory(facts: &Facts) -> Check {
    let fix = Some("give the VM at least 8 GiB of memory".to_owned());
    match facts.memory_kib {
        Some(kib) if kib >= 8 * GIB => {
            Check::pass("memory", format!("{:.1} GiB", kib as f64 / GIB as f64))
        }
        Some(kib) if kib >= 4 * GIB => Check::warn(
            "memory",
            format!(
                "{:.1} GiB: enough, but under 8 GiB the node may be slow to start",
                kib as f64 / GIB as f64
            ),
            fix,
        ),
        Some(kib) => Check::fail(
            "memory",
            format!(
                "{:.1} GiB: a kind cluster needs at least 4 GiB",
                kib as f64 / GIB as f64
            ),
            fix,
        ),
        None if facts
            .platform
            .as_ref()
            .is_some_and(|p| p.as_ref().is_ok_and(|p| p.os == Os::Darwin)) =>
        {
            Check::warn(
                "memory",
                "memory on macOS is the Docker Desktop or colima VM's: give it at least 4 GiB",
                None,
            )
        }
        None => Check::warn("memory", "the amount of memory could not be read", None),
    }
}

fn disk(facts: &Facts) -> Check {
    let Some(disk) = &facts.disk else {
        return Check::warn("disk", "free disk space could not be read", None);
    };
    let free = disk.free_kib as f64 / GIB as f64;
    let fix = Some("free space there, for example with `docker system prune`".to_owned());
    let at = disk.path.display();
    if disk.free_kib < 3 * GIB {
        Check::fail(
            "disk",
            format!("{free:.1} GiB free at {at}: a node image alone takes about 1.5 GiB"),
            fix,
        )
    } else if disk.free_kib < 10 * GIB {
        Check::warn(
            "disk",
            format!(
                "{free:.1} GiB free at {at}: under 10 GiB, kind nodes fail to start rather than evict"
            ),
            fix,
        )
    } else {
        Check::pass("disk", format!("{free:.0} GiB free at {at}"))
    }
}

fn docker_cli(facts: &Facts) -> Check {
    let install = Some("sidecar-lab install docker".to_owned());
    match &facts.docker {
        Some(DockerStatus::Missing) => {
            Check::warn("docker-cli", "Docker is not installed", install)
        }
        Some(
            DockerStatus::Running { client, .. }
            | DockerStatus::DaemonDown { client, .. }
            | DockerStatus::PermissionDenied { client },
        ) => Check::pass(
            "docker-cli",
            format!(
                "docker {}",
                client.as_deref().unwrap_or("(version unknown)")
            ),
        ),
        Some(DockerStatus::Broken(_)) => Check::pass("docker-cli", "docker is installed"),
        None => Check::warn("docker-cli", "not checked", None),
    }
}

fn docker_daemon(facts: &Facts) -> Check {
    let id = "docker-daemon";
    match &facts.docker {
        Some(DockerStatus::Running { server, .. }) if server.starts_with("25.0.0") => Check::warn(
            id,
            format!("Docker {server} answers, but 25.0.0 broke `kind load docker-image` (fixed in 25.0.1)"),
            Some("upgrade Docker to 25.0.1 or later".into()),
        ),
        Some(DockerStatus::Running { server, .. }) if docker_at_least(server, 20, 10) => {
            Check::pass(id, format!("Docker {server} answers"))
        }
        Some(DockerStatus::Running { server, .. }) => Check::fail(
            id,
            format!("Docker {server} is older than 20.10, which kind needs"),
            Some("upgrade Docker with your package manager".into()),
        ),
        Some(DockerStatus::DaemonDown { dockerd_installed: true, .. }) => Check::warn(
            id,
            "the Docker daemon is not running",
            Some("sudo systemctl enable --now docker (without systemd: sudo dockerd &), or sidecar-lab doctor --fix".into()),
        ),
        Some(DockerStatus::DaemonDown { dockerd_installed: false, .. }) => Check::warn(
            id,
            "only the Docker client is installed, not the daemon",
            Some("sidecar-lab install docker".into()),
        ),
        Some(DockerStatus::PermissionDenied { .. }) => Check::warn(
            id,
            "permission denied on the Docker socket: this user is not in the `docker` group yet",
            Some("sudo usermod -aG docker \"$USER\", then log in again (or run `newgrp docker`); or sidecar-lab doctor --fix".into()),
        ),
        Some(DockerStatus::Broken(message)) => Check::fail(
            id,
            format!("the Docker daemon does not answer properly: {message}"),
            Some("look at the daemon's log (`journalctl -u docker`), or restart it: sudo systemctl restart docker".into()),
        ),
        Some(DockerStatus::Missing) => Check::warn(id, "Docker is not installed, so there is no daemon", Some("sidecar-lab install docker".into())),
        None => Check::warn(id, "not checked", None),
    }
}

fn cgroup(facts: &Facts, target: &Target) -> Check {
    let from_docker = facts
        .docker_info
        .as_ref()
        .and_then(|info| info.get("CgroupVersion")?.as_str().map(str::to_owned));
    let version = from_docker.or_else(|| {
        facts.cgroup_fs.as_deref().map(|fs| {
            if fs == "cgroup2fs" {
                "2".to_owned()
            } else {
                "1".to_owned()
            }
        })
    });
    let fix = Some("boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1), or use --kubernetes 1.34 or older".to_owned());
    match version.as_deref() {
        Some("2") => Check::pass("cgroup", "cgroup v2"),
        Some(_) if target.kubernetes >= MinorVersion::new(1, 35) => Check::fail(
            "cgroup",
            format!(
                "cgroup v1: Kubernetes {} node images no longer support it (dropped in 1.35)",
                target.kubernetes
            ),
            fix,
        ),
        Some(_) => Check::warn(
            "cgroup",
            "cgroup v1: deprecated in Kubernetes and kind; v2 is best",
            fix,
        ),
        None if facts
            .platform
            .as_ref()
            .is_some_and(|p| p.as_ref().is_ok_and(|p| p.os == Os::Darwin)) =>
        {
            Check::pass("cgroup", "cgroups are the Docker VM's on macOS")
        }
        None => Check::warn("cgroup", "the cgroup version could not be read", None),
    }
}

/// The inotify fix: both limits, now and at every boot.
pub const INOTIFY_FIX: &str = "sudo sysctl -w fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512, and persist them in /etc/sysctl.d/ (sidecar-lab doctor --fix does both)";

fn inotify_watches(facts: &Facts) -> Check {
    inotify(
        "inotify-watches",
        "fs.inotify.max_user_watches",
        facts.inotify_watches,
        524_288,
    )
}

fn inotify_instances(facts: &Facts) -> Check {
    inotify(
        "inotify-instances",
        "fs.inotify.max_user_instances",
        facts.inotify_instances,
        512,
    )
}

fn inotify(id: &'static str, key: &str, value: Option<u64>, minimum: u64) -> Check {
    match value {
        Some(v) if v >= minimum => Check::pass(id, format!("{key} = {v}")),
        Some(v) => Check::fail(
            id,
            format!(
                "{key} = {v}, under {minimum}: the most common reason kind clusters fail on VMs (\"too many open files\")"
            ),
            Some(INOTIFY_FIX.to_owned()),
        ),
        None => Check::pass(
            id,
            format!("{key} not present (not Linux): nothing to check"),
        ),
    }
}

fn tool(name: &'static str, found: Option<&Found>, kubernetes: Option<MinorVersion>) -> Check {
    let install = Some(format!("sidecar-lab install {name}"));
    let Some(found) = found else {
        return Check::warn(name, format!("{name} is not installed"), install);
    };
    let Some(version) = found.version else {
        return Check::warn(
            name,
            format!("{} does not report a version", found.path.display()),
            install,
        );
    };
    match kubernetes {
        Some(cluster)
            if version.major != cluster.major || version.minor.abs_diff(cluster.minor) > 1 =>
        {
            Check::warn(
                name,
                format!(
                    "kubectl {version} at {} is more than one minor from Kubernetes {cluster}: expect errors",
                    found.path.display()
                ),
                install,
            )
        }
        _ => Check::pass(
            name,
            format!("{name} {version} at {}", found.path.display()),
        ),
    }
}

fn cluster_name(facts: &Facts, target: &Target) -> Check {
    let name = &target.cluster_name;
    match &facts.kind_clusters {
        Some(clusters) if clusters.iter().any(|c| c == name) => Check::pass(
            "cluster-name",
            format!(
                "a kind cluster `{name}` exists: `sidecar-lab up` reuses it (remove it with `kind delete cluster --name {name}`)"
            ),
        ),
        Some(_) => Check::pass("cluster-name", format!("no kind cluster `{name}` yet")),
        None => Check::pass("cluster-name", "kind is not there to ask; nothing to reuse"),
    }
}

fn proxy(facts: &Facts) -> Check {
    if facts.proxy.is_empty() {
        return Check::pass("proxy", "no proxy variables set");
    }
    let names: Vec<&str> = facts.proxy.iter().map(|(name, _)| name.as_str()).collect();
    Check::warn(
        "proxy",
        format!(
            "{} set: kind passes them to the nodes (adding the pod and service ranges to NO_PROXY); dockerd needs its own proxy settings to pull images",
            names.join(", ")
        ),
        Some("for dockerd: a systemd drop-in with Environment=HTTPS_PROXY=… (docs.docker.com: daemon proxy)".into()),
    )
}

/// Cheap checks from kind's known issues that only report when something is off.
fn extras(facts: &Facts) -> Vec<Check> {
    let mut checks = Vec::new();
    if facts.daemon_json.as_deref().is_some_and(|text| {
        serde_json::from_str::<serde_json::Value>(text)
            .is_ok_and(|json| json.get("init") == Some(&serde_json::Value::Bool(true)))
    }) {
        checks.push(Check::fail(
            "docker-init",
            "/etc/docker/daemon.json sets \"init\": true, which breaks kind nodes (\"Couldn't find an alternative telinit implementation\")",
            Some("remove \"init\": true from /etc/docker/daemon.json and restart Docker".into()),
        ));
    }
    if facts
        .kernel
        .as_deref()
        .is_some_and(|k| k.to_ascii_lowercase().contains("microsoft"))
    {
        checks.push(Check::warn(
            "wsl",
            "WSL2: kind may fail with cgroup errors here",
            Some("enable cgroup v2 in WSL2 (see kind's known issues: WSL2)".into()),
        ));
    }
    let info = facts.docker_info.as_ref();
    let rootless = info
        .and_then(|i| i.get("SecurityOptions")?.as_array().cloned())
        .is_some_and(|options| {
            options
                .iter()
                .any(|o| o.as_str().is_some_and(|o| o.contains("name=rootless")))
        });
    if rootless {
        checks.push(Check::warn(
            "docker-rootless",
            "rootless Docker: kind needs cgroup v2 with controller delegation (systemd 252 or later, or a Delegate=yes drop-in)",
            Some("see kind's rootless guide: /etc/systemd/system/user@.service.d/delegate.conf".into()),
        ));
    }
    let containerd_store = info
        .and_then(|i| i.get("DriverStatus"))
        .is_some_and(|status| status.to_string().contains("io.containerd.snapshotter"));
    if containerd_store {
        checks.push(Check {
            id: "docker-image-store",
            status: Status::Pass,
            message: "Docker uses the containerd image store: `kind load docker-image` fails there (kind#3795); sidecar-lab preloads with `kind load image-archive` instead".into(),
            fix: None,
        });
    }
    checks
}

#[cfg(test)]
mod tests;

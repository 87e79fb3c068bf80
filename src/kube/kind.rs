//! The kind commands (pure: built here, run by the runner), and the readers of kind's
//! answers.

use std::path::Path;

use crate::runner::CommandLine;

pub(crate) fn get_clusters() -> CommandLine {
    CommandLine::new("kind", ["get", "clusters"])
}

pub(crate) fn create_cluster(name: &str, config: &Path) -> CommandLine {
    CommandLine::new(
        "kind",
        [
            "create",
            "cluster",
            "--name",
            name,
            "--config",
            &config.display().to_string(),
        ],
    )
}

pub(crate) fn delete_cluster(name: &str) -> CommandLine {
    CommandLine::new("kind", ["delete", "cluster", "--name", name])
}

/// Writes the context `kind-NAME` back into the kubeconfig.
pub(crate) fn export_kubeconfig(name: &str) -> CommandLine {
    CommandLine::new("kind", ["export", "kubeconfig", "--name", name])
}

/// Prints the cluster's kubeconfig without touching the user's (a read).
pub(crate) fn get_kubeconfig(name: &str) -> CommandLine {
    CommandLine::new("kind", ["get", "kubeconfig", "--name", name])
}

pub(crate) fn load_image_archive(name: &str, archive: &Path) -> CommandLine {
    CommandLine::new(
        "kind",
        [
            "load",
            "image-archive",
            &archive.display().to_string(),
            "--name",
            name,
        ],
    )
}

/// What to do when `kind create cluster --name NAME` failed, read from kind's own
/// output (standard error, then standard output). kind's messages: `node(s) already
/// exist for a cluster with the name %q` (pkg/cluster/internal/create/create.go,
/// alreadyExists); `docker run error` wrapping the Docker CLI's own text, such as a
/// container name in use or a port already allocated
/// (pkg/cluster/internal/providers/docker/provision.go, createContainer);
/// `failed to pull image %q` (providers/docker/images.go, pull);
/// `failed to get docker info` (providers/docker/provider.go, Info); `failed to init
/// node with kubeadm` with kubeadm's and the kubelet's output after it
/// (create/actions/kubeadminit). The host's limits (inotify, cgroup v1, disk, memory)
/// are named only when the output points at them.
pub(crate) fn create_advice(name: &str, output: &str) -> String {
    let text = output.to_ascii_lowercase();
    let has = |needle: &str| text.contains(needle);
    let retain = format!(
        "to look inside, run that command again with `--retain`, then `kind export logs --name {name}`"
    );
    if has("already exist for a cluster with the name") {
        format!(
            "a kind cluster `{name}` already exists (another `kind create`, or one left over). Run `sidecar-lab up` again to reuse it, or delete it first: `kind delete cluster --name {name}`"
        )
    } else if has("is already in use by container") {
        let container = output
            .split("container name \"/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map_or_else(|| format!("{name}-control-plane"), str::to_owned);
        format!(
            "a Docker container named `{container}` already exists, left by an earlier run. Remove it with `docker rm -f {container}` (or `kind delete cluster --name {name}`), then run `sidecar-lab up` again"
        )
    } else if has("port is already allocated") || has("address already in use") {
        "a port the node publishes is taken by another program or container. See which with `docker ps` (or `ss -ltnp`), stop it, then run `sidecar-lab up` again".to_owned()
    } else if has("failed to pull image") {
        "kind could not pull its node image: this host cannot reach the registry. Check the network and proxy (dockerd needs its own proxy settings), or bring the image with `sidecar-lab up --bundle DIR`".to_owned()
    } else if has("failed to get docker info") || has("cannot connect to the docker daemon") {
        "kind could not reach the Docker daemon. Run `sidecar-lab doctor` to see why (not running, or this login not yet in the `docker` group)".to_owned()
    } else if has("no space left on device") {
        format!(
            "the disk is full where Docker keeps its data. Free some space (`docker system prune` removes unused images), then run `sidecar-lab up` again; {retain}"
        )
    } else if has("too many open files") || has("inotify") || has("fsnotify") {
        format!(
            "the inotify limits are too low for the node's services. Raise them (`sidecar-lab doctor --fix` does), then run `sidecar-lab up` again; {retain}"
        )
    } else if has("cgroup v1") || has("cgroupv1") || has("cgroups v1") {
        format!(
            "this host runs cgroup v1, which the kubelet of Kubernetes 1.35 and later refuses. Boot with cgroup v2 or choose `--kubernetes 1.34`; {retain}"
        )
    } else if has("cannot allocate memory") || has("out of memory") || has("oom-kill") {
        format!(
            "the host ran out of memory. Stop other containers or give the VM more memory, then run `sidecar-lab up` again; {retain}"
        )
    } else if has("feature gate") {
        format!(
            "the cluster's components refused the kind config's feature gates. Compare the config with `sidecar-lab render config`; {retain}"
        )
    } else {
        format!(
            "kind's output above says why. Run `sidecar-lab doctor` to check the host; {retain}"
        )
    }
}

/// The cluster names in `kind get clusters` output ("No kind clusters found." is none).
pub(crate) fn clusters(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("No kind clusters"))
        .map(str::to_owned)
        .collect()
}

//! The kubectl and kind commands the lab runs, built in one place (pure), and the
//! readers of their answers (pure). Running them is the runner's job.

use std::path::Path;

use crate::runner::CommandLine;
use crate::version::MinorVersion;

/// Where kubectl commands go: a context and a namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub namespace: String,
}

impl Target {
    /// The lab's own kind cluster: context `kind-<name>`.
    pub fn kind(cluster: &str, namespace: &str) -> Self {
        Self {
            context: format!("kind-{cluster}"),
            namespace: namespace.to_owned(),
        }
    }

    fn kubectl<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> CommandLine {
        let mut all = vec!["--context".to_owned(), self.context.clone()];
        all.extend(args.into_iter().map(str::to_owned));
        CommandLine::new("kubectl", all)
    }

    fn namespaced<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> CommandLine {
        let mut all = vec!["--namespace".to_owned(), self.namespace.clone()];
        all.extend(args.into_iter().map(str::to_owned));
        self.kubectl(all.iter().map(String::as_str))
    }

    /// `kubectl version -o json`: the server's version.
    pub fn version(&self) -> CommandLine {
        self.kubectl(["version", "-o", "json"])
    }

    /// The same, through another kubeconfig file (a kind cluster whose context is gone
    /// from the user's kubeconfig, read with `kind get kubeconfig`).
    pub fn version_with(&self, kubeconfig: &Path) -> CommandLine {
        let file = kubeconfig.display().to_string();
        self.kubectl(["--kubeconfig", file.as_str(), "version", "-o", "json"])
    }

    /// The nodes as JSON: readiness and the images the kubelet reports.
    pub fn nodes(&self) -> CommandLine {
        self.kubectl(["get", "nodes", "-o", "json"])
    }

    /// Every pod that may hold a node's resources (not Succeeded, not Failed), in every
    /// namespace: what the scheduler counts against the nodes' allocatable.
    pub fn running_pods(&self) -> CommandLine {
        self.kubectl([
            "get",
            "pods",
            "--all-namespaces",
            "--field-selector=status.phase!=Succeeded,status.phase!=Failed",
            "-o",
            "json",
        ])
    }

    /// The lab's Jobs in the namespace, by name.
    pub fn lab_jobs(&self) -> CommandLine {
        self.namespaced([
            "get",
            "jobs",
            "-l",
            "app.kubernetes.io/part-of=sidecar-lab",
            "-o",
            "name",
        ])
    }

    /// Waits until every node is Ready.
    pub fn wait_nodes_ready(&self, seconds: u64) -> CommandLine {
        let timeout = format!("--timeout={seconds}s");
        self.kubectl([
            "wait",
            "--for=condition=Ready",
            "node",
            "--all",
            timeout.as_str(),
        ])
    }

    /// The contexts of the kubeconfig, one name per line.
    pub fn contexts() -> CommandLine {
        CommandLine::new("kubectl", ["config", "get-contexts", "-o", "name"])
    }

    /// `kubectl get namespace NS`.
    pub fn get_namespace(&self) -> CommandLine {
        self.kubectl(["get", "namespace", self.namespace.as_str(), "-o", "name"])
    }

    /// `kubectl create namespace NS`.
    pub fn create_namespace(&self) -> CommandLine {
        self.kubectl(["create", "namespace", self.namespace.as_str()])
    }

    /// A server-side dry run of creating `manifest`, printing what the server would store.
    /// (The gate check's manifest has a `generateName` of its own, so it never collides
    /// with a step's Job.)
    pub fn dry_run_create(&self, manifest: &Path) -> CommandLine {
        let file = manifest.display().to_string();
        self.namespaced([
            "create",
            "--dry-run=server",
            "-o",
            "json",
            "-f",
            file.as_str(),
        ])
    }

    /// Deletes a Job and its pods, if it exists, and waits until they are gone.
    pub fn delete_job(&self, name: &str) -> CommandLine {
        self.namespaced([
            "delete",
            "job",
            name,
            "--ignore-not-found",
            "--cascade=foreground",
            "--wait=true",
            "--timeout=90s",
        ])
    }

    /// Deletes every object of the lab in the namespace.
    pub fn delete_lab_objects(&self) -> CommandLine {
        self.namespaced([
            "delete",
            "jobs",
            "-l",
            "app.kubernetes.io/part-of=sidecar-lab",
            "--ignore-not-found",
            "--wait=false",
        ])
    }

    /// The Job-pod refusals admission made in the namespace (a quota's `FailedCreate`).
    pub fn failed_create_events(&self) -> CommandLine {
        self.namespaced([
            "get",
            "events",
            "--field-selector",
            "reason=FailedCreate",
            "-o",
            "json",
        ])
    }

    /// A ResourceQuota as JSON (its status says whether the quota controller has read it).
    pub fn get_quota(&self, name: &str) -> CommandLine {
        self.namespaced(["get", "resourcequota", name, "-o", "json"])
    }

    /// Deletes a ResourceQuota, if it exists.
    pub fn delete_quota(&self, name: &str) -> CommandLine {
        self.namespaced(["delete", "resourcequota", name, "--ignore-not-found"])
    }

    /// Suspends a Job (`spec.suspend: true`): the Job controller creates no pod for it
    /// any more, and the Job and its events stay for people to read.
    pub fn suspend_job(&self, name: &str) -> CommandLine {
        self.namespaced([
            "patch",
            "job",
            name,
            "--type=merge",
            "--patch",
            r#"{"spec":{"suspend":true}}"#,
        ])
    }

    /// `kubectl apply -f FILE`.
    pub fn apply(&self, manifest: &Path) -> CommandLine {
        let file = manifest.display().to_string();
        self.namespaced(["apply", "-f", file.as_str()])
    }

    /// One observation of a step: its Job and pods, found by the variant label.
    pub fn observe(&self, variant_label: &str) -> CommandLine {
        self.namespaced(["get", "jobs,pods", "-l", variant_label, "-o", "json"])
    }
}

/// The commands of a class on a shared cluster: reads across namespaces, the apply of
/// the class's objects, tokens and deletion, all on one context.
pub mod class {
    use std::path::Path;

    use crate::runner::CommandLine;

    /// The label selector of everything the lab and its classes create.
    pub const LAB_SELECTOR: &str = "app.kubernetes.io/part-of=sidecar-lab";

    fn kubectl(context: &str, args: &[&str]) -> CommandLine {
        let mut all = vec!["--context", context];
        all.extend_from_slice(args);
        CommandLine::new("kubectl", all)
    }

    /// The context's cluster, with its CA inline: how learners will reach it.
    pub fn cluster_access(context: &str) -> CommandLine {
        kubectl(
            context,
            &["config", "view", "--raw", "--minify", "-o", "json"],
        )
    }

    /// The nodes, for what they can allocate.
    pub fn nodes(context: &str) -> CommandLine {
        kubectl(context, &["get", "nodes", "-o", "json"])
    }

    /// `kubectl version -o json`: the server's version, for the lab's version rules.
    pub fn version(context: &str) -> CommandLine {
        kubectl(context, &["version", "-o", "json"])
    }

    /// Every namespace (names and labels), to see which learner names are taken.
    pub fn namespaces(context: &str) -> CommandLine {
        kubectl(context, &["get", "namespaces", "-o", "json"])
    }

    /// Everything of the class with `label`, in one read: `resources`, comma-separated
    /// (a resource the server does not serve would fail the whole read, so the caller
    /// names only what the cluster has).
    pub fn class_objects(context: &str, label: &str, resources: &str) -> CommandLine {
        let selector = format!("{}={label}", crate::lab::labels::CLASS_LABEL);
        kubectl(
            context,
            &[
                "get",
                resources,
                "--all-namespaces",
                "-l",
                &selector,
                "-o",
                "json",
            ],
        )
    }

    /// The class board's one read per refresh: the learner namespaces and the lab's
    /// Jobs and Pods in every namespace.
    pub fn board(context: &str) -> CommandLine {
        kubectl(
            context,
            &[
                "get",
                "namespaces,jobs.batch,pods",
                "--all-namespaces",
                "-l",
                LAB_SELECTOR,
                "-o",
                "json",
            ],
        )
    }

    /// `kubectl apply -f FILE`.
    pub fn apply(context: &str, manifest: &Path) -> CommandLine {
        let file = manifest.display().to_string();
        kubectl(context, &["apply", "-f", &file])
    }

    /// A time-bound token for the ServiceAccount (TokenRequest API), as JSON.
    pub fn create_token(
        context: &str,
        namespace: &str,
        account: &str,
        seconds: u64,
    ) -> CommandLine {
        let duration = format!("--duration={seconds}s");
        kubectl(
            context,
            &[
                "--namespace",
                namespace,
                "create",
                "token",
                account,
                &duration,
                "-o",
                "json",
            ],
        )
    }

    /// Deletes the namespaces (and everything in them), waiting until they are gone.
    pub fn delete_namespaces(context: &str, names: &[String], seconds: u64) -> CommandLine {
        let timeout = format!("--timeout={seconds}s");
        let mut args = vec!["delete", "namespace", "--ignore-not-found", "--wait=true"];
        args.push(&timeout);
        args.extend(names.iter().map(String::as_str));
        kubectl(context, &args)
    }

    /// Deletes one cluster-wide object.
    pub fn delete_cluster_object(context: &str, resource: &str, name: &str) -> CommandLine {
        kubectl(context, &["delete", resource, name, "--ignore-not-found"])
    }

    /// Deletes one object.
    pub fn delete_object(
        context: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> CommandLine {
        kubectl(
            context,
            &[
                "--namespace",
                namespace,
                "delete",
                resource,
                name,
                "--ignore-not-found",
            ],
        )
    }

    /// The permission a Forbidden answer names: `User "u" cannot list resource "jobs" in
    /// API group "batch" at the cluster scope` → (u, list, jobs.batch, cluster scope).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Missing {
        pub user: String,
        pub verb: String,
        pub resource: String,
        pub scope: String,
    }

    /// Reads the permission out of kubectl's Forbidden error, if it is one.
    pub fn missing_permission(stderr: &str) -> Option<Missing> {
        let rest = &stderr[stderr.find("User \"")? + 6..];
        let user = &rest[..rest.find('"')?];
        let rest = &rest[rest.find(" cannot ")? + 8..];
        let verb = rest.split_whitespace().next()?;
        let rest = &rest[rest.find("resource \"")? + 10..];
        let resource = &rest[..rest.find('"')?];
        let rest = &rest[rest.find("API group \"")? + 11..];
        let group = &rest[..rest.find('"')?];
        let scope = rest[rest.find('"')? + 1..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        Some(Missing {
            user: user.to_owned(),
            verb: verb.to_owned(),
            resource: if group.is_empty() {
                resource.to_owned()
            } else {
                format!("{resource}.{group}")
            },
            scope,
        })
    }
}

/// The kind commands.
pub mod kind {
    use super::*;

    pub fn get_clusters() -> CommandLine {
        CommandLine::new("kind", ["get", "clusters"])
    }

    pub fn create_cluster(name: &str, config: &Path) -> CommandLine {
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

    pub fn delete_cluster(name: &str) -> CommandLine {
        CommandLine::new("kind", ["delete", "cluster", "--name", name])
    }

    /// Writes the context `kind-NAME` back into the kubeconfig.
    pub fn export_kubeconfig(name: &str) -> CommandLine {
        CommandLine::new("kind", ["export", "kubeconfig", "--name", name])
    }

    /// Prints the cluster's kubeconfig without touching the user's (a read).
    pub fn get_kubeconfig(name: &str) -> CommandLine {
        CommandLine::new("kind", ["get", "kubeconfig", "--name", name])
    }

    pub fn load_image_archive(name: &str, archive: &Path) -> CommandLine {
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
    pub fn create_advice(name: &str, output: &str) -> String {
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
    pub fn clusters(stdout: &str) -> Vec<String> {
        stdout
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("No kind clusters"))
            .map(str::to_owned)
            .collect()
    }
}

/// What `kubectl get namespace NS` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceFound {
    Exists,
    Missing,
    /// The user may not read it (RBAC); it may well exist.
    Forbidden(String),
    /// The question failed for another reason.
    Unknown(String),
}

/// Reads the answer to `kubectl get namespace NS -o name`.
pub fn namespace_found(success: bool, stderr: &str) -> NamespaceFound {
    if success {
        NamespaceFound::Exists
    } else if stderr.contains("(NotFound)") {
        NamespaceFound::Missing
    } else if stderr.contains("(Forbidden)") {
        NamespaceFound::Forbidden(stderr.trim().to_owned())
    } else {
        NamespaceFound::Unknown(stderr.trim().to_owned())
    }
}

/// The image names the node's kubelet reports (`status.images[].names`), from
/// `kubectl get nodes -o json`; `None` when the answer is not a node list.
pub fn node_images(stdout: &str) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let mut names = Vec::new();
    for node in json.get("items")?.as_array()? {
        for image in node
            .pointer("/status/images")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            for name in image
                .get("names")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str() {
                    names.push(name.to_owned());
                }
            }
        }
    }
    Some(names)
}

/// containerd's name for an image reference: `postgres:17.5-alpine` is
/// `docker.io/library/postgres:17.5-alpine` on the node.
pub fn full_image_name(image: &str) -> String {
    let tagged = if image.contains('@') || image.rsplit('/').next().is_some_and(|n| n.contains(':'))
    {
        image.to_owned()
    } else {
        format!("{image}:latest")
    };
    let first = tagged.split('/').next().unwrap_or_default();
    if !tagged.contains('/') {
        format!("docker.io/library/{tagged}")
    } else if !first.contains('.') && !first.contains(':') && first != "localhost" {
        format!("docker.io/{tagged}")
    } else {
        tagged
    }
}

/// The server's minor version from `kubectl version -o json`.
pub fn server_minor(stdout: &str) -> Option<MinorVersion> {
    let json: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let git = json.pointer("/serverVersion/gitVersion")?.as_str()?;
    let release: crate::version::ReleaseVersion = git.split(['-', '+']).next()?.parse().ok()?;
    Some(release.minor_version())
}

/// Whether the server kept `restartPolicy: Always` on an init container of the Job it
/// returned from a dry run: `false` means the SidecarContainers gate is off (the API
/// server drops the field silently); `None` when the answer is not a Job.
pub fn native_sidecars_kept(stdout: &str) -> Option<bool> {
    let json: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let init = json
        .pointer("/spec/template/spec/initContainers")?
        .as_array()?;
    Some(
        init.iter()
            .any(|c| c.get("restartPolicy").and_then(serde_json::Value::as_str) == Some("Always")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kind's failures as kind and the Docker CLI word them, each with the advice it gets.
    #[test]
    fn kinds_own_error_decides_the_advice() {
        let kubeadm = "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged sidecar-lab-control-plane kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6\" failed with error: exit status 1\nCommand Output: [kubelet-check] The kubelet is not healthy after 4m0s\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n";
        let cases = [
            ("exists", "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"sidecar-lab\"".to_owned()),
            ("container", " ✗ Preparing nodes 📦\nERROR: failed to create cluster: command \"docker run --name sidecar-lab-control-plane --hostname sidecar-lab-control-plane\" failed with error: exit status 125\nCommand Output: docker: Error response from daemon: Conflict. The container name \"/sidecar-lab-control-plane\" is already in use by container \"3f1c2a\". You have to remove (or rename) that container to be able to reuse that name.".to_owned()),
            ("port", "Command Output: docker: Error response from daemon: driver failed programming external connectivity on endpoint sidecar-lab-control-plane (9a8b): Bind for 127.0.0.1:6443 failed: port is already allocated.".to_owned()),
            ("pull", "ERROR: failed to create cluster: failed to pull image \"kindest/node:v1.37.0\": command \"docker pull kindest/node:v1.37.0\" failed with error: exit status 1".to_owned()),
            ("daemon", "ERROR: failed to create cluster: failed to get docker info: command \"docker info --format '{{json .}}'\" failed with error: exit status 1".to_owned()),
            ("disk", format!("{kubeadm}error: write /var/lib/containerd/io.containerd.content.v1.content/ingest/1/data: no space left on device")),
            ("inotify", format!("{kubeadm}kubelet: failed to create fsnotify watcher: too many open files")),
            ("cgroup v1", format!("{kubeadm}kubelet: kubelet is configured to not run on a host using cgroup v1")),
            ("memory", format!("{kubeadm}fork/exec /usr/bin/kubelet: cannot allocate memory")),
            ("gates", format!("{kubeadm}kubelet: \"command failed\" err=\"failed to set feature gates from initial flags-based config: unrecognized feature gate: SidecarContainers\"")),
            ("kubeadm, no clue", kubeadm.to_owned()),
        ];
        let advice: Vec<String> = cases
            .iter()
            .map(|(what, output)| format!("{what}: {}", kind::create_advice("sidecar-lab", output)))
            .collect();
        insta::assert_snapshot!(advice.join("\n"));
    }

    #[test]
    fn commands_name_the_context_and_namespace() {
        let target = Target::kind("sidecar-lab", "team-a");
        assert_eq!(
            target.observe("sidecar-lab/variant=native").to_string(),
            "kubectl --context kind-sidecar-lab --namespace team-a get jobs,pods -l sidecar-lab/variant=native -o json"
        );
        assert_eq!(
            target.dry_run_create(Path::new("/s/job.yaml")).to_string(),
            "kubectl --context kind-sidecar-lab --namespace team-a create --dry-run=server -o json -f /s/job.yaml"
        );
        assert_eq!(
            kind::create_cluster("lab", Path::new("/s/kind.yaml")).to_string(),
            "kind create cluster --name lab --config /s/kind.yaml"
        );
    }

    #[test]
    fn namespaces_and_images_are_read() {
        assert_eq!(namespace_found(true, ""), NamespaceFound::Exists);
        assert_eq!(
            namespace_found(
                false,
                "Error from server (NotFound): namespaces \"x\" not found"
            ),
            NamespaceFound::Missing
        );
        assert!(matches!(
            namespace_found(
                false,
                "Error from server (Forbidden): namespaces \"x\" is forbidden: User \"u\" cannot get resource"
            ),
            NamespaceFound::Forbidden(_)
        ));
        assert!(matches!(
            namespace_found(false, "The connection to the server was refused"),
            NamespaceFound::Unknown(_)
        ));
        let nodes = r#"{"items":[{"status":{"images":[{"names":["docker.io/library/postgres:17.5-alpine"],"sizeBytes":1}]}}]}"#;
        assert_eq!(
            node_images(nodes),
            Some(vec!["docker.io/library/postgres:17.5-alpine".to_owned()])
        );
        assert_eq!(node_images("not json"), None);
        assert_eq!(
            full_image_name("postgres:17.5-alpine"),
            "docker.io/library/postgres:17.5-alpine"
        );
        assert_eq!(
            full_image_name("bitnami/postgresql:17"),
            "docker.io/bitnami/postgresql:17"
        );
        assert_eq!(
            full_image_name("registry.k8s.io/pause:3.10"),
            "registry.k8s.io/pause:3.10"
        );
        assert_eq!(
            full_image_name("busybox"),
            "docker.io/library/busybox:latest"
        );
    }

    #[test]
    fn a_forbidden_answer_names_the_missing_permission() {
        let stderr = "Error from server (Forbidden): jobs.batch is forbidden: User \"system:serviceaccount:learner-01:learner\" cannot list resource \"jobs\" in API group \"batch\" at the cluster scope\n";
        let missing = class::missing_permission(stderr).expect("read");
        assert_eq!(missing.user, "system:serviceaccount:learner-01:learner");
        assert_eq!(missing.verb, "list");
        assert_eq!(missing.resource, "jobs.batch");
        assert_eq!(missing.scope, "at the cluster scope");
        let core = "pods is forbidden: User \"x\" cannot get resource \"pods\" in API group \"\" in the namespace \"a\"";
        assert_eq!(
            class::missing_permission(core).expect("read").resource,
            "pods"
        );
        assert_eq!(class::missing_permission("connection refused"), None);
    }

    #[test]
    fn answers_are_read() {
        assert_eq!(
            kind::clusters("No kind clusters found.\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            kind::clusters("kind\nsidecar-lab\n"),
            ["kind", "sidecar-lab"]
        );
        let version = r#"{"clientVersion":{"gitVersion":"v1.37.0"},"serverVersion":{"gitVersion":"v1.36.4","platform":"linux/amd64"}}"#;
        assert_eq!(server_minor(version), Some(MinorVersion::new(1, 36)));
        assert_eq!(server_minor("{}"), None);
        let kept = r#"{"kind":"Job","spec":{"template":{"spec":{"initContainers":[{"name":"postgres","restartPolicy":"Always"}]}}}}"#;
        let dropped = r#"{"kind":"Job","spec":{"template":{"spec":{"initContainers":[{"name":"postgres"}]}}}}"#;
        assert_eq!(native_sidecars_kept(kept), Some(true));
        assert_eq!(native_sidecars_kept(dropped), Some(false));
        assert_eq!(native_sidecars_kept("Error from server"), None);
    }
}

//! The kubectl and kind commands the lab runs, built in one place (pure), and the
//! readers of their answers (pure); `Cluster` runs them through the runner, each with
//! its timeout, and hands back typed answers.

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

    /// `kubectl apply --dry-run=server -f FILE`: every check of a real apply (admission,
    /// validation, the fields the server drops), and nothing stored.
    pub fn apply_dry_run(&self, manifest: &Path) -> CommandLine {
        let file = manifest.display().to_string();
        self.namespaced(["apply", "--dry-run=server", "-f", file.as_str()])
    }

    /// One observation of a step: its Job and pods, found by the variant label.
    pub fn observe(&self, variant_label: &str) -> CommandLine {
        self.namespaced(["get", "jobs,pods", "-l", variant_label, "-o", "json"])
    }
}

/// How long one kubectl call may take.
pub(crate) const KUBECTL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) mod class;
pub(crate) mod cluster;
pub(crate) mod kind;
pub(crate) mod progress;

pub(crate) use cluster::Cluster;

/// What `kubectl get namespace NS` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NamespaceFound {
    Exists,
    Missing,
    /// The user may not read it (RBAC); it may well exist.
    Forbidden(String),
    /// The question failed for another reason.
    Unknown(String),
}

/// Reads the answer to `kubectl get namespace NS -o name`.
pub(crate) fn namespace_found(success: bool, stderr: &str) -> NamespaceFound {
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
pub(crate) fn node_images(stdout: &str) -> Option<Vec<String>> {
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
pub(crate) fn full_image_name(image: &str) -> String {
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
pub(crate) fn server_minor(stdout: &str) -> Option<MinorVersion> {
    let json: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let git = json.pointer("/serverVersion/gitVersion")?.as_str()?;
    let release: crate::version::ReleaseVersion = git.split(['-', '+']).next()?.parse().ok()?;
    Some(release.minor_version())
}

/// Whether the server kept `restartPolicy: Always` on an init container of the Job it
/// returned from a dry run: `false` means the SidecarContainers gate is off (the API
/// server drops the field silently); `None` when the answer is not a Job.
pub(crate) fn native_sidecars_kept(stdout: &str) -> Option<bool> {
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
        let joined = "Error from server (Forbidden): jobs.batch is forbidden: User \"u\" cannot list resource \"jobs\" in API group \"batch\" at the cluster scope / Error from server (Forbidden): pods is forbidden";
        assert_eq!(
            class::missing_permission(joined).expect("read").scope,
            "at the cluster scope"
        );
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

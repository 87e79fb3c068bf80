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

    /// `kubectl get namespace NS`.
    pub fn get_namespace(&self) -> CommandLine {
        self.kubectl(["get", "namespace", self.namespace.as_str(), "-o", "name"])
    }

    /// `kubectl create namespace NS`.
    pub fn create_namespace(&self) -> CommandLine {
        self.kubectl(["create", "namespace", self.namespace.as_str()])
    }

    /// A server-side dry run of creating `manifest`, printing what the server would store.
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

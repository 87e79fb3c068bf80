//! The commands of a class on a shared cluster: reads across namespaces, the apply of
//! the class's objects, tokens and deletion, all on one context (pure: commands built,
//! answers read).

use std::path::Path;

use crate::runner::CommandLine;

/// The label selector of everything the lab and its classes create.
pub(crate) const LAB_SELECTOR: &str = "app.kubernetes.io/part-of=sidecar-lab";

fn kubectl(context: &str, args: &[&str]) -> CommandLine {
    let mut all = vec!["--context", context];
    all.extend_from_slice(args);
    CommandLine::new("kubectl", all)
}

/// The context's cluster, with its CA inline: how learners will reach it.
pub(crate) fn cluster_access(context: &str) -> CommandLine {
    kubectl(
        context,
        &["config", "view", "--raw", "--minify", "-o", "json"],
    )
}

/// The nodes, for what they can allocate.
pub(crate) fn nodes(context: &str) -> CommandLine {
    kubectl(context, &["get", "nodes", "-o", "json"])
}

/// `kubectl version -o json`: the server's version, for the lab's version rules.
pub(crate) fn version(context: &str) -> CommandLine {
    kubectl(context, &["version", "-o", "json"])
}

/// Every namespace (names and labels), to see which learner names are taken.
pub(crate) fn namespaces(context: &str) -> CommandLine {
    kubectl(context, &["get", "namespaces", "-o", "json"])
}

/// Everything of the class with `label`, in one read: `resources`, comma-separated
/// (a resource the server does not serve would fail the whole read, so the caller
/// names only what the cluster has).
pub(crate) fn class_objects(context: &str, label: &str, resources: &str) -> CommandLine {
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

/// The class board's one read per refresh: the learner namespaces, and the lab's Jobs,
/// Pods and ConfigMaps (the learners' exercise progress, `lab::progress_map`) in every
/// namespace.
pub(crate) fn board(context: &str) -> CommandLine {
    kubectl(
        context,
        &[
            "get",
            "namespaces,jobs.batch,pods,configmaps",
            "--all-namespaces",
            "-l",
            LAB_SELECTOR,
            "-o",
            "json",
        ],
    )
}

/// `kubectl apply -f FILE`.
pub(crate) fn apply(context: &str, manifest: &Path) -> CommandLine {
    let file = manifest.display().to_string();
    kubectl(context, &["apply", "-f", &file])
}

/// A time-bound token for the ServiceAccount (TokenRequest API), as JSON.
pub(crate) fn create_token(
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
pub(crate) fn delete_namespaces(context: &str, names: &[String], seconds: u64) -> CommandLine {
    let timeout = format!("--timeout={seconds}s");
    let mut args = vec!["delete", "namespace", "--ignore-not-found", "--wait=true"];
    args.push(&timeout);
    args.extend(names.iter().map(String::as_str));
    kubectl(context, &args)
}

/// Deletes one cluster-wide object.
pub(crate) fn delete_cluster_object(context: &str, resource: &str, name: &str) -> CommandLine {
    kubectl(context, &["delete", resource, name, "--ignore-not-found"])
}

/// Deletes one object.
pub(crate) fn delete_object(
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
pub(crate) struct Missing {
    pub user: String,
    pub verb: String,
    pub resource: String,
    pub scope: String,
}

/// Reads the permission out of kubectl's Forbidden error, if it is one.
pub(crate) fn missing_permission(stderr: &str) -> Option<Missing> {
    let rest = &stderr[stderr.find("User \"")? + 6..];
    let user = &rest[..rest.find('"')?];
    let rest = &rest[rest.find(" cannot ")? + 8..];
    let verb = rest.split_whitespace().next()?;
    let rest = &rest[rest.find("resource \"")? + 10..];
    let resource = &rest[..rest.find('"')?];
    let rest = &rest[rest.find("API group \"")? + 11..];
    let group = &rest[..rest.find('"')?];
    // A failed command's tail joins its last lines with ` / ` (`runner::Failed`): the
    // scope ends there too.
    let scope = rest[rest.find('"')? + 1..]
        .lines()
        .next()
        .unwrap_or_default()
        .split(" / ")
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

//! What the class verbs read before they plan: the cluster (its version, the class's
//! objects, the board's one read, the context's address and CA) and the output
//! directory (the learners' kubeconfigs), with a Forbidden answer explained.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use base64::Engine;
use serde_json::Value;

use crate::class::ClassPrefix;
use crate::class::board::{ClassRead, judge_class};
use crate::class::kubeconfig::{CaSource, ClusterAccess, Existing};
use crate::class::objects::{self, ObjectKind};
use crate::class::plan::{KubeconfigFound, Observed};
use crate::class::policy;
use crate::kube::class as kubectl;
use crate::results::{Results, exercise_results};
use crate::runner::{CommandLine, Failed, Runner, checked};
use crate::session::state::now;
use crate::version::MinorVersion;

pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The cluster's Kubernetes minor, read once (version rules need it); `None` when the
/// server does not say, and the newest rules apply.
pub(super) fn server_minor(runner: &dyn Runner, context: &str) -> Option<MinorVersion> {
    runner
        .run(&kubectl::version(context), Duration::from_secs(30))
        .ok()
        .filter(crate::runner::Output::success)
        .and_then(|o| crate::kube::server_minor(&o.stdout))
}

/// The objects labelled as the class's, of every kind a cluster of `minor` serves.
pub(super) fn class_objects(
    runner: &dyn Runner,
    context: &str,
    prefix: &ClassPrefix,
    minor: Option<MinorVersion>,
) -> anyhow::Result<Value> {
    read_json(
        runner,
        &kubectl::class_objects(
            context,
            prefix.label(),
            &objects::resources(policy::served(minor)),
        ),
        "read the class's objects",
    )
}

/// One refresh: the board's one read, judged.
pub(super) fn class_results(
    runner: &dyn Runner,
    context: &str,
    prefix: &ClassPrefix,
    lab: &crate::lab::Lab,
    minor: Option<MinorVersion>,
) -> anyhow::Result<Results> {
    let read = read_board(runner, context)?;
    let read = ClassRead::parse(read.as_bytes(), prefix)?;
    let at = now();
    let mut suites = judge_class(&read, lab, minor, at);
    with_exercises(&mut suites, &read);
    Ok(Results::new(
        at.to_string(),
        format!("class status of `{}` on context {context}", prefix.label()),
        suites,
    ))
}

/// Each learner's exercises, from their progress ConfigMap in the same read; a record
/// that did not decode is named in the suite's `progress-skipped` property.
fn with_exercises(suites: &mut [crate::results::Suite], read: &ClassRead) {
    let titles = crate::exercise::Catalogue::embedded()
        .map(|c| c.titles())
        .unwrap_or_default();
    let none = crate::lab::progress_map::Progress::default();
    for suite in suites {
        let progress = suite
            .namespace
            .as_ref()
            .and_then(|ns| read.progress.get(ns))
            .unwrap_or(&none);
        suite.exercises = exercise_results(&progress.records, &titles);
        if !progress.warnings.is_empty() {
            suite
                .properties
                .insert("progress-skipped".to_owned(), progress.warnings.join("; "));
        }
    }
}

/// The board's one read.
fn read_board(runner: &dyn Runner, context: &str) -> anyhow::Result<String> {
    let command = kubectl::board(context);
    let output = checked(runner, &command, READ_TIMEOUT).map_err(|e| {
        explain_forbidden(
            e,
            "read the class (class status needs get and list on namespaces, jobs.batch, pods and configmaps in all namespaces)",
        )
    })?;
    Ok(output.stdout)
}

pub(super) fn read_access(runner: &dyn Runner, context: &str) -> anyhow::Result<ClusterAccess> {
    let command = kubectl::cluster_access(context);
    let output = checked(runner, &command, READ_TIMEOUT)
        .with_context(|| format!("cannot read context `{context}` from the kubeconfig; `kubectl config get-contexts` lists them"))?;
    ClusterAccess::from_minified(&output.stdout).with_context(|| format!("context `{context}`"))
}

/// The CA, inline: a learner's kubeconfig travels to another machine.
pub(super) fn inline_ca(access: &ClusterAccess) -> anyhow::Result<Option<String>> {
    Ok(match &access.ca {
        CaSource::Data(data) => Some(data.clone()),
        CaSource::File(file) => {
            let bytes = crate::files::read(file).with_context(|| {
                format!(
                    "cannot read the cluster's CA certificate `{file}` (named by the kubeconfig)"
                )
            })?;
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        CaSource::None => None,
    })
}

pub(super) fn read_json(
    runner: &dyn Runner,
    command: &CommandLine,
    what: &str,
) -> anyhow::Result<Value> {
    let output = checked(runner, command, READ_TIMEOUT).map_err(|e| explain_forbidden(e, what))?;
    serde_json::from_str(&output.stdout)
        .with_context(|| format!("`{command}` printed something that is not JSON"))
}

/// A Forbidden answer becomes "you may not X: ask for Y"; anything else stays as it is.
pub(super) fn explain_forbidden(error: anyhow::Error, what: &str) -> anyhow::Error {
    let missing = error
        .downcast_ref::<Failed>()
        .and_then(|failed| kubectl::missing_permission(&failed.tail));
    match missing {
        Some(missing) => anyhow!(
            "cannot {what}: user `{}` may not {} {} {}. Use a context with that permission (an admin's, or a ClusterRole that grants it)",
            missing.user,
            missing.verb,
            missing.resource,
            missing.scope
        ),
        None => error.context(format!("cannot {what}")),
    }
}

/// What the two reads found.
pub(super) fn observed(namespaces: &Value, objects: &Value) -> Observed {
    let mut out = Observed::default();
    let items = |v: &Value| {
        v.get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for item in items(namespaces) {
        let name = item.pointer("/metadata/name").and_then(Value::as_str);
        let labels = item
            .pointer("/metadata/labels")
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default();
        if let Some(name) = name {
            out.namespaces.insert(name.to_owned(), labels);
        }
    }
    for item in items(objects) {
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .and_then(ObjectKind::from_kind);
        let name = item.pointer("/metadata/name").and_then(Value::as_str);
        let (Some(kind), Some(name)) = (kind, name) else {
            continue;
        };
        let namespace = if kind == ObjectKind::Namespace {
            name.to_owned()
        } else {
            item.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        out.objects.insert((kind, namespace, name.to_owned()), item);
    }
    out
}

/// The learner kubeconfigs found in `dir` for learners 1..=learners.
pub(super) fn read_kubeconfigs(
    dir: &Path,
    prefix: &ClassPrefix,
    learners: u32,
) -> BTreeMap<String, KubeconfigFound> {
    (1..=learners)
        .map(|n| {
            let namespace = prefix.namespace(n);
            let path = dir.join(format!("{namespace}.kubeconfig"));
            let found = match crate::files::read_to_string(&path) {
                Err(_) => KubeconfigFound::Missing,
                Ok(text) => Existing::parse(&text)
                    .map_or(KubeconfigFound::Unreadable, KubeconfigFound::Found),
            };
            (namespace, found)
        })
        .collect()
}

/// The namespaces whose kubeconfig file is in `dir`.
pub(super) fn kubeconfig_files(dir: &Path, prefix: &ClassPrefix) -> BTreeSet<String> {
    crate::files::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let namespace = name.strip_suffix(".kubeconfig")?;
            prefix.learner(namespace).map(|_| namespace.to_owned())
        })
        .collect()
}

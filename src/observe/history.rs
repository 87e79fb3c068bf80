//! Groups snapshots by object and picks what to judge: the latest snapshot of each
//! object decides, earlier ones only add history. Pure.

use std::collections::HashMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::lab::labels::VARIANT_LABEL;
use crate::observe::dump::{Dump, Object};
use crate::variant::Variant;

/// Every snapshot of one object, oldest first; never empty.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct History<T> {
    snapshots: Vec<T>,
}

impl<T> History<T> {
    /// The newest snapshot: the one that decides.
    pub(crate) fn latest(&self) -> &T {
        // Invariant: a History is only built with one snapshot and then grows.
        &self.snapshots[self.snapshots.len() - 1]
    }

    /// All snapshots, oldest first.
    pub(crate) fn snapshots(&self) -> &[T] {
        &self.snapshots
    }
}

/// The Pod and Job to judge, with their histories.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Subject {
    pub pod: Option<History<Pod>>,
    pub job: Option<History<Job>>,
    /// Other pods in the input that were not chosen.
    pub other_pods: usize,
    /// Of those, pods of an earlier Job with the same name (left out).
    pub predecessor_pods: usize,
}

/// Picks the pod to judge — among several, the one labelled with `variant`, then one
/// whose spec `fits` the variant (for dumps of clusters that carry no lab labels), then
/// the newest — and the Job that owns it (or, without a pod, the Job alone).
///
/// Histories are built of references into `dump`; only the ones chosen are copied, so a
/// dump of thousands of pods is not held twice.
pub(crate) fn subject(
    dump: &Dump,
    variant: Option<Variant>,
    fits: &dyn Fn(&PodSpec) -> bool,
) -> Subject {
    let mut pods: Histories<'_, Pod> = Histories::default();
    let mut jobs: Histories<'_, Job> = Histories::default();
    for object in &dump.objects {
        match object {
            Object::Pod(pod) => pods.add(pod, |p| &p.metadata),
            Object::Job(job) => jobs.add(job, |j| &j.metadata),
        }
    }
    let (mut pods, jobs) = (pods.list, jobs.list);
    let total_pods = pods.len();
    // Pods of an earlier Job with the same name are not this Job's: left out.
    pods.retain(|p| !predecessors_pod(&jobs, p.latest()));
    let predecessor_pods = total_pods - pods.len();
    let pod = pick(pods, variant, fits, |p| &p.metadata, |p| p.spec.as_ref());
    let job = match &pod {
        Some(pod) => jobs
            .into_iter()
            .rev()
            .find(|job| owns(job.latest(), pod.latest())),
        None => pick(
            jobs,
            variant,
            fits,
            |j| &j.metadata,
            |j| j.spec.as_ref()?.template.spec.as_ref(),
        ),
    };
    Subject {
        other_pods: total_pods.saturating_sub(usize::from(pod.is_some())),
        predecessor_pods,
        pod: pod.map(History::cloned),
        job: job.map(History::cloned),
    }
}

impl<T: Clone> History<&T> {
    /// The snapshots copied out of the dump.
    fn cloned(self) -> History<T> {
        History {
            snapshots: self.snapshots.into_iter().cloned().collect(),
        }
    }
}

/// Histories in order of first appearance, with an index by identity: a dump of
/// thousands of pods is grouped in one pass, not by comparing each with every other.
struct Histories<'a, T> {
    list: Vec<History<&'a T>>,
    index: HashMap<String, usize>,
}

impl<T> Default for Histories<'_, T> {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<'a, T> Histories<'a, T> {
    /// Appends `object` to the history of the same object, or starts a new history. An
    /// object without uid or name has one of its own.
    fn add(&mut self, object: &'a T, meta: impl Fn(&T) -> &ObjectMeta) {
        let key = identity(meta(object));
        if let Some(&at) = key.as_ref().and_then(|key| self.index.get(key))
            && let Some(history) = self.list.get_mut(at)
        {
            // Keyed by the newest snapshot's identity, as a search of the list would be.
            history.snapshots.push(object);
            return;
        }
        if let Some(key) = key {
            self.index.insert(key, self.list.len());
        }
        self.list.push(History {
            snapshots: vec![object],
        });
    }
}

/// The uid, or else namespace and name; `None` for an object with neither.
fn identity(meta: &ObjectMeta) -> Option<String> {
    meta.uid.clone().or_else(|| {
        meta.name
            .as_ref()
            .map(|name| format!("{}/{name}", meta.namespace.as_deref().unwrap_or_default()))
    })
}

fn pick<T>(
    histories: Vec<History<T>>,
    variant: Option<Variant>,
    fits: &dyn Fn(&PodSpec) -> bool,
    meta: impl Fn(&T) -> &ObjectMeta,
    spec: impl Fn(&T) -> Option<&PodSpec>,
) -> Option<History<T>> {
    let labelled = |h: &History<T>| {
        variant.is_some_and(|v| {
            meta(h.latest())
                .labels
                .as_ref()
                .and_then(|labels| labels.get(VARIANT_LABEL))
                .is_some_and(|label| label == v.name())
        })
    };
    let fitting = |h: &History<T>| variant.is_some() && spec(h.latest()).is_some_and(fits);
    // Among equals the last one in the input wins: `max_by_key` keeps the last maximum.
    histories
        .into_iter()
        .enumerate()
        .max_by_key(|(index, h)| {
            (
                labelled(h),
                fitting(h),
                meta(h.latest()).creation_timestamp.clone(),
                *index,
            )
        })
        .map(|(_, h)| h)
}

/// The uid of the Job that controls `pod`: its controlling ownerReference, else the
/// controller-uid labels the Job controller sets.
fn owner_uid(pod: &Pod) -> Option<&str> {
    let by_reference = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.kind == "Job" && owner.controller != Some(false))
        .map(|owner| owner.uid.as_str());
    by_reference.or_else(|| {
        let labels = pod.metadata.labels.as_ref()?;
        ["batch.kubernetes.io/controller-uid", "controller-uid"]
            .iter()
            .find_map(|key| labels.get(*key).map(String::as_str))
    })
}

/// The name of the Job `pod` belongs to, from its owner reference or job-name label.
pub(crate) fn owner_name(pod: &Pod) -> Option<&str> {
    let by_reference = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.kind == "Job")
        .map(|owner| owner.name.as_str());
    by_reference.or_else(|| {
        let labels = pod.metadata.labels.as_ref()?;
        ["batch.kubernetes.io/job-name", "job-name"]
            .iter()
            .find_map(|key| labels.get(*key).map(String::as_str))
    })
}

/// True when `job` owns `pod`: by uid where both carry one (a Job re-created under the
/// same name is another Job), by name only where they do not.
fn owns(job: &Job, pod: &Pod) -> bool {
    match (owner_uid(pod), job.metadata.uid.as_deref()) {
        (Some(owner), Some(uid)) => owner == uid,
        _ => owner_name(pod).is_some_and(|name| Some(name) == job.metadata.name.as_deref()),
    }
}

/// True when `pod` belongs to an earlier Job of the same name as one in the input: an
/// orphan of a predecessor, not the Job's own pod.
fn predecessors_pod(jobs: &[History<&Job>], pod: &Pod) -> bool {
    !jobs.iter().any(|job| owns(job.latest(), pod))
        && jobs.iter().any(|job| {
            owner_name(pod).is_some_and(|name| Some(name) == job.latest().metadata.name.as_deref())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::dump;

    fn pod(name: &str, uid: &str, created: &str, variant: &str, job: &str) -> String {
        format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","uid":"{uid}","creationTimestamp":"{created}","labels":{{"sidecar-lab/variant":"{variant}","batch.kubernetes.io/job-name":"{job}"}}}},"spec":{{"containers":[{{"name":"main"}}]}}}}"#
        )
    }

    fn job(name: &str, uid: &str) -> String {
        format!(
            r#"{{"apiVersion":"batch/v1","kind":"Job","metadata":{{"name":"{name}","uid":"{uid}"}}}}"#
        )
    }

    fn subject_of(text: &str, variant: Option<Variant>) -> Subject {
        subject(
            &dump::parse(text.as_bytes()).expect("parses"),
            variant,
            &|_| false,
        )
    }

    fn pod_name(subject: &Subject) -> Option<&str> {
        subject
            .pod
            .as_ref()
            .and_then(|p| p.latest().metadata.name.as_deref())
    }

    #[test]
    fn snapshots_of_one_pod_form_one_history() {
        let a = pod("a", "1", "2026-01-01T00:00:00Z", "native", "j");
        let s = subject_of(&format!("{a}{a}{a}"), None);
        assert_eq!(s.pod.as_ref().map(|p| p.snapshots().len()), Some(3));
        assert_eq!(s.other_pods, 0);
    }

    #[test]
    fn the_newest_pod_wins_unless_a_variant_label_says_otherwise() {
        let old = pod("old", "1", "2026-01-01T00:00:00Z", "init", "cy-job-init");
        let new = pod(
            "new",
            "2",
            "2026-01-01T00:05:00Z",
            "native",
            "cy-job-native",
        );
        let text = format!("{old}{new}");
        assert_eq!(pod_name(&subject_of(&text, None)), Some("new"));
        assert_eq!(
            pod_name(&subject_of(&text, Some(Variant::Init))),
            Some("old")
        );
        assert_eq!(subject_of(&text, None).other_pods, 1);
    }

    #[test]
    fn only_the_job_that_owns_the_pod_is_used() {
        let text = format!(
            "{}{}{}",
            job("cy-job-init", "j1"),
            job("cy-job-native", "j3"),
            pod("p", "1", "2026-01-01T00:00:00Z", "native", "cy-job-native")
        );
        let s = subject_of(&text, None);
        assert_eq!(
            s.job
                .as_ref()
                .and_then(|j| j.latest().metadata.uid.as_deref()),
            Some("j3")
        );
        let text = format!(
            "{}{}",
            job("other", "j9"),
            pod("p", "1", "2026-01-01T00:00:00Z", "native", "x")
        );
        assert!(subject_of(&text, None).job.is_none());
    }

    #[test]
    fn a_recreated_job_is_not_judged_by_its_predecessors_pod() {
        let old_pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"cy-job-native-old","uid":"p1","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"batch.kubernetes.io/job-name":"cy-job-native","batch.kubernetes.io/controller-uid":"j-old"},"ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"cy-job-native","uid":"j-old","controller":true}]},"spec":{"containers":[{"name":"main"}]}}"#;
        let text = format!("{}{old_pod}", job("cy-job-native", "j-new"));
        let s = subject_of(&text, None);
        assert!(s.pod.is_none(), "the orphan is not judged");
        assert_eq!(
            s.job
                .as_ref()
                .and_then(|j| j.latest().metadata.uid.as_deref()),
            Some("j-new")
        );
        // Without uids, names still match.
        let plain = format!(
            "{}{}",
            r#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"cy-job-native"}}"#,
            pod("p", "1", "2026-01-01T00:00:00Z", "native", "cy-job-native")
        );
        assert!(subject_of(&plain, None).job.is_some());
    }

    #[test]
    fn a_job_alone_is_judged_alone() {
        let s = subject_of(&job("cy-job-native", "j3"), None);
        assert!(s.pod.is_none() && s.job.is_some());
    }
}

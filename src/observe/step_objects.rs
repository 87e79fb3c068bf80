//! Picks one Job's objects out of a dump that may hold a whole namespace (`kubectl get
//! job,pod,event -o yaml` carries every step's Jobs): the Job by its name, its pods by
//! their owner, and its events, which carry no labels but name the object they are
//! about. Also reads which lab steps a dump's objects are labelled with. Pure.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::lab::labels::STEP_LABEL;
use crate::lab::labels::VARIANT_LABEL;
use crate::observe::dump::{Dump, Object};
use crate::observe::history::owner_name;
use crate::variant::Variant;

/// Which Job to pick: its name, or else the step and variant labels the lab puts on it
/// (a dump of a Job renamed by hand still carries them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobKey<'a> {
    pub name: &'a str,
    pub step: u32,
    pub variant: Variant,
}

/// The objects of the Job `key` names, with its events; `None` when the dump holds
/// neither that Job nor a pod of it.
pub(crate) fn of_job(dump: &Dump, key: JobKey<'_>) -> Option<Dump> {
    let labelled = |meta: &ObjectMeta| {
        let labels = meta.labels.as_ref();
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        get(STEP_LABEL) == Some(key.step.to_string().as_str())
            && get(VARIANT_LABEL) == Some(key.variant.name())
    };
    let objects: Vec<Object> = dump
        .objects
        .iter()
        .filter(|object| match object {
            Object::Job(job) => {
                job.metadata.name.as_deref() == Some(key.name) || labelled(&job.metadata)
            }
            Object::Pod(pod) => owner_name(pod) == Some(key.name) || labelled(&pod.metadata),
        })
        .cloned()
        .collect();
    if objects.is_empty() {
        return None;
    }
    // Only this Job's events: the verdict matches them to the Job itself, and a copy of a
    // namespace's events for every Job would cost more than the Jobs.
    let jobs: Vec<&str> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Job(job) => job.metadata.name.as_deref(),
            Object::Pod(_) => None,
        })
        .chain([key.name])
        .collect();
    let events = dump
        .events
        .iter()
        .filter(|e| {
            e.involved_object
                .name
                .as_deref()
                .is_some_and(|n| jobs.contains(&n))
        })
        .cloned()
        .collect();
    Some(Dump {
        objects,
        events,
        truncated: dump.truncated,
    })
}

/// The step numbers the dump's Jobs and pods are labelled with (`sidecar-lab/step`).
pub(crate) fn labelled_steps(dump: &Dump) -> BTreeSet<u32> {
    dump.objects
        .iter()
        .filter_map(|object| match object {
            Object::Job(job) => job.metadata.labels.as_ref(),
            Object::Pod(pod) => pod.metadata.labels.as_ref(),
        })
        .filter_map(|labels| labels.get(STEP_LABEL)?.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::dump;

    fn job(name: &str, step: u32, variant: &str) -> String {
        format!(
            r#"{{"apiVersion":"batch/v1","kind":"Job","metadata":{{"name":"{name}","uid":"u-{name}","labels":{{"{STEP_LABEL}":"{step}","{VARIANT_LABEL}":"{variant}"}}}}}}"#
        )
    }

    fn pod(name: &str, job: &str) -> String {
        format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","labels":{{"batch.kubernetes.io/job-name":"{job}"}},"ownerReferences":[{{"apiVersion":"batch/v1","kind":"Job","name":"{job}","uid":"u-{job}","controller":true}}]}},"spec":{{"containers":[{{"name":"main"}}]}}}}"#
        )
    }

    fn names(dump: &Dump) -> Vec<String> {
        dump.objects
            .iter()
            .filter_map(|o| match o {
                Object::Job(j) => j.metadata.name.clone(),
                Object::Pod(p) => p.metadata.name.clone(),
            })
            .collect()
    }

    #[test]
    fn a_jobs_objects_never_include_another_jobs_pod() {
        let text = format!(
            "{}{}{}{}",
            job("cy-job-cost-init", 4, "init"),
            job("cy-job-cost-native", 4, "native"),
            pod("cy-job-cost-init-abcde", "cy-job-cost-init"),
            job("cy-job-native", 3, "native"),
        );
        let all = dump::parse(text.as_bytes()).expect("parses");
        let native = of_job(
            &all,
            JobKey {
                name: "cy-job-cost-native",
                step: 4,
                variant: Variant::Native,
            },
        )
        .expect("found");
        assert_eq!(names(&native), ["cy-job-cost-native"]);
        let init = of_job(
            &all,
            JobKey {
                name: "cy-job-cost-init",
                step: 4,
                variant: Variant::Init,
            },
        )
        .expect("found");
        assert_eq!(names(&init), ["cy-job-cost-init", "cy-job-cost-init-abcde"]);
        assert!(
            of_job(
                &all,
                JobKey {
                    name: "cy-job-crash",
                    step: 6,
                    variant: Variant::Native
                }
            )
            .is_none()
        );
        assert_eq!(labelled_steps(&all), BTreeSet::from([3, 4]));
    }
}

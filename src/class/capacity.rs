//! Will the class fit? What one learner's pods request at most (every step's Job alive at
//! once: the init and regular-container variants hold their pods until their deadline),
//! against what the cluster's nodes can allocate and what a learner's quota allows.
//! Pure: the lab, the Job template, the nodes' JSON and the quota in, warnings out.

use k8s_openapi::api::batch::v1::Job;
use serde_json::Value;

use super::objects::QuotaLimits;
use crate::lab::Lab;
use crate::render::job::{default_job_name, derive_variant};
use crate::requests::{self, Requests, parse_quantity, show_cpu};

/// What one learner's pods request when all of the lab's Jobs run at once, and how many
/// pods that is.
pub(crate) fn per_learner(lab: &Lab, template: &Job) -> (Requests, u32) {
    let mut variants: Vec<_> = lab.steps.iter().map(|s| s.variant).collect();
    variants.sort_by_key(|v| v.name());
    variants.dedup();
    let mut total = Requests::default();
    for variant in &variants {
        let Ok(name) = default_job_name(template, *variant) else {
            continue;
        };
        let Ok(job) = derive_variant(template, *variant, &name) else {
            continue;
        };
        if let Some(spec) = job.spec.as_ref().and_then(|s| s.template.spec.as_ref()) {
            total = total.plus(requests::effective(spec));
        }
    }
    (total, u32::try_from(variants.len()).unwrap_or(u32::MAX))
}

/// What the nodes of `kubectl get nodes -o json` can allocate, summed.
pub(crate) fn allocatable(nodes: &Value) -> Option<Requests> {
    let items = nodes.get("items")?.as_array()?;
    let mut total = Requests::default();
    for node in items {
        let get = |name: &str, unit| {
            node.pointer(&format!("/status/allocatable/{name}"))
                .and_then(Value::as_str)
                .and_then(|q| parse_quantity(q, unit))
                .unwrap_or(0)
        };
        total = total.plus(Requests {
            cpu_millis: get("cpu", 1000),
            memory_bytes: get("memory", 1),
        });
    }
    Some(total)
}

/// Warnings about a class that will not fit, each with its numbers.
pub(crate) fn warnings(
    per_learner: (Requests, u32),
    learners: u32,
    allocatable: Option<Requests>,
    quota: &QuotaLimits,
) -> Vec<String> {
    let (one, pods) = per_learner;
    let mut out = Vec::new();
    let all = one.times(u64::from(learners));
    if let Some(nodes) = allocatable
        && all.cpu_millis > nodes.cpu_millis
    {
        out.push(format!(
            "{learners} learners with every step's pod alive at once request {} CPU ({} each); the cluster's nodes can allocate {} in all, before their own system pods: later pods will wait in Pending (`Insufficient cpu`). Use more or bigger nodes, or have learners delete a step's Job when they are done with it",
            show_cpu(all.cpu_millis),
            show_cpu(one.cpu_millis),
            show_cpu(nodes.cpu_millis)
        ));
    }
    if let Some(cpu) = quota
        .cpu
        .as_ref()
        .and_then(|q| parse_quantity(&q.0, 1000))
        .filter(|cpu| *cpu < one.cpu_millis)
    {
        out.push(format!(
            "--quota-cpu {} is less than one learner's steps request at once ({}): a later step's pod will be refused (`exceeded quota`) until an earlier Job is deleted",
            show_cpu(cpu),
            show_cpu(one.cpu_millis)
        ));
    }
    if let Some(memory) = quota
        .memory
        .as_ref()
        .and_then(|q| parse_quantity(&q.0, 1))
        .filter(|memory| *memory < one.memory_bytes)
    {
        out.push(format!(
            "--quota-memory is {} MiB, less than one learner's steps request at once ({} MiB): a later step's pod will be refused",
            memory / (1024 * 1024),
            one.memory_bytes.div_ceil(1024 * 1024)
        ));
    }
    if let Some(limit) = quota.pods.filter(|limit| *limit < pods) {
        out.push(format!(
            "--quota-pods {limit} is less than the {pods} pods one learner's steps keep at once: a later step's pod will be refused"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;
    use crate::render::job::parse_template;

    fn lab_peak() -> (Requests, u32) {
        let lab = Lab::embedded().expect("lab");
        let template = parse_template(assets::JOB_TEMPLATE).expect("template");
        per_learner(&lab, &template)
    }

    #[test]
    fn one_learner_peaks_at_the_three_variants_together() {
        // postgres 100m/128Mi, main 50m/32Mi: init max(100, 50) = 100m; regular and
        // native 150m each.
        let (one, pods) = lab_peak();
        assert_eq!(one.cpu_millis, 400);
        assert_eq!(one.memory_bytes, (128 + 160 + 160) * 1024 * 1024);
        assert_eq!(pods, 3);
    }

    #[test]
    fn thirty_learners_on_two_cpus_are_warned_with_the_numbers() {
        let nodes: Value = serde_json::json!({"items": [{"status": {"allocatable": {"cpu": "2", "memory": "8Gi"}}}]});
        let warnings = warnings(lab_peak(), 30, allocatable(&nodes), &QuotaLimits::default());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("request 12 CPU (400m each)"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("allocate 2 in all"), "{}", warnings[0]);
        let big: Value = serde_json::json!({"items": [{"status": {"allocatable": {"cpu": "16"}}}]});
        assert!(
            super::warnings(lab_peak(), 30, allocatable(&big), &QuotaLimits::default()).is_empty()
        );
    }

    #[test]
    fn a_quota_below_one_learners_steps_is_warned() {
        let quota = QuotaLimits {
            cpu: Some("300m".parse().expect("q")),
            memory: Some("256Mi".parse().expect("q")),
            pods: Some(2),
        };
        let warnings = warnings(lab_peak(), 1, None, &quota);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("--quota-cpu 300m"), "{}", warnings[0]);
    }
}

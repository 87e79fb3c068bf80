//! What a lab file's `edit` may not give the lab's pods beyond Pod Security `baseline`:
//! an identity (a ServiceAccount, its token, a Secret), a node of its choosing, or a
//! priority over other pods. `baseline` allows all of these, but in a class's namespace
//! each is a way out of the learner's confinement (the learner's own token read from a
//! pod, a pod pinned past the scheduler, other learners' pods preempted), and the lab
//! needs none of them. Pure.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;

use super::pod_security::Violation;

/// Every such field in `job`'s pod template; empty when there is none.
pub(crate) fn check_job(job: &Job) -> Vec<Violation> {
    let Some(spec) = job.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    check_pod_spec(spec, "spec.template.spec", &mut out);
    out
}

/// The checks on a pod's spec, fields named under `at`.
pub(crate) fn check_pod_spec(spec: &PodSpec, at: &str, out: &mut Vec<Violation>) {
    let mut forbid = |field: String, reason: &str| {
        out.push(Violation {
            field,
            reason: reason.to_owned(),
        });
    };
    // `serviceAccount` is the deprecated twin the server copies into `serviceAccountName`:
    // either one names an account whose token the pod would carry.
    for (field, value) in [
        ("serviceAccountName", &spec.service_account_name),
        ("serviceAccount", &spec.service_account),
    ] {
        if value.as_deref().is_some_and(|v| !v.is_empty()) {
            forbid(
                format!("{at}.{field}"),
                "a lab's pods run as the namespace's default account; naming another gives them its token",
            );
        }
    }
    if spec.automount_service_account_token == Some(true) {
        forbid(
            format!("{at}.automountServiceAccountToken"),
            "mounting the account's token makes it readable from inside the pod",
        );
    }
    if spec.node_name.as_deref().is_some_and(|n| !n.is_empty()) {
        forbid(
            format!("{at}.nodeName"),
            "a pod bound to a node by name skips the scheduler and its checks",
        );
    }
    if spec
        .priority_class_name
        .as_deref()
        .is_some_and(|n| !n.is_empty())
    {
        forbid(
            format!("{at}.priorityClassName"),
            "a priority class lets the pod preempt other pods on the node",
        );
    }
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        if volume.secret.is_some() {
            forbid(
                format!("{at}.volumes[{i}].secret"),
                "a Secret volume hands the pod credentials the lab does not need",
            );
        }
        let sources = volume.projected.as_ref().and_then(|p| p.sources.as_ref());
        for (j, source) in sources.into_iter().flatten().enumerate() {
            if source.service_account_token.is_some() {
                forbid(
                    format!("{at}.volumes[{i}].projected.sources[{j}].serviceAccountToken"),
                    "a projected token is the account's token, readable from inside the pod",
                );
            }
            if source.secret.is_some() {
                forbid(
                    format!("{at}.volumes[{i}].projected.sources[{j}].secret"),
                    "a Secret volume hands the pod credentials the lab does not need",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;
    use crate::render::job::parse_template;

    fn job(pod: serde_json::Value) -> Job {
        let template = parse_template(assets::JOB_TEMPLATE).expect("template");
        let mut value = serde_json::to_value(&template).expect("json");
        if let (Some(spec), serde_json::Value::Object(extra)) = (
            value
                .pointer_mut("/spec/template/spec")
                .and_then(|v| v.as_object_mut()),
            pod,
        ) {
            spec.extend(extra);
        }
        serde_json::from_value(value).expect("a Job")
    }

    fn fields(job: &Job) -> Vec<String> {
        check_job(job).into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn the_labs_own_job_passes() {
        assert!(fields(&job(serde_json::json!({}))).is_empty());
        // Turning the token off, or naming no class, is no reach at all.
        let off = job(serde_json::json!({
            "automountServiceAccountToken": false, "priorityClassName": "", "nodeName": ""}));
        assert!(fields(&off).is_empty(), "{:?}", fields(&off));
    }

    #[test]
    fn every_way_to_an_identity_a_node_or_a_priority_is_named() {
        let reach = job(serde_json::json!({
            "serviceAccountName": "learner",
            "serviceAccount": "learner",
            "automountServiceAccountToken": true,
            "nodeName": "kind-control-plane",
            "priorityClassName": "system-node-critical",
            "volumes": [
                {"name": "s", "secret": {"secretName": "x"}},
                {"name": "p", "projected": {"sources": [
                    {"configMap": {"name": "c"}},
                    {"serviceAccountToken": {"path": "token"}},
                    {"secret": {"name": "x"}}]}},
                {"name": "scratch", "emptyDir": {}}
            ]
        }));
        assert_eq!(
            fields(&reach),
            [
                "spec.template.spec.serviceAccountName",
                "spec.template.spec.serviceAccount",
                "spec.template.spec.automountServiceAccountToken",
                "spec.template.spec.nodeName",
                "spec.template.spec.priorityClassName",
                "spec.template.spec.volumes[0].secret",
                "spec.template.spec.volumes[1].projected.sources[1].serviceAccountToken",
                "spec.template.spec.volumes[1].projected.sources[2].secret",
            ]
        );
    }
}

//! What `kubectl apply` sent, read back from the Job's last-applied annotation: the
//! API server drops fields it does not know silently, and the difference tells a gate
//! that is off from a manifest that never had the field.

use k8s_openapi::api::batch::v1::Job;

use super::template_spec;

/// The annotation where `kubectl apply` keeps the manifest it sent.
pub(super) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether the manifest applied for `job` had a native sidecar. The API server drops
/// `restartPolicy` only when the gate is off, so a field in the sent manifest that is
/// missing from the stored Job tells a gate that is off from a manifest without it.
pub(super) fn applied_native(job: &Job) -> Option<bool> {
    let sent = job.metadata.annotations.as_ref()?.get(LAST_APPLIED)?;
    let sent: serde_json::Value = serde_json::from_str(sent).ok()?;
    let init = sent.pointer("/spec/template/spec/initContainers");
    Some(
        init.and_then(serde_json::Value::as_array)
            .is_some_and(|containers| {
                containers.iter().any(|c| {
                    c.get("restartPolicy").and_then(serde_json::Value::as_str) == Some("Always")
                })
            }),
    )
}

/// The regular containers whose `restartPolicy` the manifest kubectl applied had and the
/// stored Job lacks, with the value sent: what a 1.34 API server drops silently.
pub(crate) fn dropped_restart_policies(job: &Job) -> Vec<(String, String)> {
    let Some(sent) = job
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
    else {
        return Vec::new();
    };
    let stored = template_spec(job)
        .map(|spec| &spec.containers[..])
        .unwrap_or_default();
    let sent = sent
        .pointer("/spec/template/spec/containers")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    sent.iter()
        .filter_map(|container| {
            let name = container.get("name")?.as_str()?;
            let value = container.get("restartPolicy")?.as_str()?;
            let kept = stored
                .iter()
                .find(|c| c.name == name)
                .is_some_and(|c| c.restart_policy.is_some());
            (!kept).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

//! What a dump keeps of what it reads: the events the judge reads, and Pods and Jobs
//! without the fields no reader looks at, so a dump of thousands of pods stays small.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Event, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Whether the judge reads `event`: only a Job's `FailedCreate` says anything objects do
/// not (a pod that admission refused). A namespace's other events (tens of thousands on
/// a busy cluster) are dropped as they are read.
pub(super) fn judged(event: &Event) -> bool {
    event.reason.as_deref() == Some("FailedCreate")
}

/// Drops from a pod what no reader of a dump looks at, right after it is decoded, so a
/// dump of thousands of pods takes little more memory than its text: the fields the
/// API server keeps for itself (`managedFields`), annotations (a Pod's are never read;
/// a Job's are: see `slim_job`), each container's environment and mounts, the volumes
/// they mount, and the resources a status repeats from the spec. Everything else stays:
/// names, images, `restartPolicy`, resources, probes, `lifecycle` (preStop, stop
/// signals), statuses and conditions. Lists are trimmed to their length: serde grows
/// them by doubling, and a pod's one container status would hold room for four.
pub fn slim_pod(pod: &mut Pod) {
    slim_meta(&mut pod.metadata);
    pod.metadata.annotations = None;
    if let Some(spec) = &mut pod.spec {
        slim_spec(spec);
    }
    if let Some(status) = &mut pod.status {
        let statuses = [
            &mut status.init_container_statuses,
            &mut status.container_statuses,
            &mut status.ephemeral_container_statuses,
        ];
        for statuses in statuses.into_iter().flatten() {
            statuses.shrink_to_fit();
            for status in statuses {
                status.volume_mounts = None;
                status.allocated_resources = None;
                status.allocated_resources_status = None;
                status.resources = None;
            }
        }
        status.conditions.iter_mut().for_each(Vec::shrink_to_fit);
        status.host_ips.iter_mut().for_each(Vec::shrink_to_fit);
        status.pod_ips.iter_mut().for_each(Vec::shrink_to_fit);
    }
}

/// Drops a Job's `managedFields` and, in its pod template, the environment and mounts
/// (as `slim_pod`). Its annotations stay: the manifest `kubectl apply` sent
/// (`kubectl.kubernetes.io/last-applied-configuration`) tells a gate that is off.
pub fn slim_job(job: &mut Job) {
    slim_meta(&mut job.metadata);
    if let Some(spec) = job.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        slim_spec(spec);
    }
}

fn slim_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    meta.owner_references
        .iter_mut()
        .for_each(Vec::shrink_to_fit);
    meta.finalizers.iter_mut().for_each(Vec::shrink_to_fit);
}

fn slim_spec(spec: &mut PodSpec) {
    spec.volumes = None;
    let slim = |container: &mut Container| {
        container.env = None;
        container.env_from = None;
        container.volume_mounts = None;
        container.volume_devices = None;
        container.ports.iter_mut().for_each(Vec::shrink_to_fit);
    };
    spec.containers.iter_mut().for_each(slim);
    spec.containers.shrink_to_fit();
    if let Some(init) = &mut spec.init_containers {
        init.iter_mut().for_each(slim);
        init.shrink_to_fit();
    }
    for container in spec.ephemeral_containers.iter_mut().flatten() {
        container.env = None;
        container.env_from = None;
        container.volume_mounts = None;
    }
    spec.tolerations.iter_mut().for_each(Vec::shrink_to_fit);
}

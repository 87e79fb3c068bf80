//! A short explanation of a judgement, for people (pure).

use crate::variant::Variant;
use crate::verdict::finding::code;
use crate::verdict::{Judgement, Outcome, Verdict};

/// A few sentences on what happened and why.
pub fn explain(judgement: &Judgement) -> String {
    match by_finding(judgement) {
        Some(text) => text.to_owned(),
        None => by_outcome(judgement).to_owned(),
    }
}

/// The explanation a finding calls for, when one does: it says more than the outcome.
fn by_finding(judgement: &Judgement) -> Option<&'static str> {
    if judgement.has(code::GATE_OFF) {
        return Some(
            "The API server dropped `restartPolicy: Always` from the init container because the SidecarContainers feature gate is off. postgres therefore runs as a plain init container and main never starts, exactly as in the init variant. Enable the gate (Kubernetes 1.28: `featureGates: {SidecarContainers: true}` in the kind config, `sidecar-lab render config -k 1.28`) or use Kubernetes 1.29 or later.",
        );
    }
    if judgement.has(code::SIDECAR_STOPPED_BEFORE_MAIN) {
        return Some(
            "The pod succeeded, but the sidecar was stopped before the app container finished. That is how Kubernetes 1.28's alpha treated sidecars; since 1.29 sidecars are stopped only after every app container has exited, in reverse order. Use Kubernetes 1.29 or later to see the real behaviour.",
        );
    }
    if judgement.verdict == Some(Verdict::Unexpected)
        && judgement
            .findings
            .iter()
            .any(|f| f.code == code::STOP_ORDER && f.level == crate::verdict::Level::Problem)
    {
        return Some(
            "The pod succeeded, but its sidecars stopped in the order they were declared, or all at once: from 1.29 the kubelet stops them one by one after the app containers, last declared first. Kubernetes 1.28's alpha stopped them like regular containers.",
        );
    }
    if judgement.has(code::NOT_RESTARTED) {
        return Some(
            "The step expects a sidecar to exit once and be restarted, but its restartCount is 0: it never exited, so there was nothing for the kubelet to restart. Check that the crash-once script ran (`kubectl logs … -c postgres`).",
        );
    }
    if judgement.has(code::NODE_LOST) {
        return Some(
            "The node stopped reporting, so the pod's status is the last one it sent: containers shown as running may have stopped long ago. Judge again once the node is back (`kubectl get nodes`).",
        );
    }
    if judgement.pod.is_none() && judgement.job.is_some() && judgement.has(code::DEADLINE_EXCEEDED)
    {
        return Some(
            "Only the Job is in the input: its pod is gone, deleted by the Job controller when activeDeadlineSeconds ended the Job. What the pod did before then cannot be read from the Job alone; dump the Job and its pod while the pod still exists, or let `sidecar-lab step` watch it.",
        );
    }
    if judgement.has(code::SIDECAR_NOT_STARTED) && judgement.outcome == Outcome::InitRunning {
        return Some(
            "The sidecar is running but the kubelet has not marked it started: its startupProbe has not passed yet (or keeps failing). A native sidecar lets the next container start only once it is started, so the app containers wait. Check the probe with `kubectl describe pod`.",
        );
    }
    if judgement.has(code::SIDECAR_OOM_KILLED) {
        return Some(
            "The kernel killed a sidecar because it used more memory than its limit (OOMKilled, exit 137). That exit code is the same as the kubelet's SIGKILL after a grace period, but here no one stopped it: raise the sidecar's `resources.limits.memory`, or find what made it grow.",
        );
    }
    if judgement.has(code::MAY_STILL_EXIT) {
        return Some(
            "An app container finished while another regular container still runs. If that container exits by itself, the pod completes and the kubelet then stops the sidecars; if it never does, it holds the pod as in the regular-container variant. One snapshot cannot tell the two apart: judge a later dump, or let `sidecar-lab step` watch it.",
        );
    }
    if judgement.has(code::IMAGE_PULL_FAILED) {
        return Some(
            "A container cannot start because its image cannot be pulled. On a workshop VM the lab preloads its images into the kind node (`sidecar-lab up`); check the image name, the node's network, or load the image with `kind load image-archive`.",
        );
    }
    None
}

/// The explanation of the outcome itself.
fn by_outcome(judgement: &Judgement) -> &'static str {
    match judgement.outcome {
        Outcome::InitRunning => {
            "The pod is still in its init phase. Init containers run one after another and each must exit before the next container starts; a plain init container that never exits (a database server) keeps every app container waiting in `PodInitializing`."
        }
        Outcome::SidecarHoldsPod => {
            "An app container finished, but another regular container is still running. A pod with `restartPolicy: Never` finishes only when all its containers have exited, and nothing stops the second one, so the Job never completes."
        }
        Outcome::Succeeded
            if judgement.variant == Some(Variant::Native)
                || judgement
                    .timeline
                    .rows_of(crate::verdict::containers::Role::Sidecar)
                    .next()
                    .is_some() =>
        {
            "postgres ran as a native sidecar: it started before the app container, kept running beside it, and was stopped by the kubelet after the app container had finished, so the pod succeeded and the Job completed. A non-zero exit code of the stopped sidecar (143, 137) is normal."
        }
        Outcome::Succeeded => {
            "Every app container exited 0, so the pod succeeded and the Job completed."
        }
        Outcome::Running => "An app container has started and the pod has not finished yet.",
        Outcome::Pending if judgement.pod.is_none() => {
            "Only the Job is in the input, without a pod: it may not have made one yet, or the pod was deleted."
        }
        Outcome::Pending => {
            "No container has started yet: the pod is waiting to be scheduled, or for its images."
        }
        Outcome::Failed
            if judgement.has(code::DEADLINE_EXCEEDED)
                && judgement.verdict == Some(Verdict::Expected) =>
        {
            if judgement.findings.iter().any(|f| {
                f.code == code::DEADLINE_EXCEEDED && f.message.starts_with("the pod's own")
            }) {
                "The pod never finished by itself, so its own activeDeadlineSeconds ended it, and the Job failed with it — which is what this variant shows: until the deadline it was stuck as the lesson describes."
            } else {
                "The pod never finished by itself, so the Job's activeDeadlineSeconds ended it — which is what this variant shows: until the deadline it was stuck as the lesson describes."
            }
        }
        Outcome::Failed => {
            "The pod or its Job failed; the findings above say where. The lab's Jobs have backoffLimit 0, so a failure shows at once instead of being retried."
        }
        Outcome::NotAdmitted => {
            "The Job exists, but the API server's admission refuses every pod it tries to create: a ResourceQuota in the namespace would be exceeded. The quota counts a pod's effective request, which with a native sidecar includes the sidecar for the pod's whole life."
        }
        Outcome::Refused => {
            "The API server refused the Job, so nothing ran: validation happens before anything is stored, and its message says which field and why."
        }
    }
}

//! Findings any pod can carry, whatever the variant: a kubelet that refuses sidecars,
//! a pod that cannot be scheduled, images that cannot be pulled, containers that failed,
//! sidecars that were stopped, killed or restarted.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;

use super::Finding;
use super::containers::{self, IMAGE_REASONS, Role, containers as pod_containers};
use super::deadline::DeadlineEnd;
use super::finding::code;
use super::timeline::Timeline;

/// Findings any pod can carry, whatever the variant.
pub(super) fn pod_findings(
    pod: &Pod,
    timeline: &Timeline,
    settled: bool,
    deadline: Option<DeadlineEnd>,
) -> Vec<Finding> {
    let mut findings = pod_level_findings(pod);
    let last_app_finish = timeline.last_app_finish();
    for c in pod_containers(pod) {
        let Some(container_status) = c.status else {
            continue;
        };
        if let Some((reason, message)) =
            containers::waiting_reason(container_status).filter(|_| !settled)
        {
            let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
            if IMAGE_REASONS.contains(&reason) {
                let image = c.image.unwrap_or(&container_status.image);
                findings.push(Finding::problem(
                    code::IMAGE_PULL_FAILED,
                    format!("`{}` cannot get image `{image}` ({reason}){detail}", c.name),
                ));
            } else if containers::ERROR_REASONS.contains(&reason) {
                findings.push(Finding::problem(
                    code::CONTAINER_ERROR,
                    format!("`{}` is waiting on {reason}{detail}", c.name),
                ));
            }
        }
        let exited = containers::terminated(container_status);
        // A container stopped by the deadline's kill did not fail: it was stopped.
        let failed = exited
            .filter(|t| t.exit_code != 0)
            .filter(|t| !killed_at_deadline(deadline, t.finished_at.as_ref().map(|f| f.0)));
        match c.role {
            Role::App => {
                if let Some(t) = failed {
                    findings.push(Finding::problem(
                        code::APP_CONTAINER_FAILED,
                        format!("`{}` exited {}", c.name, exit_text(t)),
                    ));
                }
            }
            Role::Sidecar => {
                sidecar_findings(c.name, container_status, last_app_finish, &mut findings);
            }
            Role::Init => {
                if let Some(t) = failed {
                    findings.push(Finding::problem(
                        code::INIT_CONTAINER_FAILED,
                        format!(
                            "init container `{}` exited {}: the app containers cannot start",
                            c.name,
                            exit_text(t)
                        ),
                    ));
                }
            }
        }
        if c.role == Role::Sidecar
            && containers::is_running(container_status)
            && container_status.started == Some(false)
            && !settled
        {
            findings.push(Finding::info(
                code::SIDECAR_NOT_STARTED,
                format!(
                    "sidecar `{}` runs but is not started: its startupProbe has not passed, and the app containers wait for it",
                    c.name
                ),
            ));
        }
    }
    findings
}

/// Whether a container that finished at `finished` was stopped by the deadline's kill
/// (`deadline`: whether it ended the pod, and when if known).
fn killed_at_deadline(deadline: Option<DeadlineEnd>, finished: Option<Timestamp>) -> bool {
    match deadline {
        None => false,
        Some(DeadlineEnd::Unknown) => true,
        Some(DeadlineEnd::At(at)) => finished.is_none_or(|f| f.as_second() + 2 >= at.as_second()),
    }
}

/// What the pod's own status says: a kubelet that refuses sidecars, a pod that cannot
/// be scheduled.
fn pod_level_findings(pod: &Pod) -> Vec<Finding> {
    let mut findings = Vec::new();
    let status = pod.status.as_ref();
    if status.and_then(|s| s.reason.as_deref()) == Some("InitContainerRestartPolicyForbidden") {
        findings.push(Finding::problem(
            code::KUBELET_GATE_OFF,
            "the kubelet refused the pod (InitContainerRestartPolicyForbidden): SidecarContainers is on in the API server but off in the kubelet",
        ));
    }
    let unscheduled = status.and_then(|s| s.conditions.as_ref()).and_then(|c| {
        c.iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    });
    if let Some(condition) = unscheduled {
        let why = condition
            .message
            .as_deref()
            .or(condition.reason.as_deref())
            .unwrap_or("no reason given");
        // On a small VM the usual cause is the lab itself: the steps that hang keep
        // their pods, and their requests, until the Job's deadline.
        let hint = if why.contains("Insufficient cpu") {
            ". Pods that never end (earlier steps that hang, by design) keep their CPU until their Job's deadline: `kubectl get pods -A` shows them; deleting their Jobs frees it"
        } else {
            ""
        };
        findings.push(Finding::problem(
            code::UNSCHEDULABLE,
            format!("the pod cannot be scheduled: {why}{hint}"),
        ));
    }
    findings
}

/// How sidecar `name` ended: killed by the kernel for its memory, stopped with a
/// non-zero code after the app containers (normal), restarted.
fn sidecar_findings(
    name: &str,
    status: &ContainerStatus,
    last_app_finish: Option<Timestamp>,
    findings: &mut Vec<Finding>,
) {
    let exited = containers::terminated(status);
    let stopped = exited.filter(|t| {
        t.exit_code != 0
            && match (t.finished_at.as_ref(), last_app_finish) {
                (Some(finished), Some(app)) => finished.0 >= app,
                _ => false,
            }
    });
    if let Some(t) = exited.filter(|t| t.reason.as_deref() == Some("OOMKilled")) {
        // 137 looks like the kubelet's SIGKILL, but the kernel sent it.
        findings.push(Finding::problem(
            code::SIDECAR_OOM_KILLED,
            format!(
                "sidecar `{name}` was killed by the kernel for using more memory than its limit (OOMKilled, exit {}), not stopped by the kubelet: raise its `resources.limits.memory`",
                t.exit_code
            ),
        ));
    } else if let Some(t) = stopped {
        findings.push(Finding::info(
            code::SIDECAR_EXIT_CODE,
            format!(
                "sidecar `{name}` exited {} after it was stopped{}: normal for a sidecar, not a failure",
                t.exit_code,
                signal_name(t.exit_code)
            ),
        ));
    }
    if status.restart_count > 0 {
        let oom = status
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .filter(|t| t.reason.as_deref() == Some("OOMKilled"))
            .map(|_| " (its last run was OOMKilled: it used more memory than its limit)")
            .unwrap_or_default();
        findings.push(Finding::info(
            code::SIDECAR_RESTARTED,
            format!(
                "sidecar `{name}` was restarted {} time(s){oom}: a sidecar is restarted whenever it exits, even under restartPolicy Never",
                status.restart_count
            ),
        ));
    }
}

/// `1 (Error)`: the exit code and the reason the runtime gave.
fn exit_text(terminated: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> String {
    match terminated.reason.as_deref() {
        Some(reason) => format!("{} ({reason})", terminated.exit_code),
        None => terminated.exit_code.to_string(),
    }
}

/// " (SIGTERM)" for 143 and " (SIGKILL)" for 137.
fn signal_name(exit_code: i32) -> &'static str {
    match exit_code {
        143 => " (SIGTERM)",
        137 => " (SIGKILL)",
        130 => " (SIGINT)",
        _ => "",
    }
}

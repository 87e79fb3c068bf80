//! Which outcome a lab pod shows: the verdict engine's rules from the latest snapshot
//! of the pod (and its Job) to one of the lab's outcomes (`lab::Outcome`).

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;

use crate::lab::Outcome;
use crate::verdict::containers::{
    ERROR_REASONS, Role, containers, has_started, is_running, terminated, waiting_reason,
};

/// The outcome and one sentence on what decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Classified {
    pub outcome: Outcome,
    pub message: String,
}

impl Classified {
    fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        Self {
            outcome,
            message: message.into(),
        }
    }
}

/// The outcome of the latest pod snapshot (and its Job); the first rule that matches wins.
pub(crate) fn classify(pod: Option<&Pod>, job: Option<&Job>) -> Classified {
    if let Some(pod) = pod.filter(|p| node_lost(p)) {
        let reason = pod
            .status
            .as_ref()
            .and_then(|s| s.reason.as_deref())
            .unwrap_or("NodeLost");
        return Classified::new(
            Outcome::Pending,
            format!("the node stopped reporting ({reason}): the container states shown are stale"),
        );
    }
    if let Some(failed) = failure(pod, job) {
        return failed;
    }
    if pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.phase.as_deref())
        == Some("Succeeded")
    {
        return Classified::new(Outcome::Succeeded, "the pod succeeded");
    }
    if let Some(condition) = job.and_then(|j| {
        job_condition(j, "Complete").or_else(|| job_condition(j, "SuccessCriteriaMet"))
    }) {
        let detail = condition
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        return Classified::new(Outcome::Succeeded, format!("the Job is complete{detail}"));
    }
    match pod {
        Some(pod) => classify_live(pod),
        None => classify_job_alone(job),
    }
}

/// Rules 3 to 6 for a pod that has neither failed nor succeeded.
pub(crate) fn classify_live(pod: &Pod) -> Classified {
    let all = containers(pod);
    let apps: Vec<_> = all.iter().filter(|c| c.role == Role::App).collect();
    let done = apps.iter().find(|c| {
        c.status
            .and_then(terminated)
            .is_some_and(|t| t.exit_code == 0)
    });
    let running = apps.iter().find(|c| c.status.is_some_and(is_running));
    if let (Some(done), Some(running)) = (done, running) {
        return Classified::new(
            Outcome::SidecarHoldsPod,
            format!(
                "`{}` exited 0 but `{}` is still running, so the pod cannot finish",
                done.name, running.name
            ),
        );
    }
    if let Some(started) = apps.iter().find(|c| c.status.is_some_and(has_started)) {
        let what = if started.status.is_some_and(is_running) {
            "is running"
        } else {
            "has run"
        };
        return Classified::new(
            Outcome::Running,
            format!("`{}` {what} and the pod has not finished", started.name),
        );
    }
    // An init container that runs or has run; one that still waits (its image pulling,
    // `PodInitializing`) has not shown the init phase yet.
    let init_with_status = all
        .iter()
        .filter(|c| c.role != Role::App && c.status.is_some_and(has_started))
        .collect::<Vec<_>>();
    if !init_with_status.is_empty() {
        let current = init_with_status
            .iter()
            .find(|c| c.status.is_some_and(is_running))
            .or_else(|| init_with_status.last())
            .map(|c| {
                format!(
                    ": `{}` ({}) is {}",
                    c.name,
                    c.role.name(),
                    state_word(c.status)
                )
            })
            .unwrap_or_default();
        return Classified::new(
            Outcome::InitRunning,
            format!("the pod is still initializing, no app container has started{current}"),
        );
    }
    let unscheduled = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        });
    match unscheduled {
        Some(condition) => Classified::new(
            Outcome::Pending,
            format!(
                "the pod is not scheduled: {}",
                condition
                    .message
                    .as_deref()
                    .or(condition.reason.as_deref())
                    .unwrap_or("no reason given")
            ),
        ),
        None => Classified::new(Outcome::Pending, "no container has started yet"),
    }
}

/// Phase `Unknown`: the node stopped reporting (NodeLost), so what the pod shows is old.
pub(crate) fn node_lost(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    status.and_then(|s| s.phase.as_deref()) == Some("Unknown")
        || status.and_then(|s| s.reason.as_deref()) == Some("NodeLost")
}

/// The Job has a terminal condition (or marked success, 1.31+).
pub(crate) fn job_terminal(job: &Job) -> bool {
    ["Complete", "SuccessCriteriaMet", "Failed"]
        .iter()
        .any(|t| job_condition(job, t).is_some())
}

/// The pod has finished (or its Job has): its waiting reasons are left from the kubelet's
/// last attempt and decide nothing.
pub(crate) fn settled(pod: &Pod, job: Option<&Job>) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    ) || job.is_some_and(job_terminal)
}

fn classify_job_alone(job: Option<&Job>) -> Classified {
    let status = job.and_then(|j| j.status.as_ref());
    let active = status.and_then(|s| s.active).unwrap_or(0);
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    let completions = job.and_then(|j| j.spec.as_ref()?.completions).unwrap_or(1);
    // Kubernetes 1.31 and later mark success (SuccessCriteriaMet) before `Complete`,
    // which waits until every pod has terminated: the Job has succeeded already.
    if job.is_some_and(|j| job_condition(j, "SuccessCriteriaMet").is_some())
        || (succeeded >= completions && active == 0)
    {
        Classified::new(
            Outcome::Succeeded,
            "the Job's pods succeeded; `Complete` follows once they have all terminated",
        )
    } else if active > 0 {
        Classified::new(
            Outcome::Running,
            format!("the Job has {active} active pod(s)"),
        )
    } else {
        Classified::new(Outcome::Pending, "the Job has no active pod yet")
    }
}

/// Rule 1: the pod failed, a container waits on an error, or the Job failed.
fn failure(pod: Option<&Pod>, job: Option<&Job>) -> Option<Classified> {
    if let Some(pod) = pod {
        let status = pod.status.as_ref();
        if status.and_then(|s| s.phase.as_deref()) == Some("Failed") {
            let reason = status
                .and_then(|s| s.reason.as_deref().map(|r| (r, s.message.as_deref())))
                .map(|(r, m)| format!(": {r}{}", m.map(|m| format!(" ({m})")).unwrap_or_default()))
                .or_else(|| {
                    containers(pod).iter().find_map(|c| {
                        let t = c.status.and_then(terminated).filter(|t| t.exit_code != 0)?;
                        Some(format!(": `{}` exited {}", c.name, t.exit_code))
                    })
                })
                .unwrap_or_default();
            return Some(Classified::new(
                Outcome::Failed,
                format!("the pod failed{reason}"),
            ));
        }
        for c in containers(pod).iter().filter(|_| !settled(pod, job)) {
            if let Some((reason, message)) = c.status.and_then(waiting_reason) {
                if ERROR_REASONS.contains(&reason) {
                    let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
                    return Some(Classified::new(
                        Outcome::Failed,
                        format!("`{}` is waiting on {reason}{detail}", c.name),
                    ));
                }
            }
        }
    }
    let failed = job.and_then(|j| job_condition(j, "Failed"));
    // 1.31 and later mark the decision first (FailureTarget) and add `Failed` only once
    // every pod has terminated: the Job will fail, it has not finished failing.
    let target = job.and_then(|j| job_condition(j, "FailureTarget"));
    let condition = failed.or(target)?;
    let reason = condition.reason.as_deref().unwrap_or("no reason given");
    let message = condition
        .message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let words = if failed.is_some() {
        format!("the Job failed: {reason}{message}")
    } else {
        format!(
            "the Job is failing: {reason}{message}; the Job controller is terminating its pods (FailureTarget), and `Failed` follows once they have all terminated"
        )
    };
    Some(Classified::new(Outcome::Failed, words))
}

/// The Job's condition of `type_` when its status is True.
pub(crate) fn job_condition<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

fn state_word(status: Option<&k8s_openapi::api::core::v1::ContainerStatus>) -> String {
    match status {
        Some(s) if is_running(s) => "running".to_owned(),
        Some(s) => match (terminated(s), waiting_reason(s)) {
            (Some(t), _) => format!("terminated with exit code {}", t.exit_code),
            (None, Some((reason, _))) => format!("waiting ({reason})"),
            (None, None) => "without a state".to_owned(),
        },
        None => "without a status".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: &serde_json::Value) -> Job {
        serde_json::from_value(serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "status": status}))
            .expect("a Job")
    }

    fn condition(type_: &str) -> serde_json::Value {
        serde_json::json!({"type": type_, "status": "True", "reason": "CompletionsReached"})
    }

    #[test]
    fn a_job_alone() {
        let cases = [
            (serde_json::json!({"active": 1}), Outcome::Running),
            (serde_json::json!({}), Outcome::Pending),
            (
                serde_json::json!({"conditions": [condition("Complete")], "succeeded": 1}),
                Outcome::Succeeded,
            ),
            // 1.31+: success is marked before `Complete`, while the sidecar still stops.
            (
                serde_json::json!({"conditions": [condition("SuccessCriteriaMet")], "terminating": 1}),
                Outcome::Succeeded,
            ),
            (serde_json::json!({"succeeded": 1}), Outcome::Succeeded),
            (
                serde_json::json!({"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}),
                Outcome::Failed,
            ),
        ];
        for (status, expected) in cases {
            let job = job(&status);
            assert_eq!(classify(None, Some(&job)).outcome, expected, "{status}");
        }
    }

    #[test]
    fn success_is_never_required_to_be_marked_by_success_criteria() {
        // ≤ 1.30 has only `Complete`.
        let job = job(&serde_json::json!({"conditions": [condition("Complete")]}));
        assert_eq!(classify(None, Some(&job)).outcome, Outcome::Succeeded);
    }
}

//! What `activeDeadlineSeconds` did: whether it ended the Job or the pod, when, in
//! words, and what the pod was showing until then.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::Outcome;
use super::containers::Role;
use super::outcome::{classify_live, job_condition};
use super::timeline::Timeline;
use crate::observe::history::History;

/// When activeDeadlineSeconds ended the Job or the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeadlineEnd {
    /// At this time.
    At(Timestamp),
    /// At a time the input does not say.
    Unknown,
}

/// Whether activeDeadlineSeconds ended the Job or the pod, and when (if the input says):
/// the Job's condition's transition time, else the pod's start plus its deadline.
pub(super) fn deadline_end(pod: Option<&Pod>, job: Option<&Job>) -> Option<DeadlineEnd> {
    let condition = job.and_then(|j| {
        ["FailureTarget", "Failed"].iter().find_map(|t| {
            job_condition(j, t).filter(|c| c.reason.as_deref() == Some("DeadlineExceeded"))
        })
    });
    let by_pod = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.reason.as_deref())
        == Some("DeadlineExceeded");
    if condition.is_none() && !by_pod {
        return None;
    }
    let from_job = condition
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    let from_pod = pod.and_then(|p| {
        let start = p.status.as_ref()?.start_time.as_ref()?.0;
        let seconds = p.spec.as_ref()?.active_deadline_seconds?;
        start
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(seconds))
            .ok()
    });
    Some(
        from_job
            .or(from_pod)
            .map_or(DeadlineEnd::Unknown, DeadlineEnd::At),
    )
}

/// Which deadline ended what: the Job's own `activeDeadlineSeconds` (its condition says
/// DeadlineExceeded), or the pod's (the pod's status says DeadlineExceeded), after which
/// the Job fails for its own reason, typically BackoffLimitExceeded.
pub(super) fn deadline_words(pod: Option<&Pod>, job: Option<&Job>) -> String {
    let job_reason = job.and_then(|j| {
        job_condition(j, "Failed")
            .or_else(|| job_condition(j, "FailureTarget"))
            .and_then(|c| c.reason.as_deref())
    });
    if job_reason == Some("DeadlineExceeded") || job_reason.is_none() && pod.is_none() {
        return "the Job's activeDeadlineSeconds ended the Job (DeadlineExceeded)".to_owned();
    }
    let seconds = pod
        .and_then(|p| p.spec.as_ref()?.active_deadline_seconds)
        .map(|s| format!(" ({s} s)"))
        .unwrap_or_default();
    let then = match job_reason {
        Some("BackoffLimitExceeded") => {
            "; the Job then failed with BackoffLimitExceeded: its pod failed and `backoffLimit` allows no new one"
        }
        Some(_) | None => "",
    };
    let job_reason = job_reason
        .filter(|r| *r != "BackoffLimitExceeded")
        .map(|r| format!("; the Job failed with {r}"))
        .unwrap_or_default();
    format!(
        "the pod's own activeDeadlineSeconds{seconds} ended the pod (DeadlineExceeded), not the Job's{then}{job_reason}"
    )
}

/// When the deadline ended the pod: the outcome it showed until then.
pub(super) fn held_until_deadline(
    pod: Option<&Pod>,
    history: Option<&History<Pod>>,
) -> Option<Outcome> {
    if let Some(held) = pod.and_then(held_by_timestamps) {
        return Some(held);
    }
    // Otherwise the last lesson-like outcome among the earlier snapshots.
    history?
        .snapshots()
        .iter()
        .rev()
        .map(|p| classify_live(p).outcome)
        .find(|o| matches!(o, Outcome::InitRunning | Outcome::SidecarHoldsPod))
}

/// What a pod stopped from outside was doing, read from its final container times: no
/// app container ever started (init) or an app container exited 0 while another kept
/// running (sidecar).
pub(super) fn held_by_timestamps(pod: &Pod) -> Option<Outcome> {
    let timeline = Timeline::from_snapshots(std::slice::from_ref(pod));
    let apps: Vec<_> = timeline.rows_of(Role::App).collect();
    if apps.iter().all(|r| r.runs.is_empty()) {
        return timeline
            .rows
            .iter()
            .any(|r| r.role != Role::App && !r.runs.is_empty())
            .then_some(Outcome::InitRunning);
    }
    let done: Vec<Timestamp> = apps
        .iter()
        .filter_map(|r| {
            r.last_run()
                .filter(|run| run.exit_code == Some(0))
                .and_then(|run| run.finished)
        })
        .collect();
    let outlived = |at: Timestamp| {
        apps.iter()
            .flat_map(|r| &r.runs)
            .any(|run| run.started.is_some_and(|s| s <= at) && run.finished.is_none_or(|f| f > at))
    };
    done.into_iter()
        .any(outlived)
        .then_some(Outcome::SidecarHoldsPod)
}

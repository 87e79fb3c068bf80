//! The verdict against what a step expects: the facts that refute the variant first
//! (a lost node, a mislabelled or misshapen pod, a sidecar the server dropped), then the
//! outcome against the expected one, with the native ordering checked on success.

use k8s_openapi::api::core::v1::PodSpec;

use super::applied::LAST_APPLIED;
use super::containers::{Role, Shape, shape};
use super::finding::code;
use super::timeline::{self, Timeline};
use super::{Expectation, Finding, Outcome, Verdict};
use crate::lab::labels::VARIANT_LABEL;
use crate::variant::Variant;

/// What the verdict is decided from, besides the timeline.
pub(super) struct Facts<'a> {
    pub(super) outcome: Outcome,
    /// The outcome held until activeDeadlineSeconds ended the Job.
    pub(super) held: Option<Outcome>,
    /// The pod spec the server returned (or the Job's template).
    pub(super) spec: Option<&'a PodSpec>,
    /// The variant the lab labelled the objects with.
    pub(super) labelled: Option<Variant>,
    pub(super) have_pod: bool,
    /// Whether the manifest `kubectl apply` sent had an init container with
    /// `restartPolicy: Always` (from the Job's last-applied-configuration), when known.
    pub(super) sent_native: Option<bool>,
    /// activeDeadlineSeconds ended the Job or the pod.
    pub(super) deadline: bool,
    /// The node stopped reporting: the pod's states are stale.
    pub(super) node_lost: bool,
    /// Each container's restart count in the latest snapshot.
    pub(super) restarts: Vec<(String, i32)>,
}

/// The verdict for `variant`; adds the findings that explain it.
pub(super) fn decide(
    expectation: &Expectation,
    facts: &Facts<'_>,
    timeline: &Timeline,
    findings: &mut Vec<Finding>,
) -> Verdict {
    if let Some(verdict) = refuted(expectation.variant, facts, findings) {
        return verdict;
    }
    let Facts {
        outcome,
        held,
        have_pod,
        ref restarts,
        ..
    } = *facts;
    match expectation.outcome {
        Outcome::InitRunning => match outcome {
            Outcome::InitRunning => Verdict::Expected,
            Outcome::Pending => Verdict::Undecided,
            Outcome::Failed if held == Some(Outcome::InitRunning) => Verdict::Expected,
            _ => Verdict::Unexpected,
        },
        Outcome::SidecarHoldsPod => match outcome {
            Outcome::SidecarHoldsPod => Verdict::Expected,
            Outcome::Pending | Outcome::Running | Outcome::InitRunning => Verdict::Undecided,
            Outcome::Failed if held == Some(Outcome::SidecarHoldsPod) => Verdict::Expected,
            _ => Verdict::Unexpected,
        },
        expected @ (Outcome::Failed
        | Outcome::Running
        | Outcome::Pending
        | Outcome::Refused
        | Outcome::NotAdmitted) => match outcome {
            o if o == expected => Verdict::Expected,
            Outcome::Pending => Verdict::Undecided,
            _ => Verdict::Unexpected,
        },
        Outcome::Succeeded => expecting_success(outcome, have_pod, timeline, restarts, findings),
    }
}

/// The verdict the facts decide before the outcome is compared, if they do: a node
/// that stopped reporting, a Job whose pod the deadline deleted, objects labelled or
/// laid out as another variant, a native sidecar that was never sent or was dropped,
/// a failed app container, an active Job alone.
fn refuted(variant: Variant, facts: &Facts<'_>, findings: &mut Vec<Finding>) -> Option<Verdict> {
    let Facts {
        outcome,
        spec,
        labelled,
        have_pod,
        sent_native,
        deadline,
        node_lost,
        ..
    } = *facts;
    if node_lost {
        findings.push(Finding::problem(
            code::NODE_LOST,
            "the node stopped reporting (phase Unknown): the container states shown are the last it sent, and may be stale; judge again once the node is back",
        ));
        return Some(Verdict::Undecided);
    }
    // After the deadline the Job controller deletes the pods: a Job alone, Failed by its
    // deadline, says nothing about what a holding variant showed.
    if !have_pod && deadline && matches!(variant, Variant::Init | Variant::Sidecar) {
        findings.push(Finding::info(
            code::NO_POD,
            "only the Job is left: its pod was deleted when activeDeadlineSeconds ended it. Dump `kubectl get job,pod` while the pod still exists (before the deadline), or run `sidecar-lab step`, which watches it",
        ));
        return Some(Verdict::Undecided);
    }
    if let Some(labelled) = labelled.filter(|l| *l != variant) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!("the objects are labelled `{VARIANT_LABEL}: {labelled}`, not `{variant}`"),
        ));
        return Some(Verdict::Unexpected);
    }
    if let Some(verdict) = misshapen(variant, spec, labelled, sent_native, findings) {
        return Some(verdict);
    }
    if findings
        .iter()
        .any(|f| f.code == code::APP_CONTAINER_FAILED)
        && outcome != Outcome::Succeeded
    {
        return Some(Verdict::Unexpected);
    }
    if !have_pod && outcome == Outcome::Running {
        // An active Job alone says nothing about where its pod is.
        return Some(Verdict::Undecided);
    }
    None
}

/// `unexpected` when the pod is not laid out as `variant`: a native sidecar never sent
/// or dropped by the server, or another shape altogether.
fn misshapen(
    variant: Variant,
    spec: Option<&PodSpec>,
    labelled: Option<Variant>,
    sent_native: Option<bool>,
    findings: &mut Vec<Finding>,
) -> Option<Verdict> {
    let shape = spec.map(shape);
    // A native Job whose pod has a plain init container and no sidecar: the sidecar's
    // `restartPolicy: Always` was never sent, or the server dropped it (gate off).
    let lost_sidecar =
        variant == Variant::Native && shape.is_some_and(|s| s.sidecars == 0 && s.plain_inits > 0);
    if lost_sidecar && sent_native == Some(false) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!(
                "the manifest that was applied has no init container with `restartPolicy: Always` (the Job's {LAST_APPLIED} annotation): postgres is a plain init container, as in the `init` variant"
            ),
        ));
        return Some(Verdict::Unexpected);
    }
    // Dropped for sure when the manifest sent had it; likely when the pod is the lab's
    // own native Job. An unlabelled pod without the annotation may simply have none.
    if lost_sidecar && (sent_native == Some(true) || labelled == Some(Variant::Native)) {
        findings.push(Finding::problem(
            code::GATE_OFF,
            "no init container has `restartPolicy: Always` in the object the server returned: the API server drops it when the SidecarContainers gate is off, so postgres runs as a plain init container",
        ));
        return Some(Verdict::Unexpected);
    }
    if let Some(shape) = shape.filter(|s| !s.fits(variant)) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!(
                "the pod has {}: {}",
                shape.describe(),
                lacks(shape, variant)
            ),
        ));
        return Some(Verdict::Unexpected);
    }
    None
}

/// The verdict on `outcome` when the step expects the pod to succeed.
fn expecting_success(
    outcome: Outcome,
    have_pod: bool,
    timeline: &Timeline,
    restarts: &[(String, i32)],
    findings: &mut Vec<Finding>,
) -> Verdict {
    match outcome {
        Outcome::Succeeded if !have_pod => {
            findings.push(Finding::info(
                code::NO_POD,
                "only the Job was given: the order in which containers started and stopped cannot be checked",
            ));
            Verdict::Expected
        }
        Outcome::Succeeded => {
            if native_order_holds(timeline, restarts, findings) {
                Verdict::Expected
            } else {
                Verdict::Unexpected
            }
        }
        Outcome::Pending | Outcome::InitRunning | Outcome::Running => {
            // Still running, and a sidecar has restarted: its first start is already
            // out of sight, as it is once the pod has finished.
            restarted_out_of_sight(timeline, restarts, findings);
            Verdict::Undecided
        }
        // An app container exited and another regular one still runs: one snapshot
        // cannot tell a container that will exit by itself from one that holds
        // the pod for ever. A watch decides once the hold has lasted.
        Outcome::SidecarHoldsPod => {
            findings.push(Finding::info(
                code::MAY_STILL_EXIT,
                "a regular container is still running after an app container exited: it may exit by itself (then the pod completes) or hold the pod for ever, and one snapshot cannot tell which; judge a later dump, or watch it with `sidecar-lab step`",
            ));
            Verdict::Undecided
        }
        Outcome::Failed | Outcome::Refused | Outcome::NotAdmitted => Verdict::Unexpected,
    }
}

/// The native properties: every sidecar started no later than the first app container,
/// and finished no earlier than the last app container (or is still stopping).
/// Timestamps have one-second resolution, so equal times pass.
fn native_order_holds(
    timeline: &Timeline,
    restarts: &[(String, i32)],
    findings: &mut Vec<Finding>,
) -> bool {
    let first_app_start = timeline.first_app_start();
    let last_app_finish = timeline.last_app_finish();
    let mut holds = true;
    for sidecar in timeline.rows_of(Role::Sidecar) {
        // The status shows the current run and at most the one before it (`lastState`,
        // which a finished pod may no longer have): once a sidecar has restarted, its
        // first start is gone unless an earlier observation (a watch) saw it. Only the
        // runs seen can be judged, so fewer runs seen than starts means "not visible".
        if let Some(finding) = first_start_out_of_sight(sidecar, restarts) {
            findings.push(finding);
        } else if let (Some(sidecar_start), Some(app_start)) =
            (sidecar.first_start(), first_app_start)
        {
            if sidecar_start > app_start {
                holds = false;
                findings.push(Finding::problem(
                    code::MAIN_STARTED_BEFORE_SIDECAR,
                    format!(
                        "an app container started at {app_start}, before sidecar `{}` at {sidecar_start}",
                        sidecar.container
                    ),
                ));
            }
        }
        let sidecar_finish = sidecar.last_run().and_then(|run| run.finished);
        if let (Some(sidecar_finish), Some(app_finish)) = (sidecar_finish, last_app_finish) {
            if sidecar_finish < app_finish {
                holds = false;
                findings.push(Finding::problem(
                    code::SIDECAR_STOPPED_BEFORE_MAIN,
                    format!(
                        "sidecar `{}` finished at {sidecar_finish}, before the last app container at {app_finish}: Kubernetes 1.28 (alpha) stops sidecars like regular containers; 1.29 and later stop them after the app containers",
                        sidecar.container
                    ),
                ));
            }
        }
    }
    holds
}

/// `order-not-visible` for `sidecar` when it has restarted and the input no longer shows
/// its first start: the status keeps the current run and, in `lastState`, at most the
/// one before, so fewer runs seen than starts means the first is gone (unless an earlier
/// snapshot of a watch saw it).
fn first_start_out_of_sight(
    sidecar: &timeline::Row,
    restarts: &[(String, i32)],
) -> Option<Finding> {
    let restarted = restarts
        .iter()
        .find(|(name, _)| *name == sidecar.container)
        .map_or(0, |(_, count)| *count);
    let seen_runs = sidecar.runs.iter().filter(|r| r.started.is_some()).count();
    (restarted >= 1 && usize::try_from(restarted).unwrap_or(0) >= seen_runs).then(|| {
        Finding::info(
            code::ORDER_NOT_VISIBLE,
            format!(
                "sidecar `{}` restarted {restarted} time(s) and its first start is no longer in the input (the status keeps the current run, and `lastState` at most the one before), so whether it started before the app containers cannot be checked from this input; a live watch (`sidecar-lab step`) sees it",
                sidecar.container
            ),
        )
    })
}

/// `order-not-visible` for every sidecar whose first start is out of sight.
fn restarted_out_of_sight(
    timeline: &Timeline,
    restarts: &[(String, i32)],
    findings: &mut Vec<Finding>,
) {
    findings.extend(
        timeline
            .rows_of(Role::Sidecar)
            .filter_map(|sidecar| first_start_out_of_sight(sidecar, restarts)),
    );
}

/// What a pod of `shape` lacks to be laid out as `variant`, in one clause.
fn lacks(shape: Shape, variant: Variant) -> String {
    let other = if shape.is_other() {
        " It is laid out in none of the lab's three ways."
    } else {
        ""
    };
    let what = match variant {
        Variant::Native if shape.plain_inits > 0 => {
            "the native variant needs an init container with `restartPolicy: Always` (if the manifest had one, the API server dropped it: the SidecarContainers gate is off)"
        }
        Variant::Native => {
            "the native variant needs an init container with `restartPolicy: Always`"
        }
        Variant::Init if shape.sidecars > 0 => {
            "the init variant has no sidecar: an init container with `restartPolicy: Always` does not block the app containers"
        }
        Variant::Init => "the init variant needs a plain init container",
        Variant::Sidecar if shape.sidecars > 0 => {
            "the sidecar variant keeps postgres as a regular container, not as an init container with `restartPolicy: Always`"
        }
        Variant::Sidecar => "the sidecar variant needs two or more app containers",
    };
    format!("{what}.{other}")
}

//! The step's checks beyond the outcome (`check` in the lab file): containers that must
//! have restarted, and sidecars that must stop in the reverse of their order.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::containers::{Role, containers as pod_containers};
use super::finding::code;
use super::timeline::{Row, Timeline};
use super::{Finding, Verdict};
use crate::lab::Checks;

/// The step's checks beyond the outcome, on an outcome that was expected.
pub(super) fn checks_hold(
    checks: &Checks,
    pod: Option<&Pod>,
    timeline: &Timeline,
    findings: &mut Vec<Finding>,
) -> Verdict {
    let Some(pod) = pod else {
        // A Job alone (its pod gone) shows neither restarts nor stop times: the checks
        // cannot be read, which is not the same as failed.
        if !checks.restarted.is_empty() || checks.reverse_stop_order {
            findings.push(Finding::info(
                code::NO_POD,
                "only the Job is in the input: what the step checks (restarts, the order sidecars stopped in) is in its pod's status; dump the pod too",
            ));
            return Verdict::Undecided;
        }
        return Verdict::Expected;
    };
    let verdict = restarts_hold(&checks.restarted, pod, findings);
    if checks.reverse_stop_order {
        return stop_order_holds(pod, timeline, verdict, findings);
    }
    verdict
}

/// `unexpected` when a container in `restarted` was never restarted.
fn restarts_hold(restarted: &[String], pod: &Pod, findings: &mut Vec<Finding>) -> Verdict {
    let mut verdict = Verdict::Expected;
    for name in restarted {
        let restarts = pod_containers(pod)
            .iter()
            .find(|c| c.name == name.as_str())
            .and_then(|c| c.status.map(|s| s.restart_count))
            .unwrap_or(0);
        if restarts == 0 {
            findings.push(Finding::problem(
                code::NOT_RESTARTED,
                format!("`{name}` was never restarted (restartCount 0): the step expects it to exit once and be restarted"),
            ));
            verdict = Verdict::Unexpected;
        }
    }
    verdict
}

/// Sidecars stopped in the reverse of their order in the spec: `verdict` is what the
/// checks before decided, and the order can only make it worse; an order shown as held
/// is said only when nothing else failed.
fn stop_order_holds(
    pod: &Pod,
    timeline: &Timeline,
    mut verdict: Verdict,
    findings: &mut Vec<Finding>,
) -> Verdict {
    let sidecars: Vec<_> = timeline.rows_of(Role::Sidecar).collect();
    if sidecars.len() < 2 {
        findings.push(Finding::problem(
            code::STOP_ORDER,
            format!(
                "the pod has {} sidecar(s): an order of stops needs two or more, declared one after the other",
                sidecars.len()
            ),
        ));
        return Verdict::Unexpected;
    }
    // Declared earlier must stop later. `finishedAt` counts whole seconds: two stops
    // in the same second show no order at all, neither a violation nor a proof.
    let mut same_second = Vec::new();
    for (i, earlier) in sidecars.iter().enumerate() {
        for later in &sidecars[i + 1..] {
            let (Some(first), Some(second)) = (
                earlier.last_run().and_then(|r| r.finished),
                later.last_run().and_then(|r| r.finished),
            ) else {
                continue;
            };
            if first.as_second() == second.as_second() {
                same_second.push(format!("`{}` and `{}`", earlier.container, later.container));
            } else if first < second {
                findings.push(out_of_order(pod, earlier, later, first, second));
                verdict = Verdict::Unexpected;
            }
        }
    }
    if !same_second.is_empty() {
        findings.push(Finding::info(
            code::ORDER_NOT_VISIBLE,
            format!(
                "sidecars {} stopped in the same second: `finishedAt` counts whole seconds, so their stop order is not visible here; nor do the `Killing` events show it (the kubelet records one for every sidecar at once, before each waits for its turn): only the kubelet's log does",
                same_second.join(", ")
            ),
        ));
    } else if verdict == Verdict::Expected && sidecars.len() >= 2 {
        let order: Vec<&str> = sidecars
            .iter()
            .rev()
            .map(|r| r.container.as_str())
            .collect();
        findings.push(Finding::info(
            code::STOP_ORDER,
            format!(
                "the sidecars stopped after the app containers, in reverse order: {}",
                order.join(", then ")
            ),
        ));
    }
    verdict
}

/// The problem of sidecar `earlier` (declared first) stopping at `first`, before
/// `later` at `second`, with the preStop hook that explains it when it has one.
fn out_of_order(
    pod: &Pod,
    earlier: &Row,
    later: &Row,
    first: Timestamp,
    second: Timestamp,
) -> Finding {
    let hook = if has_pre_stop(Some(pod), &earlier.container) {
        format!(
            ". `{}` has a preStop hook, and the kubelet runs a sidecar's preStop hook before it waits for the sidecars declared after it (killContainer in kuberuntime_container.go): a hook that stops the process stops it out of turn",
            earlier.container
        )
    } else {
        String::new()
    };
    Finding::problem(
        code::STOP_ORDER,
        format!(
            "sidecar `{}` (declared first) stopped at {first}, before `{}` (declared after it) at {second}: the kubelet stops sidecars in the reverse of their order, from 1.29{hook}",
            earlier.container, later.container
        ),
    )
}

/// Whether init container `name` of `pod` has a preStop hook.
fn has_pre_stop(pod: Option<&Pod>, name: &str) -> bool {
    pod.and_then(|p| p.spec.as_ref())
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.name == name)
        .and_then(|c| c.lifecycle.as_ref())
        .is_some_and(|l| l.pre_stop.is_some())
}

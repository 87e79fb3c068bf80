//! The step's checks beyond the outcome (`check` in the lab file): containers that must
//! have restarted, and sidecars that must stop in the reverse of their order.

use k8s_openapi::api::core::v1::Pod;

use super::containers::{Role, containers as pod_containers};
use super::finding::code;
use super::timeline::Timeline;
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
    let pod = Some(pod);
    let mut verdict = Verdict::Expected;
    for name in &checks.restarted {
        let restarts = pod
            .map(pod_containers)
            .unwrap_or_default()
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
    if checks.reverse_stop_order {
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
                    let hook = if has_pre_stop(pod, &earlier.container) {
                        format!(
                            ". `{}` has a preStop hook, and the kubelet runs a sidecar's preStop hook before it waits for the sidecars declared after it (killContainer in kuberuntime_container.go): a hook that stops the process stops it out of turn",
                            earlier.container
                        )
                    } else {
                        String::new()
                    };
                    findings.push(Finding::problem(
                        code::STOP_ORDER,
                        format!(
                            "sidecar `{}` (declared first) stopped at {first}, before `{}` (declared after it) at {second}: the kubelet stops sidecars in the reverse of their order, from 1.29{hook}",
                            earlier.container, later.container
                        ),
                    ));
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
    }
    verdict
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

"""What differs between the Kubernetes minors the simulator serves (1.28 to 1.37).

Sources: shared/reference/sidecar-facts.md §1 (SidecarContainers: alpha/off 1.28, beta/on
1.29-1.32, GA locked 1.33-1.36, removed 1.37; component-base featuregate errors),
wave2-facts.md §5 (ContainerRestartRules alpha/off 1.34, beta/on 1.35), sidecar-facts §3
(SuccessCriteriaMet and FailureTarget from 1.31; PodReadyToStartContainers on from 1.29),
and §Termination order (serialized sidecar termination from 1.29).
"""

MINORS = range(28, 38)

# name -> {minor: (default, locked)}; a minor missing from the map does not know the gate.
GATES = {
    "SidecarContainers": {
        **{28: (False, False)},
        **{m: (True, False) for m in range(29, 33)},
        **{m: (True, True) for m in range(33, 37)},
    },
    "ContainerRestartRules": {
        34: (False, False),
        **{m: (True, False) for m in range(35, 38)},
    },
}


class GateError(Exception):
    """A component refuses to start with this gate setting (its exact words)."""


def resolve_gates(minor, settings):
    """The effective gates for a minor and a kind config's `featureGates`, or GateError.

    Only the gates modelled in GATES are checked: any other name is passed through as
    known, because the simulator cannot list every real gate of every minor.
    """
    effective = {}
    for name, per_minor in GATES.items():
        if minor in per_minor:
            effective[name] = per_minor[minor][0]
    for name, value in (settings or {}).items():
        if name in GATES:
            if minor not in GATES[name]:
                raise GateError(f"unrecognized feature gate: {name}")
            default, locked = GATES[name][minor]
            if locked and value != default:
                raise GateError(
                    f"cannot set feature gate {name} to {str(value).lower()}, "
                    f"feature is locked to {str(default).lower()}"
                )
            effective[name] = bool(value)
    return effective


def job_success_policy_conditions(minor):
    """1.31+: SuccessCriteriaMet / FailureTarget come before Complete / Failed."""
    return minor >= 31


def pod_ready_to_start_condition(minor):
    return minor >= 29


def serialized_sidecar_termination(minor):
    return minor >= 29


def relaxed_env_var_names(minor):
    """RelaxedEnvironmentVariableValidation: alpha 1.30, beta (on) 1.32, GA 1.34
    (pkg/features/kube_features.go): env names need only be printable ASCII without '='."""
    return minor >= 32


def job_status_terminating(minor):
    """JobPodReplacementPolicy beta (on) from 1.29 adds status.terminating."""
    return minor >= 29


GIT_VERSIONS = {
    28: "v1.28.15",
    29: "v1.29.14",
    30: "v1.30.13",
    31: "v1.31.12",
    32: "v1.32.8",
    33: "v1.33.7",
    34: "v1.34.3",
    35: "v1.35.8",
    36: "v1.36.4",
    37: "v1.37.0",
}

"""What differs between the Kubernetes minors the simulator serves (1.28 to 1.37).

Sources: kubernetes/kubernetes pkg/features/kube_features.go (the versioned specs: the
minor a gate appears in, its default and whether it is locked, per release), the PRs that
removed gates (SidecarContainers #137755 and JobSuccessPolicy, JobPodReplacementPolicy,
JobBackoffLimitPerIndex #138759, both merged after v1.36.0, so gone in 1.37;
JobPodFailurePolicy #129498, gone in 1.33), kubernetes/enhancements kep.yaml and PR #6186
(ContainerStopSignals beta in 1.37), shared/reference/sidecar-facts.md §1 and
wave2-facts.md §5; component-base featuregate (`unrecognized feature gate: X`, `cannot set
feature gate X to V, feature is locked to D`; AllAlpha and AllBeta are known to every
component).
"""

MINORS = range(28, 38)


def _stages(*spans):
    """(first, last, default, locked) spans -> {minor: (default, locked)}."""
    out = {}
    for first, last, default, locked in spans:
        for minor in range(first, last + 1):
            out[minor] = (default, locked)
    return out


# The gates a lab on kind may meet (pods, sidecars, Jobs, the kubelet's restarts and stop
# signals), name -> {minor: (default, locked)}; a minor missing from the map does not know
# the gate, and a name missing from GATES is known to no minor here.
GATES = {
    "SidecarContainers": _stages((28, 28, False, False), (29, 32, True, False), (33, 36, True, True)),
    "ContainerRestartRules": _stages((34, 34, False, False), (35, 37, True, False)),
    "ContainerStopSignals": _stages((33, 36, False, False), (37, 37, True, False)),
    "JobSuccessPolicy": _stages((30, 30, False, False), (31, 32, True, False), (33, 36, True, True)),
    "JobPodReplacementPolicy": _stages((28, 28, False, False), (29, 33, True, False), (34, 36, True, True)),
    "JobBackoffLimitPerIndex": _stages((28, 28, False, False), (29, 32, True, False), (33, 36, True, True)),
    "JobManagedBy": _stages((30, 31, False, False), (32, 34, True, False), (35, 37, True, True)),
    "JobPodFailurePolicy": _stages((28, 30, True, False), (31, 32, True, True)),
    "PodReadyToStartContainersCondition": _stages((28, 28, False, False), (29, 37, True, False)),
    "InPlacePodVerticalScaling": _stages((28, 32, False, False), (33, 34, True, False), (35, 37, True, True)),
    "PodLevelResources": _stages((32, 33, False, False), (34, 37, True, False)),
    "PodLifecycleSleepAction": _stages((29, 29, False, False), (30, 33, True, False), (34, 37, True, True)),
    "PodObservedGenerationTracking": _stages((33, 33, False, False), (34, 34, True, False), (35, 37, True, True)),
    "KubeletCrashLoopBackOffMax": _stages((32, 34, False, False), (35, 37, True, False)),
    "ReduceDefaultCrashLoopBackOffDecay": _stages((33, 37, False, False)),
    "RestartAllContainersOnContainerExits": _stages((35, 37, False, False)),
    "SidecarsRestartableDuringPodTermination": _stages((37, 37, False, False)),
    "AllAlpha": _stages((28, 37, False, False)),
    "AllBeta": _stages((28, 37, False, False)),
}


class GateError(Exception):
    """A component refuses to start with this gate setting (its exact words)."""


def resolve_gates(minor, settings):
    """The effective gates for a minor and a kind config's `featureGates`, or GateError.

    A name this minor does not know stops every component (`unrecognized feature gate`),
    as component-base's featuregate does (unsafeSetFromMap returns at the first one).
    """
    effective = {}
    for name, per_minor in GATES.items():
        if minor in per_minor:
            effective[name] = per_minor[minor][0]
    for name, value in (settings or {}).items():
        if name not in GATES or minor not in GATES[name]:
            raise GateError(f"unrecognized feature gate: {name}")
        default, locked = GATES[name][minor]
        if locked and value != default:
            raise GateError(
                f"cannot set feature gate {name} to {str(value).lower()}, "
                f"feature is locked to {str(default).lower()}"
            )
        effective[name] = bool(value)
    return effective


def delay_terminal_condition(minor, gates):
    """1.31+ (pkg/controller/job delayTerminalCondition: JobManagedBy or
    JobPodReplacementPolicy): FailureTarget / SuccessCriteriaMet first, and Failed /
    Complete only once no pod is terminating. 1.28-1.30 set Failed / Complete at once."""
    return minor >= 31 and bool(gates.get("JobManagedBy") or gates.get("JobPodReplacementPolicy"))


def pod_ready_to_start_condition(gates):
    return bool(gates.get("PodReadyToStartContainersCondition"))


def serialized_sidecar_termination(minor):
    return minor >= 29


def relaxed_env_var_names(minor):
    """RelaxedEnvironmentVariableValidation: alpha 1.30, beta (on) 1.32, GA 1.34
    (pkg/features/kube_features.go): env names need only be printable ASCII without '='."""
    return minor >= 32


def job_status_terminating(gates):
    """JobPodReplacementPolicy (beta, on from 1.29) adds status.terminating."""
    return bool(gates.get("JobPodReplacementPolicy"))


def stop_signals(minor, gates):
    """ContainerStopSignals (KEP-4960): the kubelet passes lifecycle.stopSignal to the
    runtime only with the gate on (alpha 1.33, beta 1.37)."""
    return minor >= 33 and bool(gates.get("ContainerStopSignals"))


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

//! Findings: things worth telling about a pod, each with a stable code for scripts and
//! one sentence for people.

use serde::Serialize;

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Explains something normal that looks odd (a sidecar's exit code 143).
    Info,
    /// Something went wrong, or the lesson did not happen.
    Problem,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub level: Level,
    pub message: String,
}

impl Finding {
    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            level: Level::Info,
            message: message.into(),
        }
    }

    pub fn problem(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            level: Level::Problem,
            message: message.into(),
        }
    }
}

/// The stable codes, one place to read them all.
pub(crate) mod code {
    /// Under `--variant native`, the server returned no init container with
    /// `restartPolicy: Always`: the SidecarContainers gate is off.
    pub(crate) const GATE_OFF: &str = "gate-off";
    /// The kubelet refused the pod (`InitContainerRestartPolicyForbidden`): the gate is on
    /// in the API server but off in the kubelet.
    pub(crate) const KUBELET_GATE_OFF: &str = "kubelet-gate-off";
    /// A sidecar finished before the last app container (Kubernetes 1.28's alpha).
    pub(crate) const SIDECAR_STOPPED_BEFORE_MAIN: &str = "sidecar-stopped-before-main";
    /// An app container started before a sidecar did.
    pub(crate) const MAIN_STARTED_BEFORE_SIDECAR: &str = "main-started-before-sidecar";
    /// A container cannot get its image.
    pub(crate) const IMAGE_PULL_FAILED: &str = "image-pull-failed";
    /// A container waits on another error (CrashLoopBackOff, CreateContainerConfigError, …).
    pub(crate) const CONTAINER_ERROR: &str = "container-error";
    /// An app container exited with a non-zero code.
    pub(crate) const APP_CONTAINER_FAILED: &str = "app-container-failed";
    /// The Job was ended by its activeDeadlineSeconds.
    pub(crate) const DEADLINE_EXCEEDED: &str = "deadline-exceeded";
    /// The pod is laid out as another variant than the one asked for.
    pub(crate) const VARIANT_MISMATCH: &str = "variant-mismatch";
    /// A sidecar exited non-zero after it was stopped: normal.
    pub(crate) const SIDECAR_EXIT_CODE: &str = "sidecar-exit-code";
    /// A sidecar was restarted.
    pub(crate) const SIDECAR_RESTARTED: &str = "sidecar-restarted";
    /// The pod cannot be scheduled.
    pub(crate) const UNSCHEDULABLE: &str = "unschedulable";
    /// Only the Job was given: the container timeline cannot be checked.
    pub(crate) const NO_POD: &str = "no-pod";
    /// The input holds other pods than the one judged.
    pub(crate) const OTHER_PODS: &str = "other-pods";
    /// The pod was being deleted in the latest snapshot.
    pub(crate) const POD_DELETED: &str = "pod-deleted";
    /// The input ended inside a document.
    pub(crate) const INPUT_TRUNCATED: &str = "input-truncated";
    /// A plain init container exited non-zero (or was OOMKilled): the pod cannot start.
    pub(crate) const INIT_CONTAINER_FAILED: &str = "init-container-failed";
    /// A sidecar restarted so often that its first start is no longer in the status:
    /// the start order cannot be checked from this input.
    pub(crate) const ORDER_NOT_VISIBLE: &str = "order-not-visible";
    /// The node stopped reporting (phase `Unknown`, NodeLost): the states shown are stale.
    pub(crate) const NODE_LOST: &str = "node-lost";
    /// A sidecar runs but is not started (its startupProbe has not passed): the app
    /// containers wait for it.
    pub(crate) const SIDECAR_NOT_STARTED: &str = "sidecar-not-started";
    /// The outcome is not the one the variant teaches, for no more specific reason.
    pub(crate) const UNEXPECTED_OUTCOME: &str = "unexpected-outcome";
    /// The API server refused the Job; its message says why.
    pub(crate) const API_REFUSED: &str = "api-refused";
    /// A container the step expects to restart never did.
    pub(crate) const NOT_RESTARTED: &str = "not-restarted";
    /// Two sidecars stopped in the order they were declared, not the reverse.
    pub(crate) const STOP_ORDER: &str = "stop-order";
    /// A ResourceQuota refused the pod; the API server's number beside the formula's.
    pub(crate) const QUOTA_EXCEEDED: &str = "quota-exceeded";
    /// The pod's effective request by the formula (KEP-753), with its own numbers.
    pub(crate) const EFFECTIVE_REQUEST: &str = "effective-request";
    /// A field kubectl sent is missing from the object the API server stored: it was
    /// dropped because the feature behind it is off on that server.
    pub(crate) const FIELD_DROPPED: &str = "field-dropped";
    /// An app container exited and another regular container still runs: from one
    /// snapshot it may yet exit by itself, so it is not (yet) a holder.
    pub(crate) const MAY_STILL_EXIT: &str = "may-still-exit";
    /// The input holds nothing of one of the step's Jobs.
    pub(crate) const JOB_MISSING: &str = "job-missing";
    /// A sidecar was killed by the kernel for using more memory than its limit.
    pub(crate) const SIDECAR_OOM_KILLED: &str = "sidecar-oom-killed";
    /// What the input shows of the API server (a refusal, a dropped or kept field) is
    /// another version's behaviour than the `--kubernetes` given.
    pub(crate) const VERSION_CONTRADICTED: &str = "version-contradicted";

    /// Every code, for files that name them (the exercises' mistakes).
    pub(crate) const ALL: [&str; 31] = [
        GATE_OFF,
        KUBELET_GATE_OFF,
        SIDECAR_STOPPED_BEFORE_MAIN,
        MAIN_STARTED_BEFORE_SIDECAR,
        IMAGE_PULL_FAILED,
        CONTAINER_ERROR,
        APP_CONTAINER_FAILED,
        DEADLINE_EXCEEDED,
        VARIANT_MISMATCH,
        SIDECAR_EXIT_CODE,
        SIDECAR_RESTARTED,
        UNSCHEDULABLE,
        NO_POD,
        OTHER_PODS,
        POD_DELETED,
        INPUT_TRUNCATED,
        INIT_CONTAINER_FAILED,
        ORDER_NOT_VISIBLE,
        NODE_LOST,
        SIDECAR_NOT_STARTED,
        UNEXPECTED_OUTCOME,
        API_REFUSED,
        NOT_RESTARTED,
        STOP_ORDER,
        QUOTA_EXCEEDED,
        EFFECTIVE_REQUEST,
        FIELD_DROPPED,
        MAY_STILL_EXIT,
        JOB_MISSING,
        SIDECAR_OOM_KILLED,
        VERSION_CONTRADICTED,
    ];
}

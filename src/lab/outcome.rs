//! The names of what a lab pod can be seen doing: the lab file states which one each
//! step expects, and the verdict engine decides which one a pod shows. The word lives
//! here, below both, so the lab file and the results name it without the engine.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What the latest snapshot of a lab pod (or its Job) shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The pod or Job failed, or a container waits on an error such as ImagePullBackOff.
    Failed,
    /// The pod succeeded, or the Job is Complete.
    Succeeded,
    /// An app container exited 0 while another app container keeps the pod running.
    SidecarHoldsPod,
    /// At least one app container has started and the pod has not finished.
    Running,
    /// The pod is still in its init phase: no app container has started.
    InitRunning,
    /// Not scheduled yet, or no container status yet.
    Pending,
    /// The API server refused the Job itself (`kubectl apply` failed: Invalid or
    /// Forbidden), so nothing ran.
    Refused,
    /// The Job was created but admission refuses its pods (a ResourceQuota): there is no
    /// pod, and the Job's `FailedCreate` events say why.
    NotAdmitted,
}

impl Outcome {
    /// Every outcome, in the order they are matched.
    pub const ALL: [Self; 8] = [
        Self::Failed,
        Self::Succeeded,
        Self::SidecarHoldsPod,
        Self::Running,
        Self::InitRunning,
        Self::Pending,
        Self::Refused,
        Self::NotAdmitted,
    ];

    /// The kebab-case name used in lab files and JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::SidecarHoldsPod => "sidecar-holds-pod",
            Self::Running => "running",
            Self::InitRunning => "init-running",
            Self::Pending => "pending",
            Self::Refused => "refused",
            Self::NotAdmitted => "not-admitted",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

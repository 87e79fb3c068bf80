//! What a step checks besides its outcome, as the lab file states it; the verdict
//! engine decides whether the checks hold.

use serde::{Deserialize, Serialize};

/// Checks beyond the outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Checks {
    /// Containers that must have been restarted at least once (`restartCount`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restarted: Vec<String>,
    /// Sidecars must stop after the app containers, in the reverse of their order in
    /// the spec (`finishedAt`), as the kubelet does from 1.29.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse_stop_order: bool,
    /// Show the pod's effective CPU request by the formula, and check it against the
    /// number a ResourceQuota's refusal names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requests: bool,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self.restarted.is_empty() && !self.reverse_stop_order && !self.requests
    }
}

//! Observation: Kubernetes objects as `kubectl get … -o json|yaml` prints them, turned
//! into typed Pods and Jobs with their history of snapshots.

pub mod dump;
pub(crate) mod history;
pub mod refusal;
pub(crate) mod step_objects;

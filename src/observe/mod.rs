//! Observation: Kubernetes objects as `kubectl get … -o json|yaml` prints them, turned
//! into typed Pods and Jobs with their history of snapshots.

pub mod dump;
pub mod history;
pub mod refusal;
pub mod step_objects;

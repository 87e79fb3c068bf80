//! A class on one shared cluster: each learner's locked-down namespace (rendered from
//! `templates/class-learner.yaml`), the plan that brings the cluster to it, the learner's
//! kubeconfig, and the class board judged from one read. Pure: no I/O here.

pub(crate) mod board;
pub(crate) mod capacity;
pub(crate) mod confinement;
pub(crate) mod duration;
pub(crate) mod kubeconfig;
pub mod objects;
pub(crate) mod plan;
pub mod policy;
pub(crate) mod prefix;

pub use prefix::ClassPrefix;

/// The class label lives with the lab's other labels, below the kubectl commands that
/// select by it.
pub use crate::lab::labels::CLASS_LABEL;

/// Labels shared with the lab's Jobs: one selector finds everything of the lab.
pub(crate) const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "sidecar-lab");

/// Who manages the object (the recommended label).
pub(crate) const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "sidecar-lab");

/// The ServiceAccount each learner acts as.
pub(crate) const LEARNER_ACCOUNT: &str = "learner";

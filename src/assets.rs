//! The data files compiled into the binary, so an installed `sidecar-lab` needs no
//! checkout: the Job and kind templates, the version matrix and the lab.

/// `templates/cy-job.yaml`: the lab Job in its native form.
pub const JOB_TEMPLATE: &str = include_str!("../templates/cy-job.yaml");

/// `templates/kind-cluster.yaml`: the kind cluster config, before it is filled in.
pub const KIND_CLUSTER_TEMPLATE: &str = include_str!("../templates/kind-cluster.yaml");

/// `templates/versions.yaml`: the version matrix.
pub const VERSION_MATRIX: &str = include_str!("../templates/versions.yaml");

/// `labs/native-sidecar.yaml`: the lab's steps.
pub const NATIVE_SIDECAR_LAB: &str = include_str!("../labs/native-sidecar.yaml");

/// The lab's exercises and the wrong answers it recognises, with their hints.
pub const EXERCISES: &str = include_str!("../labs/exercises.yaml");

/// `templates/class-learner.yaml`: one learner's objects when a class shares a cluster.
pub const CLASS_LEARNER_TEMPLATE: &str = include_str!("../templates/class-learner.yaml");

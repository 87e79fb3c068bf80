//! The labels on the lab's objects, in one place below the engine, the renderer and
//! the kubectl commands: each writes or selects by them, and none has to ask another.

/// The label that says which step a Job belongs to (steps may share a variant).
pub const STEP_LABEL: &str = "sidecar-lab/step";

/// Label on the Job and its pods naming the variant, so the lab can find its objects.
pub const VARIANT_LABEL: &str = "sidecar-lab/variant";

/// The label every class object carries: which class (the prefix without its trailing
/// `-`), so two classes on one cluster never touch each other's objects.
pub const CLASS_LABEL: &str = "sidecar-lab/class";

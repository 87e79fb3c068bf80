//! What this build is: the version, the git commit and the target, fixed at compile time
//! by `build.rs`. It sits below the dispatcher so every verb (and the results documents)
//! can name the build without reaching up into the crate root.

/// The version, the git commit and the target it was built for (`--version`, and the
/// results documents).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SIDECAR_LAB_GIT_COMMIT"),
    ", ",
    env!("SIDECAR_LAB_TARGET"),
    ")"
);

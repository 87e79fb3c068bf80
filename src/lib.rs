//! sidecar-lab: a hands-on lab for Kubernetes native sidecar containers.
//!
//! Data flows one way: templates and labs (`assets`, `matrix`, `lab`) → rendering
//! (`render`, pure) → observation (`observe`: kubectl dumps to typed objects) → verdict
//! (`verdict`, pure) → commands (`commands`, `app`) → the user (`ui`).

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

pub mod app;
pub mod assets;
pub mod board;
pub mod bundle;
pub mod class;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod doctor;
pub mod env;
pub mod exit;
pub mod http;
pub mod install;
pub mod interrupt;
pub mod kube;
pub mod lab;
pub mod matrix;
pub mod names;
pub mod observe;
pub mod platform;
pub mod render;
pub mod requests;
pub mod results;
pub mod runner;
pub mod session;
pub mod setup_plan;
pub mod state;
pub mod ui;
pub mod variant;
pub mod verdict;
pub mod version;
pub mod world;
pub mod yaml;

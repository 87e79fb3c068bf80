//! sidecar-lab: a hands-on lab for Kubernetes native sidecar containers.
//!
//! Data flows one way: templates and labs (`assets`, `matrix`, `lab`) → rendering
//! (`render`, pure) → observation (`observe`: kubectl dumps to typed objects) → verdict
//! (`verdict`, pure) → commands (`commands`, `app`) → the user (`ui`).
#![cfg_attr(
    test,
    allow(
        clippy::disallowed_methods,
        reason = "unit tests set up files and processes directly"
    )
)]

/// The build's version string, kept at the crate root for `--version` and the tests.
pub use build_info::VERSION;

pub mod app;
pub mod assets;
pub(crate) mod board;
pub(crate) mod build_info;
pub mod bundle;
pub mod class;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod doctor;
pub mod env;
pub mod exercise;
pub mod exit;
pub(crate) mod files;
pub mod http;
pub mod install;
pub(crate) mod interrupt;
pub(crate) mod kube;
pub mod lab;
pub mod matrix;
pub mod names;
pub mod observe;
pub mod platform;
pub mod render;
pub(crate) mod requests;
pub(crate) mod results;
pub mod runner;
pub mod session;
pub(crate) mod setup_plan;
pub(crate) mod state;
pub mod ui;
pub mod variant;
pub mod verdict;
pub mod version;
pub mod world;
pub mod yaml;

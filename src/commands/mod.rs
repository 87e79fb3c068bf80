//! One module per command: each takes its resolved arguments, does its work through the
//! `World` it is given (environment, printer, runner) and returns an exit status.

pub(crate) mod bundle;
pub(crate) mod check;
pub(crate) mod class;
pub(crate) mod doctor;
pub(crate) mod install;
pub(crate) mod render;
pub(crate) mod report;
pub mod session;
pub mod up;
pub(crate) mod versions;

pub use crate::session::workspace::{Where, lab};
pub use crate::world::World;

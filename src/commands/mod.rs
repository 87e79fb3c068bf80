//! One module per command: each takes its resolved arguments, does its work through the
//! `World` it is given (environment, printer, runner) and returns an exit status.

pub mod bundle;
pub mod check;
pub mod class;
pub mod doctor;
pub mod install;
pub mod render;
pub mod report;
pub mod session;
pub mod up;
pub mod versions;

pub use crate::session::workspace::{Where, lab};
pub use crate::world::World;

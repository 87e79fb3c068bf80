//! One module per command: each takes its resolved arguments, does its work through the
//! `World` it is given (environment, printer, runner) and returns an exit status.

pub mod check;
pub mod doctor;
pub mod install;
pub mod render;
pub mod session;
pub mod versions;

use crate::env::Environment;
use crate::runner::Runner;
use crate::ui::Printer;

/// Everything a command needs from the world: the environment read at start-up, where
/// output goes, and what runs other programs.
pub struct World<'a> {
    pub environment: &'a Environment,
    pub printer: &'a Printer,
    pub runner: &'a dyn Runner,
}

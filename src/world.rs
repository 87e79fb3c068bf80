//! The seams every command and session works through: the environment read at start-up,
//! where output goes, and what runs other programs. Below `commands` and `session`, so
//! both can take it without an import running upwards.

use crate::clock::Clock;
use crate::env::Environment;
use crate::runner::Runner;
use crate::ui::Printer;

/// Everything a command needs from the world.
pub struct World<'a> {
    pub environment: &'a Environment,
    pub printer: &'a Printer,
    pub runner: &'a dyn Runner,
    /// What "now" is and how waits pass; a fake one in tests.
    pub clock: &'a dyn Clock,
}

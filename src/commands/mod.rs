//! One module per command: each takes its resolved arguments, does its work through the
//! `World` it is given (environment, printer, runner) and returns an exit status.

pub(crate) mod bundle;
pub(crate) mod check;
pub(crate) mod class;
pub(crate) mod doctor;
pub mod exercise;
pub(crate) mod install;
pub(crate) mod render;
pub(crate) mod report;
pub mod session;
pub mod submit;
pub mod up;
pub(crate) mod versions;

pub use crate::session::workspace::{Where, lab};
pub use crate::world::World;

/// Asks once before a verb changes the machine (`--yes` answers for the user); on "no"
/// says that nothing was changed.
pub(crate) fn go_ahead(yes: bool, world: &World<'_>) -> bool {
    let go = crate::ui::prompt::confirm("Go ahead?", yes, world.environment.stdin_is_terminal);
    if !go {
        world.printer.note("nothing was changed");
    }
    go
}

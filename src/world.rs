//! The seams every command and session works through: the environment read at start-up,
//! where output goes, what runs other programs, the HTTP client and the clock. Below
//! `commands` and `session`, so both can take it without an import running upwards.

use crate::clock::Clock;
use crate::env::Environment;
use crate::http::LazyHttpClient;
use crate::runner::Runner;
use crate::ui::Printer;

/// Everything a command needs from the world.
pub struct World<'a> {
    pub environment: &'a Environment,
    pub printer: &'a Printer,
    pub runner: &'a dyn Runner,
    /// Downloads (tools, bundles); made on first use.
    pub http: &'a LazyHttpClient,
    /// What "now" is and how waits pass; a fake one in tests.
    pub clock: &'a dyn Clock,
}

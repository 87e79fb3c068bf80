//! `sidecar-lab class up|down|status|board`: a class on one shared cluster. Each verb reads
//! the cluster first (`read`), plans (pure, in `class::plan`), shows the plan (`ui::class`),
//! asks, then acts.

mod board;
mod down;
mod read;
mod status;
mod tokens;
mod up;

pub use board::{BoardSettings, board};
pub use down::{DownSettings, down};
pub use status::{StatusSettings, status};
pub use up::{UpSettings, up};

//! `sidecar-lab class up|down|status|board`: a class on one shared cluster. Each verb reads
//! the cluster first (`read`), plans (pure, in `class::plan`), shows the plan (`ui::class`),
//! asks, then acts.

mod board;
mod down;
mod read;
mod status;
mod tokens;
mod up;

pub(crate) use board::{BoardSettings, board};
pub(crate) use down::{DownSettings, down};
pub(crate) use status::{StatusSettings, status};
pub(crate) use up::{UpSettings, up};

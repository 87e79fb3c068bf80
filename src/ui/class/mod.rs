//! What `class up`, `class down`, `class status`, `class board` and `report` show: the
//! plans (`plan`), and the board (`board`: one row per learner, one column per step) with
//! what went wrong below it. Values in, text out.

mod board;
mod plan;

pub(crate) use board::{
    beyond_localhost_warning, board, board_announcement, cell_lines, no_learners, summary,
    unspecified_address_note,
};
pub(crate) use plan::{
    UpDone, UpSummary, confinement, down_done, down_nothing, down_plan, human_duration,
    loopback_warning, unenforced, up_done, up_json, up_plan, up_unchanged,
};

#[cfg(test)]
mod tests;

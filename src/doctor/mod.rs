//! Preflight checks: the handful of host problems behind most failed workshop setups,
//! each found before `kind create cluster` times out on it, explained in one line, with
//! the command that fixes it. Facts are gathered once (`gather`); every check is a pure
//! function of them (`checks`); `fix` turns the safe fixes into commands.

pub mod checks;
pub(crate) mod fix;
pub(crate) mod gather;

use serde::Serialize;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One check's result; `id` is stable, for scripts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    /// The exact command (or action) that fixes it.
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(id: &'static str, message: impl Into<String>) -> Self {
        Self {
            id,
            status: Status::Pass,
            message: message.into(),
            fix: None,
        }
    }

    pub fn warn(id: &'static str, message: impl Into<String>, fix: Option<String>) -> Self {
        Self {
            id,
            status: Status::Warn,
            message: message.into(),
            fix,
        }
    }

    pub fn fail(id: &'static str, message: impl Into<String>, fix: Option<String>) -> Self {
        Self {
            id,
            status: Status::Fail,
            message: message.into(),
            fix,
        }
    }
}

/// True when some check failed.
pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}

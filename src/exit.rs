//! How the process ends: one status per outcome, with the exit codes the README lists.

/// How the process ends; the numbers are documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done; every step judged was expected.
    Success,
    /// 1: a step or a check was unexpected, or doctor found a failure.
    Unexpected,
    /// 2: usage or setup error (also any `Err` from `run`).
    UsageOrSetup,
    /// 3: `check` could not decide yet.
    Undecided,
    /// 130: interrupted by Ctrl-C.
    Interrupted,
}

impl ExitStatus {
    pub const fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Unexpected => 1,
            Self::UsageOrSetup => 2,
            Self::Undecided => 3,
            Self::Interrupted => 130,
        }
    }
}

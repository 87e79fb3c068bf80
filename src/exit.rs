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

/// An error and its causes on one line, each cause once: a cause whose text the message
/// already holds (an error that prints its source, as most of ours do) is not repeated.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

#[cfg(test)]
mod one_line_tests {
    use super::one_line;

    #[derive(Debug, thiserror::Error)]
    #[error("lab file `a.yaml` is malformed: {source}")]
    struct Malformed {
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_printed_once() {
        let inner = std::io::Error::other("unknown field `not`");
        let error = anyhow::Error::new(Malformed { source: inner });
        assert_eq!(
            one_line(&error),
            "lab file `a.yaml` is malformed: unknown field `not`"
        );
        let chained = anyhow::anyhow!("no such file").context("cannot read `x`");
        assert_eq!(one_line(&chained), "cannot read `x`: no such file");
    }
}

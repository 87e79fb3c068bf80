//! The verdict engine: objects in, verdict out. From the latest snapshot of the pod (and
//! its Job) it decides the outcome; from all snapshots it builds the container timeline;
//! against a variant it decides whether the outcome is what that variant teaches. No I/O.

mod applied;
mod checks;
pub(crate) mod containers;
mod deadline;
mod decide;
pub mod explain;
pub(crate) mod finding;
mod judge;
pub(crate) mod outcome;
mod pod_findings;
pub mod step;
pub(crate) mod timeline;

use std::fmt;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;
use serde::Serialize;

pub use crate::lab::Outcome;
pub(crate) use applied::dropped_restart_policies;
pub use finding::{Finding, Level};
pub use judge::judge_expecting;

use crate::lab::Checks;
use crate::observe::dump::Dump;
use crate::variant::Variant;
use finding::code;
use timeline::Timeline;

/// Whether the outcome is what the variant teaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Expected,
    Unexpected,
    /// It may still get there (the pod is still starting, say).
    Undecided,
}

impl Verdict {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::Undecided => "undecided",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome each variant teaches.
pub const fn taught_outcome(variant: Variant) -> Outcome {
    match variant {
        Variant::Init => Outcome::InitRunning,
        Variant::Sidecar => Outcome::SidecarHoldsPod,
        Variant::Native => Outcome::Succeeded,
    }
}

/// Everything the engine concluded.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub outcome: Outcome,
    /// What decided the outcome, in one sentence.
    pub outcome_message: String,
    pub variant: Option<Variant>,
    /// The outcome it was judged against: the variant's own, or what the step teaches
    /// on this cluster (a quota, a version rule).
    pub expected: Option<Outcome>,
    pub verdict: Option<Verdict>,
    pub findings: Vec<Finding>,
    pub timeline: Timeline,
    pub pod: Option<String>,
    pub job: Option<String>,
    /// The Job has finished: `Complete` or `Failed` is True.
    pub job_done: bool,
}

impl Judgement {
    /// True when a finding with `code` was made.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// What a step expects: its variant, the outcome it teaches (which may differ from the
/// variant's own, as with a quota or a version rule), and the checks beyond the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub variant: Variant,
    pub outcome: Outcome,
    pub checks: Checks,
}

impl Expectation {
    /// What the variant itself teaches, nothing more.
    pub fn taught(variant: Variant) -> Self {
        Self {
            variant,
            outcome: taught_outcome(variant),
            checks: Checks::default(),
        }
    }
}

/// Judges the dump, against `variant` when one is given.
pub fn judge(dump: &Dump, variant: Option<Variant>) -> Judgement {
    judge_expecting(dump, variant.map(Expectation::taught).as_ref())
}

/// The judgement of a watch that saw a pod held by a regular container for `seconds`,
/// longer than a container that exits by itself would take: what one snapshot leaves
/// undecided (`may-still-exit`) is then a holder, and a step expecting success failed.
pub fn held_past(mut judgement: Judgement, seconds: u64) -> Judgement {
    if judgement.outcome == Outcome::SidecarHoldsPod
        && judgement.verdict == Some(Verdict::Undecided)
        && judgement.has(code::MAY_STILL_EXIT)
    {
        judgement.verdict = Some(Verdict::Unexpected);
        judgement
            .findings
            .retain(|f| f.code != code::MAY_STILL_EXIT);
        judgement.findings.push(Finding::problem(
            code::UNEXPECTED_OUTCOME,
            format!(
                "{} for {seconds} s: a regular container holds the pod, so the Job cannot complete",
                judgement.outcome_message
            ),
        ));
    }
    judgement
}

/// The judgement of a Job the API server refused: `message` is its answer.
pub fn judge_refusal(message: &str, expectation: &Expectation) -> Judgement {
    let expected = expectation.outcome == Outcome::Refused;
    let finding = Finding {
        code: code::API_REFUSED,
        level: if expected {
            Level::Info
        } else {
            Level::Problem
        },
        message: format!("the API server refused the Job: {message}"),
    };
    Judgement {
        outcome: Outcome::Refused,
        outcome_message: message.to_owned(),
        variant: Some(expectation.variant),
        expected: Some(expectation.outcome),
        verdict: Some(if expected {
            Verdict::Expected
        } else {
            Verdict::Unexpected
        }),
        findings: vec![finding],
        timeline: Timeline::default(),
        pod: None,
        job: None,
        job_done: true,
    }
}

/// The pod template of `job`.
fn template_spec(job: &Job) -> Option<&PodSpec> {
    job.spec.as_ref()?.template.spec.as_ref()
}

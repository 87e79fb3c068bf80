//! Lab results in the shapes people keep them: one suite per learner (or VM), one case
//! per step. `class status` and `report` build them; JSON and JUnit XML write them;
//! `report --merge` joins files from many VMs. Pure.

pub(crate) mod exercises;
pub(crate) mod junit;
pub(crate) mod merge;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub(crate) use exercises::{ExerciseResult, exercise_results};

use crate::lab::{Outcome, StepNumber};
use crate::variant::Variant;

/// The `apiVersion` of a results document.
pub(crate) const API_VERSION: &str = "sidecar-lab/v1alpha1";
/// The `kind` of a results document.
pub(crate) const KIND: &str = "LabResults";

/// How `class status` and `report` print results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResultsFormat {
    /// A table, for people.
    Text,
    /// The results document.
    Json,
    /// JUnit XML.
    Junit,
}

/// Everything one report holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Results {
    pub api_version: String,
    pub kind: String,
    /// When the results were read, RFC 3339.
    pub generated_at: String,
    /// Where they come from: `class status on context kind-lab`, `report on vm-07`.
    pub source: String,
    pub suites: Vec<Suite>,
}

/// One learner's (or one VM's) steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Suite {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Facts about where the steps ran (Kubernetes version, context).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    pub steps: Vec<StepResult>,
    /// The learner's exercises (`sidecar-lab submit`): every one of the catalogue, tried
    /// or not. Absent from files written before exercises existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercises: Vec<ExerciseResult>,
}

/// Where a step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum StepState {
    /// Judged: what the variant teaches.
    Expected,
    /// Judged: not what the variant teaches.
    Unexpected,
    /// Its Job is there and not decided yet (or the outcome has not held long enough).
    Running,
    /// Its Job has ended without a decision (the pod is gone, the node was lost).
    Undecided,
    /// `sidecar-lab step` gave up waiting.
    TimedOut,
    /// `sidecar-lab step` was stopped (Ctrl-C).
    Interrupted,
    NotStarted,
    /// The cluster's version cannot run the step.
    Skipped,
}

impl StepState {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::Running => "running",
            Self::Undecided => "undecided",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
            Self::NotStarted => "not started",
            Self::Skipped => "skipped",
        }
    }
}

/// One step's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct StepResult {
    pub step: StepNumber,
    pub title: String,
    pub variant: Variant,
    /// A step beyond the three variants: a learner is done without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    pub state: StepState,
    /// The outcome the step teaches.
    pub expect: Outcome,
    /// The outcome seen, when the step ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// How long the step has run (or ran), in seconds.
    pub seconds: u64,
    /// When it last changed, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The finding that decided a result that is not `expected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// What happened, in a sentence or two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Counts over all suites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Totals {
    pub suites: usize,
    /// Suites whose every required step is `expected`.
    pub done: usize,
    pub steps: usize,
    pub expected: usize,
    pub unexpected: usize,
    pub running: usize,
    /// Undecided or timed out.
    pub undecided: usize,
    pub not_started: usize,
    /// Exercises listed, over all suites.
    pub exercises: usize,
    /// Of those, solved.
    pub solved: usize,
    /// Tried and not solved.
    pub failing: usize,
}

impl Results {
    pub(crate) fn new(generated_at: String, source: String, suites: Vec<Suite>) -> Self {
        Self {
            api_version: API_VERSION.to_owned(),
            kind: KIND.to_owned(),
            generated_at,
            source,
            suites,
        }
    }

    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals {
            suites: self.suites.len(),
            ..Totals::default()
        };
        for suite in &self.suites {
            let mut required = suite.steps.iter().filter(|s| !s.optional).peekable();
            if required.peek().is_some() && required.all(|s| s.state == StepState::Expected) {
                totals.done += 1;
            }
            for exercise in &suite.exercises {
                totals.exercises += 1;
                totals.solved += usize::from(exercise.solved);
                totals.failing += usize::from(exercise.failing());
            }
            for step in &suite.steps {
                totals.steps += 1;
                match step.state {
                    StepState::Expected => totals.expected += 1,
                    StepState::Unexpected => totals.unexpected += 1,
                    StepState::Running => totals.running += 1,
                    StepState::Undecided | StepState::TimedOut => totals.undecided += 1,
                    StepState::Interrupted | StepState::NotStarted | StepState::Skipped => {
                        totals.not_started += 1;
                    }
                }
            }
        }
        totals
    }

    /// The JSON document, pretty and ending with a newline.
    pub(crate) fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

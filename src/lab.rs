//! The lab as data (`labs/*.yaml`): its steps, what each expects and why, the outcomes
//! and checks a step names, and the labels on the lab's objects. The bottom of the
//! engine: the renderer, the verdict engine and the kubectl commands all speak these
//! words, and nothing here imports them. Reading a lab file and checking it as a whole
//! (which renders its Jobs) is `render::lab_file`.

mod checks;
pub(crate) mod labels;
mod outcome;
mod progress;
pub(crate) mod progress_map;
mod step;

use serde::{Deserialize, Serialize};

pub use checks::Checks;
pub use outcome::Outcome;
pub use progress::{
    AttemptResult, EXERCISE_LABEL, ExerciseNumber, ExerciseRecord, PROGRESS_CONFIGMAP,
};
pub use step::{AlsoRun, Edit, Step, VersionRule};

use crate::variant::Variant;

/// The `apiVersion` every lab file carries.
pub const API_VERSION: &str = "sidecar-lab/v1alpha1";

/// The placeholders `try` commands may use.
pub const PLACEHOLDERS: [&str; 2] = ["job", "namespace"];

/// A step's number, counting from 1 as the learner does: the same type from the command
/// line (`sidecar-lab step 3`) to the state file's keys.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct StepNumber(pub u32);

impl std::fmt::Display for StepNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for StepNumber {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Self(n)),
            _ => Err(format!("`{text}` is not a step number (1, 2, 3, …)")),
        }
    }
}

/// A whole lab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lab {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

impl Lab {
    /// The steps with their numbers, from 1.
    pub fn numbered(&self) -> impl Iterator<Item = (StepNumber, &Step)> {
        (1u32..).map(StepNumber).zip(&self.steps)
    }

    /// Step `number`, counting from 1 as the learner does.
    pub fn step(&self, number: StepNumber) -> Option<&Step> {
        usize::try_from(number.0)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|index| self.steps.get(index))
    }

    /// The lab's step numbers, in order.
    pub fn numbers(&self) -> impl Iterator<Item = StepNumber> + '_ {
        (1..=self.steps.len()).filter_map(|n| u32::try_from(n).ok().map(StepNumber))
    }

    /// Every problem in the lab, so a lab author fixes them in one go.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.api_version != API_VERSION {
            problems.push(format!(
                "apiVersion is `{}`, expected `{API_VERSION}`",
                self.api_version
            ));
        }
        if self.kind != "Lab" {
            problems.push(format!("kind is `{}`, expected `Lab`", self.kind));
        }
        for (field, value) in [("name", &self.name), ("title", &self.title)] {
            if value.trim().is_empty() {
                problems.push(format!("{field} is empty"));
            }
        }
        if self.steps.is_empty() {
            problems.push("steps is empty: a lab needs at least one step".to_owned());
        }
        for (index, step) in self.steps.iter().enumerate() {
            let at = format!("steps[{index}]");
            for (field, value) in [
                ("title", &step.title),
                ("whatYouSee", &step.what_you_see),
                ("why", &step.why),
            ] {
                if value.trim().is_empty() {
                    problems.push(format!("{at}.{field} is empty"));
                }
            }
            for (n, rule) in step.by_version.iter().enumerate() {
                if rule.what_you_see.trim().is_empty() {
                    problems.push(format!("{at}.byVersion[{n}].whatYouSee is empty"));
                }
                if n > 0 && step.by_version[n - 1].through >= rule.through {
                    problems.push(format!(
                        "{at}.byVersion[{n}].through ({}) must be newer than the rule before it ({})",
                        rule.through,
                        step.by_version[n - 1].through
                    ));
                }
            }
            let mut variants: Vec<Variant> = step.runs(None).iter().map(|r| r.0).collect();
            variants.sort_by_key(|v| v.name());
            variants.dedup();
            if variants.len() != step.runs(None).len() {
                problems.push(format!(
                    "{at}.also repeats a variant: each runs once per step"
                ));
            }
            if step.timeout_seconds == 0 {
                problems.push(format!("{at}.timeoutSeconds must be more than 0"));
            }
            if step.hold_seconds >= step.timeout_seconds && step.timeout_seconds > 0 {
                problems.push(format!(
                    "{at}.holdSeconds ({}) must be less than timeoutSeconds ({})",
                    step.hold_seconds, step.timeout_seconds
                ));
            }
            for (n, command) in step.try_commands.iter().enumerate() {
                for name in placeholders(command) {
                    if !PLACEHOLDERS.contains(&name) {
                        problems.push(format!(
                            "{at}.try[{n}] uses unknown placeholder {{{{{name}}}}} (known: {{{{job}}}}, {{{{namespace}}}})"
                        ));
                    }
                }
            }
        }
        problems
    }
}

/// The names inside `{{…}}` in `text`.
fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        names.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_between_double_braces_only() {
        assert_eq!(
            placeholders("a {{job}} b {.x} {{ namespace }} {{open"),
            ["job", "namespace"]
        );
    }
}

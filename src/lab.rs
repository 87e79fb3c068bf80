//! The lab as data (`labs/*.yaml`): its steps, what each expects and why, and the
//! commands a learner types. Decoded strictly and checked as a whole, so a typo in a
//! lab file is an error that names the field instead of a silently ignored line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::assets;
use crate::names::JobName;
use crate::variant::Variant;
use crate::verdict::Outcome;
use crate::version::MinorVersion;
use crate::yaml;

/// The `apiVersion` every lab file carries.
pub const API_VERSION: &str = "sidecar-lab/v1alpha1";

/// The placeholders `try` commands may use.
pub const PLACEHOLDERS: [&str; 2] = ["job", "namespace"];

/// A whole lab.
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

/// One step: one variant of the Job, run and judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step {
    pub title: String,
    pub variant: Variant,
    /// The outcome this step teaches.
    pub expect: Outcome,
    /// How long the outcome must hold before it is believed (for outcomes that never
    /// end, such as `init-running`); 0 decides at once.
    pub hold_seconds: u64,
    /// How long the step may take in all before it is given up.
    pub timeout_seconds: u64,
    /// What the learner will see.
    pub what_you_see: String,
    /// Why it happens.
    pub why: String,
    /// kubectl commands to see it for oneself; `{{job}}` and `{{namespace}}` are filled in.
    #[serde(rename = "try")]
    pub try_commands: Vec<String>,
    /// The step's Job name (default `cy-job-<variant>`): steps that share a variant need
    /// names of their own, or one would replace the other's Job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobName>,
    /// `up` runs it only with `--all`; `step N` runs it always.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// The oldest Kubernetes minor that can run it: older clusters skip it, with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kubernetes: Option<MinorVersion>,
    /// What older clusters do instead, oldest first: the first rule whose `through` is
    /// at or above the cluster's minor applies; newer clusters get `expect`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_version: Vec<VersionRule>,
    /// How the step's Job differs from its variant.
    #[serde(default, skip_serializing_if = "Edit::is_empty")]
    pub edit: Edit,
    /// What is checked besides the outcome.
    #[serde(default, skip_serializing_if = "Checks::is_empty")]
    pub check: Checks,
    /// Other variants run in the same step, each its own Job (`<job>-<variant>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<AlsoRun>,
    /// A ResourceQuota (`spec.hard`) the step creates in its namespace before its Jobs,
    /// and removes when it is done.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub quota: std::collections::BTreeMap<String, String>,
}

/// The outcome taught on clusters up to `through` (and newer than the rule before), and
/// what the learner sees there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VersionRule {
    /// The newest minor the rule covers.
    pub through: MinorVersion,
    pub expect: Outcome,
    pub what_you_see: String,
    /// With `expect: refused`: words the API server's refusal carries (its cause), so
    /// that a refusal for another reason is not taken for the lesson.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// Changes to a step's Job, as data: fields merged into named containers (a JSON merge
/// patch: objects merge, anything else replaces, `null` removes), sidecars added after
/// the init containers, and fields merged into the pod spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Edit {
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub containers: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_sidecars: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<serde_json::Value>,
}

impl Edit {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.add_sidecars.is_empty() && self.pod.is_none()
    }
}

/// Checks beyond the outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Checks {
    /// Containers that must have been restarted at least once (`restartCount`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restarted: Vec<String>,
    /// Sidecars must stop after the app containers, in the reverse of their order in
    /// the spec (`finishedAt`), as the kubelet does from 1.29.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse_stop_order: bool,
    /// Show the pod's effective CPU request by the formula, and check it against the
    /// number a ResourceQuota's refusal names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requests: bool,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self.restarted.is_empty() && !self.reverse_stop_order && !self.requests
    }
}

/// Another variant the step runs beside its own, with the outcome it expects there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlsoRun {
    pub variant: Variant,
    pub expect: Outcome,
}

impl Step {
    /// Every variant the step runs, its own first, with the outcome each expects on a
    /// cluster of `minor`.
    pub fn runs(&self, minor: Option<MinorVersion>) -> Vec<(Variant, Outcome)> {
        let mut runs = vec![(self.variant, self.expect_on(minor))];
        runs.extend(self.also.iter().map(|a| (a.variant, a.expect)));
        runs
    }

    /// The version rule for a cluster of `minor`; `None` on the newest clusters (and when
    /// the minor is unknown: the newest rule is the step's own).
    pub fn rule_on(&self, minor: Option<MinorVersion>) -> Option<&VersionRule> {
        let minor = minor?;
        self.by_version.iter().find(|rule| minor <= rule.through)
    }

    /// The outcome taught on a cluster of `minor` (the newest rule when unknown).
    pub fn expect_on(&self, minor: Option<MinorVersion>) -> Outcome {
        self.rule_on(minor).map_or(self.expect, |rule| rule.expect)
    }

    /// What the learner sees on a cluster of `minor`.
    pub fn what_you_see_on(&self, minor: Option<MinorVersion>) -> &str {
        self.rule_on(minor)
            .map_or(&self.what_you_see, |rule| &rule.what_you_see)
    }

    /// The versions a rule covers, as a learner reads them: `up to 1.33`, `on 1.34`,
    /// `from 1.35`. `index` is the rule's place in `by_version`, or its length for the
    /// step's own outcome.
    pub fn rule_span(&self, index: usize) -> String {
        let after = index
            .checked_sub(1)
            .and_then(|i| self.by_version.get(i))
            .map(|rule| rule.through);
        match (after, self.by_version.get(index)) {
            (None, Some(rule)) => format!("up to {}", rule.through),
            (Some(after), Some(rule)) if after.next() == rule.through => {
                format!("on {}", rule.through)
            }
            (Some(after), Some(rule)) => format!("from {} to {}", after.next(), rule.through),
            (Some(after), None) => format!("from {}", after.next()),
            (None, None) => "on every version".to_owned(),
        }
    }

    /// The span of the rule that applies on a cluster of `minor`, when the step has
    /// version rules and the minor is known.
    pub fn span_on(&self, minor: Option<MinorVersion>) -> Option<String> {
        let minor = minor.filter(|_| !self.by_version.is_empty())?;
        let index = self
            .by_version
            .iter()
            .position(|rule| minor <= rule.through)
            .unwrap_or(self.by_version.len());
        Some(self.rule_span(index))
    }

    /// Why a cluster of `minor` cannot run the step, if it cannot.
    pub fn skip_reason(&self, minor: Option<MinorVersion>) -> Option<String> {
        let (Some(needed), Some(minor)) = (self.min_kubernetes, minor) else {
            return None;
        };
        (minor < needed)
            .then(|| format!("needs Kubernetes {needed} or later; this cluster runs {minor}"))
    }
}

/// A lab file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("cannot read lab file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("lab file `{origin}` is malformed: {source}")]
    Decode {
        origin: String,
        source: yaml::YamlError,
    },
    /// Too large or too deeply nested: refused before it is parsed.
    #[error(transparent)]
    Bounds(#[from] crate::render::bounds::BoundsError),
    #[error("lab file `{origin}` is invalid: {}", .problems.join("; "))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
}

impl Lab {
    /// The lab compiled into the binary.
    pub fn embedded() -> Result<Self, LabError> {
        Self::parse(assets::NATIVE_SIDECAR_LAB, "labs/native-sidecar.yaml")
    }

    /// Reads and checks the lab file at `path`.
    pub fn load(path: &Path) -> Result<Self, LabError> {
        use crate::render::bounds;
        let name = path.display().to_string();
        let read = |source| LabError::Read {
            path: name.clone(),
            source,
        };
        // Only a regular file: `--lab` on a FIFO would wait for ever for a writer, and
        // `/dev/zero` is refused too. It is read through the shared cap.
        let file = bounds::open_regular(path).map_err(|error| match error {
            bounds::OpenError::Io(source) => read(source),
            not_regular @ bounds::OpenError::NotRegular => {
                read(std::io::Error::other(not_regular.to_string()))
            }
        })?;
        let bytes = bounds::read_stream(file, &name, bounds::LAB_FILE)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            read(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        Self::parse(&text, &name)
    }

    /// Decodes and checks lab text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, LabError> {
        // Size and depth first: the YAML parser recurses, and 100,000 `[` took it a minute.
        crate::render::bounds::check(text.as_bytes(), origin, crate::render::bounds::LAB_FILE)?;
        let lab: Self = yaml::from_str(text).map_err(|source| LabError::Decode {
            origin: origin.to_owned(),
            source,
        })?;
        let mut problems = lab.problems();
        problems.extend(lab.privilege_problems());
        if problems.is_empty() {
            Ok(lab)
        } else {
            Err(LabError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

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

    /// Fields of a step's Jobs (the template with the step's `edit`) that Pod Security
    /// `baseline` forbids, or that reach past a learner's confinement (an account, its
    /// token, a Secret, a node by name, a priority class: `render::pod_reach`): a lab file
    /// may change the lab, never give its pods power over the node or other learners, in
    /// a class's namespace or on a learner's own VM alike. An edit that does
    /// not render at all is reported when the step runs, as before.
    fn privilege_problems(&self) -> Vec<String> {
        let Ok(template) = crate::render::job::parse_template(assets::JOB_TEMPLATE) else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (index, (number, step)) in self.numbered().enumerate() {
            let Ok(runs) = crate::render::step::step_runs(&template, number, step, None) else {
                continue;
            };
            for run in runs {
                for violation in crate::render::pod_security::check_job(&run.job) {
                    problems.push(format!(
                        "steps[{index}].edit makes Job `{}` break Pod Security `baseline` at {violation}: remove that from the edit",
                        run.name.as_str()
                    ));
                }
                for reach in crate::render::pod_reach::check_job(&run.job) {
                    problems.push(format!(
                        "steps[{index}].edit makes Job `{}` set {}, which a lab may not ({}): remove that from the edit",
                        run.name.as_str(),
                        reach.field,
                        reach.reason
                    ));
                }
            }
        }
        problems
    }

    /// Every problem in the lab, so a lab author fixes them in one go.
    fn problems(&self) -> Vec<String> {
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

impl Step {
    /// The `try` commands with the placeholders filled in.
    pub fn commands(&self, job: &str, namespace: &str) -> Vec<String> {
        self.try_commands
            .iter()
            .map(|command| {
                command
                    .replace("{{job}}", job)
                    .replace("{{namespace}}", namespace)
            })
            .collect()
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
    fn the_embedded_lab_has_the_three_variants_in_order() {
        let lab = Lab::embedded().expect("valid");
        let steps: Vec<(Variant, Outcome)> = lab
            .steps
            .iter()
            .filter(|s| !s.optional)
            .map(|s| (s.variant, s.expect))
            .collect();
        assert_eq!(
            steps,
            [
                (Variant::Init, Outcome::InitRunning),
                (Variant::Sidecar, Outcome::SidecarHoldsPod),
                (Variant::Native, Outcome::Succeeded),
            ]
        );
        assert_eq!(
            lab.step(StepNumber(3)).map(|s| s.variant),
            Some(Variant::Native)
        );
        assert!(lab.step(StepNumber(0)).is_none() && lab.step(StepNumber(99)).is_none());
        assert!("0".parse::<StepNumber>().is_err() && "x".parse::<StepNumber>().is_err());
        assert_eq!("2".parse::<StepNumber>(), Ok(StepNumber(2)));
    }

    #[test]
    fn the_lab_round_trips() {
        let lab = Lab::embedded().expect("valid");
        let text = yaml::to_string(&lab).expect("encodes");
        assert_eq!(Lab::parse(&text, "round trip").expect("decodes"), lab);
    }

    #[test]
    fn an_unknown_field_is_named() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen("holdSeconds", "holdSecs", 1);
        let error = Lab::parse(&text, "bad.yaml").expect_err("strict");
        let message = error.to_string();
        assert!(
            message.contains("bad.yaml") && message.contains("holdSecs"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_outcome_or_variant_is_named() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen("expect: init-running", "expect: stuck", 1);
        let message = Lab::parse(&text, "bad.yaml")
            .expect_err("bad outcome")
            .to_string();
        assert!(
            message.contains("stuck") && message.contains("init-running"),
            "{message}"
        );
        let text = assets::NATIVE_SIDECAR_LAB.replacen("variant: init", "variant: initial", 1);
        let message = Lab::parse(&text, "bad.yaml")
            .expect_err("bad variant")
            .to_string();
        assert!(message.contains("initial"), "{message}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let text = assets::NATIVE_SIDECAR_LAB
            .replacen("kind: Lab", "kind: Labb", 1)
            .replacen("holdSeconds: 10", "holdSeconds: 500", 1)
            .replacen("job-name={{job}}", "job-name={{jobname}}", 1);
        let Err(LabError::Invalid { problems, .. }) = Lab::parse(&text, "bad.yaml") else {
            panic!("expected an invalid lab");
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[2].contains("{{jobname}}"), "{problems:#?}");
    }

    #[test]
    fn an_edit_that_adds_privilege_is_refused_with_the_file_and_field() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen(
            "    edit:\n      containers:\n        postgres:\n",
            "    edit:\n      pod:\n        hostPID: true\n      containers:\n        postgres:\n          securityContext:\n            privileged: true\n",
            1,
        );
        assert_ne!(text, assets::NATIVE_SIDECAR_LAB, "the edit was not made");
        let error = Lab::parse(&text, "labs/evil.yaml").expect_err("refused");
        let message = error.to_string();
        assert!(
            message.starts_with("lab file `labs/evil.yaml` is invalid: "),
            "{message}"
        );
        assert!(
            message.contains("steps[3].edit makes Job `cy-job-cost-init` break Pod Security `baseline` at spec.template.spec.hostPID: host namespaces are not allowed"),
            "{message}"
        );
        assert!(
            message.contains("spec.template.spec.initContainers[0].securityContext.privileged: privileged containers are not allowed"),
            "{message}"
        );
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        for text in [
            "",
            "[",
            "steps: {",
            "apiVersion: 1\n  bad indent: [",
            "\u{0}",
            "- - -",
        ] {
            assert!(Lab::parse(text, "x").is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn commands_get_the_job_and_namespace() {
        let lab = Lab::embedded().expect("valid");
        let commands = lab.steps[0].commands("cy-job-init", "team-a");
        assert_eq!(
            commands[0],
            "kubectl get pods -n team-a -l batch.kubernetes.io/job-name=cy-job-init"
        );
        assert!(commands.iter().all(|c| !c.contains("{{")));
    }

    #[test]
    fn placeholders_are_found_between_double_braces_only() {
        assert_eq!(
            placeholders("a {{job}} b {.x} {{ namespace }} {{open"),
            ["job", "namespace"]
        );
    }
}

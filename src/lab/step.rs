//! One step of a lab as data: the variant it runs, what it expects on which cluster,
//! how its Job differs from the variant, and the commands a learner types.

use serde::{Deserialize, Serialize};

use super::{Checks, Outcome};
use crate::names::JobName;
use crate::variant::Variant;
use crate::version::MinorVersion;

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

//! The class board: from one read of the cluster (`kubectl get
//! namespaces,jobs,pods,configmaps -A -l app.kubernetes.io/part-of=sidecar-lab -o json`),
//! each learner's steps judged by the same engine as `sidecar-lab step`, and their
//! exercise progress read. Pure: the read's JSON and the time in, results out.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{CLASS_LABEL, ClassPrefix, PART_OF};
use crate::lab::progress_map::Progress;
use crate::lab::{Lab, Step, StepNumber};
use crate::observe::dump::{Dump, Object};
use crate::render::job::VARIANT_LABEL;
use crate::render::step::STEP_LABEL;
use crate::results::{StepResult, StepState, Suite};
use crate::verdict::outcome::job_condition;
use crate::verdict::{self, Expectation, Judgement, Level, Outcome, Verdict};
use crate::version::MinorVersion;

/// The read could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the class read is not a kubectl List: {0}")]
pub(crate) struct ReadError(String);

/// What one read found, sorted by namespace.
#[derive(Clone, Debug, Default)]
pub(crate) struct ClassRead {
    /// The class's learner namespaces: number → name.
    pub learners: BTreeMap<u32, String>,
    pub jobs: BTreeMap<String, Vec<Job>>,
    pub pods: BTreeMap<String, Vec<Pod>>,
    /// Each learner's exercise records (their progress ConfigMap), by namespace.
    pub progress: BTreeMap<String, Progress>,
}

impl ClassRead {
    /// Sorts the items of the `List` by kind and namespace; only this class's learner
    /// namespaces and the lab's Jobs and Pods in them are kept.
    pub(crate) fn parse(text: &[u8], prefix: &ClassPrefix) -> Result<Self, ReadError> {
        let list: Value = serde_json::from_slice(text).map_err(|e| ReadError(e.to_string()))?;
        let items = list
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| ReadError("it has no `items`".to_owned()))?;
        let mut read = Self::default();
        let mut jobs: BTreeMap<String, Vec<Job>> = BTreeMap::new();
        let mut pods: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
        let mut progress = BTreeMap::new();
        for item in items {
            match item.get("kind").and_then(Value::as_str) {
                Some("Namespace") => {
                    let Ok(namespace) = serde_json::from_value::<Namespace>(item.clone()) else {
                        continue;
                    };
                    let labels = namespace.metadata.labels.unwrap_or_default();
                    let name = namespace.metadata.name.unwrap_or_default();
                    if labels.get(CLASS_LABEL).map(String::as_str) == Some(prefix.label())
                        && let Some(n) = prefix.learner(&name)
                    {
                        read.learners.insert(n, name);
                    }
                }
                Some("Job") => {
                    if let Ok(job) = serde_json::from_value::<Job>(item.clone()) {
                        let namespace = job.metadata.namespace.clone().unwrap_or_default();
                        jobs.entry(namespace).or_default().push(job);
                    }
                }
                Some("Pod") => {
                    if let Ok(pod) = serde_json::from_value::<Pod>(item.clone()) {
                        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
                        pods.entry(namespace).or_default().push(pod);
                    }
                }
                Some("ConfigMap") => {
                    if let Some((namespace, found)) = Progress::from_configmap(item) {
                        progress.insert(namespace, found);
                    }
                }
                _ => {}
            }
        }
        let learning: Vec<&String> = read.learners.values().collect();
        read.progress = progress
            .into_iter()
            .filter(|(ns, _)| learning.contains(&ns))
            .collect();
        read.jobs = jobs
            .into_iter()
            .filter(|(ns, _)| learning.contains(&ns))
            .collect();
        read.pods = pods
            .into_iter()
            .filter(|(ns, _)| learning.contains(&ns))
            .collect();
        Ok(read)
    }
}

/// One suite per learner, one result per step of `lab`, judged at `now` against what
/// each step teaches on a cluster of `minor` (the newest rules when unknown).
pub(crate) fn judge_class(
    read: &ClassRead,
    lab: &Lab,
    minor: Option<MinorVersion>,
    now: Timestamp,
) -> Vec<Suite> {
    read.learners
        .values()
        .map(|namespace| {
            let jobs = read.jobs.get(namespace).map_or(&[][..], Vec::as_slice);
            let pods = read.pods.get(namespace).map_or(&[][..], Vec::as_slice);
            let steps = lab
                .numbered()
                .map(|(number, step)| judge_step(number, step, lab, minor, jobs, pods, now))
                .collect();
            Suite {
                name: namespace.clone(),
                namespace: Some(namespace.clone()),
                properties: BTreeMap::new(),
                steps,
                exercises: Vec::new(),
            }
        })
        .collect()
}

/// The step's Job: the newest lab Job labelled with the step's number (and its own
/// variant, for a step that runs several). A Job without a step label (applied by hand
/// from `sidecar-lab render job`) counts for the first step with its variant.
fn step_job<'a>(number: StepNumber, step: &Step, lab: &Lab, jobs: &'a [Job]) -> Option<&'a Job> {
    let first_with_variant = lab
        .numbered()
        .find(|(_, s)| s.variant == step.variant)
        .map(|(n, _)| n);
    let wanted = number.to_string();
    jobs.iter()
        .filter(|job| {
            let labels = job.metadata.labels.as_ref();
            let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
            let ours = label(PART_OF.0) == Some(PART_OF.1)
                && label(VARIANT_LABEL) == Some(step.variant.name());
            ours && match label(STEP_LABEL) {
                Some(step_label) => step_label == wanted,
                None => first_with_variant == Some(number),
            }
        })
        .max_by_key(|job| job.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn judge_step(
    number: StepNumber,
    step: &Step,
    lab: &Lab,
    minor: Option<MinorVersion>,
    jobs: &[Job],
    pods: &[Pod],
    now: Timestamp,
) -> StepResult {
    let mut result = not_started(number, step, minor);
    let Some(job) = step_job(number, step, lab, jobs) else {
        // A Job the API server refuses is never stored: the board cannot see the step.
        if result.expect == Outcome::Refused {
            result.message = Some(
                "on this version the API server refuses the step's Job, so nothing is stored to show; the learner's `sidecar-lab step` reports it".to_owned(),
            );
        }
        return result;
    };
    let judgement = judge_job(step, minor, job, pods);
    let started = job
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .or(job.metadata.creation_timestamp.as_ref())
        .map(|t| t.0);
    let ended = job_end(job);
    // The outcome began when a container last started or stopped (postgres started,
    // `main` exited): the containers' own times, which later status updates do not move.
    let changed = ended
        .or_else(|| judgement.timeline.last_run_change())
        .or(started)
        .unwrap_or(now);
    result.since = Some(changed.to_string());
    result.outcome = Some(judgement.outcome);
    let (state, message) = state_of(step, &judgement, changed, now);
    let decided_at = decided_at(state, step, changed, ended, now);
    result.seconds = started.map_or(0, |s| {
        u64::try_from(decided_at.unwrap_or(now).as_second() - s.as_second()).unwrap_or(0)
    });
    result.state = state;
    result.message = message;
    if matches!(state, StepState::Unexpected | StepState::Undecided) {
        result.finding = deciding_finding(&judgement).map(|(code, _)| code.to_owned());
        if result.message.is_none() {
            result.message = deciding_finding(&judgement).map(|(_, message)| message);
        }
    }
    result
}

/// The step before anything of it is seen.
fn not_started(number: StepNumber, step: &Step, minor: Option<MinorVersion>) -> StepResult {
    StepResult {
        step: number,
        title: step.title.clone(),
        variant: step.variant,
        optional: step.optional,
        state: StepState::NotStarted,
        expect: step.expect_on(minor),
        outcome: None,
        seconds: 0,
        since: None,
        finding: None,
        message: None,
    }
}

/// The Job and its own pods, judged by the engine against what the step teaches.
fn judge_job(step: &Step, minor: Option<MinorVersion>, job: &Job, pods: &[Pod]) -> Judgement {
    let uid = job.metadata.uid.as_deref();
    let mut objects = vec![Object::Job(Box::new(job.clone()))];
    objects.extend(
        pods.iter()
            .filter(|pod| {
                pod.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|owner| Some(owner.uid.as_str()) == uid)
            })
            .map(|pod| Object::Pod(Box::new(pod.clone()))),
    );
    let expectation = Expectation {
        variant: step.variant,
        outcome: step.expect_on(minor),
        checks: step.check.clone(),
    };
    verdict::judge_expecting(
        &Dump {
            objects,
            events: Vec::new(),
            truncated: false,
        },
        Some(&expectation),
    )
}

/// The end of the step's own time: to its end, to the moment its outcome had held long
/// enough (as `sidecar-lab step` reports it), or, while it runs (`None`), to now.
fn decided_at(
    state: StepState,
    step: &Step,
    changed: Timestamp,
    ended: Option<Timestamp>,
    now: Timestamp,
) -> Option<Timestamp> {
    match state {
        StepState::Expected if ended.is_none() => {
            let hold = i64::try_from(step.hold_seconds).unwrap_or(0);
            Some(
                changed
                    .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(hold))
                    .unwrap_or(changed)
                    .min(now),
            )
        }
        _ => ended,
    }
}

/// When the Job ended: completion, or the time its `Failed` condition was set.
fn job_end(job: &Job) -> Option<Timestamp> {
    let status = job.status.as_ref()?;
    status.completion_time.as_ref().map(|t| t.0).or_else(|| {
        job_condition(job, "Failed")
            .and_then(|c| c.last_transition_time.as_ref())
            .map(|t| t.0)
    })
}

/// The step's state; an outcome that must hold (`holdSeconds`) counts only once it has
/// held that long since the last change, as `sidecar-lab step` waits it out.
fn state_of(
    step: &Step,
    judgement: &Judgement,
    changed: Timestamp,
    now: Timestamp,
) -> (StepState, Option<String>) {
    match judgement.verdict {
        Some(Verdict::Expected) if !judgement.job_done && step.hold_seconds > 0 => {
            let held = u64::try_from(now.as_second() - changed.as_second()).unwrap_or(0);
            if held >= step.hold_seconds {
                (StepState::Expected, None)
            } else {
                (
                    StepState::Running,
                    Some(format!(
                        "holding `{}`: {} s left",
                        judgement.outcome,
                        step.hold_seconds - held
                    )),
                )
            }
        }
        Some(Verdict::Expected) => (StepState::Expected, None),
        Some(Verdict::Unexpected) => (StepState::Unexpected, None),
        Some(Verdict::Undecided) | None if judgement.job_done => (StepState::Undecided, None),
        Some(Verdict::Undecided) | None => (StepState::Running, None),
    }
}

/// The problem finding that decided an unexpected verdict (the first), else the first
/// finding of any level.
fn deciding_finding(judgement: &Judgement) -> Option<(&'static str, String)> {
    judgement
        .findings
        .iter()
        .find(|f| f.level == Level::Problem)
        .or_else(|| judgement.findings.first())
        .map(|f| (f.code, f.message.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Results;

    const NAMESPACE_LABELS: &str =
        r#"{"app.kubernetes.io/part-of":"sidecar-lab","sidecar-lab/class":"learner"}"#;

    /// One read as `kubectl get namespaces,jobs,pods -A -o json` prints it: the learners'
    /// namespaces and, in each, the Jobs and Pods of the fixture dumps named.
    fn read(learners: &[(&str, &[&str])]) -> Vec<u8> {
        let mut items = Vec::new();
        for (namespace, dumps) in learners {
            let labels: Value = serde_json::from_str(NAMESPACE_LABELS).expect("labels");
            items.push(serde_json::json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": namespace, "labels": labels},
            }));
            for dump in *dumps {
                // A bare name is one of tests/fixtures/dumps; a path is under tests/fixtures.
                let dump = if dump.contains('/') {
                    (*dump).to_owned()
                } else {
                    format!("dumps/{dump}")
                };
                let path = format!("{}/tests/fixtures/{dump}.yaml", env!("CARGO_MANIFEST_DIR"));
                let text = std::fs::read_to_string(&path).expect("fixture");
                let list: Value = crate::yaml::from_str(&text).expect("fixture YAML");
                for mut item in list["items"].as_array().cloned().unwrap_or_default() {
                    item["metadata"]["namespace"] = Value::from(*namespace);
                    items.push(item);
                }
            }
        }
        // A namespace of another class and a stranger's Job are left out.
        items.push(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "learner-99", "labels": {"sidecar-lab/class": "other"}},
        }));
        serde_json::to_vec(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}))
            .expect("JSON")
    }

    fn board(learners: &[(&str, &[&str])], now: &str) -> Results {
        board_on(learners, None, now)
    }

    fn board_on(learners: &[(&str, &[&str])], minor: Option<&str>, now: &str) -> Results {
        let lab = Lab::embedded().expect("lab");
        let read = ClassRead::parse(&read(learners), &ClassPrefix::default()).expect("parses");
        let now: Timestamp = now.parse().expect("time");
        let minor = minor.map(|m| m.parse().expect("minor"));
        Results::new(
            now.to_string(),
            "test".to_owned(),
            judge_class(&read, &lab, minor, now),
        )
    }

    /// Step 5 on 1.33: the API server refuses its Job, so the board has nothing to judge,
    /// and says why instead of leaving a bare `not started`.
    #[test]
    fn a_step_refused_on_this_version_says_the_board_cannot_see_it() {
        let results = board_on(&[("learner-01", &[])], Some("1.33"), "2026-12-06T20:00:00Z");
        let step = &results.suites[0].steps[4];
        assert_eq!(step.state, StepState::NotStarted);
        assert!(
            step.message
                .as_deref()
                .is_some_and(|m| m.contains("refuses the step's Job")),
            "{step:?}"
        );
        let newer = board_on(&[("learner-01", &[])], Some("1.34"), "2026-12-06T20:00:00Z");
        assert_eq!(newer.suites[0].steps[4].message, None);
    }

    /// What a real 1.34 node held after the lab's seven steps (one namespace, every
    /// step's Job and pod): each step is judged as `step` judged it there. The holding
    /// steps count as expected from their containers' own times, and a finished step's
    /// time stays its own.
    #[test]
    fn a_real_nodes_seven_steps_are_expected() {
        let learner: &[&str] = &["real-cluster/step7-v1.34.9"];
        let results = board_on(
            &[("learner-01", learner)],
            Some("1.34"),
            "2026-12-06T20:03:40Z",
        );
        let steps = &results.suites[0].steps;
        let states: Vec<&str> = steps.iter().map(|s| s.state.name()).collect();
        assert_eq!(states, ["expected"; 7], "{steps:#?}");
        // Step 3 ran 20:01:34 to its completion a few seconds later, and a later read
        // gives the same time.
        let later = board_on(
            &[("learner-01", learner)],
            Some("1.34"),
            "2026-12-06T21:00:00Z",
        );
        assert_eq!(later.suites[0].steps[2].seconds, steps[2].seconds);
        assert!(steps[2].seconds < 20, "{:?}", steps[2]);
        // Step 1 holds from postgres's start (20:00:49) for 10 s: decided at 20:00:59.
        assert_eq!(later.suites[0].steps[0].seconds, steps[0].seconds);
    }

    #[test]
    fn each_learner_is_judged_by_the_engine_and_shown_as_json() {
        let results = board(
            &[
                (
                    "learner-01",
                    &["init-running", "sidecar-holds-pod", "native-succeeded"],
                ),
                ("learner-02", &["init-running", "native-gate-off"]),
                ("learner-03", &[]),
            ],
            "2026-11-20T10:05:00Z",
        );
        let states: Vec<Vec<&str>> = results
            .suites
            .iter()
            .map(|s| s.steps.iter().take(3).map(|st| st.state.name()).collect())
            .collect();
        assert_eq!(
            states,
            [
                ["expected", "expected", "expected"],
                ["expected", "not started", "unexpected"],
                ["not started", "not started", "not started"],
            ]
        );
        assert_eq!(
            results.suites[1].steps[2].finding.as_deref(),
            Some("gate-off")
        );
        assert_eq!(results.totals().done, 1);
        insta::assert_snapshot!(results.to_json());
    }

    #[test]
    fn an_outcome_that_must_hold_is_running_until_it_has() {
        // init-running: postgres started at 10:00:0x; the lab holds 10 s.
        let early = board(&[("learner-01", &["init-running"])], "2026-11-20T10:00:05Z");
        let step = &early.suites[0].steps[0];
        assert_eq!(step.state, StepState::Running, "{step:?}");
        assert!(
            step.message
                .as_deref()
                .is_some_and(|m| m.contains("s left"))
        );
        let later = board(&[("learner-01", &["init-running"])], "2026-11-20T10:01:00Z");
        assert_eq!(later.suites[0].steps[0].state, StepState::Expected);
    }

    #[test]
    fn a_read_that_is_not_a_list_is_refused() {
        assert!(ClassRead::parse(b"{}", &ClassPrefix::default()).is_err());
        assert!(ClassRead::parse(b"error: Forbidden", &ClassPrefix::default()).is_err());
    }
}

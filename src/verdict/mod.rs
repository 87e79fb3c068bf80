//! The verdict engine: objects in, verdict out. From the latest snapshot of the pod (and
//! its Job) it decides the outcome; from all snapshots it builds the container timeline;
//! against a variant it decides whether the outcome is what that variant teaches. No I/O.

pub mod containers;
pub mod explain;
pub mod finding;
pub mod outcome;
pub mod step;
pub mod timeline;

use std::fmt;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

pub use crate::lab::Outcome;
pub use finding::{Finding, Level};

use crate::lab::Checks;
use crate::lab::labels::VARIANT_LABEL;
use crate::observe::dump::Dump;
use crate::observe::history::{self, History};
use crate::variant::Variant;
use containers::{IMAGE_REASONS, Role, Shape, containers as pod_containers, shape};
use finding::code;
use outcome::{Classified, classify, classify_live, job_condition};
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

/// Judges the dump against `expectation` when one is given.
pub fn judge_expecting(dump: &Dump, expectation: Option<&Expectation>) -> Judgement {
    let variant = expectation.map(|e| e.variant);
    // Several pods and no lab labels (a real cluster's namespace): prefer the one laid
    // out as the variant.
    let fits = |spec: &PodSpec| variant.is_some_and(|v| shape(spec).fits(v));
    let subject = history::subject(dump, variant, &fits);
    let pod = subject.pod.as_ref().map(History::latest);
    let job = subject.job.as_ref().map(History::latest);
    let Classified {
        mut outcome,
        mut message,
    } = classify(pod, job);
    // A Job with no pod whose pods admission refuses: only its events say so. A refusal
    // that passes by itself (the namespace's `default` ServiceAccount, which its
    // controller makes a moment after the namespace) is not a verdict: the Job
    // controller tries again.
    let failed = job.and_then(|j| failed_create(&dump.events, j));
    let transient = failed.is_some_and(transient_refusal);
    let refused_pods = failed.filter(|_| !transient);
    if pod.is_none()
        && matches!(outcome, Outcome::Pending | Outcome::Running)
        && let Some(event) = refused_pods
    {
        outcome = Outcome::NotAdmitted;
        message = event.to_owned();
    }
    let timeline = subject
        .pod
        .as_ref()
        .map(|h| Timeline::from_snapshots(h.snapshots()))
        .unwrap_or_default();

    let mut findings = Vec::new();
    if pod.is_none()
        && transient
        && let Some(event) = failed
    {
        findings.push(Finding::info(
            code::NO_POD,
            format!("no pod yet: the Job controller will try again ({event})"),
        ));
    }
    if dump.truncated {
        findings.push(Finding::info(
            code::INPUT_TRUNCATED,
            "the input ends inside a document; judged from the complete ones before it",
        ));
    }
    if subject.predecessor_pods > 0 {
        findings.push(Finding::info(
            code::OTHER_PODS,
            format!(
                "the input holds {} pod(s) of an earlier Job with the same name (another uid): not this Job's, so not judged",
                subject.predecessor_pods
            ),
        ));
    } else if subject.other_pods > 0 {
        findings.push(Finding::info(
            code::OTHER_PODS,
            format!(
                "the input holds {} other pod(s); judged `{}`",
                subject.other_pods,
                pod.and_then(|p| p.metadata.name.as_deref())
                    .unwrap_or("the newest")
            ),
        ));
    }
    for (container, value) in job.map(dropped_restart_policies).unwrap_or_default() {
        findings.push(Finding::info(
            code::FIELD_DROPPED,
            format!(
                "kubectl sent `restartPolicy: {value}` on the regular container `{container}` (the Job's {LAST_APPLIED} annotation), but the Job the API server stored has none: a server whose ContainerRestartRules feature is off (its default on 1.34, where it is alpha) drops the field before it validates, without a warning, so `{container}` is a plain regular container"
            ),
        ));
    }
    let deadline = deadline_end(pod, job);
    if let Some(pod) = pod {
        let settled = outcome::settled(pod, job);
        findings.extend(pod_findings(pod, &timeline, settled, deadline));
        if pod.metadata.deletion_timestamp.is_some() {
            findings.push(Finding::info(
                code::POD_DELETED,
                "the pod was being deleted in the latest snapshot: its containers were stopped from outside",
            ));
        }
    }
    let held = deadline.and_then(|_| held_until_deadline(pod, subject.pod.as_ref()));
    if deadline.is_some() {
        let until = held
            .map(|held| format!("; until then the pod was `{held}`"))
            .unwrap_or_default();
        findings.push(Finding::info(
            code::DEADLINE_EXCEEDED,
            format!("{}{until}", deadline_words(pod, job)),
        ));
    }

    let verdict = variant.map(|variant| {
        let spec = pod
            .and_then(|p| p.spec.as_ref())
            .or_else(|| job.and_then(template_spec));
        let meta = pod
            .map(|p| &p.metadata)
            .or_else(|| job.map(|j| &j.metadata));
        let labelled = meta
            .and_then(|m| m.labels.as_ref())
            .and_then(|labels| labels.get(VARIANT_LABEL))
            .and_then(|name| Variant::from_name(name));
        let facts = Facts {
            outcome,
            held,
            spec,
            labelled,
            have_pod: pod.is_some(),
            sent_native: job.and_then(applied_native),
            deadline: deadline.is_some(),
            node_lost: pod.is_some_and(outcome::node_lost),
            restarts: pod.map(restart_counts).unwrap_or_default(),
        };
        let expectation = expectation
            .cloned()
            .unwrap_or_else(|| Expectation::taught(variant));
        let requests = if expectation.checks.requests {
            requests_findings(spec, refused_pods)
        } else {
            Vec::new()
        };
        // The formula and the API server must agree, or the lesson is wrong.
        let disagree = requests.iter().any(|f| f.level == Level::Problem);
        findings.extend(requests);
        let mut verdict = decide(&expectation, &facts, &timeline, &mut findings);
        if verdict == Verdict::Expected {
            verdict = checks_hold(&expectation.checks, pod, &timeline, &mut findings);
        }
        if verdict == Verdict::Expected && disagree {
            verdict = Verdict::Unexpected;
        }
        if verdict == Verdict::Unexpected && !findings.iter().any(|f| f.level == Level::Problem) {
            findings.push(unexpected_cause(variant, expectation.outcome, outcome));
        }
        (verdict, expectation.outcome)
    });
    let (verdict, expected) = match verdict {
        Some((verdict, expected)) => (Some(verdict), Some(expected)),
        None => (None, None),
    };

    Judgement {
        outcome,
        outcome_message: message,
        variant,
        expected,
        verdict,
        findings,
        timeline,
        pod: pod.and_then(|p| p.metadata.name.clone()),
        job: job.and_then(|j| j.metadata.name.clone()),
        job_done: job.is_some_and(|j| {
            job_condition(j, "Complete").is_some() || job_condition(j, "Failed").is_some()
        }),
    }
}

/// What the verdict is decided from, besides the timeline.
struct Facts<'a> {
    outcome: Outcome,
    /// The outcome held until activeDeadlineSeconds ended the Job.
    held: Option<Outcome>,
    /// The pod spec the server returned (or the Job's template).
    spec: Option<&'a PodSpec>,
    /// The variant the lab labelled the objects with.
    labelled: Option<Variant>,
    have_pod: bool,
    /// Whether the manifest `kubectl apply` sent had an init container with
    /// `restartPolicy: Always` (from the Job's last-applied-configuration), when known.
    sent_native: Option<bool>,
    /// activeDeadlineSeconds ended the Job or the pod.
    deadline: bool,
    /// The node stopped reporting: the pod's states are stale.
    node_lost: bool,
    /// Each container's restart count in the latest snapshot.
    restarts: Vec<(String, i32)>,
}

/// Each container's restart count in the pod's latest status.
fn restart_counts(pod: &Pod) -> Vec<(String, i32)> {
    pod_containers(pod)
        .iter()
        .filter_map(|c| Some((c.name.to_owned(), c.status?.restart_count)))
        .collect()
}

/// The problem finding for an `unexpected` that no other finding explains: the outcome
/// against the one the step expected (which a version rule or a quota may have changed
/// from the variant's own).
fn unexpected_cause(variant: Variant, expected: Outcome, outcome: Outcome) -> Finding {
    let message = match (variant, outcome) {
        _ if expected != taught_outcome(variant) => format!(
            "the pod ended `{outcome}`, but on this cluster the step expects `{expected}` from the `{variant}` variant"
        ),
        (Variant::Sidecar, Outcome::Succeeded) => "the pod finished, so its regular postgres container exited: something stopped it (it crashed with exit 0, or was killed from outside); in this variant nothing should, and the pod holds".to_owned(),
        (Variant::Init, Outcome::Succeeded) => "the pod finished, so the init container exited: in this variant postgres never exits and the pod stays in its init phase".to_owned(),
        _ => format!("the pod ended `{outcome}`, but the `{variant}` variant teaches `{expected}`"),
    };
    Finding::problem(code::UNEXPECTED_OUTCOME, message)
}

/// The annotation where `kubectl apply` keeps the manifest it sent.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Whether the manifest applied for `job` had a native sidecar. The API server drops
/// `restartPolicy` only when the gate is off, so a field in the sent manifest that is
/// missing from the stored Job tells a gate that is off from a manifest without it.
fn applied_native(job: &Job) -> Option<bool> {
    let sent = job.metadata.annotations.as_ref()?.get(LAST_APPLIED)?;
    let sent: serde_json::Value = serde_json::from_str(sent).ok()?;
    let init = sent.pointer("/spec/template/spec/initContainers");
    Some(
        init.and_then(serde_json::Value::as_array)
            .is_some_and(|containers| {
                containers.iter().any(|c| {
                    c.get("restartPolicy").and_then(serde_json::Value::as_str) == Some("Always")
                })
            }),
    )
}

/// The regular containers whose `restartPolicy` the manifest kubectl applied had and the
/// stored Job lacks, with the value sent: what a 1.34 API server drops silently.
pub(crate) fn dropped_restart_policies(job: &Job) -> Vec<(String, String)> {
    let Some(sent) = job
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
    else {
        return Vec::new();
    };
    let stored = template_spec(job)
        .map(|spec| &spec.containers[..])
        .unwrap_or_default();
    let sent = sent
        .pointer("/spec/template/spec/containers")
        .and_then(serde_json::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    sent.iter()
        .filter_map(|container| {
            let name = container.get("name")?.as_str()?;
            let value = container.get("restartPolicy")?.as_str()?;
            let kept = stored
                .iter()
                .find(|c| c.name == name)
                .is_some_and(|c| c.restart_policy.is_some());
            (!kept).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The verdict for `variant`; adds the findings that explain it.
fn decide(
    expectation: &Expectation,
    facts: &Facts<'_>,
    timeline: &Timeline,
    findings: &mut Vec<Finding>,
) -> Verdict {
    let variant = expectation.variant;
    let Facts {
        outcome,
        held,
        spec,
        labelled,
        have_pod,
        sent_native,
        deadline,
        node_lost,
        ref restarts,
    } = *facts;
    if node_lost {
        findings.push(Finding::problem(
            code::NODE_LOST,
            "the node stopped reporting (phase Unknown): the container states shown are the last it sent, and may be stale; judge again once the node is back",
        ));
        return Verdict::Undecided;
    }
    // After the deadline the Job controller deletes the pods: a Job alone, Failed by its
    // deadline, says nothing about what a holding variant showed.
    if !have_pod && deadline && matches!(variant, Variant::Init | Variant::Sidecar) {
        findings.push(Finding::info(
            code::NO_POD,
            "only the Job is left: its pod was deleted when activeDeadlineSeconds ended it. Dump `kubectl get job,pod` while the pod still exists (before the deadline), or run `sidecar-lab step`, which watches it",
        ));
        return Verdict::Undecided;
    }
    if let Some(labelled) = labelled.filter(|l| *l != variant) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!("the objects are labelled `{VARIANT_LABEL}: {labelled}`, not `{variant}`"),
        ));
        return Verdict::Unexpected;
    }
    let shape = spec.map(shape);
    // A native Job whose pod has a plain init container and no sidecar: the sidecar's
    // `restartPolicy: Always` was never sent, or the server dropped it (gate off).
    let lost_sidecar =
        variant == Variant::Native && shape.is_some_and(|s| s.sidecars == 0 && s.plain_inits > 0);
    if lost_sidecar && sent_native == Some(false) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!(
                "the manifest that was applied has no init container with `restartPolicy: Always` (the Job's {LAST_APPLIED} annotation): postgres is a plain init container, as in the `init` variant"
            ),
        ));
        return Verdict::Unexpected;
    }
    // Dropped for sure when the manifest sent had it; likely when the pod is the lab's
    // own native Job. An unlabelled pod without the annotation may simply have none.
    if lost_sidecar && (sent_native == Some(true) || labelled == Some(Variant::Native)) {
        findings.push(Finding::problem(
            code::GATE_OFF,
            "no init container has `restartPolicy: Always` in the object the server returned: the API server drops it when the SidecarContainers gate is off, so postgres runs as a plain init container",
        ));
        return Verdict::Unexpected;
    }
    if let Some(shape) = shape.filter(|s| !s.fits(variant)) {
        findings.push(Finding::problem(
            code::VARIANT_MISMATCH,
            format!(
                "the pod has {}: {}",
                shape.describe(),
                lacks(shape, variant)
            ),
        ));
        return Verdict::Unexpected;
    }
    if findings
        .iter()
        .any(|f| f.code == code::APP_CONTAINER_FAILED)
        && outcome != Outcome::Succeeded
    {
        return Verdict::Unexpected;
    }
    if !have_pod && outcome == Outcome::Running {
        // An active Job alone says nothing about where its pod is.
        return Verdict::Undecided;
    }
    match expectation.outcome {
        Outcome::InitRunning => match outcome {
            Outcome::InitRunning => Verdict::Expected,
            Outcome::Pending => Verdict::Undecided,
            Outcome::Failed if held == Some(Outcome::InitRunning) => Verdict::Expected,
            _ => Verdict::Unexpected,
        },
        Outcome::SidecarHoldsPod => match outcome {
            Outcome::SidecarHoldsPod => Verdict::Expected,
            Outcome::Pending | Outcome::Running | Outcome::InitRunning => Verdict::Undecided,
            Outcome::Failed if held == Some(Outcome::SidecarHoldsPod) => Verdict::Expected,
            _ => Verdict::Unexpected,
        },
        expected @ (Outcome::Failed
        | Outcome::Running
        | Outcome::Pending
        | Outcome::Refused
        | Outcome::NotAdmitted) => match outcome {
            o if o == expected => Verdict::Expected,
            Outcome::Pending => Verdict::Undecided,
            _ => Verdict::Unexpected,
        },
        Outcome::Succeeded => match outcome {
            Outcome::Succeeded if !have_pod => {
                findings.push(Finding::info(
                    code::NO_POD,
                    "only the Job was given: the order in which containers started and stopped cannot be checked",
                ));
                Verdict::Expected
            }
            Outcome::Succeeded => {
                if native_order_holds(timeline, restarts, findings) {
                    Verdict::Expected
                } else {
                    Verdict::Unexpected
                }
            }
            Outcome::Pending | Outcome::InitRunning | Outcome::Running => {
                // Still running, and a sidecar has restarted: its first start is already
                // out of sight, as it is once the pod has finished.
                restarted_out_of_sight(timeline, restarts, findings);
                Verdict::Undecided
            }
            // An app container exited and another regular one still runs: one snapshot
            // cannot tell a container that will exit by itself from one that holds
            // the pod for ever. A watch decides once the hold has lasted.
            Outcome::SidecarHoldsPod => {
                findings.push(Finding::info(
                    code::MAY_STILL_EXIT,
                    "a regular container is still running after an app container exited: it may exit by itself (then the pod completes) or hold the pod for ever, and one snapshot cannot tell which; judge a later dump, or watch it with `sidecar-lab step`",
                ));
                Verdict::Undecided
            }
            Outcome::Failed | Outcome::Refused | Outcome::NotAdmitted => Verdict::Unexpected,
        },
    }
}

/// A refusal of a Job's pod that goes away without anyone doing anything: admission
/// waits for the namespace's `default` ServiceAccount, which the ServiceAccount
/// controller creates just after the namespace (plugin/pkg/admission/serviceaccount).
fn transient_refusal(message: &str) -> bool {
    message.contains("error looking up service account")
}

/// The latest `FailedCreate` message of `job` (its pods refused by admission).
fn failed_create<'a>(
    events: &'a [k8s_openapi::api::core::v1::Event],
    job: &Job,
) -> Option<&'a str> {
    let uid = job.metadata.uid.as_deref();
    let name = job.metadata.name.as_deref();
    events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedCreate"))
        .filter(|e| {
            let object = &e.involved_object;
            object.kind.as_deref() == Some("Job")
                && (object.uid.as_deref().is_some_and(|u| Some(u) == uid)
                    || (object.uid.is_none() && object.name.as_deref() == name))
        })
        .max_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0))
        .and_then(|e| e.message.as_deref())
}

/// The pod's effective CPU request by the formula, with its numbers; beside a quota's
/// refusal, the API server's own number, which must agree.
fn requests_findings(spec: Option<&PodSpec>, refusal: Option<&str>) -> Vec<Finding> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let (formula, millis) = crate::requests::cpu_formula(spec);
    let mut findings = vec![Finding::info(
        code::EFFECTIVE_REQUEST,
        format!("effective CPU request: {formula}"),
    )];
    if let Some(message) = refusal {
        let server = requested_cpu(message).and_then(|q| crate::requests::parse_quantity(q, 1000));
        match server {
            Some(server) if server == millis => findings.push(Finding::info(
                code::QUOTA_EXCEEDED,
                format!(
                    "the ResourceQuota refused the pod: the API server computed requests.cpu={server}m, the formula gives {millis}m — they agree ({message})"
                ),
            )),
            Some(server) => findings.push(Finding::problem(
                code::QUOTA_EXCEEDED,
                format!(
                    "the ResourceQuota refused the pod with requests.cpu={server}m, but the formula gives {millis}m ({message})"
                ),
            )),
            None => findings.push(Finding::info(code::QUOTA_EXCEEDED, message.to_owned())),
        }
    }
    findings
}

/// The CPU request a ResourceQuota refusal names: `requested: limits.cpu=2,
/// requests.cpu=1200m, used: …` lists each exceeded resource, sorted by name
/// (plugin/pkg/admission/resourcequota/controller.go, prettyPrint), so the entry is
/// found by its name, `requests.cpu` or plain `cpu`.
fn requested_cpu(message: &str) -> Option<&str> {
    let requested = message.split("requested: ").nth(1)?;
    let requested = requested.split(", used: ").next()?;
    requested.split(", ").find_map(|entry| {
        let (name, quantity) = entry.split_once('=')?;
        matches!(name.trim(), "requests.cpu" | "cpu").then(|| quantity.trim())
    })
}

/// The step's checks beyond the outcome, on an outcome that was expected.
fn checks_hold(
    checks: &Checks,
    pod: Option<&Pod>,
    timeline: &Timeline,
    findings: &mut Vec<Finding>,
) -> Verdict {
    let Some(pod) = pod else {
        // A Job alone (its pod gone) shows neither restarts nor stop times: the checks
        // cannot be read, which is not the same as failed.
        if !checks.restarted.is_empty() || checks.reverse_stop_order {
            findings.push(Finding::info(
                code::NO_POD,
                "only the Job is in the input: what the step checks (restarts, the order sidecars stopped in) is in its pod's status; dump the pod too",
            ));
            return Verdict::Undecided;
        }
        return Verdict::Expected;
    };
    let pod = Some(pod);
    let mut verdict = Verdict::Expected;
    for name in &checks.restarted {
        let restarts = pod
            .map(pod_containers)
            .unwrap_or_default()
            .iter()
            .find(|c| c.name == name.as_str())
            .and_then(|c| c.status.map(|s| s.restart_count))
            .unwrap_or(0);
        if restarts == 0 {
            findings.push(Finding::problem(
                code::NOT_RESTARTED,
                format!("`{name}` was never restarted (restartCount 0): the step expects it to exit once and be restarted"),
            ));
            verdict = Verdict::Unexpected;
        }
    }
    if checks.reverse_stop_order {
        let sidecars: Vec<_> = timeline.rows_of(Role::Sidecar).collect();
        if sidecars.len() < 2 {
            findings.push(Finding::problem(
                code::STOP_ORDER,
                format!(
                    "the pod has {} sidecar(s): an order of stops needs two or more, declared one after the other",
                    sidecars.len()
                ),
            ));
            return Verdict::Unexpected;
        }
        // Declared earlier must stop later. `finishedAt` counts whole seconds: two stops
        // in the same second show no order at all, neither a violation nor a proof.
        let mut same_second = Vec::new();
        for (i, earlier) in sidecars.iter().enumerate() {
            for later in &sidecars[i + 1..] {
                let (Some(first), Some(second)) = (
                    earlier.last_run().and_then(|r| r.finished),
                    later.last_run().and_then(|r| r.finished),
                ) else {
                    continue;
                };
                if first.as_second() == second.as_second() {
                    same_second.push(format!("`{}` and `{}`", earlier.container, later.container));
                } else if first < second {
                    let hook = if has_pre_stop(pod, &earlier.container) {
                        format!(
                            ". `{}` has a preStop hook, and the kubelet runs a sidecar's preStop hook before it waits for the sidecars declared after it (killContainer in kuberuntime_container.go): a hook that stops the process stops it out of turn",
                            earlier.container
                        )
                    } else {
                        String::new()
                    };
                    findings.push(Finding::problem(
                        code::STOP_ORDER,
                        format!(
                            "sidecar `{}` (declared first) stopped at {first}, before `{}` (declared after it) at {second}: the kubelet stops sidecars in the reverse of their order, from 1.29{hook}",
                            earlier.container, later.container
                        ),
                    ));
                    verdict = Verdict::Unexpected;
                }
            }
        }
        if !same_second.is_empty() {
            findings.push(Finding::info(
                code::ORDER_NOT_VISIBLE,
                format!(
                    "sidecars {} stopped in the same second: `finishedAt` counts whole seconds, so their stop order is not visible here; nor do the `Killing` events show it (the kubelet records one for every sidecar at once, before each waits for its turn): only the kubelet's log does",
                    same_second.join(", ")
                ),
            ));
        } else if verdict == Verdict::Expected && sidecars.len() >= 2 {
            let order: Vec<&str> = sidecars
                .iter()
                .rev()
                .map(|r| r.container.as_str())
                .collect();
            findings.push(Finding::info(
                code::STOP_ORDER,
                format!(
                    "the sidecars stopped after the app containers, in reverse order: {}",
                    order.join(", then ")
                ),
            ));
        }
    }
    verdict
}

/// Whether init container `name` of `pod` has a preStop hook.
fn has_pre_stop(pod: Option<&Pod>, name: &str) -> bool {
    pod.and_then(|p| p.spec.as_ref())
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.name == name)
        .and_then(|c| c.lifecycle.as_ref())
        .is_some_and(|l| l.pre_stop.is_some())
}

/// The native properties: every sidecar started no later than the first app container,
/// and finished no earlier than the last app container (or is still stopping).
/// Timestamps have one-second resolution, so equal times pass.
fn native_order_holds(
    timeline: &Timeline,
    restarts: &[(String, i32)],
    findings: &mut Vec<Finding>,
) -> bool {
    let first_app_start = timeline.first_app_start();
    let last_app_finish = timeline.last_app_finish();
    let mut holds = true;
    for sidecar in timeline.rows_of(Role::Sidecar) {
        // The status shows the current run and at most the one before it (`lastState`,
        // which a finished pod may no longer have): once a sidecar has restarted, its
        // first start is gone unless an earlier observation (a watch) saw it. Only the
        // runs seen can be judged, so fewer runs seen than starts means "not visible".
        if let Some(finding) = first_start_out_of_sight(sidecar, restarts) {
            findings.push(finding);
        } else if let (Some(sidecar_start), Some(app_start)) =
            (sidecar.first_start(), first_app_start)
        {
            if sidecar_start > app_start {
                holds = false;
                findings.push(Finding::problem(
                    code::MAIN_STARTED_BEFORE_SIDECAR,
                    format!(
                        "an app container started at {app_start}, before sidecar `{}` at {sidecar_start}",
                        sidecar.container
                    ),
                ));
            }
        }
        let sidecar_finish = sidecar.last_run().and_then(|run| run.finished);
        if let (Some(sidecar_finish), Some(app_finish)) = (sidecar_finish, last_app_finish) {
            if sidecar_finish < app_finish {
                holds = false;
                findings.push(Finding::problem(
                    code::SIDECAR_STOPPED_BEFORE_MAIN,
                    format!(
                        "sidecar `{}` finished at {sidecar_finish}, before the last app container at {app_finish}: Kubernetes 1.28 (alpha) stops sidecars like regular containers; 1.29 and later stop them after the app containers",
                        sidecar.container
                    ),
                ));
            }
        }
    }
    holds
}

/// `order-not-visible` for `sidecar` when it has restarted and the input no longer shows
/// its first start: the status keeps the current run and, in `lastState`, at most the
/// one before, so fewer runs seen than starts means the first is gone (unless an earlier
/// snapshot of a watch saw it).
fn first_start_out_of_sight(
    sidecar: &timeline::Row,
    restarts: &[(String, i32)],
) -> Option<Finding> {
    let restarted = restarts
        .iter()
        .find(|(name, _)| *name == sidecar.container)
        .map_or(0, |(_, count)| *count);
    let seen_runs = sidecar.runs.iter().filter(|r| r.started.is_some()).count();
    (restarted >= 1 && usize::try_from(restarted).unwrap_or(0) >= seen_runs).then(|| {
        Finding::info(
            code::ORDER_NOT_VISIBLE,
            format!(
                "sidecar `{}` restarted {restarted} time(s) and its first start is no longer in the input (the status keeps the current run, and `lastState` at most the one before), so whether it started before the app containers cannot be checked from this input; a live watch (`sidecar-lab step`) sees it",
                sidecar.container
            ),
        )
    })
}

/// `order-not-visible` for every sidecar whose first start is out of sight.
fn restarted_out_of_sight(
    timeline: &Timeline,
    restarts: &[(String, i32)],
    findings: &mut Vec<Finding>,
) {
    findings.extend(
        timeline
            .rows_of(Role::Sidecar)
            .filter_map(|sidecar| first_start_out_of_sight(sidecar, restarts)),
    );
}

/// Findings any pod can carry, whatever the variant.
fn pod_findings(
    pod: &Pod,
    timeline: &Timeline,
    settled: bool,
    deadline: Option<Option<Timestamp>>,
) -> Vec<Finding> {
    // A container stopped by the deadline's kill did not fail: it was stopped.
    let killed_at_deadline = |finished: Option<Timestamp>| match deadline {
        None => false,
        Some(None) => true,
        Some(Some(at)) => finished.is_none_or(|f| f.as_second() + 2 >= at.as_second()),
    };
    let mut findings = Vec::new();
    let status = pod.status.as_ref();
    if status.and_then(|s| s.reason.as_deref()) == Some("InitContainerRestartPolicyForbidden") {
        findings.push(Finding::problem(
            code::KUBELET_GATE_OFF,
            "the kubelet refused the pod (InitContainerRestartPolicyForbidden): SidecarContainers is on in the API server but off in the kubelet",
        ));
    }
    let unscheduled = status.and_then(|s| s.conditions.as_ref()).and_then(|c| {
        c.iter()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
    });
    if let Some(condition) = unscheduled {
        let why = condition
            .message
            .as_deref()
            .or(condition.reason.as_deref())
            .unwrap_or("no reason given");
        // On a small VM the usual cause is the lab itself: the steps that hang keep
        // their pods, and their requests, until the Job's deadline.
        let hint = if why.contains("Insufficient cpu") {
            ". Pods that never end (earlier steps that hang, by design) keep their CPU until their Job's deadline: `kubectl get pods -A` shows them; deleting their Jobs frees it"
        } else {
            ""
        };
        findings.push(Finding::problem(
            code::UNSCHEDULABLE,
            format!("the pod cannot be scheduled: {why}{hint}"),
        ));
    }
    let last_app_finish = timeline.last_app_finish();
    for c in pod_containers(pod) {
        let Some(container_status) = c.status else {
            continue;
        };
        if let Some((reason, message)) =
            containers::waiting_reason(container_status).filter(|_| !settled)
        {
            let detail = message.map(|m| format!(": {m}")).unwrap_or_default();
            if IMAGE_REASONS.contains(&reason) {
                let image = c.image.unwrap_or(&container_status.image);
                findings.push(Finding::problem(
                    code::IMAGE_PULL_FAILED,
                    format!("`{}` cannot get image `{image}` ({reason}){detail}", c.name),
                ));
            } else if containers::ERROR_REASONS.contains(&reason) {
                findings.push(Finding::problem(
                    code::CONTAINER_ERROR,
                    format!("`{}` is waiting on {reason}{detail}", c.name),
                ));
            }
        }
        let exited = containers::terminated(container_status);
        match c.role {
            Role::App => {
                if let Some(t) = exited
                    .filter(|t| t.exit_code != 0)
                    .filter(|t| !killed_at_deadline(t.finished_at.as_ref().map(|f| f.0)))
                {
                    findings.push(Finding::problem(
                        code::APP_CONTAINER_FAILED,
                        format!("`{}` exited {}", c.name, exit_text(t)),
                    ));
                }
            }
            Role::Sidecar => {
                let stopped = exited.filter(|t| {
                    t.exit_code != 0
                        && match (t.finished_at.as_ref(), last_app_finish) {
                            (Some(finished), Some(app)) => finished.0 >= app,
                            _ => false,
                        }
                });
                if let Some(t) = exited.filter(|t| t.reason.as_deref() == Some("OOMKilled")) {
                    // 137 looks like the kubelet's SIGKILL, but the kernel sent it.
                    findings.push(Finding::problem(
                        code::SIDECAR_OOM_KILLED,
                        format!(
                            "sidecar `{}` was killed by the kernel for using more memory than its limit (OOMKilled, exit {}), not stopped by the kubelet: raise its `resources.limits.memory`",
                            c.name, t.exit_code
                        ),
                    ));
                } else if let Some(t) = stopped {
                    findings.push(Finding::info(
                        code::SIDECAR_EXIT_CODE,
                        format!(
                            "sidecar `{}` exited {} after it was stopped{}: normal for a sidecar, not a failure",
                            c.name,
                            t.exit_code,
                            signal_name(t.exit_code)
                        ),
                    ));
                }
                if container_status.restart_count > 0 {
                    let oom = container_status
                        .last_state
                        .as_ref()
                        .and_then(|s| s.terminated.as_ref())
                        .filter(|t| t.reason.as_deref() == Some("OOMKilled"))
                        .map(
                            |_| " (its last run was OOMKilled: it used more memory than its limit)",
                        )
                        .unwrap_or_default();
                    findings.push(Finding::info(
                        code::SIDECAR_RESTARTED,
                        format!(
                            "sidecar `{}` was restarted {} time(s){oom}: a sidecar is restarted whenever it exits, even under restartPolicy Never",
                            c.name, container_status.restart_count
                        ),
                    ));
                }
            }
            Role::Init => {
                let failed = exited
                    .filter(|t| t.exit_code != 0)
                    .filter(|t| !killed_at_deadline(t.finished_at.as_ref().map(|f| f.0)));
                if let Some(t) = failed {
                    findings.push(Finding::problem(
                        code::INIT_CONTAINER_FAILED,
                        format!(
                            "init container `{}` exited {}: the app containers cannot start",
                            c.name,
                            exit_text(t)
                        ),
                    ));
                }
            }
        }
        if c.role == Role::Sidecar
            && containers::is_running(container_status)
            && container_status.started == Some(false)
            && !settled
        {
            findings.push(Finding::info(
                code::SIDECAR_NOT_STARTED,
                format!(
                    "sidecar `{}` runs but is not started: its startupProbe has not passed, and the app containers wait for it",
                    c.name
                ),
            ));
        }
    }
    findings
}

/// Whether activeDeadlineSeconds ended the Job or the pod, and when (if the input says):
/// the Job's condition's transition time, else the pod's start plus its deadline.
fn deadline_end(pod: Option<&Pod>, job: Option<&Job>) -> Option<Option<Timestamp>> {
    let condition = job.and_then(|j| {
        ["FailureTarget", "Failed"].iter().find_map(|t| {
            job_condition(j, t).filter(|c| c.reason.as_deref() == Some("DeadlineExceeded"))
        })
    });
    let by_pod = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.reason.as_deref())
        == Some("DeadlineExceeded");
    if condition.is_none() && !by_pod {
        return None;
    }
    let from_job = condition
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0);
    let from_pod = pod.and_then(|p| {
        let start = p.status.as_ref()?.start_time.as_ref()?.0;
        let seconds = p.spec.as_ref()?.active_deadline_seconds?;
        start
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(seconds))
            .ok()
    });
    Some(from_job.or(from_pod))
}

/// Which deadline ended what: the Job's own `activeDeadlineSeconds` (its condition says
/// DeadlineExceeded), or the pod's (the pod's status says DeadlineExceeded), after which
/// the Job fails for its own reason, typically BackoffLimitExceeded.
fn deadline_words(pod: Option<&Pod>, job: Option<&Job>) -> String {
    let job_reason = job.and_then(|j| {
        job_condition(j, "Failed")
            .or_else(|| job_condition(j, "FailureTarget"))
            .and_then(|c| c.reason.as_deref())
    });
    if job_reason == Some("DeadlineExceeded") || job_reason.is_none() && pod.is_none() {
        return "the Job's activeDeadlineSeconds ended the Job (DeadlineExceeded)".to_owned();
    }
    let seconds = pod
        .and_then(|p| p.spec.as_ref()?.active_deadline_seconds)
        .map(|s| format!(" ({s} s)"))
        .unwrap_or_default();
    let then = match job_reason {
        Some("BackoffLimitExceeded") => {
            "; the Job then failed with BackoffLimitExceeded: its pod failed and `backoffLimit` allows no new one"
        }
        Some(_) | None => "",
    };
    let job_reason = job_reason
        .filter(|r| *r != "BackoffLimitExceeded")
        .map(|r| format!("; the Job failed with {r}"))
        .unwrap_or_default();
    format!(
        "the pod's own activeDeadlineSeconds{seconds} ended the pod (DeadlineExceeded), not the Job's{then}{job_reason}"
    )
}

/// When the deadline ended the pod: the outcome it showed until then.
fn held_until_deadline(pod: Option<&Pod>, history: Option<&History<Pod>>) -> Option<Outcome> {
    if let Some(held) = pod.and_then(held_by_timestamps) {
        return Some(held);
    }
    // Otherwise the last lesson-like outcome among the earlier snapshots.
    history?
        .snapshots()
        .iter()
        .rev()
        .map(|p| classify_live(p).outcome)
        .find(|o| matches!(o, Outcome::InitRunning | Outcome::SidecarHoldsPod))
}

/// What a pod stopped from outside was doing, read from its final container times: no
/// app container ever started (init) or an app container exited 0 while another kept
/// running (sidecar).
fn held_by_timestamps(pod: &Pod) -> Option<Outcome> {
    let timeline = Timeline::from_snapshots(std::slice::from_ref(pod));
    let apps: Vec<_> = timeline.rows_of(Role::App).collect();
    if apps.iter().all(|r| r.runs.is_empty()) {
        return timeline
            .rows
            .iter()
            .any(|r| r.role != Role::App && !r.runs.is_empty())
            .then_some(Outcome::InitRunning);
    }
    let done: Vec<Timestamp> = apps
        .iter()
        .filter_map(|r| {
            r.last_run()
                .filter(|run| run.exit_code == Some(0))
                .and_then(|run| run.finished)
        })
        .collect();
    let outlived = |at: Timestamp| {
        apps.iter()
            .flat_map(|r| &r.runs)
            .any(|run| run.started.is_some_and(|s| s <= at) && run.finished.is_none_or(|f| f > at))
    };
    done.into_iter()
        .any(outlived)
        .then_some(Outcome::SidecarHoldsPod)
}

/// What a pod of `shape` lacks to be laid out as `variant`, in one clause.
fn lacks(shape: Shape, variant: Variant) -> String {
    let other = if shape.is_other() {
        " It is laid out in none of the lab's three ways."
    } else {
        ""
    };
    let what = match variant {
        Variant::Native if shape.plain_inits > 0 => {
            "the native variant needs an init container with `restartPolicy: Always` (if the manifest had one, the API server dropped it: the SidecarContainers gate is off)"
        }
        Variant::Native => {
            "the native variant needs an init container with `restartPolicy: Always`"
        }
        Variant::Init if shape.sidecars > 0 => {
            "the init variant has no sidecar: an init container with `restartPolicy: Always` does not block the app containers"
        }
        Variant::Init => "the init variant needs a plain init container",
        Variant::Sidecar if shape.sidecars > 0 => {
            "the sidecar variant keeps postgres as a regular container, not as an init container with `restartPolicy: Always`"
        }
        Variant::Sidecar => "the sidecar variant needs two or more app containers",
    };
    format!("{what}.{other}")
}

fn template_spec(job: &Job) -> Option<&PodSpec> {
    job.spec.as_ref()?.template.spec.as_ref()
}

/// `1 (Error)`: the exit code and the reason the runtime gave.
fn exit_text(terminated: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> String {
    match terminated.reason.as_deref() {
        Some(reason) => format!("{} ({reason})", terminated.exit_code),
        None => terminated.exit_code.to_string(),
    }
}

/// " (SIGTERM)" for 143 and " (SIGKILL)" for 137.
fn signal_name(exit_code: i32) -> &'static str {
    match exit_code {
        143 => " (SIGTERM)",
        137 => " (SIGKILL)",
        130 => " (SIGINT)",
        _ => "",
    }
}

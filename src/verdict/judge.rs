//! The judgement of one dump: the subject picked, its outcome classified, the findings
//! about the input, the pod and the deadline gathered, and, against an expectation, the
//! verdict decided and the step's checks held up.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodSpec};

use super::applied::{LAST_APPLIED, applied_native, dropped_restart_policies};
use super::checks::checks_hold;
use super::containers::{containers as pod_containers, shape};
use super::deadline::{DeadlineEnd, deadline_end, deadline_words, held_until_deadline};
use super::decide::{Facts, decide};
use super::finding::code;
use super::outcome::{self, Classified, classify, job_condition};
use super::pod_findings::pod_findings;
use super::timeline::Timeline;
use super::{
    Expectation, Finding, Judgement, Level, Outcome, Verdict, taught_outcome, template_spec,
};
use crate::lab::labels::VARIANT_LABEL;
use crate::observe::dump::Dump;
use crate::observe::history::{self, History, Subject};
use crate::variant::Variant;

/// Judges the dump against `expectation` when one is given.
pub fn judge_expecting(dump: &Dump, expectation: Option<&Expectation>) -> Judgement {
    let variant = expectation.map(|e| e.variant);
    // Several pods and no lab labels (a real cluster's namespace): prefer the one laid
    // out as the variant.
    let fits = |spec: &PodSpec| variant.is_some_and(|v| shape(spec).fits(v));
    let subject = history::subject(dump, variant, &fits);
    let pod = subject.pod.as_ref().map(History::latest);
    let job = subject.job.as_ref().map(History::latest);
    // A Job with no pod whose pods admission refuses: only its events say so. A refusal
    // that passes by itself (the namespace's `default` ServiceAccount, which its
    // controller makes a moment after the namespace) is not a verdict: the Job
    // controller tries again.
    let failed = job.and_then(|j| failed_create(&dump.events, j));
    let transient = failed.is_some_and(transient_refusal);
    let refused_pods = failed.filter(|_| !transient);
    let Classified { outcome, message } = classify_admitted(pod, job, refused_pods);
    let timeline = subject
        .pod
        .as_ref()
        .map(|h| Timeline::from_snapshots(h.snapshots()))
        .unwrap_or_default();

    let mut findings = input_findings(dump, &subject, pod, job, failed.filter(|_| transient));
    let deadline = deadline_end(pod, job);
    let held = deadline.and_then(|_| held_until_deadline(pod, subject.pod.as_ref()));
    findings.extend(pod_and_deadline_findings(
        pod, job, &timeline, deadline, held,
    ));

    let verdict = variant.map(|variant| {
        let facts = facts(outcome, held, pod, job, deadline.is_some());
        verdict_for(
            variant,
            expectation,
            &facts,
            refused_pods,
            pod,
            &timeline,
            &mut findings,
        )
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

/// The outcome of the latest snapshot; a Job with no pod that admission refuses
/// (`refused_pods`, its `FailedCreate` event) is `not-admitted` rather than waiting.
fn classify_admitted(
    pod: Option<&Pod>,
    job: Option<&Job>,
    refused_pods: Option<&str>,
) -> Classified {
    let mut classified = classify(pod, job);
    if pod.is_none()
        && matches!(classified.outcome, Outcome::Pending | Outcome::Running)
        && let Some(event) = refused_pods
    {
        classified.outcome = Outcome::NotAdmitted;
        event.clone_into(&mut classified.message);
    }
    classified
}

/// What the input itself says besides the objects judged: a pod refused for a moment
/// (`transient`, its event), a dump cut short, pods that were not chosen, and fields
/// the API server dropped from what kubectl sent.
fn input_findings(
    dump: &Dump,
    subject: &Subject,
    pod: Option<&Pod>,
    job: Option<&Job>,
    transient: Option<&str>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if pod.is_none()
        && let Some(event) = transient
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
    findings
}

/// The findings of the pod itself (whatever the variant), and what the deadline ended,
/// with the outcome `held` until then.
fn pod_and_deadline_findings(
    pod: Option<&Pod>,
    job: Option<&Job>,
    timeline: &Timeline,
    deadline: Option<DeadlineEnd>,
    held: Option<Outcome>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(pod) = pod {
        let settled = outcome::settled(pod, job);
        findings.extend(pod_findings(pod, timeline, settled, deadline));
        if pod.metadata.deletion_timestamp.is_some() {
            findings.push(Finding::info(
                code::POD_DELETED,
                "the pod was being deleted in the latest snapshot: its containers were stopped from outside",
            ));
        }
    }
    if deadline.is_some() {
        let until = held
            .map(|held| format!("; until then the pod was `{held}`"))
            .unwrap_or_default();
        findings.push(Finding::info(
            code::DEADLINE_EXCEEDED,
            format!("{}{until}", deadline_words(pod, job)),
        ));
    }
    findings
}

/// What the verdict is decided from, read off the pod (or the Job's template).
fn facts<'a>(
    outcome: Outcome,
    held: Option<Outcome>,
    pod: Option<&'a Pod>,
    job: Option<&'a Job>,
    deadline: bool,
) -> Facts<'a> {
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
    Facts {
        outcome,
        held,
        spec,
        labelled,
        have_pod: pod.is_some(),
        sent_native: job.and_then(applied_native),
        deadline,
        node_lost: pod.is_some_and(outcome::node_lost),
        restarts: pod.map(restart_counts).unwrap_or_default(),
    }
}

/// The verdict against `expectation` (what `variant` teaches when none is given), and
/// the outcome it was judged against: the outcome decided, then the step's checks, then
/// the formula against the API server's number; an `unexpected` no finding explains
/// gets one that does.
fn verdict_for(
    variant: Variant,
    expectation: Option<&Expectation>,
    facts: &Facts<'_>,
    refused_pods: Option<&str>,
    pod: Option<&Pod>,
    timeline: &Timeline,
    findings: &mut Vec<Finding>,
) -> (Verdict, Outcome) {
    let expectation = expectation
        .cloned()
        .unwrap_or_else(|| Expectation::taught(variant));
    let requests = if expectation.checks.requests {
        requests_findings(facts.spec, refused_pods)
    } else {
        Vec::new()
    };
    // The formula and the API server must agree, or the lesson is wrong.
    let disagree = requests.iter().any(|f| f.level == Level::Problem);
    findings.extend(requests);
    let mut verdict = decide(&expectation, facts, timeline, findings);
    if verdict == Verdict::Expected {
        verdict = checks_hold(&expectation.checks, pod, timeline, findings);
    }
    if verdict == Verdict::Expected && disagree {
        verdict = Verdict::Unexpected;
    }
    if verdict == Verdict::Unexpected && !findings.iter().any(|f| f.level == Level::Problem) {
        findings.push(unexpected_cause(
            variant,
            expectation.outcome,
            facts.outcome,
        ));
    }
    (verdict, expectation.outcome)
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

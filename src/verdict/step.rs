//! Judges a lab step from what a learner can paste, as `sidecar-lab step N` judges it
//! while it watches: each of the step's Jobs on its own objects (never on another Job's
//! pod), against the outcome the step teaches on the cluster's version, with the step's
//! own checks. The version comes from the learner, or from what the input shows of the
//! API server. Pure.

use crate::lab::{Lab, Step, StepNumber};
use crate::observe::dump::Dump;
use crate::observe::refusal::Refusal;
use crate::observe::step_objects::{self, JobKey};
use crate::variant::Variant;
use crate::verdict::finding::code;
use crate::verdict::{
    Expectation, Finding, Judgement, Outcome, Verdict, judge_expecting, judge_refusal,
};
use crate::version::MinorVersion;

/// What was pasted: objects, or the API server's refusal of the step's Job.
#[derive(Clone, Debug)]
pub enum Evidence {
    Objects(Dump),
    Refusal(Refusal),
}

/// Where the Kubernetes minor the step was judged on came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MinorSource {
    /// `--kubernetes`.
    Given,
    /// What the input shows of the API server, in one clause.
    Inferred(String),
    /// Nothing said, or the step teaches the same on every version: the newest rule.
    Unknown,
}

/// One of the step's Jobs, judged.
#[derive(Clone, Debug)]
pub struct JobJudgement {
    /// The Job's name as the lab creates it.
    pub job: String,
    pub judgement: Judgement,
}

/// A whole step, judged.
#[derive(Clone, Debug)]
pub struct StepJudgement {
    pub number: StepNumber,
    pub title: String,
    /// The minor whose rule applied (`None`: the newest).
    pub minor: Option<MinorVersion>,
    pub minor_source: MinorSource,
    pub jobs: Vec<JobJudgement>,
    /// Unexpected if any Job is, else undecided if any Job is, else expected.
    pub verdict: Verdict,
}

/// A step that cannot be judged at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("lab `{lab}` has steps 1 to {last}; there is no step {number}")]
    NoStep {
        lab: String,
        last: usize,
        number: StepNumber,
    },
    #[error("step {number} runs the {runs} variant(s), not `{variant}`")]
    NoVariant {
        number: StepNumber,
        variant: Variant,
        runs: String,
    },
    #[error("the lab's Job template is broken: {0}")]
    Template(String),
    #[error("step {number} {reason}, so `sidecar-lab step {number}` skips it there")]
    Skipped { number: StepNumber, reason: String },
}

/// Judges step `number` of `lab` from `evidence`; `minor` is the cluster's Kubernetes
/// minor when the learner gave it; `only` limits the judgement to one variant's Job.
pub fn judge_step(
    evidence: &Evidence,
    lab: &Lab,
    number: StepNumber,
    minor: Option<MinorVersion>,
    only: Option<Variant>,
) -> Result<StepJudgement, StepError> {
    let step = lab.step(number).ok_or_else(|| StepError::NoStep {
        lab: lab.name.clone(),
        last: lab.steps.len(),
        number,
    })?;
    if let Some(reason) = step.skip_reason(minor) {
        return Err(StepError::Skipped { number, reason });
    }
    let (minor, minor_source) = judged_minor(step, minor, evidence);
    let names = job_names(step)?;
    let runs = chosen_runs(step, number, minor, only)?;
    let several = step.runs(minor).len() > 1;
    let judged = Judged {
        evidence,
        step,
        number,
        minor,
        minor_source: &minor_source,
        several,
    };
    let jobs: Vec<JobJudgement> = runs
        .into_iter()
        .map(|(variant, outcome)| judged.job(&names, variant, outcome))
        .collect();
    let verdict = step_verdict(&jobs);
    Ok(StepJudgement {
        number,
        title: step.title.clone(),
        minor,
        minor_source,
        jobs,
        verdict,
    })
}

/// The minor the step is judged on, and where it came from: `--kubernetes`, else what
/// the input shows; none when the step teaches the same on every version.
fn judged_minor(
    step: &Step,
    minor: Option<MinorVersion>,
    evidence: &Evidence,
) -> (Option<MinorVersion>, MinorSource) {
    match minor {
        // The same lesson on every version: which one the cluster runs does not matter.
        _ if step.by_version.is_empty() => (None, MinorSource::Unknown),
        Some(minor) => (Some(minor), MinorSource::Given),
        None => match shown_minor(evidence) {
            Some((minor, why)) => (minor, MinorSource::Inferred(why)),
            None => (None, MinorSource::Unknown),
        },
    }
}

/// The step's runs on `minor`, only `only`'s when given; an error naming the runs there
/// are when `only` is none of them.
fn chosen_runs(
    step: &Step,
    number: StepNumber,
    minor: Option<MinorVersion>,
    only: Option<Variant>,
) -> Result<Vec<(Variant, Outcome)>, StepError> {
    let runs: Vec<(Variant, Outcome)> = step
        .runs(minor)
        .into_iter()
        .filter(|(variant, _)| only.is_none_or(|o| o == *variant))
        .collect();
    if runs.is_empty() {
        return Err(StepError::NoVariant {
            number,
            variant: only.unwrap_or(step.variant),
            runs: step
                .runs(minor)
                .iter()
                .map(|(v, _)| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(runs)
}

/// What every Job of one step is judged with.
struct Judged<'a> {
    evidence: &'a Evidence,
    step: &'a Step,
    number: StepNumber,
    minor: Option<MinorVersion>,
    minor_source: &'a MinorSource,
    several: bool,
}

impl Judged<'_> {
    /// The Job that runs `variant`, judged against `outcome` and the step's checks.
    fn job(&self, names: &[(Variant, String)], variant: Variant, outcome: Outcome) -> JobJudgement {
        let Self {
            evidence,
            step,
            number,
            minor,
            minor_source,
            several,
        } = *self;
        let name = names
            .iter()
            .find(|(v, _)| *v == variant)
            .map_or_else(String::new, |(_, n)| n.clone());
        let expectation = Expectation {
            variant,
            outcome,
            checks: step.check.clone(),
        };
        let own = variant == step.variant;
        let mut judgement = match evidence {
            Evidence::Refusal(refusal) => of_refusal(
                refusal,
                &expectation,
                &name,
                number,
                own,
                several,
                step.rule_on(minor),
            ),
            Evidence::Objects(dump) => of_objects(dump, &expectation, &name, number, several),
        };
        if let (MinorSource::Given, Some(given), Some((shown, why))) =
            (minor_source, minor, shown_minor(evidence))
            && step.expect_on(shown) != step.expect_on(Some(given))
        {
            judgement.findings.push(Finding::info(
                code::VERSION_CONTRADICTED,
                format!("the input looks otherwise: {why}; it was judged on {given}, as `--kubernetes` says"),
            ));
        }
        // A refusal names no stored Job: the judgement is still of this one.
        if judgement.job.is_none() && !name.is_empty() {
            judgement.job = Some(name.clone());
        }
        JobJudgement {
            job: name,
            judgement,
        }
    }
}

/// The step's verdict from its Jobs': unexpected if one is, expected if all are.
fn step_verdict(jobs: &[JobJudgement]) -> Verdict {
    let verdicts: Vec<Option<Verdict>> = jobs.iter().map(|j| j.judgement.verdict).collect();
    if verdicts.contains(&Some(Verdict::Unexpected)) {
        Verdict::Unexpected
    } else if verdicts.iter().all(|v| *v == Some(Verdict::Expected)) {
        Verdict::Expected
    } else {
        Verdict::Undecided
    }
}

/// The judgement of one of the step's Jobs from the API server's refusal: the step's own
/// Job, when the refusal names it or names none; a refusal for another reason than the
/// one the step teaches (`refusal` in its version rule) is not the lesson.
fn of_refusal(
    refusal: &Refusal,
    expectation: &Expectation,
    name: &str,
    number: StepNumber,
    own: bool,
    several: bool,
    rule: Option<&crate::lab::VersionRule>,
) -> Judgement {
    match refusal.name.as_deref() {
        Some(other) if other != name => {
            let mut judgement = missing(expectation, name, number, several);
            judgement.findings.push(Finding::info(
                code::API_REFUSED,
                format!(
                    "the refusal is of Job `{other}`, not of `{name}`: {}",
                    refusal.message
                ),
            ));
            return judgement;
        }
        None if !own => return missing(expectation, name, number, several),
        _ => {}
    }
    let mut judgement = judge_refusal(&refusal.message, expectation);
    let cause = rule.and_then(|r| r.refusal.as_deref());
    if expectation.outcome == Outcome::Refused
        && let Some(cause) = cause.filter(|c| !refusal.message.contains(c))
    {
        judgement.verdict = Some(Verdict::Unexpected);
        judgement.findings = vec![Finding::problem(
            code::API_REFUSED,
            format!(
                "the API server refused the Job for another reason than the one the step teaches (\"{cause}\"): {}",
                refusal.message
            ),
        )];
    }
    judgement
}

/// The judgement of one of the step's Jobs from objects: on its own objects; when the
/// input has none of them, on what is laid out as the variant only if nothing in the
/// input belongs to a lab step (a learner's own copy, renamed), else undecided.
fn of_objects(
    dump: &Dump,
    expectation: &Expectation,
    name: &str,
    number: StepNumber,
    several: bool,
) -> Judgement {
    let key = JobKey {
        name,
        step: number.0,
        variant: expectation.variant,
    };
    let outcome = expectation.outcome;
    let Some(own) = step_objects::of_job(dump, key) else {
        let steps = step_objects::labelled_steps(dump);
        if steps.is_empty() && !several {
            let mut judgement = judge_expecting(dump, Some(expectation));
            judgement.findings.insert(
                0,
                Finding::info(
                    code::OTHER_PODS,
                    format!(
                        "the input has no Job `{name}` (step {number}'s) and no pod of it: judged the pod laid out as the `{}` variant instead",
                        expectation.variant
                    ),
                ),
            );
            return judgement;
        }
        let mut judgement = missing(expectation, name, number, several);
        if !steps.is_empty() && !steps.contains(&number.0) {
            let list: Vec<String> = steps.iter().map(u32::to_string).collect();
            judgement.findings.push(Finding::info(
                code::OTHER_PODS,
                format!(
                    "the input holds objects of step(s) {} (label `sidecar-lab/step`), none of step {number}: judge those with `--step`",
                    list.join(", ")
                ),
            ));
        }
        return judgement;
    };
    let mut judgement = judge_expecting(&own, Some(expectation));
    if outcome == Outcome::NotAdmitted
        && judgement.pod.is_none()
        && own.events.is_empty()
        && judgement.verdict != Some(Verdict::Expected)
    {
        let suspended = own.objects.iter().any(|o| match o {
            crate::observe::dump::Object::Job(job) => {
                crate::verdict::outcome::job_condition(job, "Suspended").is_some()
            }
            crate::observe::dump::Object::Pod(_) => false,
        });
        let why = if suspended {
            "the Job is suspended (step 4 suspends the Jobs the quota refused) and the input has no `FailedCreate` event for it: the dump left events out (dump with `kubectl get job,pod,event -n NAMESPACE -o yaml`, no `-l`), or they expired, an hour after they were last seen (kube-apiserver `--event-ttl`; run the step again)"
        } else {
            "the Job has no pod and the input no `FailedCreate` event for it: a pod that admission refuses shows only in that event, and events carry no labels, so dump with `kubectl get job,pod,event -n NAMESPACE -o yaml` (no `-l`)"
        };
        judgement.findings.push(Finding::info(
            code::NO_POD,
            format!("{why}; the step expects `{outcome}`"),
        ));
    }
    judgement
}

/// Each variant's Job name, as the lab creates them (`cy-job-cost-native`).
fn job_names(step: &Step) -> Result<Vec<(Variant, String)>, StepError> {
    let template = crate::render::job::parse_template(crate::assets::JOB_TEMPLATE)
        .map_err(|e| StepError::Template(e.to_string()))?;
    let base = crate::render::step::step_job_name(&template, step)
        .map_err(|e| StepError::Template(e.to_string()))?;
    step.runs(None)
        .into_iter()
        .map(|(variant, _)| {
            crate::render::step::run_job_name(&base, step, variant)
                .map(|name| (variant, name.to_string()))
                .map_err(|e| StepError::Template(e.to_string()))
        })
        .collect()
}

/// The judgement of a Job the input holds nothing of.
fn missing(expectation: &Expectation, name: &str, number: StepNumber, several: bool) -> Judgement {
    let how = if several {
        format!(
            "dump the whole step with `kubectl get job,pod,event -n NAMESPACE -o yaml` (step {number} runs several Jobs)"
        )
    } else {
        "dump it with `kubectl get job,pod,event -n NAMESPACE -o yaml`".to_owned()
    };
    Judgement {
        outcome: Outcome::Pending,
        outcome_message: format!("the input holds nothing of Job `{name}`"),
        variant: Some(expectation.variant),
        expected: Some(expectation.outcome),
        verdict: Some(Verdict::Undecided),
        findings: vec![Finding::info(
            code::JOB_MISSING,
            format!("the input holds neither Job `{name}` nor a pod of it: {how}"),
        )],
        timeline: crate::verdict::timeline::Timeline::default(),
        pod: None,
        job: Some(name.to_owned()),
        job_done: false,
    }
}

/// The Kubernetes minor the input shows, for steps whose lesson differs by version
/// (`byVersion`), with the evidence in one clause; `Some((None, …))` means "a minor
/// newer than every rule". Where ContainerRestartRules stands decides it
/// (pkg/apis/core/validation and pkg/api/pod/util.go of each release):
/// - up to 1.33 validation refuses `restartPolicy` on a regular container ("may not be
///   set for non-init containers");
/// - 1.34 (alpha, off) drops the field before validation (`dropDisabledFields`): what
///   kubectl sent has it, the stored Job does not;
/// - from 1.35 (beta, on) the stored Job keeps it.
fn shown_minor(evidence: &Evidence) -> Option<(Option<MinorVersion>, String)> {
    match evidence {
        Evidence::Refusal(refusal)
            if refusal
                .message
                .contains("may not be set for non-init containers") =>
        {
            Some((
                Some(MinorVersion::new(1, 33)),
                "the API server refused `restartPolicy` on a regular container, as servers up to 1.33 do".to_owned(),
            ))
        }
        Evidence::Refusal(_) => None,
        Evidence::Objects(dump) => {
            use crate::observe::dump::Object;
            let jobs = dump.objects.iter().filter_map(|o| match o {
                Object::Job(job) => Some(job.as_ref()),
                Object::Pod(_) => None,
            });
            let mut kept = false;
            for job in jobs {
                if !crate::verdict::dropped_restart_policies(job).is_empty() {
                    return Some((
                        Some(MinorVersion::new(1, 34)),
                        "kubectl sent `restartPolicy` on a regular container and the stored Job has none, as a 1.34 server drops it".to_owned(),
                    ));
                }
                kept |= job
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.spec.as_ref())
                    .is_some_and(|s| s.containers.iter().any(|c| c.restart_policy.is_some()));
            }
            kept.then(|| {
                (
                    None,
                    "the stored Job keeps `restartPolicy` on a regular container, as servers from 1.35 do".to_owned(),
                )
            })
        }
    }
}

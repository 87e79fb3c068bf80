//! The verdict on one answer to an exercise: solved, or not and why, with the catalogue's
//! mistake it is recognised as. An answer is judged by what defines it — a sidecar that
//! serves postgres, `main` doing its work and exiting 0, the Job complete (and for the
//! stop order, a second sidecar finishing after postgres) — read from what the cluster
//! stored and what the pod did, never from names nor by comparing with the lab's own
//! manifest. Pure.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::jiff::Timestamp;

use super::catalogue::{Catalogue, Exercise, Goal, Mistake};
use super::signs::{MainWork, Sign, pod_spec, serves_postgres, signs};
use crate::lab::AttemptResult;
use crate::observe::dump::{Dump, Object};
use crate::verdict::{Judgement, Outcome, Verdict};
use crate::version::MinorVersion;

/// How the watch over a running answer ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// It was decided (the Job finished, or a state held long enough).
    Decided,
    TimedOut,
    Interrupted,
}

/// What became of one submitted answer.
#[derive(Clone, Copy, Debug)]
pub enum Attempt<'a> {
    /// The file is not one Job; the strict decoder named this field, when it could.
    NotDecoded { field: Option<&'a str> },
    /// The API server refused the Job (the server-side dry run); its words.
    Refused { sent: &'a Job, refusal: &'a str },
    /// The Job ran and was watched.
    Ran {
        sent: &'a Job,
        end: WatchEnd,
        judgement: Option<&'a Judgement>,
        /// Everything the watch saw of the answer's Job and pods.
        seen: &'a Dump,
    },
}

/// The verdict on an answer.
#[derive(Clone, Debug)]
pub struct Assessment<'c> {
    pub result: AttemptResult,
    /// The mistake the answer was recognised as, when it was not solved.
    pub mistake: Option<&'c Mistake>,
    /// What that mistake does on this cluster's version.
    pub on_version: Option<&'c str>,
    /// What the answer lacks of the goal, one sentence each (empty when solved).
    pub missing: Vec<String>,
}

/// Judges `attempt` at `exercise`, whose starting `main` does `work`, on a cluster of
/// `minor`.
pub fn assess<'c>(
    catalogue: &'c Catalogue,
    exercise: &Exercise,
    work: &MainWork,
    attempt: Attempt<'_>,
    minor: Option<MinorVersion>,
) -> Assessment<'c> {
    let (result, missing) = match attempt {
        Attempt::NotDecoded { .. } => (AttemptResult::NotDecoded, Vec::new()),
        Attempt::Refused { .. } => (AttemptResult::Refused, Vec::new()),
        Attempt::Ran {
            end,
            judgement,
            seen,
            ..
        } => {
            let missing = shortfalls(exercise.goal, work, judgement, seen);
            let result = match end {
                _ if missing.is_empty() => AttemptResult::Solved,
                WatchEnd::Interrupted => AttemptResult::Interrupted,
                WatchEnd::TimedOut => AttemptResult::TimedOut,
                WatchEnd::Decided => AttemptResult::Wrong,
            };
            (result, missing)
        }
    };
    let mistake = if result == AttemptResult::Solved {
        None
    } else {
        let sent_signs = match attempt {
            Attempt::Refused { sent, .. } | Attempt::Ran { sent, .. } => Some(signs(sent, work)),
            Attempt::NotDecoded { .. } => None,
        };
        catalogue
            .mistakes
            .iter()
            .filter(|m| m.applies_to(exercise.number))
            .find(|m| matches(m, &attempt, sent_signs.as_deref()))
    };
    Assessment {
        result,
        mistake,
        on_version: mistake.and_then(|m| m.on(minor)),
        missing,
    }
}

/// Whether every sign `mistake` names holds for `attempt`.
fn matches(mistake: &Mistake, attempt: &Attempt<'_>, sent: Option<&[Sign]>) -> bool {
    let when = &mistake.when;
    let judgement = match attempt {
        Attempt::Ran { judgement, .. } => *judgement,
        _ => None,
    };
    let decode = when.decode.as_deref().is_none_or(
        |wanted| matches!(attempt, Attempt::NotDecoded { field: Some(field) } if *field == wanted),
    );
    let refusal = when.refusal.as_deref().is_none_or(
        |wanted| matches!(attempt, Attempt::Refused { refusal, .. } if refusal.contains(wanted)),
    );
    let manifest = when.manifest.is_empty()
        || sent.is_some_and(|signs| when.manifest.iter().all(|s| signs.contains(s)));
    let finding = when.finding.is_empty()
        || judgement.is_some_and(|j| when.finding.iter().all(|code| j.has(code)));
    let outcome =
        when.outcome.is_empty() || judgement.is_some_and(|j| when.outcome.contains(&j.outcome));
    decode && refusal && manifest && finding && outcome
}

/// What the answer that ran lacks of `goal`, read from the Job the server stored and the
/// pod's statuses; empty when it has it all.
fn shortfalls(
    goal: Goal,
    work: &MainWork,
    judgement: Option<&Judgement>,
    seen: &Dump,
) -> Vec<String> {
    let mut missing = Vec::new();
    let job = latest_job(seen);
    let pod = latest_pod(seen);
    let spec = pod
        .and_then(|p| p.spec.as_ref())
        .or_else(|| job.and_then(pod_spec));
    let Some(spec) = spec else {
        return vec!["the cluster showed no Job nor pod of this answer".to_owned()];
    };
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let postgres = inits
        .iter()
        .position(|c| c.restart_policy.as_deref() == Some("Always") && serves_postgres(c));
    if postgres.is_none() {
        missing.push("no init container with `restartPolicy: Always` runs postgres in the Job the API server stored".to_owned());
    }
    match main_exit(spec, pod, work) {
        MainRan::Missing => {
            missing.push("no container runs `main`'s work as the exercise gave it".to_owned());
        }
        MainRan::NotZero(code) => missing.push(format!("`main` exited {code}, not 0")),
        MainRan::NotFinished => missing.push("`main` did not finish".to_owned()),
        MainRan::ExitedZero => {}
    }
    let complete = judgement.is_some_and(|j| j.job_done && j.outcome == Outcome::Succeeded);
    if !complete {
        missing.push("the Job did not complete".to_owned());
    } else if judgement.is_some_and(|j| j.verdict != Some(Verdict::Expected)) {
        missing.push(
            "the containers did not start and stop in a sidecar's order (see the findings)"
                .to_owned(),
        );
    }
    if goal == Goal::StopAfterPostgres {
        if let Some(problem) = stop_order(inits, postgres, pod) {
            missing.push(problem);
        }
    }
    missing
}

/// How `main`'s work ran.
enum MainRan {
    Missing,
    NotFinished,
    NotZero(i32),
    ExitedZero,
}

fn main_exit(spec: &PodSpec, pod: Option<&Pod>, work: &MainWork) -> MainRan {
    let Some(main) = spec.containers.iter().find(|c| work.done_by(c)) else {
        return MainRan::Missing;
    };
    let status = pod
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|all| all.iter().find(|s| s.name == main.name));
    let terminated = status
        .and_then(|s| s.state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    match terminated.map(|t| t.exit_code) {
        Some(0) => MainRan::ExitedZero,
        Some(code) => MainRan::NotZero(code),
        None => MainRan::NotFinished,
    }
}

/// For the stop order: a sidecar besides postgres that finished after it. `finishedAt`
/// counts whole seconds, so the same second counts only when that sidecar is declared
/// before postgres (the kubelet stops sidecars last declared first, from 1.29).
fn stop_order(inits: &[Container], postgres: Option<usize>, pod: Option<&Pod>) -> Option<String> {
    let postgres = postgres?;
    let finished = |name: &str| -> Option<Timestamp> {
        let statuses = pod?.status.as_ref()?.init_container_statuses.as_ref()?;
        let status = statuses.iter().find(|s| s.name == name)?;
        Some(
            status
                .state
                .as_ref()?
                .terminated
                .as_ref()?
                .finished_at
                .as_ref()?
                .0,
        )
    };
    let others: Vec<(usize, &Container)> = inits
        .iter()
        .enumerate()
        .filter(|(i, c)| *i != postgres && c.restart_policy.as_deref() == Some("Always"))
        .collect();
    if others.is_empty() {
        return Some("the Job has no second sidecar".to_owned());
    }
    let Some(postgres_done) = finished(&inits[postgres].name) else {
        return Some(
            "postgres's finish time was not seen, so the stop order cannot be checked".to_owned(),
        );
    };
    let after = others.iter().any(|(index, c)| {
        finished(&c.name).is_some_and(|done| {
            done > postgres_done || (done == postgres_done && *index < postgres)
        })
    });
    (!after).then(|| "no second sidecar finished after postgres".to_owned())
}

/// The last Job in what was seen.
fn latest_job(seen: &Dump) -> Option<&Job> {
    seen.objects.iter().rev().find_map(|o| match o {
        Object::Job(job) => Some(job.as_ref()),
        Object::Pod(_) => None,
    })
}

/// The last snapshot of the newest pod in what was seen.
fn latest_pod(seen: &Dump) -> Option<&Pod> {
    seen.objects.iter().rev().find_map(|o| match o {
        Object::Pod(pod) => Some(pod.as_ref()),
        Object::Job(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::start::starting_job;
    use crate::lab::{ExerciseNumber, Lab};

    fn setup(number: u32) -> (Catalogue, Job, MainWork) {
        let catalogue = Catalogue::embedded().expect("catalogue");
        let exercise = catalogue
            .exercise(ExerciseNumber(number))
            .expect("exercise");
        let job = starting_job(exercise, &Lab::embedded().expect("lab")).expect("job");
        let work = MainWork::of(&job).expect("main");
        (catalogue, job, work)
    }

    fn minor(text: &str) -> Option<MinorVersion> {
        text.parse().ok()
    }

    #[test]
    fn a_refusal_of_the_pods_restart_policy_gets_its_own_hint() {
        let (catalogue, job, work) = setup(1);
        let exercise = catalogue.exercise(ExerciseNumber(1)).expect("exercise");
        let refusal = r#"The Job "exercise-1" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#;
        let assessment = assess(
            &catalogue,
            exercise,
            &work,
            Attempt::Refused {
                sent: &job,
                refusal,
            },
            minor("1.37"),
        );
        assert_eq!(assessment.result, AttemptResult::Refused);
        assert_eq!(
            assessment.mistake.map(|m| m.id.as_str()),
            Some("pod-restart-policy-always")
        );
        assert!(
            assessment
                .on_version
                .is_some_and(|s| s.contains("Every version"))
        );
    }

    #[test]
    fn a_field_the_decoder_refused_is_recognised_by_its_name_only() {
        let (catalogue, _, work) = setup(2);
        let exercise = catalogue.exercise(ExerciseNumber(2)).expect("exercise");
        let named = assess(
            &catalogue,
            exercise,
            &work,
            Attempt::NotDecoded {
                field: Some("restartPolicy"),
            },
            None,
        );
        assert_eq!(named.result, AttemptResult::NotDecoded);
        assert_eq!(
            named.mistake.map(|m| m.id.as_str()),
            Some("misplaced-restart-policy")
        );
        let other = assess(
            &catalogue,
            exercise,
            &work,
            Attempt::NotDecoded {
                field: Some("imagePullPolicyy"),
            },
            None,
        );
        assert!(other.mistake.is_none());
    }

    #[test]
    fn an_answer_that_ran_and_left_nothing_to_see_is_not_solved() {
        let (catalogue, job, work) = setup(1);
        let exercise = catalogue.exercise(ExerciseNumber(1)).expect("exercise");
        let seen = Dump::default();
        let attempt = Attempt::Ran {
            sent: &job,
            end: WatchEnd::TimedOut,
            judgement: None,
            seen: &seen,
        };
        let assessment = assess(&catalogue, exercise, &work, attempt, minor("1.34"));
        assert_eq!(assessment.result, AttemptResult::TimedOut);
        // The starting manifest unchanged: postgres is still a regular container.
        assert_eq!(
            assessment.mistake.map(|m| m.id.as_str()),
            Some("postgres-regular")
        );
        assert!(!assessment.missing.is_empty());
    }

    #[test]
    fn the_second_sidecar_mistakes_belong_to_exercise_3_only() {
        let (catalogue, job, work) = setup(3);
        for number in [1, 2] {
            let exercise = catalogue
                .exercise(ExerciseNumber(number))
                .expect("exercise");
            let seen = Dump::default();
            let attempt = Attempt::Ran {
                sent: &job,
                end: WatchEnd::Decided,
                judgement: None,
                seen: &seen,
            };
            let assessment = assess(&catalogue, exercise, &work, attempt, None);
            assert!(
                assessment
                    .mistake
                    .is_none_or(|m| m.id != "no-second-sidecar"),
                "{number}"
            );
        }
        let exercise = catalogue.exercise(ExerciseNumber(3)).expect("exercise");
        let seen = Dump::default();
        let attempt = Attempt::Ran {
            sent: &job,
            end: WatchEnd::Decided,
            judgement: None,
            seen: &seen,
        };
        let assessment = assess(&catalogue, exercise, &work, attempt, None);
        assert_eq!(
            assessment.mistake.map(|m| m.id.as_str()),
            Some("no-second-sidecar")
        );
    }
}

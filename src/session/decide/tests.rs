//! The rules that decide a step, and the watch that applies them to 1..N Jobs.

use super::*;
use crate::verdict::timeline::Timeline;

fn seen(seconds: u64, outcome: Outcome, verdict: Verdict, job_done: bool) -> Observed {
    Observed {
        seconds,
        judgement: Judgement {
            outcome,
            outcome_message: String::new(),
            variant: None,
            expected: None,
            verdict: Some(verdict),
            findings: Vec::new(),
            timeline: Timeline::default(),
            pod: None,
            job: None,
            job_done,
        },
    }
}

/// The clock at the last observation.
fn now(observed: &[Observed]) -> u64 {
    observed.last().map_or(0, |o| o.seconds)
}

/// A native step whose pod a second regular container keeps running: undecided from
/// each snapshot, decided (and unexpected) once it has held for the hold time; one
/// that exits within it is never held against the step.
#[test]
fn a_regular_container_that_outlives_the_hold_holds_the_pod() {
    let holding = |seconds| {
        let mut o = seen(seconds, Outcome::SidecarHoldsPod, Verdict::Undecided, false);
        o.judgement.findings.push(crate::verdict::Finding::info(
            crate::verdict::finding::code::MAY_STILL_EXIT,
            "may still exit",
        ));
        o
    };
    let mut observed: Vec<Observed> = (0..=5).map(holding).collect();
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, 5, &observed),
        Decision::Watch
    );
    observed.extend((6..=UNEXPECTED_HOLD_SECONDS).map(holding));
    let now = UNEXPECTED_HOLD_SECONDS;
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, now, &observed),
        Decision::Decided
    );
    let judgement = conclusion(&mut observed).expect("a judgement");
    assert_eq!(judgement.verdict, Some(Verdict::Unexpected));
    assert!(
        judgement
            .findings
            .iter()
            .any(|f| f.level == crate::verdict::Level::Problem)
    );
    // The same container exiting after 5 s: the Job completes, nothing held.
    let mut observed: Vec<Observed> = (0..=5).map(holding).collect();
    observed.push(seen(6, Outcome::Succeeded, Verdict::Expected, true));
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, 6, &observed),
        Decision::Decided
    );
    let judgement = conclusion(&mut observed).expect("a judgement");
    assert_eq!(judgement.verdict, Some(Verdict::Expected));
}

#[test]
fn no_observation_at_all_still_times_out() {
    assert_eq!(decide(Outcome::Succeeded, 0, 180, 10, &[]), Decision::Watch);
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, 180, &[]),
        Decision::TimedOut
    );
}

#[test]
fn the_clock_ends_a_step_whose_observations_stopped() {
    let observed = vec![seen(3, Outcome::Running, Verdict::Undecided, false)];
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, 200, &observed),
        Decision::TimedOut
    );
}

#[test]
fn init_is_decided_only_after_its_outcome_held() {
    let mut observed = vec![seen(0, Outcome::Pending, Verdict::Undecided, false)];
    observed.push(seen(1, Outcome::InitRunning, Verdict::Expected, false));
    assert_eq!(
        decide(Outcome::InitRunning, 10, 180, now(&observed), &observed),
        Decision::Watch
    );
    observed.push(seen(6, Outcome::InitRunning, Verdict::Expected, false));
    assert_eq!(
        decide(Outcome::InitRunning, 10, 180, now(&observed), &observed),
        Decision::Watch
    );
    observed.push(seen(11, Outcome::InitRunning, Verdict::Expected, false));
    assert_eq!(
        decide(Outcome::InitRunning, 10, 180, now(&observed), &observed),
        Decision::Decided
    );
}

#[test]
fn a_change_restarts_the_hold() {
    let observed = vec![
        seen(0, Outcome::Running, Verdict::Undecided, false),
        seen(5, Outcome::SidecarHoldsPod, Verdict::Expected, false),
        seen(12, Outcome::SidecarHoldsPod, Verdict::Expected, false),
    ];
    assert_eq!(
        decide(Outcome::SidecarHoldsPod, 10, 180, now(&observed), &observed),
        Decision::Watch
    );
    let mut later = observed;
    later.push(seen(15, Outcome::SidecarHoldsPod, Verdict::Expected, false));
    assert_eq!(
        decide(Outcome::SidecarHoldsPod, 10, 180, now(&later), &later),
        Decision::Decided
    );
}

#[test]
fn native_waits_for_the_job() {
    let running = vec![seen(3, Outcome::Succeeded, Verdict::Expected, false)];
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, now(&running), &running),
        Decision::Watch
    );
    let done = vec![seen(4, Outcome::Succeeded, Verdict::Expected, true)];
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, now(&done), &done),
        Decision::Decided
    );
}

#[test]
fn native_stops_early_on_a_lasting_unexpected_verdict() {
    let observed = vec![
        seen(1, Outcome::InitRunning, Verdict::Unexpected, false),
        seen(11, Outcome::InitRunning, Verdict::Unexpected, false),
    ];
    assert_eq!(
        decide(Outcome::Succeeded, 0, 180, now(&observed), &observed),
        Decision::Decided
    );
}

#[test]
fn the_timeout_ends_an_undecided_step() {
    let observed = vec![
        seen(0, Outcome::Pending, Verdict::Undecided, false),
        seen(181, Outcome::Pending, Verdict::Undecided, false),
    ];
    assert_eq!(
        decide(Outcome::InitRunning, 10, 180, now(&observed), &observed),
        Decision::TimedOut
    );
}

// ---- The watch over a step's Jobs.

fn fixture(name: &str) -> Dump {
    let path = format!("{}/tests/fixtures/dumps/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).expect("fixture");
    crate::observe::dump::parse(&bytes).expect("parses")
}

fn expecting(variant: Variant, outcome: Outcome) -> Watched {
    let expectation = Expectation {
        variant,
        outcome,
        checks: crate::lab::Checks::default(),
    };
    Watched::new(variant, format!("cy-job-{variant}"), expectation)
}

fn objects(dump: Dump) -> Observation {
    Observation {
        objects: Some(dump),
        events: None,
    }
}

/// A plain step's native Job that completes: decided at the first observation that
/// shows it done.
#[test]
fn a_plain_watch_ends_when_its_job_completes() {
    let mut watch = Watch::new(
        vec![expecting(Variant::Native, Outcome::Succeeded)],
        0,
        180,
        false,
    );
    assert!(
        !watch.observe(0, Observation::default()),
        "nothing read, nothing judged"
    );
    watch.decide(0);
    assert!(!watch.done());
    assert!(watch.observe(1, objects(fixture("native-succeeded.yaml"))));
    watch.decide(1);
    assert!(watch.done());
    assert_eq!(watch.ending(), Ending::Expected);
    let judgement = watch.judgement().expect("a judgement");
    assert_eq!(judgement.outcome, Outcome::Succeeded);
}

/// A plain step whose reads bring nothing ends on its timeout, with nothing judged.
#[test]
fn a_plain_watch_times_out_on_the_clock_alone() {
    let mut watch = Watch::new(
        vec![expecting(Variant::Sidecar, Outcome::SidecarHoldsPod)],
        10,
        180,
        false,
    );
    for now in 0..180 {
        watch.observe(now, Observation::default());
        watch.decide(now);
        assert!(!watch.done(), "decided at {now}");
    }
    watch.decide(180);
    assert!(watch.done());
    assert_eq!(watch.ending(), Ending::TimedOut);
    assert!(watch.judgement().is_none());
}

/// A group judges each Job from the objects with its own variant label, on every tick:
/// a Job refused at apply is decided from the start, the other once its Job is done.
#[test]
fn a_group_judges_each_job_on_its_own_objects() {
    let mut watch = Watch::new(
        vec![
            expecting(Variant::Native, Outcome::Succeeded),
            expecting(Variant::Init, Outcome::Succeeded),
        ],
        10,
        180,
        true,
    );
    let mut refused = watch.jobs()[1].clone();
    refused.expectation.outcome = Outcome::Refused;
    let judgement =
        crate::verdict::judge_refusal("admission webhook denied the request", &refused.expectation);
    watch.refused(1, judgement);
    assert!(!watch.done());
    // A failed read still judges the open Job again (events may have changed).
    assert!(watch.observe(0, Observation::default()));
    assert_eq!(watch.jobs()[0].observed().len(), 1);
    watch.decide(0);
    assert!(watch.observe(1, objects(fixture("native-succeeded.yaml"))));
    watch.decide(1);
    assert!(watch.done());
    let ends: Vec<Ending> = watch
        .jobs()
        .iter()
        .map(|j| j.end().expect("ended").ending)
        .collect();
    assert_eq!(ends, [Ending::Expected, Ending::Expected]);
    assert_eq!(watch.ending(), Ending::Expected);
    assert_eq!(
        watch.judgement().map(|j| j.outcome),
        Some(Outcome::Succeeded)
    );
}

/// Ctrl-C: a plain step keeps its latest judgement; a group's undecided Job has none.
#[test]
fn an_interrupted_watch_keeps_what_each_shape_reports() {
    let open = || expecting(Variant::Sidecar, Outcome::SidecarHoldsPod);
    let mut plain = Watch::new(vec![open()], 10, 180, false);
    plain.observe(0, objects(fixture("sidecar-holds-pod.yaml")));
    plain.decide(0);
    plain.interrupt();
    assert_eq!(plain.ending(), Ending::Interrupted);
    assert!(plain.judgement().is_some());
    let mut group = Watch::new(vec![open()], 10, 180, true);
    group.observe(0, objects(fixture("sidecar-holds-pod.yaml")));
    group.decide(0);
    group.interrupt();
    assert_eq!(group.ending(), Ending::Interrupted);
    assert!(group.judgement().is_none());
    assert!(group.done());
}

/// A pod kept in its init phase: a lab step expecting success waits on (an image may
/// still be pulling), an exercise's answer watched with an init hold is decided, and
/// unexpected, once it has stayed there that long.
#[test]
fn an_answer_stuck_in_its_init_phase_is_decided_after_the_init_hold() {
    let stuck = |seconds| seen(seconds, Outcome::InitRunning, Verdict::Undecided, false);
    let watched = || {
        let mut job = expecting(Variant::Native, Outcome::Succeeded);
        job.observed = (0..=40).map(stuck).collect();
        job
    };
    let mut step = Watch::new(vec![watched()], 10, 180, false);
    step.decide(40);
    assert!(!step.done(), "a step waits for its timeout");
    let mut answer = Watch::new(vec![watched()], 10, 180, false).with_init_hold(30);
    answer.decide(40);
    assert_eq!(answer.ending(), Ending::Unexpected);
    let judgement = answer.judgement().expect("judgement");
    assert_eq!(judgement.verdict, Some(Verdict::Unexpected));
    assert!(judgement.has(crate::verdict::finding::code::UNEXPECTED_OUTCOME));
    // Not before the hold.
    let mut early = Watch::new(vec![watched()], 10, 180, false).with_init_hold(60);
    early.decide(40);
    assert!(!early.done());
}

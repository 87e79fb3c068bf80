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

//! When a running step is decided — from the judgements of its observations so far
//! (pure). A step that expects the Job to succeed is decided when its Job completes or
//! fails; a step that expects a state that never ends (stuck in init, held by a regular
//! container, refused by a quota) once that state has held for the step's hold time,
//! never from one early snapshot; every step ends at its timeout.

use crate::verdict::{Judgement, Outcome, Verdict};

/// How long an `unexpected` verdict must hold before a native step stops early (a gate
/// that is off, an image that cannot be pulled): long enough not to mistake a passing
/// state, short enough not to wait out the whole timeout.
pub const UNEXPECTED_HOLD_SECONDS: u64 = 10;

/// One observation: seconds since the step started, and the judgement of all
/// observations up to then.
#[derive(Clone, Debug)]
pub struct Observed {
    pub seconds: u64,
    pub judgement: Judgement,
}

/// What to do after an observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Keep watching.
    Watch,
    /// The step is decided; the last observation holds the verdict.
    Decided,
    /// The timeout passed first.
    TimedOut,
}

/// Decides from `observed` (oldest first) for a step expecting `expect`, `now` seconds after
/// it started: the clock, not the last observation, decides the timeout, so a step whose
/// observations stop coming still ends.
pub fn decide(
    expect: Outcome,
    hold_seconds: u64,
    timeout_seconds: u64,
    now: u64,
    observed: &[Observed],
) -> Decision {
    let timed_out = now >= timeout_seconds;
    let Some(last) = observed.last() else {
        return if timed_out {
            Decision::TimedOut
        } else {
            Decision::Watch
        };
    };
    let verdict = last.judgement.verdict;
    let held = held_for(observed);
    let decided = if expect == Outcome::Succeeded {
        last.judgement.job_done
            || (verdict == Some(Verdict::Unexpected)
                && held >= hold_seconds.max(UNEXPECTED_HOLD_SECONDS))
            // A regular container that outlives the app containers this long holds
            // the pod: `conclusion` turns it unexpected.
            || (verdict == Some(Verdict::Undecided)
                && last.judgement.outcome == Outcome::SidecarHoldsPod
                && held >= hold_seconds.max(UNEXPECTED_HOLD_SECONDS))
    } else {
        matches!(verdict, Some(Verdict::Expected | Verdict::Unexpected)) && held >= hold_seconds
            // A finished Job will not change any more.
            || last.judgement.job_done
    };
    if decided {
        Decision::Decided
    } else if timed_out {
        Decision::TimedOut
    } else {
        Decision::Watch
    }
}

/// The judgement a decided step ends with: the last one, where a hold that lasted turns
/// a pod held by a regular container from undecided to unexpected.
pub fn conclusion(observed: &mut Vec<Observed>) -> Option<Judgement> {
    let held = held_for(observed);
    observed
        .pop()
        .map(|o| crate::verdict::held_past(o.judgement, held))
}

/// How many seconds the latest outcome must still hold before the step is decided: for a
/// step whose outcome never ends, once it is the expected one. `None` when no countdown
/// runs.
pub fn hold_left(expect: Outcome, hold_seconds: u64, observed: &[Observed]) -> Option<u64> {
    let last = observed.last()?;
    if expect == Outcome::Succeeded
        || hold_seconds == 0
        || last.judgement.verdict != Some(Verdict::Expected)
        || last.judgement.job_done
    {
        return None;
    }
    Some(hold_seconds.saturating_sub(held_for(observed)))
}

/// How long the latest (outcome, verdict) has held, in seconds.
fn held_for(observed: &[Observed]) -> u64 {
    let Some(last) = observed.last() else {
        return 0;
    };
    let key =
        |o: &Observed| -> (Outcome, Option<Verdict>) { (o.judgement.outcome, o.judgement.verdict) };
    let since = observed
        .iter()
        .rev()
        .take_while(|o| key(o) == key(last))
        .last()
        .map_or(last.seconds, |o| o.seconds);
    last.seconds - since
}

#[cfg(test)]
mod tests {
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
}

//! When a running step is decided — from the judgements of its observations so far
//! (pure). A step that expects the Job to succeed is decided when its Job completes or
//! fails; a step that expects a state that never ends (stuck in init, held by a regular
//! container, refused by a quota) once that state has held for the step's hold time,
//! never from one early snapshot; every step ends at its timeout.
//!
//! `Watch` is the state machine that applies these rules to the 1..N Jobs of a step:
//! each observation (what one read of the cluster brought) is judged per Job, then each
//! Job still open is decided. It reads no clock and runs nothing: the seconds since the
//! step started come in with each call, so it is tested on its own.

use k8s_openapi::api::core::v1::Event;

use crate::observe::dump::{Dump, Object};
use crate::render::job::VARIANT_LABEL;
use crate::variant::Variant;
use crate::verdict::{Expectation, Judgement, Outcome, Verdict, judge_expecting};

/// How long an `unexpected` verdict must hold before a native step stops early (a gate
/// that is off, an image that cannot be pulled): long enough not to mistake a passing
/// state, short enough not to wait out the whole timeout.
pub(crate) const UNEXPECTED_HOLD_SECONDS: u64 = 10;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    Expected,
    Unexpected,
    TimedOut,
    Interrupted,
    /// `--dry-run`: nothing ran.
    DryRun,
    /// The cluster's version cannot run the step.
    Skipped,
}

impl Ending {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
            Self::DryRun => "dry-run",
            Self::Skipped => "skipped",
        }
    }

    /// Expected when the judgement's verdict is, else unexpected.
    pub fn of(judgement: &Judgement) -> Self {
        if judgement.verdict == Some(Verdict::Expected) {
            Self::Expected
        } else {
            Self::Unexpected
        }
    }
}

/// One observation: seconds since the step started, and the judgement of all
/// observations up to then.
#[derive(Clone, Debug)]
pub(crate) struct Observed {
    pub seconds: u64,
    pub judgement: Judgement,
}

/// What to do after an observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
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
pub(crate) fn decide(
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
pub(crate) fn conclusion(observed: &mut Vec<Observed>) -> Option<Judgement> {
    let held = held_for(observed);
    observed
        .pop()
        .map(|o| crate::verdict::held_past(o.judgement, held))
}

/// How many seconds the latest outcome must still hold before the step is decided: for a
/// step whose outcome never ends, once it is the expected one. `None` when no countdown
/// runs.
pub(crate) fn hold_left(expect: Outcome, hold_seconds: u64, observed: &[Observed]) -> Option<u64> {
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

/// Whether `job`, expected to succeed, has stayed undecided in its init phase for at
/// least `init_hold` seconds.
fn stuck_in_init(init_hold: Option<u64>, job: &Watched) -> bool {
    let (Some(hold), Some(last)) = (init_hold, job.observed.last()) else {
        return false;
    };
    job.expectation.outcome == Outcome::Succeeded
        && last.judgement.outcome == Outcome::InitRunning
        && last.judgement.verdict == Some(Verdict::Undecided)
        && held_for(&job.observed) >= hold
}

/// The judgement of a pod that stayed in its init phase for `seconds`: unexpected.
fn stuck(mut judgement: Judgement, seconds: u64) -> Judgement {
    judgement.verdict = Some(Verdict::Unexpected);
    judgement.findings.push(crate::verdict::Finding::problem(
        crate::verdict::finding::code::UNEXPECTED_OUTCOME,
        format!(
            "{} for {seconds} s: an init container that never finishes keeps every app container from starting",
            judgement.outcome_message
        ),
    ));
    judgement
}

/// How one watched Job ended, and the judgement it ended with.
#[derive(Clone, Debug)]
pub(crate) struct End {
    pub ending: Ending,
    pub judgement: Option<Judgement>,
}

/// One Job a watch follows.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    pub variant: Variant,
    /// The Job's name, for the report and the commands to try.
    pub job: String,
    pub expectation: Expectation,
    observed: Vec<Observed>,
    end: Option<End>,
}

impl Watched {
    pub(crate) fn new(variant: Variant, job: impl Into<String>, expectation: Expectation) -> Self {
        Self {
            variant,
            job: job.into(),
            expectation,
            observed: Vec::new(),
            end: None,
        }
    }

    /// The judgements so far, oldest first (a decided Job's last one is in `end`).
    pub(crate) fn observed(&self) -> &[Observed] {
        &self.observed
    }

    /// The latest judgement while the Job is open.
    pub(crate) fn last(&self) -> Option<&Judgement> {
        self.observed.last().map(|o| &o.judgement)
    }

    pub(crate) const fn end(&self) -> Option<&End> {
        self.end.as_ref()
    }

    fn finish(&mut self, ending: Ending, judgement: Option<Judgement>) {
        self.end = Some(End { ending, judgement });
    }
}

/// What one read of the cluster brought.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observation {
    /// The step's Jobs and pods, when the read answered with a dump: added to what was
    /// seen before (a pod that is gone stays in the timeline).
    pub objects: Option<Dump>,
    /// The namespace's `FailedCreate` events, when read: each read has them all.
    pub events: Option<Vec<Event>>,
}

/// The watch over a step's Jobs: observations in, a judgement per Job, a decision per
/// Job, and the step's ending.
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    jobs: Vec<Watched>,
    hold_seconds: u64,
    timeout_seconds: u64,
    /// A step group (`also` runs or a quota): each Job is judged from the objects with
    /// its variant label, on every tick, since a quota's refusals arrive as events that
    /// every tick reads. A plain step's one Job is judged from everything read, when a
    /// read brings a dump.
    grouped: bool,
    /// When set, a Job expected to succeed whose pod has stayed in its init phase this
    /// long, undecided, is decided: see `stuck_in_init`.
    init_hold: Option<u64>,
    seen: Dump,
    interrupted: bool,
}

impl Watch {
    pub(crate) fn new(
        jobs: Vec<Watched>,
        hold_seconds: u64,
        timeout_seconds: u64,
        grouped: bool,
    ) -> Self {
        Self {
            jobs,
            hold_seconds,
            timeout_seconds,
            grouped,
            init_hold: None,
            seen: Dump::default(),
            interrupted: false,
        }
    }

    /// Decides a pod that stays in its init phase for `seconds` (an exercise's answer):
    /// a lab step's native Job is never cut short so (a slow image pull keeps it there on
    /// a poor network), but an answer may put any container first, and a plain init
    /// container that never exits would otherwise be watched until the timeout.
    pub(crate) const fn with_init_hold(mut self, seconds: u64) -> Self {
        self.init_hold = Some(seconds);
        self
    }

    /// Everything observed so far: every snapshot of the Jobs and pods, oldest first.
    pub(crate) fn seen(&self) -> &Dump {
        &self.seen
    }

    pub(crate) fn jobs(&self) -> &[Watched] {
        &self.jobs
    }

    pub(crate) const fn grouped(&self) -> bool {
        self.grouped
    }

    pub(crate) const fn timeout_seconds(&self) -> u64 {
        self.timeout_seconds
    }

    pub(crate) const fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Job `index` was refused when it was applied: that refusal, judged, is its end.
    pub(crate) fn refused(&mut self, index: usize, judgement: Judgement) {
        if let Some(job) = self.jobs.get_mut(index) {
            job.finish(Ending::of(&judgement), Some(judgement));
        }
    }

    /// Takes in what a read brought, `now` seconds after the step started, and judges
    /// every open Job from all that was seen; true when it judged.
    pub(crate) fn observe(&mut self, now: u64, observation: Observation) -> bool {
        let fresh = observation.objects.is_some();
        if let Some(dump) = observation.objects {
            self.seen.objects.extend(dump.objects);
        }
        if let Some(events) = observation.events {
            self.seen.events = events;
        }
        if !(fresh || self.grouped) {
            return false;
        }
        for job in self.jobs.iter_mut().filter(|j| j.end.is_none()) {
            let judgement = if self.grouped {
                judge_expecting(&of_variant(&self.seen, job.variant), Some(&job.expectation))
            } else {
                judge_expecting(&self.seen, Some(&job.expectation))
            };
            job.observed.push(Observed {
                seconds: now,
                judgement,
            });
        }
        true
    }

    /// Decides every open Job, `now` seconds after the step started.
    pub(crate) fn decide(&mut self, now: u64) {
        let (hold, timeout) = (self.hold_seconds, self.timeout_seconds);
        for job in self.jobs.iter_mut().filter(|j| j.end.is_none()) {
            if stuck_in_init(self.init_hold, job) {
                let held = held_for(&job.observed);
                let judgement = job.observed.pop().map(|o| stuck(o.judgement, held));
                job.finish(Ending::Unexpected, judgement);
                continue;
            }
            match decide(job.expectation.outcome, hold, timeout, now, &job.observed) {
                Decision::Watch => {}
                Decision::Decided => {
                    let judgement = conclusion(&mut job.observed);
                    let ending = judgement.as_ref().map_or(Ending::Unexpected, Ending::of);
                    job.finish(ending, judgement);
                }
                Decision::TimedOut => {
                    let last = job.observed.pop().map(|o| o.judgement);
                    job.finish(Ending::TimedOut, last);
                }
            }
        }
    }

    /// The user stopped the step: every open Job ends interrupted, with its latest
    /// judgement.
    pub(crate) fn interrupt(&mut self) {
        self.interrupted = true;
        for job in self.jobs.iter_mut().filter(|j| j.end.is_none()) {
            let last = job.observed.pop().map(|o| o.judgement);
            job.finish(Ending::Interrupted, last);
        }
    }

    /// True when every Job has ended.
    pub(crate) fn done(&self) -> bool {
        self.jobs.iter().all(|j| j.end.is_some())
    }

    /// How many seconds Job `index`'s latest outcome must still hold (see `hold_left`).
    pub(crate) fn hold_left(&self, index: usize) -> Option<u64> {
        let job = self.jobs.get(index)?;
        hold_left(job.expectation.outcome, self.hold_seconds, &job.observed)
    }

    /// The step's ending: interrupted when the user stopped it; else unexpected if any Job
    /// is, else timed out if any Job did (or never ended), else expected.
    pub(crate) fn ending(&self) -> Ending {
        if self.interrupted {
            return Ending::Interrupted;
        }
        let endings: Vec<Ending> = self
            .jobs
            .iter()
            .map(|j| j.end.as_ref().map_or(Ending::TimedOut, |e| e.ending))
            .collect();
        if endings.contains(&Ending::Unexpected) {
            Ending::Unexpected
        } else if endings.contains(&Ending::TimedOut) {
            Ending::TimedOut
        } else {
            Ending::Expected
        }
    }

    /// The judgement the step is recorded with: its first Job's. A step group's Job that
    /// the user interrupted was never decided, so it has none.
    pub(crate) fn judgement(&self) -> Option<Judgement> {
        let end = self.jobs.first()?.end.as_ref()?;
        if self.grouped && end.ending == Ending::Interrupted {
            return None;
        }
        end.judgement.clone()
    }
}

/// The dump of one variant's Job and pods (a group's Jobs all carry the step's label).
fn of_variant(all: &Dump, variant: Variant) -> Dump {
    let variant = variant.name();
    let labelled = |labels: Option<&std::collections::BTreeMap<String, String>>| {
        labels
            .and_then(|l| l.get(VARIANT_LABEL))
            .map(String::as_str)
            == Some(variant)
    };
    Dump {
        objects: all
            .objects
            .iter()
            .filter(|o| match o {
                Object::Pod(pod) => labelled(pod.metadata.labels.as_ref()),
                Object::Job(job) => labelled(job.metadata.labels.as_ref()),
            })
            .cloned()
            .collect(),
        events: all.events.clone(),
        truncated: false,
    }
}

#[cfg(test)]
mod tests;

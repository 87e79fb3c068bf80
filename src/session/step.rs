//! Runs one lab step on the cluster: puts its Jobs there (one for a plain step; one per
//! variant, perhaps under a ResourceQuota, for a step group), watches them with the one
//! watcher (`session::watch`) until every Job is decided, times out, or the user
//! interrupts, and returns the report: the verdict, the explanation, the timeline, and
//! the commands to try.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::anyhow;

use crate::clock::Clock;
use crate::kube::{self, Cluster};
use crate::lab::{Lab, Step, StepNumber};
use crate::matrix::KubernetesRelease;
use crate::session::decide::Watch;
use crate::ui::Printer;
use crate::ui::phase::{Board, Phase};
use crate::ui::text::wrap;
use crate::variant::Variant;
use crate::verdict::Judgement;

mod jobs;

pub(crate) use super::decide::Ending;

/// Where and how the steps run.
pub(crate) struct Session<'a> {
    pub runner: &'a dyn crate::runner::Runner,
    /// What "now" is and how the watch waits between observations.
    pub clock: &'a dyn Clock,
    pub printer: Printer,
    pub target: kube::Target,
    pub state_dir: PathBuf,
    pub release: &'a KubernetesRelease,
    /// The cluster's Kubernetes minor, when known: version rules and skips read it.
    pub minor: Option<crate::version::MinorVersion>,
    pub interrupted: &'a AtomicBool,
    /// Print the commands and the manifest instead of running them.
    pub dry_run: bool,
}

impl Session<'_> {
    /// The session's cluster: its commands, run through the runner, waiting by the clock.
    pub(crate) fn cluster(&self) -> Cluster<'_> {
        Cluster::new(self.runner, self.clock, &self.target)
    }
}

/// A finished step.
#[derive(Clone, Debug)]
pub struct StepRun {
    pub number: StepNumber,
    pub title: String,
    pub variant: Variant,
    pub ending: Ending,
    pub judgement: Option<Judgement>,
    pub seconds: u64,
    /// What the learner reads: the verdict, the timeline, why, what to try.
    pub report: String,
}

impl StepRun {
    /// A finished run of `step`.
    pub fn new(
        number: StepNumber,
        step: &Step,
        ending: Ending,
        judgement: Option<Judgement>,
        seconds: u64,
        report: String,
    ) -> Self {
        Self {
            number,
            title: step.title.clone(),
            variant: step.variant,
            ending,
            judgement,
            seconds,
            report,
        }
    }
}

/// Runs step `number` of `lab`; `board` holds its progress line when several steps run
/// at once. The report is returned, not printed, so that reports of steps that ran
/// together are shown one after another.
pub(crate) fn run(
    session: &Session<'_>,
    lab: &Lab,
    number: StepNumber,
    board: Option<&Board>,
) -> anyhow::Result<StepRun> {
    let step = lab.step(number).ok_or_else(|| {
        anyhow!(
            "lab `{}` has steps 1 to {}; there is no step {number}",
            lab.name,
            lab.steps.len()
        )
    })?;
    if let Some(reason) = step.skip_reason(session.minor) {
        let report = format!("\nStep {number}: {}\n  skipped: {reason}\n", step.title);
        return Ok(StepRun::new(number, step, Ending::Skipped, None, 0, report));
    }
    let intro = intro(session, number, step);
    let jobs = jobs::prepare(session, number, step)?;
    if session.dry_run {
        let report = jobs.dry_run(session, number, intro);
        return Ok(StepRun::new(number, step, Ending::DryRun, None, 0, report));
    }
    if board.is_none() {
        session.printer.note(&intro);
    }
    let (watch, warnings) = jobs.apply(session, number)?;
    let mut report = if board.is_some() {
        intro
    } else {
        String::new()
    };
    report.push_str(&crate::ui::report::api_warnings(&warnings));
    // A plain step's Job that the API server refused is judged as it is: nothing to watch.
    if !watch.grouped() && watch.done() {
        report.push_str(&step_report(session, step, &watch).unwrap_or_default());
        return Ok(StepRun::new(
            number,
            step,
            watch.ending(),
            watch.judgement(),
            0,
            report,
        ));
    }
    Ok(watched(session, number, step, board, &jobs, watch, report))
}

/// Watches the applied Jobs until the step ends, then removes what the step leaves
/// behind (a quota) and finishes the report.
fn watched(
    session: &Session<'_>,
    number: StepNumber,
    step: &Step,
    board: Option<&Board>,
    jobs: &jobs::Jobs,
    mut watch: Watch,
    mut report: String,
) -> StepRun {
    let clock = session.clock;
    let started = clock.now();
    let phase = Phase::timed(
        clock,
        board,
        session.printer,
        &crate::ui::live::label(number, &watch),
    );
    let label = step_label(number);
    let watcher = super::watch::Watcher {
        cluster: session.cluster(),
        printer: session.printer,
        interrupted: session.interrupted,
    };
    watcher.follow(&mut watch, &phase, &label, started);
    let seconds = clock.now().duration_since(started).as_secs();
    let (ok, detail) = crate::ui::live::verdict_line(&watch);
    if ok {
        phase.succeed(&detail);
    } else {
        phase.fail(&detail);
    }
    if !watch.interrupted() {
        jobs.clean_up(session, number, &watch);
    }
    match step_report(session, step, &watch) {
        Some(text) => report.push_str(&text),
        None if watch.ending() != Ending::Interrupted => session.printer.warn(&format!(
            "nothing was observed: `{}` never answered with the step's Job",
            session.target.observe(&label)
        )),
        None => {}
    }
    StepRun::new(
        number,
        step,
        watch.ending(),
        watch.judgement(),
        seconds,
        report,
    )
}

/// What the learner reads before the step runs: its title, what they will see, and the
/// rule that applies on this cluster's version.
fn intro(session: &Session<'_>, number: StepNumber, step: &Step) -> String {
    let mut intro = format!("\nStep {number}: {}\n", step.title);
    intro.push_str(&wrap(step.what_you_see_on(session.minor), 88, "  "));
    if let (Some(span), Some(minor)) = (step.span_on(session.minor), session.minor) {
        intro.push_str(&format!(
            "  On this cluster ({minor}) the step expects `{}`: its rule {span}.\n",
            step.expect_on(session.minor)
        ));
    }
    intro
}

/// The label selector of step `number`'s Jobs and pods.
fn step_label(number: StepNumber) -> String {
    format!("{}={number}", crate::render::step::STEP_LABEL)
}

/// The report of a watched step (see `ui::report::watched`); the commands to try name
/// its last Job.
fn step_report(session: &Session<'_>, step: &Step, watch: &Watch) -> Option<String> {
    let last = watch.jobs().last()?;
    let printer = &session.printer;
    crate::ui::report::watched(
        watch,
        &step.why,
        &step.commands(&last.job, &session.target.namespace),
        printer.stdout_fancy(),
        &printer.stdout_palette(),
    )
}

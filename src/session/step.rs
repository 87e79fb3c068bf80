//! Runs one lab step on the cluster: deletes the step's previous Job, applies the
//! variant, observes the Job and its pods at least once a second, feeds every
//! observation to the verdict engine, and stops when the step is decided, times out, or
//! is interrupted. Then shows the verdict, the explanation, the timeline, and the
//! commands to try.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use crate::kube;
use crate::lab::{Lab, Step, StepNumber};
use crate::matrix::KubernetesRelease;
use crate::observe::dump::{self, Dump};
use crate::render;
use crate::runner::{CommandLine, Runner, checked};
use crate::session::decide::{Decision, Observed, decide};
use crate::state::write_atomically;
use crate::ui::Printer;
use crate::ui::phase::{Board, Phase};
use crate::ui::text::wrap;
use crate::variant::Variant;
use crate::verdict::{Expectation, Judgement, Verdict, judge_expecting, judge_refusal};

/// The API server's refusal in kubectl's error output (step_group reads it too).
pub use crate::observe::refusal::from_kubectl as refusal;

/// How often the step is observed.
const POLL: Duration = Duration::from_secs(1);
/// How long one kubectl call may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
/// Deleting a Job waits for its pods to go; the lab's pods stop within seconds.
pub(super) const DELETE_TIMEOUT: Duration = Duration::from_secs(120);

/// Where and how the steps run.
pub struct Session<'a> {
    pub runner: &'a dyn Runner,
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
pub fn run(
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
    let mut intro = format!("\nStep {number}: {}\n", step.title);
    let expectation = Expectation {
        variant: step.variant,
        outcome: step.expect_on(session.minor),
        checks: step.check.clone(),
    };
    intro.push_str(&wrap(step.what_you_see_on(session.minor), 88, "  "));
    if let Some(reason) = step.skip_reason(session.minor) {
        return Ok(StepRun::new(
            number,
            step,
            Ending::Skipped,
            None,
            0,
            format!("\nStep {number}: {}\n  skipped: {reason}\n", step.title),
        ));
    }
    if let (Some(span), Some(minor)) = (step.span_on(session.minor), session.minor) {
        intro.push_str(&format!(
            "  On this cluster ({minor}) the step expects `{}`: its rule {span}.\n",
            expectation.outcome
        ));
    }
    if !step.also.is_empty() || !step.quota.is_empty() {
        return super::step_group::run(session, number, step, intro, board);
    }
    let (job_name, manifest_text) = render::step_manifest(number, step, session.release)?;
    let manifest = session
        .state_dir
        .join(format!("step-{number}-{}.yaml", step.variant));
    let label = format!("{}={number}", render::step::STEP_LABEL);
    let delete = session.target.delete_job(job_name.as_str());
    let apply = session.target.apply(&manifest);
    let observe = session.target.observe(&label);
    let printer = &session.printer;

    if session.dry_run {
        let mut report = format!(
            "{intro}\n# would write {}:\n{manifest_text}",
            manifest.display()
        );
        for command in [&delete, &apply, &observe] {
            report.push_str(&format!("$ {command}\n"));
        }
        return Ok(StepRun::new(number, step, Ending::DryRun, None, 0, report));
    }
    if board.is_none() {
        printer.note(&intro);
    }

    write_atomically(&manifest, manifest_text.as_bytes())?;
    checked(session.runner, &delete, DELETE_TIMEOUT)
        .context("cannot remove the step's previous Job")?;
    let applied = session.runner.run(&apply, KUBECTL_TIMEOUT)?;
    let warned =
        crate::ui::report::api_warnings(&crate::observe::refusal::api_warnings(&applied.stderr));
    if !applied.success() {
        // The API server's refusal is a result to judge (the step may teach it);
        // anything else (no connection, no permission) is an error.
        let Some(refusal) = refusal(&applied.stderr) else {
            return Err(crate::runner::Failed::of(&apply, &applied))
                .context("cannot create the step's Job");
        };
        let judgement = judge_refusal(&refusal, &expectation);
        let ending = if judgement.verdict == Some(Verdict::Expected) {
            Ending::Expected
        } else {
            Ending::Unexpected
        };
        let mut report = if board.is_some() {
            intro
        } else {
            String::new()
        };
        report.push_str(&warned);
        let palette = printer.stdout_palette();
        report.push_str(&crate::ui::report::step(
            &judgement,
            None,
            &step.why,
            &step.commands(job_name.as_str(), &session.target.namespace),
            printer.stdout_fancy(),
            &palette,
        ));
        return Ok(StepRun::new(
            number,
            step,
            ending,
            Some(judgement),
            0,
            report,
        ));
    }

    let started = Instant::now();
    let phase = Phase::start_on(
        board,
        *printer,
        &format!("step {number} ({})", step.variant),
    );
    let (ending, judgement) = watch(session, step, &expectation, &observe, &phase, started);
    let seconds = started.elapsed().as_secs();
    match ending {
        Ending::Expected => phase.succeed("as expected"),
        Ending::Unexpected => phase.fail("not what this variant teaches"),
        Ending::TimedOut => phase.fail(&format!("undecided after {} s", step.timeout_seconds)),
        Ending::Interrupted => phase.fail("interrupted"),
        Ending::DryRun | Ending::Skipped => phase.succeed(""),
    }
    let mut report = if board.is_some() {
        intro
    } else {
        String::new()
    };
    report.push_str(&warned);
    if let Some(judgement) = &judgement {
        let palette = printer.stdout_palette();
        report.push_str(&crate::ui::report::step(
            judgement,
            (ending == Ending::TimedOut).then_some(step.timeout_seconds),
            &step.why,
            &step.commands(job_name.as_str(), &session.target.namespace),
            printer.stdout_fancy(),
            &palette,
        ));
    } else if ending != Ending::Interrupted {
        printer.warn(&format!(
            "nothing was observed: `{observe}` never answered with the step's Job"
        ));
    }
    Ok(StepRun::new(
        number, step, ending, judgement, seconds, report,
    ))
}

/// Observes until the step is decided, times out, or is interrupted.
fn watch(
    session: &Session<'_>,
    step: &Step,
    expectation: &Expectation,
    observe: &CommandLine,
    phase: &Phase,
    started: Instant,
) -> (Ending, Option<Judgement>) {
    let mut all = Dump::default();
    let mut observed: Vec<Observed> = Vec::new();
    // A failing kubectl is reported when its message changes, not every second.
    let mut last_problem = String::new();
    loop {
        let tick = Instant::now();
        let problem = match session.runner.run(observe, KUBECTL_TIMEOUT) {
            Ok(output) if output.success() => {
                if let Ok(dump) = dump::parse(output.stdout.as_bytes()) {
                    all.objects.extend(dump.objects);
                    let judgement = judge_expecting(&all, Some(expectation));
                    let changed = observed
                        .last()
                        .is_none_or(|o| o.judgement.outcome != judgement.outcome);
                    phase.update(&format!(
                        "{}: {}",
                        judgement.outcome, judgement.outcome_message
                    ));
                    observed.push(Observed {
                        seconds: started.elapsed().as_secs(),
                        judgement,
                    });
                    show_live(session, phase, expectation, step, &observed, changed);
                }
                String::new()
            }
            Ok(output) => format!(
                "kubectl: {}",
                output.stderr.lines().next().unwrap_or("failed")
            ),
            Err(error) => error.to_string(),
        };
        if !problem.is_empty() && problem != last_problem {
            phase.println(&format!("  ({problem})"));
        }
        last_problem = problem;
        if session.interrupted.load(Ordering::SeqCst) {
            return (Ending::Interrupted, observed.pop().map(|o| o.judgement));
        }
        let now = started.elapsed().as_secs();
        match decide(
            expectation.outcome,
            step.hold_seconds,
            step.timeout_seconds,
            now,
            &observed,
        ) {
            Decision::Watch => {}
            Decision::Decided => {
                let judgement = super::decide::conclusion(&mut observed);
                let ending = match judgement.as_ref().and_then(|j| j.verdict) {
                    Some(Verdict::Expected) => Ending::Expected,
                    _ => Ending::Unexpected,
                };
                return (ending, judgement);
            }
            Decision::TimedOut => return (Ending::TimedOut, observed.pop().map(|o| o.judgement)),
        }
        if let Some(rest) = POLL.checked_sub(tick.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

/// The live view after an observation: on a terminal the frame is redrawn in place and
/// a change of outcome is said above it; elsewhere a change is one plain line.
fn show_live(
    session: &Session<'_>,
    phase: &Phase,
    expectation: &Expectation,
    step: &Step,
    observed: &[Observed],
    changed: bool,
) {
    let Some(last) = observed.last() else {
        return;
    };
    let judgement = &last.judgement;
    let change = format!(
        "  now `{}`: {}",
        judgement.outcome, judgement.outcome_message
    );
    let printer = &session.printer;
    if phase.is_live() && printer.stderr_fancy() {
        if changed && observed.len() > 1 {
            phase.println(&console::truncate_str(&change, printer.stderr_width(), "…"));
        }
        let left = super::decide::hold_left(expectation.outcome, step.hold_seconds, observed);
        phase.show_frame(&crate::ui::live::frame(
            judgement,
            left,
            printer.stderr_width(),
            &crate::ui::Palette::new(true),
        ));
    } else if changed {
        phase.println(&change);
    }
}

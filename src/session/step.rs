//! Runs one lab step on the cluster: deletes the step's previous Job, applies the
//! variant, observes the Job and its pods at least once a second, feeds every
//! observation to the verdict engine, and stops when the step is decided, times out, or
//! is interrupted. Then shows the verdict, the explanation, the timeline, and the
//! commands to try.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};

use crate::assets;
use crate::commands::check;
use crate::kube;
use crate::lab::{Lab, Step};
use crate::matrix::KubernetesRelease;
use crate::observe::dump::{self, Dump};
use crate::render::{self, job};
use crate::runner::{CommandLine, Runner};
use crate::session::decide::{Decision, Observed, decide};
use crate::state::write_atomically;
use crate::ui::Printer;
use crate::ui::phase::Phase;
use crate::ui::text::wrap;
use crate::variant::Variant;
use crate::verdict::{Judgement, Verdict, judge};

/// How often the step is observed.
const POLL: Duration = Duration::from_secs(1);
/// How long one kubectl call may take.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
/// Deleting a Job waits for its pods to go; the lab's pods stop within seconds.
const DELETE_TIMEOUT: Duration = Duration::from_secs(120);

/// Where and how the steps run.
pub struct Session<'a> {
    pub runner: &'a dyn Runner,
    pub printer: Printer,
    pub target: kube::Target,
    pub state_dir: PathBuf,
    pub release: &'a KubernetesRelease,
    pub interrupted: &'a AtomicBool,
    /// Print the commands and the manifest instead of running them.
    pub dry_run: bool,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Expected,
    Unexpected,
    TimedOut,
    Interrupted,
    /// `--dry-run`: nothing ran.
    DryRun,
}

impl Ending {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
            Self::DryRun => "dry-run",
        }
    }
}

/// A finished step.
#[derive(Clone, Debug)]
pub struct StepRun {
    pub number: usize,
    pub title: String,
    pub variant: Variant,
    pub ending: Ending,
    pub judgement: Option<Judgement>,
    pub seconds: u64,
}

/// Runs step `number` of `lab`.
pub fn run(session: &Session<'_>, lab: &Lab, number: usize) -> anyhow::Result<StepRun> {
    let step = lab.step(number).ok_or_else(|| {
        anyhow!(
            "lab `{}` has steps 1 to {}; there is no step {number}",
            lab.name,
            lab.steps.len()
        )
    })?;
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let job_name = job::default_job_name(&template, step.variant)?;
    let manifest_text = render::job_manifest(step.variant, Some(&job_name), session.release)?;
    let manifest = session
        .state_dir
        .join(format!("step-{number}-{}.yaml", step.variant));
    let label = format!("{}={}", job::VARIANT_LABEL, step.variant);
    let delete = session.target.delete_job(job_name.as_str());
    let apply = session.target.apply(&manifest);
    let observe = session.target.observe(&label);
    let printer = &session.printer;

    printer.note(&format!("\nStep {number}: {}", step.title));
    printer.note(&wrap(&step.what_you_see, 88, "  "));
    if session.dry_run {
        printer.out(&format!(
            "# would write {}:\n{manifest_text}",
            manifest.display()
        ));
        for command in [&delete, &apply, &observe] {
            printer.out(&format!("$ {command}\n"));
        }
        return Ok(StepRun {
            number,
            title: step.title.clone(),
            variant: step.variant,
            ending: Ending::DryRun,
            judgement: None,
            seconds: 0,
        });
    }

    write_atomically(&manifest, manifest_text.as_bytes())?;
    run_checked(session, &delete, DELETE_TIMEOUT)
        .context("cannot remove the step's previous Job")?;
    run_checked(session, &apply, KUBECTL_TIMEOUT).context("cannot create the step's Job")?;

    let started = Instant::now();
    let phase = Phase::start(*printer, &format!("step {number} ({})", step.variant));
    let (ending, judgement) = watch(session, step, &observe, &phase, started);
    let seconds = started.elapsed().as_secs();
    match ending {
        Ending::Expected => phase.succeed("as expected"),
        Ending::Unexpected => phase.fail("not what this variant teaches"),
        Ending::TimedOut => phase.fail(&format!("undecided after {} s", step.timeout_seconds)),
        Ending::Interrupted => phase.fail("interrupted"),
        Ending::DryRun => phase.succeed(""),
    }
    if let Some(judgement) = &judgement {
        show(session, step, job_name.as_str(), judgement, ending);
    } else if ending != Ending::Interrupted {
        printer.warn(&format!(
            "nothing was observed: `{observe}` never answered with the step's Job"
        ));
    }
    Ok(StepRun {
        number,
        title: step.title.clone(),
        variant: step.variant,
        ending,
        judgement,
        seconds,
    })
}

/// Observes until the step is decided, times out, or is interrupted.
fn watch(
    session: &Session<'_>,
    step: &Step,
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
                    let judgement = judge(&all, Some(step.variant));
                    phase.update(&format!(
                        "{}: {}",
                        judgement.outcome, judgement.outcome_message
                    ));
                    observed.push(Observed {
                        seconds: started.elapsed().as_secs(),
                        judgement,
                    });
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
            step.variant,
            step.hold_seconds,
            step.timeout_seconds,
            now,
            &observed,
        ) {
            Decision::Watch => {}
            Decision::Decided => {
                let judgement = observed.pop().map(|o| o.judgement);
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

/// The verdict, the explanation, the timeline and the commands to try.
fn show(session: &Session<'_>, step: &Step, job_name: &str, judgement: &Judgement, ending: Ending) {
    let printer = &session.printer;
    let palette = printer.stdout_palette();
    let mut out = String::new();
    if ending == Ending::TimedOut {
        out.push_str(&format!(
            "The step did not settle within {} s; this is the last state observed.\n",
            step.timeout_seconds
        ));
    }
    out.push_str(&check::text(judgement, printer.stdout_fancy(), &palette));
    out.push_str(&format!("\nWhy\n{}\n", wrap(&step.why, 88, "  ")));
    let commands = step.commands(job_name, &session.target.namespace);
    if !commands.is_empty() {
        out.push_str("\nSee for yourself\n");
        for command in commands {
            out.push_str(&format!("  {command}\n"));
        }
    }
    printer.out(&out);
}

fn run_checked(
    session: &Session<'_>,
    command: &CommandLine,
    timeout: Duration,
) -> anyhow::Result<()> {
    let output = session.runner.run(command, timeout)?;
    if !output.success() {
        let detail = output.stderr.trim();
        bail!(
            "`{command}` failed: {}",
            if detail.is_empty() {
                output.stdout.trim()
            } else {
                detail
            }
        );
    }
    Ok(())
}

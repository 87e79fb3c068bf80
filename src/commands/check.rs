//! `sidecar-lab check`: judges a saved Pod or Job dump (or the API server's refusal) and
//! shows the outcome, the verdict, the findings, the timeline and an explanation — for one
//! pod (`--variant`), or for a whole lab step (`--step N`, or the step the objects are
//! labelled with) as `sidecar-lab step N` judges it — or one JSON object.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::lab::{Lab, StepNumber};
use crate::matrix::UnsupportedVersion;
use crate::observe::dump;
use crate::observe::refusal::{self, Refusal};
use crate::observe::step_objects::labelled_steps;
use crate::ui::Printer;
pub(crate) use crate::ui::report::text;
use crate::variant::Variant;
use crate::verdict::explain::explain;
use crate::verdict::step::{Evidence, MinorSource, StepJudgement, judge_step};
use crate::verdict::{Expectation, Finding, Judgement, Verdict, judge, judge_refusal};
use crate::version::MinorVersion;

/// The JSON document `check --output json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct Report<'a> {
    pub outcome: &'static str,
    pub outcome_message: &'a str,
    pub variant: Option<&'static str>,
    /// The outcome the verdict was judged against.
    pub expected: Option<&'static str>,
    pub verdict: Option<&'static str>,
    pub pod: Option<&'a str>,
    pub job: Option<&'a str>,
    pub findings: &'a [Finding],
    pub timeline: Vec<TimelineEntry<'a>>,
    pub explanation: String,
}

/// One run of one container; a container that never ran has one entry without times.
#[derive(Debug, Serialize)]
pub(crate) struct TimelineEntry<'a> {
    pub container: &'a str,
    pub role: &'static str,
    /// RFC 3339.
    pub started: Option<String>,
    /// RFC 3339.
    pub finished: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<&'a str>,
}

/// Reads the dump at `from` (`-` for standard input).
pub(crate) fn read_input(from: &Path) -> anyhow::Result<Vec<u8>> {
    use crate::render::bounds::{DUMP, read_stream};
    // Both through the shared cap: an endless pipe on standard input stops at it.
    if from == Path::new("-") {
        Ok(read_stream(std::io::stdin(), "standard input", DUMP)?)
    } else {
        // A FIFO or a device (`/dev/zero`) is refused at once rather than waited on.
        let file = crate::files::open_regular(from)
            .map_err(|error| anyhow::anyhow!("cannot read `{}`: {error}", from.display()))?;
        Ok(read_stream(file, &from.display().to_string(), DUMP)?)
    }
}

/// The JSON report.
pub(crate) fn report(judgement: &Judgement) -> Report<'_> {
    let mut entries = Vec::new();
    for row in &judgement.timeline.rows {
        let base = |started, finished, exit_code, reason| TimelineEntry {
            container: &row.container,
            role: row.role.name(),
            started,
            finished,
            exit_code,
            reason,
        };
        if row.runs.is_empty() {
            entries.push(base(None, None, None, row.waiting.as_deref()));
        }
        for run in &row.runs {
            entries.push(base(
                run.started.map(|t| t.to_string()),
                run.finished.map(|t| t.to_string()),
                run.exit_code,
                run.reason.as_deref(),
            ));
        }
    }
    Report {
        outcome: judgement.outcome.name(),
        outcome_message: &judgement.outcome_message,
        variant: judgement.variant.map(Variant::name),
        expected: judgement.expected.map(crate::verdict::Outcome::name),
        verdict: judgement.verdict.map(Verdict::name),
        pod: judgement.pod.as_deref(),
        job: judgement.job.as_deref(),
        findings: &judgement.findings,
        timeline: entries,
        explanation: explain(judgement),
    }
}

/// What `check` was asked to judge.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    pub lab: &'a Lab,
    pub step: Option<StepNumber>,
    pub variant: Option<Variant>,
    /// The cluster's Kubernetes minor, when the learner knows it.
    pub minor: Option<MinorVersion>,
}

/// A judgement of one pod, or of a whole step.
#[derive(Clone, Debug)]
pub(crate) enum Judged {
    Pod(Box<Judgement>),
    Step(StepJudgement),
}

impl Judged {
    /// The verdict that decides the exit status.
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        match self {
            Self::Pod(judgement) => judgement.verdict,
            Self::Step(step) => Some(step.verdict),
        }
    }
}

/// What `sidecar-lab check` was given on the command line.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The dump; `-` for standard input.
    pub from: PathBuf,
    pub step: Option<StepNumber>,
    pub variant: Option<Variant>,
    /// The cluster's Kubernetes minor, when the learner gave it, looked up in the version
    /// matrix by the dispatcher: an `Err` is a minor sidecar-lab does not know, said only
    /// once the dump has been read.
    pub kubernetes: Option<Result<MinorVersion, UnsupportedVersion>>,
    /// A lab file other than the built-in lab.
    pub lab: Option<PathBuf>,
    /// `--output json`.
    pub json: bool,
}

/// Reads, judges and shows the dump `settings` name; the exit status says the verdict.
pub(crate) fn run(settings: &Settings, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let bytes = read_input(&settings.from)?;
    let origin = settings.from.display().to_string();
    let lab = crate::session::workspace::lab(settings.lab.as_deref())?;
    // The rules name the minors sidecar-lab knows; another would be judged by a guess.
    let minor = settings.kubernetes.clone().transpose()?;
    let request = Request {
        lab: &lab,
        step: settings.step,
        variant: settings.variant,
        minor,
    };
    let judged = judge_request(bytes, &origin, request)?;
    let fancy = printer.stdout_fancy();
    let palette = printer.stdout_palette();
    let shown = match (&judged, settings.json) {
        (Judged::Pod(judgement), false) => text(judgement, fancy, &palette),
        (Judged::Step(step), false) => {
            let why = lab.step(step.number).map_or("", |s| s.why.as_str());
            crate::ui::report::step_check(step, why, fancy, &palette)
        }
        (Judged::Pod(judgement), true) => json(&report(judgement))?,
        (Judged::Step(step), true) => json(&step_report(step))?,
    };
    printer.out(&shown);
    Ok(exit_status_of(judged.verdict()))
}

/// `value` as pretty JSON, with a final newline.
fn json<T: Serialize>(value: &T) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

/// Inputs this small may be kubectl's error line or a `Status` body, kept to be read as
/// such when they hold no objects; a big input is never one.
const REFUSAL_MAX_BYTES: usize = 64 * 1024;

/// Judges `bytes` (named `origin` in errors) as `request` asks: a step when one is given
/// or the objects are labelled with exactly one, else one pod against `--variant`. The
/// bytes are handed over, so that a big dump costs its objects, not its text as well.
pub(crate) fn judge_request(
    bytes: Vec<u8>,
    origin: &str,
    request: Request<'_>,
) -> anyhow::Result<Judged> {
    let small = (bytes.len() <= REFUSAL_MAX_BYTES).then(|| bytes.clone());
    let evidence = match dump::parse_owned(bytes) {
        Ok(dump) => Evidence::Objects(dump),
        // Not objects: perhaps what kubectl said when the API server refused the Job
        // (text, or a `Status` body). Input refused unread (too deep) stays refused.
        Err(error @ (dump::DumpError::NoPodOrJob(_) | dump::DumpError::Syntax(_))) => {
            let text = small.as_deref().and_then(|b| dump::text(b).ok());
            if let Some(refusal) = text.as_deref().and_then(refusal::parse) {
                Evidence::Refusal(refusal)
            } else if let Some(line) = text.as_deref().and_then(refusal::kubectl_failure) {
                anyhow::bail!(
                    "`{origin}` is kubectl's own error, not the API server's judgement of a Job: {line}; fix that, then dump the step again"
                );
            } else if text.as_deref().is_some_and(refusal::is_status) {
                anyhow::bail!(
                    "`{origin}` is an API `Status` that refuses no Job (a success, or a refusal of the request rather than of the Job: permissions, a name taken); dump the step with `kubectl get job,pod,event -n NAMESPACE -o yaml`"
                );
            } else {
                return Err(error).with_context(|| format!("`{origin}`"));
            }
        }
        Err(error) => return Err(error).with_context(|| format!("`{origin}`")),
    };
    let step = match (request.step, request.variant, &evidence) {
        (Some(number), _, _) => Some(number),
        (None, Some(_), _) => None,
        (None, None, Evidence::Objects(dump)) => {
            let steps = labelled_steps(dump);
            match steps.len() {
                0 => None,
                1 => steps.first().map(|n| StepNumber(*n)),
                _ => anyhow::bail!(
                    "`{origin}` holds objects of steps {} (label `sidecar-lab/step`): say which to judge with `--step N`",
                    steps
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        (None, None, Evidence::Refusal(refusal)) => anyhow::bail!(
            "`{origin}` is the API server's refusal ({}): say which step it is with `--step N`, or which variant with `--variant`",
            refusal.message
        ),
    };
    match (step, evidence) {
        (Some(number), evidence) => Ok(Judged::Step(judge_step(
            &evidence,
            request.lab,
            number,
            request.minor,
            request.variant,
        )?)),
        (None, Evidence::Objects(dump)) => Ok(Judged::Pod(Box::new(judge(&dump, request.variant)))),
        (None, Evidence::Refusal(Refusal { message, .. })) => {
            // `step` above leaves a refusal here only with a variant.
            let variant = request.variant.unwrap_or(Variant::Native);
            Ok(Judged::Pod(Box::new(judge_refusal(
                &message,
                &Expectation::taught(variant),
            ))))
        }
    }
}

/// The exit status for a step or pod judgement.
pub(crate) const fn exit_status_of(verdict: Option<Verdict>) -> ExitStatus {
    match verdict {
        None | Some(Verdict::Expected) => ExitStatus::Success,
        Some(Verdict::Unexpected) => ExitStatus::Unexpected,
        Some(Verdict::Undecided) => ExitStatus::Undecided,
    }
}

/// The JSON document `check --step N --output json` prints.
#[derive(Debug, Serialize)]
pub(crate) struct StepReport<'a> {
    pub step: u32,
    pub title: &'a str,
    /// The Kubernetes minor whose rule applied; `null`: the newest rule.
    pub kubernetes: Option<String>,
    /// `given`, `unknown`, or what the input showed of the API server.
    pub kubernetes_from: String,
    pub verdict: &'static str,
    /// One report per Job of the step, each judged on its own objects.
    pub jobs: Vec<Report<'a>>,
}

/// The JSON report of a step.
pub(crate) fn step_report(judged: &StepJudgement) -> StepReport<'_> {
    StepReport {
        step: judged.number.0,
        title: &judged.title,
        kubernetes: judged.minor.map(|m| m.to_string()),
        kubernetes_from: match &judged.minor_source {
            MinorSource::Given => "given".to_owned(),
            MinorSource::Inferred(why) => format!("inferred: {why}"),
            MinorSource::Unknown => "unknown".to_owned(),
        },
        verdict: judged.verdict.name(),
        jobs: judged.jobs.iter().map(|j| report(&j.judgement)).collect(),
    }
}

//! `sidecar-lab check`: judges a saved Pod or Job dump and shows the outcome, the
//! verdict, the findings, the timeline and an explanation — or one JSON object.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::observe::dump;
pub use crate::ui::report::text;
use crate::variant::Variant;
use crate::verdict::explain::explain;
use crate::verdict::{Finding, Judgement, Verdict, judge};

/// The JSON document `check --output json` prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
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
pub struct TimelineEntry<'a> {
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
pub fn read_input(from: &Path) -> anyhow::Result<Vec<u8>> {
    if from == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(from).with_context(|| format!("cannot read `{}`", from.display()))
    }
}

/// Judges `bytes` (named `origin` in errors).
pub fn judge_bytes(
    bytes: &[u8],
    origin: &str,
    variant: Option<Variant>,
) -> anyhow::Result<Judgement> {
    let dump = dump::parse(bytes).with_context(|| format!("`{origin}`"))?;
    Ok(judge(&dump, variant))
}

/// Judges `bytes` as `judge_bytes` does, taking them over: the text is given back while
/// it is read, so a dump of a big cluster costs its objects, not its text as well.
pub fn judge_owned(
    bytes: Vec<u8>,
    origin: &str,
    variant: Option<Variant>,
) -> anyhow::Result<Judgement> {
    let dump = dump::parse_owned(bytes).with_context(|| format!("`{origin}`"))?;
    Ok(judge(&dump, variant))
}

/// The exit status for a judgement: 0 expected or no variant, 1 unexpected, 3 undecided.
pub const fn exit_status(judgement: &Judgement) -> ExitStatus {
    match judgement.verdict {
        None | Some(Verdict::Expected) => ExitStatus::Success,
        Some(Verdict::Unexpected) => ExitStatus::Unexpected,
        Some(Verdict::Undecided) => ExitStatus::Undecided,
    }
}

/// The JSON report.
pub fn report(judgement: &Judgement) -> Report<'_> {
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

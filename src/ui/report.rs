//! What a judged pod looks like to people: the outcome, the verdict, the findings, the
//! timeline and the explanation (`check`, and every lab step).

use crate::session::decide::{Ending, Watch};
use crate::ui::text::{clean, clean_line};
use crate::ui::text::{wrap, wrap_hanging};
use crate::ui::{Palette, timeline};
use crate::verdict::explain::explain;
use crate::verdict::{Judgement, Level, Verdict, taught_outcome};

/// Width text is wrapped to.
pub(crate) const WIDTH: usize = 88;

/// The report for people.
pub(crate) fn text(judgement: &Judgement, fancy: bool, palette: &Palette) -> String {
    let mut out = String::new();
    let subject = match (&judgement.pod, &judgement.job) {
        (Some(pod), Some(job)) => format!("Pod {} (Job {})", clean_line(pod), clean_line(job)),
        (Some(pod), None) => format!("Pod {}", clean_line(pod)),
        (None, Some(job)) => format!("Job {} (no pod in the input)", clean_line(job)),
        (None, None) => "No pod or Job".to_owned(),
    };
    out.push_str(&format!("{}\n", palette.heading.apply_to(subject)));
    out.push_str(&format!(
        "  outcome   {}: {}\n",
        judgement.outcome,
        clean(&judgement.outcome_message)
    ));
    if let (Some(verdict), Some(variant)) = (judgement.verdict, judgement.variant) {
        let style = verdict_style(verdict, palette);
        out.push_str(&format!(
            "  verdict   {} for the `{variant}` variant (expects `{}`)\n",
            style.apply_to(verdict),
            judgement
                .expected
                .unwrap_or_else(|| taught_outcome(variant))
        ));
    }
    if !judgement.findings.is_empty() {
        out.push_str("\nFindings\n");
        for finding in &judgement.findings {
            let level = match finding.level {
                Level::Problem => palette.removed.apply_to("problem"),
                Level::Info => palette.dim.apply_to("info   "),
            };
            let lead = format!("  {}  {}: ", "problem", finding.code);
            // A finding quotes what it found: an image name, a reason, a line of a dump.
            let message = wrap_hanging(
                lead.chars().count(),
                &clean(&finding.message),
                WIDTH,
                "           ",
            );
            out.push_str(&format!("  {level}  {}: {message}\n", finding.code));
        }
    }
    out.push_str("\nTimeline\n");
    if judgement.pod.is_none() {
        out.push_str("  no pod in the input: no container times to show\n");
    } else {
        out.push_str(&timeline::draw(&judgement.timeline, fancy, palette));
    }
    out.push('\n');
    out.push_str(&wrap(&clean(&explain(judgement)), WIDTH, ""));
    out.push('\n');
    out
}

/// A lab step's report: the judged pod, why it behaves so, and what to try.
/// `timed_out` is the step's timeout when it ended undecided.
pub(crate) fn step(
    judgement: &Judgement,
    timed_out: Option<u64>,
    why: &str,
    commands: &[String],
    fancy: bool,
    palette: &Palette,
) -> String {
    let mut out = String::new();
    if let Some(seconds) = timed_out {
        out.push_str(&format!(
            "The step did not settle within {seconds} s; this is the last state observed.\n"
        ));
    }
    out.push_str(&text(judgement, fancy, palette));
    why_and_commands(&mut out, why, commands);
    out
}

/// The end of every report: why it came out so, and the commands to see it yourself.
fn why_and_commands(out: &mut String, why: &str, commands: &[String]) {
    out.push_str(&format!("\nWhy\n{}\n", wrap(why, WIDTH, "  ")));
    if !commands.is_empty() {
        out.push_str("\nSee for yourself\n");
        for command in commands {
            out.push_str(&format!("  {command}\n"));
        }
    }
}

/// The report of a watched step: a plain step's Job as `step` reports it; a step
/// group's Jobs one after another, each under its heading, then why and what to try.
/// `None` when a plain step's Job was never judged.
pub(crate) fn watched(
    watch: &Watch,
    why: &str,
    commands: &[String],
    fancy: bool,
    palette: &Palette,
) -> Option<String> {
    if watch.grouped() {
        return Some(group(watch, why, commands, fancy, palette));
    }
    let end = watch.jobs().first()?.end()?;
    let timed_out = (end.ending == Ending::TimedOut).then_some(watch.timeout_seconds());
    Some(step(
        end.judgement.as_ref()?,
        timed_out,
        why,
        commands,
        fancy,
        palette,
    ))
}

/// A step group's report: each Job judged on its own; why and what to try after the
/// last one (when it was decided).
fn group(watch: &Watch, why: &str, commands: &[String], fancy: bool, palette: &Palette) -> String {
    let mut out = String::new();
    let last = watch.jobs().len().saturating_sub(1);
    for (index, job) in watch.jobs().iter().enumerate() {
        out.push_str(&format!(
            "\n{}\n",
            palette.heading.apply_to(format!(
                "— {} variant, Job {} (expects `{}`)",
                job.variant, job.job, job.expectation.outcome
            ))
        ));
        // A Job the user interrupted was never decided.
        let decided = job.end().filter(|e| e.ending != Ending::Interrupted);
        let Some((ending, Some(judgement))) = decided.map(|e| (e.ending, e.judgement.as_ref()))
        else {
            out.push_str("  not decided\n");
            continue;
        };
        if ending == Ending::TimedOut {
            out.push_str(&format!(
                "The Job did not settle within {} s; this is the last state observed.\n",
                watch.timeout_seconds()
            ));
        }
        out.push_str(&text(judgement, fancy, palette));
        if index == last {
            why_and_commands(&mut out, why, commands);
        }
    }
    out
}

/// `check --step N`: the step, the rule that applied, each of its Jobs judged on its
/// own, and why.
pub(crate) fn step_check(
    judged: &crate::verdict::step::StepJudgement,
    why: &str,
    fancy: bool,
    palette: &Palette,
) -> String {
    use crate::verdict::step::MinorSource;
    let mut out = format!(
        "{}\n",
        palette
            .heading
            .apply_to(format!("Step {}: {}", judged.number, judged.title))
    );
    let rule = match (&judged.minor_source, judged.minor) {
        (MinorSource::Given, Some(minor)) => {
            Some(format!("judged by its rule for Kubernetes {minor}"))
        }
        (MinorSource::Inferred(evidence), Some(minor)) => Some(format!(
            "judged by its rule for Kubernetes {minor}: {evidence}"
        )),
        (MinorSource::Inferred(evidence), None) => Some(format!(
            "judged by its rule for the newest Kubernetes: {evidence}"
        )),
        _ => None,
    };
    if let Some(rule) = rule {
        out.push_str(&wrap(&rule, WIDTH, "  "));
    }
    let several = judged.jobs.len() > 1;
    for job in &judged.jobs {
        out.push('\n');
        if several {
            out.push_str(&format!(
                "{}\n",
                palette.heading.apply_to(format!(
                    "— {} variant, Job {}",
                    job.judgement
                        .variant
                        .map_or("the", crate::variant::Variant::name),
                    job.job
                ))
            ));
        }
        out.push_str(&text(&job.judgement, fancy, palette));
    }
    if several {
        let style = verdict_style(judged.verdict, palette);
        out.push_str(&format!(
            "\nStep {}: {}\n",
            judged.number,
            style.apply_to(judged.verdict)
        ));
    }
    out.push_str(&format!("\nWhy\n{}\n", wrap(why, WIDTH, "  ")));
    out
}

/// Green, red or yellow, as the verdict goes.
fn verdict_style(verdict: Verdict, palette: &Palette) -> &console::Style {
    match verdict {
        Verdict::Expected => &palette.added,
        Verdict::Unexpected => &palette.removed,
        Verdict::Undecided => &palette.warning,
    }
}

/// The API server's warnings on a step's Jobs (`Warning:` lines of kubectl), each once,
/// said to be warnings: in a class's namespace, Pod Security `restricted` warns about
/// every lab Job, and the learner should know that nothing was refused for it.
pub(crate) fn api_warnings(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("The API server warned about the step's Job (a warning refuses nothing):\n");
    for warning in warnings {
        out.push_str(&format!("  {warning}\n"));
    }
    out
}

#[cfg(test)]
mod warning_tests {
    use super::*;

    #[test]
    fn warnings_are_said_to_refuse_nothing() {
        assert_eq!(api_warnings(&[]), "");
        insta::assert_snapshot!(api_warnings(&[
            "would violate PodSecurity \"restricted:v1.34\": allowPrivilegeEscalation != false (containers \"postgres\", \"main\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (containers \"postgres\", \"main\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or containers \"postgres\", \"main\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or containers \"postgres\", \"main\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")".to_owned()
        ]));
    }
}

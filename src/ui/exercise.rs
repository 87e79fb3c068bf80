//! What the learner reads of an exercise: the task (`TASK.md` and `sidecar-lab exercise
//! N`), the list of exercises, and the verdict on an answer with its hint. Values in,
//! text out.

use std::path::Path;

use k8s_openapi::api::batch::v1::Job;
use serde::Serialize;

use crate::exercise::Exercise;
use crate::exercise::answer::Assessment;
use crate::exercise::decode::DecodeError;
use crate::exercise::start::snippet;
use crate::lab::{AttemptResult, EXERCISE_LABEL};
use crate::ui::Palette;
use crate::ui::text::{wrap, wrap_hanging};
use crate::verdict::Judgement;
use crate::version::MinorVersion;

/// `TASK.md`: the task, the snippet, and how to submit.
pub(crate) fn task_text(exercise: &Exercise, job: &Job, file: &str) -> String {
    let number = exercise.number;
    let mut text = format!("# Exercise {number}: {}\n\n", exercise.title);
    text.push_str(wrap(&exercise.task, 88, "").trim_end());
    text.push('\n');
    if let Some(snippet) = snippet(exercise, job) {
        text.push_str("\n```yaml\n");
        text.push_str(&snippet);
        text.push_str("```\n");
    }
    if let Some(min) = exercise.min_kubernetes {
        text.push_str(&format!(
            "\nThis exercise needs Kubernetes {min} or newer.\n"
        ));
    }
    text.push_str(&format!(
        "\nEdit `{file}`, then run `sidecar-lab submit {number}`. The lab runs your Job on the\n\
         cluster and judges what it did, not how the file looks: any correct answer passes.\n\
         A wrong one gets a hint, and every attempt is kept (`sidecar-lab status`).\n"
    ));
    text
}

/// `sidecar-lab exercise`: one line per exercise, and how to start one.
pub(crate) fn list_text(catalogue: &crate::exercise::Catalogue) -> String {
    let mut text = String::from("Exercises: you change the Job, the lab judges what it did.\n\n");
    for exercise in &catalogue.exercises {
        let since = exercise
            .min_kubernetes
            .map(|m| format!(" (Kubernetes {m}+)"))
            .unwrap_or_default();
        text.push_str(&format!(
            "  {}  {}{since}\n",
            exercise.number, exercise.title
        ));
    }
    text.push_str("\nStart one with `sidecar-lab exercise N`; check your answer with `sidecar-lab submit N`.\n");
    text
}

/// What the learner sees of what became of their answer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shown<'a> {
    NotDecoded(&'a DecodeError),
    /// The API server's refusal, as kubectl printed it.
    Refused(&'a str),
    Ran {
        judgement: Option<&'a Judgement>,
        /// The exercise's timeout, when the Job was still undecided at its end.
        timed_out: Option<u64>,
    },
}

/// One attempt, judged, as the learner reads it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AttemptView<'a> {
    pub exercise: &'a Exercise,
    pub file: &'a Path,
    pub shown: Shown<'a>,
    pub assessment: &'a Assessment<'a>,
    /// This attempt's number, once it is kept (not under `--dry-run`).
    pub attempts: Option<u32>,
    pub minor: Option<MinorVersion>,
    pub namespace: &'a str,
}

/// The verdict on an attempt: what happened, then solved, or what is missing with the
/// hint for the mistake recognised, and what to look at.
pub(crate) fn attempt_text(view: &AttemptView<'_>, fancy: bool, palette: &Palette) -> String {
    let number = view.exercise.number;
    let assessment = view.assessment;
    let mut out = String::new();
    match view.shown {
        Shown::NotDecoded(error) => out.push_str(&format!(
            "\n{} is not one Job:\n  {}: {error}\n",
            view.file.display(),
            view.file.display()
        )),
        Shown::Refused(refusal) => out.push_str(&format!(
            "\nThe API server refused your Job (a server-side dry run; nothing ran):\n{}\n",
            wrap(refusal, 88, "  ").trim_end()
        )),
        Shown::Ran {
            judgement,
            timed_out,
        } => {
            if let Some(seconds) = timed_out {
                out.push_str(&format!(
                    "\nYour Job did not settle within {seconds} s; this is the last state observed.\n"
                ));
            }
            if let Some(judgement) = judgement {
                out.push('\n');
                out.push_str(&crate::ui::report::text(judgement, fancy, palette));
            }
        }
    }
    let attempt = view
        .attempts
        .map(|n| format!(", attempt {n}"))
        .unwrap_or_default();
    out.push('\n');
    if assessment.result == AttemptResult::Solved {
        let line = format!(
            "✓ Exercise {number} solved{attempt}: a sidecar served postgres, `main` did its work and exited 0, and the Job completed{}.",
            if view.exercise.goal == crate::exercise::Goal::StopAfterPostgres {
                "; the second sidecar stopped after postgres"
            } else {
                ""
            }
        );
        out.push_str(wrap(&line, 88, "").trim_end());
        out.push('\n');
        return out;
    }
    out.push_str(&format!(
        "{}\n",
        palette.removed.apply_to(format!(
            "✗ Exercise {number} not solved yet{attempt} ({})",
            assessment.result
        ))
    ));
    for missing in &assessment.missing {
        out.push_str(&format!("  - {}\n", wrap_hanging(4, missing, 88, "    ")));
    }
    hint(&mut out, view);
    out
}

/// The mistake recognised, what it does on this cluster, the hint, and what to look at.
fn hint(out: &mut String, view: &AttemptView<'_>) {
    let number = view.exercise.number;
    match view.assessment.mistake {
        Some(mistake) => {
            out.push_str(&format!(
                "\nRecognised: {} ({})\n",
                mistake.title, mistake.id
            ));
            if let Some(said) = view.assessment.on_version {
                let on = view
                    .minor
                    .map(|m| format!("On this cluster ({m}): "))
                    .unwrap_or_default();
                paragraph(out, &format!("{on}{said}"));
            }
            out.push('\n');
            paragraph(out, &format!("Hint: {}", mistake.hint));
        }
        None => paragraph(
            out,
            "No mistake the lab knows matches this answer: read the findings and the timeline above, and compare with what the task asks.",
        ),
    }
    if matches!(view.shown, Shown::Ran { .. }) {
        out.push_str(&format!(
            "\nLook for yourself:\n  kubectl get pods -n {ns} -l {EXERCISE_LABEL}={number}\n  kubectl describe job -n {ns} {job}\n",
            ns = view.namespace,
            job = number.job_name()
        ));
    }
    out.push_str(&format!(
        "\nChange `{}` and run `sidecar-lab submit {number}` again.\n",
        view.file.display()
    ));
}

/// `text` wrapped, indented by two, ending its line.
fn paragraph(out: &mut String, text: &str) {
    out.push_str(wrap(text, 88, "  ").trim_end());
    out.push('\n');
}

/// The watch's last line for an answer: the outcome it ended with.
pub(crate) fn watch_line(outcome: Option<crate::verdict::Outcome>) -> String {
    outcome.map_or_else(|| "nothing observed".to_owned(), |o| format!("`{o}`"))
}

/// `submit -o json`: one object for scripts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttemptJson<'a> {
    exercise: u32,
    attempt: Option<u32>,
    result: AttemptResult,
    solved: bool,
    hint: Option<&'a str>,
    hint_text: Option<&'a str>,
    on_version: Option<&'a str>,
    missing: &'a [String],
    outcome: Option<crate::verdict::Outcome>,
    refusal: Option<&'a str>,
    decode_error: Option<String>,
    kubernetes: Option<String>,
}

pub(crate) fn attempt_json(view: &AttemptView<'_>) -> anyhow::Result<String> {
    let assessment = view.assessment;
    let json = AttemptJson {
        exercise: view.exercise.number.0,
        attempt: view.attempts,
        result: assessment.result,
        solved: assessment.result == AttemptResult::Solved,
        hint: assessment.mistake.map(|m| m.id.as_str()),
        hint_text: assessment.mistake.map(|m| m.hint.as_str()),
        on_version: assessment.on_version,
        missing: &assessment.missing,
        outcome: match view.shown {
            Shown::Ran { judgement, .. } => judgement.map(|j| j.outcome),
            Shown::Refused(_) => Some(crate::verdict::Outcome::Refused),
            Shown::NotDecoded(_) => None,
        },
        refusal: match view.shown {
            Shown::Refused(refusal) => Some(refusal),
            _ => None,
        },
        decode_error: match view.shown {
            Shown::NotDecoded(error) => Some(error.to_string()),
            _ => None,
        },
        kubernetes: view.minor.map(|m| m.to_string()),
    };
    Ok(format!("{}\n", serde_json::to_string_pretty(&json)?))
}

/// `submit --dry-run`: the answer was read; what would be written and run.
pub(crate) fn dry_run_text(
    file: &Path,
    path: &Path,
    manifest: &str,
    commands: &[String],
) -> String {
    let mut out = format!(
        "`{}` reads as one Job.\n\n# would write {}:\n{manifest}",
        file.display(),
        path.display()
    );
    for command in commands {
        out.push_str(&format!("$ {command}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Catalogue;
    use crate::lab::{ExerciseNumber, Lab};

    #[test]
    fn the_task_of_exercise_3_says_what_to_add_and_how_to_submit() {
        let catalogue = Catalogue::embedded().expect("catalogue");
        let exercise = catalogue.exercise(ExerciseNumber(3)).expect("exercise");
        let job = crate::exercise::start::starting_job(exercise, &Lab::embedded().expect("lab"))
            .expect("job");
        insta::assert_snapshot!(task_text(exercise, &job, "exercise-3/job.yaml"));
    }
}

//! `sidecar-lab report`: this VM's lab results from the state file, as text, JSON or
//! JUnit; with `--merge`, many VMs' JSON results joined into one report.

use std::path::PathBuf;

use crate::build_info::VERSION;
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::lab::Lab;
use crate::results::merge::merge;
use crate::results::{
    Results, ResultsFormat, StepResult, StepState, Suite, exercise_results, junit,
};
use crate::session::state::{LabState, now};
use crate::session::step::Ending;
use crate::session::workspace;
use crate::ui::class as show;

/// `report`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub format: ResultsFormat,
    /// The suite's name; the host name when not given.
    pub name: Option<String>,
    pub merge: Vec<PathBuf>,
    pub lab: Option<PathBuf>,
}

/// Runs `report`.
pub(crate) fn report(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let results = if settings.merge.is_empty() {
        let lab = workspace::lab(settings.lab.as_deref())?;
        let dir = workspace::state_dir(world.environment)?;
        let state = workspace::load_state(world.printer, &dir);
        let name = settings.name.clone().unwrap_or_else(host_name);
        from_state(&state, &lab, name, now().to_string())
    } else {
        let mut files = Vec::new();
        for path in &settings.merge {
            // A FIFO or a device (`--merge /dev/zero`) is refused at once rather than
            // waited on or read for ever; a regular file is read through the shared cap.
            let file = crate::files::open_regular(path)
                .map_err(|error| anyhow::anyhow!("cannot read `{}`: {error}", path.display()))?;
            let bytes = crate::render::bounds::read_stream(
                file,
                &path.display().to_string(),
                crate::render::bounds::RESULTS_FILE,
            )?;
            files.push((path.display().to_string(), bytes));
        }
        let (results, notes) = merge(&files, now().to_string())?;
        for note in notes {
            world.printer.note(&note);
        }
        results
    };
    world.printer.out(&match settings.format {
        ResultsFormat::Json => results.to_json(),
        ResultsFormat::Junit => junit::to_junit(&results),
        ResultsFormat::Text => {
            let palette = world.printer.stdout_palette();
            format!(
                "{}\n{}\n\n{}",
                palette.heading.apply_to(&results.source),
                show::summary(&results),
                show::board(&results, world.printer.stdout_fancy(), &palette)
            )
        }
    });
    Ok(ExitStatus::Success)
}

/// One suite from the state file: each step of the lab, as its last run ended. Pure.
pub(crate) fn from_state(
    state: &LabState,
    lab: &Lab,
    name: String,
    generated_at: String,
) -> Results {
    let mut properties = std::collections::BTreeMap::new();
    if let Some(cluster) = &state.cluster {
        properties.insert("context".to_owned(), cluster.context.clone());
        if let Some(minor) = cluster.kubernetes {
            properties.insert("kubernetes".to_owned(), minor.to_string());
        }
        if let Some(kept) = cluster.native_sidecars {
            properties.insert("native-sidecars".to_owned(), kept.to_string());
        }
    }
    properties.insert("sidecar-lab".to_owned(), VERSION.to_owned());
    let steps = lab
        .numbered()
        .map(|(number, step)| {
            let record = state
                .steps
                .get(&number)
                .filter(|r| r.variant == step.variant);
            let state = record.map_or(StepState::NotStarted, |r| match r.result {
                Ending::Expected => StepState::Expected,
                Ending::Unexpected => StepState::Unexpected,
                Ending::TimedOut => StepState::TimedOut,
                Ending::Interrupted | Ending::DryRun => StepState::Interrupted,
                Ending::Skipped => StepState::Skipped,
            });
            let message = record.and_then(|r| match r.result {
                Ending::Unexpected => r
                    .outcome
                    .map(|o| format!("ended `{o}`; this step teaches `{}`", step.expect)),
                Ending::TimedOut => Some(format!(
                    "undecided after {} s; run `sidecar-lab step {number}` again to see why",
                    r.seconds
                )),
                _ => None,
            });
            StepResult {
                step: number,
                title: step.title.clone(),
                variant: step.variant,
                optional: step.optional,
                state,
                expect: step.expect,
                outcome: record.and_then(|r| r.outcome),
                seconds: record.map_or(0, |r| r.seconds),
                since: record.map(|r| r.at.clone()),
                finding: None,
                message,
            }
        })
        .collect();
    Results::new(
        generated_at,
        format!("report of {name}"),
        vec![Suite {
            name,
            namespace: state.cluster.as_ref().map(|c| c.namespace.clone()),
            properties,
            steps,
            exercises: exercise_results(
                &state.exercises,
                &crate::exercise::Catalogue::embedded()
                    .map(|c| c.titles())
                    .unwrap_or_default(),
            ),
        }],
    )
}

/// This machine's name (a VM's, in a classroom): `/proc/sys/kernel/hostname`, else
/// `$HOSTNAME`, else `localhost`.
fn host_name() -> String {
    crate::files::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{AttemptResult, ExerciseNumber, ExerciseRecord};

    /// The state file's exercise records become the suite's exercises, every exercise of
    /// the catalogue listed, and `report --merge` keeps them.
    #[test]
    fn the_state_files_exercises_are_reported_and_merged() {
        let mut state = LabState::default();
        state.exercises.insert(
            ExerciseNumber(2),
            ExerciseRecord::after(
                None,
                AttemptResult::Wrong,
                Some("postgres-plain-init".into()),
                "2026-12-07T10:00:00Z".into(),
            ),
        );
        let lab = Lab::embedded().expect("lab");
        let results = from_state(&state, &lab, "vm-07".into(), "2026-12-07T11:00:00Z".into());
        let exercises = &results.suites[0].exercises;
        assert_eq!(exercises.len(), 3);
        assert_eq!(exercises[1].attempts, 1);
        assert_eq!(exercises[1].hint.as_deref(), Some("postgres-plain-init"));
        let json: serde_json::Value = serde_json::from_str(&results.to_json()).expect("JSON");
        assert_eq!(json["suites"][0]["exercises"][1]["last"], "wrong");
        assert_eq!(
            json["suites"][0]["exercises"][0]["last"],
            serde_json::Value::Null
        );
        let (merged, _) = merge(
            &[("vm-07.json".to_owned(), results.to_json().into_bytes())],
            "now".to_owned(),
        )
        .expect("merges");
        assert_eq!(merged.suites[0].exercises, *exercises);
    }
}

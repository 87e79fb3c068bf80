//! `sidecar-lab exercise [N]`: lists the exercises, or writes exercise N's starting
//! manifest (`exercise-N/job.yaml`) and task (`exercise-N/TASK.md`) for the learner to
//! work on, and prints the task. A `job.yaml` the learner has changed is never
//! overwritten without `--force`.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Serialize;

use crate::commands::World;
use crate::exercise::{Catalogue, Exercise, start};
use crate::exit::ExitStatus;
use crate::lab::ExerciseNumber;
use crate::state::write_atomically;

/// `exercise`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct Settings {
    pub number: Option<ExerciseNumber>,
    pub dir: PathBuf,
    pub force: bool,
    pub lab: Option<PathBuf>,
    pub json: bool,
}

/// One exercise as `exercise -o json` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed<'a> {
    number: u32,
    title: &'a str,
    task: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_kubernetes: Option<String>,
}

/// Runs `exercise [N]`.
pub fn exercise(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let catalogue = Catalogue::embedded()?;
    let Some(number) = settings.number else {
        list(&catalogue, settings.json, world)?;
        return Ok(ExitStatus::Success);
    };
    let exercise = find(&catalogue, number)?;
    let lab = crate::commands::lab(settings.lab.as_deref())?;
    let job = start::starting_job(exercise, &lab)?;
    let manifest = start::starting_manifest(exercise, &job)?;
    let folder = settings.dir.join(number.key());
    let job_file = folder.join("job.yaml");
    let shown = Path::new(&number.key()).join("job.yaml");
    let task = crate::ui::exercise::task_text(exercise, &job, &shown.display().to_string());
    if !settings.force && edited(&job_file, &manifest) {
        return Err(anyhow!(
            "`{}` is already there and differs from the starting manifest: your work is kept. Submit it with `sidecar-lab submit {number}`, or start again with `sidecar-lab exercise {number} --force`",
            job_file.display()
        ));
    }
    crate::files::create_dir_all(&folder)
        .with_context(|| format!("cannot create `{}`", folder.display()))?;
    write_atomically(&job_file, manifest.as_bytes())?;
    write_atomically(&folder.join("TASK.md"), task.as_bytes())?;
    if settings.json {
        let listed = listed(exercise);
        world
            .printer
            .out(&format!("{}\n", serde_json::to_string_pretty(&listed)?));
    } else {
        world.printer.out(&task);
        world.printer.note(&format!(
            "wrote `{}` and `{}`",
            job_file.display(),
            folder.join("TASK.md").display()
        ));
    }
    Ok(ExitStatus::Success)
}

/// Exercise `number`, or an error that lists the ones there are.
pub(crate) fn find(catalogue: &Catalogue, number: ExerciseNumber) -> anyhow::Result<&Exercise> {
    catalogue.exercise(number).ok_or_else(|| {
        anyhow!(
            "there is no exercise {number}: there are exercises 1 to {} (`sidecar-lab exercise` lists them)",
            catalogue.exercises.len()
        )
    })
}

/// True when `file` exists with other content than `manifest` (or cannot be read): the
/// learner's work, not to be overwritten.
fn edited(file: &Path, manifest: &str) -> bool {
    match crate::files::read_to_string(file) {
        Ok(text) => text != manifest,
        Err(error) => error.kind() != std::io::ErrorKind::NotFound,
    }
}

fn listed(exercise: &Exercise) -> Listed<'_> {
    Listed {
        number: exercise.number.0,
        title: &exercise.title,
        task: &exercise.task,
        min_kubernetes: exercise.min_kubernetes.map(|m| m.to_string()),
    }
}

fn list(catalogue: &Catalogue, json: bool, world: &World<'_>) -> anyhow::Result<()> {
    if json {
        let all: Vec<Listed<'_>> = catalogue.exercises.iter().map(listed).collect();
        world
            .printer
            .out(&format!("{}\n", serde_json::to_string_pretty(&all)?));
    } else {
        world
            .printer
            .out(&crate::ui::exercise::list_text(catalogue));
    }
    Ok(())
}

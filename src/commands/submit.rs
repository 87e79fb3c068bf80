//! `sidecar-lab submit N [FILE]`: the learner's answer to exercise N, run for real and
//! judged by what it did. Reads the file strictly (naming the line and field of a
//! mistake), asks the API server in a server-side dry run (its refusal is part of the
//! lesson) once the previous attempt's Job is gone, applies this one (`exercise-N`,
//! labelled as the exercise's, never a step's), watches it with the steps' watcher and hold windows,
//! judges it (`exercise::answer`), prints the verdict with the hint for the mistake it
//! recognises, and keeps the attempt in the state file and on the cluster.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use k8s_openapi::api::batch::v1::Job;

use crate::commands::World;
use crate::exercise::answer::{Assessment, Attempt, WatchEnd, assess};
use crate::exercise::decode::{DecodeError, decode_job};
use crate::exercise::{Catalogue, Exercise, Goal, MainWork, start};
use crate::exit::ExitStatus;
use crate::kube::Cluster;
use crate::kube::cluster::Answer;
use crate::lab::{AttemptResult, Checks, EXERCISE_LABEL, ExerciseNumber, ExerciseRecord};
use crate::session::decide::{Ending, Watch, Watched};
use crate::session::target::Resolved;
use crate::session::workspace::{Where, open, wait_for_up};
use crate::state::write_atomically;
use crate::ui::exercise::{AttemptView, Shown};
use crate::ui::phase::Phase;
use crate::variant::Variant;
use crate::verdict::{Expectation, Outcome};
use crate::version::MinorVersion;

/// The largest answer read: a Job manifest is a few kilobytes.
const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

/// How long an answer's pod may stay in its init phase before it is judged stuck there.
/// A correct answer leaves it within seconds (the image is on the node; postgres
/// accepts connections in one or two, and a startupProbe passes at its first periods);
/// a plain init container that never exits would otherwise be watched to the timeout.
const STUCK_IN_INIT_SECONDS: u64 = 30;

/// `submit`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct Settings {
    pub number: ExerciseNumber,
    pub file: Option<PathBuf>,
    pub place: Where,
    pub lab: Option<PathBuf>,
    pub dry_run: bool,
    pub json: bool,
}

/// What became of the answer: not read, refused, or run and watched.
enum Tried {
    NotDecoded(DecodeError),
    Refused { sent: Job, refusal: String },
    Ran { sent: Job, watch: Watch },
}

/// What a submission works from, read before anything changes.
struct Submission<'c> {
    catalogue: &'c Catalogue,
    exercise: &'c Exercise,
    /// `main`'s work as the exercise's starting manifest gives it.
    work: MainWork,
    file: PathBuf,
    dir: PathBuf,
    resolved: Resolved,
    minor: Option<MinorVersion>,
}

/// Runs `submit N [FILE]`.
pub fn submit(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let number = settings.number;
    let catalogue = Catalogue::embedded()?;
    let exercise = super::exercise::find(&catalogue, number)?;
    let lab = crate::commands::lab(settings.lab.as_deref())?;
    let work = MainWork::of(&start::starting_job(exercise, &lab)?).ok_or_else(|| {
        anyhow!("the lab's Job has no `main` container, so exercise {number} cannot be judged")
    })?;
    let file = settings
        .file
        .clone()
        .unwrap_or_else(|| Path::new(&number.key()).join("job.yaml"));
    let text = read_answer(&file, number)?;
    if !settings.dry_run {
        let dir = crate::session::workspace::state_dir(world.environment)?;
        wait_for_up(&dir, world.printer, &format!("sidecar-lab submit {number}"))?;
    }
    let (dir, state, resolved) = open(&settings.place, world.environment, world.printer)?;
    let minor = state
        .cluster
        .as_ref()
        .and_then(|c| c.kubernetes)
        .or_else(|| Cluster::new(world.runner, world.clock, &resolved.kube).server_minor());
    check_version(exercise, minor)?;
    let submission = Submission {
        catalogue: &catalogue,
        exercise,
        work,
        file,
        dir,
        resolved,
        minor,
    };
    let tried = match decode_job(&text) {
        Err(error) => Tried::NotDecoded(error),
        Ok(job) if !privilege(&job).is_empty() => {
            return Err(anyhow!(
                "`{}` asks for more than the lab allows, so it is not sent: {}. No exercise needs any of it; remove it and submit again",
                submission.file.display(),
                privilege(&job).join("; ")
            ));
        }
        Ok(job) if settings.dry_run => return dry_run(&submission, job, world),
        Ok(job) => run(&submission, job, world)?,
    };
    finish(&submission, &tried, settings, world)
}

/// What the answer asks beyond what a lab's Job may have (Pod Security `baseline`, and
/// no identity, node or priority of its own): the same rules as a lab file's `edit`, so
/// an answer never gains what a step could not. In a class the namespace enforces them
/// too; here they are said before anything is sent.
fn privilege(job: &Job) -> Vec<String> {
    let mut found = crate::render::pod_security::check_job(job);
    found.extend(crate::render::pod_reach::check_job(job));
    found.iter().map(ToString::to_string).collect()
}

/// Reads the learner's file: a regular file, at most `MAX_ANSWER_BYTES`.
fn read_answer(file: &Path, number: ExerciseNumber) -> anyhow::Result<String> {
    let opened = crate::files::open_regular(file).map_err(|error| {
        anyhow!(
            "cannot read your answer `{}`: {error}. `sidecar-lab exercise {number}` writes the starting manifest there",
            file.display()
        )
    })?;
    let mut text = String::new();
    opened
        .take(MAX_ANSWER_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read `{}` as UTF-8 text", file.display()))?;
    if text.len() as u64 > MAX_ANSWER_BYTES {
        return Err(anyhow!(
            "`{}` is larger than 1 MiB: an answer is one Job manifest",
            file.display()
        ));
    }
    Ok(text)
}

/// Refuses an exercise this cluster's version cannot show.
fn check_version(exercise: &Exercise, minor: Option<MinorVersion>) -> anyhow::Result<()> {
    match (exercise.min_kubernetes, minor) {
        (Some(min), Some(minor)) if minor < min => Err(anyhow!(
            "exercise {} needs Kubernetes {min} or newer, and this cluster runs {minor}: before {min} the kubelet stopped all sidecars at once. Make a newer cluster with `sidecar-lab up --kubernetes {min}`",
            exercise.number
        )),
        _ => Ok(()),
    }
}

/// The answer as it is applied: named and labelled as the exercise's.
fn answer_manifest(
    submission: &Submission<'_>,
    job: &mut Job,
) -> anyhow::Result<(PathBuf, String)> {
    let number = submission.exercise.number;
    start::make_answer(job, number);
    let header = [format!(
        "sidecar-lab: your answer to exercise {number} ({}), from `{}`.",
        submission.exercise.title,
        submission.file.display()
    )];
    let manifest = crate::render::job::to_manifest(job, &header)?;
    Ok((
        submission.dir.join(format!("{}.yaml", number.key())),
        manifest,
    ))
}

/// `--dry-run`: the answer read, and the manifest and commands a submission would use.
fn dry_run(
    submission: &Submission<'_>,
    mut job: Job,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let (path, manifest) = answer_manifest(submission, &mut job)?;
    let target = &submission.resolved.kube;
    let number = submission.exercise.number;
    let commands = [
        target.delete_job(&number.job_name()),
        target.apply_dry_run(&path),
        target.apply(&path),
        target.observe(&label(number)),
    ];
    world.printer.out(&crate::ui::exercise::dry_run_text(
        &submission.file,
        &path,
        &manifest,
        &commands.iter().map(ToString::to_string).collect::<Vec<_>>(),
    ));
    Ok(ExitStatus::Success)
}

/// The label selector of exercise `number`'s Job and pods.
fn label(number: ExerciseNumber) -> String {
    format!("{EXERCISE_LABEL}={number}")
}

/// Puts the answer on the cluster in place of the previous attempt: a dry run first,
/// then the Job, watched until it is decided.
fn run(submission: &Submission<'_>, mut job: Job, world: &World<'_>) -> anyhow::Result<Tried> {
    let (path, manifest) = answer_manifest(submission, &mut job)?;
    write_atomically(&path, manifest.as_bytes())?;
    let target = &submission.resolved.kube;
    let cluster = Cluster::new(world.runner, world.clock, target);
    crate::session::namespace::ensure(&cluster, world.printer)?;
    let number = submission.exercise.number;
    // The previous attempt goes first: applied over it, this one would be a patch of its
    // pod template, which the API server refuses (a Job's template is immutable).
    cluster
        .delete_job(&number.job_name())
        .context("cannot remove your previous attempt's Job")?;
    let checked = cluster.apply_dry_run(&path)?;
    show_warnings(&checked.warnings, world);
    match checked.answer {
        Answer::Created => {}
        Answer::Refused(refusal) => return Ok(Tried::Refused { sent: job, refusal }),
        Answer::Failed(failed) => {
            return Err(failed).context("cannot check your Job with a server-side dry run");
        }
    }
    let applied = cluster.apply(&path)?;
    match applied.answer {
        Answer::Created => {}
        Answer::Refused(refusal) => return Ok(Tried::Refused { sent: job, refusal }),
        Answer::Failed(failed) => return Err(failed).context("cannot create your Job"),
    }
    let watch = watch(submission, cluster, world);
    Ok(Tried::Ran { sent: job, watch })
}

fn show_warnings(warnings: &[String], world: &World<'_>) {
    let text = crate::ui::report::api_warnings(warnings);
    if !text.is_empty() {
        world.printer.note(text.trim_end());
    }
}

/// Watches the answer's Job as a step's is watched, expecting what a native sidecar
/// does: the Job completes.
fn watch(submission: &Submission<'_>, cluster: Cluster<'_>, world: &World<'_>) -> Watch {
    let exercise = submission.exercise;
    let number = exercise.number;
    let checks = Checks {
        reverse_stop_order: exercise.goal == Goal::StopAfterPostgres,
        ..Checks::default()
    };
    let expectation = Expectation {
        variant: Variant::Native,
        outcome: Outcome::Succeeded,
        checks,
    };
    let watched = Watched::new(Variant::Native, number.job_name(), expectation);
    let mut watch = Watch::new(
        vec![watched],
        exercise.hold_seconds,
        exercise.timeout_seconds,
        false,
    )
    .with_init_hold(STUCK_IN_INIT_SECONDS);
    let interrupted = crate::interrupt::flag();
    let watcher = crate::session::watch::Watcher {
        cluster,
        printer: *world.printer,
        interrupted: &interrupted,
    };
    let phase = Phase::timed(
        world.clock,
        None,
        *world.printer,
        &format!("Exercise {number}: your Job"),
    );
    let started = world.clock.now();
    watcher.follow(&mut watch, &phase, &label(number), started);
    let outcome = watch.judgement().map(|j| j.outcome);
    let detail = crate::ui::exercise::watch_line(outcome);
    if watch.ending() == Ending::Expected {
        phase.succeed(&detail);
    } else {
        phase.fail(&detail);
    }
    watch
}

/// Judges the attempt, shows the verdict, and keeps the attempt.
fn finish(
    submission: &Submission<'_>,
    tried: &Tried,
    settings: &Settings,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let judgement = match tried {
        Tried::Ran { watch, .. } => watch.judgement(),
        _ => None,
    };
    let attempt = match tried {
        Tried::NotDecoded(error) => Attempt::NotDecoded {
            field: error.field_name(),
        },
        Tried::Refused { sent, refusal } => Attempt::Refused { sent, refusal },
        Tried::Ran { sent, watch } => Attempt::Ran {
            sent,
            end: watch_end(watch.ending()),
            judgement: judgement.as_ref(),
            seen: watch.seen(),
        },
    };
    let assessment = assess(
        submission.catalogue,
        submission.exercise,
        &submission.work,
        attempt,
        submission.minor,
    );
    let record = if settings.dry_run {
        None
    } else {
        Some(keep(submission, &assessment, world)?)
    };
    let shown = match tried {
        Tried::NotDecoded(error) => Shown::NotDecoded(error),
        Tried::Refused { refusal, .. } => Shown::Refused(refusal),
        Tried::Ran { watch, .. } => Shown::Ran {
            judgement: judgement.as_ref(),
            timed_out: (watch.ending() == Ending::TimedOut).then_some(watch.timeout_seconds()),
        },
    };
    let view = AttemptView {
        exercise: submission.exercise,
        file: &submission.file,
        shown,
        assessment: &assessment,
        attempts: record.as_ref().map(|r| r.attempts),
        minor: submission.minor,
        namespace: &submission.resolved.kube.namespace,
    };
    if settings.json {
        world
            .printer
            .out(&crate::ui::exercise::attempt_json(&view)?);
    } else {
        let printer = world.printer;
        world.printer.out(&crate::ui::exercise::attempt_text(
            &view,
            printer.stdout_fancy(),
            &printer.stdout_palette(),
        ));
    }
    Ok(match assessment.result {
        AttemptResult::Solved => ExitStatus::Success,
        AttemptResult::Interrupted => ExitStatus::Interrupted,
        _ => ExitStatus::Unexpected,
    })
}

const fn watch_end(ending: Ending) -> WatchEnd {
    match ending {
        Ending::TimedOut => WatchEnd::TimedOut,
        Ending::Interrupted => WatchEnd::Interrupted,
        _ => WatchEnd::Decided,
    }
}

/// Adds the attempt to the state file, under the lab's lock, and returns the record.
fn keep(
    submission: &Submission<'_>,
    assessment: &Assessment<'_>,
    world: &World<'_>,
) -> anyhow::Result<ExerciseRecord> {
    use crate::session::{lock, state};
    let number = submission.exercise.number;
    let dir = &submission.dir;
    let _lock = lock::acquire(
        dir,
        &format!("sidecar-lab submit {number}"),
        lock::STEP_WAIT,
        world.printer,
    )?;
    let mut lab_state = crate::session::workspace::load_state(world.printer, dir);
    let cluster = Cluster::new(world.runner, world.clock, &submission.resolved.kube);
    // Attempts made from another machine (or before the state was reset) are in the
    // namespace's record: count on from whichever has more.
    let on_cluster = cluster
        .read_progress()
        .ok()
        .and_then(|progress| progress.records.get(&number).cloned());
    let previous = [lab_state.exercises.get(&number), on_cluster.as_ref()]
        .into_iter()
        .flatten()
        .max_by_key(|r| r.attempts);
    let record = ExerciseRecord::after(
        previous,
        assessment.result,
        assessment.mistake.map(|m| m.id.clone()),
        state::now().to_string(),
    );
    lab_state.exercises.insert(number, record.clone());
    state::save(dir, &lab_state)?;
    // The class's view of the attempt: `class status` and the board read it. Not being
    // able to write it loses nothing of the learner's (the state file has it), so it is
    // said, not fatal.
    if let Err(error) = cluster.save_progress(dir, number, &record) {
        world.printer.warn(&format!(
            "the attempt is kept on this machine, but not in the namespace's `{}` ConfigMap, where `class status` reads it: {}",
            crate::lab::PROGRESS_CONFIGMAP,
            crate::exit::one_line(&error)
        ));
    }
    Ok(record)
}

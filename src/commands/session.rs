//! `sidecar-lab step`, `status` and `down`: run one lab step on the current cluster,
//! show where the lab stands, and take it down.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Serialize;

use crate::commands::World;
use crate::exit::ExitStatus;
use crate::install::detect;
use crate::kube;
use crate::kube::Cluster;
use crate::kube::cluster::DOWN_TIMEOUT;
use crate::lab::{Lab, StepNumber};
use crate::matrix::VersionMatrix;
use crate::runner::{Runner, checked_shown};
use crate::session::namespace;
use crate::session::state::LabState;
use crate::session::step::{self, Session};
use crate::session::target::Resolved;
use crate::session::workspace::{Where, exit_status, lab, lab_files, open, save_step, wait_for_up};
use crate::ui::prompt;

/// `step`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct StepSettings {
    pub number: StepNumber,
    pub place: Where,
    pub lab: Option<PathBuf>,
    pub dry_run: bool,
}

/// Runs `step N`; the release for the manifest's comments comes from `matrix`.
pub fn step(
    settings: &StepSettings,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let lab = lab(settings.lab.as_deref())?;
    if !settings.dry_run {
        let dir = crate::session::workspace::state_dir(world.environment)?;
        wait_for_up(
            &dir,
            world.printer,
            &format!("sidecar-lab step {}", settings.number),
        )?;
    }
    let (dir, state, resolved) = open(&settings.place, world.environment, world.printer)?;
    // Whether the lab's record exists now: if a `down` removes it while the step runs,
    // the result is not written back (see `save_step`).
    let had_state = crate::session::state::path(&dir).exists();
    let minor = state.cluster.as_ref().and_then(|c| c.kubernetes);
    // The recorded cluster's minor only changes the manifest's comments; an unknown one
    // (a shared cluster on 1.38, say) falls back to the default.
    let release = match minor.and_then(|m| matrix.release(m).ok()) {
        Some(release) => release,
        None => matrix.release_or_default(None)?,
    };
    // Version rules and skips need the server's minor: from the state, else asked.
    let minor = minor
        .or_else(|| kube::Cluster::new(world.runner, world.clock, &resolved.kube).server_minor());
    let session = Session {
        runner: world.runner,
        clock: world.clock,
        minor,
        printer: *world.printer,
        target: resolved.kube.clone(),
        state_dir: dir.clone(),
        release,
        interrupted: &crate::interrupt::flag(),
        dry_run: settings.dry_run,
    };
    if !settings.dry_run {
        namespace::ensure(&session.cluster(), world.printer)?;
        crate::session::room::free_if_needed(&session, &lab, &state, settings.number)?;
    }
    let run = step::run(&session, &lab, settings.number, None)?;
    world.printer.out(&run.report);
    if !settings.dry_run {
        save_step(&dir, world.printer, &run, &resolved.kube, had_state)?;
    }
    Ok(exit_status(std::slice::from_ref(&run)))
}

/// What `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub tools: Vec<ToolStatus>,
    pub cluster: ClusterStatus,
    pub steps: Vec<StepStatus>,
    /// The exercises tried (`sidecar-lab submit`), from the state file.
    pub exercises: Vec<ExerciseStatus>,
}

#[derive(Debug, Serialize)]
pub struct ToolStatus {
    pub name: &'static str,
    pub version: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    pub context: String,
    pub namespace: String,
    pub kind_name: Option<String>,
    /// The server's Kubernetes version, when it answered.
    pub kubernetes: Option<String>,
    pub reachable: bool,
    /// From the last `up`: whether a dry run kept `restartPolicy: Always`.
    pub native_sidecars: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct StepStatus {
    pub number: u32,
    pub title: Option<String>,
    pub variant: crate::variant::Variant,
    pub result: crate::session::step::Ending,
    pub outcome: Option<crate::verdict::Outcome>,
    pub at: String,
    pub seconds: u64,
}

#[derive(Debug, Serialize)]
pub struct ExerciseStatus {
    pub number: u32,
    pub title: Option<String>,
    pub attempts: u32,
    pub solved: bool,
    /// How the last attempt ended.
    pub last: crate::lab::AttemptResult,
    /// The catalogue id of the mistake the last attempt was recognised as.
    pub hint: Option<String>,
    pub at: String,
}

/// Runs `status`.
pub fn status(place: &Where, json: bool, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let (_, state, resolved) = open(place, world.environment, world.printer)?;
    let bin_dir = world.environment.default_bin_dir().unwrap_or_default();
    let report = gather_status(
        world.runner,
        &resolved,
        &state,
        &bin_dir,
        world.environment.path.as_deref(),
    );
    if json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        world.printer.out(&text);
    } else {
        world.printer.out(&status_text(&report));
    }
    Ok(ExitStatus::Success)
}

fn gather_status(
    runner: &dyn Runner,
    resolved: &Resolved,
    state: &LabState,
    bin_dir: &Path,
    path: Option<&str>,
) -> Status {
    let tools = tools_status(runner, bin_dir, path);
    let server = runner
        .run(&resolved.kube.version(), detect::PROBE_TIMEOUT)
        .ok()
        .filter(super::super::runner::Output::success);
    let kubernetes = server
        .as_ref()
        .and_then(|o| kube::server_minor(&o.stdout))
        .map(|m| m.to_string());
    Status {
        tools,
        cluster: ClusterStatus {
            context: resolved.kube.context.clone(),
            namespace: resolved.kube.namespace.clone(),
            kind_name: resolved.kind_name.clone(),
            reachable: server.is_some(),
            kubernetes,
            native_sidecars: state.cluster.as_ref().and_then(|c| c.native_sidecars),
        },
        steps: steps_status(state),
        exercises: exercises_status(state),
    }
}

/// Docker, kind and kubectl: where each is and which version answers.
fn tools_status(runner: &dyn Runner, bin_dir: &Path, path: Option<&str>) -> Vec<ToolStatus> {
    let docker = detect::probe_docker(runner, path, detect::PROBE_TIMEOUT);
    let docker_version = match &docker {
        detect::DockerStatus::Running { server, .. } => Some(format!("{server} (daemon answers)")),
        detect::DockerStatus::Missing => None,
        other => Some(format!("{other:?}")),
    };
    let (kind, kubectl) = detect::probe_binaries(runner, bin_dir, path);
    let tool = |name, found: Option<detect::Found>| ToolStatus {
        name,
        version: found
            .as_ref()
            .and_then(|f| f.version)
            .map(|v| v.to_string()),
        path: found.map(|f| f.path.display().to_string()),
    };
    vec![
        ToolStatus {
            name: "docker",
            version: docker_version,
            path: None,
        },
        tool("kind", kind),
        tool("kubectl", kubectl),
    ]
}

/// The recorded steps, titled from the built-in lab.
fn steps_status(state: &LabState) -> Vec<StepStatus> {
    let lab = Lab::embedded().ok();
    state
        .steps
        .iter()
        .map(|(number, record)| StepStatus {
            number: number.0,
            title: lab
                .as_ref()
                .and_then(|lab| lab.step(*number))
                .map(|s| s.title.clone()),
            variant: record.variant,
            result: record.result,
            outcome: record.outcome,
            at: record.at.clone(),
            seconds: record.seconds,
        })
        .collect()
}

/// The exercises tried, titled from the built-in catalogue.
fn exercises_status(state: &LabState) -> Vec<ExerciseStatus> {
    let catalogue = crate::exercise::Catalogue::embedded().ok();
    state
        .exercises
        .iter()
        .map(|(number, record)| ExerciseStatus {
            number: number.0,
            title: catalogue
                .as_ref()
                .and_then(|c| c.exercise(*number))
                .map(|e| e.title.clone()),
            attempts: record.attempts,
            solved: record.solved,
            last: record.last,
            hint: record.hint.clone(),
            at: record.at.clone(),
        })
        .collect()
}

fn status_text(status: &Status) -> String {
    let mut out = String::from("Tools\n");
    for tool in &status.tools {
        let version = tool.version.as_deref().unwrap_or("not installed");
        let at = tool
            .path
            .as_deref()
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        out.push_str(&format!("  {:8} {version}{at}\n", tool.name));
    }
    let cluster = &status.cluster;
    out.push_str(&format!(
        "\nCluster\n  context     {}\n  namespace   {}\n",
        cluster.context, cluster.namespace
    ));
    out.push_str(&format!(
        "  kubernetes  {}\n",
        match (&cluster.kubernetes, cluster.reachable) {
            (Some(version), _) => version.clone(),
            (None, _) => "not reachable (run `sidecar-lab up`)".to_owned(),
        }
    ));
    out.push_str(&format!(
        "  native sidecars  {}\n",
        match cluster.native_sidecars {
            Some(true) => "work (restartPolicy: Always kept by the API server)",
            Some(false) => "OFF: the SidecarContainers gate is off",
            None => "not checked yet",
        }
    ));
    out.push_str("\nSteps\n");
    if status.steps.is_empty() {
        out.push_str("  none run yet: sidecar-lab step 1\n");
    }
    for step in &status.steps {
        out.push_str(&format!(
            "  {}  {:8} {:12} {:18} {} ({} s)\n",
            step.number,
            step.variant.to_string(),
            step.result.name(),
            step.outcome.map_or("-", |o| o.name()),
            step.at,
            step.seconds
        ));
    }
    out.push_str(&exercises_text(&status.exercises));
    out
}

/// The Exercises section: one line per exercise tried.
fn exercises_text(exercises: &[ExerciseStatus]) -> String {
    let mut out = String::from("\nExercises\n");
    if exercises.is_empty() {
        out.push_str("  none tried yet: `sidecar-lab exercise` lists them\n");
    }
    let width = exercises
        .iter()
        .filter_map(|e| e.title.as_ref().map(|t| t.chars().count()))
        .max()
        .unwrap_or(0);
    for exercise in exercises {
        let title = exercise.title.as_deref().unwrap_or("(not in this version)");
        out.push_str(&format!(
            "  {}  {title:width$}  {:>2} attempt(s)  solved {:3}  last {}{}  ({})\n",
            exercise.number,
            exercise.attempts,
            if exercise.solved { "yes" } else { "no" },
            exercise.last,
            exercise
                .hint
                .as_deref()
                .map(|h| format!(", hint `{h}`"))
                .unwrap_or_default(),
            exercise.at,
        ));
    }
    out
}

/// Runs `down`: deletes the kind cluster (or, on an existing cluster, the lab's
/// objects in its namespace) and the lab's state.
pub fn down(place: &Where, yes: bool, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let (dir, _, resolved) = open(place, world.environment, world.printer)?;
    let (what, _) = what_down_does(&resolved);
    if !prompt::confirm(
        &format!("This will {what}. Go ahead?"),
        yes,
        world.environment.stdin_is_terminal,
    ) {
        world.printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }
    // Not while an `up` or a step works on the lab: they would write a state for a
    // cluster that is gone.
    let _lock = crate::session::lock::acquire(
        &dir,
        "sidecar-lab down",
        crate::session::lock::STEP_WAIT,
        world.printer,
    )?;
    // The state read above may be stale: an `up` that held the lock meanwhile may have
    // made another cluster. Resolved again under the lock; if that changes what was
    // confirmed, nothing is deleted.
    let (_, _, resolved) = open(place, world.environment, world.printer)?;
    let (now, command) = what_down_does(&resolved);
    if now != what {
        return Err(anyhow!(
            "the lab changed while `sidecar-lab down` waited (it would now {now}); nothing was deleted: run `sidecar-lab down` again"
        ));
    }
    world.printer.note(&format!("$ {command}"));
    match &resolved.kind_name {
        // kind's own command: the cluster goes with everything in it.
        Some(_) => checked_shown(world.runner, &command, DOWN_TIMEOUT)?,
        None => Cluster::new(world.runner, world.clock, &resolved.kube).delete_lab_objects()?,
    }
    for file in lab_files(&dir) {
        crate::files::remove_file(&file)
            .with_context(|| format!("cannot remove `{}`", file.display()))?;
    }
    world.printer.note(&format!("✓ {what}: done"));
    Ok(ExitStatus::Success)
}

/// What `down` does for the lab at `resolved`, in words and as a command.
fn what_down_does(resolved: &Resolved) -> (String, crate::runner::CommandLine) {
    match &resolved.kind_name {
        Some(name) => (
            format!("delete the kind cluster `{name}` and the lab's state"),
            kube::kind::delete_cluster(name),
        ),
        None => (
            format!(
                "delete the lab's Jobs in namespace `{}` of context `{}` and the lab's state",
                resolved.kube.namespace, resolved.kube.context
            ),
            resolved.kube.delete_lab_objects(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{AttemptResult, ExerciseNumber, ExerciseRecord};

    #[test]
    fn the_exercises_section_lists_each_exercise_tried() {
        let mut state = LabState::default();
        assert!(exercises_text(&exercises_status(&state)).contains("none tried yet"));
        let wrong = ExerciseRecord::after(
            None,
            AttemptResult::Refused,
            Some("pod-restart-policy".into()),
            "2026-12-07T10:00:00Z".into(),
        );
        let solved = ExerciseRecord::after(
            Some(&wrong),
            AttemptResult::Solved,
            None,
            "2026-12-07T10:05:00Z".into(),
        );
        state.exercises.insert(ExerciseNumber(1), solved);
        state.exercises.insert(ExerciseNumber(2), wrong);
        let exercises = exercises_status(&state);
        let json = serde_json::to_value(&exercises).expect("JSON");
        assert_eq!(json[1]["hint"], "pod-restart-policy");
        assert_eq!(json[0]["solved"], true);
        assert_eq!(json[0]["last"], "solved");
        insta::assert_snapshot!(exercises_text(&exercises));
    }
}

//! `sidecar-lab step`, `status` and `down`: run one lab step on the current cluster,
//! show where the lab stands, and take it down.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Serialize;

use crate::app::ExitStatus;
use crate::commands::World;
use crate::install::detect;
use crate::kube;
use crate::lab::Lab;
use crate::matrix::VersionMatrix;
use crate::names::ClusterName;
use crate::runner::Runner;
use crate::session::state::{self, LabState, StepRecord};
use crate::session::step::{self, Ending, Session, StepRun};
use crate::session::target::{self, Resolved};
use crate::ui::prompt;
use crate::version::MinorVersion;

/// Where the lab runs, as the user gave it.
#[derive(Clone, Debug)]
pub struct Where {
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub cluster: ClusterName,
}

/// `step`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct StepSettings {
    pub number: usize,
    pub place: Where,
    pub lab: Option<PathBuf>,
    pub dry_run: bool,
}

/// The state directory, or an error that says how to get one.
pub fn state_dir(world: &World<'_>) -> anyhow::Result<PathBuf> {
    world.environment.state_dir().ok_or_else(|| {
        anyhow!(
            "neither XDG_STATE_HOME nor HOME is set, so sidecar-lab has nowhere to keep its state"
        )
    })
}

/// Loads the lab state, saying so when an unreadable one was set aside.
pub fn load_state(world: &World<'_>, dir: &Path) -> LabState {
    let (state, problem) = state::load(dir);
    if let Some(problem) = problem {
        world.printer.warn(&problem);
    }
    state
}

/// The state directory, the state in it, and where the lab runs.
pub fn open(place: &Where, world: &World<'_>) -> anyhow::Result<(PathBuf, LabState, Resolved)> {
    let dir = state_dir(world)?;
    let state = load_state(world, &dir);
    let resolved = target::resolve(
        place.context.as_deref(),
        place.namespace.as_deref(),
        &place.cluster,
        &state,
    );
    Ok((dir, state, resolved))
}

/// The files the lab keeps in its state directory: the state, kind configs, manifests.
/// (dockerd's log stays: the daemon may still be writing it.)
fn lab_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name == "state.json"
                || name == "99-sidecar-lab.conf"
                || (name.ends_with(".yaml")
                    && (name.starts_with("kind-")
                        || name.starts_with("step-")
                        || name.starts_with("gate-check-")))
        })
        .collect()
}

/// The lab file given, or the built-in lab.
pub fn lab(path: Option<&Path>) -> anyhow::Result<Lab> {
    Ok(match path {
        Some(path) => Lab::load(path)?,
        None => Lab::embedded()?,
    })
}

/// Runs `step N`.
pub fn step(settings: &StepSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let lab = lab(settings.lab.as_deref())?;
    let (dir, mut state, resolved) = open(&settings.place, world)?;
    let matrix = VersionMatrix::embedded()?;
    let minor = state
        .cluster
        .as_ref()
        .and_then(|c| c.kubernetes.as_deref())
        .and_then(|k| k.parse::<MinorVersion>().ok());
    // The recorded cluster's minor only changes the manifest's comments; an unknown one
    // (a shared cluster on 1.38, say) falls back to the default.
    let release = match minor.and_then(|m| matrix.release(m).ok()) {
        Some(release) => release,
        None => matrix.release_or_default(None)?,
    };
    let session = Session {
        runner: world.runner,
        printer: *world.printer,
        target: resolved.kube.clone(),
        state_dir: dir.clone(),
        release,
        interrupted: &crate::interrupt::flag(),
        dry_run: settings.dry_run,
    };
    let run = step::run(&session, &lab, settings.number)?;
    if !settings.dry_run {
        record(&mut state, &run);
        state::save(&dir, &state)?;
    }
    Ok(exit_status(std::slice::from_ref(&run)))
}

/// Adds a step's result to the state.
pub fn record(state: &mut LabState, run: &StepRun) {
    let number = u32::try_from(run.number).unwrap_or(u32::MAX);
    state.steps.insert(
        number,
        StepRecord {
            variant: run.variant.to_string(),
            result: run.ending.name().to_owned(),
            outcome: run.judgement.as_ref().map(|j| j.outcome.to_string()),
            at: state::now().to_string(),
            seconds: run.seconds,
        },
    );
}

/// 130 if interrupted, 1 if any step was not as expected, 0 otherwise.
pub fn exit_status(runs: &[StepRun]) -> ExitStatus {
    if runs.iter().any(|r| r.ending == Ending::Interrupted) {
        ExitStatus::Interrupted
    } else if runs
        .iter()
        .any(|r| matches!(r.ending, Ending::Unexpected | Ending::TimedOut))
    {
        ExitStatus::Unexpected
    } else {
        ExitStatus::Success
    }
}

/// What `status` reports.
#[derive(Debug, Serialize)]
pub struct Status {
    pub tools: Vec<ToolStatus>,
    pub cluster: ClusterStatus,
    pub steps: Vec<StepStatus>,
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
    pub variant: String,
    pub result: String,
    pub outcome: Option<String>,
    pub at: String,
    pub seconds: u64,
}

/// Runs `status`.
pub fn status(place: &Where, json: bool, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let (_, state, resolved) = open(place, world)?;
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
    let server = runner
        .run(&resolved.kube.version(), detect::PROBE_TIMEOUT)
        .ok()
        .filter(|o| o.success());
    let kubernetes = server
        .as_ref()
        .and_then(|o| kube::server_minor(&o.stdout))
        .map(|m| m.to_string());
    let lab = Lab::embedded().ok();
    Status {
        tools: vec![
            ToolStatus {
                name: "docker",
                version: docker_version,
                path: None,
            },
            tool("kind", kind),
            tool("kubectl", kubectl),
        ],
        cluster: ClusterStatus {
            context: resolved.kube.context.clone(),
            namespace: resolved.kube.namespace.clone(),
            kind_name: resolved.kind_name.clone(),
            reachable: server.is_some(),
            kubernetes,
            native_sidecars: state.cluster.as_ref().and_then(|c| c.native_sidecars),
        },
        steps: state
            .steps
            .iter()
            .map(|(number, record)| StepStatus {
                number: *number,
                title: lab
                    .as_ref()
                    .and_then(|lab| lab.step(usize::try_from(*number).unwrap_or(0)))
                    .map(|s| s.title.clone()),
                variant: record.variant.clone(),
                result: record.result.clone(),
                outcome: record.outcome.clone(),
                at: record.at.clone(),
                seconds: record.seconds,
            })
            .collect(),
    }
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
            step.variant,
            step.result,
            step.outcome.as_deref().unwrap_or("-"),
            step.at,
            step.seconds
        ));
    }
    out
}

/// Runs `down`: deletes the kind cluster (or, on an existing cluster, the lab's
/// objects in its namespace) and the lab's state.
pub fn down(place: &Where, yes: bool, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let (dir, _, resolved) = open(place, world)?;
    let (what, command) = match &resolved.kind_name {
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
    };
    if !prompt::confirm(
        &format!("This will {what}. Go ahead?"),
        yes,
        world.environment.stdin_is_terminal,
    ) {
        world.printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }
    world.printer.note(&format!("$ {command}"));
    let output = world
        .runner
        .run_shown(&command, std::time::Duration::from_secs(300))?;
    if !output.success() {
        return Err(anyhow!("`{command}` failed; its output is above"));
    }
    for file in lab_files(&dir) {
        std::fs::remove_file(&file)
            .with_context(|| format!("cannot remove `{}`", file.display()))?;
    }
    world.printer.note(&format!("✓ {what}: done"));
    Ok(ExitStatus::Success)
}

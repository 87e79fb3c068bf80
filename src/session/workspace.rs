//! The lab's workspace on this machine: where it runs (the place the user named), the
//! state directory and the state in it, the lab file, and how step results are kept.

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use crate::env::Environment;
use crate::exit::ExitStatus;
use crate::lab::Lab;
use crate::names::{ClusterName, NamespaceName};
use crate::session::lock;
use crate::session::state::{self, LabState, StepRecord};
use crate::session::step::{Ending, StepRun};
use crate::session::target::{self, Resolved};
use crate::ui::Printer;

/// Where the lab runs, as the user gave it.
#[derive(Clone, Debug)]
pub struct Where {
    pub context: Option<String>,
    pub namespace: Option<NamespaceName>,
    pub cluster: ClusterName,
}

/// The state directory, or an error that says how to get one.
pub fn state_dir(environment: &Environment) -> anyhow::Result<PathBuf> {
    environment.state_dir().ok_or_else(|| {
        anyhow!(
            "neither XDG_STATE_HOME nor HOME is set, so sidecar-lab has nowhere to keep its state"
        )
    })
}

/// Loads the lab state, saying so when an unreadable one was set aside.
pub fn load_state(printer: &Printer, dir: &Path) -> LabState {
    let (state, problem) = state::load(dir);
    if let Some(problem) = problem {
        printer.warn(&problem);
    }
    state
}

/// The state directory, the state in it, and where the lab runs.
pub fn open(
    place: &Where,
    environment: &Environment,
    printer: &Printer,
) -> anyhow::Result<(PathBuf, LabState, Resolved)> {
    let dir = state_dir(environment)?;
    let state = load_state(printer, &dir);
    let resolved = target::resolve(
        place.context.as_deref(),
        place.namespace.as_ref().map(NamespaceName::as_str),
        &place.cluster,
        &state,
    );
    Ok((dir, state, resolved))
}

/// The files the lab keeps in its state directory: the state, kind configs, manifests.
/// (dockerd's log stays: the daemon may still be writing it.)
#[allow(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "the lab names these files itself, in lower case; a `.YAML` file is not one of them"
)]
pub fn lab_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = crate::files::read_dir(dir) else {
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
        Some(path) => load_lab(path)?,
        None => Lab::embedded()?,
    })
}

/// Opens the lab file at `path` (only a regular file: `/dev/zero` or a FIFO is refused at
/// once) and reads and checks it.
fn load_lab(path: &Path) -> Result<Lab, crate::render::lab_file::LabError> {
    use crate::files::{OpenError, open_regular};
    use crate::render::lab_file::LabError;
    let name = path.display().to_string();
    let file = open_regular(path).map_err(|error| LabError::Read {
        path: name.clone(),
        source: match error {
            OpenError::Io(source) => source,
            not_regular @ OpenError::NotRegular => std::io::Error::other(not_regular.to_string()),
        },
    })?;
    Lab::read(file, &name)
}

/// Adds a step's result to the state.
pub fn record(state: &mut LabState, run: &StepRun, target: &crate::kube::Target) {
    state.steps.insert(
        run.number,
        StepRecord {
            variant: run.variant,
            result: run.ending,
            outcome: run.judgement.as_ref().map(|j| j.outcome),
            at: state::now().to_string(),
            seconds: run.seconds,
            context: Some(target.context.clone()),
            namespace: Some(target.namespace.clone()),
        },
    );
}

/// Records a step's result: under the state's lock, the state is read again right before
/// it is saved, so a step run at the same time (another `sidecar-lab step`) keeps its own.
/// The lock is held only for this write, not for the whole step: a step holding it (even
/// shared) would keep `down` and other steps waiting for minutes, and two shared holders
/// could not both turn it exclusive to write. Instead, `had_state` says whether the lab's
/// record existed when the step began: if it is gone now, a `down` took the lab away while
/// the step ran, and writing would bring back a state for a cluster that no longer exists.
pub fn save_step(
    dir: &Path,
    printer: &Printer,
    run: &StepRun,
    target: &crate::kube::Target,
    had_state: bool,
) -> anyhow::Result<()> {
    let _lock = lock::acquire(
        dir,
        &format!("sidecar-lab step {}", run.number),
        lock::STEP_WAIT,
        printer,
    )?;
    if had_state && !state::path(dir).exists() {
        printer.warn(&format!(
            "the lab was taken down while step {} ran (`{}` is gone), so its result is not recorded",
            run.number,
            state::path(dir).display()
        ));
        return Ok(());
    }
    let mut state = load_state(printer, dir);
    record(&mut state, run, target);
    state::save(dir, &state)
}

/// Waits (within `lock::STEP_WAIT`) until no other `up` works on the lab's state, so a
/// step does not start on a cluster that is still being made.
pub fn wait_for_up(dir: &Path, printer: &Printer, command: &str) -> anyhow::Result<()> {
    lock::acquire(dir, command, lock::STEP_WAIT, printer).map(drop)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::StepNumber;
    use crate::variant::Variant;

    fn printer() -> Printer {
        Printer::new(&Environment {
            no_color: true,
            ..Environment::default()
        })
    }

    fn run(number: u32) -> StepRun {
        StepRun {
            number: StepNumber(number),
            title: "a step".into(),
            variant: Variant::Sidecar,
            ending: Ending::Expected,
            judgement: None,
            seconds: 3,
            report: String::new(),
        }
    }

    /// A step that ends after `down` removed the lab's state does not bring it back; one
    /// that began without a state (a first step on a shared cluster) writes it.
    #[test]
    fn a_step_does_not_write_back_a_state_that_down_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = crate::kube::Target::kind("sidecar-lab", "default");
        save_step(dir.path(), &printer(), &run(1), &target, false).expect("first save");
        assert!(state::path(dir.path()).exists());
        // `down` runs while step 3 runs: the state it began with is gone.
        crate::files::remove_file(state::path(dir.path())).expect("down");
        save_step(dir.path(), &printer(), &run(3), &target, true).expect("skipped");
        assert!(!state::path(dir.path()).exists(), "written back after down");
        save_step(dir.path(), &printer(), &run(3), &target, false).expect("saved");
        let (state, problem) = state::load(dir.path());
        assert_eq!(problem, None);
        assert!(state.steps.contains_key(&StepNumber(3)));
    }
}

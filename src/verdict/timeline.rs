//! The container timeline: every run of every container (init, sidecar, app), merged
//! from all snapshots of the pod, with start and finish times and exit codes. Pure.

use k8s_openapi::api::core::v1::{ContainerState, ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;

use crate::verdict::containers::{Role, containers, waiting_reason};

/// One run of a container: from one start to its exit (or still running).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

/// One container and its runs, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub container: String,
    pub role: Role,
    pub runs: Vec<Run>,
    /// The waiting reason in the latest snapshot, such as `PodInitializing`.
    pub waiting: Option<String>,
}

/// All rows, init containers first, in the order of the pod spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    pub rows: Vec<Row>,
    /// When the pod was created: the start of the time axis.
    pub created: Option<Timestamp>,
    /// The latest time any snapshot mentions (a condition's transition, a container's
    /// start or finish): how far the observation reaches.
    pub observed: Option<Timestamp>,
}

impl Timeline {
    /// The timeline of a pod from its snapshots, oldest first.
    pub fn from_snapshots(snapshots: &[Pod]) -> Self {
        let Some(latest) = snapshots.last() else {
            return Self::default();
        };
        let mut rows: Vec<Row> = containers(latest)
            .iter()
            .map(|c| Row {
                container: c.name.to_owned(),
                role: c.role,
                runs: Vec::new(),
                waiting: c
                    .status
                    .and_then(waiting_reason)
                    .map(|(reason, _)| reason.to_owned()),
            })
            .collect();
        for snapshot in snapshots {
            for c in containers(snapshot) {
                let (Some(status), Some(row)) =
                    (c.status, rows.iter_mut().find(|r| r.container == c.name))
                else {
                    continue;
                };
                for run in runs_in(status) {
                    merge(&mut row.runs, run);
                }
            }
        }
        for row in &mut rows {
            row.runs.sort_by_key(|run| run.started.or(run.finished));
        }
        let created = latest.metadata.creation_timestamp.as_ref().map(|t| t.0);
        let condition_times = snapshots
            .iter()
            .filter_map(|p| p.status.as_ref()?.conditions.as_ref())
            .flatten()
            .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0));
        let run_times = rows
            .iter()
            .flat_map(|r| &r.runs)
            .flat_map(|r| [r.started, r.finished])
            .flatten();
        let observed = condition_times.chain(run_times).max();
        Self {
            rows,
            created,
            observed,
        }
    }

    /// The rows of one role.
    pub fn rows_of(&self, role: Role) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.role == role)
    }

    /// The latest time a container started or stopped: when the pod's current outcome
    /// began, by the containers' own clocks.
    pub fn last_run_change(&self) -> Option<Timestamp> {
        self.rows
            .iter()
            .flat_map(|r| &r.runs)
            .flat_map(|r| [r.started, r.finished])
            .flatten()
            .max()
    }

    /// When the first app container started.
    pub fn first_app_start(&self) -> Option<Timestamp> {
        self.rows_of(Role::App).filter_map(Row::first_start).min()
    }

    /// When the last app container finished its latest run.
    pub fn last_app_finish(&self) -> Option<Timestamp> {
        self.rows_of(Role::App)
            .filter_map(|r| r.last_run().and_then(|run| run.finished))
            .max()
    }

    /// The time axis: from the pod's creation (or the first start) to the latest
    /// observation; `None` when no container has run.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let runs = self.rows.iter().flat_map(|r| &r.runs);
        let first = runs
            .clone()
            .filter_map(|r| r.started.or(r.finished))
            .min()?;
        let last = runs.flat_map(|r| [r.started, r.finished]).flatten().max()?;
        let start = self.created.map_or(first, |created| created.min(first));
        let end = self.observed.map_or(last, |observed| observed.max(last));
        Some((start, end))
    }
}

impl Row {
    /// When the container first started.
    pub fn first_start(&self) -> Option<Timestamp> {
        self.runs.iter().filter_map(|r| r.started).min()
    }

    /// The latest run.
    pub fn last_run(&self) -> Option<&Run> {
        self.runs.last()
    }
}

/// The runs one status tells of: the previous one (`lastState`) and the current one.
fn runs_in(status: &ContainerStatus) -> Vec<Run> {
    [status.last_state.as_ref(), status.state.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(run_of)
        .collect()
}

fn run_of(state: &ContainerState) -> Option<Run> {
    if let Some(running) = &state.running {
        return Some(Run {
            started: running.started_at.as_ref().map(|t| t.0),
            finished: None,
            exit_code: None,
            reason: None,
        });
    }
    let terminated = state.terminated.as_ref()?;
    Some(Run {
        started: terminated.started_at.as_ref().map(|t| t.0),
        finished: terminated.finished_at.as_ref().map(|t| t.0),
        exit_code: Some(terminated.exit_code),
        reason: terminated.reason.clone(),
    })
}

/// Adds `run` to `runs`, completing the run with the same start if there is one.
fn merge(runs: &mut Vec<Run>, run: Run) {
    let same = runs.iter_mut().find(|r| match (r.started, run.started) {
        (Some(a), Some(b)) => a == b,
        (None, None) => r.finished == run.finished,
        _ => false,
    });
    match same {
        Some(existing) => {
            if run.finished.is_some() {
                existing.finished = run.finished;
                existing.exit_code = run.exit_code;
                existing.reason = run.reason;
            }
        }
        None => runs.push(run),
    }
}

//! The cluster as a step talks to it: the kubectl commands of `Target`, run through the
//! runner with their timeouts, and their answers read into typed values (a dump, the
//! refusal events, whether a Job was refused). Waits pass through the clock, so a test
//! drives a whole step against a scripted runner without sleeping.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::Event;

use super::{NamespaceFound, Target};
use crate::clock::Clock;
use crate::observe::dump::{self, Dump, Object};
use crate::runner::{CommandLine, Failed, Output, RunError, Runner, checked, checked_shown};

pub(crate) use super::KUBECTL_TIMEOUT;
/// Deleting a Job waits for its pods to go; the lab's pods stop within seconds.
pub(crate) const DELETE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the quota controller may take to write a new quota's status (until then
/// admission tracks nothing against it, so a pod the quota should refuse would be
/// admitted), and the Job controller to mark Jobs suspended.
pub(crate) const QUOTA_READY: Duration = Duration::from_secs(20);
/// Reading or creating the namespace.
pub(crate) const NAMESPACE_TIMEOUT: Duration = Duration::from_secs(60);
/// `down`'s delete of the lab's Jobs (it does not wait for their pods to go).
pub(crate) const DOWN_TIMEOUT: Duration = Duration::from_secs(300);
/// How often a wait asks again.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// One context and namespace, reached through a runner, waiting by a clock.
#[derive(Clone, Copy)]
pub(crate) struct Cluster<'a> {
    runner: &'a dyn Runner,
    clock: &'a dyn Clock,
    target: &'a Target,
}

/// What `kubectl apply` of a step's Job said.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The API server's `Warning:` lines (a warning refuses nothing).
    pub warnings: Vec<String>,
    pub answer: Answer,
}

/// Whether the object was stored.
#[derive(Debug)]
pub(crate) enum Answer {
    Created,
    /// The API server refused it: a result to judge (the step may teach it).
    Refused(String),
    /// Anything else (no connection, no permission): an error.
    Failed(Failed),
}

impl<'a> Cluster<'a> {
    pub(crate) fn new(runner: &'a dyn Runner, clock: &'a dyn Clock, target: &'a Target) -> Self {
        Self {
            runner,
            clock,
            target,
        }
    }

    pub(crate) fn clock(&self) -> &'a dyn Clock {
        self.clock
    }

    /// The context and namespace the commands go to.
    pub(crate) fn target(&self) -> &'a Target {
        self.target
    }

    /// Runs a read; its standard output when it succeeded.
    fn read(&self, command: &CommandLine) -> Option<String> {
        self.runner
            .run(command, KUBECTL_TIMEOUT)
            .ok()
            .filter(Output::success)
            .map(|o| o.stdout)
    }

    /// The server's minor version, when it answers.
    pub(crate) fn server_minor(&self) -> Option<crate::version::MinorVersion> {
        self.read(&self.target.version())
            .and_then(|stdout| super::server_minor(&stdout))
    }

    /// Whether the namespace exists; what kubectl said when that cannot be told.
    pub(crate) fn namespace_found(&self) -> NamespaceFound {
        match self
            .runner
            .run(&self.target.get_namespace(), NAMESPACE_TIMEOUT)
        {
            Ok(output) => super::namespace_found(output.success(), &output.stderr),
            Err(error) => NamespaceFound::Unknown(error.to_string()),
        }
    }

    /// Creates the namespace.
    pub(crate) fn create_namespace(&self) -> anyhow::Result<()> {
        checked(
            self.runner,
            &self.target.create_namespace(),
            NAMESPACE_TIMEOUT,
        )
        .map(drop)
    }

    /// Deletes the lab's Jobs in the namespace, kubectl's output shown as it goes.
    pub(crate) fn delete_lab_objects(&self) -> anyhow::Result<()> {
        checked_shown(self.runner, &self.target.delete_lab_objects(), DOWN_TIMEOUT)
    }

    /// The nodes as JSON, when they can be read.
    pub(crate) fn nodes(&self) -> Option<String> {
        self.read(&self.target.nodes())
    }

    /// Every pod that may hold a node's resources, as JSON, when they can be read.
    pub(crate) fn running_pods(&self) -> Option<String> {
        self.read(&self.target.running_pods())
    }

    /// Deletes a Job and its pods, if it exists, waiting until they are gone.
    pub(crate) fn delete_job(&self, name: &str) -> anyhow::Result<()> {
        checked(self.runner, &self.target.delete_job(name), DELETE_TIMEOUT).map(drop)
    }

    /// Applies a manifest that must be stored (a ResourceQuota).
    pub(crate) fn apply_checked(&self, manifest: &Path) -> anyhow::Result<()> {
        checked(self.runner, &self.target.apply(manifest), KUBECTL_TIMEOUT).map(drop)
    }

    /// Applies a step's Job: created, refused by the API server, or failed.
    pub(crate) fn apply(&self, manifest: &Path) -> Result<Applied, RunError> {
        self.applied(&self.target.apply(manifest))
    }

    /// A server-side dry run of applying a Job: what the API server would answer, with
    /// nothing stored. A `BadRequest` (a field the server cannot decode) is a refusal
    /// too: it is the server's answer to the manifest.
    pub(crate) fn apply_dry_run(&self, manifest: &Path) -> Result<Applied, RunError> {
        let mut applied = self.applied(&self.target.apply_dry_run(manifest))?;
        if let Answer::Failed(failed) = &applied.answer {
            if let Some(line) = failed
                .tail
                .lines()
                .find(|l| l.starts_with("Error from server (BadRequest)"))
            {
                applied.answer = Answer::Refused(line.trim().to_owned());
            }
        }
        Ok(applied)
    }

    fn applied(&self, command: &CommandLine) -> Result<Applied, RunError> {
        let command = command.clone();
        let output = self.runner.run(&command, KUBECTL_TIMEOUT)?;
        let warnings = crate::observe::refusal::api_warnings(&output.stderr);
        let answer = if output.success() {
            Answer::Created
        } else {
            match crate::observe::refusal::from_kubectl(&output.stderr) {
                Some(refusal) => Answer::Refused(refusal),
                None => Answer::Failed(Failed::of(&command, &output)),
            }
        };
        Ok(Applied { warnings, answer })
    }

    /// One observation of the objects with `label`: a dump, nothing when the answer is
    /// not one, or what went wrong in a line.
    pub(crate) fn dump(&self, label: &str) -> Result<Option<Dump>, String> {
        match self
            .runner
            .run(&self.target.observe(label), KUBECTL_TIMEOUT)
        {
            Ok(output) if output.success() => Ok(dump::parse(output.stdout.as_bytes()).ok()),
            Ok(output) => Err(format!(
                "kubectl: {}",
                output.stderr.lines().next().unwrap_or("failed")
            )),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The namespace's `FailedCreate` events (a quota's refusals), all of them, when they
    /// can be read.
    pub(crate) fn failed_create_events(&self) -> Option<Vec<Event>> {
        let stdout = self.read(&self.target.failed_create_events())?;
        let parsed = crate::yaml::from_str::<serde_json::Value>(&stdout).ok()?;
        Some(
            parsed
                .get("items")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| serde_json::from_value(e.clone()).ok())
                .collect(),
        )
    }

    /// Records exercise `number`'s progress in the namespace's ConfigMap (a file for a
    /// first create is written in `dir`): `kube::progress::save_progress`.
    pub(crate) fn save_progress(
        &self,
        dir: &Path,
        number: crate::lab::ExerciseNumber,
        record: &crate::lab::ExerciseRecord,
    ) -> anyhow::Result<()> {
        super::progress::save_progress(self.runner, self.target, dir, number, record)
    }

    /// The namespace's exercise records: `kube::progress::read_progress`.
    pub(crate) fn read_progress(&self) -> anyhow::Result<crate::lab::progress_map::Progress> {
        super::progress::read_progress(self.runner, self.target)
    }

    /// Suspends a Job: the Job controller makes no pod for it any more.
    pub(crate) fn suspend_job(&self, name: &str) -> anyhow::Result<()> {
        checked(self.runner, &self.target.suspend_job(name), KUBECTL_TIMEOUT).map(drop)
    }

    /// Deletes a ResourceQuota, if it exists.
    pub(crate) fn delete_quota(&self, name: &str) -> anyhow::Result<()> {
        checked(
            self.runner,
            &self.target.delete_quota(name),
            KUBECTL_TIMEOUT,
        )
        .map(drop)
    }

    /// Waits (up to `QUOTA_READY`) until the quota controller has written the quota's
    /// status, so that the first pods are judged by the quota, not refused because its
    /// status is unknown.
    pub(crate) fn wait_for_quota(&self, name: &str, interrupted: &AtomicBool) {
        let command = self.target.get_quota(name);
        self.wait_until(interrupted, || {
            self.read(&command)
                .and_then(|o| serde_json::from_str::<serde_json::Value>(&o).ok())
                .is_some_and(|q| q.pointer("/status/hard").is_some())
        });
    }

    /// Waits (up to `QUOTA_READY`) until every Job in `names`, among the objects with
    /// `label`, has `Suspended=True`.
    pub(crate) fn wait_until_suspended(
        &self,
        label: &str,
        names: &[&str],
        interrupted: &AtomicBool,
    ) {
        if names.is_empty() {
            return;
        }
        let command = self.target.observe(label);
        self.wait_until(interrupted, || {
            self.read(&command)
                .and_then(|o| dump::parse(o.as_bytes()).ok())
                .is_some_and(|dump| names.iter().all(|name| suspended(&dump, name)))
        });
    }

    /// Asks `done` every `WAIT_POLL` until it says yes, the user interrupts, or
    /// `QUOTA_READY` has passed.
    fn wait_until(&self, interrupted: &AtomicBool, mut done: impl FnMut() -> bool) {
        let start = self.clock.now();
        while self.clock.now().duration_since(start) < QUOTA_READY {
            if done() || interrupted.load(Ordering::SeqCst) {
                return;
            }
            self.clock.sleep(WAIT_POLL);
        }
    }
}

/// Whether the dump holds Job `name` with `Suspended=True`.
fn suspended(dump: &Dump, name: &str) -> bool {
    dump.objects.iter().any(|o| match o {
        Object::Job(job) => {
            job.metadata.name.as_deref() == Some(name)
                && crate::verdict::outcome::job_condition(job, "Suspended").is_some()
        }
        Object::Pod(_) => false,
    })
}

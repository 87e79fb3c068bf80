//! Carrying out an install plan: verified downloads for kind and kubectl, the Docker
//! steps through the package manager. Fails on the first tool that could not be
//! installed, naming it; says when the bin dir is not on PATH.

use std::path::Path;

use anyhow::{Context, anyhow};

use crate::env::Environment;
use crate::http::LazyHttpClient;
use crate::install::docker::DockerPlan;
use crate::install::download::{self, Event, Progress, Report, RetryPolicy};
use crate::install::execute;
use crate::install::plan::Action;
use crate::install::prepare::Prepared;
use crate::runner::Runner;

/// Where the files a plan takes from elsewhere (a bundle) come from: the caller opened it
/// and places its files; the installer names only the file and where it goes.
pub(crate) trait Supply {
    /// Places the file at `path` at `destination`, executable, checked against its digest.
    fn place(&self, path: &str, destination: &Path, progress: &dyn Progress) -> anyhow::Result<()>;
}

/// How the installer is heard: download progress, and what it did.
#[derive(Clone, Copy)]
pub(crate) struct Heard<'a> {
    pub progress: &'a dyn Progress,
    pub report: &'a dyn Report,
}

/// Installs what `prepared` plans (kind and kubectl from `supply` where it says so).
pub(crate) fn apply(
    prepared: &Prepared,
    supply: Option<&dyn Supply>,
    environment: &Environment,
    runner: &dyn Runner,
    http: &LazyHttpClient,
    heard: Heard<'_>,
) -> anyhow::Result<()> {
    let client = http.get()?;
    let Heard { progress, report } = heard;
    let mut cannot = Vec::new();
    for action in &prepared.plan.actions {
        match action {
            Action::Fine { .. } | Action::Docker(DockerPlan::Fine { .. }) => {}
            Action::Download(d) => {
                download::install(client, d, progress, RetryPolicy::default())
                    .with_context(|| format!("{} {} was not installed", d.tool, d.version))?;
            }
            Action::FromBundle {
                tool,
                bundled,
                destination,
            } => {
                let supply = supply.ok_or_else(|| {
                    anyhow!("{tool} is to come from a bundle, but none was opened")
                })?;
                supply.place(&bundled.path, destination, progress)?;
                report.report(Event::FromBundle {
                    tool: *tool,
                    version: &bundled.version,
                    destination,
                    sha256: &bundled.sha256,
                });
            }
            Action::Docker(DockerPlan::Steps { steps, notes, .. }) => {
                execute::steps(steps, runner, client, report, &prepared.state_dir)?;
                for n in notes {
                    report.report(Event::PlanNote(n));
                }
            }
            Action::Docker(DockerPlan::Cannot(reason)) => cannot.push(format!("docker: {reason}")),
            Action::Cannot { tool, reason } => cannot.push(format!("{tool}: {reason}")),
        }
    }
    let downloaded = prepared
        .plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::Download(_) | Action::FromBundle { .. }));
    if downloaded && !environment.on_path(&prepared.bin_dir) {
        report.report(Event::NotOnPath {
            bin_dir: &prepared.bin_dir,
        });
    }
    if cannot.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(
            "could not install everything: {}",
            cannot.join("; ")
        ))
    }
}

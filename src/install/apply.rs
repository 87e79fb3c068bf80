//! Carrying out an install plan: verified downloads for kind and kubectl, the Docker
//! steps through the package manager. Fails on the first tool that could not be
//! installed, naming it; says when the bin dir is not on PATH.

use anyhow::{Context, anyhow};

use crate::bundle::source::Bundle;
use crate::env::Environment;
use crate::http::HttpClient;
use crate::install::docker::DockerPlan;
use crate::install::download::{self, RetryPolicy};
use crate::install::execute;
use crate::install::plan::Action;
use crate::install::prepare::Prepared;
use crate::runner::Runner;
use crate::ui::Printer;
use crate::ui::progress::DownloadProgress;

/// Installs what `prepared` plans (kind and kubectl from `bundle` where it says so).
pub fn apply(
    prepared: &Prepared,
    bundle: Option<&Bundle>,
    environment: &Environment,
    runner: &dyn Runner,
    printer: &Printer,
) -> anyhow::Result<()> {
    let client = HttpClient::new()?;
    let progress = DownloadProgress::new(*printer);
    let mut cannot = Vec::new();
    for action in &prepared.plan.actions {
        match action {
            Action::Fine { .. } => {}
            Action::Download(d) => {
                download::install(&client, d, &progress, RetryPolicy::default())
                    .with_context(|| format!("{} {} was not installed", d.tool, d.version))?;
            }
            Action::FromBundle {
                tool,
                bundled,
                destination,
            } => {
                let bundle = bundle.ok_or_else(|| {
                    anyhow!("{tool} is to come from a bundle, but none was opened")
                })?;
                bundle.install(&bundled.path, destination, &progress)?;
                printer.note(&format!(
                    " ✓ {tool} {} from the bundle to {} (sha256 {})",
                    bundled.version,
                    destination.display(),
                    bundled.sha256
                ));
            }
            Action::Docker(DockerPlan::Steps { steps, notes, .. }) => {
                execute::steps(steps, runner, &client, printer, &prepared.state_dir)?;
                notes
                    .iter()
                    .for_each(|n| printer.note(&format!("note: {n}")));
            }
            Action::Docker(DockerPlan::Cannot(reason)) => cannot.push(format!("docker: {reason}")),
            Action::Docker(DockerPlan::Fine { .. }) => {}
            Action::Cannot { tool, reason } => cannot.push(format!("{tool}: {reason}")),
        }
    }
    let downloaded = prepared
        .plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::Download(_) | Action::FromBundle { .. }));
    if downloaded && !environment.on_path(&prepared.bin_dir) {
        printer.warn(&format!(
            "`{0}` is not on PATH: add `export PATH=\"{0}:$PATH\"` to ~/.profile (and run it in this shell)",
            prepared.bin_dir.display()
        ));
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

//! The install plan as people read it.

use crate::install::docker::DockerPlan;
use crate::install::plan::{Action, Plan};
use crate::install::step::HostStep;
use crate::platform::{Distro, Platform};
use crate::runner::CommandLine;

/// The plan as people read it.
pub fn describe(plan: &Plan, platform: Platform, distro: Option<&Distro>) -> String {
    // Plain text: names and URLs come from bundles, mirrors and the host.
    crate::ui::clean::clean(&describe_raw(plan, platform, distro)).into_owned()
}

fn describe_raw(plan: &Plan, platform: Platform, distro: Option<&Distro>) -> String {
    let host = distro.map_or(platform.to_string(), |d| {
        format!("{platform}, {}", d.name())
    });
    let mut out = format!("Install plan ({host}):\n");
    for action in &plan.actions {
        match action {
            Action::Fine { tool, detail } => {
                out.push_str(&format!("  {:8} ok        {detail}\n", tool.name()))
            }
            Action::Download(d) => {
                let check = match &d.pinned_sha256 {
                    Some(pin) => format!(
                        "sha256 pinned {}…, checked against {}",
                        &pin[..12],
                        file_name(&d.checksum_url)
                    ),
                    None => format!("sha256 from {}", file_name(&d.checksum_url)),
                };
                out.push_str(&format!(
                    "  {:8} download  {} from {}\n                     to {} ({check})\n",
                    d.tool.name(),
                    d.version,
                    d.url,
                    d.destination.display()
                ));
            }
            Action::FromBundle {
                tool,
                bundled,
                destination,
            } => {
                out.push_str(&format!(
                    "  {:8} bundle    {} from the bundle's {}\n                     to {} (sha256 {}…, checked first)\n",
                    tool.name(),
                    bundled.version,
                    bundled.path,
                    destination.display(),
                    &bundled.sha256[..12.min(bundled.sha256.len())]
                ));
            }
            Action::Docker(DockerPlan::Steps { why, steps, notes }) => {
                out.push_str(&format!("  docker   install   {why}:\n"));
                for step in steps {
                    out.push_str(&format!("                     {}\n", describe_step(step)));
                }
                for note in notes {
                    out.push_str(&format!("                     note: {note}\n"));
                }
            }
            Action::Docker(DockerPlan::Fine { server }) => {
                out.push_str(&format!("  docker   ok        daemon {server}\n"))
            }
            Action::Docker(DockerPlan::Cannot(reason)) => {
                out.push_str(&format!("  docker   cannot    {reason}\n"))
            }
            Action::Cannot { tool, reason } => {
                out.push_str(&format!("  {:8} cannot    {reason}\n", tool.name()))
            }
        }
    }
    for note in &plan.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

pub fn describe_step(step: &HostStep) -> String {
    // Plain text: commands and URLs come from bundles, mirrors and the host.
    crate::ui::clean::clean(&describe_step_raw(step)).into_owned()
}

fn describe_step_raw(step: &HostStep) -> String {
    match step {
        HostStep::Run(command) => format!("$ {command}"),
        HostStep::RunConvenienceScript { url, is_root } => {
            format!(
                "$ {}   (the script from {url})",
                CommandLine::new("sh", ["get-docker.sh"]).as_root(*is_root)
            )
        }
        HostStep::StartDockerd { command, log } => {
            format!("$ {command} >>{} 2>&1 &", log.display())
        }
        HostStep::WriteFile { path, .. } => format!("write {}", path.display()),
        HostStep::WaitForDaemon { through_sudo } => format!(
            "then wait until `{}` answers",
            CommandLine::new("docker", ["info"]).as_root(!through_sudo)
        ),
    }
}

fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

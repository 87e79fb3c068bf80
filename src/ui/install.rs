//! The install plan as people read it, and what the installer reports as it works.

use crate::install::docker::DockerPlan;
use crate::install::download::{Event, Report};
use crate::install::plan::{Action, Plan};
use crate::install::step::HostStep;
use crate::platform::{Distro, Platform};
use crate::runner::CommandLine;
use crate::ui::Printer;

/// The plan as people read it.
pub(crate) fn describe(plan: &Plan, platform: Platform, distro: Option<&Distro>) -> String {
    // Plain text: names and URLs come from bundles, mirrors and the host.
    crate::ui::text::clean(&describe_raw(plan, platform, distro)).into_owned()
}

fn describe_raw(plan: &Plan, platform: Platform, distro: Option<&Distro>) -> String {
    let host = distro.map_or(platform.to_string(), |d| {
        format!("{platform}, {}", d.name())
    });
    let mut out = format!("Install plan ({host}):\n");
    for action in &plan.actions {
        match action {
            Action::Fine { tool, detail } => {
                out.push_str(&format!("  {:8} ok        {detail}\n", tool.name()));
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
                out.push_str(&format!("  docker   ok        daemon {server}\n"));
            }
            Action::Docker(DockerPlan::Cannot(reason)) => {
                out.push_str(&format!("  docker   cannot    {reason}\n"));
            }
            Action::Cannot { tool, reason } => {
                out.push_str(&format!("  {:8} cannot    {reason}\n", tool.name()));
            }
        }
    }
    for note in &plan.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

pub(crate) fn describe_step(step: &HostStep) -> String {
    // Plain text: commands and URLs come from bundles, mirrors and the host.
    crate::ui::text::clean(&describe_step_raw(step)).into_owned()
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

/// An installer's event as the line people read.
pub(crate) fn event_line(event: &Event<'_>) -> String {
    match event {
        Event::FromBundle {
            tool,
            version,
            destination,
            sha256,
        } => format!(
            " ✓ {tool} {version} from the bundle to {} (sha256 {sha256})",
            destination.display()
        ),
        Event::PlanNote(note) => format!("note: {note}"),
        Event::NotOnPath { bin_dir } => format!(
            "`{0}` is not on PATH: add `export PATH=\"{0}:$PATH\"` to ~/.profile (and run it in this shell)",
            bin_dir.display()
        ),
        Event::Running(command) => format!("$ {command}"),
        Event::Detached { command, log } => format!("$ {command} >>{} 2>&1 &", log.display()),
        Event::ConvenienceScript => "get.docker.com: Docker's convenience script adds Docker's apt or dnf repository and installs the latest Docker CE without asking; it is not meant for upgrading an existing Docker".to_owned(),
        Event::DaemonAnswers(version) => {
            format!("✓ the Docker daemon answers (version {version})")
        }
    }
}

/// The terminal hears the installer: a bin dir off PATH is a warning, the rest notes.
impl Report for Printer {
    fn report(&self, event: Event<'_>) {
        let line = event_line(&event);
        match event {
            Event::NotOnPath { .. } => self.warn(&line),
            _ => self.note(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn installer_events_read_as_the_lines_install_always_printed() {
        let command = CommandLine::new("dockerd", Vec::<String>::new()).as_root(false);
        let log = Path::new("/var/log/dockerd.log");
        assert_eq!(
            event_line(&Event::Detached {
                command: &command,
                log
            }),
            "$ sudo dockerd >>/var/log/dockerd.log 2>&1 &"
        );
        assert_eq!(
            event_line(&Event::DaemonAnswers("28.2.2")),
            "✓ the Docker daemon answers (version 28.2.2)"
        );
        assert_eq!(
            event_line(&Event::NotOnPath {
                bin_dir: Path::new("/home/u/.local/bin")
            }),
            "`/home/u/.local/bin` is not on PATH: add `export PATH=\"/home/u/.local/bin:$PATH\"` to ~/.profile (and run it in this shell)"
        );
    }
}

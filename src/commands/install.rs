//! `sidecar-lab install`: detect what is there, print the plan, confirm once, then
//! install — Docker through the package manager, kind and kubectl as verified downloads.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::app::ExitStatus;
use crate::commands::World;
use crate::env::Environment;
use crate::http::HttpClient;
use crate::install::detect::{self, DockerStatus};
use crate::install::docker::{DockerHost, DockerPlan, DockerSource};
use crate::install::download::{self, RetryPolicy};
use crate::install::plan::{self, Action, Installed, Plan, Request};
use crate::install::step::HostStep;
use crate::install::urls::Mirror;
use crate::install::{Tool, execute};
use crate::matrix::VersionMatrix;
use crate::platform::{Distro, Platform};
use crate::runner::{CommandLine, Runner};
use crate::ui::progress::DownloadProgress;
use crate::ui::prompt;
use crate::version::{MinorVersion, ReleaseVersion};

/// `install`'s arguments, free of clap.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Empty means all three.
    pub tools: Vec<Tool>,
    pub kubernetes: Option<MinorVersion>,
    pub kind_version: Option<ReleaseVersion>,
    pub kubectl_version: Option<ReleaseVersion>,
    pub mirror: Option<String>,
    pub bin_dir: Option<PathBuf>,
    pub docker_source: DockerSource,
    pub dry_run: bool,
    pub yes: bool,
}

/// Runs `install`.
pub fn install(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let World {
        environment,
        printer,
        runner,
    } = world;
    let matrix = VersionMatrix::embedded()?;
    let release = matrix.release_or_default(settings.kubernetes)?;
    let (kind, kubectl) = plan::versions(release, settings.kind_version, settings.kubectl_version);
    let platform = platform(environment)?;
    let bin_dir = match &settings.bin_dir {
        Some(dir) => dir.clone(),
        None => environment.default_bin_dir().ok_or_else(|| {
            anyhow!("HOME is not set, so there is no default ~/.local/bin: pass --bin-dir DIR")
        })?,
    };
    let state_dir = environment
        .state_dir()
        .unwrap_or_else(|| PathBuf::from(".sidecar-lab"));
    let mirror = settings.mirror.as_deref().map(Mirror::parse).transpose()?;
    let tools = if settings.tools.is_empty() {
        Tool::ALL.to_vec()
    } else {
        settings.tools.clone()
    };
    let request = Request {
        tools: tools.clone(),
        kind,
        kubectl,
        kubectl_for: settings.kubectl_version.is_none().then_some(release.minor),
        bin_dir: bin_dir.clone(),
        mirror,
        docker_source: settings.docker_source,
    };

    let docker_host = docker_host(environment, *runner, platform, &state_dir);
    let path = environment.path.as_deref();
    let docker = if tools.contains(&Tool::Docker) {
        detect::probe_docker(*runner, path, detect::PROBE_TIMEOUT)
    } else {
        DockerStatus::Missing
    };
    let (kind_found, kubectl_found) = if tools.iter().any(|t| *t != Tool::Docker) {
        detect::probe_binaries(*runner, &bin_dir, path)
    } else {
        (None, None)
    };
    let installed = Installed {
        docker,
        kind: kind_found,
        kubectl: kubectl_found,
    };
    let plan = plan::plan(&request, platform, &docker_host, &installed, &matrix);

    // The distribution matters only for Docker.
    let distro = docker_host
        .distro
        .as_ref()
        .filter(|_| tools.contains(&Tool::Docker));
    printer.out(&describe(&plan, platform, distro));
    if settings.dry_run {
        return Ok(ExitStatus::Success);
    }
    if plan.is_noop() {
        printer.note("nothing to install");
        return Ok(ExitStatus::Success);
    }
    if !prompt::confirm("Go ahead?", settings.yes, environment.stdin_is_terminal) {
        printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }
    let client = HttpClient::new()?;
    let progress = DownloadProgress::new(**printer);
    let mut cannot = Vec::new();
    for action in &plan.actions {
        match action {
            Action::Fine { .. } => {}
            Action::Download(d) => {
                download::install(&client, d, &progress, RetryPolicy::default())
                    .with_context(|| format!("{} {} was not installed", d.tool, d.version))?;
            }
            Action::Docker(DockerPlan::Steps { steps, notes, .. }) => {
                execute::steps(steps, *runner, &client, printer, &state_dir)?;
                notes
                    .iter()
                    .for_each(|n| printer.note(&format!("note: {n}")));
            }
            Action::Docker(DockerPlan::Cannot(reason)) => cannot.push(format!("docker: {reason}")),
            Action::Docker(DockerPlan::Fine { .. }) => {}
            Action::Cannot { tool, reason } => cannot.push(format!("{tool}: {reason}")),
        }
    }
    let downloaded = plan
        .actions
        .iter()
        .any(|a| matches!(a, Action::Download(_)));
    if downloaded && !environment.on_path(&bin_dir) {
        printer.warn(&format!(
            "`{0}` is not on PATH: add `export PATH=\"{0}:$PATH\"` to ~/.profile (and run it in this shell)",
            bin_dir.display()
        ));
    }
    match cannot.is_empty() {
        true => Ok(ExitStatus::Success),
        false => Err(anyhow!(
            "could not install everything: {}",
            cannot.join("; ")
        )),
    }
}

/// The plan as people read it.
pub fn describe(plan: &Plan, platform: Platform, distro: Option<&Distro>) -> String {
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

fn describe_step(step: &HostStep) -> String {
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

fn platform(environment: &Environment) -> anyhow::Result<Platform> {
    match &environment.platform_override {
        Some(text) => text
            .parse()
            .with_context(|| format!("{} is `{text}`", crate::env::vars::PLATFORM)),
        None => Ok(Platform::of_this_build()?),
    }
}

/// The host facts the Docker plan needs. Root is asked of `id -u`, which every Unix has.
pub fn docker_host(
    environment: &Environment,
    runner: &dyn Runner,
    platform: Platform,
    state_dir: &Path,
) -> DockerHost {
    let is_root = runner
        .run(&CommandLine::new("id", ["-u"]), detect::PROBE_TIMEOUT)
        .is_ok_and(|o| o.success() && o.stdout.trim() == "0");
    let distro = std::fs::read_to_string("/etc/os-release")
        .ok()
        .map(|text| Distro::parse_os_release(&text));
    DockerHost {
        platform,
        distro,
        is_root,
        systemd: Path::new("/run/systemd/system").is_dir(),
        user: environment.user.clone().filter(|user| user != "root"),
        state_dir: state_dir.to_path_buf(),
    }
}

//! Reading the host for an install: what the user asked for, resolved against the
//! version matrix, what is installed already, and the plan that follows (pure planner,
//! `plan.rs`). Only read-only commands run here.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::env::Environment;
use crate::install::Tool;
use crate::install::detect::{self, DockerStatus};
use crate::install::docker::{DockerHost, DockerSource};
use crate::install::plan::{self, Installed, Plan, Request};
use crate::install::urls::Mirror;
use crate::matrix::VersionMatrix;
use crate::platform::{Distro, Platform};
use crate::runner::{CommandLine, Runner};
use crate::version::{MinorVersion, ReleaseVersion};

/// `install`'s arguments, free of clap.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
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
    /// What a bundle offers for kind and kubectl, per tool, for this platform.
    pub bundled: Option<Vec<(Tool, plan::Offer)>>,
    /// The bundle they come from, as named on the command line.
    pub bundle: Option<String>,
}

/// What an install will do, and where.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub plan: Plan,
    pub platform: Platform,
    /// The distribution, when Docker is one of the tools.
    pub distro: Option<Distro>,
    pub bin_dir: PathBuf,
    pub state_dir: PathBuf,
}

/// Reads what is installed and plans the install `settings` asks for, its versions and
/// pins from `matrix`.
pub(crate) fn prepare(
    settings: &Settings,
    matrix: &VersionMatrix,
    environment: &Environment,
    runner: &dyn Runner,
) -> anyhow::Result<Prepared> {
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
        bundled: settings.bundled.clone(),
        bin_dir: bin_dir.clone(),
        mirror,
        allow_http: environment.allow_http,
        docker_source: settings.docker_source,
    };
    let docker_host = docker_host(environment, runner, platform, &state_dir);
    let path = environment.path.as_deref();
    let docker = if tools.contains(&Tool::Docker) {
        detect::probe_docker(runner, path, detect::PROBE_TIMEOUT)
    } else {
        DockerStatus::Missing
    };
    let (kind_found, kubectl_found) = if tools.iter().any(|t| *t != Tool::Docker) {
        detect::probe_binaries(runner, &bin_dir, path)
    } else {
        (None, None)
    };
    let installed = Installed {
        docker,
        kind: kind_found,
        kubectl: kubectl_found,
    };
    let plan = plan::plan(&request, platform, &docker_host, &installed, matrix);
    Ok(Prepared {
        plan,
        platform,
        distro: docker_host.distro.filter(|_| tools.contains(&Tool::Docker)),
        bin_dir,
        state_dir,
    })
}

pub(crate) fn platform(environment: &Environment) -> anyhow::Result<Platform> {
    match &environment.platform_override {
        Some(text) => text
            .parse()
            .with_context(|| format!("{} is `{text}`", crate::env::vars::PLATFORM)),
        None => Ok(Platform::of_this_build()?),
    }
}

/// The host facts the Docker plan needs. Root is asked of `id -u`, which every Unix has.
pub(crate) fn docker_host(
    environment: &Environment,
    runner: &dyn Runner,
    platform: Platform,
    state_dir: &Path,
) -> DockerHost {
    let is_root = runner
        .run(&CommandLine::new("id", ["-u"]), detect::PROBE_TIMEOUT)
        .is_ok_and(|o| o.success() && o.stdout.trim() == "0");
    let distro = crate::files::read_to_string("/etc/os-release")
        .ok()
        .map(|text| Distro::parse_os_release(&text));
    DockerHost {
        platform,
        distro,
        is_root,
        systemd: Path::new("/run/systemd/system").is_dir(),
        user: environment.user.clone().filter(|user| user != "root"),
        state_dir: state_dir.to_path_buf(),
        dockerd: detect::find_dockerd(environment.path.as_deref()),
    }
}

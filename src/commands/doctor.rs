//! `sidecar-lab doctor`: run the preflight checks, report them (text or JSON), and with
//! `--fix` apply the safe fixes, each confirmed unless `--yes`.

use std::path::PathBuf;

use crate::commands::World;
use crate::doctor::checks::{self, Target};
use crate::doctor::gather::Facts;
use crate::doctor::{Check, any_failed, fix, gather};
use crate::exit::ExitStatus;
use crate::install::execute;
use crate::install::prepare::docker_host;
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::names::ClusterName;
use crate::platform::Platform;
use crate::ui::prompt;
use crate::version::MinorVersion;

/// `doctor`'s arguments, free of clap, resolved by the dispatcher.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The release `--kubernetes` chose, or the default one.
    pub release: KubernetesRelease,
    pub cluster_name: ClusterName,
    pub fix: bool,
    pub yes: bool,
    pub json: bool,
    /// A bundle to check against this host (`--bundle`).
    pub bundle: Option<String>,
}

/// Runs the checks (and the fixes); exit 1 when a check still fails. A bundle's pins are
/// checked against `matrix`.
pub(crate) fn doctor(
    settings: &Settings,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let World {
        environment,
        printer,
        runner,
        ..
    } = world;
    let release = &settings.release;
    let target = Target {
        kubernetes: release.minor,
        cluster_name: settings.cluster_name.to_string(),
    };
    let bin_dir = environment
        .default_bin_dir()
        .unwrap_or_else(|| PathBuf::from(".local/bin"));
    let mut facts = gather::gather(environment, *runner, &bin_dir);
    let mut report = checks::all(&facts, &target);
    if let Some(location) = &settings.bundle {
        report.push(bundle_check(location, release.minor, matrix, world));
    }

    if settings.fix && apply_fixes(settings, world, &report, &facts)? {
        facts = gather::gather(environment, *runner, &bin_dir);
        report = checks::all(&facts, &target);
    }

    if let (Some(location), true) = (&settings.bundle, settings.fix) {
        report.retain(|c| c.id != "bundle");
        report.push(bundle_check(location, release.minor, matrix, world));
    }
    if settings.json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        printer.out(&text);
    } else {
        printer.out(&text(&report, &target, &printer.stdout_palette()));
    }
    Ok(if any_failed(&report) {
        ExitStatus::Unexpected
    } else {
        ExitStatus::Success
    })
}

pub(crate) use crate::ui::doctor::text;

/// `--fix`: plans the fixes the report calls for, asks for each, applies it; says
/// whether there were any (the checks are then run again).
fn apply_fixes(
    settings: &Settings,
    world: &World<'_>,
    report: &[Check],
    facts: &Facts,
) -> anyhow::Result<bool> {
    let World {
        environment,
        printer,
        runner,
        ..
    } = world;
    let state_dir = environment
        .state_dir()
        .unwrap_or_else(|| PathBuf::from(".sidecar-lab"));
    let platform = facts
        .platform
        .clone()
        .and_then(Result::ok)
        .or_else(|| Platform::of_this_build().ok());
    let Some(platform) = platform else {
        return Ok(false);
    };
    let host = docker_host(environment, *runner, platform, &state_dir);
    let fixes = fix::plan(report, facts, &host);
    if fixes.is_empty() {
        printer.note("nothing that doctor --fix can fix");
    }
    let client = world.http.get()?;
    for fix in &fixes {
        printer.note(&format!("fix: {}", fix.title));
        if !prompt::confirm(
            &format!("Apply: {}?", fix.title),
            settings.yes,
            environment.stdin_is_terminal,
        ) {
            printer.note("skipped");
            continue;
        }
        if let Err(error) = execute::steps(&fix.steps, *runner, client, *printer, &state_dir) {
            printer.error(&crate::exit::one_line(&error));
        }
    }
    Ok(!fixes.is_empty())
}

/// The `bundle` check: the bundle opens and carries this platform and Kubernetes minor,
/// pinned by `matrix`.
fn bundle_check(
    location: &str,
    minor: MinorVersion,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> crate::doctor::Check {
    use crate::doctor::Check;
    let fits = crate::bundle::open(location, matrix, world).and_then(|bundle| {
        let platform = crate::bundle::this_platform(world)?;
        crate::bundle::load::entry(&bundle, minor, &platform, matrix)?;
        Ok((bundle.describe(), platform))
    });
    match fits {
        Ok((bundle, platform)) => Check::pass(
            "bundle",
            format!("{bundle} carries Kubernetes {minor} for {platform}"),
        ),
        Err(error) => Check::fail(
            "bundle",
            crate::exit::one_line(&error),
            Some("make the bundle for this machine: sidecar-lab bundle create -k 1.NN --platform OS-ARCH".into()),
        ),
    }
}

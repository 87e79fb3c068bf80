//! `sidecar-lab install`: detect what is there, print the plan, confirm once, then
//! install — Docker through the package manager, kind and kubectl as verified downloads.

use crate::bundle::load;
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::install::apply::{Heard, Supply, apply};
use crate::install::plan;
use crate::install::prepare::{Settings, prepare};
use crate::matrix::VersionMatrix;
use crate::ui::install::describe;
use crate::ui::progress::DownloadProgress;

/// Runs `install`, its versions and pins from `matrix`.
pub(crate) fn install(
    settings: &Settings,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let bundle = settings
        .bundle
        .as_deref()
        .map(|location| crate::bundle::open(location, matrix, world))
        .transpose()?;
    let mut settings = settings.clone();
    if let Some(bundle) = &bundle {
        let release = matrix.release_or_default(settings.kubernetes)?;
        let (kind, kubectl) =
            plan::versions(release, settings.kind_version, settings.kubectl_version);
        let platform = crate::bundle::this_platform(world)?;
        settings.bundled = Some(load::binaries(bundle, &platform, kind, kubectl, matrix));
    }
    let settings = &settings;
    let prepared = prepare(settings, matrix, world.environment, world.runner)?;
    world.printer.out(&describe(
        &prepared.plan,
        prepared.platform,
        prepared.distro.as_ref(),
    ));
    if settings.dry_run {
        return Ok(ExitStatus::Success);
    }
    if prepared.plan.is_noop() {
        world.printer.note("nothing to install");
        return Ok(ExitStatus::Success);
    }
    if !crate::commands::go_ahead(settings.yes, world) {
        return Ok(ExitStatus::UsageOrSetup);
    }
    let progress = DownloadProgress::new(*world.printer);
    let heard = Heard {
        progress: &progress,
        report: world.printer,
    };
    let supply = bundle.as_ref().map(|b| b as &dyn Supply);
    apply(
        &prepared,
        supply,
        world.environment,
        world.runner,
        world.http,
        heard,
    )?;
    Ok(ExitStatus::Success)
}

//! The bundle's images: pulled for a platform unless Docker has them, tagged, saved
//! by tag into an archive through a partial file, and their layers read back, each pull
//! and save a phase on the terminal.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};

use crate::clock::Clock;
use crate::platform::Platform;
use crate::runner::{CommandLine, Runner, checked};
use crate::ui::Printer;
use crate::ui::phase::Phase;

/// Pulls and saves can move gigabytes over a poor network.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What pulls and saves images: Docker through the runner, each one a phase on the
/// terminal timed by the clock.
#[derive(Clone, Copy)]
pub(crate) struct Docker<'a> {
    pub runner: &'a dyn Runner,
    pub printer: Printer,
    pub clock: &'a dyn Clock,
}

/// Pulls each `(reference, tag)` (unless Docker has it), tags it, and saves them all by
/// tag into `archive`; returns each image's `RootFS.Layers`.
pub(crate) fn save_images(
    docker: Docker<'_>,
    platform: Platform,
    images: &[(String, String)],
    archive: &Path,
) -> anyhow::Result<Vec<Vec<String>>> {
    let docker_platform = format!("linux/{}", platform.arch.name());
    let mut layers = Vec::new();
    for (reference, tag) in images {
        layers.push(pull(docker, &docker_platform, reference, tag)?);
    }
    if let Some(dir) = archive.parent() {
        crate::files::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let tags: Vec<&str> = images.iter().map(|(_, t)| t.as_str()).collect();
    save(docker, &docker_platform, &tags, archive)?;
    Ok(layers)
}

/// Pulls `reference` for `docker_platform` unless Docker has it, tags it `tag`; returns
/// its `RootFS.Layers`.
fn pull(
    docker: Docker<'_>,
    docker_platform: &str,
    reference: &str,
    tag: &str,
) -> anyhow::Result<Vec<String>> {
    let Docker {
        runner,
        printer,
        clock,
    } = docker;
    let phase = Phase::timed(
        clock,
        None,
        printer,
        &format!("pulling {reference} ({docker_platform})"),
    );
    let present = runner
        .run(
            &CommandLine::new("docker", ["image", "inspect", reference]),
            DOCKER_TIMEOUT,
        )
        .is_ok_and(|o| o.success());
    if !present {
        if let Err(error) = checked(
            runner,
            &CommandLine::new("docker", ["pull", "--platform", docker_platform, reference]),
            DOCKER_TIMEOUT,
        ) {
            phase.fail("");
            return Err(error);
        }
    }
    if reference != tag {
        checked(
            runner,
            &CommandLine::new("docker", ["tag", reference, tag]),
            DOCKER_TIMEOUT,
        )?;
    }
    let layers = image_layers(runner, tag)?;
    phase.succeed(tag);
    Ok(layers)
}

/// Saves `tags` into `archive` through a partial file renamed into place.
fn save(
    docker: Docker<'_>,
    docker_platform: &str,
    tags: &[&str],
    archive: &Path,
) -> anyhow::Result<()> {
    let partial = archive.with_extension("tar.partial");
    let partial_text = partial.display().to_string();
    let Docker {
        runner,
        printer,
        clock,
    } = docker;
    let phase = Phase::timed(clock, None, printer, &format!("saving {}", tags.join(", ")));
    let mut with_platform = vec![
        "save",
        "--platform",
        docker_platform,
        "-o",
        partial_text.as_str(),
    ];
    with_platform.extend(tags);
    let saved = runner.run(&CommandLine::new("docker", with_platform), DOCKER_TIMEOUT)?;
    if !saved.success() {
        // Docker before 25 has no `save --platform`: the image pulled for the platform is
        // the only one under that tag anyway.
        let mut plain = vec!["save", "-o", partial_text.as_str()];
        plain.extend(tags);
        if let Err(error) = checked(runner, &CommandLine::new("docker", plain), DOCKER_TIMEOUT) {
            phase.fail("");
            return Err(error);
        }
    }
    crate::files::rename(&partial, archive).with_context(|| {
        format!(
            "cannot move the archive into place at {}",
            archive.display()
        )
    })?;
    phase.succeed(&archive.display().to_string());
    Ok(())
}

/// `docker image inspect -f '{{json .RootFS.Layers}}' TAG`.
pub(crate) fn image_layers(runner: &dyn Runner, tag: &str) -> anyhow::Result<Vec<String>> {
    let output = checked(
        runner,
        &CommandLine::new(
            "docker",
            ["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag],
        ),
        DOCKER_TIMEOUT,
    )?;
    serde_json::from_str(output.stdout.trim())
        .map_err(|e| anyhow!("`docker image inspect {tag}` printed no layer list: {e}"))
}

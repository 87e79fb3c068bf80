//! `sidecar-lab bundle create|check|fetch|load`: the classroom bundle, made once on a
//! machine with internet, checked, fetched from the instructor's server, loaded.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::bundle::create;
use crate::bundle::load;
use crate::bundle::manifest::{MANIFEST, SHA256SUMS};
use crate::bundle::source::Bundle;
use crate::bundle::trust::Verdict;
use crate::bundle::{allowed, cache, open, this_platform};
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::install::plan::Offer;
use crate::matrix::VersionMatrix;
use crate::platform::Platform;
use crate::state::write_atomically;
use crate::ui::progress::DownloadProgress;
use crate::version::MinorVersion;

/// What no pin in `matrix` vouches for in the whole bundle, every platform and minor:
/// refusals (or, with `--allow-unpinned`, warnings), each once.
fn pin_report(bundle: &Bundle, matrix: &VersionMatrix) -> (Vec<String>, Vec<String>) {
    let (mut refused, mut warned) = (Vec::new(), Vec::new());
    let mut note = |verdict: Result<Option<String>, String>| match verdict {
        Err(refusal) if !refused.contains(&refusal) => refused.push(refusal),
        Ok(Some(warning)) if !warned.contains(&warning) => warned.push(warning),
        _ => {}
    };
    for platform in &bundle.manifest.platforms {
        for entry in &bundle.manifest.kubernetes {
            note(
                match load::node_image_verdict(bundle, entry, platform, matrix) {
                    Ok(Verdict::Pinned) => Ok(None),
                    Ok(Verdict::Unpinned(warning)) => Ok(Some(warning)),
                    Err(error) => Err(error.to_string()),
                },
            );
            for (_, offer) in load::binaries(bundle, platform, entry.kind, entry.kubectl, matrix) {
                note(match offer {
                    Offer::Refused(refusal) => Err(refusal),
                    Offer::Taken(bundled) => Ok(bundled.unpinned),
                    Offer::Missing => Ok(None),
                });
            }
        }
    }
    (refused, warned)
}

/// `bundle create`: the releases `kubernetes` names (or the default one) from `matrix`.
pub(crate) fn create(
    matrix: &VersionMatrix,
    kubernetes: &[MinorVersion],
    platforms: &[String],
    output: &Path,
    mirror: Option<String>,
    dist: Option<PathBuf>,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let platforms = if platforms.is_empty() {
        vec![this_platform(world)?.parse::<Platform>()?]
    } else {
        platforms
            .iter()
            .map(|p| p.parse::<Platform>())
            .collect::<Result<_, _>>()?
    };
    let settings = create::Settings {
        kubernetes: kubernetes.to_vec(),
        platforms,
        output: output.to_owned(),
        mirror,
        dist,
        allow_http: world.environment.allow_http,
    };
    let manifest = create::create(&settings, matrix, world)?;
    let mut out = format!("Bundle written to {}\n", output.display());
    for platform in &manifest.platforms {
        out.push_str(&format!(
            "  {platform}: {:.1} MiB\n",
            manifest.size_for(platform) as f64 / (1024.0 * 1024.0)
        ));
    }
    let minors: Vec<String> = manifest
        .kubernetes
        .iter()
        .map(|k| k.minor.to_string())
        .collect();
    out.push_str(&format!(
        "  Kubernetes {}; {} files, listed in {MANIFEST} and {SHA256SUMS}\n\nNext: copy the directory to each VM (or serve it: `python3 -m http.server -d {}`), then on each VM:\n  sidecar-lab up --bundle DIR      (or --bundle http://INSTRUCTOR:8000)\n",
        minors.join(", "),
        manifest.files.len(),
        output.display()
    ));
    world.printer.out(&out);
    Ok(ExitStatus::Success)
}

/// `bundle check`: every file against the manifest, every pin against `matrix`.
pub(crate) fn check(
    location: &str,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    // Not `open`: the pin report below says every warning, once.
    let bundle = Bundle::open(location, &cache(world)?, allowed(world), world.http)?;
    let progress = DownloadProgress::new(*world.printer);
    let mut problems = bundle.verify_all(&progress);
    let (refused, warned) = pin_report(&bundle, matrix);
    for w in &warned {
        world.printer.warn(w);
    }
    problems.extend(refused);
    if !problems.is_empty() {
        for problem in &problems {
            world.printer.error(problem);
        }
        bail!(
            "the bundle {} has {} bad file(s): copy it again",
            bundle.describe(),
            problems.len()
        );
    }
    world.printer.out(&format!(
        "{}: all {} files match the manifest\n",
        bundle.describe(),
        bundle.manifest.files.len()
    ));
    Ok(ExitStatus::Success)
}

/// `bundle fetch`: every file from a URL, checked, into a directory.
pub(crate) fn fetch(
    location: &str,
    output: Option<PathBuf>,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    if !location.starts_with("http://") && !location.starts_with("https://") {
        bail!(
            "`{location}` is not a URL: `bundle fetch` takes http(s)://…; a directory is used as it is"
        );
    }
    // With --output the files land there directly; without, in the cache `up` reads.
    let bundle = match &output {
        Some(dir) => Bundle::open_into(location, dir, allowed(world), world.http)?,
        None => open(location, matrix, world)?,
    };
    let progress = DownloadProgress::new(*world.printer);
    for file in &bundle.manifest.files {
        bundle.fetch(&file.path, &progress)?;
    }
    if let Some(dir) = &output {
        let text = serde_json::to_string_pretty(&bundle.manifest)? + "\n";
        write_atomically(&dir.join(MANIFEST), text.as_bytes())?;
        write_atomically(
            &dir.join(SHA256SUMS),
            bundle.manifest.sha256sums().as_bytes(),
        )?;
    }
    world.printer.out(&format!(
        "fetched {} files from {}{}\n",
        bundle.manifest.files.len(),
        bundle.describe(),
        output
            .map(|d| format!(" into {}", d.display()))
            .unwrap_or_default()
    ));
    Ok(ExitStatus::Success)
}

/// `bundle load`: the node image into Docker, checked; prints the tag kind gets. The
/// minor is `kubernetes`, else the bundle's first, else `matrix`'s default.
pub(crate) fn load(
    location: &str,
    kubernetes: Option<MinorVersion>,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
    let bundle = open(location, matrix, world)?;
    let minor = match (kubernetes, bundle.manifest.kubernetes.first()) {
        (Some(minor), _) => minor,
        (None, Some(first)) => first.minor,
        (None, None) => matrix.release_or_default(None)?.minor,
    };
    let platform = this_platform(world)?;
    let entry = load::entry(&bundle, minor, &platform, matrix)?;
    let progress = DownloadProgress::new(*world.printer);
    let tag = load::node_image(&bundle, entry, &platform, world.runner, &progress)?;
    world.printer.out(&format!(
        "{tag}: loaded, its layers match the manifest; kind gets `--image {tag}` and pulls nothing\n"
    ));
    Ok(ExitStatus::Success)
}

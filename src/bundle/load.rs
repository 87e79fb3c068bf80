//! Bringing a bundle's images into Docker and the node: `docker load` the node image,
//! check its `RootFS.Layers` against the manifest, and hand kind the **tag** (a digest
//! reference does not survive save and load, so kind would pull: wave2-facts.md §1.1);
//! the lab's images go to the node with `kind load image-archive`. kind, kubectl and the
//! node image are taken only when the pins compiled into sidecar-lab vouch for them
//! (`trust.rs`), or when the user said `--allow-unpinned`.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::bundle::images::image_layers;
use crate::bundle::manifest::{KubernetesEntry, layout};
use crate::bundle::source::Bundle;
use crate::bundle::trust::{self, Verdict};
use crate::install::Tool;
use crate::install::download::Progress;
use crate::install::plan::{Bundled, Offer};
use crate::matrix::VersionMatrix;
use crate::runner::{CommandLine, Runner, checked};
use crate::version::{MinorVersion, ReleaseVersion};

const TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The bundle's entry for `minor` on `platform`, or why the bundle does not fit; its node
/// image is checked against `matrix`'s pins.
pub(crate) fn entry<'a>(
    bundle: &'a Bundle,
    minor: MinorVersion,
    platform: &str,
    matrix: &VersionMatrix,
) -> anyhow::Result<&'a KubernetesEntry> {
    let carried: Vec<String> = bundle
        .manifest
        .kubernetes
        .iter()
        .map(|k| k.minor.to_string())
        .collect();
    let Some(entry) = bundle.manifest.kubernetes(minor) else {
        bail!(
            "the bundle {} carries Kubernetes {}, not {minor}: pass --kubernetes {}",
            bundle.describe(),
            carried.join(", "),
            carried.first().map_or("", String::as_str)
        );
    };
    if !bundle.manifest.platforms.iter().any(|p| p == platform) {
        bail!(
            "the bundle {} is for {}, not {platform}: make one with `sidecar-lab bundle create --platform {platform}`",
            bundle.describe(),
            bundle.manifest.platforms.join(", ")
        );
    }
    node_image_verdict(bundle, entry, platform, matrix)?;
    Ok(entry)
}

/// Whether the node image `entry` names may be used: refused (naming the manifest and the
/// archive) unless it is the matrix's, or `--allow-unpinned` was given (then the warning).
pub(crate) fn node_image_verdict(
    bundle: &Bundle,
    entry: &KubernetesEntry,
    platform: &str,
    matrix: &VersionMatrix,
) -> anyhow::Result<Verdict> {
    let archive = layout::node_image(platform, entry.minor);
    let image = bundle
        .manifest
        .images_in(&archive)
        .find(|i| i.tag == entry.node_image);
    trust::node_image(matrix, entry, image, &archive, bundle.allowed)
        .map_err(|refusal| anyhow::anyhow!("the bundle {}: {refusal}", bundle.describe()))
}

/// kind and kubectl at `kind` and `kubectl` for `platform`, as the bundle carries them,
/// each checked against its pin in `matrix`.
pub(crate) fn binaries(
    bundle: &Bundle,
    platform: &str,
    kind: ReleaseVersion,
    kubectl: ReleaseVersion,
    matrix: &VersionMatrix,
) -> Vec<(Tool, Offer)> {
    [(Tool::Kind, kind), (Tool::Kubectl, kubectl)]
        .into_iter()
        .map(|(tool, version)| {
            let path = layout::tool(platform, tool.name(), version);
            let offer = match bundle.manifest.file(&path) {
                None => Offer::Missing,
                Some(file) => {
                    match trust::binary(matrix, tool, version, platform, file, bundle.allowed) {
                        Err(refusal) => Offer::Refused(refusal),
                        Ok(verdict) => Offer::Taken(Bundled {
                            path: file.path.clone(),
                            sha256: file.sha256.clone(),
                            version,
                            unpinned: match verdict {
                                Verdict::Pinned => None,
                                Verdict::Unpinned(warning) => Some(warning),
                            },
                        }),
                    }
                }
            };
            (tool, offer)
        })
        .collect()
}

/// Whether Docker has `tag` with exactly `layers` (then nothing needs loading).
pub(crate) fn docker_has(runner: &dyn Runner, tag: &str, layers: &[String]) -> bool {
    image_layers(runner, tag).is_ok_and(|found| found == layers)
}

/// Loads the node image for `entry` into Docker and checks it; returns the tag for kind.
pub(crate) fn node_image(
    bundle: &Bundle,
    entry: &KubernetesEntry,
    platform: &str,
    runner: &dyn Runner,
    progress: &dyn Progress,
) -> anyhow::Result<String> {
    let archive = layout::node_image(platform, entry.minor);
    let image = bundle
        .manifest
        .images_in(&archive)
        .find(|i| i.tag == entry.node_image)
        .with_context(|| {
            format!(
                "the bundle's manifest lists no image {} in `{archive}`",
                entry.node_image
            )
        })?;
    if docker_has(runner, &image.tag, &image.layers) {
        return Ok(image.tag.clone());
    }
    let local = bundle.fetch(&archive, progress)?;
    let path = local.display().to_string();
    checked(
        runner,
        &CommandLine::new("docker", ["load", "-i", path.as_str()]),
        TIMEOUT,
    )?;
    let found = image_layers(runner, &image.tag).with_context(|| {
        format!(
            "`docker load` of the bundle's `{archive}` gave no image {}",
            image.tag
        )
    })?;
    if found != image.layers {
        bail!(
            "the image {} loaded from the bundle's `{archive}` has other layers than its manifest lists: refusing to use it",
            image.tag
        );
    }
    Ok(image.tag.clone())
}

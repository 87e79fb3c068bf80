//! Whether a bundle's kind, kubectl and node image are the ones sidecar-lab pins: a
//! manifest only says what its files *are*, and whoever wrote the bundle wrote the
//! manifest too. So a bundled binary must have the SHA-256 compiled into this binary
//! (`templates/versions.yaml`), and a node image must be a `tag@digest` of the matrix.
//! Anything else is refused, naming the file, unless the user passed `--allow-unpinned`;
//! then it is taken with a loud warning. Pure.

use crate::bundle::manifest::{FileEntry, ImageEntry, KubernetesEntry, MANIFEST};
use crate::install::Tool;
use crate::matrix::VersionMatrix;
use crate::version::ReleaseVersion;

/// What the user allowed beyond the pins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// `--allow-unpinned`: take bundled binaries and node images no pin vouches for.
    pub unpinned: bool,
    /// `--allow-http`: read bundles and unpinned downloads over plain http://.
    pub http: bool,
}

/// A bundled thing that may be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its digest is the pinned one.
    Pinned,
    /// No pin vouches for it; taken because `--allow-unpinned` was given. The warning.
    Unpinned(String),
}

/// The flag that lets an unpinned file through.
pub(crate) const ALLOW_UNPINNED: &str = "--allow-unpinned";
/// The flag that lets plain http:// through.
pub(crate) const ALLOW_HTTP: &str = "--allow-http";

/// Checks the bundle's `tool` at `version` for `platform` (the file `file`) against the pin.
/// A digest that differs from a pin is refused even with `--allow-unpinned`: that is a
/// replaced binary, not a missing pin.
pub(crate) fn binary(
    matrix: &VersionMatrix,
    tool: Tool,
    version: ReleaseVersion,
    platform: &str,
    file: &FileEntry,
    allowed: Allowed,
) -> Result<Verdict, String> {
    let pin = match tool {
        Tool::Kind => matrix.kind_pin(version, platform),
        Tool::Kubectl => matrix.kubectl_pin(version, platform),
        Tool::Docker => None,
    };
    match pin {
        Some(pin) if pin == file.sha256 => Ok(Verdict::Pinned),
        Some(pin) => Err(format!(
            "the bundle's `{}` is not {tool} {version} as released: its manifest gives SHA-256 {}, the release's is {pin} (compiled into sidecar-lab): refusing it — make the bundle again with `sidecar-lab bundle create`",
            file.path, file.sha256
        )),
        None if allowed.unpinned => Ok(Verdict::Unpinned(format!(
            "UNPINNED: the bundle's `{}` is taken as {tool} {version} only on its manifest's word ({ALLOW_UNPINNED}): sidecar-lab pins no SHA-256 for it on {platform}",
            file.path
        ))),
        None => Err(format!(
            "the bundle's `{}`: sidecar-lab pins no SHA-256 for {tool} {version} on {platform}, so it cannot tell it from a replaced one: refusing it; pass {ALLOW_UNPINNED} to trust the bundle's manifest for it",
            file.path
        )),
    }
}

/// Checks the node image `entry` names (and `image`, its record in the manifest, if the
/// manifest has one) against the matrix: the tag and the digest it was pulled by must be
/// the matrix's node image for that minor.
pub(crate) fn node_image(
    matrix: &VersionMatrix,
    entry: &KubernetesEntry,
    image: Option<&ImageEntry>,
    archive: &str,
    allowed: Allowed,
) -> Result<Verdict, String> {
    let digest = image
        .and_then(|i| i.digest.as_deref())
        .unwrap_or("no digest");
    let pinned = matrix
        .release_of_node_image(&entry.node_image, digest)
        .is_some_and(|release| release.minor == entry.minor);
    if pinned {
        return Ok(Verdict::Pinned);
    }
    let what = format!(
        "{MANIFEST} names `{}@{digest}` as the node image for Kubernetes {} (in `{archive}`)",
        entry.node_image, entry.minor
    );
    let expected = matrix.release(entry.minor).map_or_else(
        |_| format!("no image: sidecar-lab does not support {}", entry.minor),
        |r| r.node_image.clone(),
    );
    if allowed.unpinned {
        Ok(Verdict::Unpinned(format!(
            "UNPINNED: {what}, not {expected}; taken only because of {ALLOW_UNPINNED}"
        )))
    } else {
        Err(format!(
            "{what}, but sidecar-lab's pin is {expected}: refusing it; make the bundle again with `sidecar-lab bundle create`, or pass {ALLOW_UNPINNED}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::manifest::layout;
    use crate::version::MinorVersion;

    const KIND_PIN: &str = "aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d";

    fn matrix() -> VersionMatrix {
        VersionMatrix::embedded().expect("matrix")
    }

    fn file(path: &str, sha256: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: 1,
            sha256: sha256.into(),
        }
    }

    fn v(text: &str) -> ReleaseVersion {
        text.parse().expect("version")
    }

    #[test]
    fn a_pinned_binary_passes_and_a_replaced_one_is_refused_even_when_unpinned_is_allowed() {
        let m = matrix();
        let path = "bin/linux-amd64/kind-v0.33.0";
        let ok = binary(
            &m,
            Tool::Kind,
            v("v0.33.0"),
            "linux-amd64",
            &file(path, KIND_PIN),
            Allowed::default(),
        );
        assert_eq!(ok, Ok(Verdict::Pinned));
        for allowed in [
            Allowed::default(),
            Allowed {
                unpinned: true,
                http: true,
            },
        ] {
            let refused = binary(
                &m,
                Tool::Kind,
                v("v0.33.0"),
                "linux-amd64",
                &file(path, &"0".repeat(64)),
                allowed,
            )
            .expect_err("refused");
            assert!(
                refused.contains(&format!("`{path}`")) && refused.contains(KIND_PIN),
                "{refused}"
            );
        }
    }

    #[test]
    fn every_kubectl_of_the_default_release_is_pinned_on_linux() {
        let m = matrix();
        let release = m.release_or_default(None).expect("default");
        for platform in ["linux-amd64", "linux-arm64"] {
            assert!(
                m.kubectl_pin(release.kubectl, platform).is_some(),
                "{platform}"
            );
        }
    }

    #[test]
    fn an_unpinned_kubectl_needs_the_flag_and_then_warns() {
        let m = matrix();
        let path = "bin/linux-amd64/kubectl-v1.30.13";
        let f = file(path, &"ab".repeat(32));
        let refused = binary(
            &m,
            Tool::Kubectl,
            v("v1.30.13"),
            "linux-amd64",
            &f,
            Allowed::default(),
        )
        .expect_err("no pin");
        assert!(
            refused.contains(path) && refused.contains(ALLOW_UNPINNED),
            "{refused}"
        );
        let taken = binary(
            &m,
            Tool::Kubectl,
            v("v1.30.13"),
            "linux-amd64",
            &f,
            Allowed {
                unpinned: true,
                http: false,
            },
        );
        assert!(
            matches!(taken, Ok(Verdict::Unpinned(w)) if w.starts_with("UNPINNED") && w.contains(path))
        );
    }

    #[test]
    fn only_the_matrix_node_image_for_that_minor_is_taken() {
        let m = matrix();
        let minor = MinorVersion::new(1, 37);
        let release = m.release(minor).expect("1.37");
        let (tag, digest) = release.node_image.split_once('@').expect("pinned");
        let archive = layout::node_image("linux-amd64", minor);
        let image = |tag: &str, digest: &str| ImageEntry {
            tag: tag.into(),
            digest: Some(digest.into()),
            layers: vec![],
            archive: archive.clone(),
            platform: "linux-amd64".into(),
        };
        let entry = |tag: &str| KubernetesEntry {
            minor,
            kind: release.kind,
            kubectl: release.kubectl,
            node_image: tag.into(),
        };
        let ok = node_image(
            &m,
            &entry(tag),
            Some(&image(tag, digest)),
            &archive,
            Allowed::default(),
        );
        assert_eq!(ok, Ok(Verdict::Pinned));
        let evil = "attacker/node:evil";
        let refused = node_image(
            &m,
            &entry(evil),
            Some(&image(evil, digest)),
            &archive,
            Allowed::default(),
        )
        .expect_err("refused");
        assert!(
            refused.contains(MANIFEST) && refused.contains(evil) && refused.contains(&archive),
            "{refused}"
        );
        // The right tag with another digest, or none, is not the pinned image either.
        assert!(
            node_image(
                &m,
                &entry(tag),
                Some(&image(tag, &format!("sha256:{}", "0".repeat(64)))),
                &archive,
                Allowed::default()
            )
            .is_err()
        );
        assert!(node_image(&m, &entry(tag), None, &archive, Allowed::default()).is_err());
        // Another minor's pinned image under this minor is refused too.
        let other = m.release(MinorVersion::new(1, 36)).expect("1.36");
        let (other_tag, other_digest) = other.node_image.split_once('@').expect("pinned");
        assert!(
            node_image(
                &m,
                &entry(other_tag),
                Some(&image(other_tag, other_digest)),
                &archive,
                Allowed::default()
            )
            .is_err()
        );
        let allowed = node_image(
            &m,
            &entry(evil),
            Some(&image(evil, digest)),
            &archive,
            Allowed {
                unpinned: true,
                http: false,
            },
        );
        assert!(matches!(allowed, Ok(Verdict::Unpinned(w)) if w.contains(evil)));
    }
}

//! A classroom bundle's `manifest.json`: what it carries (kind, kubectl and sidecar-lab
//! per platform, the node image per Kubernetes minor, the lab's images), each file's
//! size and SHA-256, and for each image its tag, the release digest it was pulled by and
//! its `RootFS.Layers`, which stay the same across `docker save`/`docker load` in both of
//! Docker's image stores (wave2-facts.md §1.1). Pure.

use serde::{Deserialize, Serialize};

use crate::version::{MinorVersion, ReleaseVersion};

/// The manifest format this sidecar-lab writes and reads.
pub const FORMAT: u32 = 1;
/// The manifest's name in the bundle.
pub const MANIFEST: &str = "manifest.json";
/// The checksum file for checking by hand (`sha256sum -c SHA256SUMS`).
pub const SHA256SUMS: &str = "SHA256SUMS";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    pub format: u32,
    /// The sidecar-lab version that made it.
    pub sidecar_lab: String,
    pub platforms: Vec<String>,
    pub kubernetes: Vec<KubernetesEntry>,
    pub files: Vec<FileEntry>,
    pub images: Vec<ImageEntry>,
}

/// One Kubernetes minor the bundle can bring up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesEntry {
    pub minor: MinorVersion,
    pub kind: ReleaseVersion,
    pub kubectl: ReleaseVersion,
    /// The node image's tag, as kind is handed it (never a digest: see `ImageEntry`).
    pub node_image: String,
}

/// One file, by its path inside the bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// One image archive's image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageEntry {
    /// The tag it was saved by and is loaded as.
    pub tag: String,
    /// The digest it was pulled by (provenance; it does not survive save and load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// `RootFS.Layers`: what a loaded image is checked against.
    pub layers: Vec<String>,
    /// The archive that holds it.
    pub archive: String,
    pub platform: String,
}

/// Where each thing lives in a bundle.
pub mod layout {
    use crate::version::{MinorVersion, ReleaseVersion};

    pub fn binary(platform: &str, name: &str) -> String {
        format!("bin/{platform}/{name}")
    }

    /// kind or kubectl at a version: `bin/linux-amd64/kind-v0.33.0`.
    pub fn tool(platform: &str, tool: &str, version: ReleaseVersion) -> String {
        binary(platform, &format!("{tool}-{version}"))
    }

    pub fn node_image(platform: &str, minor: MinorVersion) -> String {
        format!("images/{platform}/kind-node-{minor}.tar")
    }

    pub fn lab_images(platform: &str) -> String {
        format!("images/{platform}/lab-images.tar")
    }
}

/// A manifest that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{MANIFEST} is not a bundle manifest: {0}")]
    Decode(String),
    #[error(
        "{MANIFEST} has format {0}; this sidecar-lab reads format {FORMAT}: use the sidecar-lab in the bundle"
    )]
    Format(u32),
    #[error("{MANIFEST} names `{0}`, which is not a plain relative path inside the bundle")]
    Path(String),
}

impl Manifest {
    /// Decodes and checks a manifest: known format, every path inside the bundle.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Self =
            serde_json::from_str(text).map_err(|e| ManifestError::Decode(e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(ManifestError::Format(manifest.format));
        }
        let paths = manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .chain(manifest.images.iter().map(|i| i.archive.as_str()));
        for path in paths {
            if !plain_path(path) {
                return Err(ManifestError::Path(path.to_owned()));
            }
        }
        Ok(manifest)
    }

    /// The entry of the file at `path`.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The entry for Kubernetes `minor`.
    pub fn kubernetes(&self, minor: MinorVersion) -> Option<&KubernetesEntry> {
        self.kubernetes.iter().find(|k| k.minor == minor)
    }

    /// The images in the archive at `archive`.
    pub fn images_in<'a>(&'a self, archive: &'a str) -> impl Iterator<Item = &'a ImageEntry> {
        self.images.iter().filter(move |i| i.archive == archive)
    }

    /// `SHA256SUMS`: one `digest  path` line per file, as sha256sum prints them.
    pub fn sha256sums(&self) -> String {
        self.files
            .iter()
            .map(|f| format!("{}  {}\n", f.sha256, f.path))
            .collect()
    }

    /// The total size of the files of one platform (and of those for every platform).
    pub fn size_for(&self, platform: &str) -> u64 {
        self.files
            .iter()
            .filter(|f| f.path.split('/').nth(1) == Some(platform))
            .map(|f| f.size)
            .sum()
    }
}

/// A relative path of plain components: no `..`, no leading `/`, nothing empty.
fn plain_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT,
            sidecar_lab: "0.1.0".into(),
            platforms: vec!["linux-amd64".into()],
            kubernetes: vec![KubernetesEntry {
                minor: MinorVersion::new(1, 37),
                kind: "v0.33.0".parse().expect("version"),
                kubectl: "v1.37.0".parse().expect("version"),
                node_image: "kindest/node:v1.37.0".into(),
            }],
            files: vec![FileEntry {
                path: layout::binary("linux-amd64", "kind"),
                size: 3,
                sha256: "ab".repeat(32),
            }],
            images: vec![ImageEntry {
                tag: "kindest/node:v1.37.0".into(),
                digest: Some("sha256:a1".into()),
                layers: vec!["sha256:l1".into()],
                archive: layout::node_image("linux-amd64", MinorVersion::new(1, 37)),
                platform: "linux-amd64".into(),
            }],
        }
    }

    #[test]
    fn round_trips_and_lists_its_files_for_sha256sum() {
        let m = manifest();
        let text = serde_json::to_string_pretty(&m).expect("JSON");
        assert_eq!(Manifest::parse(&text), Ok(m.clone()));
        assert_eq!(
            m.sha256sums(),
            format!("{}  bin/linux-amd64/kind\n", "ab".repeat(32))
        );
        assert_eq!(m.size_for("linux-amd64"), 3);
        assert!(m.kubernetes(MinorVersion::new(1, 37)).is_some());
    }

    #[test]
    fn paths_outside_the_bundle_and_other_formats_are_refused() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "bin//kind",
            "bin/./kind",
            "",
        ] {
            let mut m = manifest();
            m.files[0].path = bad.into();
            let text = serde_json::to_string(&m).expect("JSON");
            assert_eq!(
                Manifest::parse(&text),
                Err(ManifestError::Path(bad.into())),
                "{bad}"
            );
        }
        let mut m = manifest();
        m.format = 2;
        assert!(matches!(
            Manifest::parse(&serde_json::to_string(&m).expect("JSON")),
            Err(ManifestError::Format(2))
        ));
        assert!(matches!(
            Manifest::parse("{\"format\": 1"),
            Err(ManifestError::Decode(_))
        ));
    }
}

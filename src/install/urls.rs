//! Where kind and kubectl are downloaded from: the official release URLs (never kind's
//! `/dl/latest/`, which serves unreleased CI builds), or a classroom mirror that keeps
//! their paths. Pure.

use crate::platform::Platform;
use crate::version::ReleaseVersion;

/// kind's release binaries (the target of kind.sigs.k8s.io/dl/vX.Y.Z redirects).
pub(crate) const KIND_ORIGIN: &str = "https://github.com";
/// kubectl's release binaries.
pub(crate) const KUBECTL_ORIGIN: &str = "https://dl.k8s.io";

/// A mirror: its scheme, host (and optional path prefix) replace the official ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mirror {
    base: String,
}

/// A mirror URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "mirror `{0}` is not an http:// or https:// URL without query or fragment, such as http://10.0.0.5:8080"
)]
pub(crate) struct MirrorError(String);

impl Mirror {
    pub(crate) fn parse(text: &str) -> Result<Self, MirrorError> {
        let error = || MirrorError(text.to_owned());
        let url = reqwest::Url::parse(text).map_err(|_| error())?;
        let usable = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty();
        if !usable {
            return Err(error());
        }
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
        })
    }
}

/// The kind binary's URL; its checksum file is the same URL plus `.sha256sum`.
pub(crate) fn kind(version: ReleaseVersion, platform: Platform, mirror: Option<&Mirror>) -> String {
    let origin = mirror.map_or(KIND_ORIGIN, |m| &m.base);
    // Asset names are lowercase: `kind-$(uname)-amd64` in kind's README gives `Linux`.
    format!(
        "{origin}/kubernetes-sigs/kind/releases/download/{version}/kind-{}-{}",
        platform.os.name(),
        platform.arch.name()
    )
}

/// The kubectl binary's URL; its checksum file is the same URL plus `.sha256`.
pub(crate) fn kubectl(
    version: ReleaseVersion,
    platform: Platform,
    mirror: Option<&Mirror>,
) -> String {
    let origin = mirror.map_or(KUBECTL_ORIGIN, |m| &m.base);
    format!(
        "{origin}/release/{version}/bin/{}/{}/kubectl",
        platform.os.name(),
        platform.arch.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> ReleaseVersion {
        text.parse().expect("version")
    }

    #[test]
    fn official_urls_for_every_platform() {
        let table = [
            (
                "linux-amd64",
                "https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64",
                "https://dl.k8s.io/release/v1.37.0/bin/linux/amd64/kubectl",
            ),
            (
                "linux-arm64",
                "https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-arm64",
                "https://dl.k8s.io/release/v1.37.0/bin/linux/arm64/kubectl",
            ),
            (
                "darwin-amd64",
                "https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-darwin-amd64",
                "https://dl.k8s.io/release/v1.37.0/bin/darwin/amd64/kubectl",
            ),
            (
                "darwin-arm64",
                "https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-darwin-arm64",
                "https://dl.k8s.io/release/v1.37.0/bin/darwin/arm64/kubectl",
            ),
        ];
        for (platform, kind_url, kubectl_url) in table {
            let platform: Platform = platform.parse().expect("platform");
            assert_eq!(kind(v("v0.33.0"), platform, None), kind_url);
            assert_eq!(kubectl(v("v1.37.0"), platform, None), kubectl_url);
        }
    }

    #[test]
    fn mirrors_replace_scheme_and_host_and_keep_paths() {
        let platform: Platform = "linux-amd64".parse().expect("platform");
        let mirror = Mirror::parse("http://127.0.0.1:8080/").expect("mirror");
        assert_eq!(
            kind(v("v0.33.0"), platform, Some(&mirror)),
            "http://127.0.0.1:8080/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64"
        );
        assert_eq!(
            kubectl(v("v1.37.0"), platform, Some(&mirror)),
            "http://127.0.0.1:8080/release/v1.37.0/bin/linux/amd64/kubectl"
        );
        let prefixed = Mirror::parse("https://mirror.example/k8s").expect("mirror");
        assert_eq!(
            kubectl(v("v1.37.0"), platform, Some(&prefixed)),
            "https://mirror.example/k8s/release/v1.37.0/bin/linux/amd64/kubectl"
        );
    }

    #[test]
    fn unusable_mirrors_are_refused() {
        for bad in [
            "",
            "mirror.example",
            "ftp://mirror.example",
            "http://m/?q=1",
            "http://user@m/",
            "file:///tmp",
        ] {
            assert!(Mirror::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}

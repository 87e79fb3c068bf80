//! The version matrix (`templates/versions.yaml`): which kind release, node image,
//! kubectl and SidecarContainers gate setting go with each supported Kubernetes minor.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::assets;
use crate::version::{MinorVersion, ReleaseVersion};
use crate::yaml;

/// What the SidecarContainers feature gate needs on one Kubernetes minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateRule {
    /// 1.28: alpha and off by default, so the cluster config must enable it.
    Required,
    /// 1.29–1.32: beta and on by default; it can still be turned off.
    Optional,
    /// 1.33–1.36: GA and locked on; `true` only warns, `false` is an error.
    Omitted,
    /// 1.37 and later: removed; naming it at all stops every component.
    Forbidden,
}

/// How the user wants the gate set; `Auto` follows the [`GateRule`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GateChoice {
    /// Whatever the Kubernetes version needs for native sidecars to work.
    #[default]
    Auto,
    /// Native sidecars on (the same as auto: they are on wherever the gate allows).
    On,
    /// Native sidecars off, to see what a cluster without them does (1.28–1.32 only).
    Off,
}

/// A gate setting the Kubernetes version cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error(
        "native sidecars cannot be turned off on Kubernetes {0}: the SidecarContainers gate is locked on since 1.33; use --kubernetes 1.28 to 1.32"
    )]
    Locked(MinorVersion),
    #[error(
        "native sidecars cannot be turned off on Kubernetes {0}: the SidecarContainers gate was removed in 1.37; use --kubernetes 1.28 to 1.32"
    )]
    Removed(MinorVersion),
}

impl GateRule {
    /// The value to write under `featureGates: SidecarContainers:` in the kind config,
    /// or `None` to leave the gate out.
    pub fn gate_value(
        self,
        choice: GateChoice,
        minor: MinorVersion,
    ) -> Result<Option<bool>, GateError> {
        #[allow(
            clippy::match_same_arms,
            reason = "one arm per rule and choice, as the gate table reads; each `Ok(None)` leaves the gate out for its own reason"
        )]
        match (self, choice) {
            (Self::Required, GateChoice::Auto | GateChoice::On) => Ok(Some(true)),
            // Alpha gates are off by default: leaving it out turns the feature off.
            (Self::Required, GateChoice::Off) => Ok(None),
            (Self::Optional, GateChoice::Auto | GateChoice::On) => Ok(None),
            (Self::Optional, GateChoice::Off) => Ok(Some(false)),
            (Self::Omitted, GateChoice::Off) => Err(GateError::Locked(minor)),
            (Self::Forbidden, GateChoice::Off) => Err(GateError::Removed(minor)),
            (Self::Omitted | Self::Forbidden, GateChoice::Auto | GateChoice::On) => Ok(None),
        }
    }

    /// One short phrase for tables: the rule and why.
    pub const fn summary(self) -> &'static str {
        match self {
            Self::Required => "required (alpha, off by default)",
            Self::Optional => "optional (beta, on by default)",
            Self::Omitted => "omitted (GA, locked on)",
            Self::Forbidden => "forbidden (removed; naming it stops the cluster)",
        }
    }

    /// The name used in the data file and in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Omitted => "omitted",
            Self::Forbidden => "forbidden",
        }
    }
}

impl fmt::Display for GateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the lab needs to know about one Kubernetes minor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubernetesRelease {
    pub minor: MinorVersion,
    /// The kind release the node image was built for.
    pub kind: ReleaseVersion,
    /// `kindest/node:vX.Y.Z@sha256:<64 hex>`.
    pub node_image: String,
    /// The kubectl release to install: the node's own version.
    pub kubectl: ReleaseVersion,
    /// Pinned SHA-256 of the kubectl binary per `os-arch`, where one is known.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kubectl_sha256: BTreeMap<String, String>,
    pub sidecar_gate: GateRule,
}

/// The whole matrix, as in `templates/versions.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VersionMatrix {
    pub default: MinorVersion,
    pub kubernetes: Vec<KubernetesRelease>,
    /// Pinned SHA-256 of kind binaries: release → `os-arch` → digest.
    #[serde(default)]
    pub kind_binaries: BTreeMap<ReleaseVersion, BTreeMap<String, String>>,
}

/// A version matrix that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error("the version matrix is not valid YAML: {0}")]
    Yaml(#[from] yaml::YamlError),
    #[error("the version matrix is inconsistent: {}", .0.join("; "))]
    Inconsistent(Vec<String>),
}

/// A Kubernetes minor the matrix has no entry for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Kubernetes {requested} is not supported; choose one of {supported}")]
pub struct UnsupportedVersion {
    pub requested: MinorVersion,
    pub supported: String,
}

const PLATFORMS: [&str; 4] = ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"];

impl VersionMatrix {
    /// The matrix compiled into the binary.
    pub fn embedded() -> Result<Self, MatrixError> {
        Self::parse(assets::VERSION_MATRIX)
    }

    /// Decodes and checks a matrix: every problem is reported, not only the first.
    pub fn parse(text: &str) -> Result<Self, MatrixError> {
        let matrix: Self = yaml::from_str(text)?;
        let problems = matrix.problems();
        if problems.is_empty() {
            Ok(matrix)
        } else {
            Err(MatrixError::Inconsistent(problems))
        }
    }

    /// The entry for `minor`, or an error that lists the supported minors.
    pub fn release(&self, minor: MinorVersion) -> Result<&KubernetesRelease, UnsupportedVersion> {
        self.kubernetes
            .iter()
            .find(|release| release.minor == minor)
            .ok_or_else(|| UnsupportedVersion {
                requested: minor,
                supported: self.supported_list(),
            })
    }

    /// The entry for `minor`, or for the default minor when none was asked for.
    pub fn release_or_default(
        &self,
        minor: Option<MinorVersion>,
    ) -> Result<&KubernetesRelease, UnsupportedVersion> {
        self.release(minor.unwrap_or(self.default))
    }

    /// "1.28, 1.29, …, 1.37" — for error messages.
    pub fn supported_list(&self) -> String {
        self.kubernetes
            .iter()
            .map(|release| release.minor.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The pinned SHA-256 of kind `version` for `platform` (`linux-amd64`), if any.
    pub fn kind_pin(&self, version: ReleaseVersion, platform: &str) -> Option<&str> {
        self.kind_binaries
            .get(&version)?
            .get(platform)
            .map(String::as_str)
    }

    /// The pinned SHA-256 of kubectl `version` for `platform`, if any.
    pub fn kubectl_pin(&self, version: ReleaseVersion, platform: &str) -> Option<&str> {
        self.kubernetes
            .iter()
            .find(|release| release.kubectl == version)?
            .kubectl_sha256
            .get(platform)
            .map(String::as_str)
    }

    /// The release whose node image is exactly `tag` pulled by `digest`
    /// (`kindest/node:v1.37.0` and `sha256:…`): the only node images a bundle may bring.
    pub fn release_of_node_image(&self, tag: &str, digest: &str) -> Option<&KubernetesRelease> {
        self.kubernetes
            .iter()
            .find(|release| release.node_image == format!("{tag}@{digest}"))
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.kubernetes.iter().any(|r| r.minor == self.default) {
            problems.push(format!("default {} has no entry", self.default));
        }
        for pair in self.kubernetes.windows(2) {
            if pair[0].minor >= pair[1].minor {
                problems.push(format!(
                    "entries must be in increasing order without repeats: {} before {}",
                    pair[0].minor, pair[1].minor
                ));
            }
        }
        for release in &self.kubernetes {
            problems.extend(release.problems());
        }
        for (kind, digests) in &self.kind_binaries {
            problems.extend(digest_problems(&format!("kind {kind}"), digests));
        }
        problems
    }
}

impl KubernetesRelease {
    /// The node image's Kubernetes release, read from its tag.
    pub fn node_version(&self) -> Option<ReleaseVersion> {
        let tag = self.node_image.strip_prefix("kindest/node:")?;
        let (version, _digest) = tag.split_once('@')?;
        version.parse().ok()
    }

    fn problems(&self) -> Vec<String> {
        let at = format!("Kubernetes {}", self.minor);
        let mut problems = Vec::new();
        match self.node_version() {
            Some(version) if version.minor_version() == self.minor => {}
            Some(version) => problems.push(format!("{at}: node image is {version}")),
            None => problems.push(format!(
                "{at}: node image `{}` is not kindest/node:vX.Y.Z@sha256:…",
                self.node_image
            )),
        }
        let digest = self.node_image.split_once("@sha256:").map(|(_, d)| d);
        if !digest.is_some_and(is_sha256_hex) {
            problems.push(format!("{at}: node image is not pinned by a sha256 digest"));
        }
        if self.kubectl.minor_version() != self.minor {
            problems.push(format!("{at}: kubectl {} is another minor", self.kubectl));
        }
        let expected_rule = match self.minor.minor {
            ..=28 => GateRule::Required,
            29..=32 => GateRule::Optional,
            33..=36 => GateRule::Omitted,
            _ => GateRule::Forbidden,
        };
        if self.minor.major != 1 || self.sidecar_gate != expected_rule {
            problems.push(format!(
                "{at}: sidecar gate rule `{}` contradicts the gate's history (expected `{expected_rule}`)",
                self.sidecar_gate
            ));
        }
        problems.extend(digest_problems(
            &format!("{at} kubectl"),
            &self.kubectl_sha256,
        ));
        problems
    }
}

fn digest_problems(at: &str, digests: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (platform, digest) in digests {
        if !PLATFORMS.contains(&platform.as_str()) {
            problems.push(format!(
                "{at}: unknown platform `{platform}` (expected one of {})",
                PLATFORMS.join(", ")
            ));
        }
        if !is_sha256_hex(digest) {
            problems.push(format!("{at} {platform}: `{digest}` is not 64 hex digits"));
        }
    }
    problems
}

/// True for exactly 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> VersionMatrix {
        VersionMatrix::embedded().expect("the embedded matrix is valid")
    }

    #[test]
    fn covers_every_minor_from_1_28_to_1_37_and_defaults_to_the_newest() {
        let matrix = matrix();
        let minors: Vec<String> = matrix
            .kubernetes
            .iter()
            .map(|r| r.minor.to_string())
            .collect();
        assert_eq!(
            minors,
            [
                "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"
            ]
        );
        assert_eq!(
            Some(&matrix.default),
            matrix.kubernetes.last().map(|r| &r.minor)
        );
    }

    #[test]
    fn gate_rules_follow_the_gate_history() {
        let matrix = matrix();
        let rule = |minor| {
            matrix
                .release(MinorVersion::new(1, minor))
                .map(|r| r.sidecar_gate)
        };
        assert_eq!(rule(28), Ok(GateRule::Required));
        assert_eq!(rule(29), Ok(GateRule::Optional));
        assert_eq!(rule(32), Ok(GateRule::Optional));
        assert_eq!(rule(33), Ok(GateRule::Omitted));
        assert_eq!(rule(36), Ok(GateRule::Omitted));
        assert_eq!(rule(37), Ok(GateRule::Forbidden));
    }

    #[test]
    fn kind_v0_14_is_never_paired_with_a_1_28_image() {
        // The article's kind v0.14.0 predates every 1.28 image: 1.28 needs v0.20–v0.25.
        let kind = matrix()
            .release(MinorVersion::new(1, 28))
            .map(|r| r.kind.to_string());
        assert_eq!(kind, Ok("v0.25.0".to_owned()));
    }

    #[test]
    fn unsupported_minors_list_what_is_allowed() {
        let error = matrix()
            .release(MinorVersion::new(1, 27))
            .expect_err("1.27 unsupported");
        assert_eq!(
            error.to_string(),
            "Kubernetes 1.27 is not supported; choose one of 1.28, 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37"
        );
    }

    #[test]
    fn gate_values_per_rule_and_choice() {
        let v = MinorVersion::new(1, 30);
        assert_eq!(
            GateRule::Required.gate_value(GateChoice::Auto, v),
            Ok(Some(true))
        );
        assert_eq!(GateRule::Required.gate_value(GateChoice::Off, v), Ok(None));
        assert_eq!(GateRule::Optional.gate_value(GateChoice::Auto, v), Ok(None));
        assert_eq!(
            GateRule::Optional.gate_value(GateChoice::Off, v),
            Ok(Some(false))
        );
        assert_eq!(GateRule::Omitted.gate_value(GateChoice::On, v), Ok(None));
        assert!(GateRule::Omitted.gate_value(GateChoice::Off, v).is_err());
        assert_eq!(GateRule::Forbidden.gate_value(GateChoice::On, v), Ok(None));
        assert!(GateRule::Forbidden.gate_value(GateChoice::Off, v).is_err());
    }

    #[test]
    fn inconsistent_matrices_report_every_problem() {
        let text = r#"
default: "1.30"
kubernetes:
  - minor: "1.29"
    kind: v0.27.0
    nodeImage: kindest/node:v1.28.14@sha256:abc
    kubectl: v1.30.0
    sidecarGate: forbidden
"#;
        let Err(MatrixError::Inconsistent(problems)) = VersionMatrix::parse(text) else {
            panic!("expected an inconsistent matrix");
        };
        assert_eq!(problems.len(), 5, "{problems:#?}");
    }

    #[test]
    fn unknown_fields_in_the_matrix_are_errors() {
        let text = "default: \"1.37\"\nkubernetes: []\nextra: 1\n";
        let error = VersionMatrix::parse(text).expect_err("unknown field");
        assert!(error.to_string().contains("extra"), "{error}");
    }
}

//! Renders the kind cluster config from its template and the version matrix (pure).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::matrix::{GateChoice, GateError, KubernetesRelease};
use crate::names::ClusterName;
use crate::yaml::{self, YamlError};

/// The feature gate that turns native sidecars on.
pub(crate) const SIDECAR_GATE: &str = "SidecarContainers";

/// The part of kind's `kind.x-k8s.io/v1alpha4` Cluster the lab uses. Decoded strictly,
/// as kind decodes it, so a misplaced key in the template fails here and not in
/// `kind create cluster`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct KindCluster {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_gates: Option<BTreeMap<String, bool>>,
    pub nodes: Vec<KindNode>,
}

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KindNode {
    pub role: String,
    #[serde(default)]
    pub image: String,
}

/// Why the config could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum KindConfigError {
    #[error("the kind cluster template is not a valid kind Cluster: {0}")]
    Yaml(#[from] YamlError),
    #[error(
        "the kind cluster template must be kind `Cluster`, apiVersion `kind.x-k8s.io/v1alpha4`, with at least one node"
    )]
    Shape,
    #[error(transparent)]
    Gate(#[from] GateError),
}

/// The filled-in cluster config for `release`.
pub(crate) fn kind_config(
    template: &str,
    release: &KubernetesRelease,
    name: &ClusterName,
    gate: GateChoice,
) -> Result<KindCluster, KindConfigError> {
    let mut cluster: KindCluster = yaml::from_str(template)?;
    if cluster.kind != "Cluster"
        || cluster.api_version != "kind.x-k8s.io/v1alpha4"
        || cluster.nodes.is_empty()
    {
        return Err(KindConfigError::Shape);
    }
    name.as_str().clone_into(&mut cluster.name);
    for node in &mut cluster.nodes {
        node.image.clone_from(&release.node_image);
    }
    let mut gates = cluster.feature_gates.take().unwrap_or_default();
    gates.remove(SIDECAR_GATE);
    if let Some(value) = release.sidecar_gate.gate_value(gate, release.minor)? {
        gates.insert(SIDECAR_GATE.to_owned(), value);
    }
    cluster.feature_gates = (!gates.is_empty()).then_some(gates);
    Ok(cluster)
}

/// The config as a file: comment lines that say what was chosen and why, then the YAML.
pub(crate) fn to_config_file(
    cluster: &KindCluster,
    release: &KubernetesRelease,
) -> Result<String, YamlError> {
    let gate = cluster
        .feature_gates
        .as_ref()
        .and_then(|gates| gates.get(SIDECAR_GATE).copied());
    let gate_line = match (release.sidecar_gate, gate) {
        (_, Some(true)) => format!(
            "SidecarContainers is alpha and off by default in {}: enabled here on every component.",
            release.minor
        ),
        (_, Some(false)) => format!(
            "SidecarContainers turned OFF on purpose: Kubernetes {} drops `restartPolicy: Always` from init containers.",
            release.minor
        ),
        (crate::matrix::GateRule::Required, None) => format!(
            "SidecarContainers left out on purpose: it is alpha and off by default in {}, so native sidecars do not work here.",
            release.minor
        ),
        (crate::matrix::GateRule::Optional, None) => format!(
            "SidecarContainers is beta and on by default in {}: nothing to set.",
            release.minor
        ),
        (crate::matrix::GateRule::Omitted, None) => format!(
            "SidecarContainers is GA and locked on in {}: not named (false would be an error).",
            release.minor
        ),
        (crate::matrix::GateRule::Forbidden, None) => format!(
            "SidecarContainers was removed in 1.37: it must not be named on {} (any value stops the cluster).",
            release.minor
        ),
    };
    let header = [
        format!(
            "kind cluster for sidecar-lab: Kubernetes {}, node image built for kind {}.",
            release.minor, release.kind
        ),
        gate_line,
        format!(
            "Create it with: kind create cluster --config <this file>   (kubectl context: kind-{})",
            cluster.name
        ),
    ];
    let mut text: String = header.iter().map(|line| format!("# {line}\n")).collect();
    text.push_str(&yaml::to_string(cluster)?);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;
    use crate::matrix::VersionMatrix;
    use crate::version::MinorVersion;

    fn render(minor: u32, gate: GateChoice) -> Result<KindCluster, KindConfigError> {
        let matrix = VersionMatrix::embedded().expect("matrix");
        let release = matrix
            .release(MinorVersion::new(1, minor))
            .expect("supported");
        kind_config(
            assets::KIND_CLUSTER_TEMPLATE,
            release,
            &ClusterName::default_name(),
            gate,
        )
    }

    fn gate(minor: u32, choice: GateChoice) -> Option<bool> {
        render(minor, choice)
            .expect("renders")
            .feature_gates
            .and_then(|gates| gates.get(SIDECAR_GATE).copied())
    }

    #[test]
    fn only_1_28_names_the_gate_by_default() {
        assert_eq!(gate(28, GateChoice::Auto), Some(true));
        for minor in 29..=37 {
            assert_eq!(gate(minor, GateChoice::Auto), None, "1.{minor}");
        }
    }

    #[test]
    fn no_config_for_1_33_or_later_names_the_gate_whatever_is_asked() {
        for minor in 33..=37 {
            for choice in [GateChoice::Auto, GateChoice::On] {
                let config = render(minor, choice).expect("renders");
                assert_eq!(config.feature_gates, None, "1.{minor} {choice:?}");
            }
            assert!(
                render(minor, GateChoice::Off).is_err(),
                "1.{minor} accepted off"
            );
        }
    }

    #[test]
    fn the_gate_can_be_turned_off_where_kubernetes_allows_it() {
        assert_eq!(gate(28, GateChoice::Off), None);
        assert_eq!(gate(30, GateChoice::Off), Some(false));
    }

    #[test]
    fn the_node_image_and_name_come_from_the_matrix_and_the_user() {
        let config = render(37, GateChoice::Auto).expect("renders");
        assert_eq!(config.name, "sidecar-lab");
        assert_eq!(config.nodes.len(), 1);
        assert!(
            config.nodes[0]
                .image
                .starts_with("kindest/node:v1.37.0@sha256:")
        );
    }

    #[test]
    fn the_articles_config_without_feature_gates_is_rejected_as_kind_would() {
        let article = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nSidecarContainers: true\nnodes: []\n";
        let error = yaml::from_str::<KindCluster>(article).expect_err("strict");
        assert!(error.to_string().contains("SidecarContainers"), "{error}");
    }

    #[test]
    fn rendered_configs_decode_strictly_again() {
        let matrix = VersionMatrix::embedded().expect("matrix");
        for release in &matrix.kubernetes {
            let config = kind_config(
                assets::KIND_CLUSTER_TEMPLATE,
                release,
                &ClusterName::default_name(),
                GateChoice::Auto,
            )
            .expect("renders");
            let text = to_config_file(&config, release).expect("encodes");
            let again: KindCluster = yaml::from_str(&text).expect("decodes");
            assert_eq!(again, config);
        }
    }
}

//! A learner's kubeconfig: the shared cluster's address and CA, the learner's token, and
//! a context whose namespace is theirs. And the reverse: what an existing file points at
//! and until when its token holds. Pure.

use base64::Engine;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::yaml;

/// How to reach the cluster, from the instructor's kubeconfig
/// (`kubectl config view --raw --minify`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClusterAccess {
    pub server: String,
    pub ca: CaSource,
    /// `insecure-skip-tls-verify` was set for the instructor; the learners get the same.
    pub insecure: bool,
}

/// Where the cluster's CA certificate is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CaSource {
    /// Inline, base64 (`certificate-authority-data`).
    Data(String),
    /// A file on this machine (`certificate-authority`): read and inlined, since the
    /// learner's kubeconfig goes to another machine.
    File(String),
    None,
}

/// The instructor's kubeconfig did not say how to reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AccessError {
    #[error("`kubectl config view --minify` printed no JSON kubeconfig: {0}")]
    NotJson(String),
    #[error("the kubeconfig names no cluster for the context; check `kubectl config get-contexts`")]
    NoCluster,
    #[error("the context's cluster has no `server` address")]
    NoServer,
}

#[derive(Deserialize)]
struct Minified {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
}

#[derive(Deserialize)]
struct NamedCluster {
    cluster: ClusterEntry,
}

#[derive(Deserialize)]
struct ClusterEntry {
    #[serde(default)]
    server: String,
    #[serde(default, rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(default, rename = "certificate-authority")]
    ca_file: Option<String>,
    #[serde(default, rename = "insecure-skip-tls-verify")]
    insecure: bool,
}

impl ClusterAccess {
    /// Reads the output of `kubectl config view --raw --minify -o json`.
    pub(crate) fn from_minified(text: &str) -> Result<Self, AccessError> {
        let minified: Minified =
            serde_json::from_str(text).map_err(|e| AccessError::NotJson(e.to_string()))?;
        let cluster = minified
            .clusters
            .into_iter()
            .next()
            .ok_or(AccessError::NoCluster)?
            .cluster;
        if cluster.server.is_empty() {
            return Err(AccessError::NoServer);
        }
        let ca = match (cluster.ca_data, cluster.ca_file) {
            (Some(data), _) if !data.is_empty() => CaSource::Data(data),
            (_, Some(file)) if !file.is_empty() => CaSource::File(file),
            _ => CaSource::None,
        };
        Ok(Self {
            server: cluster.server,
            ca,
            insecure: cluster.insecure,
        })
    }

    /// True when the address only works on the machine the cluster runs on: learners on
    /// other machines cannot reach it (kind listens on 127.0.0.1 unless its config sets
    /// `networking.apiServerAddress`).
    pub(crate) fn is_loopback(&self) -> bool {
        let host = self
            .server
            .split("://")
            .nth(1)
            .unwrap_or(&self.server)
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        host == "localhost" || host.starts_with("127.") || self.server.contains("[::1]")
    }
}

/// The kubeconfig of the learner in `namespace`: one cluster, one user, one context named
/// after the namespace, and that context current.
pub(crate) fn render(
    access: &ClusterAccess,
    ca_data: Option<&str>,
    namespace: &str,
    token: &str,
) -> Result<String, yaml::YamlError> {
    let mut cluster = json!({ "server": access.server });
    if let Some(data) = ca_data {
        cluster["certificate-authority-data"] = Value::from(data);
    }
    if access.insecure {
        cluster["insecure-skip-tls-verify"] = Value::from(true);
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "sidecar-lab-class", "cluster": cluster }],
        "users": [{ "name": namespace, "user": { "token": token } }],
        "contexts": [{
            "name": namespace,
            "context": { "cluster": "sidecar-lab-class", "user": namespace, "namespace": namespace },
        }],
        "current-context": namespace,
        "preferences": {},
    });
    let mut text = format!(
        "# sidecar-lab class: learner `{namespace}`. This token reaches only namespace\n# `{namespace}`, and expires. Use it with:\n#   export KUBECONFIG=$PWD/{namespace}.kubeconfig\n#   sidecar-lab step 1 --context {namespace} --namespace {namespace}\n"
    );
    text.push_str(&yaml::to_string_with_key_order(&config, &["name"])?);
    Ok(text)
}

/// What an existing learner kubeconfig points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Existing {
    pub server: String,
    pub namespace: String,
    pub token: String,
}

impl Existing {
    /// Reads a kubeconfig this module wrote; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let value: Value = yaml::from_str(text).ok()?;
        let current = value.get("current-context")?.as_str()?;
        let context = value
            .get("contexts")?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(current))?
            .get("context")?;
        let named = |list: &str, name: &str| {
            value
                .get(list)?
                .as_array()?
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
                .cloned()
        };
        let cluster = named("clusters", context.get("cluster")?.as_str()?)?;
        let user = named("users", context.get("user")?.as_str()?)?;
        Some(Self {
            server: cluster.pointer("/cluster/server")?.as_str()?.to_owned(),
            namespace: context.get("namespace")?.as_str()?.to_owned(),
            token: user.pointer("/user/token")?.as_str()?.to_owned(),
        })
    }
}

/// When a ServiceAccount token expires: the `exp` claim of its JWT payload (read, not
/// verified: the API server verifies; this only decides whether to ask for a new one).
pub(crate) fn token_expiry(token: &str) -> Option<Timestamp> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    Timestamp::from_second(claims.get("exp")?.as_i64()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: i64) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            engine.encode(r#"{"alg":"RS256"}"#),
            engine.encode(format!(
                r#"{{"exp":{exp},"sub":"system:serviceaccount:a:b"}}"#
            ))
        )
    }

    #[test]
    fn a_written_kubeconfig_reads_back() {
        let access = ClusterAccess {
            server: "https://10.0.0.5:6443".to_owned(),
            ca: CaSource::Data("Q0E=".to_owned()),
            insecure: false,
        };
        let token = jwt(1_800_000_000);
        let text = render(&access, Some("Q0E="), "learner-04", &token).expect("renders");
        let existing = Existing::parse(&text).expect("reads back");
        assert_eq!(existing.server, access.server);
        assert_eq!(existing.namespace, "learner-04");
        assert_eq!(existing.token, token);
        assert_eq!(
            token_expiry(&existing.token).map(k8s_openapi::jiff::Timestamp::as_second),
            Some(1_800_000_000)
        );
        assert!(!access.is_loopback());
    }

    #[test]
    fn the_instructors_minified_config_gives_the_address_and_ca() {
        let minified = r#"{"clusters":[{"name":"kind-x","cluster":{"server":"https://127.0.0.1:4431","certificate-authority-data":"Q0E="}}]}"#;
        let access = ClusterAccess::from_minified(minified).expect("reads");
        assert_eq!(access.ca, CaSource::Data("Q0E=".to_owned()));
        assert!(access.is_loopback());
        let file = r#"{"clusters":[{"name":"k","cluster":{"server":"https://localhost:6443","certificate-authority":"/etc/ca.crt"}}]}"#;
        assert_eq!(
            ClusterAccess::from_minified(file).expect("reads").ca,
            CaSource::File("/etc/ca.crt".to_owned())
        );
        assert_eq!(
            ClusterAccess::from_minified(r#"{"clusters":[]}"#),
            Err(AccessError::NoCluster)
        );
    }

    #[test]
    fn tokens_that_are_not_jwts_have_no_known_expiry() {
        for token in ["", "abc", "a.b.c", "a.!!!.c"] {
            assert_eq!(token_expiry(token), None, "{token}");
        }
        assert_eq!(Existing::parse("not: [a kubeconfig"), None);
        assert_eq!(Existing::parse("apiVersion: v1\nkind: Config\n"), None);
    }
}

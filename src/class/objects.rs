//! Each learner's objects, rendered from `templates/class-learner.yaml` into
//! k8s-openapi types: the namespace (with its Pod Security labels), the ServiceAccount,
//! the Role and its RoleBinding, the ResourceQuota, the LimitRange and the default-deny
//! NetworkPolicy, all labelled as the class's. Pure.

use std::collections::BTreeMap;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{
    LimitRange, Namespace, ResourceQuota, ResourceQuotaSpec, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::{CLASS_LABEL, ClassPrefix, LEARNER_ACCOUNT, MANAGED_BY, PART_OF};
use crate::assets;
use crate::yaml;

mod kind;

pub use kind::ObjectKind;
pub(crate) use kind::resources;

/// The version the Pod Security labels pin: the cluster's own minor (`v1.34`), so that an
/// upgrade of the cluster during a class does not change its rules; `latest` when the
/// server did not say.
pub(crate) fn pod_security_version(minor: Option<crate::version::MinorVersion>) -> String {
    minor.map_or_else(|| "latest".to_owned(), |m| format!("v{m}"))
}

/// One object of the class, as it is sent to the API server.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassObject {
    pub kind: ObjectKind,
    /// The namespace it lives in; `None` for the namespace itself.
    pub namespace: Option<String>,
    pub name: String,
    pub manifest: Value,
}

impl ClassObject {
    /// `Role learner-01/sidecar-lab-learner`, as the plan names it.
    pub(crate) fn describe(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

impl ClassObject {
    /// How the plan and the cluster's read find the object: the namespace it lives in
    /// (its own name for a namespace, empty for a cluster-wide object) and its name.
    pub(crate) fn key(&self) -> (ObjectKind, String, String) {
        let namespace = if self.kind == ObjectKind::Namespace {
            self.name.clone()
        } else {
            self.namespace.clone().unwrap_or_default()
        };
        (self.kind, namespace, self.name.clone())
    }
}

/// A per-learner ResourceQuota: what each `--quota-*` flag asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub cpu: Option<QuantityArg>,
    pub memory: Option<QuantityArg>,
    pub pods: Option<u32>,
}

impl QuotaLimits {
    pub const fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.memory.is_none() && self.pods.is_none()
    }

    /// `spec.hard`: the template's defaults with each flag's value in place of its line;
    /// requests, since that is what the lab's containers declare and what the scheduler
    /// reserves.
    pub(crate) fn hard(&self, defaults: &BTreeMap<String, Quantity>) -> BTreeMap<String, Quantity> {
        let mut hard = defaults.clone();
        if let Some(cpu) = &self.cpu {
            hard.insert("requests.cpu".to_owned(), Quantity(cpu.0.clone()));
        }
        if let Some(memory) = &self.memory {
            hard.insert("requests.memory".to_owned(), Quantity(memory.0.clone()));
        }
        if let Some(pods) = self.pods {
            hard.insert("pods".to_owned(), Quantity(pods.to_string()));
        }
        hard
    }
}

/// A Kubernetes quantity from the command line (`2`, `1500m`, `2Gi`), checked as the
/// API server's parser would take it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantityArg(pub String);

impl FromStr for QuantityArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The same reading of a quantity the capacity check and the formula use.
        if crate::requests::parse_quantity(text, 1000).is_some_and(|value| value > 0) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "`{text}` is not a Kubernetes quantity: use a positive number with an optional suffix, such as `2`, `1500m` (CPU) or `2Gi` (memory)"
            ))
        }
    }
}

/// The template could not be read (a broken build, since it is compiled in).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("templates/class-learner.yaml is not valid YAML: {0}")]
    Yaml(#[from] yaml::YamlError),
    #[error("templates/class-learner.yaml: the {kind} does not decode: {message}")]
    Decode { kind: String, message: String },
    #[error("templates/class-learner.yaml has no {0}")]
    Missing(&'static str),
}

/// The template, decoded once.
#[derive(Clone, Debug)]
pub struct Template {
    namespace: Namespace,
    account: ServiceAccount,
    role: Role,
    binding: RoleBinding,
    quota: ResourceQuota,
    limits: LimitRange,
    network: NetworkPolicy,
}

impl Template {
    /// The embedded template.
    pub fn embedded() -> Result<Self, TemplateError> {
        Self::parse(assets::CLASS_LEARNER_TEMPLATE)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, TemplateError> {
        /// The document of `kind`, taken out of `found` and decoded.
        fn take<T: serde::de::DeserializeOwned>(
            found: &mut BTreeMap<String, Value>,
            kind: &'static str,
        ) -> Result<T, TemplateError> {
            let value = found.remove(kind).ok_or(TemplateError::Missing(kind))?;
            serde_json::from_value(value).map_err(|e| TemplateError::Decode {
                kind: kind.to_owned(),
                message: e.to_string(),
            })
        }

        let (documents, error) = yaml::documents(text);
        if let Some(error) = error {
            return Err(error.into());
        }
        let mut found: BTreeMap<String, Value> = BTreeMap::new();
        for document in documents.into_iter().filter(|d| !d.is_null()) {
            let kind = document
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            found.insert(kind, document);
        }
        Ok(Self {
            namespace: take(&mut found, "Namespace")?,
            account: take(&mut found, "ServiceAccount")?,
            role: take(&mut found, "Role")?,
            binding: take(&mut found, "RoleBinding")?,
            quota: take(&mut found, "ResourceQuota")?,
            limits: take(&mut found, "LimitRange")?,
            network: take(&mut found, "NetworkPolicy")?,
        })
    }

    /// The quota's ceilings when no `--quota-*` flag changes them.
    pub(crate) fn default_quota(&self) -> BTreeMap<String, Quantity> {
        self.quota
            .spec
            .as_ref()
            .and_then(|spec| spec.hard.clone())
            .unwrap_or_default()
    }

    /// The LimitRange's defaults for a container that declares no requests.
    pub(crate) fn default_requests(&self) -> BTreeMap<String, Quantity> {
        self.limits
            .spec
            .as_ref()
            .and_then(|spec| spec.limits.first())
            .and_then(|item| item.default_request.clone())
            .unwrap_or_default()
    }

    /// The LimitRange's default limits for a container that declares none (ephemeral
    /// storage only: see the template).
    pub(crate) fn default_limits(&self) -> BTreeMap<String, Quantity> {
        self.limits
            .spec
            .as_ref()
            .and_then(|spec| spec.limits.first())
            .and_then(|item| item.default.clone())
            .unwrap_or_default()
    }

    /// The objects of learner `n`, in creation order, with Pod Security at `latest`.
    pub fn learner(&self, prefix: &ClassPrefix, n: u32, quota: &QuotaLimits) -> Vec<ClassObject> {
        self.learner_at(prefix, n, quota, "latest")
    }

    /// The objects of learner `n`, in creation order, with the Pod Security labels
    /// pinned to `pod_security_version` (`pod_security_version()`).
    pub fn learner_at(
        &self,
        prefix: &ClassPrefix,
        n: u32,
        quota: &QuotaLimits,
        pod_security_version: &str,
    ) -> Vec<ClassObject> {
        let at = Learner {
            prefix,
            namespace: prefix.namespace(n),
        };
        let namespace = Some(&at.namespace);
        let role = Role {
            metadata: at.meta(&self.role.metadata, true),
            ..self.role.clone()
        };
        let limits = LimitRange {
            metadata: at.meta(&self.limits.metadata, true),
            ..self.limits.clone()
        };
        let network = NetworkPolicy {
            metadata: at.meta(&self.network.metadata, true),
            ..self.network.clone()
        };
        vec![
            object(
                ObjectKind::Namespace,
                None,
                &self.namespace_of(&at, pod_security_version),
            ),
            object(ObjectKind::ServiceAccount, namespace, &self.account_of(&at)),
            object(ObjectKind::Role, namespace, &role),
            object(ObjectKind::RoleBinding, namespace, &self.binding_of(&at)),
            object(
                ObjectKind::ResourceQuota,
                namespace,
                &self.quota_of(&at, quota),
            ),
            object(ObjectKind::LimitRange, namespace, &limits),
            object(ObjectKind::NetworkPolicy, namespace, &network),
        ]
    }

    /// The learner's namespace, its Pod Security labels pinned to `pod_security_version`.
    fn namespace_of(&self, at: &Learner<'_>, pod_security_version: &str) -> Namespace {
        let mut ns = Namespace {
            metadata: at.meta(&self.namespace.metadata, false),
            ..Namespace::default()
        };
        for (key, value) in ns.metadata.labels.iter_mut().flatten() {
            if key.starts_with("pod-security.kubernetes.io/") && key.ends_with("-version") {
                pod_security_version.clone_into(value);
            }
        }
        ns
    }

    /// The ServiceAccount the learner acts as.
    fn account_of(&self, at: &Learner<'_>) -> ServiceAccount {
        ServiceAccount {
            metadata: ObjectMeta {
                name: Some(LEARNER_ACCOUNT.to_owned()),
                ..at.meta(&self.account.metadata, true)
            },
            ..self.account.clone()
        }
    }

    /// The RoleBinding, its ServiceAccount subject naming the learner's account.
    fn binding_of(&self, at: &Learner<'_>) -> RoleBinding {
        let mut binding = RoleBinding {
            metadata: at.meta(&self.binding.metadata, true),
            ..self.binding.clone()
        };
        for subject in binding.subjects.iter_mut().flatten() {
            if subject.kind == "ServiceAccount" {
                LEARNER_ACCOUNT.clone_into(&mut subject.name);
                subject.namespace = Some(at.namespace.clone());
            }
        }
        binding
    }

    /// The ResourceQuota, with each `--quota-*` flag's value in place of its line.
    fn quota_of(&self, at: &Learner<'_>, quota: &QuotaLimits) -> ResourceQuota {
        ResourceQuota {
            metadata: at.meta(&self.quota.metadata, true),
            spec: Some(ResourceQuotaSpec {
                hard: Some(quota.hard(&self.default_quota())),
                ..self.quota.spec.clone().unwrap_or_default()
            }),
            ..ResourceQuota::default()
        }
    }
}

/// Whose objects are being made: the class and the learner's namespace.
struct Learner<'a> {
    prefix: &'a ClassPrefix,
    namespace: String,
}

impl Learner<'_> {
    /// The template's metadata, made the learner's: in their namespace (named after it,
    /// for the namespace itself) and labelled as the class's.
    fn meta(&self, base: &ObjectMeta, namespaced: bool) -> ObjectMeta {
        ObjectMeta {
            name: Some(if namespaced {
                base.name.clone().unwrap_or_default()
            } else {
                self.namespace.clone()
            }),
            namespace: namespaced.then(|| self.namespace.clone()),
            labels: Some(labels(self.prefix, base.labels.as_ref())),
            annotations: base.annotations.clone(),
            ..ObjectMeta::default()
        }
    }
}

/// The class's labels on top of the template's own.
fn labels(
    prefix: &ClassPrefix,
    base: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut labels = base.cloned().unwrap_or_default();
    labels.insert(PART_OF.0.to_owned(), PART_OF.1.to_owned());
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    labels.insert(CLASS_LABEL.to_owned(), prefix.label().to_owned());
    labels
}

pub(super) fn object<T: k8s_openapi::Resource + Serialize>(
    kind: ObjectKind,
    namespace: Option<&String>,
    value: &T,
) -> ClassObject {
    let mut manifest = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut manifest {
        map.insert("apiVersion".to_owned(), Value::from(T::API_VERSION));
        map.insert("kind".to_owned(), Value::from(T::KIND));
    }
    let name = manifest
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    ClassObject {
        kind,
        namespace: namespace.cloned(),
        name,
        manifest,
    }
}

/// The fields of an object that the class decides: an object on the cluster that differs
/// in one of them is updated; anything else (fields the server adds) is left alone.
pub(crate) fn decided_fields(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        // The server adds its own labels (`kubernetes.io/metadata.name`): only the Pod
        // Security ones are the class's to decide.
        ObjectKind::Namespace => &[
            "/metadata/labels/pod-security.kubernetes.io~1enforce",
            "/metadata/labels/pod-security.kubernetes.io~1enforce-version",
            "/metadata/labels/pod-security.kubernetes.io~1warn",
            "/metadata/labels/pod-security.kubernetes.io~1warn-version",
            "/metadata/labels/pod-security.kubernetes.io~1audit",
            "/metadata/labels/pod-security.kubernetes.io~1audit-version",
        ],
        ObjectKind::ServiceAccount => &["/automountServiceAccountToken"],
        ObjectKind::Role => &["/rules"],
        ObjectKind::RoleBinding => &["/roleRef", "/subjects"],
        ObjectKind::ResourceQuota => &["/spec/hard"],
        // Both maps are written in full by the class, so the server's defaulting
        // (SetDefaults_LimitRangeItem: `defaultRequest` from `default`, `default` from
        // `max`) adds nothing to them and they compare as sent.
        ObjectKind::LimitRange => &["/spec/limits/0/default", "/spec/limits/0/defaultRequest"],
        ObjectKind::NetworkPolicy => &["/spec/podSelector", "/spec/policyTypes"],
        // The class writes the defaults the server would fill in (matchPolicy,
        // objectSelector, each rule's scope: `class::policy`), so these compare exactly as
        // sent: a changed rule, matched resource, namespace selector or failure policy is
        // applied again, and so is anything added to them by hand.
        ObjectKind::ValidatingAdmissionPolicy => &[
            "/spec/validations",
            "/spec/failurePolicy",
            "/spec/matchConstraints",
        ],
        ObjectKind::ValidatingAdmissionPolicyBinding => &["/spec"],
    }
}

/// `objects` as one multi-document YAML stream, for one `kubectl apply -f`. (Documents,
/// not a `List`: kubectl validates each object against its own group's schema, where a
/// `List` would send it looking for the whole-cluster OpenAPI v2 document.)
pub fn manifests(objects: &[&ClassObject]) -> Result<String, yaml::YamlError> {
    let mut text = String::new();
    for object in objects {
        text.push_str("---\n");
        text.push_str(&yaml::to_string_with_key_order(
            &object.manifest,
            &["apiVersion", "kind", "metadata", "name", "namespace"],
        )?);
    }
    Ok(text)
}

#[cfg(test)]
mod tests;

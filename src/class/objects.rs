//! Each learner's objects, rendered from `templates/class-learner.yaml` into
//! k8s-openapi types: the namespace, the ServiceAccount, the Role and its RoleBinding, and
//! the optional ResourceQuota, all labelled as the class's. Pure.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{Namespace, ResourceQuota, ResourceQuotaSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::{CLASS_LABEL, ClassPrefix, LEARNER_ACCOUNT, MANAGED_BY, PART_OF};
use crate::assets;
use crate::yaml;

/// The kinds a class is made of, in the order they are created (a namespace before what
/// lives in it, a Role before the binding that names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ObjectKind {
    Namespace,
    ServiceAccount,
    Role,
    RoleBinding,
    ResourceQuota,
}

impl ObjectKind {
    pub const ALL: [Self; 5] = [
        Self::Namespace,
        Self::ServiceAccount,
        Self::Role,
        Self::RoleBinding,
        Self::ResourceQuota,
    ];

    /// The kind as the API names it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Namespace => "Namespace",
            Self::ServiceAccount => "ServiceAccount",
            Self::Role => "Role",
            Self::RoleBinding => "RoleBinding",
            Self::ResourceQuota => "ResourceQuota",
        }
    }

    /// The resource as `kubectl get` takes it, fully qualified so that no CRD with the
    /// same short name is read instead.
    pub const fn resource(self) -> &'static str {
        match self {
            Self::Namespace => "namespaces",
            Self::ServiceAccount => "serviceaccounts",
            Self::Role => "roles.rbac.authorization.k8s.io",
            Self::RoleBinding => "rolebindings.rbac.authorization.k8s.io",
            Self::ResourceQuota => "resourcequotas",
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == kind)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
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

    /// `spec.hard`: requests, since that is what the lab's containers declare and what
    /// the scheduler reserves.
    pub fn hard(&self) -> BTreeMap<String, Quantity> {
        let mut hard = BTreeMap::new();
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
}

impl Template {
    /// The embedded template.
    pub fn embedded() -> Result<Self, TemplateError> {
        Self::parse(assets::CLASS_LEARNER_TEMPLATE)
    }

    pub fn parse(text: &str) -> Result<Self, TemplateError> {
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
        Ok(Self {
            namespace: take(&mut found, "Namespace")?,
            account: take(&mut found, "ServiceAccount")?,
            role: take(&mut found, "Role")?,
            binding: take(&mut found, "RoleBinding")?,
            quota: take(&mut found, "ResourceQuota")?,
        })
    }

    /// The objects of learner `n`, in creation order.
    pub fn learner(&self, prefix: &ClassPrefix, n: u32, quota: &QuotaLimits) -> Vec<ClassObject> {
        let namespace = prefix.namespace(n);
        let meta = |base: &ObjectMeta, namespaced: bool| ObjectMeta {
            name: Some(if namespaced {
                base.name.clone().unwrap_or_default()
            } else {
                namespace.clone()
            }),
            namespace: namespaced.then(|| namespace.clone()),
            labels: Some(labels(prefix, base.labels.as_ref())),
            annotations: base.annotations.clone(),
            ..ObjectMeta::default()
        };
        let mut out = Vec::new();
        let ns = Namespace {
            metadata: meta(&self.namespace.metadata, false),
            ..Namespace::default()
        };
        out.push(object(ObjectKind::Namespace, None, &ns));
        let account = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(LEARNER_ACCOUNT.to_owned()),
                ..meta(&self.account.metadata, true)
            },
            ..self.account.clone()
        };
        out.push(object(
            ObjectKind::ServiceAccount,
            Some(&namespace),
            &account,
        ));
        let role = Role {
            metadata: meta(&self.role.metadata, true),
            ..self.role.clone()
        };
        out.push(object(ObjectKind::Role, Some(&namespace), &role));
        let mut binding = RoleBinding {
            metadata: meta(&self.binding.metadata, true),
            ..self.binding.clone()
        };
        for subject in binding.subjects.iter_mut().flatten() {
            if subject.kind == "ServiceAccount" {
                subject.name = LEARNER_ACCOUNT.to_owned();
                subject.namespace = Some(namespace.clone());
            }
        }
        out.push(object(ObjectKind::RoleBinding, Some(&namespace), &binding));
        if !quota.is_empty() {
            let resource_quota = ResourceQuota {
                metadata: meta(&self.quota.metadata, true),
                spec: Some(ResourceQuotaSpec {
                    hard: Some(quota.hard()),
                    ..self.quota.spec.clone().unwrap_or_default()
                }),
                ..ResourceQuota::default()
            };
            out.push(object(
                ObjectKind::ResourceQuota,
                Some(&namespace),
                &resource_quota,
            ));
        }
        out
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

fn object<T: k8s_openapi::Resource + Serialize>(
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
pub fn decided_fields(kind: ObjectKind) -> &'static [&'static str] {
    match kind {
        ObjectKind::Namespace => &[],
        ObjectKind::ServiceAccount => &["/automountServiceAccountToken"],
        ObjectKind::Role => &["/rules"],
        ObjectKind::RoleBinding => &["/roleRef", "/subjects"],
        ObjectKind::ResourceQuota => &["/spec/hard"],
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
mod tests {
    use super::*;

    fn template() -> Template {
        Template::embedded().expect("the embedded template decodes")
    }

    #[test]
    fn a_learner_gets_five_labelled_objects_in_their_own_namespace() {
        let prefix = ClassPrefix::default();
        let quota = QuotaLimits {
            cpu: Some("1".parse().expect("quantity")),
            memory: None,
            pods: Some(10),
        };
        let objects = template().learner(&prefix, 3, &quota);
        let kinds: Vec<_> = objects.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, ObjectKind::ALL);
        for object in &objects {
            let labels = &object.manifest["metadata"]["labels"];
            assert_eq!(labels[CLASS_LABEL], "learner", "{}", object.describe());
            assert_eq!(labels[PART_OF.0], PART_OF.1);
            assert_eq!(labels[MANAGED_BY.0], MANAGED_BY.1);
            if object.kind != ObjectKind::Namespace {
                assert_eq!(object.manifest["metadata"]["namespace"], "learner-03");
            }
        }
        let binding = &objects[3].manifest;
        assert_eq!(binding["subjects"][0]["namespace"], "learner-03");
        assert_eq!(binding["subjects"][0]["name"], LEARNER_ACCOUNT);
        assert_eq!(binding["roleRef"]["name"], objects[2].name);
        assert_eq!(objects[4].manifest["spec"]["hard"]["requests.cpu"], "1");
        assert_eq!(objects[4].manifest["spec"]["hard"]["pods"], "10");
    }

    #[test]
    fn no_quota_flag_no_quota_object() {
        let objects = template().learner(&ClassPrefix::default(), 1, &QuotaLimits::default());
        assert!(objects.iter().all(|o| o.kind != ObjectKind::ResourceQuota));
    }

    #[test]
    fn the_role_reaches_nothing_cluster_wide_and_never_secrets() {
        let objects = template().learner(&ClassPrefix::default(), 1, &QuotaLimits::default());
        let rules = objects[2].manifest["rules"].as_array().expect("rules");
        for rule in rules {
            let resources: Vec<&str> = rule["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for resource in resources {
                assert!(
                    [
                        "jobs",
                        "jobs/status",
                        "pods",
                        "pods/log",
                        "pods/status",
                        "events",
                        "resourcequotas",
                    ]
                    .contains(&resource),
                    "{resource}"
                );
            }
            assert!(
                !rule["verbs"]
                    .as_array()
                    .expect("verbs")
                    .contains(&Value::from("*"))
            );
        }
    }

    #[test]
    fn quantities_are_checked_as_the_api_server_would() {
        for good in ["1", "1500m", "2Gi", "0.5", "512Mi", "1e3"] {
            assert!(good.parse::<QuantityArg>().is_ok(), "{good}");
        }
        for bad in ["", "-1", "2GB", "m", "1.2.3", "0", "two"] {
            assert!(bad.parse::<QuantityArg>().is_err(), "{bad}");
        }
    }
}

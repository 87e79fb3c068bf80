//! Each learner's objects, rendered from `templates/class-learner.yaml` into
//! k8s-openapi types: the namespace (with its Pod Security labels), the ServiceAccount,
//! the Role and its RoleBinding, the ResourceQuota, the LimitRange and the default-deny
//! NetworkPolicy, all labelled as the class's. Pure.

use std::collections::BTreeMap;
use std::fmt;
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

/// The kinds a class is made of, in the order they are created (a namespace before what
/// lives in it, a Role before the binding that names it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ObjectKind {
    Namespace,
    ServiceAccount,
    Role,
    RoleBinding,
    ResourceQuota,
    LimitRange,
    NetworkPolicy,
    /// Cluster-scoped, one per class (`class::policy`).
    ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
}

impl ObjectKind {
    pub const ALL: [Self; 9] = [
        Self::Namespace,
        Self::ServiceAccount,
        Self::Role,
        Self::RoleBinding,
        Self::ResourceQuota,
        Self::LimitRange,
        Self::NetworkPolicy,
        Self::ValidatingAdmissionPolicy,
        Self::ValidatingAdmissionPolicyBinding,
    ];

    /// The kinds in each learner's namespace, in creation order.
    pub const LEARNER: [Self; 7] = [
        Self::Namespace,
        Self::ServiceAccount,
        Self::Role,
        Self::RoleBinding,
        Self::ResourceQuota,
        Self::LimitRange,
        Self::NetworkPolicy,
    ];

    /// Whether objects of this kind live outside any namespace (the namespace itself
    /// aside): the class's admission policy and its binding.
    pub const fn cluster_wide(self) -> bool {
        matches!(
            self,
            Self::ValidatingAdmissionPolicy | Self::ValidatingAdmissionPolicyBinding
        )
    }

    /// The kind as the API names it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Namespace => "Namespace",
            Self::ServiceAccount => "ServiceAccount",
            Self::Role => "Role",
            Self::RoleBinding => "RoleBinding",
            Self::ResourceQuota => "ResourceQuota",
            Self::LimitRange => "LimitRange",
            Self::NetworkPolicy => "NetworkPolicy",
            Self::ValidatingAdmissionPolicy => "ValidatingAdmissionPolicy",
            Self::ValidatingAdmissionPolicyBinding => "ValidatingAdmissionPolicyBinding",
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
            Self::LimitRange => "limitranges",
            Self::NetworkPolicy => "networkpolicies.networking.k8s.io",
            Self::ValidatingAdmissionPolicy => {
                "validatingadmissionpolicies.admissionregistration.k8s.io"
            }
            Self::ValidatingAdmissionPolicyBinding => {
                "validatingadmissionpolicybindings.admissionregistration.k8s.io"
            }
        }
    }

    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == kind)
    }
}

/// The resources of the class's kinds, comma-separated for one `kubectl get`; the
/// cluster-wide ones only when the cluster serves them.
pub fn resources(cluster_wide: bool) -> String {
    ObjectKind::ALL
        .into_iter()
        .filter(|kind| cluster_wide || !kind.cluster_wide())
        .map(ObjectKind::resource)
        .collect::<Vec<_>>()
        .join(",")
}

/// The version the Pod Security labels pin: the cluster's own minor (`v1.34`), so that an
/// upgrade of the cluster during a class does not change its rules; `latest` when the
/// server did not say.
pub fn pod_security_version(minor: Option<crate::version::MinorVersion>) -> String {
    minor.map_or_else(|| "latest".to_owned(), |m| format!("v{m}"))
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

impl ClassObject {
    /// How the plan and the cluster's read find the object: the namespace it lives in
    /// (its own name for a namespace, empty for a cluster-wide object) and its name.
    pub fn key(&self) -> (ObjectKind, String, String) {
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
    pub fn hard(&self, defaults: &BTreeMap<String, Quantity>) -> BTreeMap<String, Quantity> {
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
            limits: take(&mut found, "LimitRange")?,
            network: take(&mut found, "NetworkPolicy")?,
        })
    }

    /// The quota's ceilings when no `--quota-*` flag changes them.
    pub fn default_quota(&self) -> BTreeMap<String, Quantity> {
        self.quota
            .spec
            .as_ref()
            .and_then(|spec| spec.hard.clone())
            .unwrap_or_default()
    }

    /// The LimitRange's defaults for a container that declares no requests.
    pub fn default_requests(&self) -> BTreeMap<String, Quantity> {
        self.limits
            .spec
            .as_ref()
            .and_then(|spec| spec.limits.first())
            .and_then(|item| item.default_request.clone())
            .unwrap_or_default()
    }

    /// The LimitRange's default limits for a container that declares none (ephemeral
    /// storage only: see the template).
    pub fn default_limits(&self) -> BTreeMap<String, Quantity> {
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
        let mut ns = Namespace {
            metadata: meta(&self.namespace.metadata, false),
            ..Namespace::default()
        };
        for (key, value) in ns.metadata.labels.iter_mut().flatten() {
            if key.starts_with("pod-security.kubernetes.io/") && key.ends_with("-version") {
                pod_security_version.clone_into(value);
            }
        }
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
        let resource_quota = ResourceQuota {
            metadata: meta(&self.quota.metadata, true),
            spec: Some(ResourceQuotaSpec {
                hard: Some(quota.hard(&self.default_quota())),
                ..self.quota.spec.clone().unwrap_or_default()
            }),
            ..ResourceQuota::default()
        };
        out.push(object(
            ObjectKind::ResourceQuota,
            Some(&namespace),
            &resource_quota,
        ));
        let limits = LimitRange {
            metadata: meta(&self.limits.metadata, true),
            ..self.limits.clone()
        };
        out.push(object(ObjectKind::LimitRange, Some(&namespace), &limits));
        let network = NetworkPolicy {
            metadata: meta(&self.network.metadata, true),
            ..self.network.clone()
        };
        out.push(object(
            ObjectKind::NetworkPolicy,
            Some(&namespace),
            &network,
        ));
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
pub fn decided_fields(kind: ObjectKind) -> &'static [&'static str] {
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
mod tests {
    use super::*;

    fn template() -> Template {
        Template::embedded().expect("the embedded template decodes")
    }

    #[test]
    fn a_learner_gets_seven_labelled_objects_in_their_own_namespace() {
        let prefix = ClassPrefix::default();
        let quota = QuotaLimits {
            cpu: Some("1".parse().expect("quantity")),
            memory: None,
            pods: Some(10),
        };
        let objects = template().learner(&prefix, 3, &quota);
        let kinds: Vec<_> = objects.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, ObjectKind::LEARNER);
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
        // The flags replace their lines; the rest stay the class's defaults.
        assert_eq!(
            objects[4].manifest["spec"]["hard"]["count/jobs.batch"],
            "50"
        );
        assert_eq!(
            objects[4].manifest["spec"]["hard"]["requests.memory"],
            "4Gi"
        );
    }

    #[test]
    fn without_flags_a_learner_still_gets_the_quota_limits_and_deny_all() {
        let objects =
            template().learner_at(&ClassPrefix::default(), 1, &QuotaLimits::default(), "v1.33");
        let labels = &objects[0].manifest["metadata"]["labels"];
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "baseline");
        assert_eq!(
            labels["pod-security.kubernetes.io/enforce-version"],
            "v1.33"
        );
        assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
        assert_eq!(labels["pod-security.kubernetes.io/audit-version"], "v1.33");
        let hard = &objects[4].manifest["spec"]["hard"];
        assert_eq!(hard["count/jobs.batch"], "50");
        assert_eq!(hard["requests.cpu"], "4");
        assert_eq!(hard["pods"], "20");
        let limits = &objects[5].manifest["spec"]["limits"][0];
        assert_eq!(limits["defaultRequest"]["cpu"], "50m");
        // A default limit on disk only, with an explicit request of 0 (else the server
        // copies the limit into the request), and no `max` anywhere.
        assert_eq!(
            limits["default"],
            serde_json::json!({"ephemeral-storage": "1Gi"})
        );
        assert_eq!(limits["defaultRequest"]["ephemeral-storage"], "0");
        assert!(limits.get("max").is_none());
        assert_eq!(hard["count/pods"], "200");
        assert_eq!(hard["persistentvolumeclaims"], "0");
        let deny = &objects[6].manifest["spec"];
        assert_eq!(deny["podSelector"], serde_json::json!({}));
        assert_eq!(
            deny["policyTypes"],
            serde_json::json!(["Ingress", "Egress"])
        );
        assert!(deny.get("ingress").is_none() && deny.get("egress").is_none());
        assert_eq!(
            resources(false),
            "namespaces,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,resourcequotas,limitranges,networkpolicies.networking.k8s.io"
        );
        assert!(
            resources(true)
                .ends_with("validatingadmissionpolicybindings.admissionregistration.k8s.io")
        );
    }

    #[test]
    fn the_default_quota_fits_every_lab_step_at_once() {
        use crate::requests::parse_quantity;
        let lab = crate::lab::Lab::embedded().expect("lab");
        let job = crate::render::job::parse_template(assets::JOB_TEMPLATE).expect("template");
        let (peak, pods) = super::super::capacity::per_learner(&lab, &job);
        let hard = template().default_quota();
        let get = |key: &str, unit| parse_quantity(&hard[key].0, unit).expect(key);
        // Seven steps alive at once is at most about four times the three variants' peak
        // (step 4's init pod asks for 600m); the ceiling leaves room for it.
        assert!(get("requests.cpu", 1000) >= 4 * peak.cpu_millis, "{peak:?}");
        assert!(
            get("requests.memory", 1) >= 2 * peak.memory_bytes,
            "{peak:?}"
        );
        assert!(get("pods", 1) >= u64::from(pods) * 3);
        assert_eq!(get("count/jobs.batch", 1), 50);
        // Finished pods are counted too: room for many runs of every step.
        assert!(get("count/pods", 1) >= 10 * get("pods", 1));
        // Disk: every lab pod has two containers, each given the LimitRange's default
        // limit; the six pods of every step alive at once plus step 4's must fit.
        let job_pod = job
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .expect("pod");
        let containers =
            job_pod.containers.len() + job_pod.init_containers.as_ref().map_or(0, Vec::len);
        assert_eq!(containers, 2);
        let limit =
            parse_quantity(&template().default_limits()["ephemeral-storage"].0, 1).expect("limit");
        assert!(get("limits.ephemeral-storage", 1) >= 7 * 2 * limit);
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

//! What `class up` and `class down` must do, decided from what is on the cluster and in
//! the output directory: objects to create or update, tokens to issue, namespaces that
//! are someone else's. Pure: facts in, plan out.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::kubeconfig::{Existing, token_expiry};
use super::objects::{ClassObject, ObjectKind, decided_fields};
use super::{CLASS_LABEL, ClassPrefix};

/// A token is issued again when it expires within this many seconds (or within half its
/// lifetime, for short ones): a class that runs on should not lose its learners mid-step.
pub const RENEW_WITHIN_SECONDS: i64 = 3600;

/// What the cluster holds, from the reads of `class up`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// Every namespace on the cluster, with its labels.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The class's objects (found by its label), by kind, namespace and name.
    pub objects: BTreeMap<(ObjectKind, String, String), Value>,
}

/// A learner's kubeconfig file as found in the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeconfigFound {
    Missing,
    /// There, but not a kubeconfig this tool wrote (it is replaced).
    Unreadable,
    Found(Existing),
}

/// Why a learner gets a new token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenReason {
    NoFile,
    Unreadable,
    /// The file points at another cluster or namespace.
    Elsewhere(String),
    /// The ServiceAccount is created now: tokens of an earlier one no longer count.
    NewAccount,
    ExpiresSoon(Option<Timestamp>),
}

impl TokenReason {
    pub fn describe(&self) -> String {
        match self {
            Self::NoFile => "no kubeconfig yet".to_owned(),
            Self::Unreadable => "the file there is not a learner kubeconfig".to_owned(),
            Self::Elsewhere(what) => format!("the file points at {what}"),
            Self::NewAccount => "its ServiceAccount is new".to_owned(),
            Self::ExpiresSoon(Some(at)) => format!("its token expires at {at}"),
            Self::ExpiresSoon(None) => "its token's expiry cannot be read".to_owned(),
        }
    }
}

/// One learner's new token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIssue {
    pub namespace: String,
    pub reason: TokenReason,
}

/// What `class up` will do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpPlan {
    pub create: Vec<ClassObject>,
    /// Objects that exist but differ in a field the class decides, with those fields.
    pub update: Vec<(ClassObject, Vec<String>)>,
    pub tokens: Vec<TokenIssue>,
    /// Learners whose objects and kubeconfig are already as they should be.
    pub unchanged: Vec<String>,
    /// Namespaces of this class beyond `--learners`: left as they are.
    pub beyond: Vec<String>,
    /// Quotas of this class that `--quota-*` no longer asks for: left as they are.
    pub stray_quotas: Vec<String>,
}

impl UpPlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.tokens.is_empty()
    }

    /// The objects `kubectl apply` is given, in creation order.
    pub fn to_apply(&self) -> Vec<&ClassObject> {
        let mut all: Vec<&ClassObject> = self
            .create
            .iter()
            .chain(self.update.iter().map(|(o, _)| o))
            .collect();
        all.sort_by_key(|o| (o.kind, o.namespace.clone(), o.name.clone()));
        all
    }
}

/// The class cannot be set up as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "namespace(s) {} already exist and are not this class's (no `{CLASS_LABEL}={label}` label): sidecar-lab never takes over a namespace it did not create. Choose another --prefix, or remove them",
        .names.join(", ")
    )]
    Taken { names: Vec<String>, label: String },
}

/// The inputs of `plan_up` besides the observations.
pub struct Wanted<'a> {
    pub prefix: &'a ClassPrefix,
    pub learners: u32,
    pub desired: &'a [ClassObject],
    /// The server address the learners' kubeconfigs must name.
    pub server: &'a str,
    pub now: Timestamp,
    /// How long a new token lasts.
    pub duration_seconds: u64,
}

/// Plans `class up`.
pub fn plan_up(
    wanted: &Wanted<'_>,
    observed: &Observed,
    kubeconfigs: &BTreeMap<String, KubeconfigFound>,
) -> Result<UpPlan, PlanError> {
    let label = wanted.prefix.label();
    let taken: Vec<String> = (1..=wanted.learners)
        .map(|n| wanted.prefix.namespace(n))
        .filter(|ns| {
            observed
                .namespaces
                .get(ns)
                .is_some_and(|labels| labels.get(CLASS_LABEL).map(String::as_str) != Some(label))
        })
        .collect();
    if !taken.is_empty() {
        return Err(PlanError::Taken {
            names: taken,
            label: label.to_owned(),
        });
    }
    let mut plan = UpPlan::default();
    let mut new_accounts = BTreeSet::new();
    let mut changed_learners = BTreeSet::new();
    for object in wanted.desired {
        let key = object.key();
        let namespace = key.1.clone();
        // A namespace of the class is in `objects` (read by label); one without the label
        // was refused above.
        match observed.objects.get(&key) {
            None => {
                if object.kind == ObjectKind::ServiceAccount {
                    new_accounts.insert(namespace.clone());
                }
                changed_learners.insert(namespace);
                plan.create.push(object.clone());
            }
            Some(current) => {
                let differing: Vec<String> = decided_fields(object.kind)
                    .iter()
                    .filter(|field| object.manifest.pointer(field) != current.pointer(field))
                    .map(|field| {
                        field
                            .trim_start_matches('/')
                            .replace('/', ".")
                            .replace("~1", "/")
                    })
                    .collect();
                if !differing.is_empty() {
                    changed_learners.insert(namespace);
                    plan.update.push((object.clone(), differing));
                }
            }
        }
    }
    for n in 1..=wanted.learners {
        let namespace = wanted.prefix.namespace(n);
        let reason = if new_accounts.contains(&namespace) {
            Some(TokenReason::NewAccount)
        } else {
            match kubeconfigs
                .get(&namespace)
                .unwrap_or(&KubeconfigFound::Missing)
            {
                KubeconfigFound::Missing => Some(TokenReason::NoFile),
                KubeconfigFound::Unreadable => Some(TokenReason::Unreadable),
                KubeconfigFound::Found(existing) => token_reason(existing, &namespace, wanted),
            }
        };
        match reason {
            Some(reason) => {
                plan.tokens.push(TokenIssue { namespace, reason });
            }
            None if !changed_learners.contains(&namespace) => plan.unchanged.push(namespace),
            None => {}
        }
    }
    let desired_quotas: BTreeSet<(String, String)> = wanted
        .desired
        .iter()
        .filter(|o| o.kind == ObjectKind::ResourceQuota)
        .map(|o| (o.namespace.clone().unwrap_or_default(), o.name.clone()))
        .collect();
    for (kind, namespace, name) in observed.objects.keys() {
        match kind {
            ObjectKind::Namespace
                if wanted
                    .prefix
                    .learner(namespace)
                    .is_some_and(|n| n > wanted.learners) =>
            {
                plan.beyond.push(namespace.clone());
            }
            ObjectKind::ResourceQuota
                if wanted
                    .prefix
                    .learner(namespace)
                    .is_some_and(|n| n <= wanted.learners)
                    && !desired_quotas.contains(&(namespace.clone(), name.clone())) =>
            {
                plan.stray_quotas.push(format!("{namespace}/{name}"));
            }
            _ => {}
        }
    }
    Ok(plan)
}

fn token_reason(existing: &Existing, namespace: &str, wanted: &Wanted<'_>) -> Option<TokenReason> {
    if existing.server != wanted.server {
        return Some(TokenReason::Elsewhere(format!(
            "server {}",
            existing.server
        )));
    }
    if existing.namespace != namespace {
        return Some(TokenReason::Elsewhere(format!(
            "namespace {}",
            existing.namespace
        )));
    }
    let expiry = token_expiry(&existing.token);
    let half = i64::try_from(wanted.duration_seconds / 2).unwrap_or(i64::MAX);
    let margin = RENEW_WITHIN_SECONDS.min(half);
    match expiry {
        Some(at) if at.as_second() - wanted.now.as_second() > margin => None,
        other => Some(TokenReason::ExpiresSoon(other)),
    }
}

/// What `class down` will delete: the class's namespaces (with everything in them) and
/// its cluster-wide admission policy, found by label, and nothing else. Carried out in
/// that order: strays, then the namespaces (waiting until they are gone), and only then
/// the policy, so no learner namespace is ever left without it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownPlan {
    pub namespaces: Vec<String>,
    /// The class's cluster-wide objects (its admission policy and binding), by kind and
    /// name; kept while another class with the same label still has namespaces.
    pub cluster_wide: Vec<(ObjectKind, String)>,
    /// Class objects outside the class's namespaces (there should be none; a learner
    /// cannot create them): deleted one by one.
    pub strays: Vec<(ObjectKind, String, String)>,
    /// Learner kubeconfig files in the output directory that go with the namespaces.
    pub kubeconfigs: Vec<String>,
}

impl DownPlan {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.cluster_wide.is_empty()
            && self.strays.is_empty()
            && self.kubeconfigs.is_empty()
    }
}

/// Plans `class down` from the objects labelled as the class's, and the kubeconfig files
/// found for them. Only namespaces named as this prefix's learners count: prefixes that
/// differ only in a trailing `-` (`learner` and `learner-`) share a label value, and one
/// class must never take the other's namespaces down with it.
pub fn plan_down(
    prefix: &ClassPrefix,
    observed: &Observed,
    kubeconfig_files: &BTreeSet<String>,
) -> DownPlan {
    let ours = |namespace: &String| prefix.learner(namespace).is_some();
    let namespaces: Vec<String> = observed
        .objects
        .keys()
        .filter(|(kind, namespace, _)| *kind == ObjectKind::Namespace && ours(namespace))
        .map(|(_, namespace, _)| namespace.clone())
        .collect();
    let strays = observed
        .objects
        .keys()
        .filter(|(kind, namespace, _)| {
            *kind != ObjectKind::Namespace && ours(namespace) && !namespaces.contains(namespace)
        })
        .cloned()
        .collect();
    // The policy selects namespaces by the label, which `learner` and `learner-` share:
    // it goes with the last of them.
    let others = observed
        .objects
        .keys()
        .any(|(kind, namespace, _)| *kind == ObjectKind::Namespace && !ours(namespace));
    let cluster_wide = if others {
        Vec::new()
    } else {
        observed
            .objects
            .keys()
            .filter(|(kind, _, _)| kind.cluster_wide())
            .map(|(kind, _, name)| (*kind, name.clone()))
            .collect()
    };
    let kubeconfigs = kubeconfig_files
        .iter()
        .filter(|namespace| namespaces.contains(namespace))
        .cloned()
        .collect();
    DownPlan {
        namespaces,
        cluster_wide,
        strays,
        kubeconfigs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::kubeconfig;
    use crate::class::objects::{QuotaLimits, Template};

    const SERVER: &str = "https://10.0.0.5:6443";

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).expect("time")
    }

    fn desired(learners: u32, quota: &QuotaLimits) -> Vec<ClassObject> {
        let template = Template::embedded().expect("template");
        (1..=learners)
            .flat_map(|n| template.learner(&ClassPrefix::default(), n, quota))
            .collect()
    }

    fn desired_with(prefix: &ClassPrefix, learners: u32) -> Vec<ClassObject> {
        let template = Template::embedded().expect("template");
        (1..=learners)
            .flat_map(|n| template.learner(prefix, n, &QuotaLimits::default()))
            .collect()
    }

    fn token(exp: i64) -> String {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("h.{}.s", engine.encode(format!(r#"{{"exp":{exp}}}"#)))
    }

    /// The cluster after `desired` was applied, with valid kubeconfigs for every learner.
    fn applied(objects: &[ClassObject]) -> (Observed, BTreeMap<String, KubeconfigFound>) {
        let mut observed = Observed::default();
        let mut files = BTreeMap::new();
        for object in objects {
            let namespace = object
                .namespace
                .clone()
                .unwrap_or_else(|| object.name.clone());
            let mut stored = object.manifest.clone();
            stored["metadata"]["uid"] = Value::from("u");
            if object.kind == ObjectKind::Namespace {
                let labels =
                    serde_json::from_value(stored["metadata"]["labels"].clone()).expect("labels");
                observed.namespaces.insert(namespace.clone(), labels);
                files.insert(
                    namespace.clone(),
                    KubeconfigFound::Found(Existing {
                        server: SERVER.to_owned(),
                        namespace: namespace.clone(),
                        token: token(now().as_second() + 8 * 3600),
                    }),
                );
            }
            // As the cluster's read files them: a cluster-wide object under no namespace.
            observed.objects.insert(object.key(), stored);
        }
        (observed, files)
    }

    fn wanted<'a>(
        prefix: &'a ClassPrefix,
        learners: u32,
        desired: &'a [ClassObject],
    ) -> Wanted<'a> {
        Wanted {
            prefix,
            learners,
            desired,
            server: SERVER,
            now: now(),
            duration_seconds: 8 * 3600,
        }
    }

    #[test]
    fn an_empty_cluster_gets_everything_and_a_token_each() {
        let prefix = ClassPrefix::default();
        let desired = desired(3, &QuotaLimits::default());
        let plan = plan_up(
            &wanted(&prefix, 3, &desired),
            &Observed::default(),
            &BTreeMap::new(),
        )
        .expect("plans");
        assert_eq!(plan.create.len(), 21);
        assert_eq!(plan.tokens.len(), 3);
        assert!(
            plan.tokens
                .iter()
                .all(|t| t.reason == TokenReason::NewAccount)
        );
        assert_eq!(plan.to_apply()[0].kind, ObjectKind::Namespace);
        assert!(plan.unchanged.is_empty());
    }

    #[test]
    fn a_second_run_changes_nothing() {
        let prefix = ClassPrefix::default();
        let desired = desired(30, &QuotaLimits::default());
        let (observed, files) = applied(&desired);
        let plan = plan_up(&wanted(&prefix, 30, &desired), &observed, &files).expect("plans");
        assert!(plan.is_empty(), "{plan:?}");
        assert_eq!(plan.unchanged.len(), 30);
    }

    #[test]
    fn a_changed_role_or_quota_is_updated_and_nothing_else() {
        let prefix = ClassPrefix::default();
        let quota = QuotaLimits {
            cpu: Some("1".parse().expect("q")),
            ..QuotaLimits::default()
        };
        let before = desired(2, &quota);
        let (mut observed, files) = applied(&before);
        let role = observed
            .objects
            .get_mut(&(
                ObjectKind::Role,
                "learner-02".to_owned(),
                "sidecar-lab-learner".to_owned(),
            ))
            .expect("role");
        role["rules"] = serde_json::json!([]);
        let wider = QuotaLimits {
            cpu: Some("2".parse().expect("q")),
            ..QuotaLimits::default()
        };
        let after = desired(2, &wider);
        let plan = plan_up(&wanted(&prefix, 2, &after), &observed, &files).expect("plans");
        let updated: Vec<String> = plan.update.iter().map(|(o, _)| o.describe()).collect();
        assert_eq!(
            updated,
            [
                "ResourceQuota learner-01/sidecar-lab-learner",
                "Role learner-02/sidecar-lab-learner",
                "ResourceQuota learner-02/sidecar-lab-learner",
            ]
        );
        assert!(plan.create.is_empty() && plan.tokens.is_empty());
    }

    #[test]
    fn a_changed_admission_policy_or_binding_is_updated() {
        let prefix = ClassPrefix::default();
        let mut desired = desired(1, &QuotaLimits::default());
        desired.extend(crate::class::policy::objects(&prefix));
        let (clean, files) = applied(&desired);
        // The server's own defaults are written by the class, so a policy read back as
        // sent is no drift.
        let plan = plan_up(&wanted(&prefix, 1, &desired), &clean, &files).expect("plans");
        assert!(plan.update.is_empty(), "{:?}", plan.update);
        let key = |kind| (kind, String::new(), "sidecar-lab-class-learner".to_owned());
        for (kind, pointer, value, field) in [
            (
                ObjectKind::ValidatingAdmissionPolicy,
                "/spec/failurePolicy",
                serde_json::json!("Ignore"),
                "spec.failurePolicy",
            ),
            (
                ObjectKind::ValidatingAdmissionPolicy,
                "/spec/matchConstraints/resourceRules/1/resources",
                serde_json::json!(["cronjobs"]),
                "spec.matchConstraints",
            ),
            (
                ObjectKind::ValidatingAdmissionPolicy,
                "/spec/matchConstraints/objectSelector",
                serde_json::json!({"matchLabels": {"exempt": "no"}}),
                "spec.matchConstraints",
            ),
            (
                ObjectKind::ValidatingAdmissionPolicyBinding,
                "/spec/validationActions",
                serde_json::json!(["Warn"]),
                "spec",
            ),
            (
                ObjectKind::ValidatingAdmissionPolicyBinding,
                "/spec/matchResources/namespaceSelector",
                serde_json::json!({}),
                "spec",
            ),
        ] {
            let mut observed = clean.clone();
            let stored = observed.objects.get_mut(&key(kind)).expect("stored");
            *stored.pointer_mut(pointer).expect(pointer) = value;
            let plan = plan_up(&wanted(&prefix, 1, &desired), &observed, &files).expect("plans");
            let updated: Vec<(String, Vec<String>)> = plan
                .update
                .iter()
                .map(|(o, fields)| (o.describe(), fields.clone()))
                .collect();
            assert_eq!(
                updated,
                [(
                    format!("{kind} sidecar-lab-class-learner"),
                    vec![field.to_owned()]
                )],
                "{pointer}"
            );
        }
    }

    #[test]
    fn a_namespace_that_is_not_the_classes_is_never_taken() {
        let prefix = ClassPrefix::default();
        let desired = desired(3, &QuotaLimits::default());
        let mut observed = Observed::default();
        observed
            .namespaces
            .insert("learner-02".to_owned(), BTreeMap::new());
        let error = plan_up(&wanted(&prefix, 3, &desired), &observed, &BTreeMap::new())
            .expect_err("refused");
        assert!(error.to_string().contains("learner-02"), "{error}");
    }

    #[test]
    fn tokens_are_renewed_when_they_would_end_soon_or_point_elsewhere() {
        let prefix = ClassPrefix::default();
        let desired = desired(4, &QuotaLimits::default());
        let (observed, mut files) = applied(&desired);
        files.insert(
            "learner-01".to_owned(),
            KubeconfigFound::Found(Existing {
                server: SERVER.to_owned(),
                namespace: "learner-01".to_owned(),
                token: token(now().as_second() + 600),
            }),
        );
        files.insert(
            "learner-02".to_owned(),
            KubeconfigFound::Found(Existing {
                server: "https://old:6443".to_owned(),
                namespace: "learner-02".to_owned(),
                token: token(now().as_second() + 8 * 3600),
            }),
        );
        files.insert("learner-03".to_owned(), KubeconfigFound::Unreadable);
        files.remove("learner-04");
        let plan = plan_up(&wanted(&prefix, 4, &desired), &observed, &files).expect("plans");
        let reasons: Vec<_> = plan.tokens.iter().map(|t| t.reason.clone()).collect();
        assert!(matches!(reasons[0], TokenReason::ExpiresSoon(Some(_))));
        assert_eq!(
            reasons[1],
            TokenReason::Elsewhere("server https://old:6443".to_owned())
        );
        assert_eq!(reasons[2], TokenReason::Unreadable);
        assert_eq!(reasons[3], TokenReason::NoFile);
        assert!(plan.create.is_empty());
        let _ = kubeconfig::token_expiry;
    }

    #[test]
    fn fewer_learners_leave_the_rest_alone_and_down_takes_only_the_class() {
        let prefix = ClassPrefix::default();
        let desired5 = desired(5, &QuotaLimits::default());
        let (mut observed, files) = applied(&desired5);
        let desired3 = desired(3, &QuotaLimits::default());
        let plan = plan_up(&wanted(&prefix, 3, &desired3), &observed, &files).expect("plans");
        assert_eq!(plan.beyond, ["learner-04", "learner-05"]);
        assert!(plan.is_empty());

        observed
            .namespaces
            .insert("kube-system".to_owned(), BTreeMap::new());
        let on_disk: BTreeSet<String> = ["learner-01", "learner-05", "notes"]
            .map(str::to_owned)
            .into();
        // A class made with the prefix `learner` shares the label value `learner`.
        let other = desired_with(&"learner".parse().expect("prefix"), 2);
        let (theirs, _) = applied(&other);
        observed.objects.extend(theirs.objects);
        let down = plan_down(&prefix, &observed, &on_disk);
        assert_eq!(down.namespaces.len(), 5);
        assert!(down.namespaces.iter().all(|n| n.starts_with("learner-")));
        assert!(down.strays.is_empty(), "{:?}", down.strays);
        assert_eq!(down.kubeconfigs, ["learner-01", "learner-05"]);
    }
}

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
pub(crate) const RENEW_WITHIN_SECONDS: i64 = 3600;

/// What the cluster holds, from the reads of `class up`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Observed {
    /// Every namespace on the cluster, with its labels.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// The class's objects (found by its label), by kind, namespace and name.
    pub objects: BTreeMap<(ObjectKind, String, String), Value>,
}

/// A learner's kubeconfig file as found in the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KubeconfigFound {
    Missing,
    /// There, but not a kubeconfig this tool wrote (it is replaced).
    Unreadable,
    Found(Existing),
}

/// Why a learner gets a new token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenReason {
    NoFile,
    Unreadable,
    /// The file points at another cluster or namespace.
    Elsewhere(String),
    /// The ServiceAccount is created now: tokens of an earlier one no longer count.
    NewAccount,
    ExpiresSoon(Option<Timestamp>),
}

impl TokenReason {
    pub(crate) fn describe(&self) -> String {
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
pub(crate) struct TokenIssue {
    pub namespace: String,
    pub reason: TokenReason,
}

/// What `class up` will do.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct UpPlan {
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
    pub(crate) fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.tokens.is_empty()
    }

    /// The objects `kubectl apply` is given, in creation order.
    pub(crate) fn to_apply(&self) -> Vec<&ClassObject> {
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
pub(crate) enum PlanError {
    #[error(
        "namespace(s) {} already exist and are not this class's (no `{CLASS_LABEL}={label}` label): sidecar-lab never takes over a namespace it did not create. Choose another --prefix, or remove them",
        .names.join(", ")
    )]
    Taken { names: Vec<String>, label: String },
}

/// The inputs of `plan_up` besides the observations.
pub(crate) struct Wanted<'a> {
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
pub(crate) fn plan_up(
    wanted: &Wanted<'_>,
    observed: &Observed,
    kubeconfigs: &BTreeMap<String, KubeconfigFound>,
) -> Result<UpPlan, PlanError> {
    refuse_taken(wanted, observed)?;
    let mut plan = UpPlan::default();
    let changes = plan_objects(&mut plan, wanted, observed);
    plan_tokens(&mut plan, wanted, kubeconfigs, &changes);
    plan_left_alone(&mut plan, wanted, observed);
    Ok(plan)
}

/// Refuses learner namespaces that exist without this class's label.
fn refuse_taken(wanted: &Wanted<'_>, observed: &Observed) -> Result<(), PlanError> {
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
    if taken.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Taken {
            names: taken,
            label: label.to_owned(),
        })
    }
}

/// Which learners' objects `plan_objects` changes.
#[derive(Default)]
struct Changes {
    /// Namespaces whose ServiceAccount is created now.
    new_accounts: BTreeSet<String>,
    /// Namespaces with any object created or updated.
    changed_learners: BTreeSet<String>,
}

/// The desired objects missing from the cluster (created) or differing in a field the
/// class decides (updated).
fn plan_objects(plan: &mut UpPlan, wanted: &Wanted<'_>, observed: &Observed) -> Changes {
    let mut changes = Changes::default();
    for object in wanted.desired {
        let key = object.key();
        let namespace = key.1.clone();
        // A namespace of the class is in `objects` (read by label); one without the label
        // was refused above.
        match observed.objects.get(&key) {
            None => {
                if object.kind == ObjectKind::ServiceAccount {
                    changes.new_accounts.insert(namespace.clone());
                }
                changes.changed_learners.insert(namespace);
                plan.create.push(object.clone());
            }
            Some(current) => {
                let differing = differing_fields(object, current);
                if !differing.is_empty() {
                    changes.changed_learners.insert(namespace);
                    plan.update.push((object.clone(), differing));
                }
            }
        }
    }
    changes
}

/// The decided fields in which `current` differs from `object`, as `spec.hard`.
fn differing_fields(object: &ClassObject, current: &Value) -> Vec<String> {
    decided_fields(object.kind)
        .iter()
        .filter(|field| object.manifest.pointer(field) != current.pointer(field))
        .map(|field| {
            field
                .trim_start_matches('/')
                .replace('/', ".")
                .replace("~1", "/")
        })
        .collect()
}

/// A token for each learner whose account is new or whose kubeconfig will not do; the
/// others, untouched, are unchanged.
fn plan_tokens(
    plan: &mut UpPlan,
    wanted: &Wanted<'_>,
    kubeconfigs: &BTreeMap<String, KubeconfigFound>,
    changes: &Changes,
) {
    for n in 1..=wanted.learners {
        let namespace = wanted.prefix.namespace(n);
        let reason = if changes.new_accounts.contains(&namespace) {
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
            None if !changes.changed_learners.contains(&namespace) => {
                plan.unchanged.push(namespace);
            }
            None => {}
        }
    }
}

/// What the class has beyond the plan: learners past `--learners` and quotas no
/// `--quota-*` asks for any more, both left as they are.
fn plan_left_alone(plan: &mut UpPlan, wanted: &Wanted<'_>, observed: &Observed) {
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
pub(crate) struct DownPlan {
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
    pub(crate) fn is_empty(&self) -> bool {
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
pub(crate) fn plan_down(
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
mod tests;

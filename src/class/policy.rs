//! The class's one admission rule, for what RBAC cannot say: no pod (nor Job's pod
//! template) in a learner namespace may run as the learner's own ServiceAccount, whose
//! token would then be readable from inside the pod and outlive `--duration`, nor name a
//! priority class (which would preempt other learners' pods); a
//! learner may create a ResourceQuota only under the quota step's own name, the one name
//! their Role lets them delete, and a ConfigMap only under the progress ConfigMap's
//! name, the one their Role lets them write. A ValidatingAdmissionPolicy and its Binding,
//! cluster-scoped, labelled as the class's. Pure.

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, NamedRuleWithOperations, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBindingSpec,
    ValidatingAdmissionPolicySpec, Validation,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::objects::{ClassObject, ObjectKind, object};
use super::{CLASS_LABEL, ClassPrefix, LEARNER_ACCOUNT, MANAGED_BY, PART_OF};
use crate::lab::PROGRESS_CONFIGMAP;
use crate::version::MinorVersion;

/// The first minor that serves `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy
/// (GA in 1.30: KEP-3488).
pub(crate) const FIRST_MINOR: MinorVersion = MinorVersion::new(1, 30);

/// The only ResourceQuota name a learner may create: the quota step's
/// (`render::step::quota_name`), the one their Role lets them delete again.
pub(crate) const LEARNER_QUOTA: &str = "sidecar-lab-step-4";

/// The class's own quota in each learner namespace (`templates/class-learner.yaml`).
const CLASS_QUOTA: &str = "sidecar-lab-learner";

/// Whether a cluster of `minor` has the policy API; an unknown minor is taken as new.
pub(crate) fn served(minor: Option<MinorVersion>) -> bool {
    minor.is_none_or(|minor| minor >= FIRST_MINOR)
}

/// The policy's name (and its binding's): one per class.
pub(crate) fn name(prefix: &ClassPrefix) -> String {
    format!("sidecar-lab-class-{}", prefix.label())
}

/// The policy and its binding, in creation order.
pub fn objects(prefix: &ClassPrefix) -> Vec<ClassObject> {
    let name = name(prefix);
    let metadata = metadata(prefix, &name);
    // Only the class's namespaces: they carry its label, which a learner cannot change
    // (their Role has nothing on namespaces).
    let namespaces = LabelSelector {
        match_labels: Some([(CLASS_LABEL.to_owned(), prefix.label().to_owned())].into()),
        ..LabelSelector::default()
    };
    let rule = |group: &str, resources: &[&str]| NamedRuleWithOperations {
        api_groups: Some(vec![group.to_owned()]),
        api_versions: Some(vec!["v1".to_owned()]),
        operations: Some(vec!["CREATE".to_owned(), "UPDATE".to_owned()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        scope: Some("*".to_owned()),
        ..NamedRuleWithOperations::default()
    };
    // What the API server would fill in (pkg/apis/admissionregistration/v1/defaults.go
    // SetDefaults_MatchResources, SetDefaults_Rule), written out so that what `class up`
    // reads back compares field for field with what it sends (`objects::decided_fields`).
    let match_resources = |rules: Option<Vec<NamedRuleWithOperations>>| MatchResources {
        namespace_selector: Some(namespaces.clone()),
        object_selector: Some(LabelSelector::default()),
        match_policy: Some("Equivalent".to_owned()),
        resource_rules: rules,
        ..MatchResources::default()
    };
    let policy = ValidatingAdmissionPolicy {
        metadata: metadata.clone(),
        spec: Some(ValidatingAdmissionPolicySpec {
            failure_policy: Some("Fail".to_owned()),
            match_constraints: Some(match_resources(Some(vec![
                rule("", &["pods", "resourcequotas", "configmaps"]),
                rule("batch", &["jobs"]),
            ]))),
            validations: Some(validations()),
            ..ValidatingAdmissionPolicySpec::default()
        }),
        ..ValidatingAdmissionPolicy::default()
    };
    let binding = ValidatingAdmissionPolicyBinding {
        metadata,
        spec: ValidatingAdmissionPolicyBindingSpec {
            policy_name: name,
            validation_actions: vec!["Deny".to_owned()],
            match_resources: Some(match_resources(None)),
            ..ValidatingAdmissionPolicyBindingSpec::default()
        },
    };
    vec![
        object(ObjectKind::ValidatingAdmissionPolicy, None, &policy),
        object(ObjectKind::ValidatingAdmissionPolicyBinding, None, &binding),
    ]
}

/// The policy's and the binding's metadata: their name, labelled as the class's.
fn metadata(prefix: &ClassPrefix, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(
            [
                (PART_OF.0.to_owned(), PART_OF.1.to_owned()),
                (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
                (CLASS_LABEL.to_owned(), prefix.label().to_owned()),
            ]
            .into(),
        ),
        ..ObjectMeta::default()
    }
}

/// The rules, in CEL. Each names the resource it is about, so one policy serves all
/// three; `has()` guards every optional field (a missing field is an error in CEL, and
/// an error is a refusal under `failurePolicy: Fail`).
fn validations() -> Vec<Validation> {
    let mut rules = account_rules();
    rules.extend(priority_rules());
    rules.push(quota_rule());
    rules.push(configmap_rule());
    rules
}

/// A rule that refuses, as Forbidden, whatever does not pass `expression`.
fn forbid(expression: String, message: String) -> Validation {
    Validation {
        expression,
        message: Some(message),
        reason: Some("Forbidden".to_owned()),
        ..Validation::default()
    }
}

/// No pod, nor Job's pod template, runs as the learner's own ServiceAccount.
fn account_rules() -> Vec<Validation> {
    let account = LEARNER_ACCOUNT;
    // `serviceAccount` is the deprecated twin of `serviceAccountName`; the server copies
    // one to the other, but both are checked so that neither is a way round.
    let not_learner = |spec: &str| {
        format!(
            "(!has({spec}.serviceAccountName) || {spec}.serviceAccountName != '{account}') && (!has({spec}.serviceAccount) || {spec}.serviceAccount != '{account}')"
        )
    };
    vec![
        forbid(
            format!(
                "request.resource.resource != 'pods' || ({})",
                not_learner("object.spec")
            ),
            format!(
                "pods in a class's namespace may not run as the ServiceAccount `{account}`: its token is the learner's own (sidecar-lab class)"
            ),
        ),
        forbid(
            format!(
                "request.resource.resource != 'jobs' || ({})",
                not_learner("object.spec.template.spec")
            ),
            format!(
                "Jobs in a class's namespace may not run their pods as the ServiceAccount `{account}`: its token is the learner's own (sidecar-lab class)"
            ),
        ),
    ]
}

/// A priority class lets a pod preempt (evict) other learners' pods, and the cluster's
/// own `system-node-critical` outranks everything on the node. The lab names none, so
/// none is allowed; the server refuses a bare `priority` number that no class gave
/// (plugin/pkg/admission/priority/admission.go).
fn priority_rules() -> Vec<Validation> {
    // Only the two built-in critical classes: every other `system-` name is refused by
    // the API server's PriorityClass validation, and a cluster's `globalDefault` class,
    // which the Priority plugin writes into every pod before this policy runs, must not
    // refuse the lab's own pods.
    let no_priority = |spec: &str| {
        format!(
            "!has({spec}.priorityClassName) || !({spec}.priorityClassName in ['system-node-critical', 'system-cluster-critical'])"
        )
    };
    vec![
        forbid(
            format!(
                "request.resource.resource != 'pods' || ({})",
                no_priority("object.spec")
            ),
            "pods in a class's namespace may not use a system-critical priorityClassName: it would preempt other learners' pods (sidecar-lab class)".to_owned(),
        ),
        forbid(
            format!(
                "request.resource.resource != 'jobs' || ({})",
                no_priority("object.spec.template.spec")
            ),
            "Jobs in a class's namespace may not give their pods a system-critical priorityClassName: it would preempt other learners' pods (sidecar-lab class)".to_owned(),
        ),
    ]
}

/// Learners act as ServiceAccounts, the instructor usually as a user. The rule holds for
/// every ServiceAccount (CEL has no way to name "this namespace's `learner`" without
/// string building), so the class's own quota name is allowed too: an instructor on a
/// ServiceAccount token can still set the class up, and a learner cannot make that quota
/// (it exists from `class up` on).
fn quota_rule() -> Validation {
    forbid(
        format!(
            "request.resource.resource != 'resourcequotas' || !('system:serviceaccounts' in request.userInfo.groups) || object.metadata.name in ['{LEARNER_QUOTA}', '{CLASS_QUOTA}']"
        ),
        format!(
            "a learner may create only the ResourceQuota `{LEARNER_QUOTA}` (the lab's quota step), the one they can delete again (sidecar-lab class)"
        ),
    )
}

/// The progress ConfigMap is the only one a learner needs (`submit` records attempts in
/// it); RBAC cannot limit `create` by name, this rule does. `kube-root-ca.crt` stays
/// allowed: the root CA publisher, a ServiceAccount of kube-system when the controller
/// manager uses per-controller credentials (kubeadm's default), makes it in every
/// namespace, and pods mount it (the ServiceAccount admission's projected volume).
fn configmap_rule() -> Validation {
    forbid(
        format!(
            "request.resource.resource != 'configmaps' || !('system:serviceaccounts' in request.userInfo.groups) || object.metadata.name in ['{PROGRESS_CONFIGMAP}', '{ROOT_CA_CONFIGMAP}']"
        ),
        format!(
            "a learner may create only the ConfigMap `{PROGRESS_CONFIGMAP}` (where `sidecar-lab submit` records their exercises) (sidecar-lab class)"
        ),
    )
}

/// The ConfigMap the root CA publisher keeps in every namespace
/// (pkg/controller/certificates/rootcacertpublisher).
const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_policy_and_binding_per_class_labelled_as_its() {
        let prefix: ClassPrefix = "ws-".parse().expect("prefix");
        let objects = objects(&prefix);
        let kinds: Vec<_> = objects.iter().map(|o| o.kind).collect();
        assert_eq!(
            kinds,
            [
                ObjectKind::ValidatingAdmissionPolicy,
                ObjectKind::ValidatingAdmissionPolicyBinding
            ]
        );
        for object in &objects {
            assert_eq!(object.name, "sidecar-lab-class-ws");
            assert_eq!(object.namespace, None);
            assert_eq!(object.manifest["metadata"]["labels"][CLASS_LABEL], "ws");
            assert_eq!(object.key().1, "");
        }
        let policy = &objects[0].manifest;
        assert_eq!(
            policy["spec"]["matchConstraints"]["namespaceSelector"]["matchLabels"][CLASS_LABEL],
            "ws"
        );
        assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
        assert_eq!(
            objects[1].manifest["spec"]["policyName"],
            "sidecar-lab-class-ws"
        );
        assert_eq!(objects[1].manifest["spec"]["validationActions"][0], "Deny");
    }

    #[test]
    fn the_rules_name_the_learner_account_and_the_quota_steps_name() {
        let rules: Vec<String> = validations().into_iter().map(|v| v.expression).collect();
        assert!(rules[0].contains("object.spec.serviceAccountName != 'learner'"));
        assert!(rules[1].contains("object.spec.template.spec.serviceAccountName != 'learner'"));
        assert!(rules[2].contains(
            "!(object.spec.priorityClassName in ['system-node-critical', 'system-cluster-critical'])"
        ));
        assert!(rules[3].contains("!has(object.spec.template.spec.priorityClassName)"));
        assert!(rules[4].contains("['sidecar-lab-step-4', 'sidecar-lab-learner']"));
        assert!(rules[5].contains("['sidecar-lab-exercises', 'kube-root-ca.crt']"));
        let template = crate::class::objects::Template::embedded().expect("template");
        let quota = crate::class::objects::QuotaLimits::default();
        let objects = template.learner(&ClassPrefix::default(), 1, &quota);
        assert_eq!(objects[4].name, CLASS_QUOTA);
        assert_eq!(
            LEARNER_QUOTA,
            crate::render::step::quota_name(crate::lab::StepNumber(4))
        );
    }

    #[test]
    fn the_policy_api_is_there_from_1_30() {
        assert!(!served(Some(MinorVersion::new(1, 29))));
        assert!(served(Some(MinorVersion::new(1, 30))));
        assert!(served(None));
    }
}

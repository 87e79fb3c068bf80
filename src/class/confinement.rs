//! What a class enforces in each learner's namespace, decided once from the cluster's
//! minor and the `--quota-*` flags: the objects to make, and the facts `class up` states
//! (text and JSON). Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::objects::{ClassObject, QuotaLimits, Template, pod_security_version};
use super::{ClassPrefix, policy};
use crate::version::MinorVersion;

/// The rules a class puts on its learners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Confinement {
    /// `pod-security.kubernetes.io/enforce`, and the level only warned about and audited.
    pub pod_security_enforce: &'static str,
    pub pod_security_warn: &'static str,
    pub pod_security_version: String,
    /// Each learner's ResourceQuota, `spec.hard`.
    pub quota: BTreeMap<String, String>,
    /// The container defaults of the LimitRange.
    pub default_requests: BTreeMap<String, String>,
    /// The LimitRange's default limits (ephemeral storage).
    pub default_limits: BTreeMap<String, String>,
    pub network_policy: &'static str,
    /// Whether the admission policy is made: the cluster serves it (1.30+).
    pub admission_policy: Option<String>,
    /// The cluster's minor when it said, for the message when the policy is missing.
    #[serde(skip)]
    pub minor: Option<MinorVersion>,
}

impl Confinement {
    /// The rules for a cluster of `minor` and the flags' `quota`.
    pub(crate) fn decide(
        template: &Template,
        prefix: &ClassPrefix,
        minor: Option<MinorVersion>,
        quota: &QuotaLimits,
    ) -> Self {
        Self {
            pod_security_enforce: "baseline",
            pod_security_warn: "restricted",
            pod_security_version: pod_security_version(minor),
            quota: quota
                .hard(&template.default_quota())
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
            default_requests: template
                .default_requests()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
            default_limits: template
                .default_limits()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect(),
            network_policy: "default-deny, ingress and egress",
            admission_policy: policy::served(minor).then(|| policy::name(prefix)),
            minor,
        }
    }

    /// Every object of the class: each learner's, then the cluster-wide policy.
    pub(crate) fn objects(
        &self,
        template: &Template,
        prefix: &ClassPrefix,
        learners: u32,
        quota: &QuotaLimits,
    ) -> Vec<ClassObject> {
        let mut objects: Vec<ClassObject> = (1..=learners)
            .flat_map(|n| template.learner_at(prefix, n, quota, &self.pod_security_version))
            .collect();
        if self.admission_policy.is_some() {
            objects.extend(policy::objects(prefix));
        }
        objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_cluster_gets_the_policy_and_an_old_one_does_not() {
        let template = Template::embedded().expect("template");
        let prefix = ClassPrefix::default();
        let new = Confinement::decide(
            &template,
            &prefix,
            Some(MinorVersion::new(1, 34)),
            &QuotaLimits::default(),
        );
        assert_eq!(new.pod_security_version, "v1.34");
        assert_eq!(
            new.admission_policy.as_deref(),
            Some("sidecar-lab-class-learner")
        );
        assert_eq!(new.quota["count/jobs.batch"], "50");
        assert_eq!(new.quota["count/pods"], "200");
        assert_eq!(new.quota["persistentvolumeclaims"], "0");
        assert_eq!(new.default_limits["ephemeral-storage"], "1Gi");
        assert_eq!(new.default_requests["ephemeral-storage"], "0");
        let objects = new.objects(&template, &prefix, 2, &QuotaLimits::default());
        assert_eq!(objects.len(), 2 * 7 + 2);
        assert_eq!(
            objects[0].manifest["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"],
            "v1.34"
        );

        let old = Confinement::decide(
            &template,
            &prefix,
            Some(MinorVersion::new(1, 29)),
            &QuotaLimits::default(),
        );
        assert_eq!(old.admission_policy, None);
        assert_eq!(
            old.objects(&template, &prefix, 2, &QuotaLimits::default())
                .len(),
            14
        );
    }

    #[test]
    fn a_quota_flag_replaces_only_its_line() {
        let template = Template::embedded().expect("template");
        let quota = QuotaLimits {
            cpu: Some("3".parse().expect("q")),
            memory: None,
            pods: Some(12),
        };
        let rules = Confinement::decide(&template, &ClassPrefix::default(), None, &quota);
        assert_eq!(rules.quota["requests.cpu"], "3");
        assert_eq!(rules.quota["pods"], "12");
        assert_eq!(rules.quota["requests.memory"], "4Gi");
        assert_eq!(rules.quota["count/jobs.batch"], "50");
        assert_eq!(rules.pod_security_version, "latest");
    }
}

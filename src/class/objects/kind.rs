//! The kinds a class is made of, as the API and `kubectl get` name them. Pure.

use std::fmt;

use serde::Serialize;

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
    pub(crate) const ALL: [Self; 9] = [
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
    pub(crate) const fn cluster_wide(self) -> bool {
        matches!(
            self,
            Self::ValidatingAdmissionPolicy | Self::ValidatingAdmissionPolicyBinding
        )
    }

    /// The kind as the API names it.
    pub(crate) const fn name(self) -> &'static str {
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
    pub(crate) const fn resource(self) -> &'static str {
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

    pub(crate) fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == kind)
    }
}

/// The resources of the class's kinds, comma-separated for one `kubectl get`; the
/// cluster-wide ones only when the cluster serves them.
pub(crate) fn resources(cluster_wide: bool) -> String {
    ObjectKind::ALL
        .into_iter()
        .filter(|kind| cluster_wide || !kind.cluster_wide())
        .map(ObjectKind::resource)
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

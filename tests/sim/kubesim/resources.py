"""The resources the simulated API server serves: group, kind, scope and short names, as
the real server's discovery lists them (kubectl api-resources on a kind cluster)."""

RBAC = "rbac.authorization.k8s.io"
ADMISSION = "admissionregistration.k8s.io"
# resource -> (group, kind, namespaced, short names); every group serves version v1.
RESOURCES = {
    "namespaces": ("", "Namespace", False, ["ns"]),
    "nodes": ("", "Node", False, ["no"]),
    "pods": ("", "Pod", True, ["po"]),
    "configmaps": ("", "ConfigMap", True, ["cm"]),
    "events": ("", "Event", True, ["ev"]),
    "serviceaccounts": ("", "ServiceAccount", True, ["sa"]),
    "resourcequotas": ("", "ResourceQuota", True, ["quota"]),
    "limitranges": ("", "LimitRange", True, ["limits"]),
    "jobs": ("batch", "Job", True, []),
    "networkpolicies": ("networking.k8s.io", "NetworkPolicy", True, ["netpol"]),
    "roles": (RBAC, "Role", True, []),
    "rolebindings": (RBAC, "RoleBinding", True, []),
    "clusterroles": (RBAC, "ClusterRole", False, []),
    "clusterrolebindings": (RBAC, "ClusterRoleBinding", False, []),
    "validatingadmissionpolicies": (ADMISSION, "ValidatingAdmissionPolicy", False, []),
    "validatingadmissionpolicybindings": (ADMISSION, "ValidatingAdmissionPolicyBinding", False, []),
}
# resource -> the first minor that serves it (kubesim/vap.py served).
FIRST_MINOR = {"validatingadmissionpolicies": 30, "validatingadmissionpolicybindings": 30}
GROUPS = {name: spec[0] for name, spec in RESOURCES.items()}
NAMESPACED = {name: spec[2] for name, spec in RESOURCES.items()}
KIND = {name: spec[1] for name, spec in RESOURCES.items()}


def api_version(resource):
    group = GROUPS[resource]
    return f"{group}/v1" if group else "v1"


def served(resource, minor):
    return minor >= FIRST_MINOR.get(resource, 0)


def by_group(minor=99):
    """group -> its resources a minor serves, in discovery order."""
    out = {}
    for name, (group, *_rest) in RESOURCES.items():
        if served(name, minor):
            out.setdefault(group, []).append(name)
    return out

"""What the API server does to an object before it stores it: strict decoding against the
minor's schema, defaulting, dropping disabled fields, and validation.

Sources (kubernetes/kubernetes): pkg/api/pod/util.go dropDisabledPodFields (a gate-off
server drops initContainers[].restartPolicy silently, sidecar-facts §2);
pkg/registry/batch/job/strategy.go (PrepareForCreate drops before Validate; the selector
and the controller-uid/job-name labels); pkg/apis/core/validation/validation.go
(validateInitContainers, validateContainers: "may not be set for non-init containers",
"may not be set for init containers without restartPolicy=Always"); pkg/apis/batch/
validation (restartPolicy OnFailure|Never; template immutable); pkg/apis/core/v1/defaults.go.
Strict decoding errors are worded as apimachinery's strict serializer words them.
"""

import copy
import re

from . import status
from .resources import RESOURCES

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

KINDS = {name: (spec[1], spec[0], "v1") for name, spec in RESOURCES.items()}


def _path(parts):
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


_VALIDATORS = {}


def _validator(kind, api_version, minor):
    """The strict JSON schema of `kind` for the minor, from kubernetes-validate's copy of
    the official OpenAPI schemas (built as kubernetes_validate.validate builds it, so
    that every error can be listed, not only the first)."""
    import jsonschema
    from referencing import Registry, Resource
    from kubernetes_validate import utils

    key = (kind, api_version, minor)
    if key not in _VALIDATORS:
        wanted = utils.major_minor(f"1.{minor}")
        version = [v for v in utils.all_versions() if utils.major_minor(v) <= wanted][-1]
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        folder = f"v{version}-local-strict"
        schema = utils.schema_contents(
            f"kubernetes-json-schema/{folder}/{kind.lower()}-{group_version}.json", f"1.{minor}")
        definitions = utils.schema_contents(f"kubernetes-json-schema/{folder}/_definitions.json",
                                            f"1.{minor}")
        registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
        _VALIDATORS[key] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return _VALIDATORS[key]


def _path(parts):
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def strict_decode(obj, resource, minor):
    """400 BadRequest naming every field the minor's schema does not know, as with
    fieldValidation=Strict (kubectl's default, --validate=strict)."""
    kind, group, version = KINDS[resource]
    api_version = f"{group}/{version}" if group else version
    errors = list(_validator(kind, api_version, minor).iter_errors(obj))
    if not errors:
        return
    unknown, other = [], []
    for error in errors:
        path = _path(error.absolute_path)
        names = re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
        if names:
            unknown += [f'unknown field "{path + "." if path else ""}{n}"' for n in names]
        else:
            other.append(f"{path}: {error.message}")
    detail = "strict decoding error: " + ", ".join(sorted(unknown)) if unknown else other[0]
    raise status.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {detail}')


def _default_container(container):
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    image = container.get("image", "")
    tag = image.rsplit("/", 1)[-1]
    if "imagePullPolicy" not in container:
        latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        container["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    for port in container.get("ports", []) or []:
        port.setdefault("protocol", "TCP")


def default_pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        _default_container(container)


def drop_disabled_fields(spec, gates, old_spec=None):
    """dropDisabledPodFields: without SidecarContainers the server removes
    initContainers[].restartPolicy, unless the old object already used it."""
    if gates.get("SidecarContainers", True):
        return
    in_use = any(c.get("restartPolicy") for c in (old_spec or {}).get("initContainers") or [])
    if in_use:
        return
    for container in spec.get("initContainers") or []:
        container.pop("restartPolicy", None)


def validate_pod_spec(spec, base, gates, job_template=False):
    """Field errors as (path, type, detail)."""
    errors = []
    names = set()
    inits = spec.get("initContainers") or []
    containers = spec.get("containers") or []
    if not containers:
        errors.append((f"{base}.containers", "Required value", ""))
    restart_rules = gates.get("ContainerRestartRules", False)
    for kind, items in (("initContainers", inits), ("containers", containers)):
        for index, container in enumerate(items):
            path = f"{base}.{kind}[{index}]"
            name = container.get("name", "")
            if not name:
                errors.append((f"{path}.name", "Required value", ""))
            elif not DNS1123_LABEL.match(name) or len(name) > 63:
                errors.append((
                    f"{path}.name", "Invalid value",
                    f"\"{name}\": a lowercase RFC 1123 label must consist of lower case "
                    "alphanumeric characters or '-', and must start and end with an "
                    "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                ))
            elif name in names:
                errors.append((f"{path}.name", "Duplicate value", f'"{name}"'))
            names.add(name)
            if not container.get("image", "").strip():
                errors.append((f"{path}.image", "Required value", ""))
            policy = container.get("restartPolicy")
            if kind == "initContainers":
                # Without ContainerRestartRules only `Always` (a sidecar); with it, an init
                # container may also name Never or OnFailure — and nothing else, ever.
                allowed = ("Always", "Never", "OnFailure") if restart_rules else ("Always",)
                if policy is not None and policy not in allowed:
                    errors.append((
                        f"{path}.restartPolicy", "Unsupported value",
                        f'"{policy}": supported values: ' + ", ".join(f'"{a}"' for a in allowed),
                    ))
                if policy != "Always":
                    for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                        if field in container:
                            errors.append((
                                f"{path}.{field}", "Forbidden",
                                "may not be set for init containers without restartPolicy=Always",
                            ))
            elif policy is not None:
                if not restart_rules:
                    errors.append((
                        f"{path}.restartPolicy", "Forbidden",
                        "may not be set for non-init containers",
                    ))
                elif policy not in ("Always", "OnFailure", "Never"):
                    errors.append((
                        f"{path}.restartPolicy", "Unsupported value",
                        f'"{policy}": supported values: "Always", "Never", "OnFailure"',
                    ))
    policy = spec.get("restartPolicy")
    if job_template and policy not in ("OnFailure", "Never"):
        errors.append((
            f"{base}.restartPolicy", "Unsupported value",
            f'"{policy}": supported values: "OnFailure", "Never"',
        ))
    return errors


def _name_errors(obj, resource):
    meta = obj.get("metadata") or {}
    name = meta.get("name", "")
    if not name:
        return [("metadata.name", "Required value", "name or generateName is required")]
    if not DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        return [("metadata.name", "Invalid value",
                 f"\"{name}\": a lowercase RFC 1123 subdomain must consist of lower case "
                 "alphanumeric characters, '-' or '.', and must start and end with an "
                 "alphanumeric character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    if resource in ("jobs", "namespaces") and len(name) > 63:
        return [("metadata.name", "Invalid value", f'"{name}": must be no more than 63 characters')]
    return []


def admit_create(obj, resource, cluster):
    """Default, drop and validate a new object in place; raises ApiError."""
    kind, group, _ = KINDS[resource]
    meta = obj.setdefault("metadata", {})
    gates = cluster.gates
    errors = _name_errors(obj, resource)
    if resource == "jobs":
        spec = obj.setdefault("spec", {})
        template = spec.setdefault("template", {})
        pod_spec = template.setdefault("spec", {})
        drop_disabled_fields(pod_spec, gates)
        default_pod_spec(pod_spec)
        errors += validate_pod_spec(pod_spec, "spec.template.spec", gates, job_template=True)
        for field in ("activeDeadlineSeconds",):
            if field in spec and spec[field] <= 0:
                errors.append((f"spec.{field}", "Invalid value",
                               f"{spec[field]}: must be greater than zero"))
        if spec.get("backoffLimit", 0) < 0:
            errors.append(("spec.backoffLimit", "Invalid value",
                           f"{spec['backoffLimit']}: must be greater than or equal to 0"))
    elif resource == "pods":
        spec = obj.setdefault("spec", {})
        drop_disabled_fields(spec, gates)
        default_pod_spec(spec)
        errors += validate_pod_spec(spec, "spec", gates)
    elif resource in ("roles", "clusterroles"):
        errors += validate_rules(obj, namespaced=resource == "roles")
    elif resource in ("rolebindings", "clusterrolebindings"):
        errors += validate_binding(obj, namespaced=resource == "rolebindings")
    elif resource == "resourcequotas":
        from .quota import validate
        errors += validate(obj)
    if errors:
        raise status.invalid(kind, group, meta.get("name", ""), errors)


def validate_rules(role, namespaced):
    """pkg/apis/rbac/validation ValidatePolicyRule."""
    errors = []
    for index, rule in enumerate(role.get("rules") or []):
        path = f"rules[{index}]"
        if not rule.get("verbs"):
            errors.append((f"{path}.verbs", "Required value", "verbs must contain at least one value"))
        if rule.get("nonResourceURLs"):
            if namespaced:
                errors.append((f"{path}.nonResourceURLs", "Invalid value",
                               f"{rule['nonResourceURLs']}: namespaced rules cannot apply to non-resource URLs"))
            continue
        if not rule.get("apiGroups"):
            errors.append((f"{path}.apiGroups", "Required value",
                           "resource rules must supply at least one api group"))
        if not rule.get("resources"):
            errors.append((f"{path}.resources", "Required value",
                           "resource rules must supply at least one resource"))
    return errors


def validate_binding(binding, namespaced):
    """pkg/apis/rbac/validation ValidateRoleBinding / ValidateClusterRoleBinding."""
    errors = []
    ref = binding.get("roleRef") or {}
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        errors.append(("roleRef.apiGroup", "Unsupported value",
                       f'"{ref.get("apiGroup", "")}": supported values: "rbac.authorization.k8s.io"'))
    if ref.get("kind") not in kinds:
        errors.append(("roleRef.kind", "Unsupported value",
                       f'"{ref.get("kind", "")}": supported values: ' + ", ".join(f'"{k}"' for k in kinds)))
    if not ref.get("name"):
        errors.append(("roleRef.name", "Required value", ""))
    for index, subject in enumerate(binding.get("subjects") or []):
        path = f"subjects[{index}]"
        kind = subject.get("kind")
        if not subject.get("name"):
            errors.append((f"{path}.name", "Required value", ""))
        if kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errors.append((f"{path}.apiGroup", "Unsupported value",
                               f'"{subject["apiGroup"]}": supported values: ""'))
            if not namespaced and not subject.get("namespace"):
                errors.append((f"{path}.namespace", "Required value", ""))
        elif kind in ("User", "Group"):
            if subject.get("apiGroup") != "rbac.authorization.k8s.io":
                errors.append((f"{path}.apiGroup", "Unsupported value",
                               f'"{subject.get("apiGroup", "")}": supported values: "rbac.authorization.k8s.io"'))
        else:
            errors.append((f"{path}.kind", "Unsupported value",
                           f'"{kind}": supported values: "ServiceAccount", "User", "Group"'))
    return errors


def default_job(job, uid, minor):
    """The Job registry's PrepareForCreate and the defaulting of batch/v1."""
    spec = job["spec"]
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if minor >= 29:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    name = job["metadata"]["name"]
    generated = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
    labels.update(generated)
    job.setdefault("status", {})


def admit_update(old, new, resource, cluster):
    """Validation of an update (a patch or a replace); raises ApiError."""
    kind, group, _ = KINDS[resource]
    name = old["metadata"]["name"]
    if resource == "jobs":
        old_template = copy.deepcopy(old["spec"].get("template"))
        new_spec = new.setdefault("spec", {})
        pod_spec = new_spec.setdefault("template", {}).setdefault("spec", {})
        drop_disabled_fields(pod_spec, cluster.gates, old["spec"]["template"].get("spec"))
        default_pod_spec(pod_spec)
        errors = validate_pod_spec(pod_spec, "spec.template.spec", cluster.gates, job_template=True)
        if new_spec.get("template") != old_template:
            errors.append(("spec.template", "Invalid value", "field is immutable"))
        if new_spec.get("selector") != old["spec"].get("selector"):
            errors.append(("spec.selector", "Invalid value", "field is immutable"))
        if errors:
            raise status.invalid(kind, group, name, errors)
    elif resource in ("rolebindings", "clusterrolebindings"):
        errors = validate_binding(new, namespaced=resource == "rolebindings")
        if new.get("roleRef") != old.get("roleRef"):
            errors.append(("roleRef", "Invalid value",
                           f"{new.get('roleRef')}: cannot change roleRef"))
        if errors:
            raise status.invalid(kind, group, name, errors)
    elif resource in ("roles", "clusterroles"):
        errors = validate_rules(new, namespaced=resource == "roles")
        if errors:
            raise status.invalid(kind, group, name, errors)
    elif resource == "resourcequotas":
        from .quota import validate
        errors = validate(new)
        if errors:
            raise status.invalid(kind, group, name, errors)
    elif resource == "pods":
        if new.get("spec") != old.get("spec"):
            raise status.invalid(kind, group, name, [(
                "spec", "Forbidden",
                "pod updates may not change fields other than `spec.containers[*].image`, "
                "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
                "`spec.tolerations` (only additions to existing tolerations), "
                "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                "previously negative)",
            )])

"""What the API server does to an object before it stores it: strict decoding against the
minor's schema, defaulting, dropping disabled fields, and validation.

Sources (kubernetes/kubernetes): pkg/api/pod/util.go dropDisabledPodFields (a gate-off
server drops initContainers[].restartPolicy silently, sidecar-facts §2; with
ContainerRestartRules known and off, 1.34, dropContainerRestartRules);
pkg/registry/batch/job/strategy.go (PrepareForCreate drops before Validate; the selector
and the controller-uid/job-name labels); pkg/apis/core/validation/validation.go
(validateInitContainers, validateContainers: "may not be set for non-init containers",
"may not be set for init containers without restartPolicy=Always"); pkg/apis/batch/
validation (validateGeneratedSelector, restartPolicy OnFailure|Never; template immutable);
validateContainerCommon and its helpers for ports, env, volumeMounts, resources and
handlers; pkg/apis/core/v1/defaults.go (SetDefaults_Pod for pods only).
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


def _restart_rules_in_use(old_spec):
    """containerRestartRulesInUse: the old object already used the fields."""
    if not old_spec:
        return False
    for c in old_spec.get("initContainers") or []:
        if c.get("restartPolicy") not in (None, "Always") or c.get("restartPolicyRules"):
            return True
    return any(c.get("restartPolicy") is not None or c.get("restartPolicyRules")
               for c in old_spec.get("containers") or [])


def drop_disabled_fields(spec, gates, old_spec=None):
    """dropDisabledPodFields (pkg/api/pod/util.go), run by the Pod and Job strategies'
    PrepareForCreate/PrepareForUpdate before validation:
    - without SidecarContainers the server removes initContainers[].restartPolicy,
      unless the old object already used it;
    - with ContainerRestartRules known and off (1.34, alpha) dropContainerRestartRules
      removes restartPolicy and restartPolicyRules from every regular container, an init
      container's restartPolicy other than `Always`, and every init container's
      restartPolicyRules, unless the old object already used them. A minor that does not
      know the gate (before 1.34) drops nothing: validation refuses instead;
    - with ContainerStopSignals known and off, lifecycle.stopSignal is removed."""
    if not gates.get("SidecarContainers", True):
        in_use = any(c.get("restartPolicy") for c in (old_spec or {}).get("initContainers") or [])
        if not in_use:
            for container in spec.get("initContainers") or []:
                container.pop("restartPolicy", None)
    if "ContainerRestartRules" in gates and not gates["ContainerRestartRules"] \
            and not _restart_rules_in_use(old_spec):
        for container in spec.get("initContainers") or []:
            if container.get("restartPolicy") not in (None, "Always"):
                container.pop("restartPolicy", None)
            container.pop("restartPolicyRules", None)
        for container in spec.get("containers") or []:
            container.pop("restartPolicy", None)
            container.pop("restartPolicyRules", None)
    # dropContainerStopSignals (util.go): with ContainerStopSignals known and off, every
    # container's lifecycle.stopSignal goes, and a lifecycle that held only it goes too,
    # unless the old object already used it.
    if "ContainerStopSignals" in gates and not gates["ContainerStopSignals"] \
            and not _stop_signals_in_use(old_spec):
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            lifecycle = container.get("lifecycle")
            if isinstance(lifecycle, dict) and "stopSignal" in lifecycle:
                lifecycle.pop("stopSignal")
                if not lifecycle:
                    container.pop("lifecycle")


def _stop_signals_in_use(spec):
    return any(isinstance(c.get("lifecycle"), dict) and c["lifecycle"].get("stopSignal")
               for c in ((spec or {}).get("initContainers") or []) + ((spec or {}).get("containers") or []))


def default_pod(spec):
    """SetDefaults_Pod (pkg/apis/core/v1/defaults.go), for a Pod only, never a template:
    a container with limits but no request for a resource gets the limit as request."""
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        resources = container.get("resources")
        if not isinstance(resources, dict) or not resources.get("limits"):
            continue
        requests = resources.setdefault("requests", {})
        for name, value in resources["limits"].items():
            requests.setdefault(name, value)


DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
    "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
    "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
PORT_NAME = re.compile(r"^[-a-z0-9]+$")


def _go_map(mapping):
    """A map[string]string as Go's %#v prints it (sorted keys)."""
    inner = ", ".join(f'"{k}":"{v}"' for k, v in sorted((mapping or {}).items()))
    return "map[string]string{" + inner + "}"


def _label_selector_string(selector):
    """(*metav1.LabelSelector).String(), the generated printer field.Error uses for it."""
    labels = "".join(f"{k}: {v}," for k, v in sorted((selector.get("matchLabels") or {}).items()))
    expressions = "".join(
        "LabelSelectorRequirement{Key:%s,Operator:%s,Values:[%s],}," % (
            e.get("key", ""), e.get("operator", ""), " ".join(e.get("values") or []))
        for e in selector.get("matchExpressions") or [])
    return ("&LabelSelector{MatchLabels:map[string]string{" + labels + "},"
            "MatchExpressions:[]LabelSelectorRequirement{" + expressions + "},}")


def _env_name_errors(name, minor):
    """validation.IsEnvVarName, or IsRelaxedEnvVarName once RelaxedEnvironmentVariable-
    Validation is on (beta from 1.32, GA 1.34)."""
    from .versions import relaxed_env_var_names
    if relaxed_env_var_names(minor):
        if any(ord(ch) > 126 or ord(ch) < 32 or ch == "=" for ch in name):
            return ["a valid environment variable name must consist only of printable ASCII "
                    "characters other than '='"]
        return []
    errors = []
    if not ENV_NAME.match(name):
        errors.append(
            "a valid environment variable name must consist of alphabetic characters, digits, "
            "'_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
            "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
            "'[-._a-zA-Z][-._a-zA-Z0-9]*')")
    if name == ".":
        errors.append("must not be '.'")
    elif name == "..":
        errors.append("must not be '..'")
    elif name.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _port_name_errors(name):
    """validation.IsValidPortName."""
    errors = []
    if len(name) > 15:
        errors.append("must be no more than 15 characters")
    if not PORT_NAME.match(name):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        errors.append("must contain at least one letter (a-z)")
    if "--" in name:
        errors.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def _quantity_text(resource, raw):
    """quantity.String(): the canonical form the API server prints."""
    from .quota import parse, render
    value = parse(raw)
    return render(resource, value) if value is not None else str(raw)


def _container_common(container, path, volumes, minor):
    """validateContainerCommon (pkg/apis/core/validation/validation.go), in its order:
    name, image, ports, env, volumeMounts, resources."""
    errors = []
    name = container.get("name", "")
    if not name:
        errors.append((f"{path}.name", "Required value", ""))
    elif not DNS1123_LABEL.match(name) or len(name) > 63:
        errors.append((f"{path}.name", "Invalid value", f'"{name}": {DNS1123_LABEL_MESSAGE}'))
    if not container.get("image", ""):
        errors.append((f"{path}.image", "Required value", ""))
    # validateContainerPorts
    port_names = set()
    for i, port in enumerate(container.get("ports") or []):
        at = f"{path}.ports[{i}]"
        pname = port.get("name") or ""
        if pname:
            messages = _port_name_errors(pname)
            if messages:
                errors += [(f"{at}.name", "Invalid value", f'"{pname}": {m}') for m in messages]
            elif pname in port_names:
                errors.append((f"{at}.name", "Duplicate value", f'"{pname}"'))
            else:
                port_names.add(pname)
        number = port.get("containerPort", 0)
        if not number:
            errors.append((f"{at}.containerPort", "Required value", ""))
        elif not 1 <= number <= 65535:
            errors.append((f"{at}.containerPort", "Invalid value",
                           f"{number}: must be between 1 and 65535, inclusive"))
        host = port.get("hostPort", 0)
        if host and not 1 <= host <= 65535:
            errors.append((f"{at}.hostPort", "Invalid value",
                           f"{host}: must be between 1 and 65535, inclusive"))
        protocol = port.get("protocol", "")
        if not protocol:
            errors.append((f"{at}.protocol", "Required value", ""))
        elif protocol not in ("SCTP", "TCP", "UDP"):
            errors.append((f"{at}.protocol", "Unsupported value",
                           f'"{protocol}": supported values: "SCTP", "TCP", "UDP"'))
    # ValidateEnv, validateEnvVarValueFrom
    for i, env in enumerate(container.get("env") or []):
        at = f"{path}.env[{i}]"
        ename = env.get("name", "")
        if not ename:
            errors.append((f"{at}.name", "Required value", ""))
        else:
            errors += [(f"{at}.name", "Invalid value", f'"{ename}": {m}')
                       for m in _env_name_errors(ename, minor)]
        source = env.get("valueFrom")
        if source is None:
            continue
        count = sum(1 for key in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
                    if source.get(key) is not None)
        if count == 0:
            errors.append((f"{at}.valueFrom", "Invalid value",
                           '"": must specify one of: `fieldRef`, `resourceFieldRef`, '
                           "`configMapKeyRef` or `secretKeyRef`"))
        elif env.get("value"):
            errors.append((f"{at}.valueFrom", "Invalid value",
                           '"": may not be specified when `value` is not empty'))
        elif count > 1:
            errors.append((f"{at}.valueFrom", "Invalid value",
                           '"": may not have more than one field specified at a time'))
    # ValidateVolumeMounts
    mount_paths = set()
    for i, mount in enumerate(container.get("volumeMounts") or []):
        at = f"{path}.volumeMounts[{i}]"
        mname = mount.get("name", "")
        if not mname:
            errors.append((f"{at}.name", "Required value", ""))
        if mname not in volumes:
            errors.append((f"{at}.name", "Not found", f'"{mname}"'))
        mpath = mount.get("mountPath", "")
        if not mpath:
            errors.append((f"{at}.mountPath", "Required value", ""))
        if mpath in mount_paths:
            errors.append((f"{at}.mountPath", "Invalid value", f'"{mpath}": must be unique'))
        mount_paths.add(mpath)
    # ValidateResourceRequirements: each request at most its limit.
    from .quota import parse
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    for rname, raw in (resources.get("requests") or {}).items():
        if rname in limits and parse(raw) is not None and parse(limits[rname]) is not None \
                and parse(raw) > parse(limits[rname]):
            errors.append((
                f"{path}.resources.requests", "Invalid value",
                f'"{_quantity_text(rname, raw)}": must be less than or equal to {rname} limit '
                f"of {_quantity_text(rname, limits[rname])}"))
    return errors


def _handler_errors(handler, path, kinds):
    """validateHandler: exactly one handler type; an exec handler needs a command."""
    errors = []
    count = 0
    for kind in kinds:
        if handler.get(kind) is None:
            continue
        if count:
            errors.append((f"{path}.{kind}", "Forbidden", "may not specify more than 1 handler type"))
            continue
        count += 1
        if kind == "exec" and not (handler["exec"] or {}).get("command"):
            errors.append((f"{path}.exec.command", "Required value", ""))
    if count == 0:
        errors.append((path, "Required value", "must specify a handler type"))
    return errors


PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")


def _lifecycle_and_probes(container, path):
    errors = []
    lifecycle = container.get("lifecycle")
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            if (lifecycle or {}).get(hook) is not None:
                errors += _handler_errors(lifecycle[hook], f"{path}.lifecycle.{hook}",
                                          LIFECYCLE_HANDLERS)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if container.get(probe) is not None:
            errors += _handler_errors(container[probe] or {}, f"{path}.{probe}", PROBE_HANDLERS)
    return errors


def validate_pod_spec(spec, base, gates, job_template=False, minor=37):
    """Field errors as (path, type, detail), in ValidatePodSpec's order: volumes, then
    containers (validateContainers), then initContainers (validateInitContainers)."""
    errors = []
    volumes = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        vname = volume.get("name", "")
        if not vname:
            errors.append((f"{base}.volumes[{i}].name", "Required value", ""))
        elif vname in volumes:
            errors.append((f"{base}.volumes[{i}].name", "Duplicate value", f'"{vname}"'))
        volumes.add(vname)
    inits = spec.get("initContainers") or []
    containers = spec.get("containers") or []
    restart_rules = gates.get("ContainerRestartRules", False)
    if not containers:
        errors.append((f"{base}.containers", "Required value", ""))
    names = set()
    for index, container in enumerate(containers):
        path = f"{base}.containers[{index}]"
        errors += _container_common(container, path, volumes, minor)
        name = container.get("name", "")
        if name in names:
            errors.append((f"{path}.name", "Duplicate value", f'"{name}"'))
        names.add(name)
        errors += _lifecycle_and_probes(container, path)
        policy = container.get("restartPolicy")
        if policy is not None:
            if not restart_rules:
                errors.append((f"{path}.restartPolicy", "Forbidden",
                               "may not be set for non-init containers"))
            elif policy not in ("Always", "OnFailure", "Never"):
                errors.append((f"{path}.restartPolicy", "Unsupported value",
                               f'"{policy}": supported values: "Always", "Never", "OnFailure"'))
    for index, container in enumerate(inits):
        path = f"{base}.initContainers[{index}]"
        errors += _container_common(container, path, volumes, minor)
        policy = container.get("restartPolicy")
        # Without ContainerRestartRules only `Always` (a sidecar); with it, an init
        # container may also name Never or OnFailure — and nothing else, ever.
        allowed = ("Always", "Never", "OnFailure") if restart_rules else ("Always",)
        if policy is not None and policy not in allowed:
            errors.append((f"{path}.restartPolicy", "Unsupported value",
                           f'"{policy}": supported values: ' + ", ".join(f'"{a}"' for a in allowed)))
        name = container.get("name", "")
        if name in names:
            errors.append((f"{path}.name", "Duplicate value", f'"{name}"'))
        elif name:
            names.add(name)
        if policy == "Always":
            errors += _lifecycle_and_probes(container, path)
        else:
            for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if field in container:
                    errors.append((f"{path}.{field}", "Forbidden",
                                   "may not be set for init containers without restartPolicy=Always"))
    policy = spec.get("restartPolicy")
    if job_template:
        # pkg/apis/batch/validation validateJobSpec: Always (the pod default) is "Required".
        if policy in ("Always", "", None):
            errors.append((f"{base}.restartPolicy", "Required value",
                           'valid values: "OnFailure", "Never"'))
        elif policy not in ("OnFailure", "Never"):
            errors.append((f"{base}.restartPolicy", "Unsupported value",
                           f'"{policy}": supported values: "OnFailure", "Never"'))
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


def admit_create(obj, resource, cluster, uid=""):
    """Default, drop and validate a new object in place (the strategy's PrepareForCreate,
    then Validate, with `uid` already filled in as BeforeCreate fills it); raises
    ApiError."""
    kind, group, _ = KINDS[resource]
    meta = obj.setdefault("metadata", {})
    gates = cluster.gates
    minor = cluster.minor
    errors = _name_errors(obj, resource)
    if resource == "jobs":
        spec = obj.setdefault("spec", {})
        template = spec.setdefault("template", {})
        pod_spec = template.setdefault("spec", {})
        drop_disabled_fields(pod_spec, gates)
        default_pod_spec(pod_spec)
        default_job(obj, uid, minor)
        # ValidateJob: metadata, the generated selector, then ValidateJobSpec.
        errors += _generated_selector_errors(obj, uid)
        for field in ("activeDeadlineSeconds",):
            if field in spec and spec[field] <= 0:
                errors.append((f"spec.{field}", "Invalid value",
                               f"{spec[field]}: must be greater than zero"))
        if spec.get("backoffLimit", 0) < 0:
            errors.append(("spec.backoffLimit", "Invalid value",
                           f"{spec['backoffLimit']}: must be greater than or equal to 0"))
        errors += validate_pod_spec(pod_spec, "spec.template.spec", gates, job_template=True,
                                    minor=minor)
        labels = (template.get("metadata") or {}).get("labels") or {}
        if not _selector_matches(spec.get("selector") or {}, labels):
            errors.append(("spec.template.metadata.labels", "Invalid value",
                           f"{_go_map(labels)}: `selector` does not match template `labels`"))
    elif resource == "pods":
        spec = obj.setdefault("spec", {})
        drop_disabled_fields(spec, gates)
        default_pod_spec(spec)
        errors += validate_pod_spec(spec, "spec", gates, minor=minor)
    elif resource in ("roles", "clusterroles"):
        errors += validate_rules(obj, namespaced=resource == "roles")
    elif resource in ("rolebindings", "clusterrolebindings"):
        errors += validate_binding(obj, namespaced=resource == "rolebindings")
    elif resource == "resourcequotas":
        from .quota import validate
        errors += validate(obj)
    elif resource == "limitranges":
        from . import limitrange
        limitrange.default(obj)
        errors += limitrange.validate(obj)
    elif resource == "networkpolicies":
        from . import netpol
        netpol.default(obj)
        errors += netpol.validate(obj)
    elif resource == "validatingadmissionpolicies":
        from . import vap
        vap.default_policy(obj)
        errors += vap.validate_policy(obj)
    elif resource == "validatingadmissionpolicybindings":
        from . import vap
        vap.default_binding(obj)
        errors += vap.validate_binding(obj)
    if errors:
        raise status.invalid(kind, group, meta.get("name", ""), errors)


def _selector_matches(selector, labels):
    """metav1.LabelSelectorAsSelector(selector).Matches(labels), for matchLabels and the
    four matchExpressions operators."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, op = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _generated_selector_errors(job, uid):
    """validateGeneratedSelector (pkg/apis/batch/validation): unless manualSelector is
    true, the template must carry the generated labels and the selector must match them."""
    spec = job["spec"]
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    name = job["metadata"].get("name", "")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    errors = []
    expected = {
        "controller-uid": uid, "job-name": name,
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
    }
    for key, value in expected.items():
        path = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            errors.append((path, "Required value", value))
        elif labels[key] != value:
            errors.append((path, "Invalid value", f"{_go_map(labels)}: must be '{value}'"))
    if not _selector_matches(spec["selector"], expected):
        errors.append(("spec.selector", "Invalid value",
                       f"{_label_selector_string(spec['selector'])}: `selector` not auto-generated"))
    return errors


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
    """The defaulting of batch/v1 and the Job strategy's PrepareForCreate
    (generateSelector: unless manualSelector is true, the template gets the job-name and
    controller-uid labels it does not already have, and the selector gets
    batch.kubernetes.io/controller-uid added to what the user wrote)."""
    spec = job["spec"]
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if minor >= 29:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    if spec.get("manualSelector") is not True:
        name = job["metadata"].get("name", "")
        labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
        for key, value in (("controller-uid", uid), ("batch.kubernetes.io/controller-uid", uid),
                           ("job-name", name), ("batch.kubernetes.io/job-name", name)):
            labels.setdefault(key, value)
        selector = spec.get("selector") or {}
        spec["selector"] = selector
        selector.setdefault("matchLabels", {}).setdefault("batch.kubernetes.io/controller-uid", uid)
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
        errors = validate_pod_spec(pod_spec, "spec.template.spec", cluster.gates, job_template=True,
                                   minor=cluster.minor)
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
    elif resource in ("validatingadmissionpolicies", "validatingadmissionpolicybindings"):
        from . import vap
        policy = resource == "validatingadmissionpolicies"
        (vap.default_policy if policy else vap.default_binding)(new)
        errors = (vap.validate_policy if policy else vap.validate_binding)(new)
        if errors:
            raise status.invalid(kind, group, name, errors)
    elif resource in ("limitranges", "networkpolicies"):
        from . import limitrange, netpol
        module = limitrange if resource == "limitranges" else netpol
        module.default(new)
        errors = module.validate(new)
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

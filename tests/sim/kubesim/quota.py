"""ResourceQuota: the quota controller (status.hard and status.used) and the admission
plugin that refuses a pod beyond the quota.

Sources (kubernetes/kubernetes):
- plugin/pkg/admission/resourcequota/controller.go (apiserver admission/plugin/
  resourcequota CheckRequest): everything is read from status.hard, so a quota whose
  status the controller has not written yet tracks nothing; a pod that lacks a tracked
  cpu/memory value is refused first ("failed quota: Q: must specify ..."), then a quota
  whose status.used lacks a tracked resource ("status unknown for quota: Q, resources:
  R"); a pod that would take usage past `hard` is refused with
  `exceeded quota: NAME, requested: R, used: U, limited: L`, each list only the
  resources exceeded, `name=quantity` sorted and comma-joined (prettyPrint), wrapped in
  admission.NewForbidden (`pods "NAME" is forbidden: …`, the generated name included).
- pkg/quota/v1/evaluator/core/pods.go: a quota on requests.cpu (or cpu, memory, limits.*)
  requires every container, init containers included, to declare it
  (enforcePodContainerConstraints: "must specify requests.cpu for: main", names sorted);
  the pod was defaulted first (SetDefaults_Pod: requests from limits); usage counts
  pods that are not terminal, with the sidecar-aware PodRequests (wave2-facts §4.1).
- pkg/apis/core/validation ValidateResourceQuota: `spec.hard` names and quantities.
"""

import re
from decimal import Decimal

from . import status
from .controllers import effective_resource

QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$")
SUFFIX = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"), "": Decimal(1),
          "k": Decimal(1000), "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
          "P": Decimal(10) ** 15, "E": Decimal(10) ** 18, "Ki": Decimal(1024), "Mi": Decimal(1024) ** 2,
          "Gi": Decimal(1024) ** 3, "Ti": Decimal(1024) ** 4, "Pi": Decimal(1024) ** 5,
          "Ei": Decimal(1024) ** 6}
STANDARD = {"pods", "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory",
            "services", "secrets", "configmaps", "persistentvolumeclaims", "replicationcontrollers",
            "resourcequotas", "requests.storage", "ephemeral-storage", "requests.ephemeral-storage",
            "limits.ephemeral-storage"}


def parse(text):
    """A quantity as a Decimal, or None when it is not one."""
    match = QUANTITY.match(str(text).strip())
    if not match:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        value = Decimal(number)
    except ArithmeticError:
        return None
    if suffix[:1] in ("e", "E"):
        return value * (Decimal(10) ** int(suffix[1:]))
    return value * SUFFIX[suffix]


def render(resource, value):
    """A quantity as the API server prints it: cpu in cores or millicores, memory in the
    largest binary unit that divides it."""
    if resource.endswith("cpu") or resource == "cpu":
        milli = int(value * 1000)
        return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"
    if resource.endswith("memory") or resource.endswith("ephemeral-storage"):
        number = int(value)
        for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
            if number and number % int(SUFFIX[suffix]) == 0:
                return f"{number // int(SUFFIX[suffix])}{suffix}"
        return str(number)
    return str(int(value)) if value == int(value) else str(value)


def validate(quota):
    """Field errors of a ResourceQuota, as ValidateResourceQuota words them."""
    errors = []
    for name, value in ((quota.get("spec") or {}).get("hard") or {}).items():
        path = f"spec.hard[{name}]"
        if name not in STANDARD and not name.startswith("count/") and "/" not in name:
            errors.append((path, "Invalid value", f'"{name}": must be a standard resource for quota'))
        amount = parse(value)
        if amount is None:
            errors.append((path, "Invalid value",
                           f'"{value}": quantities must match the regular expression '
                           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
        elif amount < 0:
            errors.append((path, "Invalid value", f'"{value}": must be greater than or equal to 0'))
    return errors




def pod_usage(pod):
    """PodUsageFunc (pkg/quota/v1/evaluator/core/pods.go): `count/pods` for every pod,
    whatever its phase ("object count quotas track all objects that are in storage");
    `pods` and the compute resources (podComputeUsageHelper: cpu, memory and
    ephemeral-storage, requests and limits) only for a pod that is not terminal."""
    spec = pod.get("spec") or {}
    usage = {"count/pods": Decimal(1)}
    if _terminal(pod):
        return usage
    usage["pods"] = Decimal(1)
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory", "ephemeral-storage"):
            usage[f"{kind}.{resource}"] = effective_resource(spec, kind, resource, parse)
    for resource in ("cpu", "memory", "ephemeral-storage"):
        usage[resource] = usage[f"requests.{resource}"]
    return usage


def _terminal(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def used(store, namespace, hard):
    pods = store.items("pods", namespace)
    out = {}
    for name in hard:
        if name.startswith("count/") and name not in ("count/pods",):
            resource, _, group = name[len("count/"):].partition(".")
            from .resources import GROUPS
            known = resource in GROUPS and GROUPS[resource] == group
            out[name] = Decimal(len(store.items(resource, namespace)) if known else 0)
            continue
        if name in LEGACY_COUNTS.values() and name:
            out[name] = Decimal(len(store.items(name, namespace)))
            continue
        out[name] = sum((pod_usage(p).get(name, Decimal(0)) for p in pods), Decimal(0))
    return out


def sync(store):
    """The quota controller: status.hard from spec.hard, status.used from the namespace."""
    for quota in store.items("resourcequotas"):
        hard = {k: v for k, v in ((quota.get("spec") or {}).get("hard") or {}).items()}
        namespace = quota["metadata"]["namespace"]
        usage = used(store, namespace, {k: parse(v) for k, v in hard.items()})
        new = {"hard": hard, "used": {k: render(k, v) for k, v in usage.items()}}
        store.set_status("resourcequotas", namespace, quota["metadata"]["name"], new)


POD_RESOURCES = {"count/pods", "cpu", "memory", "ephemeral-storage", "requests.cpu",
                 "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
                 "limits.ephemeral-storage", "pods"}
# pods.go validationSet: a quota on one of these makes every container declare it.
VALIDATION_SET = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}


def admit_pod(store, pod, dry_run=False):
    """The ResourceQuota admission plugin's CheckRequest for a pod create. Per quota, from
    its *status*.hard (what the controller has written): the pod must declare every
    tracked compute resource (Constraints, "failed quota: Q: must specify ..."), then the
    quota must know the usage of each of them ("status unknown for quota: Q, resources:
    ..."). A quota whose status the controller has not written yet tracks nothing, so it
    neither refuses nor counts the pod. Then the usage past status.hard is refused
    ("exceeded quota: ..."), and otherwise recorded in status.used at once (not for a dry
    run)."""
    namespace = pod["metadata"]["namespace"]
    name = pod["metadata"]["name"]
    usage = {k: v for k, v in pod_usage(pod).items() if v}
    interesting = []
    for quota in store.items("resourcequotas", namespace):
        quota_name = quota["metadata"]["name"]
        hard = (quota.get("status") or {}).get("hard") or {}
        used_status = (quota.get("status") or {}).get("used") or {}
        restricted = sorted(r for r in hard if r in POD_RESOURCES)
        missing = _missing(pod, set(restricted) & VALIDATION_SET)
        if missing:
            raise _forbidden(name, f"failed quota: {quota_name}: must specify {missing}")
        if any(r not in used_status for r in restricted):
            raise _forbidden(name, f"status unknown for quota: {quota_name}, resources: "
                                   + ",".join(restricted))
        interesting.append(quota)
    updates = []
    for quota in interesting:
        quota_name = quota["metadata"]["name"]
        hard = (quota.get("status") or {}).get("hard") or {}
        used_status = (quota.get("status") or {}).get("used") or {}
        requested = {r: v for r, v in usage.items() if r in hard}
        if not requested:
            continue
        current = {k: parse(v) or Decimal(0) for k, v in used_status.items()}
        exceeded = sorted(r for r, v in requested.items()
                          if current.get(r, Decimal(0)) + v > (parse(hard[r]) or Decimal(0)))
        if exceeded:
            def listing(values):
                return ",".join(f"{r}={render(r, values.get(r, Decimal(0)))}" for r in exceeded)
            raise _forbidden(name, (
                f"exceeded quota: {quota_name}, requested: {listing(requested)}, "
                f"used: {listing(current)}, limited: {listing({r: parse(hard[r]) for r in exceeded})}"))
        new_used = dict(used_status)
        for r, v in requested.items():
            new_used[r] = render(r, current.get(r, Decimal(0)) + v)
        updates.append((quota_name, new_used))
    if dry_run:
        return
    for quota_name, new_used in updates:
        quota = store.find("resourcequotas", namespace, quota_name)
        new_status = dict(quota.get("status") or {})
        new_status["used"] = new_used
        store.set_status("resourcequotas", namespace, quota_name, new_status)


def count_name(resource):
    """The object-count quota name of a resource: `count/<resource>.<group>`, or
    `count/<resource>` for the core group (pkg/quota/v1/generic ObjectCountQuotaResourceNameFor)."""
    from .resources import GROUPS
    group = GROUPS[resource]
    return f"count/{resource}.{group}" if group else f"count/{resource}"


# The legacy names the core evaluators also count (pkg/quota/v1/evaluator/core/*.go).
LEGACY_COUNTS = {"serviceaccounts": None, "resourcequotas": "resourcequotas",
                 "configmaps": "configmaps"}


def admit_count(store, resource, obj, dry_run=False):
    """The ResourceQuota admission plugin for the create of an object that is not a pod:
    the generic object-count evaluator (pkg/quota/v1/generic/evaluator.go: usage of 1 for
    `count/<resource>.<group>`), checked and recorded as admit_pod does, refused with
    `<resource>.<group> "NAME" is forbidden: exceeded quota: Q, requested: count/jobs.batch=1,
    used: count/jobs.batch=50, limited: count/jobs.batch=50`."""
    from .resources import GROUPS
    namespace = obj["metadata"].get("namespace")
    if not namespace:
        return
    names = {count_name(resource)}
    if LEGACY_COUNTS.get(resource):
        names.add(LEGACY_COUNTS[resource])
    name = obj["metadata"].get("name", "")
    updates = []
    for quota in store.items("resourcequotas", namespace):
        quota_name = quota["metadata"]["name"]
        hard = (quota.get("status") or {}).get("hard") or {}
        used_status = (quota.get("status") or {}).get("used") or {}
        tracked = sorted(r for r in hard if r in names)
        if not tracked:
            continue
        if any(r not in used_status for r in tracked):
            raise status.forbidden_because(resource, GROUPS[resource], name,
                                           f"status unknown for quota: {quota_name}, resources: "
                                           + ",".join(tracked))
        current = {r: parse(used_status[r]) or Decimal(0) for r in tracked}
        exceeded = [r for r in tracked if current[r] + 1 > (parse(hard[r]) or Decimal(0))]
        if exceeded:
            def listing(values):
                return ",".join(f"{r}={render(r, values[r])}" for r in exceeded)
            raise status.forbidden_because(resource, GROUPS[resource], name, (
                f"exceeded quota: {quota_name}, requested: {listing({r: Decimal(1) for r in exceeded})}, "
                f"used: {listing(current)}, limited: {listing({r: parse(hard[r]) for r in exceeded})}"))
        new_used = dict(used_status)
        for r in tracked:
            new_used[r] = render(r, current[r] + 1)
        updates.append((quota_name, new_used))
    if dry_run:
        return
    for quota_name, new_used in updates:
        quota = store.find("resourcequotas", namespace, quota_name)
        store.set_status("resourcequotas", namespace, quota_name,
                         dict(quota.get("status") or {}, used=new_used))


def _missing(pod, required):
    """enforcePodContainerConstraints: `requests.cpu for: a,b; limits.memory for: c`, by
    resource name, each with the sorted names of the containers (init containers too)
    whose requests and limits do not give it (cpu and requests.cpu come from a request,
    limits.cpu from a limit)."""
    spec = pod.get("spec") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    missing = {}
    for c in containers:
        resources = c.get("resources") or {}
        has = set()
        for what in ("cpu", "memory"):
            if what in (resources.get("requests") or {}):
                has |= {what, f"requests.{what}"}
            if what in (resources.get("limits") or {}):
                has.add(f"limits.{what}")
        for resource in required - has:
            missing.setdefault(resource, set()).add(c.get("name", ""))
    return "; ".join(f"{r} for: {','.join(sorted(missing[r]))}" for r in sorted(missing))


def _forbidden(name, why):
    return status.ApiError(403, "Forbidden", f'pods "{name}" is forbidden: {why}',
                           {"name": name, "kind": "pods"})

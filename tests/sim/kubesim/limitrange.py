"""LimitRange (core/v1): its defaulting and validation, and the LimitRanger admission plugin,
which fills in a new pod's missing requests and limits (containers, then init containers)
and refuses a pod outside a range.

Sources (kubernetes/kubernetes):
- pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem: for type Container, `default`
  from `max`, `defaultRequest` from `default`, then from `min`.
- pkg/apis/core/validation/validation.go ValidateLimitRange: types, `default` and
  `defaultRequest` forbidden for type Pod, and the order checks min <= defaultRequest <=
  default <= max, maxLimitRequestRatio >= 1, with their messages.
- plugin/pkg/admission/limitranger/admission.go: Admit (mergePodResourceRequirements: a
  resource the container does not name is copied in, and the pod is annotated
  `kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request for container
  x; …`), Validate (PodValidateLimitFunc: per LimitRange, the first one that fails refuses
  the pod with `pods "P" is forbidden: ` and its errors aggregated (one alone, several as
  `[a, b]`); minConstraint, maxConstraint, limitRequestRatioConstraint with their words;
  type Pod sums the containers as podRequests/podLimits do); pods only on create.
Go ranges over a map in random order; the simulator takes resource names sorted."""

from decimal import Decimal

from . import status
from .quota import parse, render

TYPES = ("Pod", "Container", "PersistentVolumeClaim")
ANNOTATION = "kubernetes.io/limit-ranger"


def _text(resource, raw):
    """Quantity.String(): the canonical form (1000m is 1)."""
    value = parse(raw)
    if value is None:
        return str(raw)
    if resource in ("cpu", "memory"):
        return render(resource, value)
    return render("", value)


def default(limit_range):
    """SetDefaults_LimitRangeItem, in place."""
    for item in (limit_range.get("spec") or {}).get("limits") or []:
        if item.get("type") != "Container":
            continue
        defaults = item.setdefault("default", {})
        requests = item.setdefault("defaultRequest", {})
        for key, value in (item.get("max") or {}).items():
            defaults.setdefault(key, value)
        for key, value in defaults.items():
            requests.setdefault(key, value)
        for key, value in (item.get("min") or {}).items():
            requests.setdefault(key, value)
        # Go makes the maps when nil, but an empty map is `omitempty` in JSON: the server
        # returns no `default: {}` beside a `defaultRequest` (and the other way round).
        for field in ("default", "defaultRequest"):
            if not item[field]:
                del item[field]


def validate(limit_range):
    """ValidateLimitRange's field errors, [(path, type, detail)]."""
    errors = []
    seen = set()
    for i, item in enumerate((limit_range.get("spec") or {}).get("limits") or []):
        at = f"spec.limits[{i}]"
        kind = item.get("type", "")
        if not kind:
            errors.append((f"{at}.type", "Required value", ""))
        elif kind not in TYPES and "/" not in kind:
            errors.append((f"{at}.type", "Invalid value",
                           f'"{kind}": must be a standard limit type or fully qualified'))
        if kind in seen:
            errors.append((f"{at}.type", "Duplicate value", f'"{kind}"'))
        seen.add(kind)
        values = {}
        for field in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            if kind == "Pod" and field in ("default", "defaultRequest"):
                if item.get(field):
                    errors.append((f"{at}.{field}", "Forbidden", "may not be specified when `type` is 'Pod'"))
                continue
            for key, raw in (item.get(field) or {}).items():
                value = parse(raw)
                if value is None:
                    errors.append((f"{at}.{field}[{key}]", "Invalid value",
                                   f'"{raw}": quantities must match the regular expression '
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
                    continue
                values.setdefault(key, {})[field] = value
        for key in sorted(values):
            got = values[key]
            mn, mx = got.get("min"), got.get("max")
            df, dr = got.get("default"), got.get("defaultRequest")
            ratio = got.get("maxLimitRequestRatio")

            def q(v):
                return _text(key, v)
            if mn is not None and mx is not None and mn > mx:
                errors.append((f"{at}.min[{key}]", "Invalid value",
                               f'"{q(mn)}": min value {q(mn)} is greater than max value {q(mx)}'))
            if dr is not None and mn is not None and mn > dr:
                errors.append((f"{at}.defaultRequest[{key}]", "Invalid value",
                               f'"{q(dr)}": min value {q(mn)} is greater than default request value {q(dr)}'))
            if dr is not None and mx is not None and dr > mx:
                errors.append((f"{at}.defaultRequest[{key}]", "Invalid value",
                               f'"{q(dr)}": default request value {q(dr)} is greater than max value {q(mx)}'))
            if dr is not None and df is not None and dr > df:
                errors.append((f"{at}.defaultRequest[{key}]", "Invalid value",
                               f'"{q(dr)}": default request value {q(dr)} is greater than default limit '
                               f"value {q(df)}"))
            if df is not None and mn is not None and mn > df:
                errors.append((f"{at}.default[{key}]", "Invalid value",
                               f'"{q(mn)}": min value {q(mn)} is greater than default value {q(df)}'))
            if df is not None and mx is not None and df > mx:
                errors.append((f"{at}.default[{key}]", "Invalid value",
                               f'"{q(mx)}": default value {q(df)} is greater than max value {q(mx)}'))
            if ratio is not None and ratio < 1:
                errors.append((f"{at}.maxLimitRequestRatio[{key}]", "Invalid value",
                               f'"{q(ratio)}": ratio {q(ratio)} is less than 1'))
    return errors


def _containers(spec):
    return [("container", c) for c in spec.get("containers") or []] + \
        [("init container", c) for c in spec.get("initContainers") or []]


def mutate(store, pod):
    """Admit: every LimitRange's Container defaults merged into the pod, as
    defaultContainerResourceRequirements and mergePodResourceRequirements do."""
    ranges = store.items("limitranges", pod["metadata"]["namespace"])
    spec = pod.get("spec") or {}
    for limit_range in ranges:
        limits, requests = {}, {}
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                requests.update(item.get("defaultRequest") or {})
                limits.update(item.get("default") or {})
        notes = []
        for label, container in _containers(spec):
            resources = container.get("resources")
            if not isinstance(resources, dict):
                resources = container["resources"] = {}
            set_limits = [k for k in limits if k not in (resources.get("limits") or {})]
            set_requests = [k for k in requests if k not in (resources.get("requests") or {})]
            for k in set_limits:
                resources.setdefault("limits", {})[k] = limits[k]
            for k in set_requests:
                resources.setdefault("requests", {})[k] = requests[k]
            name = container.get("name", "")
            if set_requests:
                notes.append(", ".join(sorted(set_requests)) + f" request for {label} {name}")
            if set_limits:
                notes.append(", ".join(sorted(set_limits)) + f" limit for {label} {name}")
        if notes:
            pod["metadata"].setdefault("annotations", {})[ANNOTATION] = \
                "LimitRanger plugin set: " + "; ".join(notes)


def _value(resources, kind, key):
    raw = (resources.get(kind) or {}).get(key)
    return (raw, parse(raw)) if raw is not None else (None, None)


def _min(kind, key, enforced, resources):
    req_raw, req = _value(resources, "requests", key)
    lim_raw, lim = _value(resources, "limits", key)
    text = _text(key, enforced)
    if req is None:
        return f"minimum {key} usage per {kind} is {text}.  No request is specified"
    if req < parse(enforced):
        return f"minimum {key} usage per {kind} is {text}, but request is {_text(key, req_raw)}"
    if lim is not None and lim < parse(enforced):
        return f"minimum {key} usage per {kind} is {text}, but limit is {_text(key, lim_raw)}"
    return None


def _max(kind, key, enforced, resources):
    req_raw, req = _value(resources, "requests", key)
    lim_raw, lim = _value(resources, "limits", key)
    text = _text(key, enforced)
    if lim is None:
        return f"maximum {key} usage per {kind} is {text}.  No limit is specified"
    if lim > parse(enforced):
        return f"maximum {key} usage per {kind} is {text}, but limit is {_text(key, lim_raw)}"
    if req is not None and req > parse(enforced):
        return f"maximum {key} usage per {kind} is {text}, but request is {_text(key, req_raw)}"
    return None


def _ratio(kind, key, enforced, resources):
    _, req = _value(resources, "requests", key)
    _, lim = _value(resources, "limits", key)
    text = _text("", enforced)
    if not req:
        return (f"{key} max limit to request ratio per {kind} is {text}, but no request is specified "
                "or request is 0")
    if not lim:
        return (f"{key} max limit to request ratio per {kind} is {text}, but no limit is specified "
                "or limit is 0")
    observed = lim / req
    if observed > parse(enforced):
        return (f"{key} max limit to request ratio per {kind} is {text}, but provided ratio is "
                f"{float(observed):f}")
    return None


def _pod_totals(spec):
    """podRequests / podLimits: containers and sidecars summed, the largest init step."""
    out = {}
    for kind in ("requests", "limits"):
        total, sidecars, init_max = {}, {}, {}
        for c in spec.get("containers") or []:
            for k, v in ((c.get("resources") or {}).get(kind) or {}).items():
                total[k] = total.get(k, Decimal(0)) + (parse(v) or 0)
        for c in spec.get("initContainers") or []:
            own = {k: parse(v) or Decimal(0) for k, v in ((c.get("resources") or {}).get(kind) or {}).items()}
            if c.get("restartPolicy") == "Always":
                for k, v in own.items():
                    total[k] = total.get(k, Decimal(0)) + v
                    sidecars[k] = sidecars.get(k, Decimal(0)) + v
                step = dict(sidecars)
            else:
                step = {k: own.get(k, Decimal(0)) + sidecars.get(k, Decimal(0)) for k in set(own) | set(sidecars)}
            for k, v in step.items():
                init_max[k] = max(init_max.get(k, Decimal(0)), v)
        for k, v in init_max.items():
            total[k] = max(total.get(k, Decimal(0)), v)
        out[kind] = {k: str(v) for k, v in total.items()}
    return out


def admit(store, pod):
    """Validate: the first LimitRange (by name) the pod breaks refuses it (403)."""
    spec = pod.get("spec") or {}
    for limit_range in store.items("limitranges", pod["metadata"]["namespace"]):
        errors = []
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            kind = item.get("type")
            if kind == "Container":
                subjects = [c.get("resources") or {} for c in
                            (spec.get("containers") or []) + (spec.get("initContainers") or [])]
            elif kind == "Pod":
                subjects = [_pod_totals(spec)]
            else:
                continue
            for resources in subjects:
                for field, check in (("min", _min), ("max", _max), ("maxLimitRequestRatio", _ratio)):
                    for key, enforced in sorted((item.get(field) or {}).items()):
                        message = check(kind, key, enforced, resources)
                        if message:
                            errors.append(message)
        if errors:
            why = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
            raise status.forbidden_because("pods", "", pod["metadata"].get("name", ""), why)

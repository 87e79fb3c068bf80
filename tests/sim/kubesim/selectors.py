"""Label and field selectors as the API server parses them.

Source: k8s.io/apimachinery pkg/labels/selector.go (=, ==, !=, in, notin, exists, !exists)
and pkg/fields/selector.go (=, ==, != on a fixed set of fields per resource).
"""

import re

from . import status

_SET = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_top(text):
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def parse_labels(text):
    """A list of predicates over a labels dict; BadRequest on a malformed selector."""
    predicates = []
    for part in _split_top(text or ""):
        part = part.strip()
        if not part:
            continue
        match = _SET.match(part)
        if match:
            key, op, values = match.group(1), match.group(2), match.group(3)
            values = {v.strip() for v in values.split(",") if v.strip()}
            if op == "in":
                predicates.append(lambda l, k=key, v=values: l.get(k) in v)
            else:
                predicates.append(lambda l, k=key, v=values: l.get(k) not in v)
            continue
        for op in ("!=", "==", "="):
            if op in part:
                key, value = (s.strip() for s in part.split(op, 1))
                if not key:
                    raise status.bad_request(f"unable to parse requirement: {part}")
                if op == "!=":
                    predicates.append(lambda l, k=key, v=value: l.get(k) != v)
                else:
                    predicates.append(lambda l, k=key, v=value: l.get(k) == v)
                break
        else:
            if part.startswith("!"):
                predicates.append(lambda l, k=part[1:].strip(): k not in l)
            elif re.match(r"^[A-Za-z0-9._/-]+$", part):
                predicates.append(lambda l, k=part: k in l)
            else:
                raise status.bad_request(
                    f"unable to parse requirement: found '{part}', expected: identifier"
                )
    return lambda labels: all(p(labels or {}) for p in predicates)


FIELDS = {
    "namespaces": {"metadata.name", "status.phase"},
    "nodes": {"metadata.name", "spec.unschedulable"},
    "pods": {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase",
             "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "status.podIP", "status.nominatedNodeName"},
    "events": {"metadata.name", "metadata.namespace", "involvedObject.kind",
               "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    "jobs": {"metadata.name", "metadata.namespace", "status.successful"},
}


def _field(obj, path):
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if path == "source" and isinstance(value, dict):
        value = value.get("component")
    return "" if value is None else str(value)


def parse_fields(text, resource):
    predicates = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        negate = "!=" in part
        key, value = part.split("!=" if negate else ("==" if "==" in part else "="), 1)
        key = key.strip()
        if key not in FIELDS.get(resource, {"metadata.name", "metadata.namespace"}):
            raise status.bad_request(
                f'"{key}" is not a known field selector: only "'
                + '", "'.join(sorted(FIELDS.get(resource, ["metadata.name"])))
                + '"'
            )
        if negate:
            predicates.append(lambda o, k=key, v=value: _field(o, k) != v)
        else:
            predicates.append(lambda o, k=key, v=value: _field(o, k) == v)
    return lambda obj: all(p(obj) for p in predicates)

"""The three patch types kubectl sends: JSON merge patch (RFC 7386), JSON patch
(RFC 6902) and strategic merge patch, with the merge keys of the Pod and Job types
(k8s.io/api: containers and initContainers by name, env by name, ports by
containerPort, volumeMounts by mountPath, volumes by name, ownerReferences by uid).
"""

import copy

from . import status

MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "ports": "containerPort", "volumeMounts": "mountPath", "volumes": "name",
    "ownerReferences": "uid", "tolerations": None, "imagePullSecrets": "name",
    "conditions": "type", "hostAliases": "ip", "resourceClaims": "name",
}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target, patch, key=None):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for field, value in patch.items():
        if field.startswith("$setElementOrder/") or field in ("$retainKeys", "$patch"):
            continue
        if field.startswith("$deleteFromPrimitiveList/"):
            name = field.split("/", 1)[1]
            result[name] = [v for v in result.get(name, []) if v not in value]
            continue
        if value is None:
            result.pop(field, None)
        elif isinstance(value, list) and MERGE_KEYS.get(field):
            result[field] = _merge_list(result.get(field) or [], value, MERGE_KEYS[field])
        elif isinstance(value, dict):
            merged = strategic_merge(result.get(field), value, field)
            if merged is None:
                result.pop(field, None)
            else:
                result[field] = merged
        else:
            result[field] = copy.deepcopy(value)
    return result


def _merge_list(current, patch, key):
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = next((i for i, c in enumerate(result) if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_merge(result[index], item)
    return result


def _pointer(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")] if path else []


def json_patch(target, operations):
    doc = copy.deepcopy(target)
    for op in operations:
        parts = _pointer(op.get("path", ""))
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1] if parts else None
        kind = op.get("op")
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                parent.pop(last, None)
        elif kind == "test":
            value = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if value != op.get("value"):
                raise status.ApiError(422, "Invalid", "the server rejected our request due to an error in our request")
        else:
            raise status.bad_request(f"Unsupported patch operation: {kind}")
    return doc


def apply_patch(content_type, target, body):
    if content_type.startswith("application/merge-patch+json"):
        return merge_patch(target, body)
    if content_type.startswith("application/strategic-merge-patch+json"):
        return strategic_merge(target, body)
    if content_type.startswith("application/json-patch+json"):
        return json_patch(target, body)
    if content_type.startswith("application/apply-patch"):
        raise status.ApiError(415, "UnsupportedMediaType",
                              "server-side apply is not modelled by the simulator")
    raise status.ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json")

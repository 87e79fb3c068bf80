"""Decoding the protobuf bodies kubectl's typed clients send (`kubectl create namespace`,
`kubectl create job`, `kubectl create serviceaccount`, `kubectl create token`,
`kubectl create quota`, `kubectl auth can-i`): Content-Type application/vnd.kubernetes.protobuf, the `k8s\\x00`
magic and a runtime.Unknown envelope around the object.

The field numbers are those of k8s.io/api core/v1 and batch/v1 and k8s.io/apimachinery
meta/v1 generated.proto, for the subset of types these commands send. A field outside
that subset is refused with 415 and named, so a test sees the gap instead of a silently
dropped field.
"""

import datetime

from . import status

S, I, B, BYTES = "string", "int", "bool", "bytes"

OBJECT_META = {1: ("name", S), 2: ("generateName", S), 3: ("namespace", S), 4: ("selfLink", S), 5: ("uid", S),
               6: ("resourceVersion", S), 7: ("generation", I), 8: ("creationTimestamp", "Time"),
               10: ("deletionGracePeriodSeconds", I), 11: ("labels", "map"),
               12: ("annotations", "map"), 13: ("ownerReferences", ["OwnerReference"]),
               14: ("finalizers", [S])}
SCHEMAS = {
    "ObjectMeta": OBJECT_META,
    "OwnerReference": {5: ("apiVersion", S), 1: ("kind", S), 3: ("name", S), 4: ("uid", S),
                       6: ("controller", B), 7: ("blockOwnerDeletion", B)},
    "TypeMeta": {1: ("apiVersion", S), 2: ("kind", S)},  # runtime.TypeMeta
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", BYTES), 3: ("contentEncoding", S),
                4: ("contentType", S)},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"), 3: ("status", "Skip")},
    "NamespaceSpec": {1: ("finalizers", [S])},
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec"), 3: ("status", "Skip")},
    "JobSpec": {1: ("parallelism", I), 2: ("completions", I), 3: ("activeDeadlineSeconds", I),
                7: ("backoffLimit", I), 4: ("selector", "LabelSelector"), 5: ("manualSelector", B),
                6: ("template", "PodTemplateSpec"), 8: ("ttlSecondsAfterFinished", I),
                9: ("completionMode", S), 10: ("suspend", B), 14: ("podReplacementPolicy", S),
                15: ("managedBy", S)},
    "LabelSelector": {1: ("matchLabels", "map")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {20: ("initContainers", ["Container"]), 2: ("containers", ["Container"]),
                3: ("restartPolicy", S), 4: ("terminationGracePeriodSeconds", I),
                5: ("activeDeadlineSeconds", I), 6: ("dnsPolicy", S), 8: ("serviceAccountName", S),
                10: ("nodeName", S), 19: ("schedulerName", S), 25: ("priority", I),
                30: ("enableServiceLinks", B), 31: ("preemptionPolicy", S), 9: ("serviceAccount", S),
                11: ("hostNetwork", B), 12: ("hostPID", B), 13: ("hostIPC", B),
                14: ("securityContext", "Opaque"), 16: ("hostname", S), 17: ("subdomain", S),
                21: ("automountServiceAccountToken", B), 24: ("priorityClassName", S),
                27: ("shareProcessNamespace", B), 29: ("runtimeClassName", S),
                35: ("setHostnameAsFQDN", B), 37: ("hostUsers", B),
                40: ("resources", "ResourceRequirements"), 41: ("hostnameOverride", S)},
    "Container": {1: ("name", S), 2: ("image", S), 3: ("command", [S]), 4: ("args", [S]),
                  5: ("workingDir", S), 6: ("ports", ["ContainerPort"]), 7: ("env", ["EnvVar"]),
                  8: ("resources", "ResourceRequirements"), 24: ("restartPolicy", S),
                  13: ("terminationMessagePath", S), 20: ("terminationMessagePolicy", S),
                  14: ("imagePullPolicy", S), 16: ("stdin", B), 17: ("stdinOnce", B), 18: ("tty", B),
                  15: ("securityContext", "Opaque")},
    "ResourceRequirements": {1: ("limits", "quantities"), 2: ("requests", "quantities")},
    "EnvVar": {1: ("name", S), 2: ("value", S)},
    "ContainerPort": {1: ("name", S), 2: ("hostPort", I), 3: ("containerPort", I), 4: ("protocol", S)},
    "Time": {1: ("seconds", I), 2: ("nanos", I)},
    "Quantity": {1: ("string", S)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 4: ("automountServiceAccountToken", B)},
    # k8s.io/api authentication/v1 generated.proto (`kubectl create token`)
    "TokenRequest": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenRequestSpec"), 3: ("status", "Skip")},
    "TokenRequestSpec": {1: ("audiences", [S]), 4: ("expirationSeconds", I),
                         3: ("boundObjectRef", "BoundObjectReference")},
    "BoundObjectReference": {1: ("kind", S), 2: ("apiVersion", S), 3: ("name", S), 4: ("uid", S)},
    # k8s.io/api authorization/v1 generated.proto (`kubectl auth can-i`)
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectAccessReviewSpec"),
                                3: ("status", "Skip")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes")},
    "ResourceAttributes": {1: ("namespace", S), 2: ("verb", S), 3: ("group", S), 4: ("version", S),
                           5: ("resource", S), 6: ("subresource", S), 7: ("name", S)},
    "NonResourceAttributes": {1: ("path", S), 2: ("verb", S)},
    # rbac/v1 (`kubectl create role|rolebinding|clusterrole|clusterrolebinding`)
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", ["PolicyRule"])},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", ["PolicyRule"])},
    "PolicyRule": {1: ("verbs", [S]), 2: ("apiGroups", [S]), 3: ("resources", [S]), 4: ("resourceNames", [S]),
                   5: ("nonResourceURLs", [S])},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", ["Subject"]), 3: ("roleRef", "RoleRef")},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", ["Subject"]), 3: ("roleRef", "RoleRef")},
    "Subject": {1: ("kind", S), 2: ("apiGroup", S), 3: ("name", S), 4: ("namespace", S)},
    "RoleRef": {1: ("apiGroup", S), 2: ("kind", S), 3: ("name", S)},
    # core/v1 (`kubectl create quota`)
    "ResourceQuota": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ResourceQuotaSpec"), 3: ("status", "Skip")},
    "ResourceQuotaSpec": {1: ("hard", "quantities"), 2: ("scopes", [S])},
}
KINDS = {"Namespace": "Namespace", "Job": "Job", "TokenRequest": "TokenRequest",
         "ServiceAccount": "ServiceAccount", "SelfSubjectAccessReview": "SelfSubjectAccessReview",
         "ResourceQuota": "ResourceQuota", "Role": "Role", "ClusterRole": "ClusterRole",
         "RoleBinding": "RoleBinding", "ClusterRoleBinding": "ClusterRoleBinding"}


def _varint(data, i):
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7


def _fields(data):
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            length, i = _varint(data, i)
            value = data[i:i + length]
            i += length
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise status.ApiError(415, "UnsupportedMediaType", f"protobuf wire type {wire} is not modelled")
        yield number, wire, value


def _map_entry(data):
    key = value = ""
    for number, _, raw in _fields(data):
        if number == 1:
            key = raw.decode()
        elif number == 2:
            value = raw
    return key, value


def decode(message, data):
    schema = SCHEMAS[message]
    out = {}
    for number, wire, raw in _fields(data):
        if number not in schema:
            raise status.ApiError(
                415, "UnsupportedMediaType",
                f"the simulator does not decode protobuf field {number} of {message}: send JSON "
                "(kubectl apply -f) or add the field to tests/sim/kubesim/protobuf.py")
        name, kind = schema[number]
        if kind == "Skip":  # status: the server owns it and ignores what a client sends
            continue
        if kind == "Opaque":  # a message the subset does not model: only an empty one passes
            if raw:
                raise status.ApiError(
                    415, "UnsupportedMediaType",
                    f"the simulator does not decode protobuf {message}.{schema[number][0]}: send JSON")
            out[name] = {}
            continue
        repeated = isinstance(kind, list)
        kind = kind[0] if repeated else kind
        if kind == S:
            value = raw.decode() or None  # an empty string is an unset field in JSON
        elif kind == I:
            value = raw - (1 << 64) if raw >= 1 << 63 else raw
        elif kind == B:
            value = bool(raw)
        elif kind == BYTES:
            value = raw
        elif kind == "map":
            key, item = _map_entry(raw)
            out.setdefault(name, {})[key] = item.decode()
            continue
        elif kind == "quantities":
            key, item = _map_entry(raw)
            out.setdefault(name, {})[key] = decode("Quantity", item).get("string", "")
            continue
        elif kind == "Time":
            seconds = decode("Time", raw).get("seconds", 0)
            value = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            if seconds == 0:
                value = None
        else:
            value = decode(kind, raw)
        if repeated:
            out.setdefault(name, []).append(value)
        elif value is not None:
            out[name] = value
    return out


def decode_body(raw):
    """A JSON-shaped object from a `k8s\\x00` protobuf body."""
    if not raw.startswith(b"k8s\x00"):
        raise status.bad_request("the body of the request was not in the protobuf envelope")
    unknown = decode("Unknown", raw[4:])
    kind = unknown.get("typeMeta", {}).get("kind", "")
    if kind not in KINDS:
        raise status.ApiError(415, "UnsupportedMediaType",
                              f"the simulator does not decode protobuf {kind or 'objects'}: send JSON")
    obj = decode(kind, unknown.get("raw", b""))
    obj["kind"] = kind
    obj["apiVersion"] = unknown["typeMeta"].get("apiVersion", "v1")
    obj.pop("status", None)
    return obj

"""One cluster's objects: resourceVersions, uids, timestamps, a watch log, and the
create / get / list / patch / delete semantics of the API server, including dry runs
(dryRun=All runs every check and stores nothing) and cascading deletion.

Sources: k8s.io/apiserver registry/generic/registry/store.go (Create, Delete with
propagationPolicy: Foreground sets deletionTimestamp and the foregroundDeletion
finalizer and keeps the owner until its blocking dependents are gone; Background
deletes the owner at once and the garbage collector removes dependents after; Orphan
leaves them), and kubectl's apply/delete/wait, which read these shapes.
"""

import copy
import random
import string
import threading
import uuid

from . import admission, limitrange, podsecurity, status, vap
from .clock import stamp
from .resources import GROUPS, KIND, NAMESPACED, RESOURCES, api_version  # noqa: F401 (re-exported)



def _suffix(n=5):
    # The API server's generateName alphabet (no vowels, no 0/1/3).
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(random.choice(alphabet) for _ in range(n))


class Store:
    def __init__(self, cluster):
        self.cluster = cluster
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1000
        self.objects = {}  # (resource, namespace, name) -> object
        self.log = []  # (rv, type, resource, object, previous object or None)
        self._last = {}  # (resource, namespace, name) -> the object as last emitted

    # -- helpers ------------------------------------------------------------------
    def _bump(self):
        self.rv += 1
        return str(self.rv)

    def _emit(self, kind, resource, obj):
        """One event of the watch log, with the object's previous state (the watch cache's
        PrevObject, which a filtered watch needs to tell a stop-matching update)."""
        meta = obj["metadata"]
        key = (resource, meta.get("namespace", ""), meta["name"])
        current = copy.deepcopy(obj)
        previous = self._last.pop(key, None) if kind == "DELETED" else self._last.get(key)
        if kind != "DELETED":
            self._last[key] = current
        self.log.append((int(meta["resourceVersion"]), kind, resource, current, previous))
        if len(self.log) > 20000:
            del self.log[:5000]
        self.changed.notify_all()

    def key(self, resource, namespace, name):
        return (resource, namespace if NAMESPACED[resource] else "", name)

    def get(self, resource, namespace, name):
        with self.lock:
            obj = self.objects.get(self.key(resource, namespace, name))
            if obj is None:
                raise status.not_found(resource, GROUPS[resource], name)
            return copy.deepcopy(obj)

    def find(self, resource, namespace, name):
        return self.objects.get(self.key(resource, namespace, name))

    def items(self, resource, namespace=None):
        return [
            o for (r, ns, _), o in sorted(self.objects.items())
            if r == resource and (namespace is None or ns == namespace)
        ]

    # -- writes -------------------------------------------------------------------
    def create(self, resource, namespace, obj, dry_run=False, internal=False, admit_quota=False,
               storage_check=None, warnings=None):
        """The API server's create: namespace lifecycle, name, admission, store.
        `storage_check(obj)` runs where a registry's own storage wrapper runs (the RBAC
        escalation checks): after admission, before the strategy and validation."""
        with self.lock:
            group = GROUPS[resource]
            obj = copy.deepcopy(obj)
            meta = obj.setdefault("metadata", {})
            if NAMESPACED[resource]:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise status.bad_request(
                        "the namespace of the provided object does not match the namespace "
                        "sent on the request"
                    )
                meta["namespace"] = namespace
                ns = self.find("namespaces", "", namespace)
                if ns is None:
                    raise status.not_found("namespaces", "", namespace)
                if ns["metadata"].get("deletionTimestamp") and not internal:
                    raise status.namespace_terminating(namespace, resource, group, meta.get("name", ""))
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + _suffix()
            uid = str(uuid.uuid4())
            admitted = resource == "pods" and (admit_quota or not internal)
            if admitted:
                # Decoding defaults a v1.Pod (SetDefaults_Pod: requests from limits), then
                # the mutating admission plugins run: ServiceAccount before the strategy.
                admission.default_pod(obj.setdefault("spec", {}))
                # The mutating plugins in AllOrderedPlugins' order: LimitRanger, then
                # ServiceAccount.
                limitrange.mutate(self, obj)
                service_account_admission(self, obj)
            if storage_check is not None:
                storage_check(obj)
            if not internal:
                admission.admit_create(obj, resource, self.cluster, uid)
                if resource == "configmaps":
                    # The ConfigMap strategy's Validate, where admit_create validates
                    # the other kinds (kubesim/configmaps.py).
                    from . import configmaps
                    configmaps.admit(obj, self.cluster.minor)
            if admitted or (resource == "jobs" and not internal):
                # The validating admission plugins, in the API server's order
                # (pkg/kubeapiserver/options/plugins.go AllOrderedPlugins).
                if admitted:
                    limitrange.admit(self, obj)
                podsecurity.admit(self, resource, obj, warnings)
            if admitted or not internal:
                vap.admit(self, "CREATE", resource, obj, dry_run=dry_run, warnings=warnings)
            if resource == "namespaces" and not internal:
                errors = podsecurity.validate_namespace(obj)
                if errors:
                    raise status.invalid("Namespace", "", meta.get("name", ""), errors)
            name = meta["name"]
            if self.key(resource, namespace, name) in self.objects:
                raise status.already_exists(resource, group, name)
            if admitted:
                from .quota import admit_pod
                admit_pod(self, obj, dry_run=dry_run)
            elif NAMESPACED[resource] and resource not in ("pods", "events"):
                from .quota import admit_count
                admit_count(self, resource, obj, dry_run=dry_run)
            meta["uid"] = uid
            meta["creationTimestamp"] = stamp(self.cluster.clock.now())
            meta.pop("resourceVersion", None)
            if resource == "jobs":
                if internal:
                    admission.default_job(obj, uid, self.cluster.minor)
                meta["generation"] = 1
            if resource == "namespaces":
                obj.setdefault("spec", {"finalizers": ["kubernetes"]})
                obj["status"] = {"phase": "Active"}
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            if resource == "pods":
                obj.setdefault("status", {"phase": "Pending", "qosClass": qos_class(obj["spec"])})
            if dry_run:
                return obj
            meta["resourceVersion"] = self._bump()
            self.objects[self.key(resource, namespace, name)] = obj
            self._emit("ADDED", resource, obj)
            return copy.deepcopy(obj)

    def replace(self, resource, namespace, name, new, dry_run=False, internal=False,
                storage_check=None, warnings=None):
        """An update: the object as a whole, after admission of the change."""
        with self.lock:
            old = self.find(resource, namespace, name)
            if old is None:
                raise status.not_found(resource, GROUPS[resource], name)
            new = copy.deepcopy(new)
            rv = new.get("metadata", {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"] and not internal:
                raise status.ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on {status.qualified(resource, GROUPS[resource])} '
                    f'"{name}": the object has been modified; please apply your changes to the '
                    "latest version and try again",
                    {"name": name, "kind": resource, **({"group": GROUPS[resource]} if GROUPS[resource] else {})},
                )
            # Fields the server owns.
            for field in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp"):
                if field in old["metadata"]:
                    new.setdefault("metadata", {})[field] = old["metadata"][field]
            if storage_check is not None:
                storage_check(new, old)
            if not internal:
                new["status"] = old.get("status", {})
                admission.admit_update(old, new, resource, self.cluster)
                if resource == "configmaps":
                    from . import configmaps
                    configmaps.admit(new, self.cluster.minor, old)
                if resource == "jobs":
                    podsecurity.admit(self, resource, new, warnings)
                if resource == "namespaces":
                    errors = podsecurity.validate_namespace(new, old)
                    if errors:
                        raise status.invalid("Namespace", "", name, errors)
                vap.admit(self, "UPDATE", resource, new, old, dry_run=dry_run, warnings=warnings)
            if resource == "jobs" and new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            if new == old:
                return copy.deepcopy(old)
            if dry_run:
                return new
            new["metadata"]["resourceVersion"] = self._bump()
            self.objects[self.key(resource, namespace, name)] = new
            self._emit("MODIFIED", resource, new)
            self._finish_deletion_if_ready(resource, new)
            return copy.deepcopy(new)

    def set_status(self, resource, namespace, name, new_status):
        """The controllers' and the kubelet's status writes; no event when unchanged."""
        with self.lock:
            obj = self.find(resource, namespace, name)
            if obj is None or obj.get("status") == new_status:
                return
            obj["status"] = copy.deepcopy(new_status)
            obj["metadata"]["resourceVersion"] = self._bump()
            self._emit("MODIFIED", resource, obj)

    def delete(self, resource, namespace, name, propagation=None, grace=None, dry_run=False,
               internal=False):
        with self.lock:
            obj = self.find(resource, namespace, name)
            if obj is None:
                raise status.not_found(resource, GROUPS[resource], name)
            if dry_run:
                return copy.deepcopy(obj)
            meta = obj["metadata"]
            now = stamp(self.cluster.clock.now())
            if propagation is None:
                # Jobs default to orphaning for old clients; kubectl always sends a policy.
                propagation = "Background"
            if resource == "pods":
                # Graceful deletion: the kubelet stops the containers, then the pod goes.
                if meta.get("deletionTimestamp"):
                    return copy.deepcopy(obj)
                if obj.get("spec", {}).get("nodeName") and obj.get("status", {}).get("phase") not in ("Succeeded", "Failed") and grace != 0:
                    period = obj["spec"].get("terminationGracePeriodSeconds", 30) if grace is None else grace
                    meta["deletionTimestamp"] = now
                    meta["deletionGracePeriodSeconds"] = period
                    meta["resourceVersion"] = self._bump()
                    self._emit("MODIFIED", resource, obj)
                    self.cluster.kubelet.terminate(obj, "deleted")
                    return copy.deepcopy(obj)
                return self._remove(resource, obj)
            if resource == "namespaces":
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now
                    obj["status"] = {"phase": "Terminating"}
                    meta["resourceVersion"] = self._bump()
                    self._emit("MODIFIED", resource, obj)
                return copy.deepcopy(obj)
            if propagation == "Foreground":
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now
                    meta["deletionGracePeriodSeconds"] = 0
                    meta.setdefault("finalizers", [])
                    if "foregroundDeletion" not in meta["finalizers"]:
                        meta["finalizers"].append("foregroundDeletion")
                    meta["resourceVersion"] = self._bump()
                    self._emit("MODIFIED", resource, obj)
                    for dependent in self.dependents(obj):
                        self.delete("pods", dependent["metadata"]["namespace"],
                                    dependent["metadata"]["name"], internal=True)
                self._finish_deletion_if_ready(resource, obj)
                return copy.deepcopy(obj)
            removed = self._remove(resource, obj)
            if propagation == "Background":
                for dependent in self.dependents(obj):
                    self.delete("pods", dependent["metadata"]["namespace"],
                                dependent["metadata"]["name"], internal=True)
            else:  # Orphan: the garbage collector removes the ownerReference.
                for dependent in self.dependents(obj):
                    dependent["metadata"]["ownerReferences"] = [
                        r for r in dependent["metadata"].get("ownerReferences", [])
                        if r["uid"] != meta["uid"]
                    ]
                    dependent["metadata"]["resourceVersion"] = self._bump()
                    self._emit("MODIFIED", "pods", dependent)
            return removed

    def dependents(self, owner):
        uid = owner["metadata"]["uid"]
        return [
            p for p in self.items("pods", owner["metadata"].get("namespace"))
            if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences", []))
        ]

    def _remove(self, resource, obj):
        meta = obj["metadata"]
        self.objects.pop(self.key(resource, meta.get("namespace", ""), meta["name"]), None)
        meta["resourceVersion"] = self._bump()
        self._emit("DELETED", resource, obj)
        self.cluster.on_removed(resource, obj)
        return copy.deepcopy(obj)

    def _finish_deletion_if_ready(self, resource, obj):
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or resource == "pods":
            return
        finalizers = meta.get("finalizers") or []
        if "foregroundDeletion" in finalizers:
            blocking = [
                d for d in self.dependents(obj)
                if any(r.get("uid") == meta["uid"] and r.get("blockOwnerDeletion")
                       for r in d["metadata"].get("ownerReferences", []))
            ]
            if blocking:
                return
            finalizers.remove("foregroundDeletion")
        if not finalizers:
            self._remove(resource, obj)

    def pod_removed(self, pod):
        """A pod is gone: an owner under foreground deletion may go now."""
        for ref in pod["metadata"].get("ownerReferences", []):
            for job in self.items("jobs", pod["metadata"]["namespace"]):
                if job["metadata"]["uid"] == ref.get("uid"):
                    self._finish_deletion_if_ready("jobs", job)

    def remove_pod(self, pod):
        """The kubelet has stopped every container of a deleted pod."""
        with self.lock:
            current = self.find("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
            if current is not None:
                self._remove("pods", current)


def service_account_admission(store, pod):
    """plugin/pkg/admission/serviceaccount/admission.go Admit: a pod names the
    ServiceAccount `default` unless it names one, and is refused while that account does
    not exist (`error looking up service account NS/NAME: serviceaccount "NAME" not
    found`, wrapped in admission.NewForbidden); then, unless automount is off
    (shouldAutomount), the token volume is mounted (mountServiceAccountToken, createVolume). The plugin's own retries of the lookup
    (up to ten, 100-200 ms apart, for `default`) are not modelled; the ServiceAccount
    controller's delay is (cluster.SA_CONTROLLER_DELAY)."""
    meta = pod["metadata"]
    namespace = meta["namespace"]
    spec = pod.setdefault("spec", {})
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    account = spec["serviceAccountName"]
    spec.setdefault("serviceAccount", account)
    found = store.find("serviceaccounts", namespace, account)
    if found is None:
        name = meta.get("name", "")
        raise status.ApiError(
            403, "Forbidden",
            f'pods "{name}" is forbidden: error looking up service account {namespace}/{account}: '
            f'serviceaccount "{account}" not found',
            {"name": name, "kind": "pods"})
    # shouldAutomount: the pod's automountServiceAccountToken wins, then the account's,
    # else true.
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = found.get("automountServiceAccountToken")
    if automount is not False:
        _mount_service_account_token(spec)


TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


def _mount_service_account_token(spec):
    """mountServiceAccountToken: every container (init containers first) without a mount
    at the token path mounts a `kube-api-access-XXXXX` projected volume (token, the
    cluster's CA from kube-root-ca.crt, the namespace), added once if any needs it."""
    volumes = spec.setdefault("volumes", [])
    existing = next((v["name"] for v in volumes if v.get("name", "").startswith("kube-api-access-")), None)
    volume_name = existing or "kube-api-access-" + _suffix()
    needed = False
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        mounts = container.get("volumeMounts") or []
        if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
            continue
        container["volumeMounts"] = mounts + [
            {"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}]
        needed = True
    if needed and existing is None:
        volumes.append({"name": volume_name, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ]}})
    if not volumes:
        spec.pop("volumes")


def qos_class(spec):
    """ComputePodQOS (pkg/apis/core/v1/helper/qos/qos.go): only cpu and memory count
    (isSupportedQoSComputeResource), and only values above zero, so an ephemeral-storage
    limit alone leaves a pod BestEffort; Guaranteed when every container has cpu and memory
    limits and the pod's summed requests equal its summed limits."""
    from .quota import parse
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    requests, limits, guaranteed = {}, {}, True
    for c in containers:
        resources = c.get("resources") or {}
        for kind, total in (("requests", requests), ("limits", limits)):
            found = set()
            for name, raw in (resources.get(kind) or {}).items():
                value = parse(raw)
                if name not in ("cpu", "memory") or value is None or value <= 0:
                    continue
                found.add(name)
                total[name] = total.get(name, 0) + value
            if kind == "limits" and not found >= {"cpu", "memory"}:
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(n) == v for n, v in requests.items()) \
            and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"

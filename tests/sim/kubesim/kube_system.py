"""The pods a kind node runs for itself, with the CPU and memory they request, so that the
scheduler counts them against the node's allocatable CPU as it does on a real kind node.

Sources: kubeadm's static pod manifests (cmd/kubeadm/app/phases/controlplane/manifests.go
ComponentResources: kube-apiserver 250m, kube-controller-manager 200m, kube-scheduler
100m; etcd/local.go: etcd 100m CPU and 100Mi memory; labels component=NAME,
tier=control-plane; mirror pods owned by the Node, priorityClassName
system-node-critical), kubeadm's CoreDNS Deployment (two replicas, requests 100m and
70Mi, memory limit 170Mi, system-cluster-critical, label k8s-app=kube-dns), kind's
pkg/build/nodeimage/const_cni.go (the kindnet DaemonSet: requests 100m and 50Mi,
hostNetwork, system-node-critical) and const_storage.go (local-path-provisioner in
namespace local-path-storage, no requests); kube-proxy requests nothing. About 950m CPU
in all (wave2-facts §4.4). Image tags follow kubeadm's pins per minor (constants.go
SupportedEtcdVersion, CoreDNSVersion) approximately: nothing reads them.

The pods run outside the kubelet's container model: they are Running and Ready from the
start (CoreDNS and the provisioner once the node is Ready, as they wait for the CNI). A
deleted one comes back, as its ReplicaSet, DaemonSet or the kubelet (static pods) makes it
again.
"""

import hashlib
import uuid

from .clock import stamp

ETCD = {28: "3.5.15-0", 29: "3.5.15-0", 30: "3.5.15-0", 31: "3.5.21-0", 32: "3.5.21-0",
        33: "3.5.21-0", 34: "3.6.4-0", 35: "3.6.9-0", 36: "3.6.9-0", 37: "3.6.9-0"}
COREDNS = {28: "v1.10.1", 29: "v1.11.1", 30: "v1.11.1", 31: "v1.11.3", 32: "v1.11.3",
           33: "v1.12.0", 34: "v1.12.1", 35: "v1.12.1", 36: "v1.12.1", 37: "v1.12.1"}
KINDNET = "docker.io/kindest/kindnetd:v20260820-69b56db7"
LOCAL_PATH = "docker.io/kindest/local-path-provisioner:v20260820-69b56db7"
NODE_CRITICAL = ("system-node-critical", 2000001000)
CLUSTER_CRITICAL = ("system-cluster-critical", 2000000000)
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _name(seed, length):
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def _resources(cpu=None, memory=None, memory_limit=None):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    out = {}
    if requests:
        out["requests"] = requests
    if memory_limit:
        out["limits"] = {"memory": memory_limit}
    return out


def templates(cluster):
    """(key, namespace, template) for each pod the node runs before any lab object."""
    minor, node, version = cluster.minor, cluster.node_name, cluster.git_version
    rs_dns = _name(cluster.name + "/coredns", 10)
    rs_path = _name(cluster.name + "/local-path", 10)
    out = []
    for component, cpu, memory, image in (
        ("etcd", "100m", "100Mi", f"registry.k8s.io/etcd:{ETCD[minor]}"),
        ("kube-apiserver", "250m", None, f"registry.k8s.io/kube-apiserver:{version}"),
        ("kube-controller-manager", "200m", None, f"registry.k8s.io/kube-controller-manager:{version}"),
        ("kube-scheduler", "100m", None, f"registry.k8s.io/kube-scheduler:{version}"),
    ):
        annotations = {
            "kubernetes.io/config.hash": _name(component + node, 32),
            "kubernetes.io/config.mirror": _name(component + node, 32),
            "kubernetes.io/config.seen": stamp(cluster.created_at).replace("Z", ".000000000Z"),
            "kubernetes.io/config.source": "file",
        }
        if component == "etcd":
            annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] = f"https://{cluster.node_ip}:2379"
        if component == "kube-apiserver":
            annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = f"{cluster.node_ip}:6443"
        out.append((component, "kube-system", {
            "name": f"{component}-{node}", "labels": {"component": component, "tier": "control-plane"},
            "annotations": annotations, "owner": ("v1", "Node", node, None),
            "containers": [(component, image, _resources(cpu, memory))],
            "priority": NODE_CRITICAL, "hostNetwork": True, "addon": False,
        }))
    for i in range(2):
        out.append((f"coredns-{i}", "kube-system", {
            "generateName": f"coredns-{rs_dns}-", "seed": f"coredns-{i}",
            "labels": {"k8s-app": "kube-dns", "pod-template-hash": rs_dns},
            "owner": ("apps/v1", "ReplicaSet", f"coredns-{rs_dns}", True),
            "containers": [("coredns", f"registry.k8s.io/coredns/coredns:{COREDNS[minor]}",
                            _resources("100m", "70Mi", "170Mi"))],
            "priority": CLUSTER_CRITICAL, "hostNetwork": False, "addon": True,
            "serviceAccountName": "coredns",
        }))
    ds_hash = _name(cluster.name + "/ds", 10)
    out.append(("kindnet", "kube-system", {
        "generateName": "kindnet-", "seed": "kindnet",
        "labels": {"app": "kindnet", "controller-revision-hash": ds_hash, "k8s-app": "kindnet",
                   "pod-template-generation": "1", "tier": "node"},
        "owner": ("apps/v1", "DaemonSet", "kindnet", True),
        "containers": [("kindnet-cni", KINDNET, _resources("100m", "50Mi"))],
        "priority": NODE_CRITICAL, "hostNetwork": True, "addon": False,
        "serviceAccountName": "kindnet",
    }))
    out.append(("kube-proxy", "kube-system", {
        "generateName": "kube-proxy-", "seed": "kube-proxy",
        "labels": {"controller-revision-hash": ds_hash[::-1], "k8s-app": "kube-proxy",
                   "pod-template-generation": "1"},
        "owner": ("apps/v1", "DaemonSet", "kube-proxy", True),
        "containers": [("kube-proxy", f"registry.k8s.io/kube-proxy:{version}", {})],
        "priority": NODE_CRITICAL, "hostNetwork": True, "addon": False,
        "serviceAccountName": "kube-proxy",
    }))
    out.append(("local-path-provisioner", "local-path-storage", {
        "generateName": f"local-path-provisioner-{rs_path}-", "seed": "local-path",
        "labels": {"app": "local-path-provisioner", "pod-template-hash": rs_path},
        "owner": ("apps/v1", "ReplicaSet", f"local-path-provisioner-{rs_path}", True),
        "containers": [("local-path-provisioner", LOCAL_PATH, {})],
        "priority": None, "hostNetwork": False, "addon": True,
        "serviceAccountName": "local-path-provisioner-service-account",
    }))
    return out


class KubeSystem:
    def __init__(self, cluster):
        self.cluster = cluster
        self.templates = templates(cluster)
        self.owner_uids = {}
        self.live = {}  # key -> (namespace, name)
        self.ips = {}  # key -> pod IP (kept across re-creations)
        self.generation = 0

    def tick(self, now, node_ready):
        """Makes every pod that is missing: all but the add-ons at once, the add-ons once
        the node is Ready."""
        store = self.cluster.store
        for key, namespace, t in self.templates:
            if t["addon"] and not node_ready:
                continue
            where = self.live.get(key)
            if where and store.find("pods", *where) is not None:
                continue
            pod = self._pod(key, namespace, t, now)
            created = store.create("pods", namespace, pod, internal=True)
            self.cluster.system_pods.add(created["metadata"]["uid"])
            self.live[key] = (namespace, created["metadata"]["name"])

    def _pod(self, key, namespace, t, now):
        cluster = self.cluster
        self.generation += 1
        api_version, kind, owner_name, block = t["owner"]
        if kind == "Node":
            node = cluster.store.find("nodes", "", cluster.node_name)
            owner_uid = node["metadata"]["uid"]
        else:
            owner_uid = self.owner_uids.setdefault(owner_name, str(uuid.uuid4()))
        owner = {"apiVersion": api_version, "controller": True, "kind": kind, "name": owner_name,
                 "uid": owner_uid}
        if block:
            owner["blockOwnerDeletion"] = True
        meta = {"labels": dict(t["labels"]), "ownerReferences": [owner]}
        if "name" in t:
            meta["name"] = t["name"]
        else:
            meta["name"] = t["generateName"] + _name(f"{cluster.name}/{t['seed']}/{self.generation}", 5)
            meta["generateName"] = t["generateName"]
        if t.get("annotations"):
            meta["annotations"] = dict(t["annotations"])
        containers = [{"name": name, "image": image, "imagePullPolicy": "IfNotPresent",
                       "resources": resources, "terminationMessagePath": "/dev/termination-log",
                       "terminationMessagePolicy": "File"}
                      for name, image, resources in t["containers"]]
        spec = {
            "containers": containers, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
            "nodeName": cluster.node_name, "preemptionPolicy": "PreemptLowerPriority",
            "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "operator": "Exists"}] if kind == "Node"
            else [{"operator": "Exists"}],
        }
        if t["hostNetwork"]:
            spec["hostNetwork"] = True
        if t.get("serviceAccountName"):
            spec["serviceAccountName"] = spec["serviceAccount"] = t["serviceAccountName"]
        if t["priority"]:
            spec["priorityClassName"], spec["priority"] = t["priority"]
        else:
            spec["priority"] = 0
        if t["hostNetwork"]:
            ip = cluster.node_ip
        else:
            ip = self.ips.get(key) or self.ips.setdefault(key, f"10.244.0.{2 + len(self.ips)}")
        started = stamp(now)
        conditions = []
        if cluster.gates.get("PodReadyToStartContainersCondition"):
            conditions.append(("PodReadyToStartContainers", "True"))
        conditions += [("Initialized", "True"), ("Ready", "True"), ("ContainersReady", "True"),
                       ("PodScheduled", "True")]
        from .store import qos_class
        status = {
            "conditions": [{"lastProbeTime": None, "lastTransitionTime": started, "status": value,
                            "type": kind_} for kind_, value in conditions],
            "containerStatuses": [{
                "containerID": "containerd://" + hashlib.sha256(
                    f"{meta['name']}/{c['name']}/{now}".encode()).hexdigest(),
                "image": c["image"], "imageID": c["image"].rsplit(":", 1)[0] + "@sha256:"
                + hashlib.sha256(c["image"].encode()).hexdigest(),
                "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0,
                "started": True, "state": {"running": {"startedAt": started}},
            } for c in containers],
            "hostIP": cluster.node_ip, "hostIPs": [{"ip": cluster.node_ip}], "phase": "Running",
            "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": qos_class(spec), "startTime": started,
        }
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}

"""One simulated cluster: its API server on its own port on 127.0.0.1 (as each kind
cluster has its own), its store, its one node, and the loops that run it on a clock."""

import copy
import ssl
import threading
from http.server import ThreadingHTTPServer

from . import quota, status, versions
from .api import Handler
from .auth import Auth, bootstrap
from .controllers import Events, JobController, Scheduler
from .kube_system import KubeSystem
from .kubelet import Kubelet
from .store import Store

NODE_READY_AFTER = 2.0
# The ServiceAccount controller (pkg/controller/serviceaccount) makes `default` in a new
# namespace after this many simulated seconds; until then the ServiceAccount admission
# plugin refuses the namespace's pods, so a Job created at once sees a FailedCreate.
SA_CONTROLLER_DELAY = 1.0
# The root CA publisher's ConfigMap in every namespace, and its description
# (pkg/controller/certificates/rootcacertpublisher/publisher.go).
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.")


class QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a finished watch, a failed TLS handshake) are not errors."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Cluster:
    def __init__(self, name, git_version, gates, clock, pki, cpu="2", memory="8Gi"):
        self.name = name
        self.git_version = git_version
        self.minor = int(git_version.lstrip("v").split(".")[1])
        self.gates = gates
        self.clock = clock
        self.created_at = clock.now()
        self.node_name = f"{name}-control-plane"
        self.node_ip = "172.18.0.2"
        self._pod_ip = 0
        self.node_images = set()
        self.registry_images = set()
        self.registry_reachable = False
        self.behaviours = {}
        self.forbidden = set()  # (user, verb, resource, namespace or "*")
        self.paused = set()  # controllers a test has stopped ("resourcequota")
        self._namespace_seen = {}  # namespace uid -> simulated time first seen
        self.requests = []
        self.stopped = False
        self.system_pods = set()  # uids of the node's own pods (kube_system.py)
        self.store = Store(self)
        self.auth = Auth(self)
        self.events = Events(self)
        self.kubelet = Kubelet(self)
        self.scheduler = Scheduler(self)
        self.jobs = JobController(self)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"):
            self.store.create("namespaces", "", {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": ns}}, internal=True)
        bootstrap(self.store)
        self._create_node(cpu, memory)
        # The control plane's static pods, kindnet and kube-proxy run before the node is Ready.
        self.kube_system = KubeSystem(self)
        self.kube_system.tick(self.clock.now(), node_ready=False)
        handler = type("ClusterHandler", (Handler,), {"cluster": self})
        self.server = QuietServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki["cert"], pki["key"])
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"https://{self.address}"
        self.ca_data = pki["ca_data"]
        self._threads = [
            threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True),
            threading.Thread(target=self._loop, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- the node -----------------------------------------------------------------------
    def _create_node(self, cpu, memory):
        self.store.create("nodes", "", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": self.node_name, "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": self.node_name,
                "kubernetes.io/os": "linux", "node-role.kubernetes.io/control-plane": "",
            }},
            "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"],
                     "providerID": f"kind://docker/{self.name}/{self.node_name}"},
            "status": self._node_status(cpu, memory, ready=False),
        }, internal=True)
        self._cpu, self._memory = cpu, memory

    def _node_status(self, cpu, memory, ready):
        from .clock import stamp
        now = stamp(self.clock.now())
        return {
            "addresses": [{"address": self.node_ip, "type": "InternalIP"},
                          {"address": self.node_name, "type": "Hostname"}],
            "allocatable": {"cpu": cpu, "ephemeral-storage": "100Gi", "memory": memory, "pods": "110"},
            "capacity": {"cpu": cpu, "ephemeral-storage": "100Gi", "memory": memory, "pods": "110"},
            "conditions": [{
                "lastHeartbeatTime": now, "lastTransitionTime": now,
                "message": "kubelet is posting ready status" if ready else "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
                "reason": "KubeletReady" if ready else "KubeletNotReady",
                "status": "True" if ready else "False", "type": "Ready",
            }],
            "images": [{"names": [i], "sizeBytes": 100000000} for i in sorted(self.node_images)],
            "nodeInfo": {
                "architecture": "amd64", "containerRuntimeVersion": "containerd://2.1.4",
                "kernelVersion": "6.1.0-40-amd64", "kubeProxyVersion": self.git_version,
                "kubeletVersion": self.git_version, "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
            },
        }

    def node_ready(self, now):
        return now >= self.created_at + NODE_READY_AFTER

    def next_pod_ip(self):
        self._pod_ip += 1
        return f"10.244.0.{4 + self._pod_ip}"

    def pull_error(self, ref):
        repo, _, tag = ref.rpartition(":")
        host = repo.split("/", 1)[0]
        path = repo.split("/", 1)[1]
        if self.registry_reachable:
            return (f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
                    f"{ref}: not found")
        registry = "registry-1.docker.io" if host == "docker.io" else host
        return (f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
                f'failed to do request: Head "https://{registry}/v2/{path}/manifests/{tag}": dial tcp: '
                f"lookup {registry} on 172.18.0.1:53: server misbehaving")

    # -- API-side helpers --------------------------------------------------------------
    def version_info(self):
        major, minor, _ = self.git_version.lstrip("v").split(".")
        return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
                "minCompatibilityMajor": major, "minCompatibilityMinor": str(int(minor) - 1),
                "gitVersion": self.git_version, "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2026-09-01T00:00:00Z", "goVersion": "go1.26.7", "compiler": "gc",
                "platform": "linux/amd64"}

    def authorize(self, user, verb, resource, group, namespace, name, sub):
        """The test's switches first, then RBAC (auth.py)."""
        what = f"{resource}/{sub}" if sub else resource
        for rule in self.forbidden:
            r_user, r_verb, r_resource, r_namespace = rule
            if r_user == user.name and r_verb in (verb, "*") and r_resource in (resource, "*") and \
                    r_namespace in ("*", namespace or ""):
                raise status.forbidden(user.name, verb, what, group, namespace, name)
        if not self.auth.allowed(user, verb, resource, group, namespace, name, sub):
            raise status.forbidden(user.name, verb, what, group, namespace, name)

    def log_request(self, method, path, query, user, body):
        with self.store.lock:
            self.requests.append({"method": method, "path": path, "query": query, "user": user})

    def behaviours_for(self, pod):
        return copy.deepcopy(self.behaviours)

    def logs(self, namespace, name, container):
        pod = self.store.get("pods", namespace, name)
        runtime = self.kubelet.pods.get(pod["metadata"]["uid"])
        names = [c["name"] for c in (pod["spec"].get("initContainers") or []) + pod["spec"]["containers"]]
        if container is None:
            if len(pod["spec"]["containers"]) + len(pod["spec"].get("initContainers") or []) > 1:
                raise status.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: "
                    f"[{' '.join(c['name'] for c in pod['spec']['containers'])}] or one of the init "
                    f"containers: [{' '.join(c['name'] for c in pod['spec'].get('initContainers') or [])}]")
            container = names[0]
        if container not in names:
            raise status.bad_request(f"container {container} is not valid for pod {name}")
        if runtime is None:
            raise status.bad_request(f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
        c = next(c for c in runtime.containers if c.name == container)
        if c.started_at is None:
            raise status.bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: {c.reason}')
        from .behaviour import log_lines
        return "\n".join(log_lines(c.behaviour))

    def on_removed(self, resource, obj):
        if resource == "pods":
            self.kubelet.forget(obj["metadata"]["uid"])
            self.store.pod_removed(obj)

    # -- the loops -----------------------------------------------------------------------
    def _loop(self):
        node_ready = False
        while not self.stopped:
            now = self.clock.now()
            with self.store.lock:
                try:
                    if not node_ready and self.node_ready(now):
                        node = copy.deepcopy(self.store.find("nodes", "", self.node_name))
                        node_ready = True
                        self.store.set_status("nodes", "", self.node_name,
                                              self._node_status(self._cpu, self._memory, ready=True))
                    self.kube_system.tick(now, node_ready)
                    self._namespaces(now)
                    if "resourcequota" not in self.paused:
                        quota.sync(self.store)
                    self.jobs.tick(now)
                    self.scheduler.tick(now)
                    self.kubelet.tick(now)
                    self.jobs.tick(now)
                except Exception:  # a bug in the model must be seen, not hang the test
                    import traceback
                    traceback.print_exc()
            threading.Event().wait(0.05)

    def _namespaces(self, now):
        """The namespace controller (deletes the content of a terminating namespace, then
        the namespace), the ServiceAccount controller (a `default` ServiceAccount in
        every active namespace) and the root CA publisher (a `kube-root-ca.crt` ConfigMap
        in every active namespace, made again when deleted)."""
        from .resources import NAMESPACED
        store = self.store
        for ns in store.items("namespaces"):
            name = ns["metadata"]["name"]
            if not ns["metadata"].get("deletionTimestamp"):
                seen = self._namespace_seen.setdefault(ns["metadata"]["uid"], now)
                if store.find("serviceaccounts", name, "default") is None \
                        and now >= seen + SA_CONTROLLER_DELAY and "serviceaccount" not in self.paused:
                    store.create("serviceaccounts", name, {
                        "apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "default"}}, internal=True)
                if store.find("configmaps", name, ROOT_CA_CONFIGMAP) is None:
                    store.create("configmaps", name, self._root_ca(), internal=True)
                continue
            left = False
            for resource in [r for r, namespaced in NAMESPACED.items() if namespaced]:
                for obj in store.items(resource, name):
                    left = True
                    if not obj["metadata"].get("deletionTimestamp"):
                        store.delete(resource, name, obj["metadata"]["name"], "Background", internal=True)
            if not left:
                store._remove("namespaces", ns)

    def _root_ca(self):
        """pkg/controller/certificates/rootcacertpublisher/publisher.go: the cluster's CA
        as `ca.crt`, with the description annotation."""
        import base64
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": ROOT_CA_CONFIGMAP, "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": base64.b64decode(self.ca_data).decode()}}

    def load_images(self, images):
        with self.store.lock:
            from .kubelet import normalise_image
            for image in images:
                self.node_images.add(normalise_image(image))
            node = self.store.find("nodes", "", self.node_name)
            if node:
                st = copy.deepcopy(node["status"])
                st["images"] = [{"names": [i], "sizeBytes": 100000000} for i in sorted(self.node_images)]
                self.store.set_status("nodes", "", self.node_name, st)

    def stop(self):
        self.stopped = True
        self.server.shutdown()
        self.server.server_close()

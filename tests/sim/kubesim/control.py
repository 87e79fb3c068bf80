"""The simulator's control server, for the test and the kind stand-in (never for kubectl):

  POST   /clusters                 {name, image, featureGates, cpu}  -> {server, minor}
  GET    /clusters                 -> [names]
  DELETE /clusters/NAME
  POST   /clusters/NAME/images     {images: [...]}     (kind load)
  POST   /clusters/NAME/registry   {images: [...], reachable: bool}
  POST   /clusters/NAME/forbid     {user, verb, resource, namespace}
  POST   /clusters/NAME/users      {token, name}  (a static-token user, in system:masters)
  POST   /clusters/NAME/behaviours {container: {...}}
  POST   /clusters/NAME/controllers {resourcequota: false}  (stop or restart a controller)
  GET    /clusters/NAME/requests   -> the API requests, in order
  POST   /speed                    {speed}
"""

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import pki, versions
from .cluster import Cluster


class Control:
    def __init__(self, clock, directory):
        self.clock = clock
        self.pki = pki.make(os.path.join(directory, "pki"))
        self.clusters = {}
        self.lock = threading.Lock()

    def create(self, spec):
        name = spec["name"]
        image = spec.get("image") or "kindest/node:v1.37.0"
        match = re.search(r":v(1\.(\d+)\.\d+)", image)
        if not match:
            return 400, {"error": f"cannot tell the Kubernetes version of image {image}"}
        git, minor = "v" + match.group(1), int(match.group(2))
        if minor not in versions.MINORS:
            return 400, {"error": f"the simulator serves 1.28 to 1.37, not 1.{minor}"}
        try:
            gates = versions.resolve_gates(minor, spec.get("featureGates") or {})
        except versions.GateError as error:
            return 422, {"error": str(error), "component": "kubelet"}
        with self.lock:
            if name in self.clusters:
                return 409, {"error": f'node(s) already exist for a cluster with the name "{name}"'}
            cluster = Cluster(name, git, gates, self.clock, self.pki, cpu=str(spec.get("cpu", "2")))
            self.clusters[name] = cluster
        return 201, {"server": cluster.url, "ca": cluster.ca_data, "minor": minor, "gates": gates}

    def delete(self, name):
        with self.lock:
            cluster = self.clusters.pop(name, None)
        if cluster is None:
            return 404, {"error": f"no cluster {name}"}
        cluster.stop()
        return 200, {}

    def stop_all(self):
        with self.lock:
            for cluster in self.clusters.values():
                cluster.stop()
            self.clusters.clear()


def serve(control, port=0):
    class ControlHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}") if length else {}

        def _cluster(self, name):
            return control.clusters.get(name)

        def do_GET(self):
            self._body()  # a body left unread would be taken for the next request
            parts = self.path.strip("/").split("/")
            if parts == ["clusters"]:
                return self._reply(200, sorted(control.clusters))
            if len(parts) == 3 and parts[0] == "clusters" and parts[2] == "requests":
                cluster = self._cluster(parts[1])
                if cluster is None:
                    return self._reply(404, {"error": "no such cluster"})
                with cluster.store.lock:
                    return self._reply(200, list(cluster.requests))
            if len(parts) == 2 and parts[0] == "clusters":
                cluster = self._cluster(parts[1])
                if cluster is None:
                    return self._reply(404, {"error": "no such cluster"})
                return self._reply(200, {"server": cluster.url, "ca": cluster.ca_data, "minor": cluster.minor,
                                         "gates": cluster.gates,
                                         "images": sorted(cluster.node_images)})
            self._reply(404, {"error": "unknown path"})

        def do_DELETE(self):
            self._body()
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "clusters":
                return self._reply(*control.delete(parts[1]))
            self._reply(404, {"error": "unknown path"})

        def do_POST(self):
            parts = self.path.strip("/").split("/")
            body = self._body()
            if parts == ["clusters"]:
                return self._reply(*control.create(body))
            if parts == ["speed"]:
                control.clock.set_speed(body["speed"])
                return self._reply(200, {})
            if len(parts) == 3 and parts[0] == "clusters":
                cluster = self._cluster(parts[1])
                if cluster is None:
                    return self._reply(404, {"error": f'no nodes found for cluster "{parts[1]}"'})
                if parts[2] == "images":
                    cluster.load_images(body.get("images", []))
                elif parts[2] == "registry":
                    from .kubelet import normalise_image
                    cluster.registry_images |= {normalise_image(i) for i in body.get("images", [])}
                    cluster.registry_reachable = bool(body.get("reachable", cluster.registry_reachable))
                elif parts[2] == "forbid":
                    cluster.forbidden.add((body["user"], body.get("verb", "*"), body.get("resource", "*"),
                                           body.get("namespace", "*")))
                elif parts[2] == "users":
                    cluster.auth.static[body["token"]] = body.get("name", body["token"])
                elif parts[2] == "controllers":
                    for name, running in body.items():
                        (cluster.paused.discard if running else cluster.paused.add)(name)
                elif parts[2] == "behaviours":
                    cluster.behaviours.update(body)
                else:
                    return self._reply(404, {"error": "unknown path"})
                return self._reply(200, {})
            self._reply(404, {"error": "unknown path"})

    server = ThreadingHTTPServer(("127.0.0.1", port), ControlHandler)
    server.daemon_threads = True
    return server

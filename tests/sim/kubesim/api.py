"""The REST API of one simulated cluster, as kubectl sees it: discovery (legacy shape,
which client-go accepts when the answer is not aggregated discovery), OpenAPI v3 with
the `fieldValidation` parameter on PATCH (so kubectl sends fieldValidation=Strict and
leaves validation to the server, cli-runtime query_param_verifier_v3.go), the resource
paths, watch as a chunked stream of JSON events, and Tables for `kubectl get`.
Every request is checked against the cluster's RBAC switches and logged.
"""

import copy
import json
import ssl
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from . import patch as patches
from . import printers, status
from .resources import GROUPS, KIND, NAMESPACED, RESOURCES, api_version, by_group, served

SHORT = {name: spec[3] for name, spec in RESOURCES.items()}
# Subresources besides the resource itself: (resource, subresource) -> verbs.
SUBRESOURCES = {
    ("pods", "status"): ["get", "patch", "update"],
    ("pods", "log"): ["get"],
    ("jobs", "status"): ["get", "patch", "update"],
    ("namespaces", "status"): ["get", "patch", "update"],
    ("nodes", "status"): ["get", "patch", "update"],
    ("resourcequotas", "status"): ["get", "patch", "update"],
    ("serviceaccounts", "token"): ["create"],
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _resource_list(group_version, resources):
    out = []
    for name in resources:
        out.append({
            "name": name, "singularName": KIND[name].lower(), "namespaced": NAMESPACED[name],
            "kind": KIND[name], "verbs": VERBS, "shortNames": SHORT[name],
            **({"categories": ["all"]} if name in ("pods", "jobs") else {}),
        })
        for (resource, sub), verbs in SUBRESOURCES.items():
            if resource == name:
                kind = "TokenRequest" if sub == "token" else KIND[name]
                out.append({"name": f"{name}/{sub}", "singularName": "", "namespaced": NAMESPACED[name],
                            "kind": kind, "verbs": verbs,
                            **({"group": "authentication.k8s.io", "version": "v1"} if sub == "token" else {})})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": out}


def _openapi_gv(path_prefix, resources, group, version, git):
    paths = {}
    for name in resources:
        scope = f"{path_prefix}/namespaces/{{namespace}}/{name}/{{name}}" if NAMESPACED[name] \
            else f"{path_prefix}/{name}/{{name}}"
        paths[scope] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": KIND[name]},
            "parameters": [
                {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": {"description": "OK"}},
        }}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": git}, "paths": paths,
            "components": {"schemas": {}}}




def _group_entry(group):
    version = {"groupVersion": f"{group}/v1", "version": "v1"}
    return {"name": group, "versions": [version], "preferredVersion": version}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add 40 ms to every request on a kept-alive connection.
    disable_nagle_algorithm = True
    cluster = None  # set on the subclass made per cluster

    def log_message(self, *args):  # quiet: the request log is kept in the cluster
        pass

    # -- plumbing -----------------------------------------------------------------
    def _token(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):].strip()
        return None

    def _send(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", "sim")
        for warning in getattr(self, "warnings", []):
            # apimachinery util/net NewWarningHeader: the text is a quoted-string, so `"`
            # and `\` are escaped (kubectl's ParseWarningHeader drops a header that is not).
            text = warning.replace("\\", "\\\\").replace('"', '\\"')
            self.send_header("Warning", f'299 - "{text}"')
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        if self.headers.get("Content-Type", "").startswith("application/vnd.kubernetes.protobuf"):
            from .protobuf import decode_body
            return decode_body(raw)
        try:
            return json.loads(raw)
        except ValueError:
            try:
                import yaml
                return yaml.safe_load(raw)
            except Exception:
                raise status.bad_request("the body of the request could not be decoded")

    def _handle(self, method):
        self.warnings = []
        parsed = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        body = None
        try:
            # Always read the body: one left unread would be taken for the next request.
            body = self._body()
            if method == "GET":
                body = None
            self.user = self.cluster.auth.authenticate(self._token())
            from .vap import REQUEST
            REQUEST.user = (self.user.name, list(getattr(self.user, "groups", [])))
            self.cluster.log_request(method, parsed.path, query, self.user.name, body)
            self._route(method, parsed.path.rstrip("/") or "/", query, body)
        except status.ApiError as error:
            self._send(error.code, error.body())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client went away, as kubectl does when a watch is enough

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    # -- routing -----------------------------------------------------------------------
    def _route(self, method, path, query, body):
        cluster = self.cluster
        grouped = by_group(cluster.minor)
        if path in ("/healthz", "/readyz", "/livez"):
            return self._send(200, b"ok", "text/plain")
        if path == "/version":
            return self._send(200, cluster.version_info())
        if self.user.anonymous:
            raise status.ApiError(403, "Forbidden",
                                  f'forbidden: User "system:anonymous" cannot get path "{path}"', {})
        if path == "/api":
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"],
                                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                    "serverAddress": cluster.address}]})
        if path == "/apis":
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                    "groups": [_group_entry(g) for g in grouped if g]})
        if path.startswith("/apis/") and path.count("/") == 2 and path.split("/")[2] in grouped:
            return self._send(200, {"kind": "APIGroup", "apiVersion": "v1",
                                    **_group_entry(path.split("/")[2])})
        if path == "/api/v1":
            return self._send(200, _resource_list("v1", grouped[""]))
        for group in grouped:
            if group and path == f"/apis/{group}/v1":
                return self._send(200, _resource_list(f"{group}/v1", grouped[group]))
        if path == "/openapi/v3":
            return self._send(200, {"paths": {
                ("api/v1" if not g else f"apis/{g}/v1"): {
                    "serverRelativeURL": f"/openapi/v3/{'api/v1' if not g else f'apis/{g}/v1'}?hash={cluster.minor}{i}"}
                for i, g in enumerate(grouped)
            }})
        for group in grouped:
            prefix = "/api/v1" if not group else f"/apis/{group}/v1"
            if path == f"/openapi/v3{prefix}":
                return self._send(200, _openapi_gv(prefix, grouped[group], group, "v1", cluster.git_version))
        if path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" and method == "POST":
            return self._send(201, self._access_review(body or {}))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            group, rest = "", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis" and parts[1] in grouped and parts[1] and parts[2] == "v1":
            group, rest = parts[1], parts[3:]
        else:
            raise status.ApiError(404, "NotFound", "the server could not find the requested resource",
                                  {})
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest:
            raise status.ApiError(404, "NotFound", "the server could not find the requested resource", {})
        resource = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if resource not in KIND or GROUPS[resource] != group or not served(resource, cluster.minor) or \
                (sub is not None and (resource, sub) not in SUBRESOURCES):
            raise status.ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if resource == "namespaces" and namespace is not None:
            # /api/v1/namespaces/NAME/... with no namespaced resource after it
            raise status.ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if not NAMESPACED[resource]:
            namespace = None
        verb = self._verb(method, name, query)
        cluster.authorize(self.user, verb, resource, GROUPS[resource], namespace, name, sub)
        dry = query.get("dryRun") == "All"
        if dry is False and query.get("dryRun"):
            raise status.bad_request(f"unsupported dry run value: {query.get('dryRun')}")
        store = cluster.store
        if method == "GET" and name is None:
            if verb == "watch":
                return self._watch(resource, namespace, query)
            return self._list(resource, namespace, query)
        if method == "GET" and sub == "log":
            return self._send(200, cluster.logs(namespace, name, query.get("container")).encode(),
                              "text/plain")
        if method == "GET":
            obj = store.get(resource, namespace, name)
            return self._send(200, self._maybe_table(resource, [obj], query, single=True))
        if method == "POST" and sub == "token":
            if body is None:
                raise status.bad_request("the body of the request was empty")
            if body.get("kind") not in (None, "TokenRequest"):
                raise status.bad_request(f"the kind of the request body ({body.get('kind')}) is not TokenRequest")
            account = store.get("serviceaccounts", namespace, name)
            return self._send(201, cluster.auth.issue(account, body))
        if method == "POST" and name is None:
            if body is None:
                raise status.bad_request("the body of the request was empty")
            self._check_kind(body, resource)
            self._validate_fields(body, resource, query)
            created = store.create(resource, namespace or "", body, dry_run=dry,
                                   storage_check=self._rbac_check(resource, namespace),
                                   warnings=self.warnings)
            return self._send(201, created)
        if method in ("PUT", "PATCH") and name is not None:
            current = store.get(resource, namespace, name)
            content_type = self.headers.get("Content-Type", "application/json")
            new = body if method == "PUT" else patches.apply_patch(content_type, current, body)
            if sub == "status":
                new_status = new.get("status", {})
                new = copy.deepcopy(current)
                new["status"] = new_status
                store.set_status(resource, namespace, name, new_status)
                return self._send(200, store.get(resource, namespace, name))
            self._validate_fields(new, resource, query)
            updated = store.replace(resource, namespace, name, new, dry_run=dry,
                                    storage_check=self._rbac_check(resource, namespace),
                                    warnings=self.warnings)
            return self._send(200, updated)
        if method == "DELETE" and name is not None:
            options = body or {}
            propagation = options.get("propagationPolicy") or query.get("propagationPolicy")
            if options.get("orphanDependents") is True:
                propagation = "Orphan"
            grace = options.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
            grace = int(grace) if grace not in (None, "") else None
            deleted = store.delete(resource, namespace, name, propagation, grace, dry_run=dry)
            return self._send(200, deleted)
        if method == "DELETE":
            selector = query.get("labelSelector", "")
            from .selectors import parse_labels
            match = parse_labels(selector)
            with store.lock:
                gone = [o for o in store.items(resource, namespace) if match(o["metadata"].get("labels"))]
                for obj in gone:
                    store.delete(resource, namespace, obj["metadata"]["name"], None, None, dry_run=dry)
            return self._send(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                    "status": "Success"})
        raise status.method_not_allowed()

    def _access_review(self, review):
        """SelfSubjectAccessReview (`kubectl auth can-i`), which every authenticated user
        may create (system:basic-user): the same authorizer as every request, its answer
        in status.allowed (pkg/registry/authorization/selfsubjectaccessreview/rest.go)."""
        attributes = (review.get("spec") or {}).get("resourceAttributes")
        allowed = False
        if isinstance(attributes, dict):
            resource = attributes.get("resource", "")
            group = attributes.get("group", "")
            namespace = attributes.get("namespace") or None
            try:
                self.cluster.authorize(self.user, attributes.get("verb", ""), resource, group,
                                       namespace, attributes.get("name") or None,
                                       attributes.get("subresource") or None)
                allowed = True
            except status.ApiError:
                allowed = False
        return {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": review.get("spec") or {},
                "status": {"allowed": allowed}}

    def _rbac_check(self, resource, namespace):
        if resource not in ("roles", "clusterroles", "rolebindings", "clusterrolebindings"):
            return None
        auth, user = self.cluster.auth, self.user
        return lambda obj, old=None: auth.check_escalation(user, resource, namespace, obj, old)

    def _validate_fields(self, obj, resource, query):
        """fieldValidation: Strict refuses an unknown field (400), Warn (the server's
        default) answers with a Warning header, Ignore says nothing."""
        mode = query.get("fieldValidation") or "Warn"
        if mode == "Ignore":
            return
        from .admission import strict_decode
        try:
            strict_decode(obj, resource, self.cluster.minor)
        except status.ApiError as error:
            if mode == "Strict":
                raise
            self.warnings.append(error.message.split(": ", 1)[-1])

    def _verb(self, method, name, query):
        if method == "GET":
            if name is None:
                return "watch" if query.get("watch") in ("true", "1") else "list"
            return "get"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(
            method, "delete" if name else "deletecollection")

    def _check_kind(self, body, resource):
        kind = body.get("kind")
        if kind and kind != KIND[resource]:
            version = api_version(resource)
            raise status.bad_request(
                f"the API version in the data ({body.get('apiVersion')}) and the kind ({kind}) do "
                f"not match the endpoint, which serves {version} {KIND[resource]}")

    def _matching(self, resource, namespace, query):
        from .selectors import parse_fields, parse_labels
        labels = parse_labels(query.get("labelSelector", ""))
        fields = parse_fields(query.get("fieldSelector", ""), resource)
        return lambda o: (namespace is None or o["metadata"].get("namespace") == namespace) and \
            labels(o["metadata"].get("labels")) and fields(o)

    def _list(self, resource, namespace, query):
        store = self.cluster.store
        match = self._matching(resource, namespace, query)
        with store.lock:
            items = [copy.deepcopy(o) for o in store.items(resource, namespace) if match(o)]
            rv = str(store.rv)
        for item in items:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        self._send(200, self._maybe_table(resource, items, query, rv=rv))

    def _maybe_table(self, resource, items, query, single=False, rv=None):
        accept = self.headers.get("Accept", "")
        if "as=Table" in accept:
            store = self.cluster.store
            full = [dict(o, apiVersion=api_version(resource), kind=KIND[resource])
                    for o in items]
            return printers.table(resource, full, self.cluster.clock.now(),
                                  rv or str(store.rv), query.get("includeObject", "Metadata"))
        if single:
            obj = dict(items[0])
            obj.setdefault("apiVersion", api_version(resource))
            obj.setdefault("kind", KIND[resource])
            return obj
        return {"kind": f"{KIND[resource]}List", "apiVersion": api_version(resource),
                "metadata": {"resourceVersion": rv}, "items": items}

    def _watch(self, resource, namespace, query):
        store = self.cluster.store
        match = self._matching(resource, namespace, query)
        timeout = float(query.get("timeoutSeconds") or 1800)
        end = time.monotonic() + min(timeout, 1800)
        rv = query.get("resourceVersion", "")
        table = "as=Table" in self.headers.get("Accept", "")
        initial = query.get("sendInitialEvents") == "true"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(kind, obj):
            obj = copy.deepcopy(obj)
            obj.setdefault("apiVersion", api_version(resource))
            obj.setdefault("kind", KIND[resource])
            if table:
                obj = printers.table(resource, [obj], self.cluster.clock.now(), obj["metadata"]["resourceVersion"],
                                     query.get("includeObject", "Metadata"))
            line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()

        with store.lock:
            if rv in ("", "0") or initial:
                for obj in store.items(resource, namespace):
                    if match(obj):
                        send("ADDED", obj)
                since = store.rv
                if initial:
                    send("BOOKMARK", {"metadata": {"resourceVersion": str(since), "annotations": {
                        "k8s.io/initial-events-end": "true"}}})
            else:
                try:
                    since = int(rv)
                except ValueError:
                    since = -1
                oldest = store.log[0][0] if store.log else store.rv + 1
                if since < oldest - 1:
                    # watch_cache.go getAllEventsSinceLocked: NewResourceExpired, sent by
                    # the cacher's errWatcher as one ERROR event, then the stream ends.
                    line = json.dumps({"type": "ERROR", "object": status.gone(
                        f"too old resource version: {since} ({oldest - 1})").body()}).encode() + b"\n"
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n0\r\n\r\n")
                    self.wfile.flush()
                    return
        try:
            while time.monotonic() < end and not self.cluster.stopped:
                with store.lock:
                    pending = [e for e in store.log if e[0] > since and e[2] == resource]
                    if not pending:
                        store.changed.wait(timeout=0.5)
                        pending = [e for e in store.log if e[0] > since and e[2] == resource]
                    if store.log:
                        since = max(since, store.log[-1][0])
                for event_rv, kind, _, obj, previous in pending:
                    # cacheWatcher.convertToWatchEvent: an object that starts matching is
                    # ADDED, one that keeps matching MODIFIED, and one that stops matching
                    # DELETED, with its previous content at the event's resourceVersion.
                    now_passes = kind != "DELETED" and match(obj)
                    before_passes = previous is not None and match(previous)
                    if now_passes and not before_passes:
                        send("ADDED", obj)
                    elif now_passes:
                        send("MODIFIED", obj)
                    elif before_passes:
                        gone = copy.deepcopy(previous)
                        gone["metadata"]["resourceVersion"] = str(event_rv)
                        send("DELETED", gone)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

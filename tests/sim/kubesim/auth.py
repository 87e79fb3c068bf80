"""Who a request comes from, and whether RBAC lets them do it; ServiceAccount tokens.

Sources (kubernetes/kubernetes):
- k8s.io/apiserver pkg/authentication: a bearer token that no authenticator accepts ends
  the request with 401 Unauthorized; there is no anonymous fallback once a token is sent.
- pkg/serviceaccount/jwt.go, claims.go: tokens are JWTs with `iss`, `sub`
  (system:serviceaccount:NS:NAME), `exp`, `iat`, `nbf` and a `kubernetes.io` claim naming
  the namespace and the ServiceAccount's name and uid. The validator refuses an expired
  token and one whose ServiceAccount is gone or has another uid (deleted and recreated).
  The user is `system:serviceaccount:NS:NAME` in the groups `system:serviceaccounts`,
  `system:serviceaccounts:NS` and `system:authenticated`.
- pkg/registry/core/serviceaccount/storage/token.go and pkg/apis/authentication/validation:
  TokenRequest defaults expirationSeconds to 3600 and refuses less than 10 minutes or
  more than 2^32 seconds; the answer carries `status.token` and `status.expirationTimestamp`.
- plugin/pkg/auth/authorizer/rbac/rbac.go and pkg/apis/rbac/v1/evaluation_helpers.go:
  a request is allowed when a rule of a role bound to the user (a ClusterRoleBinding
  anywhere, a RoleBinding in the request's namespace) matches its verb, API group,
  resource (`pods/log` for a subresource) and resource name; `*` matches everything.
  plugin/pkg/auth/authorizer/rbac/bootstrappolicy: the group system:masters is bound to
  cluster-admin, which allows everything.

Static tokens, as a token file gives them: kind's admin kubeconfig uses the token
`kubernetes-admin`, and tests register more (`POST /clusters/N/users`). They name a user
in system:masters, so the switches of /clusters/N/forbid are the only thing that refuses
them. A token nobody registered is refused with 401, as a real API server refuses it.
Anonymous requests reach only the health and version paths (system:public-info-viewer):
discovery needs an authenticated user (system:discovery is bound to system:authenticated).

"""

import base64
import copy
import hashlib
import hmac
import json
import secrets

from . import status
from .clock import stamp

ISSUER = "https://kubernetes.default.svc.cluster.local"
MIN_EXPIRATION = 10 * 60
MAX_EXPIRATION = 1 << 32
DEFAULT_EXPIRATION = 3600


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class User:
    def __init__(self, name, groups):
        self.name = name
        self.groups = groups

    @property
    def masters(self):
        return "system:masters" in self.groups

    @property
    def anonymous(self):
        return "system:unauthenticated" in self.groups


def unauthorized():
    return status.ApiError(401, "Unauthorized", "Unauthorized")


class Auth:
    def __init__(self, cluster):
        self.cluster = cluster
        self.key = secrets.token_bytes(32)
        self.static = {"kubernetes-admin": "kubernetes-admin"}  # token -> user

    # -- authentication -----------------------------------------------------------------
    def authenticate(self, token):
        if token is None:
            return User("system:anonymous", ["system:unauthenticated"])
        if token.count(".") == 2:
            return self._service_account(token)
        name = self.static.get(token)
        if name is None:
            raise unauthorized()
        return User(name, ["system:masters", "system:authenticated"])

    def _service_account(self, token):
        head, body, signature = token.split(".")
        expected = _b64(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            raise unauthorized()
        try:
            claims = json.loads(_unb64(body))
        except ValueError:
            raise unauthorized()
        if claims.get("exp", 0) <= self.cluster.clock.now():
            raise unauthorized()
        info = claims.get("kubernetes.io", {})
        namespace = info.get("namespace", "")
        account = info.get("serviceaccount", {})
        current = self.cluster.store.find("serviceaccounts", namespace, account.get("name", ""))
        if current is None or current["metadata"]["uid"] != account.get("uid"):
            raise unauthorized()
        return User(claims["sub"], ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                    "system:authenticated"])

    # -- TokenRequest -------------------------------------------------------------------
    def issue(self, account, request):
        """The answer to POST serviceaccounts/NAME/token for the stored `account`."""
        name = account["metadata"]["name"]
        namespace = account["metadata"]["namespace"]
        spec = dict(request.get("spec") or {})
        seconds = spec.get("expirationSeconds") or DEFAULT_EXPIRATION
        if seconds < MIN_EXPIRATION:
            raise status.invalid("TokenRequest", "authentication.k8s.io", name, [(
                "spec.expirationSeconds", "Invalid value",
                f"{seconds}: may not specify a duration less than 10 minutes")])
        if seconds > MAX_EXPIRATION:
            raise status.invalid("TokenRequest", "authentication.k8s.io", name, [(
                "spec.expirationSeconds", "Invalid value",
                f"{seconds}: may not specify a duration larger than 2^32 seconds")])
        now = int(self.cluster.clock.now())
        audiences = spec.get("audiences") or [ISSUER]
        claims = {
            "aud": audiences, "exp": now + seconds, "iat": now, "iss": ISSUER, "nbf": now,
            "jti": secrets.token_hex(16),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {
                "name": name, "uid": account["metadata"]["uid"]}},
            "sub": f"system:serviceaccount:{namespace}:{name}",
        }
        head = _b64(json.dumps({"alg": "RS256", "kid": "kubesim"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        spec["audiences"] = audiences
        spec["expirationSeconds"] = seconds
        spec.setdefault("boundObjectRef", None)
        return {
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": spec,
            "status": {"token": f"{head}.{body}.{signature}",
                       "expirationTimestamp": stamp(now + seconds)},
        }

    # -- authorization ------------------------------------------------------------------
    def allowed(self, user, verb, resource, group, namespace, name, sub):
        if user.masters:
            return True
        store = self.cluster.store
        wanted = f"{resource}/{sub}" if sub else resource
        for binding in store.items("clusterrolebindings"):
            if _binds(binding, user) and _role_allows(store, binding, None, verb, group, wanted, name):
                return True
        if namespace:
            for binding in store.items("rolebindings", namespace):
                if _binds(binding, user) and _role_allows(store, binding, namespace, verb, group, wanted, name):
                    return True
        return False


    # -- escalation and bind checks ------------------------------------------------------
    def rules_for(self, user, namespace):
        """The rule resolver's RulesFor: every rule of the roles bound to the user by a
        ClusterRoleBinding, and by a RoleBinding in `namespace`."""
        store = self.cluster.store
        rules = []
        bindings = [(b, None) for b in store.items("clusterrolebindings")]
        if namespace:
            bindings += [(b, namespace) for b in store.items("rolebindings", namespace)]
        for binding, ns in bindings:
            if _binds(binding, user):
                role = _role_of(store, binding.get("roleRef") or {}, ns)
                if role is not None:
                    rules += role.get("rules") or []
        return rules

    def check_escalation(self, user, resource, namespace, obj, old=None):
        """pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased
        storage.go, before the standard storage (and so before validation): a user outside
        system:masters (EscalationAllowed) may write a role only with `escalate` on it
        (RoleEscalationAuthorized) or when holding every permission it grants
        (ConfirmNoEscalation), and a binding only with `bind` on its role
        (BindingAuthorized) or when holding every permission of that role."""
        if user.masters or (old is not None and _only_gc_fields(obj, old)):
            return
        rbac = "rbac.authorization.k8s.io"
        name = (obj.get("metadata") or {}).get("name", "")
        if resource in ("roles", "clusterroles"):
            if self.allowed(user, "escalate", resource, rbac, namespace,
                            name if old is not None else None, None):
                return
            rules = obj.get("rules") or []
        elif resource in ("rolebindings", "clusterrolebindings"):
            ref = obj.get("roleRef") or {}
            target = {"ClusterRole": "clusterroles", "Role": "roles"}.get(ref.get("kind"))
            if target is None:
                raise status.forbidden_because(resource, rbac, name, "")
            if self.allowed(user, "bind", target, ref.get("apiGroup", ""), namespace,
                            ref.get("name", ""), None):
                return
            role = _role_of(self.cluster.store, ref, namespace)
            if role is None:
                raise status.forbidden_because(
                    resource, rbac, name,
                    f'{target}.{rbac} "{ref.get("name", "")}" not found')
            rules = role.get("rules") or []
        else:
            return
        missing = _uncovered(self.rules_for(user, namespace), rules)
        if missing:
            groups = "[" + " ".join(f'"{g}"' for g in user.groups) + "]"
            described = sorted({_compact_string(r) for r in _compact(missing)})
            raise status.forbidden_because(
                resource, rbac, name,
                f'user "{user.name}" (groups={groups}) is attempting to grant RBAC permissions '
                "not currently held:\n" + "\n".join(described))


def _only_gc_fields(new, old):
    """IsOnlyMutatingGCFields (pkg/registry/rbac): an update that changes nothing but
    ownerReferences and finalizers is not checked."""
    def plain(obj, meta_from):
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        for field in ("ownerReferences", "finalizers"):
            meta.pop(field, None)
            if field in (meta_from.get("metadata") or {}):
                meta[field] = meta_from["metadata"][field]
        for field in ("resourceVersion", "managedFields"):
            meta.pop(field, None)
        obj.pop("status", None)
        return obj

    return plain(new, old) == plain(old, old)


def _role_of(store, ref, namespace):
    if ref.get("kind") == "ClusterRole":
        return store.find("clusterroles", "", ref.get("name", ""))
    if ref.get("kind") == "Role" and namespace:
        return store.find("roles", namespace, ref.get("name", ""))
    return None


def _breakdown(rule):
    """BreakdownRule (pkg/registry/rbac/validation/policy_comparator.go)."""
    out = []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in rule.get("verbs") or []:
                if rule.get("resourceNames"):
                    out += [{"apiGroups": [group], "resources": [resource], "verbs": [verb],
                             "resourceNames": [n]} for n in rule["resourceNames"]]
                else:
                    out.append({"apiGroups": [group], "resources": [resource], "verbs": [verb]})
    for url in rule.get("nonResourceURLs") or []:
        for verb in rule.get("verbs") or []:
            out.append({"nonResourceURLs": [url], "verbs": [verb]})
    return out


def _covers(owner, sub):
    """ruleCovers: verbs, groups, resources (`*`, exact or `*/SUB`), names, URLs."""
    def has_all(values, wanted, star):
        values = values or []
        return star in values or all(w in values for w in wanted or [])

    resources = owner.get("resources") or []
    resource_ok = "*" in resources or all(
        r in resources or ("/" in r and "*/" + r.split("/", 1)[1] in resources)
        for r in sub.get("resources") or [])
    urls = owner.get("nonResourceURLs") or []
    url_ok = all(u in urls or "*" in urls
                 or any(o.endswith("*") and u.startswith(o[:-1]) for o in urls)
                 for u in sub.get("nonResourceURLs") or [])
    if not sub.get("resourceNames"):
        names_ok = not owner.get("resourceNames")
    else:
        names_ok = not owner.get("resourceNames") or all(
            n in owner["resourceNames"] for n in sub["resourceNames"])
    return (has_all(owner.get("verbs"), sub.get("verbs"), "*")
            and has_all(owner.get("apiGroups"), sub.get("apiGroups"), "*")
            and resource_ok and url_ok and names_ok)


def _uncovered(owner_rules, rules):
    """Covers: the broken-down rules that no rule of the owner covers."""
    missing = []
    for rule in rules:
        for sub in _breakdown(rule):
            if not any(_covers(owner, sub) for owner in owner_rules):
                missing.append(sub)
    return missing


def _compact(rules):
    """CompactRules: rules on one group and one resource (and at most one name) merge
    their verbs."""
    simple, out = {}, []
    for rule in rules:
        if rule.get("nonResourceURLs") or len(rule.get("resourceNames") or []) > 1 \
                or len(rule.get("apiGroups") or []) != 1 or len(rule.get("resources") or []) != 1:
            out.append(rule)
            continue
        key = (rule["apiGroups"][0], rule["resources"][0], tuple(rule.get("resourceNames") or []))
        if key in simple:
            simple[key]["verbs"] += [v for v in rule["verbs"] if v not in simple[key]["verbs"]]
        else:
            simple[key] = {k: list(v) for k, v in rule.items()}
    return out + list(simple.values())


def _compact_string(rule):
    """rbacv1helpers.CompactString: `{APIGroups:["batch"], Resources:["jobs"], Verbs:["create"]}`."""
    def q(values):
        return "[" + " ".join(f'"{v}"' for v in values) + "]"

    parts = []
    for field, key in (("APIGroups", "apiGroups"), ("Resources", "resources"),
                       ("NonResourceURLs", "nonResourceURLs"), ("ResourceNames", "resourceNames"),
                       ("Verbs", "verbs")):
        if rule.get(key):
            parts.append(f"{field}:{q(rule[key])}")
    return "{" + ", ".join(parts) + "}"


def _binds(binding, user):
    for subject in binding.get("subjects") or []:
        kind, name = subject.get("kind"), subject.get("name")
        if kind == "User" and name == user.name:
            return True
        if kind == "Group" and name in user.groups:
            return True
        if kind == "ServiceAccount" and \
                f"system:serviceaccount:{subject.get('namespace', '')}:{name}" == user.name:
            return True
    return False


def _role_allows(store, binding, namespace, verb, group, resource, name):
    ref = binding.get("roleRef") or {}
    if ref.get("kind") == "ClusterRole":
        role = store.find("clusterroles", "", ref.get("name", ""))
    else:
        role = store.find("roles", namespace or "", ref.get("name", ""))
    if role is None:
        return False
    return any(_rule_allows(rule, verb, group, resource, name) for rule in role.get("rules") or [])


def _rule_allows(rule, verb, group, resource, name):
    def has(values, value):
        return "*" in (values or []) or value in (values or [])

    if not has(rule.get("verbs"), verb) or not has(rule.get("apiGroups"), group):
        return False
    resources = rule.get("resources") or []
    _, _, sub = resource.partition("/")
    # rbac.go ResourceMatches: `*`, the exact resource (`pods/log`), or `*/SUB`; there is
    # no `pods/*` form.
    if not ("*" in resources or resource in resources or (sub and f"*/{sub}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or name in names


def bootstrap(store):
    """The default roles a kubeadm cluster starts with (a subset of bootstrappolicy)."""
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    read = ["get", "list", "watch"]
    roles = {
        "cluster-admin": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        "view": [
            {"apiGroups": [""], "resources": ["pods", "pods/log", "pods/status", "events",
                                              "serviceaccounts", "resourcequotas", "limitranges"],
             "verbs": read},
            {"apiGroups": ["batch"], "resources": ["jobs", "jobs/status"], "verbs": read},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": read},
        ],
    }
    for name, rules in roles.items():
        store.create("clusterroles", "", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
            "rules": rules}, internal=True)
    store.create("clusterrolebindings", "", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "cluster-admin", "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}],
    }, internal=True)

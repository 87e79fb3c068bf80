"""ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (admissionregistration.
k8s.io/v1, served from 1.30): defaulting, validation, and the admission plugin that
evaluates a policy's CEL validations (kubesim/cel.py's subset) on creates and updates.

Sources (kubernetes/kubernetes):
- pkg/apis/admissionregistration/v1/defaults.go: failurePolicy Fail, matchPolicy
  Equivalent, namespaceSelector and objectSelector `{}`, a rule's scope `*`.
- pkg/apis/admissionregistration/validation/validation.go ValidateValidatingAdmission-
  Policy (matchConstraints and its resourceRules required, validations or auditAnnotations
  required, an expression required and compiled: `compilation failed: ERROR: <input>:…`;
  failurePolicy Fail|Ignore) and ValidateValidatingAdmissionPolicyBinding (policyName
  required, validationActions required, Deny|Warn|Audit, not Deny with Warn).
- staging/src/k8s.io/apiserver/pkg/admission/plugin/policy/matching/matching.go and
  predicates/namespace, predicates/rules: operations, apiGroups, apiVersions, resources
  (`*`, `pods/status`, `*/status`), scope, excludeResourceRules, namespaceSelector (a
  Namespace is matched by its own labels, other cluster-scoped objects always),
  objectSelector; a binding's matchResources narrows the policy's (unset resourceRules do
  not constrain).
- .../policy/validating/validator.go (the first failing validation's message, else
  `failed expression: EXPR`; reason Invalid unless the validation names one) and
  dispatcher.go Dispatch (Deny: `ValidatingAdmissionPolicy 'P' with binding 'B' denied
  request: MESSAGE` through admission.NewForbidden with the reason's code, 422 for Invalid,
  and the message as a cause; Warn: a `Validation failed for ValidatingAdmissionPolicy 'P'
  with binding 'B': MESSAGE` warning; an evaluation error under failurePolicy Ignore is
  dropped; a binding to a missing policy is ignored).
Not modelled, and refused when a policy uses them (`not modelled by the simulator`):
paramKind/paramRef, matchConditions, variables, auditAnnotations, messageExpression, and
CEL outside kubesim/cel.py. DELETE and CONNECT requests are not run through policies."""

import threading

from . import cel, status

REQUEST = threading.local()  # the user of the API request the current thread serves
JOB_CONTROLLER = ("system:serviceaccount:kube-system:job-controller",
                  ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])


def served(minor):
    """GA (and on) in 1.30; beta and off by default in 1.28 and 1.29
    (ValidatingAdmissionPolicy gate, admissionregistration.k8s.io/v1beta1 disabled)."""
    return minor >= 30


def _default_match(match):
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    match.setdefault("matchPolicy", "Equivalent")
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in match.get(key) or []:
            rule.setdefault("scope", "*")


def default_policy(policy):
    spec = policy.setdefault("spec", {})
    spec.setdefault("failurePolicy", "Fail")
    if isinstance(spec.get("matchConstraints"), dict):
        _default_match(spec["matchConstraints"])


def default_binding(binding):
    spec = binding.setdefault("spec", {})
    if isinstance(spec.get("matchResources"), dict):
        _default_match(spec["matchResources"])


NOT_MODELLED = "is not modelled by the simulator"


def _not_modelled(path, what):
    return (path, "Forbidden", f"{what} {NOT_MODELLED}")


def validate_policy(policy):
    spec = policy.get("spec") or {}
    errors = []
    if spec.get("failurePolicy") not in ("Fail", "Ignore"):
        errors.append(("spec.failurePolicy", "Unsupported value",
                       f'"{spec.get("failurePolicy")}": supported values: "Fail", "Ignore"'))
    match = spec.get("matchConstraints")
    if not match:
        errors.append(("spec.matchConstraints", "Required value", ""))
    elif not match.get("resourceRules"):
        errors.append(("spec.matchConstraints.resourceRules", "Required value", ""))
    for key in ("paramKind", "matchConditions", "variables", "auditAnnotations"):
        if spec.get(key):
            errors.append(_not_modelled(f"spec.{key}", key))
    validations = spec.get("validations") or []
    if not validations and not spec.get("auditAnnotations"):
        errors.append(("spec.validations", "Required value",
                       "validations or auditAnnotations must contain at least one item"))
    for i, validation in enumerate(validations):
        at = f"spec.validations[{i}]"
        expression = (validation or {}).get("expression", "")
        if not expression.strip():
            errors.append((f"{at}.expression", "Required value", ""))
        else:
            try:
                cel.compile_expression(expression)
            except cel.CompileError as error:
                errors.append((f"{at}.expression", "Invalid value",
                               f'"{expression}": compilation failed: ERROR: <input>:1:1: {error}'))
            except cel.NotModelled as error:
                errors.append((f"{at}.expression", "Forbidden", f'"{expression}": {error}'))
        if (validation or {}).get("messageExpression"):
            errors.append(_not_modelled(f"{at}.messageExpression", "messageExpression"))
        reason = (validation or {}).get("reason")
        if reason is not None and reason not in ("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"):
            errors.append((f"{at}.reason", "Unsupported value",
                           f'"{reason}": supported values: "Unauthorized", "Forbidden", "Invalid", '
                           '"RequestEntityTooLarge"'))
    return errors


def validate_binding(binding):
    spec = binding.get("spec") or {}
    errors = []
    if not spec.get("policyName"):
        errors.append(("spec.policyName", "Required value", ""))
    if spec.get("paramRef"):
        errors.append(_not_modelled("spec.paramRef", "paramRef"))
    actions = spec.get("validationActions") or []
    if not actions:
        errors.append(("spec.validationActions", "Required value", "at least one validation action is required"))
    seen = set()
    for i, action in enumerate(actions):
        if action not in ("Deny", "Warn", "Audit"):
            errors.append((f"spec.validationActions[{i}]", "Unsupported value",
                           f'"{action}": supported values: "Audit", "Deny", "Warn"'))
        elif action in seen:
            errors.append((f"spec.validationActions[{i}]", "Duplicate value", f'"{action}"'))
        seen.add(action)
    if {"Deny", "Warn"} <= seen:
        errors.append(("spec.validationActions", "Invalid value",
                       '["' + '","'.join(actions) + '"]: must not contain both Deny and Warn (repeating the same '
                       "validation failure information in the API response and headers serves no purpose)"))
    return errors


def _selects(selector, labels):
    from .admission import _selector_matches
    return _selector_matches(selector or {}, labels or {})


def _rule_matches(rule, operation, group, resource, sub, namespaced):
    def has(values, value):
        return "*" in (values or []) or value in (values or [])
    if not has(rule.get("operations"), operation):
        return False
    if not has(rule.get("apiGroups"), group) or not has(rule.get("apiVersions"), "v1"):
        return False
    wanted = f"{resource}/{sub}" if sub else resource
    resources = rule.get("resources") or []
    if not ("*" in resources and not sub or wanted in resources or "*/*" in resources
            or (sub and f"*/{sub}" in resources) or (sub and f"{resource}/*" in resources)):
        return False
    scope = rule.get("scope", "*")
    return scope == "*" or (scope == "Namespaced") == namespaced


def _matches(store, match, operation, resource, obj, old, rules_required):
    from .resources import GROUPS, NAMESPACED
    group, namespaced = GROUPS[resource], NAMESPACED[resource]
    rules = match.get("resourceRules") or []
    if (rules or rules_required) and not any(
            _rule_matches(r, operation, group, resource, None, namespaced) for r in rules):
        return False
    if any(_rule_matches(r, operation, group, resource, None, namespaced)
           for r in match.get("excludeResourceRules") or []):
        return False
    meta = (obj or old or {}).get("metadata") or {}
    if resource == "namespaces":
        ns_labels = meta.get("labels")
    elif namespaced:
        namespace = store.find("namespaces", "", meta.get("namespace", ""))
        ns_labels = (namespace or {}).get("metadata", {}).get("labels")
    else:
        ns_labels = None
    if ns_labels is not None or resource == "namespaces":
        if not _selects(match.get("namespaceSelector"), ns_labels):
            return False
    object_selector = match.get("objectSelector") or {}
    candidates = [((o or {}).get("metadata") or {}).get("labels") for o in (obj, old) if o is not None]
    return any(_selects(object_selector, labels) for labels in candidates)


def _request(operation, resource, obj, old, dry_run):
    from .resources import GROUPS, KIND
    user, groups = getattr(REQUEST, "user", None) or JOB_CONTROLLER
    meta = (obj or old or {}).get("metadata") or {}
    group = GROUPS[resource]
    return {
        "kind": {"group": group, "version": "v1", "kind": KIND[resource]},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "name": meta.get("name", ""), "namespace": meta.get("namespace", ""),
        "operation": operation, "userInfo": {"username": user, "groups": list(groups)},
        "dryRun": bool(dry_run),
    }


def admit(store, operation, resource, obj, old=None, dry_run=False, warnings=None):
    """The plugin's Validate for one create or update; raises the first denial."""
    if not served(store.cluster.minor) or resource in ("events",):
        return
    policies = {p["metadata"]["name"]: p for p in store.items("validatingadmissionpolicies")}
    denied = []
    for binding in store.items("validatingadmissionpolicybindings"):
        spec = binding.get("spec") or {}
        policy = policies.get(spec.get("policyName"))
        if policy is None:
            continue
        pspec = policy.get("spec") or {}
        if not _matches(store, pspec.get("matchConstraints") or {}, operation, resource, obj, old, True):
            continue
        if spec.get("matchResources") and not _matches(
                store, spec["matchResources"], operation, resource, obj, old, False):
            continue
        env = {"object": obj, "oldObject": old, "request": _request(operation, resource, obj, old, dry_run)}
        for validation in pspec.get("validations") or []:
            expression = validation.get("expression", "")
            try:
                result = cel.evaluate(cel.compile_expression(expression), env)
                if not isinstance(result, bool):
                    raise cel.EvalError("expression must evaluate to bool")
            except cel.EvalError as error:
                if pspec.get("failurePolicy") == "Ignore":
                    continue
                denied.append((policy, binding, f"expression '{expression}' resulted in error: {error}",
                               "Invalid"))
                break
            except (cel.CompileError, cel.NotModelled) as error:
                raise status.ApiError(500, "InternalError", f"the simulator could not run policy "
                                      f"{policy['metadata']['name']}: {error}", {})
            if result:
                continue
            message = (validation.get("message") or "").strip() or f"failed expression: {expression.strip()}"
            for action in spec.get("validationActions") or []:
                if action == "Deny":
                    denied.append((policy, binding, message, validation.get("reason") or "Invalid"))
                elif action == "Warn" and warnings is not None:
                    warnings.append(f"Validation failed for ValidatingAdmissionPolicy "
                                    f"'{policy['metadata']['name']}' with binding "
                                    f"'{binding['metadata']['name']}': {message}")
    if denied:
        policy, binding, message, reason = denied[0]
        text = (f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding "
                f"'{binding['metadata']['name']}' denied request: {message}")
        from .resources import GROUPS
        name = ((obj or old).get("metadata") or {}).get("name", "")
        error = status.forbidden_because(resource, GROUPS[resource], name, text)
        error.reason = reason
        error.code = {"Unauthorized": 401, "Forbidden": 403, "RequestEntityTooLarge": 413}.get(reason, 422)
        error.details = dict(error.details or {}, causes=[{"message": text}])
        raise error

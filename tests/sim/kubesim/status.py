"""API errors in the real `metav1.Status` shape, worded as the API server words them.

Sources: k8s.io/apimachinery pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists,
NewForbidden, NewInvalid, NewBadRequest, NewGone) and k8s.io/apiserver
pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage).
"""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def body(self):
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


def qualified(resource, group):
    return f"{resource}.{group}" if group else resource


def _details(name, resource, group):
    details = {"name": name, "kind": resource}
    if group:
        details["group"] = group
    return details


def not_found(resource, group, name):
    return ApiError(
        404,
        "NotFound",
        f'{qualified(resource, group)} "{name}" not found',
        _details(name, resource, group),
    )


def already_exists(resource, group, name):
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        _details(name, resource, group),
    )


def forbidden(user, verb, resource, group, namespace, name):
    """`resource` may name a subresource (`serviceaccounts/token`): the reason names it,
    the GroupResource in front does not (NewForbidden gets the resource alone)."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    why = f'User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
    resource = resource.split("/", 1)[0]
    what = qualified(resource, group)
    message = f'{what} "{name}" is forbidden: {why}' if name else f"{what} is forbidden: {why}"
    return ApiError(403, "Forbidden", message, _details(name or "", resource, group))


def forbidden_because(resource, group, name, why):
    """NewForbidden(GroupResource, name, err): `RESOURCE "NAME" is forbidden: WHY`."""
    return ApiError(403, "Forbidden", f'{qualified(resource, group)} "{name}" is forbidden: {why}',
                    _details(name, resource, group))


def namespace_terminating(namespace, resource, group, name):
    message = (
        f'{qualified(resource, group)} "{name}" is forbidden: unable to create new content in '
        f"namespace {namespace} because it is being terminated"
    )
    return ApiError(403, "Forbidden", message, _details(name, resource, group))


def invalid(kind, group, name, causes):
    """causes: [(field, type, detail)], type as in field.ErrorType ("Forbidden", ...)."""
    reasons = {
        "Forbidden": "FieldValueForbidden",
        "Required value": "FieldValueRequired",
        "Invalid value": "FieldValueInvalid",
        "Unsupported value": "FieldValueNotSupported",
        "Duplicate value": "FieldValueDuplicate",
        "Too long": "FieldValueTooLong",
    }
    parts = [f"{field}: {kind_}: {detail}" for field, kind_, detail in causes]
    aggregate = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    kind_name = f"{kind}.{group}" if group else kind
    return ApiError(
        422,
        "Invalid",
        f'{kind_name} "{name}" is invalid: {aggregate}',
        {
            "name": name,
            "kind": kind,
            **({"group": group} if group else {}),
            "causes": [
                {"reason": reasons.get(t, "FieldValueInvalid"), "message": f"{t}: {d}", "field": f}
                for f, t, d in causes
            ],
        },
    )


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message="the server does not allow this method on the requested resource"):
    return ApiError(405, "MethodNotAllowed", message, {})


def gone(message):
    return ApiError(410, "Expired", message)

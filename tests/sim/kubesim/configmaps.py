"""ConfigMaps (core v1): the validation of a create and of an update, as the API server's
strategy runs it (pkg/registry/core/configmap/strategy.go Validate, ValidateUpdate).

Sources: pkg/apis/core/validation/validation.go ValidateConfigMap (every key of `data`
and `binaryData` a config key, no key in both, the values' total size at most
core.MaxSecretSize, 1 MiB) and ValidateConfigMapUpdate (an `immutable: true` ConfigMap
keeps its data and stays immutable); apimachinery util/validation/validation.go
IsConfigMapKey (at most 253 characters, `[-._a-zA-Z0-9]+`, not `.` nor `..` nor
starting with `..`); util/validation/field/errors.go TooLong, whose words changed in
1.32 (kubernetes PR #128553: `must have at most N bytes` before, `may not be more than N
bytes` after). Go ranges over the maps in random order, so a real server lists several
key errors in any order; the simulator sorts them.
"""

import base64
import binascii
import re

from . import status

MAX_SIZE = 1024 * 1024  # core.MaxSecretSize
KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
KEY_MESSAGE = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
               "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
               "'[-._a-zA-Z0-9]+')")
IMMUTABLE = "field is immutable when `immutable` is set"


def _key_errors(key):
    """validation.IsConfigMapKey."""
    errors = []
    if len(key) > 253:
        errors.append("must be no more than 253 characters")
    if not KEY.match(key):
        errors.append(KEY_MESSAGE)
    if key == ".":
        errors.append("must not be '.'")
    elif key == "..":
        errors.append("must not be '..'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _size(value, binary):
    if not isinstance(value, str):
        return 0
    if binary:
        try:
            return len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return len(value)
    return len(value.encode())


def validate(obj, minor):
    """ValidateConfigMap (the name is checked with every kind's, by admission._name_errors)."""
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    errors, total = [], 0
    for key in sorted(data):
        errors += [(f"data[{key}]", "Invalid value", f'"{key}": {m}') for m in _key_errors(key)]
        if key in binary:
            errors.append((f"data[{key}]", "Invalid value",
                           f'"{key}": duplicate of key present in binaryData'))
        total += _size(data[key], False)
    for key in sorted(binary):
        errors += [(f"binaryData[{key}]", "Invalid value", f'"{key}": {m}')
                   for m in _key_errors(key)]
        total += _size(binary[key], True)
    if total > MAX_SIZE:
        words = "may not be more than" if minor >= 32 else "must have at most"
        errors.append(("", "Too long", f"{words} {MAX_SIZE} bytes"))
    return errors


def validate_update(old, new, minor):
    """ValidateConfigMapUpdate: an immutable ConfigMap's data and flag, then the new object."""
    errors = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errors.append(("immutable", "Forbidden", IMMUTABLE))
        if (new.get("data") or {}) != (old.get("data") or {}):
            errors.append(("data", "Forbidden", IMMUTABLE))
        if (new.get("binaryData") or {}) != (old.get("binaryData") or {}):
            errors.append(("binaryData", "Forbidden", IMMUTABLE))
    return errors + validate(new, minor)


def admit(obj, minor, old=None):
    """Raises the 422 Invalid a real server answers."""
    errors = validate(obj, minor) if old is None else validate_update(old, obj, minor)
    if errors:
        raise status.invalid("ConfigMap", "", (obj.get("metadata") or {}).get("name", ""), errors)


def row(obj, now, age):
    """printConfigMap: NAME, DATA (the keys of data and binaryData), AGE."""
    return [obj["metadata"]["name"], len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
            age(obj, now)]

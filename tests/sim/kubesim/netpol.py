"""NetworkPolicy (networking.k8s.io/v1): its defaulting and validation. The simulator
stores policies and answers for them; it runs no network, so nothing is enforced.

Sources (kubernetes/kubernetes): pkg/apis/networking/v1/defaults.go (SetDefaults_Network-
Policy: no policyTypes means Ingress, plus Egress when egress rules exist;
SetDefaults_NetworkPolicyPort: protocol TCP); pkg/apis/networking/validation/validation.go
(ValidateNetworkPolicySpec, ValidateNetworkPolicyPort, ValidateNetworkPolicyPeer,
ValidateIPBlock); apimachinery meta/v1/validation ValidateLabelSelectorRequirement;
apimachinery util/validation IsValidPortNum, IsValidPortName; core validation
IsValidCIDRForLegacyField."""

import ipaddress

from .admission import _port_name_errors

SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def default(policy):
    spec = policy.setdefault("spec", {})
    spec.setdefault("podSelector", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule or {}).get("ports") or []:
                port.setdefault("protocol", "TCP")


def _selector_errors(selector, path):
    errors = []
    for i, requirement in enumerate((selector or {}).get("matchExpressions") or []):
        at = f"{path}.matchExpressions[{i}]"
        operator = requirement.get("operator", "")
        values = requirement.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                errors.append((f"{at}.values", "Required value",
                               "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.append((f"{at}.values", "Forbidden",
                               "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errors.append((f"{at}.operator", "Invalid value", f'"{operator}": not a valid selector operator'))
    return errors


def _port_errors(port, path):
    errors = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        errors.append((f"{path}.protocol", "Unsupported value",
                       f'"{protocol}": supported values: "TCP", "UDP", "SCTP"'))
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            errors.append((f"{path}.endPort", "Invalid value",
                           f"{end}: may not be specified when `port` is not specified"))
    elif isinstance(number, int):
        if not 1 <= number <= 65535:
            errors.append((f"{path}.port", "Invalid value", f"{number}: must be between 1 and 65535, inclusive"))
        if end is not None:
            if end < number:
                errors.append((f"{path}.endPort", "Invalid value", f"{number}: must be greater than or equal to `port`"))
            if not 1 <= end <= 65535:
                errors.append((f"{path}.endPort", "Invalid value", f"{end}: must be between 1 and 65535, inclusive"))
    else:
        if end is not None:
            errors.append((f"{path}.endPort", "Invalid value",
                           f"{end}: may not be specified when `port` is non-numeric"))
        errors += [(f"{path}.port", "Invalid value", f'"{number}": {m}') for m in _port_name_errors(str(number))]
    return errors


def _cidr(text):
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _peer_errors(peer, path):
    errors, count = [], 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            errors += _selector_errors(peer[key], f"{path}.{key}")
    block = peer.get("ipBlock")
    if block is not None:
        count += 1
        cidr = block.get("cidr", "")
        if not cidr:
            errors.append((f"{path}.ipBlock.cidr", "Required value", ""))
        elif _cidr(cidr) is None:
            errors.append((f"{path}.ipBlock.cidr", "Invalid value",
                           f'"{cidr}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'))
        else:
            network = _cidr(cidr)
            for i, text in enumerate(block.get("except") or []):
                at = f"{path}.ipBlock.except[{i}]"
                inner = _cidr(text)
                if inner is None:
                    errors.append((at, "Invalid value",
                                   f'"{text}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'))
                elif inner.version != network.version or inner.network_address not in network \
                        or network.prefixlen >= inner.prefixlen:
                    errors.append((at, "Invalid value", f'"{text}": must be a strict subset of `cidr`'))
    if count == 0:
        errors.append((path, "Required value", "must specify a peer"))
    elif count > 1 and block is not None:
        errors.append((path, "Forbidden", "may not specify both ipBlock and another peer"))
    return errors


def validate(policy):
    """ValidateNetworkPolicySpec's field errors, [(path, type, detail)]."""
    spec = policy.get("spec") or {}
    errors = _selector_errors(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            at = f"spec.{direction}[{i}]"
            for j, port in enumerate(rule.get("ports") or []):
                errors += _port_errors(port, f"{at}.ports[{j}]")
            for j, peer in enumerate(rule.get(peers) or []):
                errors += _peer_errors(peer or {}, f"{at}.{peers}[{j}]")
    types = spec.get("policyTypes") or []
    if len(types) > 2:
        listed = ",".join(types)
        errors.append(("spec.policyTypes", "Invalid value", f"&[{listed}]: may not specify more than two policyTypes"))
        return errors
    for i, kind in enumerate(types):
        if kind not in ("Ingress", "Egress"):
            errors.append((f"spec.policyTypes[{i}]", "Unsupported value",
                           f'"{kind}": supported values: "Ingress", "Egress"'))
    return errors


def selector_text(selector):
    """metav1.FormatLabelSelector, for `kubectl get networkpolicies`."""
    parts = [f"{k}={v}" for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for requirement in (selector or {}).get("matchExpressions") or []:
        key, op, values = requirement.get("key", ""), requirement.get("operator", ""), requirement.get("values") or []
        if op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {op.lower()} ({','.join(sorted(values))})")
    return ",".join(sorted(parts)) or "<none>"

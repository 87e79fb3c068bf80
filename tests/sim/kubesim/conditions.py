"""A status condition as the controllers and the kubelet write them."""


def condition(kind, status, transition, probe=None, reason=None, message=None):
    """`transition` and `probe` are timestamps already formatted (probe may be None)."""
    out = {"lastProbeTime": probe, "lastTransitionTime": transition, "status": status, "type": kind}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out

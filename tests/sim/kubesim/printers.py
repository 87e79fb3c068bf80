"""Server-side printing (`kubectl get` asks for a meta.k8s.io Table): the columns and
cells of kubernetes/kubernetes pkg/printers/internalversion/printers.go (printPod,
printJob, printNode, printNamespace, printEvent) and apimachinery's HumanDuration.
"""

from .clock import parse_stamp


def human(seconds):
    seconds = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def _age(obj, now):
    created = obj["metadata"].get("creationTimestamp")
    return human(now - parse_stamp(created)) if created else "<unknown>"


def _column(name, kind="string", fmt="", priority=0):
    return {"name": name, "type": kind, "format": fmt, "description": "", "priority": priority}


def pod_row(pod, now):
    spec, status = pod["spec"], pod.get("status", {})
    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    phase = status.get("phase", "Pending")
    reason = status.get("reason") or phase
    inits = {c["name"]: c for c in spec.get("initContainers") or []}
    total += sum(1 for c in inits.values() if c.get("restartPolicy") == "Always")
    initializing = False
    last_restart = 0.0
    sidecar_last_restart = 0.0

    def finished(c):
        terminated = (c.get("lastState") or {}).get("terminated") or {}
        return parse_stamp(terminated["finishedAt"]) if terminated.get("finishedAt") else 0.0

    for i, c in enumerate(status.get("initContainerStatuses") or []):
        restarts += c.get("restartCount", 0)
        last_restart = max(last_restart, finished(c))
        restartable = inits.get(c["name"], {}).get("restartPolicy") == "Always"
        if restartable:
            sidecar_restarts += c.get("restartCount", 0)
            sidecar_last_restart = max(sidecar_last_restart, finished(c))
        state = c.get("state", {})
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if restartable and c.get("started"):
            if c.get("ready"):
                ready += 1
            continue
        if terminated:
            reason = "Init:" + terminated["reason"] if terminated.get("reason") else f"Init:ExitCode:{terminated.get('exitCode')}"
            initializing = True
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
            initializing = True
        else:
            reason = f"Init:{i}/{len(inits)}"
            initializing = True
        break
    initialized = any(c["type"] == "Initialized" and c["status"] == "True" for c in status.get("conditions", []))
    if not initializing or initialized:
        restarts = sidecar_restarts
        last_restart = sidecar_last_restart
        has_running = False
        for c in reversed(status.get("containerStatuses") or []):
            restarts += c.get("restartCount", 0)
            last_restart = max(last_restart, finished(c))
            state = c.get("state", {})
            if state.get("waiting", {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated", {}).get("reason"):
                reason = state["terminated"]["reason"]
            elif "terminated" in state:
                reason = f"ExitCode:{state['terminated'].get('exitCode')}"
            elif c.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            ready_condition = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
            reason = "Running" if ready_condition else "NotReady"
    if pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    # RESTARTS: the count, and how long ago the last restarted container terminated
    # (translateTimestampSince of lastState.terminated.finishedAt).
    shown = f"{restarts} ({human(now - last_restart)} ago)" if restarts and last_restart else str(restarts)
    return [pod["metadata"]["name"], f"{ready}/{total}", reason, shown, _age(pod, now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>", "<none>", "<none>"]


POD_COLUMNS = [_column("Name", fmt="name"), _column("Ready"), _column("Status"),
               _column("Restarts", "string"), _column("Age"), _column("IP", priority=1),
               _column("Node", priority=1), _column("Nominated Node", priority=1),
               _column("Readiness Gates", priority=1)]


def job_row(job, now):
    status = job.get("status", {})
    conditions = {c["type"] for c in status.get("conditions", []) if c.get("status") == "True"}
    if "Complete" in conditions:
        state = "Complete"
    elif "Failed" in conditions:
        state = "Failed"
    elif job["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif "Suspended" in conditions:
        state = "Suspended"
    elif "FailureTarget" in conditions:
        state = "FailureTarget"
    elif "SuccessCriteriaMet" in conditions:
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    completions = job["spec"].get("completions", 1)
    duration = ""
    if status.get("startTime"):
        end = parse_stamp(status["completionTime"]) if status.get("completionTime") else now
        duration = human(end - parse_stamp(status["startTime"]))
    containers = job["spec"]["template"]["spec"].get("containers", [])
    return [job["metadata"]["name"], state, f"{status.get('succeeded', 0)}/{completions}", duration,
            _age(job, now), ",".join(c["name"] for c in containers),
            ",".join(c.get("image", "") for c in containers),
            ",".join(f"{k}={v}" for k, v in job["spec"].get("selector", {}).get("matchLabels", {}).items())]


JOB_COLUMNS = [_column("Name", fmt="name"), _column("Status"), _column("Completions"),
               _column("Duration"), _column("Age"), _column("Containers", priority=1),
               _column("Images", priority=1), _column("Selector", priority=1)]


def node_row(node, now):
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))
    roles = ",".join(sorted(k.split("/", 1)[1] for k in node["metadata"].get("labels", {})
                            if k.startswith("node-role.kubernetes.io/"))) or "<none>"
    return [node["metadata"]["name"], "Ready" if ready else "NotReady", roles, _age(node, now),
            node["status"]["nodeInfo"]["kubeletVersion"]]


NODE_COLUMNS = [_column("Name", fmt="name"), _column("Status"), _column("Roles"), _column("Age"),
                _column("Version")]


def namespace_row(ns, now):
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", "Active"), _age(ns, now)]


NAMESPACE_COLUMNS = [_column("Name", fmt="name"), _column("Status"), _column("Age")]


def event_row(event, now):
    involved = event["involvedObject"]
    last = event.get("lastTimestamp")
    return [human(now - parse_stamp(last)) if last else "<unknown>", event.get("type", ""),
            event.get("reason", ""), f"{involved.get('kind', '').lower()}/{involved.get('name', '')}",
            event.get("message", "")]


EVENT_COLUMNS = [_column("Last Seen"), _column("Type"), _column("Reason"), _column("Object"),
                 _column("Message")]

def _created_at(obj, now):
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


def _binding_row(obj, now):
    ref = obj.get("roleRef") or {}
    return [obj["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(obj, now)]


def _quota_row(obj, now):
    hard = (obj.get("status") or {}).get("hard") or {}
    used = (obj.get("status") or {}).get("used") or {}
    requests = ", ".join(f"{k}: {used.get(k, '0')}/{v}" for k, v in sorted(hard.items())
                         if not k.startswith("limits."))
    limits = ", ".join(f"{k}: {used.get(k, '0')}/{v}" for k, v in sorted(hard.items())
                       if k.startswith("limits."))
    return [obj["metadata"]["name"], _age(obj, now), requests, limits]


def _netpol_selector(selector):
    from .netpol import selector_text
    return selector_text(selector)


def _configmap_row(obj, now):
    from .configmaps import row
    return row(obj, now, _age)


PRINTERS = {
    # printServiceAccount, printRole/printClusterRole, printRoleBinding, printResourceQuota
    "serviceaccounts": ([_column("Name", fmt="name"), _column("Secrets", "integer"), _column("Age")],
                        lambda o, now: [o["metadata"]["name"], len(o.get("secrets") or []), _age(o, now)]),
    "roles": ([_column("Name", fmt="name"), _column("Created At", fmt="date")], _created_at),
    "clusterroles": ([_column("Name", fmt="name"), _column("Created At", fmt="date")], _created_at),
    "rolebindings": ([_column("Name", fmt="name"), _column("Role"), _column("Age")], _binding_row),
    "clusterrolebindings": ([_column("Name", fmt="name"), _column("Role"), _column("Age")], _binding_row),
    # printNetworkPolicy
    "networkpolicies": ([_column("Name", fmt="name"), _column("Pod-Selector"), _column("Age")],
                        lambda o, now: [o["metadata"]["name"],
                                        _netpol_selector((o.get("spec") or {}).get("podSelector")),
                                        _age(o, now)]),
    # printValidatingAdmissionPolicy, printValidatingAdmissionPolicyBinding (`<unset>`
    # without a paramKind or paramRef, which the simulator refuses anyway)
    "validatingadmissionpolicies": (
        [_column("Name", fmt="name"), _column("Validations", "integer"), _column("ParamKind"), _column("Age")],
        lambda o, now: [o["metadata"]["name"], len((o.get("spec") or {}).get("validations") or []),
                        "<unset>", _age(o, now)]),
    "validatingadmissionpolicybindings": (
        [_column("Name", fmt="name"), _column("PolicyName"), _column("ParamRef"), _column("Age")],
        lambda o, now: [o["metadata"]["name"], (o.get("spec") or {}).get("policyName", ""), "<unset>",
                        _age(o, now)]),
    # printLimitRange
    "limitranges": ([_column("Name", fmt="name"), _column("Created At", fmt="date")], _created_at),
    "resourcequotas": ([_column("Name", fmt="name"), _column("Age"), _column("Request"),
                        _column("Limit")], _quota_row),
    # printConfigMap
    "configmaps": ([_column("Name", fmt="name"), _column("Data", "integer"), _column("Age")],
                   _configmap_row),
    "pods": (POD_COLUMNS, pod_row),
    "jobs": (JOB_COLUMNS, job_row),
    "nodes": (NODE_COLUMNS, node_row),
    "namespaces": (NAMESPACE_COLUMNS, namespace_row),
    "events": (EVENT_COLUMNS, event_row),
}


def table(resource, objects, now, rv, include_object):
    columns, row = PRINTERS[resource]
    rows = []
    for obj in objects:
        if include_object == "Object":
            embedded = obj
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"]}
        rows.append({"cells": row(obj, now), "object": embedded})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
            "columnDefinitions": columns, "rows": rows}

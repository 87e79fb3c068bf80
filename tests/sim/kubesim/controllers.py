"""The control plane's loops: the event recorder, the scheduler and the Job controller.

Sources: the scheduler's fit uses the sidecar-aware effective request
(k8s.io/component-helpers/resource PodRequests: max(max InitContainerUse(i),
sum(sidecars) + sum(containers)), sidecar-facts §4) and reports
"0/1 nodes are available: 1 Insufficient cpu. preemption: ..." (wave2-facts §4.3).
The Job controller (pkg/controller/job): pods from the template with the job-name and
controller-uid labels and a controlling ownerReference; backoffLimit;
activeDeadlineSeconds (reason DeadlineExceeded, "Job was active longer than specified
deadline"); from 1.31 (delayTerminalCondition: JobManagedBy or JobPodReplacementPolicy)
SuccessCriteriaMet / FailureTarget first, then Complete / Failed once no pod is
terminating (reason CompletionsReached, "Reached expected number of succeeded pods";
sidecar-facts §3); 1.28-1.30 write Complete / Failed at once. A failed pod is replaced
after the pod failure back-off (backoff_utils.go getRemainingTimeForFailuresCount:
DefaultJobPodFailureBackOff 10 s doubling per failure since the last success, at most
MaxJobPodFailureBackOff 10 min, counted from the failed pod's finish time: the latest
finishedAt of its containers and sidecars, else its Ready=False transition).
"""

import copy
import uuid

from . import versions
from .clock import stamp
from .conditions import condition


def cpu_milli(value):
    if value is None:
        return 0
    text = str(value)
    if text.endswith("m"):
        return int(float(text[:-1]))
    return int(float(text) * 1000)


def effective_resource(spec, kind, resource, parse):
    """The pod's effective `kind` (requests or limits) of `resource`, as parsed by `parse`
    (KEP-753 formula, as k8s.io/component-helpers resource.PodRequests computes it)."""
    from decimal import Decimal

    def value(c):
        raw = ((c.get("resources") or {}).get(kind) or {}).get(resource)
        return parse(raw) if raw is not None else Decimal(0)

    apps = sum((value(c) for c in spec.get("containers") or []), Decimal(0))
    init_use, sidecar_sum = Decimal(0), Decimal(0)
    for c in spec.get("initContainers") or []:
        if c.get("restartPolicy") == "Always":
            sidecar_sum += value(c)
            init_use = max(init_use, sidecar_sum)
        else:
            init_use = max(init_use, sidecar_sum + value(c))
    return max(init_use, sidecar_sum + apps)


def effective_cpu(spec, sidecars_enabled=True):
    """The pod's effective CPU request in millicores (KEP-753 formula)."""
    def req(c):
        return cpu_milli((c.get("resources") or {}).get("requests", {}).get("cpu"))

    apps = sum(req(c) for c in spec.get("containers") or [])
    init_use, sidecar_sum = 0, 0
    for c in spec.get("initContainers") or []:
        if sidecars_enabled and c.get("restartPolicy") == "Always":
            sidecar_sum += req(c)
            init_use = max(init_use, sidecar_sum)
        else:
            init_use = max(init_use, sidecar_sum + req(c))
    return max(init_use, sidecar_sum + apps)


class Events:
    """core/v1 Events, deduplicated by object, reason and message as the recorder does."""

    def __init__(self, cluster):
        self.cluster = cluster

    def record(self, obj, kind, reason, message, field_path=None, component="kubelet"):
        store = self.cluster.store
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        now = stamp(self.cluster.clock.now())
        with store.lock:
            for event in store.items("events", namespace):
                involved = event["involvedObject"]
                if (involved.get("uid") == meta.get("uid") and event["reason"] == reason
                        and event["message"] == message and involved.get("fieldPath") == field_path):
                    updated = copy.deepcopy(event)
                    updated["count"] = event.get("count", 1) + 1
                    updated["lastTimestamp"] = now
                    store.replace("events", namespace, event["metadata"]["name"], updated, internal=True)
                    return
            involved = {
                "apiVersion": obj.get("apiVersion", "v1"),
                "kind": obj.get("kind", "Pod"),
                "name": meta["name"],
                "namespace": namespace,
                "resourceVersion": meta.get("resourceVersion", ""),
                "uid": meta.get("uid", ""),
            }
            if field_path:
                involved["fieldPath"] = field_path
            host = self.cluster.node_name if component == "kubelet" else None
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": {"component": component, **({"host": host} if host else {})},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": kind,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            store.create("events", namespace, event, internal=True)


class Scheduler:
    def __init__(self, cluster):
        self.cluster = cluster
        self.reported = set()

    def tick(self, now):
        cluster = self.cluster
        store = cluster.store
        node = store.find("nodes", "", cluster.node_name)
        if node is None or not cluster.node_ready(now):
            return
        sidecars = cluster.gates.get("SidecarContainers", True)
        allocatable = cpu_milli(node["status"]["allocatable"]["cpu"])
        for pod in store.items("pods"):
            if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
                continue
            used = sum(
                effective_cpu(p["spec"], sidecars) for p in store.items("pods")
                if p["spec"].get("nodeName") == cluster.node_name
                and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
            )
            need = effective_cpu(pod["spec"], sidecars)
            if used + need > allocatable:
                self._unschedulable(pod, need > allocatable)
                continue
            bound = copy.deepcopy(pod)
            bound["spec"]["nodeName"] = cluster.node_name
            store.replace("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], bound, internal=True)
            status = copy.deepcopy(bound.get("status", {}))
            status["conditions"] = [{
                "lastProbeTime": None,
                "lastTransitionTime": stamp(now),
                "status": "True",
                "type": "PodScheduled",
            }]
            store.set_status("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], status)
            cluster.events.record(bound, "Normal", "Scheduled",
                                  f"Successfully assigned {pod['metadata']['namespace']}/"
                                  f"{pod['metadata']['name']} to {cluster.node_name}",
                                  component="default-scheduler")

    def _unschedulable(self, pod, never):
        uid = pod["metadata"]["uid"]
        tail = ("1 Preemption is not helpful for scheduling." if never
                else "1 No preemption victims found for incoming pod.")
        message = (f"0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                   f"available: {tail}")
        if uid not in self.reported:
            self.reported.add(uid)
            status = copy.deepcopy(pod.get("status", {}))
            status["phase"] = "Pending"
            status["conditions"] = [{
                "lastProbeTime": None,
                "lastTransitionTime": stamp(self.cluster.clock.now()),
                "message": message,
                "reason": "Unschedulable",
                "status": "False",
                "type": "PodScheduled",
            }]
            self.cluster.store.set_status("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], status)
            self.cluster.events.record(pod, "Warning", "FailedScheduling", message,
                                       component="default-scheduler")


def _condition(kind, now, reason=None, message=None):
    return condition(kind, "True", stamp(now), stamp(now), reason, message)


POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0


def finished_time(pod, sidecars=True):
    """backoff_utils.go getFinishedTime: the latest finishedAt when every container (and,
    with SidecarContainers, every sidecar) has terminated; else the Ready=False transition;
    else the deletion time less the grace period; else the creation time."""
    from .clock import parse_stamp
    status = pod.get("status") or {}
    names = {c["name"] for c in pod["spec"].get("initContainers") or []
             if c.get("restartPolicy") == "Always"} if sidecars else set()
    statuses = list(status.get("containerStatuses") or []) + [
        s for s in status.get("initContainerStatuses") or [] if s["name"] in names]
    ends = [((s.get("state") or {}).get("terminated") or {}).get("finishedAt") for s in statuses]
    if statuses and all(ends):
        return max(parse_stamp(e) for e in ends)
    for c in status.get("conditions") or []:
        if c["type"] == "Ready" and c["status"] == "False" and c.get("lastTransitionTime"):
            return parse_stamp(c["lastTransitionTime"])
    meta = pod["metadata"]
    if meta.get("deletionTimestamp"):
        return parse_stamp(meta["deletionTimestamp"]) - int(meta.get("deletionGracePeriodSeconds") or 0)
    return parse_stamp(meta["creationTimestamp"])


def pod_failure_backoff(failures):
    """getRemainingTimeForFailuresCount: 10 s for the first failure, doubling, 10 min cap."""
    delay = POD_FAILURE_BACKOFF
    for _ in range(1, failures):
        delay *= 2
        if delay >= MAX_POD_FAILURE_BACKOFF:
            return MAX_POD_FAILURE_BACKOFF
    return delay


class JobController:
    def __init__(self, cluster):
        self.cluster = cluster
        self.counted = {}  # job uid -> {pod uid: phase}
        self.next_pod_at = {}
        self.create_failures = {}
        self.backoff = {}  # job uid -> (failures since the last success, last failure time)

    def tick(self, now):
        store = self.cluster.store
        for job in store.items("jobs"):
            self._sync(job, now)

    def _sync(self, job, now):
        cluster = self.cluster
        minor = cluster.minor
        store = cluster.store
        delay = versions.delay_terminal_condition(minor, cluster.gates)
        meta, spec = job["metadata"], job["spec"]
        uid = meta["uid"]
        status = copy.deepcopy(job.get("status") or {})
        conditions = status.get("conditions", [])
        finished = any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conditions)
        pods = store.dependents(job)
        counted = self.counted.setdefault(uid, {})
        new_succeeded, new_failed = [], []
        for pod in pods:
            phase = pod.get("status", {}).get("phase")
            if phase in ("Succeeded", "Failed") and pod["metadata"]["uid"] not in counted:
                counted[pod["metadata"]["uid"]] = phase
                (new_succeeded if phase == "Succeeded" else new_failed).append(pod)
        self._record_backoff(uid, new_succeeded, new_failed)
        succeeded = sum(1 for p in counted.values() if p == "Succeeded")
        failed = sum(1 for p in counted.values() if p == "Failed")
        live = [p for p in pods if p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
        active = [p for p in live if not p["metadata"].get("deletionTimestamp")]
        terminating = [p for p in live if p["metadata"].get("deletionTimestamp")]
        ready = sum(
            1 for p in active
            if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
        )
        if "startTime" not in status and not spec.get("suspend"):
            status["startTime"] = stamp(now)
        target = [c for c in conditions if c["type"] in ("SuccessCriteriaMet", "FailureTarget")]
        if not finished and not meta.get("deletionTimestamp"):
            completions = spec.get("completions", 1)
            deadline = spec.get("activeDeadlineSeconds")
            started = status.get("startTime")
            from .clock import parse_stamp
            if not target and succeeded >= completions:
                target = [_condition("SuccessCriteriaMet", now, "CompletionsReached",
                                     "Reached expected number of succeeded pods")]
                cluster.events.record(job, "Normal", "Completed", "Job completed",
                                      component="job-controller")
            elif not target and failed > spec.get("backoffLimit", 6):
                target = [_condition("FailureTarget", now, "BackoffLimitExceeded",
                                     "Job has reached the specified backoff limit")]
                cluster.events.record(job, "Warning", "BackoffLimitExceeded",
                                      "Job has reached the specified backoff limit",
                                      component="job-controller")
            elif not target and deadline and started and now >= parse_stamp(started) + deadline:
                target = [_condition("FailureTarget", now, "DeadlineExceeded",
                                     "Job was active longer than specified deadline")]
                cluster.events.record(job, "Warning", "DeadlineExceeded",
                                      "Job was active longer than specified deadline",
                                      component="job-controller")
            if target and target[0]["type"] == "FailureTarget":
                terminating += self._delete_pods(job, active)
                active = []
            if not target and not active and not terminating and not spec.get("suspend"):
                if now >= self.next_pod_at.get(uid, 0) and self._backoff_remaining(uid, now) <= 0:
                    if self._create_pod(job) is False:
                        # The sync fails and the key is requeued with the controller's
                        # exponential rate limiter (DefaultJobApiBackOff 1 s, doubling,
                        # MaxJobApiBackOff 60 s; pkg/controller/job/job_controller.go).
                        # A failed pod's replacement waits for `_backoff_remaining`.
                        failures = self.create_failures.get(uid, 0)
                        self.create_failures[uid] = failures + 1
                        self.next_pod_at[uid] = now + min(2 ** failures, 60)
                    else:
                        self.create_failures.pop(uid, None)
                    pods = store.dependents(job)
                    active = [p for p in pods if p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]
            if target and (not terminating or not delay):
                # Before 1.31 the terminal condition is written at once, pods terminating or not.
                final = target[0]
                kind = "Complete" if final["type"] == "SuccessCriteriaMet" else "Failed"
                closing = _condition(kind, now, final.get("reason"), final.get("message"))
                if minor < 31 and kind == "Complete":
                    closing.pop("reason", None)
                    closing.pop("message", None)
                conditions = [c for c in conditions if c["type"] not in ("SuccessCriteriaMet", "FailureTarget")]
                if delay:
                    conditions.append(final)
                conditions.append(closing)
                if kind == "Complete":
                    status["completionTime"] = stamp(now)
            elif target:
                conditions = [c for c in conditions if c["type"] not in ("SuccessCriteriaMet", "FailureTarget")] + target
        if spec.get("suspend") and not finished and not target:
            # job_controller.go manageJob: a suspended Job's active pods are deleted; then
            # syncJob gives an unfinished one Suspended=True (JobSuspended, "Job
            # suspended") and a `Suspended` event, once.
            terminating += self._delete_pods(job, active)
            active = []
            if not any(c["type"] == "Suspended" and c["status"] == "True" for c in conditions):
                conditions = [c for c in conditions if c["type"] != "Suspended"]
                conditions.append(_condition("Suspended", now, "JobSuspended", "Job suspended"))
                cluster.events.record(job, "Normal", "Suspended", "Job suspended",
                                      component="job-controller")
        if conditions:
            status["conditions"] = conditions
        status["uncountedTerminatedPods"] = {}
        for field, value in (("active", len(active)), ("succeeded", succeeded), ("failed", failed)):
            if value:
                status[field] = value
            else:
                status.pop(field, None)
        status["ready"] = ready
        if versions.job_status_terminating(cluster.gates):
            status["terminating"] = len(terminating)
        store.set_status("jobs", meta["namespace"], meta["name"], status)

    def _delete_pods(self, job, pods):
        """deleteJobPods: each pod deleted, with a `SuccessfulDelete` event on the Job; the
        pods, now terminating."""
        for pod in pods:
            self.cluster.store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], internal=True)
            self.cluster.events.record(job, "Normal", "SuccessfulDelete",
                                       f"Deleted pod: {pod['metadata']['name']}",
                                       component="job-controller")
        return list(pods)

    def _record_backoff(self, uid, new_succeeded, new_failed):
        """backoff_utils.go newBackoffRecord: failures after the last success, and when the
        last of them finished."""
        if not new_succeeded and not new_failed:
            return
        sidecars = self.cluster.gates.get("SidecarContainers", True)
        failures, last = self.backoff.get(uid, (0, None))
        failed_times = sorted(finished_time(p, sidecars) for p in new_failed)
        if not new_succeeded:
            failures, last = failures + len(failed_times), failed_times[-1]
        else:
            success = max(finished_time(p, sidecars) for p in new_succeeded)
            after = [t for t in failed_times if t > success]
            failures, last = len(after), (after[-1] if after else None)
        self.backoff[uid] = (failures, last)

    def _backoff_remaining(self, uid, now):
        failures, last = self.backoff.get(uid, (0, None))
        if not failures or last is None:
            return 0.0
        return pod_failure_backoff(failures) - (now - last)

    def _create_pod(self, job):
        cluster = self.cluster
        template = copy.deepcopy(job["spec"]["template"])
        meta = template.get("metadata", {})
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": job["metadata"]["name"] + "-",
                "labels": meta.get("labels", {}),
                "annotations": meta.get("annotations", {}),
                "ownerReferences": [{
                    "apiVersion": "batch/v1",
                    "blockOwnerDeletion": True,
                    "controller": True,
                    "kind": "Job",
                    "name": job["metadata"]["name"],
                    "uid": job["metadata"]["uid"],
                }],
            },
            "spec": template["spec"],
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        spec = pod["spec"]
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", "default")
        spec.setdefault("tolerations", [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "tolerationSeconds": 300},
        ])
        from .status import ApiError
        try:
            created = cluster.store.create("pods", job["metadata"]["namespace"], pod, internal=True,
                                           admit_quota=True)
        except ApiError as error:
            # The Job controller reports a refused pod on the Job and tries again later.
            cluster.events.record(job, "Warning", "FailedCreate", f"Error creating: {error.message}",
                                  component="job-controller")
            return False
        cluster.events.record(job, "Normal", "SuccessfulCreate",
                              f"Created pod: {created['metadata']['name']}", component="job-controller")

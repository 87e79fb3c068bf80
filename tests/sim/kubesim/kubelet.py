"""The kubelet on the one node: image checks, container start order, restarts, the
termination order, deadlines, and the pod status a real kubelet writes.

Sources (kubernetes/kubernetes, as summarised in sidecar-facts.md §3 and §5):
- start order: init containers one by one; a plain one must exit 0 before the next
  starts, a sidecar (restartPolicy: Always) only needs to be started; app containers
  start after every init container (pkg/kubelet/kuberuntime computeInitContainerActions);
- phase: pkg/kubelet/kubelet_pods.go getPhase (terminated sidecars do not count);
- conditions: pkg/kubelet/status/generate.go (reasons ContainersNotInitialized,
  ContainersNotReady, PodCompleted; PodReadyToStartContainers from 1.29);
- Initialized: once an app container has started (running or terminated), the pod stays
  Initialized while a sidecar restarts (generate.go GeneratePodInitializedCondition,
  kubecontainer.HasAnyRegularContainerStarted; getPhase keeps it Running the same way);
- termination: from 1.29 sidecars stop after the last app container, in reverse order,
  each once the one after it has exited; 1.28's alpha terminated them as regular
  containers (KEP-753, PR #121579); each container gets its stop signal (behaviour.py)
  and is killed (137) when the grace period ends;
- restarts (kuberuntime_manager.go doBackOff, client-go flowcontrol.Backoff, kubelet
  backOffPeriod 10 s, MaxContainerBackOff 300 s): a container that exits is restarted at
  once the first time; from the second exit it waits in CrashLoopBackOff ("back-off 10s
  restarting failed container=..."), 10 s, 20 s, 40 s ... at most 300 s, counted from
  its finishedAt; the back-off starts again at 10 s when a run lasted over 600 s
  (hasExpired, 2 x max). restartCount counts the runs started after the first, so in
  back-off it still shows the previous count;
- images: with no registry a missing image ends in ErrImagePull / ImagePullBackOff;
  `imagePullPolicy: Always` pulls even when the image is on the node;
- spec.activeDeadlineSeconds: the pod fails with reason DeadlineExceeded.
"""

import hashlib
import uuid

from . import behaviour as model
from . import versions
from .clock import stamp
from .conditions import condition


def normalise_image(ref):
    """docker.io/library/postgres:17.5-alpine for postgres:17.5-alpine (containerd's name)."""
    name = ref
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = "docker.io/library/" + name
    elif "." not in first and ":" not in first and first != "localhost":
        name = "docker.io/" + name
    return name


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


BACKOFF_INITIAL = 10.0  # kubelet.go backOffPeriod
BACKOFF_MAX = 300.0  # kubelet.go MaxContainerBackOff


def go_duration(seconds):
    """time.Duration's String() for whole seconds: 10s, 1m20s, 5m0s."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60}s"


class Container:
    def __init__(self, spec, role, index, declared):
        self.spec = spec
        self.name = spec["name"]
        self.role = role  # init | sidecar | app
        self.index = index
        self.behaviour = model.classify(spec, declared)
        self.state = "waiting"
        self.reason = "PodInitializing"
        self.message = None
        self.started_at = None
        self.finished_at = None
        self.exit_code = None
        self.exit_reason = None
        self.restarts = 0
        self.last = None
        self.next_attempt = 0.0
        self.backoff = None  # flowcontrol.Backoff entry: (seconds, lastUpdate)
        self.stop_at = None
        self.killing_at = None  # when its Killing event was recorded
        self.stop_signal = None
        self.stop_exit = None  # (at, exit code) the stop signal leads to
        self.kill_at = None
        self.pull_failures = 0
        self.container_id = None
        self.image_id = None

    @property
    def field_path(self):
        kind = "initContainers" if self.role in ("init", "sidecar") else "containers"
        return f"spec.{kind}{{{self.name}}}"

    def first_run_exits(self):
        """A container that exits on its first run only (see behaviour.py)."""
        return "once" in self.behaviour and self.restarts == 0

    def accepting(self, now):
        return (self.state == "running" and self.behaviour.get("accepts")
                and not self.first_run_exits()
                and self.stop_at is None and now >= self.started_at + model.ACCEPT_AFTER)

    def started(self, now):
        if self.state != "running":
            return False
        if "startupProbe" in self.spec and self.behaviour.get("accepts"):
            return now >= self.started_at + model.ACCEPT_AFTER
        return True

    def ready(self, now):
        if self.state != "running" or not self.started(now):
            return False
        if self.behaviour.get("neverReady"):
            return False
        if "readinessProbe" in self.spec and self.behaviour.get("accepts"):
            return self.accepting(now)
        return True


class PodRuntime:
    def __init__(self, pod, declared):
        spec = pod["spec"]
        self.uid = pod["metadata"]["uid"]
        self.namespace = pod["metadata"]["namespace"]
        self.name = pod["metadata"]["name"]
        self.containers = []
        for i, c in enumerate(spec.get("initContainers") or []):
            role = "sidecar" if c.get("restartPolicy") == "Always" else "init"
            self.containers.append(Container(c, role, i, declared.get(c["name"])))
        for i, c in enumerate(spec.get("containers") or []):
            self.containers.append(Container(c, "app", i, declared.get(c["name"])))
        self.sandbox_ready_at = None
        self.start_time = None
        self.terminating = None  # (reason, since, grace)
        self.phase = "Pending"
        self.phase_reason = None
        self.phase_message = None
        self.transitions = {}
        self.ip = None
        self.completing = False
        self.done = False

    def inits(self):
        return [c for c in self.containers if c.role in ("init", "sidecar")]

    def apps(self):
        return [c for c in self.containers if c.role == "app"]

    def sidecars(self):
        return [c for c in self.containers if c.role == "sidecar"]


class Kubelet:
    def __init__(self, cluster):
        self.cluster = cluster
        self.pods = {}
        self.events = cluster.events

    # -- entry points ---------------------------------------------------------------
    def terminate(self, pod, why):
        runtime = self.pods.get(pod["metadata"]["uid"])
        if runtime is None:
            return
        if runtime.terminating is None:
            grace = pod["metadata"].get("deletionGracePeriodSeconds",
                                        pod["spec"].get("terminationGracePeriodSeconds", 30))
            runtime.terminating = (why, self.cluster.clock.now(), grace)

    def forget(self, uid):
        self.pods.pop(uid, None)

    def tick(self, now):
        store = self.cluster.store
        node = self.cluster.node_name
        for pod in list(store.items("pods")):
            if pod["spec"].get("nodeName") != node:
                continue
            uid = pod["metadata"]["uid"]
            if uid in self.cluster.system_pods:
                # kube-system's pods run outside the lab's container model.
                if pod["metadata"].get("deletionTimestamp"):
                    store.remove_pod(pod)
                continue
            runtime = self.pods.get(uid)
            if runtime is None:
                declared = self.cluster.behaviours_for(pod)
                runtime = self.pods[uid] = PodRuntime(pod, declared)
                runtime.sandbox_ready_at = now + 0.3
                runtime.start_time = now
                runtime.ip = self.cluster.next_pod_ip()
                # convertToAPIContainerStatuses (kubelet_pods.go): every container starts
                # waiting as PodInitializing in a pod with init containers, else as
                # ContainerCreating; so `kubectl get` shows Init:0/N, never
                # Init:ContainerCreating.
                for c in runtime.containers:
                    c.reason = "PodInitializing" if runtime.inits() else "ContainerCreating"
                if pod["metadata"].get("deletionTimestamp"):
                    self.terminate(pod, "deleted")
            if runtime.done:
                if pod["metadata"].get("deletionTimestamp"):
                    store.remove_pod(pod)
                    self.forget(uid)
                continue
            self._advance(pod, runtime, now)
            store.set_status("pods", runtime.namespace, runtime.name, self._status(pod, runtime, now))
            if runtime.done and pod["metadata"].get("deletionTimestamp"):
                store.remove_pod(pod)
                self.forget(uid)

    # -- the state machine ----------------------------------------------------------
    def _advance(self, pod, rt, now):
        spec = pod["spec"]
        minor = self.cluster.minor
        if now < rt.sandbox_ready_at:
            return
        deadline = spec.get("activeDeadlineSeconds")
        if deadline and rt.terminating is None and now >= rt.start_time + deadline:
            rt.terminating = ("deadline", now, spec.get("terminationGracePeriodSeconds", 30))
            self.events.record(pod, "Warning", "DeadlineExceeded",
                               "Pod was active on the node longer than the specified deadline")
        if rt.terminating is not None:
            self._terminate_step(pod, rt, now)
            return
        # Running containers live their lives.
        for c in rt.containers:
            self._live(pod, rt, c, now)
        if rt.completing:
            self._complete(pod, rt, now)
            return
        # Init containers in order, until an app container has been created: from then on
        # the pod counts as initialized and a sidecar that exits is only restarted
        # (kuberuntime_container.go computeInitContainerActions, podHasInitialized).
        initialized = any(c.started_at is not None for c in rt.apps())
        for c in ([] if initialized else rt.inits()):
            if c.role == "init":
                if c.state == "terminated" and c.exit_code == 0:
                    continue
                if c.state == "terminated":
                    if spec.get("restartPolicy") == "Never":
                        self._finish(pod, rt, now, "Failed")
                        return
                    self._maybe_restart(pod, rt, c, now)
                elif c.state == "waiting" and c.started_at is None:
                    self._try_start(pod, rt, c, now)
                else:
                    self._maybe_restart(pod, rt, c, now)
                break
            # A sidecar: the next container waits until it has started.
            if c.state == "waiting" and c.started_at is None:
                self._try_start(pod, rt, c, now)
            elif c.state != "running":
                self._maybe_restart(pod, rt, c, now)
            if not c.started(now):
                break
        else:
            initialized = True
        if not initialized:
            return
        # After init: sidecars that exit are restarted; app containers start.
        for c in rt.sidecars():
            if c.state != "running":
                self._maybe_restart(pod, rt, c, now)
        for c in rt.apps():
            if c.state == "waiting" and c.started_at is None and c.restarts == 0:
                self._try_start(pod, rt, c, now)
            elif c.state in ("terminated", "waiting"):
                if self._app_restarts(spec, c):
                    self._maybe_restart(pod, rt, c, now)
        apps = rt.apps()
        if all(c.state == "terminated" and not self._app_restarts(spec, c) for c in apps):
            # The pod's work is done: from here the sidecars are stopped, never restarted.
            rt.completing = True
            self._complete(pod, rt, now)

    def _complete(self, pod, rt, now):
        spec = pod["spec"]
        running = [c for c in rt.sidecars() if c.state == "running"]
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if running:
            if versions.serialized_sidecar_termination(self.cluster.minor):
                # From 1.29: after the last app container, in reverse order, one by one.
                # The kubelet kills every container in a goroutine of its own, and each
                # records its Killing event before it waits for its turn: the events of
                # all the sidecars carry one time, whatever the order of the signals.
                self._announce_stops(pod, running, now)
                if running[-1].stop_at is None:
                    self._stop(pod, rt, running[-1], now, grace)
            else:
                # 1.28's alpha: terminated like regular containers, all at once.
                for c in running:
                    if c.stop_at is None:
                        self._stop(pod, rt, c, now, grace)
            return
        apps = rt.apps()
        phase = "Succeeded" if all(c.exit_code == 0 for c in apps) else "Failed"
        self._finish(pod, rt, now, phase)

    def _app_restarts(self, spec, c):
        policy = c.spec.get("restartPolicy") or spec.get("restartPolicy", "Always")
        if c.state == "waiting" and c.started_at is not None:
            return True  # in back-off before a restart
        if c.state != "terminated":
            return False
        return policy == "Always" or (policy == "OnFailure" and c.exit_code != 0)

    def _live(self, pod, rt, c, now):
        if c.state != "running":
            return
        b = c.behaviour
        if c.stop_at is not None:
            ends = [end for end in (c.stop_exit, (c.kill_at, 137)) if end and end[0] is not None]
            at, code = min(ends) if ends else (None, None)
            if at is not None and now >= at:
                self._exit(pod, rt, c, at, code, "Completed" if code == 0 else "Error")
            return
        if c.kill_at is not None and now >= c.kill_at:
            self._exit(pod, rt, c, c.kill_at, 137, "Error")
            return
        if c.first_run_exits():
            once = b["once"]
            if now >= c.started_at + once["after"]:
                code = int(once["exit"])
                self._exit(pod, rt, c, c.started_at + once["after"], code,
                           "Completed" if code == 0 else "Error")
            return
        if b.get("client"):
            servers = [o for o in rt.containers if o.accepting(now)]
            if servers:
                ready_at = max(o.started_at + model.ACCEPT_AFTER for o in servers)
                done = max(ready_at, c.started_at) + model.CLIENT_WORK
                if now >= done:
                    self._exit(pod, rt, c, done, 0, "Completed")
            elif now >= c.started_at + model.CLIENT_GIVE_UP:
                self._exit(pod, rt, c, c.started_at + model.CLIENT_GIVE_UP, 1, "Error")
        elif b.get("crash"):
            if now >= c.started_at + b.get("after", 1.0):
                self._exit(pod, rt, c, c.started_at + b.get("after", 1.0), 1, "Error")
        elif "exit" in b:
            at = c.started_at + b.get("after", 1.0)
            if now >= at:
                code = int(b["exit"])
                self._exit(pod, rt, c, at, code, "Completed" if code == 0 else "Error")

    def _exit(self, pod, rt, c, at, code, reason):
        c.state = "terminated"
        c.finished_at = at
        c.exit_code = code
        c.exit_reason = reason

    def _stop(self, pod, rt, c, now, grace):
        """The runtime sends the stop signal; SIGKILL follows when the grace period ends."""
        c.stop_at = now
        deadline = (rt.terminating[1] + rt.terminating[2]) if rt.terminating else now + grace
        c.kill_at = max(now + 0.1, deadline)
        c.stop_signal = model.stop_signal(
            c.spec, versions.stop_signals(self.cluster.minor, self.cluster.gates))
        outcome = model.on_signal(c.behaviour, c.stop_signal, c.started_at, now,
                                  first_run=c.first_run_exits())
        c.stop_exit = (now + outcome[0], outcome[1]) if outcome else None
        self._announce_stops(pod, [c], now)

    def _announce_stops(self, pod, containers, now):
        """The Killing events, once per container: killContainer records it first, then
        runs the preStop hook and waits for its turn (kuberuntime_container.go)."""
        for c in containers:
            if c.killing_at is None:
                c.killing_at = now
                self.events.record(pod, "Normal", "Killing", f"Stopping container {c.name}",
                                   c.field_path)

    def _terminate_step(self, pod, rt, now):
        why, since, grace = rt.terminating
        hard = since + grace
        running = [c for c in rt.containers if c.state == "running"]
        for c in running:
            if c.kill_at is None and now >= hard:
                c.kill_at = now
        serialized = versions.serialized_sidecar_termination(self.cluster.minor)
        self._announce_stops(pod, running, now)
        apps_running = [c for c in running if c.role != "sidecar"]
        for c in apps_running:
            if c.stop_at is None:
                self._stop(pod, rt, c, now, grace)
        if not serialized:
            for c in running:
                if c.stop_at is None:
                    self._stop(pod, rt, c, now, grace)
        elif not apps_running:
            sidecars = [c for c in running if c.role == "sidecar"]
            if sidecars and sidecars[-1].stop_at is None:
                self._stop(pod, rt, sidecars[-1], now, grace)
        for c in rt.containers:
            self._live(pod, rt, c, now)
        if all(c.state != "running" for c in rt.containers):
            if why == "deadline":
                self._finish(pod, rt, now, "Failed", "DeadlineExceeded",
                             "Pod was active on the node longer than the specified deadline")
            else:
                apps = rt.apps()
                if apps and all(c.state == "terminated" and c.exit_code == 0 for c in apps):
                    self._finish(pod, rt, now, "Succeeded")
                else:
                    self._finish(pod, rt, now, "Failed")

    def _finish(self, pod, rt, now, phase, reason=None, message=None):
        rt.phase = phase
        rt.phase_reason = reason
        rt.phase_message = message
        rt.done = True

    def _try_start(self, pod, rt, c, now):
        if now < c.next_attempt:
            return
        cluster = self.cluster
        image = c.spec.get("image", "")
        ref = normalise_image(image)
        policy = c.spec.get("imagePullPolicy", "IfNotPresent")
        present = ref in cluster.node_images
        if policy == "Never" and not present:
            c.state, c.reason = "waiting", "ErrImageNeverPull"
            c.message = f'Container image "{image}" is not present with pull policy of Never'
            return
        if present and policy != "Always":
            if c.reason != "Pulled":
                self.events.record(pod, "Normal", "Pulled",
                                   f'Container image "{image}" already present on machine',
                                   c.field_path)
        else:
            self.events.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', c.field_path)
            if ref not in cluster.registry_images:
                c.pull_failures += 1
                error = cluster.pull_error(ref)
                if c.reason == "ErrImagePull" and c.pull_failures > 1:
                    c.reason = "ImagePullBackOff"
                    c.message = f'Back-off pulling image "{image}": ErrImagePull: {error}'
                    self.events.record(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"',
                                       c.field_path)
                    self.events.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", c.field_path)
                else:
                    c.reason = "ErrImagePull"
                    c.message = error
                    self.events.record(pod, "Warning", "Failed",
                                       f'Failed to pull image "{image}": {error}', c.field_path)
                    self.events.record(pod, "Warning", "Failed", "Error: ErrImagePull", c.field_path)
                delay = min(10 * (2 ** (c.pull_failures - 1)), 300) if c.pull_failures > 1 else 1.5
                c.next_attempt = now + delay
                c.state = "waiting"
                return
            cluster.node_images.add(ref)
            self.events.record(pod, "Normal", "Pulled", f'Successfully pulled image "{image}"',
                               c.field_path)
        c.reason = "Pulled"
        c.state = "running"
        if c.started_at is not None:
            c.restarts += 1  # the new container's attempt number
        c.started_at = now
        c.stop_at = c.kill_at = c.stop_exit = c.stop_signal = None
        c.container_id = "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex
        repo = ref.rsplit(":", 1)[0] if "@" not in ref else ref.split("@")[0]
        c.image_id = f"{repo}@sha256:{_digest(ref)}"
        created = "Created container: " if self.cluster.minor >= 32 else "Created container "
        self.events.record(pod, "Normal", "Created", created + c.name, c.field_path)
        self.events.record(pod, "Normal", "Started", "Started container " + c.name, c.field_path)

    def _in_backoff(self, c, now):
        """flowcontrol.Backoff.IsInBackOffSince(key, finishedAt)."""
        if c.backoff is None:
            return False
        seconds, updated = c.backoff
        if c.finished_at - updated > 2 * BACKOFF_MAX:
            return False  # hasExpired: the entry is stale
        return now - c.finished_at < seconds

    def _next_backoff(self, c, now):
        """flowcontrol.Backoff.Next: 10 s for a new (or stale) entry, else doubled, capped."""
        if c.backoff is None or c.finished_at - c.backoff[1] > 2 * BACKOFF_MAX:
            c.backoff = (BACKOFF_INITIAL, now)
        else:
            c.backoff = (min(c.backoff[0] * 2, BACKOFF_MAX), now)

    def _maybe_restart(self, pod, rt, c, now):
        """doBackOff, then a new run: at once after the first exit, else after the back-off."""
        if c.state == "running":
            return
        if c.state == "terminated":
            c.last = {"terminated": self._terminated(c)}
            if self._in_backoff(c, now):
                seconds = c.backoff[0]
                c.state = "waiting"
                c.reason = "CrashLoopBackOff"
                c.message = (f"back-off {go_duration(seconds)} restarting failed container={c.name} "
                             f"pod={rt.name}_{rt.namespace}({rt.uid})")
                c.next_attempt = c.finished_at + seconds
                self.events.record(pod, "Warning", "BackOff", "Back-off restarting failed container "
                                   f"{c.name} in pod {rt.name}_{rt.namespace}({rt.uid})", c.field_path)
                return
        elif now < c.next_attempt:
            return
        if c.reason not in ("ErrImagePull", "ImagePullBackOff"):
            self._next_backoff(c, now)
        self._try_start(pod, rt, c, now)

    # -- status ---------------------------------------------------------------------
    def _terminated(self, c):
        return {
            "containerID": c.container_id,
            "exitCode": c.exit_code,
            "finishedAt": stamp(c.finished_at),
            "reason": c.exit_reason,
            "startedAt": stamp(c.started_at),
        }

    def _container_status(self, c, now, pod_done):
        status = {
            "image": c.spec.get("image", ""),
            "imageID": c.image_id or "",
            "lastState": c.last or {},
            "name": c.name,
            "ready": False if pod_done else c.ready(now),
            "restartCount": c.restarts,
            "started": False if pod_done else c.started(now),
        }
        if c.container_id:
            status["containerID"] = c.container_id
        if c.state == "running":
            status["state"] = {"running": {"startedAt": stamp(c.started_at)}}
        elif c.state == "terminated":
            status["state"] = {"terminated": self._terminated(c)}
            status["started"] = False
        else:
            waiting = {"reason": c.reason}
            if c.message and c.reason not in ("PodInitializing", "ContainerCreating"):
                waiting["message"] = c.message
            status["state"] = {"waiting": waiting}
            status["started"] = False
            status["ready"] = False
        return status

    def _condition(self, rt, kind, value, now, reason=None, message=None):
        previous = rt.transitions.get(kind)
        if previous is None or previous[0] != value:
            rt.transitions[kind] = (value, now)
        return condition(kind, value, stamp(rt.transitions[kind][1]), None, reason, message)

    def _status(self, pod, rt, now):
        minor = self.cluster.minor
        old = pod.get("status", {})
        done = rt.done
        if not done:
            rt.phase = self._phase(rt, now)
        inits, apps = rt.inits(), rt.apps()
        init_pending = [c.name for c in inits if (c.role == "init" and not (c.state == "terminated" and c.exit_code == 0))
                        or (c.role == "sidecar" and not c.started(now) and not done)]
        if done:
            init_pending = [c.name for c in inits if c.role == "init" and not (c.state == "terminated" and c.exit_code == 0)]
        unready = [c.name for c in inits if c.role == "sidecar" and not c.ready(now)] + \
                  [c.name for c in apps if not c.ready(now)]
        conditions = []
        sandbox = now >= rt.sandbox_ready_at
        if versions.pod_ready_to_start_condition(self.cluster.gates):
            conditions.append(self._condition(rt, "PodReadyToStartContainers",
                                              "True" if sandbox and not done else "False", now))
        # GeneratePodInitializedCondition: PodCompleted for a pod that succeeded; True once
        # any app container has started (HasAnyRegularContainerStarted: running or
        # terminated), even while a sidecar restarts; else by the init containers.
        app_started = any(c.state in ("running", "terminated") for c in apps)
        if done and rt.phase == "Succeeded":
            conditions.append(self._condition(rt, "Initialized", "True", now, "PodCompleted"))
        elif app_started or not init_pending:
            conditions.append(self._condition(rt, "Initialized", "True", now))
        else:
            conditions.append(self._condition(
                rt, "Initialized", "False", now, "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(init_pending)}]"))
        if done and rt.phase in ("Succeeded", "Failed") and not init_pending:
            conditions.append(self._condition(rt, "Ready", "False", now, "PodCompleted"))
            conditions.append(self._condition(rt, "ContainersReady", "False", now, "PodCompleted"))
        else:
            if unready or done:
                names = unready or [c.name for c in apps]
                message = f"containers with unready status: [{' '.join(names)}]"
                conditions.append(self._condition(rt, "Ready", "False", now, "ContainersNotReady", message))
                conditions.append(self._condition(rt, "ContainersReady", "False", now, "ContainersNotReady", message))
            else:
                conditions.append(self._condition(rt, "Ready", "True", now))
                conditions.append(self._condition(rt, "ContainersReady", "True", now))
        scheduled = next((c for c in old.get("conditions", []) if c["type"] == "PodScheduled"), None)
        if scheduled:
            conditions.append(scheduled)
        node_ip = self.cluster.node_ip
        status = {
            "conditions": conditions,
            "containerStatuses": [self._container_status(c, now, done) for c in apps],
            "hostIP": node_ip,
            "hostIPs": [{"ip": node_ip}],
            "phase": rt.phase,
            "podIP": rt.ip,
            "podIPs": [{"ip": rt.ip}],
            "qosClass": old.get("qosClass", "Burstable"),
            "startTime": stamp(rt.start_time),
        }
        if inits:
            status["initContainerStatuses"] = [self._container_status(c, now, done) for c in inits]
        if rt.phase_reason:
            status["reason"] = rt.phase_reason
            status["message"] = rt.phase_message
        return status

    def _phase(self, rt, now):
        """getPhase, for a pod that has not finished: pending initialization keeps the pod
        Pending only until an app container has started (HasAnyRegularContainerStarted),
        so a sidecar that restarts later leaves it Running."""
        apps = rt.apps()
        if not any(c.state in ("running", "terminated") for c in apps):
            for c in rt.inits():
                if c.role == "init" and not (c.state == "terminated" and c.exit_code == 0):
                    return "Pending"
                if c.role == "sidecar" and not c.started(now):
                    return "Pending"
        if any(c.state == "running" for c in apps) or any(c.state == "terminated" or c.started_at for c in apps):
            return "Running"
        return "Pending"

"""Pod Security admission: the namespace labels `pod-security.kubernetes.io/{enforce,warn,
audit}[-version]`, pods checked against `enforce` (403) and `warn` (a Warning header), pod
templates of workload resources (Jobs) against `warn` only.

Sources (kubernetes/kubernetes, staging/src/k8s.io/pod-security-admission, 1.36):
- api/helpers.go PolicyToEvaluate, ParseLevel (an invalid level enforces `restricted`,
  fails open to `privileged` for warn and audit), ParseVersion (`latest` or `v1.x`, an
  invalid one means latest), CompareLevels; a namespace whose labels do not parse is
  refused on create and on an update that changes the errors (admission.go
  ValidateNamespace, invalidResponse: 422 on `metadata.labels[KEY]`).
- admission/admission.go ValidatePod (enforce, then warn only when allowed: EvaluatePod),
  ValidatePodController (warn and audit, never enforce), forbiddenResponse
  (NewForbidden: `pods "NAME" is forbidden: violates PodSecurity "baseline:latest": …`).
- policy/registry.go populate: check IDs sorted, baseline checks first, then restricted
  ones; a restricted check's OverrideCheckIDs replace the baseline check they name.
- policy/check_*.go: each check's reason and detail; policy/checks.go ForbiddenDetail
  (`reason (detail), …`); helpers.go joinQuote, pluralize; visitor.go (init containers,
  then containers, then ephemeral containers).
The version picks the checks as the source's VersionedChecks do; a version newer than the
server's minor means the server's minor (`latest` too)."""

import re

LEVELS = ("privileged", "baseline", "restricted")
PREFIX = "pod-security.kubernetes.io/"
VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")


def _join_quote(items):
    return '"' + '", "'.join(items) + '"' if items else ""


def _plural(singular, plural, count):
    return singular if count == 1 else plural


def _containers(spec):
    return (spec.get("initContainers") or []) + (spec.get("containers") or []) + \
        (spec.get("ephemeralContainers") or [])


def _sc(container):
    return container.get("securityContext") or {}


def _pod_sc(spec):
    return spec.get("securityContext") or {}


def _setters(pod_bad, containers):
    out = ["pod"] if pod_bad else []
    if containers:
        out.append(f"{_plural('container', 'containers', len(containers))} {_join_quote(containers)}")
    return out


def _user_namespace(spec, version):
    """relaxPolicyForUserNamespacePod, used by the 1.35 versions of three checks."""
    return version >= 35 and spec.get("hostUsers") is False


# -- baseline checks ----------------------------------------------------------------------
def _app_armor(meta, spec, version):
    allowed = ("RuntimeDefault", "Localhost")
    setters, values = [], set()
    pod_profile = _pod_sc(spec).get("appArmorProfile")
    if pod_profile is not None and pod_profile.get("type") not in allowed:
        setters.append("pod")
        values.add(pod_profile.get("type", ""))
    bad = []
    for c in _containers(spec):
        profile = _sc(c).get("appArmorProfile")
        if profile is not None and profile.get("type") not in allowed:
            bad.append(c.get("name", ""))
            values.add(profile.get("type", ""))
    if bad:
        setters.append(f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)}")
    values = sorted(values)
    annotations = sorted(
        f'{k}="{v}"' for k, v in (meta.get("annotations") or {}).items()
        if k.startswith("container.apparmor.security.beta.kubernetes.io/")
        and not (v == "" or v == "runtime/default" or v.startswith("localhost/")))
    if annotations:
        values += annotations
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if setters:
        return (_plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
                f"{' and '.join(setters)} must not set AppArmor profile type to {_join_quote(values)}")
    return None


CAPABILITIES_BASELINE = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def _capabilities_baseline(meta, spec, version):
    bad, caps = [], set()
    for c in _containers(spec):
        added = [a for a in ((_sc(c).get("capabilities") or {}).get("add") or [])
                 if a not in CAPABILITIES_BASELINE]
        if added:
            bad.append(c.get("name", ""))
            caps.update(added)
    if bad:
        return ("non-default capabilities",
                f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)} must not include "
                f"{_join_quote(sorted(caps))} in securityContext.capabilities.add")
    return None


def _host_namespaces(meta, spec, version):
    found = [f"{f}=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]
    return ("host namespaces", ", ".join(found)) if found else None


def _host_path_volumes(meta, spec, version):
    names = [v.get("name", "") for v in spec.get("volumes") or [] if v.get("hostPath") is not None]
    if names:
        return "hostPath volumes", f"{_plural('volume', 'volumes', len(names))} {_join_quote(names)}"
    return None


def _host_ports(meta, spec, version):
    bad, ports = [], set()
    for c in _containers(spec):
        used = [str(p["hostPort"]) for p in c.get("ports") or [] if p.get("hostPort")]
        if used:
            bad.append(c.get("name", ""))
            ports.update(used)
    if bad:
        return ("hostPort", f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)} "
                            f"{_plural('uses', 'use', len(bad))} {_plural('hostPort', 'hostPorts', len(ports))} "
                            f"{', '.join(sorted(ports))}")
    return None


def _host_probes(meta, spec, version):
    if version < 34:
        return None
    bad, hosts = set(), set()
    for c in _containers(spec):
        handlers = [c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(c.get("lifecycle") or {}).get(h) for h in ("postStart", "preStop")]
        for handler in handlers:
            for kind in ("httpGet", "tcpSocket"):
                host = ((handler or {}).get(kind) or {}).get("host")
                if host:
                    bad.add(c.get("name", ""))
                    hosts.add(host)
    if bad:
        return ("probe or lifecycle host",
                f"{_plural('container', 'containers', len(bad))} {_join_quote(sorted(bad))} "
                f"{_plural('uses', 'use', len(bad))} "
                f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} "
                f"{_join_quote(sorted(hosts))}")
    return None


def _privileged(meta, spec, version):
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("privileged") is True]
    if bad:
        return ("privileged", f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)} "
                              "must not set securityContext.privileged=true")
    return None


def _proc_mount(meta, spec, version, relax=True):
    if relax and _user_namespace(spec, version):
        return None
    bad, kinds = [], set()
    for c in _containers(spec):
        mount = _sc(c).get("procMount")
        if mount is not None and mount != "Default":
            bad.append(c.get("name", ""))
            kinds.add(mount)
    if bad:
        return ("procMount", f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)} "
                             f"must not set securityContext.procMount to {_join_quote(sorted(kinds))}")
    return None


def _se_linux(meta, spec, version):
    allowed = {"", "container_t", "container_init_t", "container_kvm_t"}
    if version >= 31:
        allowed.add("container_engine_t")
    types, flags = set(), set()

    def valid(options):
        ok = True
        if options.get("type", "") not in allowed:
            ok = False
            types.add(options.get("type", ""))
        for key in ("user", "role"):
            if options.get(key):
                ok = False
                flags.add(key)
        return ok

    pod_options = _pod_sc(spec).get("seLinuxOptions")
    pod_bad = pod_options is not None and not valid(pod_options)
    bad = [c.get("name", "") for c in _containers(spec)
           if _sc(c).get("seLinuxOptions") is not None and not valid(_sc(c)["seLinuxOptions"])]
    setters = _setters(pod_bad, bad)
    if setters:
        data = []
        if types:
            data.append(f"{_plural('type', 'types', len(types))} {_join_quote(sorted(types))}")
        data += [f"{key} may not be set" for key in ("user", "role") if key in flags]
        return ("seLinuxOptions", f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
                                  + "; ".join(data))
    return None


def _valid_seccomp(profile):
    return profile.get("type") in ("Localhost", "RuntimeDefault")


def _seccomp_baseline(meta, spec, version):
    values = set()
    pod_profile = _pod_sc(spec).get("seccompProfile")
    pod_bad = pod_profile is not None and not _valid_seccomp(pod_profile)
    if pod_bad:
        values.add(pod_profile.get("type", ""))
    bad = []
    for c in _containers(spec):
        profile = _sc(c).get("seccompProfile")
        if profile is not None and not _valid_seccomp(profile):
            bad.append(c.get("name", ""))
            values.add(profile.get("type", ""))
    setters = _setters(pod_bad, bad)
    if setters:
        return ("seccompProfile", f"{' and '.join(setters)} must not set securityContext.seccompProfile.type "
                                  f"to {_join_quote(sorted(values))}")
    return None


SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
           "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"}


def _sysctls(meta, spec, version):
    allowed = set(SYSCTLS)
    if version >= 27:
        allowed.add("net.ipv4.ip_local_reserved_ports")
    if version >= 29:
        allowed |= {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
    if version >= 32:
        allowed |= {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
    bad = [s.get("name", "") for s in _pod_sc(spec).get("sysctls") or [] if s.get("name") not in allowed]
    return ("forbidden sysctls", ", ".join(bad)) if bad else None


def _windows_host_process(meta, spec, version):
    def on(sc):
        return (sc.get("windowsOptions") or {}).get("hostProcess") is True
    bad = [c.get("name", "") for c in _containers(spec) if on(_sc(c))]
    setters = _setters(on(_pod_sc(spec)), bad)
    if setters:
        return ("hostProcess", f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true")
    return None


# -- restricted checks --------------------------------------------------------------------
def _windows(spec):
    return (spec.get("os") or {}).get("name") == "windows"


def _allow_privilege_escalation(meta, spec, version):
    if _windows(spec):
        return None
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        return ("allowPrivilegeEscalation != false",
                f"{_plural('container', 'containers', len(bad))} {_join_quote(bad)} "
                "must set securityContext.allowPrivilegeEscalation=false")
    return None


def _capabilities_restricted(meta, spec, version):
    if _windows(spec):
        return None
    missing, adding, caps = [], [], set()
    for c in _containers(spec):
        capabilities = _sc(c).get("capabilities")
        if capabilities is None:
            missing.append(c.get("name", ""))
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing.append(c.get("name", ""))
        added = [a for a in capabilities.get("add") or [] if a != "NET_BIND_SERVICE"]
        if added:
            adding.append(c.get("name", ""))
            caps.update(added)
    details = []
    if missing:
        details.append(f"{_plural('container', 'containers', len(missing))} {_join_quote(missing)} "
                       'must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(f"{_plural('container', 'containers', len(adding))} {_join_quote(adding)} "
                       f"must not include {_join_quote(sorted(caps))} in securityContext.capabilities.add")
    return ("unrestricted capabilities", "; ".join(details)) if details else None


ALLOWED_VOLUMES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                   "persistentVolumeClaim", "projected", "secret")
# restrictedVolumes_1_0's switch, in its order.
RESTRICTED_VOLUMES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
                      "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
                      "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
                      "scaleIO", "storageos")


def _restricted_volumes(meta, spec, version):
    bad, kinds = [], set()
    for volume in spec.get("volumes") or []:
        if any(volume.get(k) is not None for k in ALLOWED_VOLUMES):
            continue
        bad.append(volume.get("name", ""))
        kinds.add(next((k for k in RESTRICTED_VOLUMES if volume.get(k) is not None), "unknown"))
    if bad:
        return ("restricted volume types",
                f"{_plural('volume', 'volumes', len(bad))} {_join_quote(bad)} {_plural('uses', 'use', len(bad))} "
                f"{_plural('restricted volume type', 'restricted volume types', len(kinds))} "
                f"{_join_quote(sorted(kinds))}")
    return None


def _run_as_non_root(meta, spec, version):
    if _user_namespace(spec, version):
        return None
    pod_value = _pod_sc(spec).get("runAsNonRoot")
    explicit, implicit = [], []
    for c in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is not None:
            if value is False:
                explicit.append(c.get("name", ""))
        elif pod_value is not True:
            implicit.append(c.get("name", ""))
    setters = _setters(pod_value is False, explicit)
    if setters:
        return ("runAsNonRoot != true", f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false")
    if implicit:
        return ("runAsNonRoot != true",
                f"pod or {_plural('container', 'containers', len(implicit))} {_join_quote(implicit)} "
                "must set securityContext.runAsNonRoot=true")
    return None


def _run_as_user(meta, spec, version):
    if _user_namespace(spec, version):
        return None
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    setters = _setters(_pod_sc(spec).get("runAsUser") == 0, bad)
    if setters:
        return ("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0")
    return None


def _seccomp_restricted(meta, spec, version):
    if _windows(spec):
        return None
    values = set()
    pod_profile = _pod_sc(spec).get("seccompProfile")
    pod_bad = pod_profile is not None and not _valid_seccomp(pod_profile)
    pod_set = pod_profile is not None and not pod_bad
    if pod_bad:
        values.add(pod_profile.get("type", ""))
    explicit, implicit = [], []
    for c in _containers(spec):
        profile = _sc(c).get("seccompProfile")
        if profile is not None:
            if not _valid_seccomp(profile):
                explicit.append(c.get("name", ""))
                values.add(profile.get("type", ""))
        elif not pod_set:
            implicit.append(c.get("name", ""))
    setters = _setters(pod_bad, explicit)
    if setters:
        return ("seccompProfile", f"{' and '.join(setters)} must not set securityContext.seccompProfile.type "
                                  f"to {_join_quote(sorted(values))}")
    if implicit:
        return ("seccompProfile",
                f"pod or {_plural('container', 'containers', len(implicit))} {_join_quote(implicit)} "
                'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"')
    return None


def _proc_mount_restricted(meta, spec, version):
    return _proc_mount(meta, spec, version, relax=False) if version >= 35 else None


# ID -> (level, check, IDs it overrides, from which minor the override holds).
CHECKS = {
    "appArmorProfile": ("baseline", _app_armor),
    "capabilities_baseline": ("baseline", _capabilities_baseline),
    "hostNamespaces": ("baseline", _host_namespaces),
    "hostPathVolumes": ("baseline", _host_path_volumes),
    "hostPorts": ("baseline", _host_ports),
    "hostProbesAndHostLifecycle": ("baseline", _host_probes),
    "privileged": ("baseline", _privileged),
    "procMount": ("baseline", _proc_mount),
    "seLinuxOptions": ("baseline", _se_linux),
    "seccompProfile_baseline": ("baseline", _seccomp_baseline),
    "sysctls": ("baseline", _sysctls),
    "windowsHostProcess": ("baseline", _windows_host_process),
    "allowPrivilegeEscalation": ("restricted", _allow_privilege_escalation),
    "capabilities_restricted": ("restricted", _capabilities_restricted),
    "procMount_restricted": ("restricted", _proc_mount_restricted),
    "restrictedVolumes": ("restricted", _restricted_volumes),
    "runAsNonRoot": ("restricted", _run_as_non_root),
    "runAsUser": ("restricted", _run_as_user),
    "seccompProfile_restricted": ("restricted", _seccomp_restricted),
}
OVERRIDES = {"capabilities_restricted": "capabilities_baseline", "restrictedVolumes": "hostPathVolumes",
             "seccompProfile_restricted": "seccompProfile_baseline", "procMount_restricted": "procMount"}


def evaluate(level, version, meta, spec):
    """EvaluatePod then ForbiddenDetail: `reason (detail), …`, or None when allowed."""
    if level == "privileged":
        return None
    ids = sorted(i for i, (lvl, _) in CHECKS.items() if lvl == "baseline")
    if level == "restricted":
        restricted = sorted(i for i, (lvl, _) in CHECKS.items() if lvl == "restricted")
        # procMount_restricted exists from 1.35 only; before, procMount stays in force.
        overridden = {OVERRIDES[i] for i in restricted if i in OVERRIDES
                      and (i != "procMount_restricted" or version >= 35)}
        ids = [i for i in ids if i not in overridden] + restricted
    parts = []
    for check_id in ids:
        result = CHECKS[check_id][1](meta or {}, spec or {}, version)
        if result is not None:
            reason, detail = result
            parts.append(f"{reason} ({detail})" if detail else reason)
    return ", ".join(parts) or None


def _parse_version(text):
    match = VERSION.match(text)
    if match is None:
        return "latest", 'must be "latest" or "v1.x"'
    return text, None


def policy(labels):
    """PolicyToEvaluate with kind's default policy (privileged:latest everywhere):
    {mode: (level, version)} and the field errors [(path, type, detail)]."""
    out = {mode: ["privileged", "latest"] for mode in ("enforce", "audit", "warn")}
    errors = []
    labels = labels or {}
    has_enforce = has_warn = has_warn_version = False

    def err(key, value, message):
        errors.append((f"metadata.labels[{key}]", "Invalid value", f'"{value}": {message}'))

    for mode in ("enforce", "audit", "warn"):
        key = PREFIX + mode
        if key in labels:
            value = labels[key]
            if mode == "warn":
                has_warn = True
            if value in LEVELS:
                out[mode][0] = value
                has_enforce = has_enforce or mode == "enforce"
            else:
                # Fail closed for enforce, open for audit and warn.
                out[mode][0] = "restricted" if mode == "enforce" else "privileged"
                err(key, value, "must be one of " + ", ".join(LEVELS))
        if key + "-version" in labels:
            value = labels[key + "-version"]
            if mode == "warn":
                has_warn_version = True
            out[mode][1], message = _parse_version(value)
            if message:
                err(key + "-version", value, message)
    if not has_warn and has_enforce and LEVELS.index(out["enforce"][0]) > LEVELS.index(out["warn"][0]):
        out["warn"][0] = out["enforce"][0]
        if not has_warn_version:
            out["warn"][1] = out["enforce"][1]
    return {mode: tuple(value) for mode, value in out.items()}, errors


def _minor(version, server_minor):
    if version == "latest":
        return server_minor
    return min(int(version.split(".")[1]), server_minor)


def admit(store, resource, obj, warnings):
    """ValidatePod (pods: enforce, then warn) or ValidatePodController (Jobs: warn only).
    Appends warnings; raises the 403 for an enforced violation."""
    from . import status
    namespace = store.find("namespaces", "", obj["metadata"].get("namespace", ""))
    if namespace is None:
        return
    modes, _errors = policy(namespace["metadata"].get("labels"))
    minor = store.cluster.minor
    if resource == "pods":
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    elif resource == "jobs":
        template = (obj.get("spec") or {}).get("template") or {}
        meta, spec = template.get("metadata") or {}, template.get("spec") or {}
    else:
        return
    if resource == "pods":
        level, version = modes["enforce"]
        detail = evaluate(level, _minor(version, minor), meta, spec)
        if detail:
            name = obj["metadata"].get("name", "")
            raise status.forbidden_because("pods", "", name,
                                           f'violates PodSecurity "{level}:{version}": {detail}')
    level, version = modes["warn"]
    detail = evaluate(level, _minor(version, minor), meta, spec)
    if detail and warnings is not None:
        warnings.append(f'would violate PodSecurity "{level}:{version}": {detail}')


def validate_namespace(namespace, old=None):
    """ValidateNamespace: errors on create, and on an update unless the old labels had the
    same errors."""
    _, errors = policy((namespace.get("metadata") or {}).get("labels"))
    if errors and old is not None:
        _, old_errors = policy((old.get("metadata") or {}).get("labels"))
        if old_errors == errors:
            return []
    return errors

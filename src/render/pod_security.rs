//! The Pod Security Standards' `baseline` level, checked on a rendered Job before it is
//! ever sent: a lab file's `edit` may change the lab's Job, but never so that it gains
//! privilege over the node (a privileged container, a host namespace, a hostPath
//! volume…). The checks follow the Kubernetes admission plugin one for one, in
//! `staging/src/k8s.io/pod-security-admission/policy/check_*.go` (the file of each is
//! named beside it), at its newest version. Pure.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, PodSecurityContext, PodSpec, SELinuxOptions, SeccompProfile,
    SecurityContext, WindowsSecurityContextOptions,
};

/// One field that `baseline` forbids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The field, as a path in the Job: `spec.template.spec.hostNetwork`.
    pub field: String,
    /// What is wrong with it, as the admission plugin names the check.
    pub reason: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// check_capabilities_baseline.go: the capabilities a container may add.
const ALLOWED_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// check_sysctls.go: the safe sysctls (1.29's list; a sysctl a newer server allows is
/// refused here, the strict side).
const ALLOWED_SYSCTLS: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// check_seLinuxOptions.go: the SELinux types a pod may ask for.
const ALLOWED_SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// check_appArmorProfile.go: the annotation prefix of the older AppArmor field.
const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Every field of `job`'s pod template that `baseline` forbids; empty when it passes.
pub(crate) fn check_job(job: &Job) -> Vec<Violation> {
    let Some(template) = job.spec.as_ref().map(|spec| &spec.template) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(annotations) = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
    {
        for (key, value) in annotations {
            if key.starts_with(APPARMOR_ANNOTATION)
                && value != "runtime/default"
                && !value.starts_with("localhost/")
            {
                out.push(Violation {
                    field: format!("spec.template.metadata.annotations[{key}]"),
                    reason: format!(
                        "AppArmor profile `{value}` is not allowed (check_appArmorProfile)"
                    ),
                });
            }
        }
    }
    if let Some(spec) = &template.spec {
        check_pod_spec(spec, "spec.template.spec", &mut out);
    }
    out
}

/// The checks on a pod's spec, fields named under `at`.
pub(crate) fn check_pod_spec(spec: &PodSpec, at: &str, out: &mut Vec<Violation>) {
    let mut forbid = |field: String, reason: &str| {
        out.push(Violation {
            field,
            reason: reason.to_owned(),
        });
    };
    // check_hostNamespaces.go
    for (field, on) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        if on == Some(true) {
            forbid(
                format!("{at}.{field}"),
                "host namespaces are not allowed (check_hostNamespaces)",
            );
        }
    }
    // check_hostPathVolumes.go
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        if volume.host_path.is_some() {
            forbid(
                format!("{at}.volumes[{i}].hostPath"),
                "hostPath volumes are not allowed (check_hostPathVolumes)",
            );
        }
    }
    if let Some(context) = &spec.security_context {
        pod_context(context, &format!("{at}.securityContext"), &mut forbid);
    }
    let containers = [
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", spec.containers.as_slice()),
    ];
    for (list, containers) in containers {
        for (i, container) in containers.iter().enumerate() {
            let here = format!("{at}.{list}[{i}]");
            for (p, port) in container.ports.iter().flatten().enumerate() {
                // check_hostPorts.go
                if port.host_port.is_some_and(|port| port != 0) {
                    forbid(
                        format!("{here}.ports[{p}].hostPort"),
                        "host ports are not allowed (check_hostPorts)",
                    );
                }
            }
            if let Some(context) = &container.security_context {
                container_context(context, &format!("{here}.securityContext"), &mut forbid);
            }
        }
    }
    for (i, container) in spec.ephemeral_containers.iter().flatten().enumerate() {
        if let Some(context) = &container.security_context {
            container_context(
                context,
                &format!("{at}.ephemeralContainers[{i}].securityContext"),
                &mut forbid,
            );
        }
    }
}

fn pod_context(context: &PodSecurityContext, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    host_process(context.windows_options.as_ref(), at, forbid);
    selinux(context.se_linux_options.as_ref(), at, forbid);
    seccomp(context.seccomp_profile.as_ref(), at, forbid);
    apparmor(context.app_armor_profile.as_ref(), at, forbid);
    for (i, sysctl) in context.sysctls.iter().flatten().enumerate() {
        if !ALLOWED_SYSCTLS.contains(&sysctl.name.as_str()) {
            forbid(
                format!("{at}.sysctls[{i}].name"),
                &format!("sysctl `{}` is not allowed (check_sysctls)", sysctl.name),
            );
        }
    }
}

fn container_context(context: &SecurityContext, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    // check_privileged.go
    if context.privileged == Some(true) {
        forbid(
            format!("{at}.privileged"),
            "privileged containers are not allowed (check_privileged)",
        );
    }
    host_process(context.windows_options.as_ref(), at, forbid);
    capabilities(context.capabilities.as_ref(), at, forbid);
    selinux(context.se_linux_options.as_ref(), at, forbid);
    seccomp(context.seccomp_profile.as_ref(), at, forbid);
    apparmor(context.app_armor_profile.as_ref(), at, forbid);
    // check_procMount.go
    if let Some(mount) = context.proc_mount.as_deref()
        && mount != "Default"
    {
        forbid(
            format!("{at}.procMount"),
            &format!("procMount `{mount}` is not allowed (check_procMount)"),
        );
    }
}

fn capabilities(caps: Option<&Capabilities>, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    for (i, cap) in caps
        .and_then(|c| c.add.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !ALLOWED_CAPABILITIES.contains(&cap.as_str()) {
            forbid(
                format!("{at}.capabilities.add[{i}]"),
                &format!("adding capability `{cap}` is not allowed (check_capabilities_baseline)"),
            );
        }
    }
}

fn selinux(options: Option<&SELinuxOptions>, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    let Some(options) = options else {
        return;
    };
    let kind = options.type_.as_deref().unwrap_or_default();
    if !ALLOWED_SELINUX_TYPES.contains(&kind) {
        forbid(
            format!("{at}.seLinuxOptions.type"),
            &format!("SELinux type `{kind}` is not allowed (check_seLinuxOptions)"),
        );
    }
    for (field, value) in [("user", &options.user), ("role", &options.role)] {
        if value.as_deref().is_some_and(|v| !v.is_empty()) {
            forbid(
                format!("{at}.seLinuxOptions.{field}"),
                "a custom SELinux user or role is not allowed (check_seLinuxOptions)",
            );
        }
    }
}

fn seccomp(profile: Option<&SeccompProfile>, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    if profile.is_some_and(|p| p.type_ == "Unconfined") {
        forbid(
            format!("{at}.seccompProfile.type"),
            "seccomp profile `Unconfined` is not allowed (check_seccompProfile_baseline)",
        );
    }
}

fn host_process(
    options: Option<&WindowsSecurityContextOptions>,
    at: &str,
    forbid: &mut dyn FnMut(String, &str),
) {
    if options.and_then(|w| w.host_process) == Some(true) {
        forbid(
            format!("{at}.windowsOptions.hostProcess"),
            "Windows host processes are not allowed (check_windowsHostProcess)",
        );
    }
}

fn apparmor(profile: Option<&AppArmorProfile>, at: &str, forbid: &mut dyn FnMut(String, &str)) {
    if profile.is_some_and(|p| p.type_ == "Unconfined") {
        forbid(
            format!("{at}.appArmorProfile.type"),
            "AppArmor profile `Unconfined` is not allowed (check_appArmorProfile)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;
    use crate::render::job::parse_template;

    fn job(patch: &serde_json::Value) -> Job {
        let template = parse_template(assets::JOB_TEMPLATE).expect("template");
        let mut value = serde_json::to_value(&template).expect("json");
        json_patch_merge(&mut value, patch);
        serde_json::from_value(value).expect("a Job")
    }

    fn json_patch_merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
        match (target, patch) {
            (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
                for (k, v) in p {
                    json_patch_merge(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
            (t, p) => *t = p.clone(),
        }
    }

    fn fields(job: &Job) -> Vec<String> {
        check_job(job).into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn the_labs_own_job_passes() {
        assert_eq!(fields(&job(&serde_json::json!({}))), Vec::<String>::new());
    }

    #[test]
    fn the_attack_of_issue_22_is_named_field_by_field() {
        let spec = serde_json::json!({"spec": {"template": {"spec": {
            "hostNetwork": true, "hostPID": true, "hostIPC": false,
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        }}}});
        let mut attack = job(&spec);
        let pod = attack
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .expect("pod");
        pod.containers[0].security_context = Some(SecurityContext {
            privileged: Some(true),
            capabilities: Some(Capabilities {
                add: Some(vec!["CHOWN".to_owned(), "SYS_ADMIN".to_owned()]),
                drop: None,
            }),
            proc_mount: Some("Unmasked".to_owned()),
            seccomp_profile: Some(SeccompProfile {
                type_: "Unconfined".to_owned(),
                localhost_profile: None,
            }),
            ..SecurityContext::default()
        });
        if let Some(first) = pod.init_containers.as_mut().and_then(|c| c.first_mut()) {
            first.ports.get_or_insert_with(Vec::new)[0].host_port = Some(5432);
        }
        assert_eq!(
            fields(&attack),
            [
                "spec.template.spec.hostNetwork",
                "spec.template.spec.hostPID",
                "spec.template.spec.volumes[0].hostPath",
                "spec.template.spec.initContainers[0].ports[0].hostPort",
                "spec.template.spec.containers[0].securityContext.privileged",
                "spec.template.spec.containers[0].securityContext.capabilities.add[1]",
                "spec.template.spec.containers[0].securityContext.seccompProfile.type",
                "spec.template.spec.containers[0].securityContext.procMount",
            ]
        );
    }

    #[test]
    fn allowed_values_pass_and_pod_level_fields_are_checked() {
        let fine = job(&serde_json::json!({"spec": {"template": {
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/main": "runtime/default"}},
            "spec": {"securityContext": {
                "seLinuxOptions": {"type": "container_t"},
                "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}}}}}));
        assert!(check_job(&fine).is_empty(), "{:?}", check_job(&fine));
        let bad = job(&serde_json::json!({"spec": {"template": {
            "metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/main": "unconfined"}},
            "spec": {"securityContext": {
                "seLinuxOptions": {"type": "spc_t", "user": "root"},
                "windowsOptions": {"hostProcess": true},
                "sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}}}}));
        assert_eq!(
            fields(&bad),
            [
                "spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/main]",
                "spec.template.spec.securityContext.windowsOptions.hostProcess",
                "spec.template.spec.securityContext.seLinuxOptions.type",
                "spec.template.spec.securityContext.seLinuxOptions.user",
                "spec.template.spec.securityContext.sysctls[0].name",
            ]
        );
    }
}

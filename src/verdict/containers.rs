//! Facts about a pod's containers as the verdict needs them: each container's role
//! (init, sidecar, app) from the spec, joined with its status. Pure.

use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStatus, Pod, PodSpec};
use serde::Serialize;

/// What a container is to the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An init container that must exit before the next one starts.
    Init,
    /// An init container with `restartPolicy: Always`: a native sidecar.
    Sidecar,
    /// A regular (app) container, from `spec.containers`.
    App,
}

impl Role {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Init => "init",
            Self::Sidecar => "sidecar",
            Self::App => "app",
        }
    }
}

/// One container: its name, role, image and status (if the kubelet reported one).
#[derive(Clone, Debug)]
pub struct ContainerInfo<'a> {
    pub name: &'a str,
    pub role: Role,
    pub image: Option<&'a str>,
    pub status: Option<&'a ContainerStatus>,
}

/// How the pod places its containers, read from the spec the server returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// At least one init container with `restartPolicy: Always`.
    Native,
    /// Init containers without `restartPolicy`, and one app container.
    Init,
    /// No init containers, and two or more app containers.
    Sidecar,
    /// Anything else.
    Other,
}

/// The layout of a pod spec.
pub fn layout(spec: &PodSpec) -> Layout {
    let init = spec.init_containers.as_deref().unwrap_or_default();
    if init
        .iter()
        .any(|c| c.restart_policy.as_deref() == Some("Always"))
    {
        Layout::Native
    } else if !init.is_empty() && spec.containers.len() == 1 {
        Layout::Init
    } else if init.is_empty() && spec.containers.len() >= 2 {
        Layout::Sidecar
    } else {
        Layout::Other
    }
}

/// Init containers in order, then app containers, each with its status. Containers
/// reported in the status but missing from the spec are kept too.
pub fn containers<'a>(pod: &'a Pod) -> Vec<ContainerInfo<'a>> {
    let status = pod.status.as_ref();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let app_statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let find =
        |statuses: &'a [ContainerStatus], name: &str| statuses.iter().find(|s| s.name == name);
    let mut out = Vec::new();
    if let Some(spec) = &pod.spec {
        for c in spec.init_containers.iter().flatten() {
            let role = if c.restart_policy.as_deref() == Some("Always") {
                Role::Sidecar
            } else {
                Role::Init
            };
            out.push(ContainerInfo {
                name: &c.name,
                role,
                image: c.image.as_deref(),
                status: find(init_statuses, &c.name),
            });
        }
        for c in &spec.containers {
            out.push(ContainerInfo {
                name: &c.name,
                role: Role::App,
                image: c.image.as_deref(),
                status: find(app_statuses, &c.name),
            });
        }
    }
    for (statuses, role) in [(init_statuses, Role::Init), (app_statuses, Role::App)] {
        for s in statuses {
            if !out.iter().any(|c| c.name == s.name) {
                out.push(ContainerInfo {
                    name: &s.name,
                    role,
                    image: Some(&s.image),
                    status: Some(s),
                });
            }
        }
    }
    out
}

/// True once the container has run at all (now or before a restart).
pub fn has_started(status: &ContainerStatus) -> bool {
    let state = status.state.as_ref();
    status.started == Some(true)
        || status.restart_count > 0
        || state.is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        || status
            .last_state
            .as_ref()
            .is_some_and(|s| s.terminated.is_some())
}

/// True while the container runs.
pub fn is_running(status: &ContainerStatus) -> bool {
    status.state.as_ref().is_some_and(|s| s.running.is_some())
}

/// The container's current terminated state, if it has exited.
pub fn terminated(status: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    status.state.as_ref().and_then(|s| s.terminated.as_ref())
}

/// The reason the container is waiting, if it is.
pub fn waiting_reason(status: &ContainerStatus) -> Option<(&str, Option<&str>)> {
    let waiting = status.state.as_ref()?.waiting.as_ref()?;
    Some((
        waiting.reason.as_deref().unwrap_or("Waiting"),
        waiting.message.as_deref(),
    ))
}

/// Waiting reasons that mean the container will not start without a change.
pub const ERROR_REASONS: [&str; 8] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Waiting reasons that mean the image could not be had.
pub const IMAGE_REASONS: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

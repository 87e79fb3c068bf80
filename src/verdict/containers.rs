//! Facts about a pod's containers as the verdict needs them: each container's role
//! (init, sidecar, app) from the spec, joined with its status. Pure.

use crate::variant::Variant;
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
pub(crate) struct ContainerInfo<'a> {
    pub name: &'a str,
    pub role: Role,
    pub image: Option<&'a str>,
    pub status: Option<&'a ContainerStatus>,
}

/// What a pod is made of, read from the spec the server returned: how many plain init
/// containers, sidecars (init containers with `restartPolicy: Always`) and app
/// containers. A variant is recognised by what defines it, not by a count of
/// containers: the shapes in the Kubernetes documentation have several of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub plain_inits: usize,
    pub sidecars: usize,
    pub apps: usize,
}

impl Shape {
    /// Whether the pod has what defines `variant`:
    /// - native: a sidecar;
    /// - init: a plain init container (one that has not exited blocks every app), and no
    ///   sidecar;
    /// - sidecar: two or more app containers (one can hold the pod after another has
    ///   finished), and no sidecar.
    pub(crate) const fn fits(self, variant: Variant) -> bool {
        match variant {
            Variant::Native => self.sidecars > 0,
            Variant::Init => self.sidecars == 0 && self.plain_inits > 0,
            Variant::Sidecar => self.sidecars == 0 && self.apps >= 2,
        }
    }

    /// True when the pod has none of the three variants' features.
    pub(crate) fn is_other(self) -> bool {
        Variant::ALL.iter().all(|v| !self.fits(*v))
    }

    /// `1 plain init container, 1 sidecar and 2 app containers`.
    pub(crate) fn describe(self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}, {} and {}",
            count(
                self.plain_inits,
                "plain init container",
                "plain init containers"
            ),
            count(self.sidecars, "sidecar", "sidecars"),
            count(self.apps, "app container", "app containers")
        )
    }
}

/// The shape of a pod spec.
pub(crate) fn shape(spec: &PodSpec) -> Shape {
    let init = spec.init_containers.as_deref().unwrap_or_default();
    let sidecars = init
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    Shape {
        plain_inits: init.len() - sidecars,
        sidecars,
        apps: spec.containers.len(),
    }
}

/// Init containers in order, then app containers, each with its status. Containers
/// reported in the status but missing from the spec are kept too.
pub(crate) fn containers<'a>(pod: &'a Pod) -> Vec<ContainerInfo<'a>> {
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
pub(crate) fn has_started(status: &ContainerStatus) -> bool {
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
pub(crate) fn is_running(status: &ContainerStatus) -> bool {
    status.state.as_ref().is_some_and(|s| s.running.is_some())
}

/// The container's current terminated state, if it has exited.
pub(crate) fn terminated(status: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    status.state.as_ref().and_then(|s| s.terminated.as_ref())
}

/// The reason the container is waiting, if it is.
pub(crate) fn waiting_reason(status: &ContainerStatus) -> Option<(&str, Option<&str>)> {
    let waiting = status.state.as_ref()?.waiting.as_ref()?;
    Some((
        waiting.reason.as_deref().unwrap_or("Waiting"),
        waiting.message.as_deref(),
    ))
}

/// Waiting reasons that mean the container will not start without a change.
pub(crate) const ERROR_REASONS: [&str; 8] = [
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
pub(crate) const IMAGE_REASONS: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

//! `up`'s plan (pure, below `session`): from facts that were really read (the host checks, what is installed,
//! the clusters, the context, the node, the namespace, the images, earlier lab Jobs) to
//! the phases that take this machine to a judged lab. Pure: facts in, plan out; the same
//! plan is printed, confirmed once, and executed — or, with `--dry-run`, only printed.

use std::path::PathBuf;

use crate::doctor::fix::Fix;
use crate::doctor::{Check, Status};
use crate::install::prepare::Prepared;
use crate::kube::{NamespaceFound, full_image_name};
use crate::version::MinorVersion;

mod steps;

pub(crate) use steps::{
    NodeRoom, StepFacts, StepsPlan, allocatable_cpu_millis, is_lab, numbers_text,
    requested_cpu_millis, room_warning, step_needs, steps_plan,
};

/// What a fresh one-node kind cluster's own pods request, in CPU millis: kube-apiserver
/// 250m, kube-controller-manager 200m, kube-scheduler 100m, etcd 100m, CoreDNS 2 × 100m,
/// kindnet 100m (kubeadm's defaults; kind's `const_cni.go`). Used only for a cluster
/// `up` has yet to create; a running one is read.
pub(crate) const KIND_SYSTEM_CPU_MILLIS: u64 = 950;

/// What `up` does about the namespace the lab runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NamespaceAction {
    /// It exists: nothing to do.
    Use,
    /// It is missing (or a new cluster has only the standard ones): create it.
    Create,
    /// The user may not read namespaces: go on as if it exists.
    Trust { why: String },
}

impl NamespaceAction {
    /// The action for what `kubectl get namespace` found; `Err` when it could not tell.
    pub(crate) fn for_found(found: NamespaceFound) -> Result<Self, String> {
        match found {
            NamespaceFound::Exists => Ok(Self::Use),
            NamespaceFound::Missing => Ok(Self::Create),
            NamespaceFound::Forbidden(why) => Ok(Self::Trust { why }),
            NamespaceFound::Unknown(why) => Err(why),
        }
    }
}

/// Everything `up` read before deciding.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    /// The Kubernetes minor the lab wants (kind clusters).
    pub kubernetes: MinorVersion,
    /// The host, on a machine where the lab makes its own kind cluster.
    pub host: Option<HostFacts>,
    pub cluster: ClusterFacts,
    pub namespace: String,
    /// Whether the namespace exists; `None` when it could not be asked yet.
    pub namespace_found: Option<NamespaceFound>,
    /// The lab's images (kind clusters only).
    pub images: Vec<ImageFacts>,
    /// The lab's Jobs already in the namespace (from an earlier run or class).
    pub lab_jobs: Vec<String>,
    /// Steps wait for Enter, one by one (a terminal, without --yes).
    pub interactive: bool,
    /// `--sequential`: one step after another even when unattended.
    pub sequential: bool,
    /// `--bundle`: images come from the bundle, never from a registry.
    pub bundle: Option<BundleFacts>,
    /// The lab's steps, for the cluster's minor.
    pub steps: Vec<StepFacts>,
    /// `--all`: the optional steps too.
    pub all_steps: bool,
    /// The node's CPU, when it could be read or estimated.
    pub node_room: Option<NodeRoom>,
}

/// What a bundle brings for this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BundleFacts {
    /// The node image's tag: what kind is handed, so that it never pulls.
    pub node_image: String,
    /// Docker has that tag already, with the manifest's layers.
    pub node_loaded: bool,
    /// The archives inside the bundle.
    pub node_archive: String,
    pub lab_archive: String,
}

/// The host: its checks, the safe fixes for them, and the install plan.
#[derive(Clone, Debug)]
pub(crate) struct HostFacts {
    pub checks: Vec<Check>,
    pub fixes: Vec<Fix>,
    pub install: Prepared,
}

/// The cluster the lab runs on.
#[derive(Clone, Debug)]
pub(crate) enum ClusterFacts {
    /// `--context`: a cluster someone else runs.
    Existing {
        context: String,
        /// Its minor, or why it did not answer.
        server: Result<MinorVersion, String>,
    },
    /// The lab's own kind cluster.
    Kind {
        name: String,
        /// Whether `kind get clusters` lists it; `None` when kind could not be asked
        /// (not installed yet), `Some(Err)` when asking failed.
        listed: Option<Result<bool, String>>,
        /// The kubeconfig has the context `kind-NAME`.
        context: bool,
        /// The running cluster's minor, when it answered.
        server: Option<MinorVersion>,
        config_path: PathBuf,
        config: String,
        /// The config the cluster was made from, as the lab last wrote it.
        previous_config: Option<String>,
    },
}

/// One image the lab's Job uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageFacts {
    pub image: String,
    pub on_host: bool,
    pub on_node: bool,
}

/// What happens to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClusterAction {
    Create {
        name: String,
    },
    Reuse {
        name: String,
    },
    /// Delete and create again: `drift` says why (version, config).
    Recreate {
        name: String,
        drift: Vec<String>,
        config_diff: Option<(String, String)>,
    },
    Existing {
        context: String,
        minor: MinorVersion,
    },
}

/// What happens to one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ImageAction {
    /// Pull on the host (while the cluster is made), then load into the node.
    PullAndLoad(String),
    /// On the host already: load into the node.
    Load(String),
    /// The bundle's lab images archive (its path in the bundle), loaded into the node.
    FromBundle(String),
}

/// One phase of `up`, in the order they run.
#[derive(Clone, Debug)]
pub(crate) enum Phase {
    HostFixes(Vec<Fix>),
    Install(Box<Prepared>),
    /// `docker load` the bundle's node image, checked against its manifest.
    LoadNodeImage {
        tag: String,
        archive: String,
    },
    WriteConfig {
        path: PathBuf,
        text: String,
    },
    Cluster(ClusterAction),
    /// `kind export kubeconfig`: the cluster runs, its context is gone.
    RestoreContext {
        name: String,
    },
    WaitForNode,
    Namespace(NamespaceAction),
    Images(Vec<ImageAction>),
    GateCheck,
    Steps {
        replacing: Vec<String>,
        steps: StepsPlan,
    },
}

/// The plan: its phases, or why `up` cannot go on (each reason with its fix).
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub phases: Vec<Phase>,
    pub stop: Vec<String>,
    /// What may go wrong without stopping `up` (a node too small for the steps).
    pub warnings: Vec<String>,
}

impl Plan {
    /// The cluster action, if any.
    pub(crate) fn cluster(&self) -> Option<&ClusterAction> {
        self.phases.iter().find_map(|p| match p {
            Phase::Cluster(action) => Some(action),
            _ => None,
        })
    }

    /// True when the plan changes nothing before the steps (a ready machine and cluster).
    #[cfg(test)]
    pub(crate) fn only_steps(&self) -> bool {
        self.phases.iter().all(|p| {
            matches!(
                p,
                Phase::Cluster(ClusterAction::Reuse { .. } | ClusterAction::Existing { .. })
                    | Phase::WriteConfig { .. }
                    | Phase::WaitForNode
                    | Phase::Namespace(NamespaceAction::Use | NamespaceAction::Trust { .. })
                    | Phase::GateCheck
                    | Phase::Steps { .. }
            ) || matches!(p, Phase::Images(images) if images.is_empty())
        })
    }
}

/// The checks whose safe fix `up` applies itself: the inotify limits. Docker is the
/// install's to fix; everything else needs a person.
const FIXED_BY_UP: &[&str] = &["inotify-watches", "inotify-instances"];

/// The plan for `facts`.
pub(crate) fn plan(facts: &Facts) -> Plan {
    let mut plan = Plan {
        phases: Vec::new(),
        stop: Vec::new(),
        warnings: Vec::new(),
    };
    let docker_being_installed = facts.host.as_ref().is_some_and(|host| plan.host(host));
    let fresh = match &facts.cluster {
        ClusterFacts::Existing { context, server } => {
            plan.existing(context, server);
            false
        }
        ClusterFacts::Kind { .. } => plan.kind(facts, docker_being_installed),
    };
    plan.namespace(facts, fresh);
    plan.images(facts, fresh);
    plan.phases.push(Phase::GateCheck);
    let concurrent = !facts.interactive && !facts.sequential;
    let steps = steps_plan(&facts.steps, facts.all_steps, concurrent, facts.node_room);
    plan.warnings = facts
        .node_room
        .and_then(|room| room_warning(&facts.steps, &steps, room))
        .into_iter()
        .collect();
    plan.phases.push(Phase::Steps {
        replacing: facts.lab_jobs.clone(),
        steps,
    });
    plan
}

impl Plan {
    /// The host's fixes `up` applies itself and the install; what only a person can fix
    /// stops it. True when Docker is among what gets installed.
    fn host(&mut self, host: &HostFacts) -> bool {
        let fixes: Vec<Fix> = host
            .fixes
            .iter()
            .filter(|f| f.check == "inotify")
            .cloned()
            .collect();
        for check in host.checks.iter().filter(|c| c.status == Status::Fail) {
            let fixed = !fixes.is_empty() && FIXED_BY_UP.contains(&check.id);
            if !fixed {
                self.stop.push(match &check.fix {
                    Some(fix) => format!("{}: {} (fix: {fix})", check.id, check.message),
                    None => format!("{}: {}", check.id, check.message),
                });
            }
        }
        if !fixes.is_empty() {
            self.phases.push(Phase::HostFixes(fixes));
        }
        let install = &host.install.plan;
        if install.has_cannot() {
            self.stop
                .push("some tools cannot be installed here (see the install plan)".to_owned());
        }
        if install.is_noop() {
            return false;
        }
        self.phases
            .push(Phase::Install(Box::new(host.install.clone())));
        install
            .actions
            .iter()
            .any(|a| matches!(a, crate::install::plan::Action::Docker(_)))
    }

    /// An existing cluster (`--context`): used when it answers with 1.28 or later.
    fn existing(&mut self, context: &str, server: &Result<MinorVersion, String>) {
        match server {
            Ok(minor) if *minor < MinorVersion::new(1, 28) => {
                self.stop.push(format!(
                    "context `{context}` runs Kubernetes {minor}, which has no native sidecars (they came in 1.28): use a 1.28 or newer cluster"
                ));
            }
            Ok(minor) => self.phases.push(Phase::Cluster(ClusterAction::Existing {
                context: context.to_owned(),
                minor: *minor,
            })),
            Err(why) => {
                self.stop
                    .push(format!("context `{context}` does not answer: {why}"));
            }
        }
    }

    /// The lab's kind cluster: its config, made, remade or reused, its context, its
    /// node. True when the cluster is new (made or remade).
    fn kind(&mut self, facts: &Facts, docker_being_installed: bool) -> bool {
        let ClusterFacts::Kind {
            name,
            listed,
            context,
            server,
            config_path,
            config,
            previous_config,
        } = &facts.cluster
        else {
            return false;
        };
        self.phases.push(Phase::WriteConfig {
            path: config_path.clone(),
            text: config.clone(),
        });
        let listed = match listed {
            Some(Ok(listed)) => *listed,
            // Docker is being installed or its group is not in effect yet: kind could
            // not ask, and there is no cluster to find.
            Some(Err(_)) if docker_being_installed => false,
            Some(Err(why)) => {
                self.stop
                    .push(format!("cannot list the kind clusters: {why}"));
                false
            }
            None => false,
        };
        let action = if listed {
            kind_action(
                name,
                *server,
                facts.kubernetes,
                config,
                previous_config.as_deref(),
            )
        } else {
            ClusterAction::Create { name: name.clone() }
        };
        let fresh = !matches!(action, ClusterAction::Reuse { .. });
        let restore = !fresh && !context;
        if let Some(bundle) = facts.bundle.as_ref().filter(|b| fresh && !b.node_loaded) {
            self.phases.push(Phase::LoadNodeImage {
                tag: bundle.node_image.clone(),
                archive: bundle.node_archive.clone(),
            });
        }
        self.phases.push(Phase::Cluster(action));
        if restore {
            self.phases
                .push(Phase::RestoreContext { name: name.clone() });
        }
        self.phases.push(Phase::WaitForNode);
        fresh
    }

    /// The namespace: a new cluster has only the standard ones.
    fn namespace(&mut self, facts: &Facts, fresh: bool) {
        let namespace = if fresh || facts.namespace_found.is_none() {
            Some(if facts.namespace == "default" {
                NamespaceAction::Use
            } else {
                NamespaceAction::Create
            })
        } else {
            match facts
                .namespace_found
                .clone()
                .map(NamespaceAction::for_found)
            {
                Some(Ok(action)) => Some(action),
                Some(Err(why)) => {
                    self.stop.push(format!(
                        "cannot tell whether namespace `{}` exists: {why}",
                        facts.namespace
                    ));
                    None
                }
                None => None,
            }
        };
        if let Some(action) = namespace {
            self.phases.push(Phase::Namespace(action));
        }
    }

    /// The lab's images into a kind node: from the bundle, or pulled or loaded one by
    /// one; nothing on an existing cluster (its nodes pull).
    fn images(&mut self, facts: &Facts, fresh: bool) {
        if !matches!(facts.cluster, ClusterFacts::Kind { .. }) {
            return;
        }
        let images = if let Some(bundle) = &facts.bundle {
            let missing = facts.images.iter().any(|i| fresh || !i.on_node);
            if missing {
                vec![ImageAction::FromBundle(bundle.lab_archive.clone())]
            } else {
                Vec::new()
            }
        } else {
            facts
                .images
                .iter()
                .filter(|i| fresh || !i.on_node)
                .map(|i| {
                    if i.on_host {
                        ImageAction::Load(i.image.clone())
                    } else {
                        ImageAction::PullAndLoad(i.image.clone())
                    }
                })
                .collect()
        };
        self.phases.push(Phase::Images(images));
    }
}

/// A listed kind cluster: reused when it runs `wants` from the same config, else
/// remade, saying why.
fn kind_action(
    name: &str,
    server: Option<MinorVersion>,
    wants: MinorVersion,
    config: &str,
    previous_config: Option<&str>,
) -> ClusterAction {
    let mut drift = Vec::new();
    if let Some(minor) = server.filter(|m| *m != wants) {
        drift.push(format!(
            "kind cluster `{name}` runs Kubernetes {minor}; the lab wants {wants}"
        ));
    }
    let config_diff = previous_config
        .filter(|old| *old != config)
        .map(|old| (old.to_owned(), config.to_owned()));
    if config_diff.is_some() {
        drift.push(format!(
            "kind cluster `{name}` was made from another config"
        ));
    }
    if drift.is_empty() {
        ClusterAction::Reuse {
            name: name.to_owned(),
        }
    } else {
        ClusterAction::Recreate {
            name: name.to_owned(),
            drift,
            config_diff,
        }
    }
}

/// Whether the node already has `image` (the kubelet reports containerd's full names).
pub(crate) fn on_node(image: &str, node_images: &[String]) -> bool {
    let full = full_image_name(image);
    node_images.iter().any(|n| *n == full || n == image)
}

#[cfg(test)]
mod tests;

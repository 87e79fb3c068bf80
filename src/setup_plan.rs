//! `up`'s plan (pure, below `session`): from facts that were really read (the host checks, what is installed,
//! the clusters, the context, the node, the namespace, the images, earlier lab Jobs) to
//! the phases that take this machine to a judged lab. Pure: facts in, plan out; the same
//! plan is printed, confirmed once, and executed — or, with `--dry-run`, only printed.

use std::path::PathBuf;

use crate::doctor::fix::Fix;
use crate::doctor::{Check, Status};
use crate::install::prepare::Prepared;
use crate::kube::{NamespaceFound, full_image_name};
use crate::lab::StepNumber;
use crate::requests::show_cpu;
use crate::version::MinorVersion;

/// What a fresh one-node kind cluster's own pods request, in CPU millis: kube-apiserver
/// 250m, kube-controller-manager 200m, kube-scheduler 100m, etcd 100m, CoreDNS 2 × 100m,
/// kindnet 100m (kubeadm's defaults; kind's `const_cni.go`). Used only for a cluster
/// `up` has yet to create; a running one is read.
pub const KIND_SYSTEM_CPU_MILLIS: u64 = 950;

/// A step `up` may run, as the plan needs it (from the lab, for the cluster's minor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepFacts {
    pub number: StepNumber,
    pub optional: bool,
    /// The cluster's version cannot run it (`minKubernetes`).
    pub skipped: bool,
    /// What its pods request at once, in CPU millis (no more than its own quota allows).
    pub cpu_millis: u64,
    /// Its Jobs' names.
    pub jobs: Vec<String>,
    /// What it teaches never ends: its pod keeps its requests until the Job's deadline.
    pub holds: bool,
}

/// The node's CPU as the scheduler counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeRoom {
    pub allocatable_millis: u64,
    /// Requested by the pods that are not the lab's (kube-system's, anyone else's).
    pub requested_millis: u64,
    /// Estimated for a cluster `up` will create (the host's CPUs, kind's own pods).
    pub estimated: bool,
}

impl NodeRoom {
    /// What is left for the lab's pods.
    pub const fn free_millis(self) -> u64 {
        self.allocatable_millis
            .saturating_sub(self.requested_millis)
    }
}

/// A step run after the others, and the steps whose holding Jobs are deleted before it
/// (their results stay in the state and the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InTurn {
    pub number: StepNumber,
    pub free: Vec<StepNumber>,
}

/// Which steps run, and how: some together (the three variants, unattended), then the
/// rest one after another, each after freeing the room that earlier holding steps keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepsPlan {
    pub together: Vec<StepNumber>,
    pub in_turn: Vec<InTurn>,
}

impl StepsPlan {
    /// Every step the plan runs, in order.
    pub fn numbers(&self) -> Vec<StepNumber> {
        self.together
            .iter()
            .copied()
            .chain(self.in_turn.iter().map(|t| t.number))
            .collect()
    }
}

/// The steps of `steps` to run (`all`: the optional ones too) and how. A step that holds
/// its pod by design keeps its CPU until the Job's deadline: before a later step that
/// would not fit beside the held ones on the node (`room`), their Jobs are deleted. Only
/// then: on a big enough node, or one that could not be read, every Job stays for the
/// learner to look at.
pub fn steps_plan(
    steps: &[StepFacts],
    all: bool,
    concurrent: bool,
    room: Option<NodeRoom>,
) -> StepsPlan {
    let chosen = steps.iter().filter(|s| all || !s.optional);
    let (together, in_turn): (Vec<&StepFacts>, Vec<&StepFacts>) =
        chosen.partition(|s| concurrent && !s.optional);
    let holds = |s: &StepFacts| s.holds && !s.skipped;
    let mut held: Vec<&StepFacts> = together.iter().copied().filter(|s| holds(s)).collect();
    let in_turn = in_turn
        .iter()
        .map(|step| {
            let held_millis: u64 = held.iter().map(|s| s.cpu_millis).sum();
            let need = if step.skipped { 0 } else { step.cpu_millis };
            let short = room.is_some_and(|room| held_millis + need > room.free_millis());
            let free = if short {
                std::mem::take(&mut held).iter().map(|s| s.number).collect()
            } else {
                Vec::new()
            };
            if holds(step) {
                held.push(step);
            }
            InTurn {
                number: step.number,
                free,
            }
        })
        .collect();
    StepsPlan {
        together: together.iter().map(|s| s.number).collect(),
        in_turn,
    }
}

/// A warning when the lab's pods will not fit on the node: the most the plan asks for at
/// once (the steps run together, or the largest step run in turn, the room of held steps
/// freed before it) against what the node has left.
pub fn room_warning(steps: &[StepFacts], plan: &StepsPlan, room: NodeRoom) -> Option<String> {
    let cpu = |n: &StepNumber| {
        steps
            .iter()
            .find(|s| s.number == *n && !s.skipped)
            .map_or(0, |s| s.cpu_millis)
    };
    let together: u64 = plan.together.iter().map(cpu).sum();
    let (largest, in_turn) = plan
        .in_turn
        .iter()
        .map(|t| (t.number, cpu(&t.number)))
        .max_by_key(|(_, millis)| *millis)
        .unwrap_or((StepNumber(0), 0));
    let (need, who) = if together >= in_turn {
        (
            together,
            format!("steps {} together request", numbers_text(&plan.together)),
        )
    } else {
        (in_turn, format!("step {largest} requests"))
    };
    let free = room.free_millis();
    (need > free).then(|| {
        let how = if room.estimated {
            "about "
        } else {
            ""
        };
        format!(
            "the node has {how}{} CPU left for the lab ({} allocatable, {} requested by kube-system and other pods), and {who} {}: a pod that does not fit stays Pending (`Insufficient cpu`) and its step times out. Give the VM more CPUs, or run fewer steps at once (--sequential, without --all)",
            show_cpu(free),
            show_cpu(room.allocatable_millis),
            show_cpu(room.requested_millis),
            show_cpu(need)
        )
    })
}

/// What step `number` asks of the node on a cluster of `minor`: its Jobs' names, the CPU
/// its admitted pods request at once (millis; a run expected to be refused or not
/// admitted gets no pod), and whether one of them holds its pod until the deadline.
pub fn step_needs(
    template: &k8s_openapi::api::batch::v1::Job,
    number: StepNumber,
    step: &crate::lab::Step,
    minor: Option<MinorVersion>,
) -> Result<(Vec<String>, u64, bool), crate::render::step::StepJobError> {
    use crate::verdict::Outcome;
    let runs = crate::render::step::step_runs(template, number, step, minor)?;
    let cpu = runs
        .iter()
        .filter(|r| !matches!(r.expect, Outcome::Refused | Outcome::NotAdmitted))
        .filter_map(|r| r.job.spec.as_ref()?.template.spec.as_ref())
        .map(|spec| crate::requests::effective(spec).cpu_millis)
        .sum();
    let holds = runs
        .iter()
        .any(|r| matches!(r.expect, Outcome::InitRunning | Outcome::SidecarHoldsPod));
    let jobs = runs.iter().map(|r| r.name.as_str().to_owned()).collect();
    Ok((jobs, cpu, holds))
}

/// The nodes' allocatable CPU in millis, summed, from `kubectl get nodes -o json`.
pub fn allocatable_cpu_millis(nodes: &str) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_str(nodes).ok()?;
    let mut total = 0;
    for node in json.get("items")?.as_array()? {
        let cpu = node.pointer("/status/allocatable/cpu")?.as_str()?;
        total += crate::requests::parse_quantity(cpu, 1000)?;
    }
    Some(total)
}

/// What the scheduled pods of `kubectl get pods -A -o json` request of CPU (millis,
/// each pod's effective request), leaving out those whose labels `skip` picks: the lab's
/// own, which its steps replace or free.
pub fn requested_cpu_millis(
    pods: &str,
    skip: impl Fn(&std::collections::BTreeMap<String, String>) -> bool,
) -> Option<u64> {
    // kubectl prints `kind: List`, not `PodList`: read the items one by one.
    let json: serde_json::Value = serde_json::from_str(pods).ok()?;
    let pods: Vec<k8s_openapi::api::core::v1::Pod> = json
        .get("items")?
        .as_array()?
        .iter()
        .filter_map(|item| serde_json::from_value(item.clone()).ok())
        .collect();
    let nothing = std::collections::BTreeMap::new();
    Some(
        pods.iter()
            .filter(|pod| !skip(pod.metadata.labels.as_ref().unwrap_or(&nothing)))
            .filter_map(|pod| pod.spec.as_ref())
            .filter(|spec| spec.node_name.is_some())
            .map(|spec| crate::requests::effective(spec).cpu_millis)
            .sum(),
    )
}

/// Whether a pod is one of the lab's (its Jobs' pods carry the label).
pub fn is_lab(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels
        .get("app.kubernetes.io/part-of")
        .is_some_and(|part| part == "sidecar-lab")
}

/// `1, 2 and 3`.
pub fn numbers_text(numbers: &[StepNumber]) -> String {
    let names: Vec<String> = numbers.iter().map(ToString::to_string).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// What `up` does about the namespace the lab runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceAction {
    /// It exists: nothing to do.
    Use,
    /// It is missing (or a new cluster has only the standard ones): create it.
    Create,
    /// The user may not read namespaces: go on as if it exists.
    Trust { why: String },
}

impl NamespaceAction {
    /// The action for what `kubectl get namespace` found; `Err` when it could not tell.
    pub fn for_found(found: NamespaceFound) -> Result<Self, String> {
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
pub struct Facts {
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
pub struct BundleFacts {
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
pub struct HostFacts {
    pub checks: Vec<Check>,
    pub fixes: Vec<Fix>,
    pub install: Prepared,
}

/// The cluster the lab runs on.
#[derive(Clone, Debug)]
pub enum ClusterFacts {
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
pub struct ImageFacts {
    pub image: String,
    pub on_host: bool,
    pub on_node: bool,
}

/// What happens to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterAction {
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
pub enum ImageAction {
    /// Pull on the host (while the cluster is made), then load into the node.
    PullAndLoad(String),
    /// On the host already: load into the node.
    Load(String),
    /// The bundle's lab images archive (its path in the bundle), loaded into the node.
    FromBundle(String),
}

/// One phase of `up`, in the order they run.
#[derive(Clone, Debug)]
pub enum Phase {
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
pub struct Plan {
    pub phases: Vec<Phase>,
    pub stop: Vec<String>,
    /// What may go wrong without stopping `up` (a node too small for the steps).
    pub warnings: Vec<String>,
}

impl Plan {
    /// The cluster action, if any.
    pub fn cluster(&self) -> Option<&ClusterAction> {
        self.phases.iter().find_map(|p| match p {
            Phase::Cluster(action) => Some(action),
            _ => None,
        })
    }

    /// True when the plan changes nothing before the steps (a ready machine and cluster).
    pub fn only_steps(&self) -> bool {
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
pub fn plan(facts: &Facts) -> Plan {
    let mut phases = Vec::new();
    let mut stop = Vec::new();
    let mut docker_being_installed = false;

    if let Some(host) = &facts.host {
        let fixes: Vec<Fix> = host
            .fixes
            .iter()
            .filter(|f| f.check == "inotify")
            .cloned()
            .collect();
        for check in host.checks.iter().filter(|c| c.status == Status::Fail) {
            let fixed = !fixes.is_empty() && FIXED_BY_UP.contains(&check.id);
            if !fixed {
                stop.push(match &check.fix {
                    Some(fix) => format!("{}: {} (fix: {fix})", check.id, check.message),
                    None => format!("{}: {}", check.id, check.message),
                });
            }
        }
        if !fixes.is_empty() {
            phases.push(Phase::HostFixes(fixes));
        }
        let install = &host.install.plan;
        if install.has_cannot() {
            stop.push("some tools cannot be installed here (see the install plan)".to_owned());
        }
        if !install.is_noop() {
            docker_being_installed = install
                .actions
                .iter()
                .any(|a| matches!(a, crate::install::plan::Action::Docker(_)));
            phases.push(Phase::Install(Box::new(host.install.clone())));
        }
    }

    let (cluster, fresh) = match &facts.cluster {
        ClusterFacts::Existing { context, server } => match server {
            Ok(minor) if *minor < MinorVersion::new(1, 28) => {
                stop.push(format!(
                    "context `{context}` runs Kubernetes {minor}, which has no native sidecars (they came in 1.28): use a 1.28 or newer cluster"
                ));
                (None, false)
            }
            Ok(minor) => (
                Some(ClusterAction::Existing {
                    context: context.clone(),
                    minor: *minor,
                }),
                false,
            ),
            Err(why) => {
                stop.push(format!("context `{context}` does not answer: {why}"));
                (None, false)
            }
        },
        ClusterFacts::Kind {
            name,
            listed,
            context,
            server,
            config_path,
            config,
            previous_config,
        } => {
            phases.push(Phase::WriteConfig {
                path: config_path.clone(),
                text: config.clone(),
            });
            let listed = match listed {
                Some(Ok(listed)) => *listed,
                // Docker is being installed or its group is not in effect yet: kind could
                // not ask, and there is no cluster to find.
                Some(Err(_)) if docker_being_installed => false,
                Some(Err(why)) => {
                    stop.push(format!("cannot list the kind clusters: {why}"));
                    false
                }
                None => false,
            };
            let action = if listed {
                let mut drift = Vec::new();
                if let Some(minor) = server.filter(|m| *m != facts.kubernetes) {
                    drift.push(format!(
                        "kind cluster `{name}` runs Kubernetes {minor}; the lab wants {}",
                        facts.kubernetes
                    ));
                }
                let config_diff = previous_config
                    .as_ref()
                    .filter(|old| *old != config)
                    .map(|old| (old.clone(), config.clone()));
                if config_diff.is_some() {
                    drift.push(format!(
                        "kind cluster `{name}` was made from another config"
                    ));
                }
                if drift.is_empty() {
                    ClusterAction::Reuse { name: name.clone() }
                } else {
                    ClusterAction::Recreate {
                        name: name.clone(),
                        drift,
                        config_diff,
                    }
                }
            } else {
                ClusterAction::Create { name: name.clone() }
            };
            let fresh = !matches!(action, ClusterAction::Reuse { .. });
            let restore = !fresh && !context;
            if let Some(bundle) = facts.bundle.as_ref().filter(|b| fresh && !b.node_loaded) {
                phases.push(Phase::LoadNodeImage {
                    tag: bundle.node_image.clone(),
                    archive: bundle.node_archive.clone(),
                });
            }
            phases.push(Phase::Cluster(action));
            if restore {
                phases.push(Phase::RestoreContext { name: name.clone() });
            }
            phases.push(Phase::WaitForNode);
            (None, fresh)
        }
    };
    if let Some(action) = cluster {
        phases.push(Phase::Cluster(action));
    }

    // The namespace: a new cluster has only the standard ones.
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
                stop.push(format!(
                    "cannot tell whether namespace `{}` exists: {why}",
                    facts.namespace
                ));
                None
            }
            None => None,
        }
    };
    if let Some(action) = namespace {
        phases.push(Phase::Namespace(action));
    }

    if let (ClusterFacts::Kind { .. }, Some(bundle)) = (&facts.cluster, &facts.bundle) {
        let missing = facts.images.iter().any(|i| fresh || !i.on_node);
        let images = if missing {
            vec![ImageAction::FromBundle(bundle.lab_archive.clone())]
        } else {
            Vec::new()
        };
        phases.push(Phase::Images(images));
    } else if matches!(facts.cluster, ClusterFacts::Kind { .. }) {
        let images = facts
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
            .collect();
        phases.push(Phase::Images(images));
    }
    phases.push(Phase::GateCheck);
    let concurrent = !facts.interactive && !facts.sequential;
    let steps = steps_plan(&facts.steps, facts.all_steps, concurrent, facts.node_room);
    let warnings = facts
        .node_room
        .and_then(|room| room_warning(&facts.steps, &steps, room))
        .into_iter()
        .collect();
    phases.push(Phase::Steps {
        replacing: facts.lab_jobs.clone(),
        steps,
    });
    Plan {
        phases,
        stop,
        warnings,
    }
}

/// Whether the node already has `image` (the kubelet reports containerd's full names).
pub fn on_node(image: &str, node_images: &[String]) -> bool {
    let full = full_image_name(image);
    node_images.iter().any(|n| *n == full || n == image)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::Tool;
    use crate::install::plan::{Action, Plan as InstallPlan};
    use crate::platform::Platform;

    const LAB: &str = "postgres:17.5-alpine";

    fn prepared(actions: Vec<Action>) -> Prepared {
        Prepared {
            plan: InstallPlan {
                actions,
                notes: Vec::new(),
            },
            platform: "linux-amd64".parse::<Platform>().expect("platform"),
            distro: None,
            bin_dir: "/home/u/.local/bin".into(),
            state_dir: "/home/u/.local/state/sidecar-lab".into(),
        }
    }

    fn fine() -> Vec<Action> {
        vec![Action::Fine {
            tool: Tool::Kind,
            detail: "v0.33.0".into(),
        }]
    }

    fn host(checks: Vec<Check>, fixes: Vec<Fix>, install: Vec<Action>) -> HostFacts {
        HostFacts {
            checks,
            fixes,
            install: prepared(install),
        }
    }

    fn kind(listed: Option<Result<bool, String>>, server: Option<MinorVersion>) -> ClusterFacts {
        ClusterFacts::Kind {
            name: "sidecar-lab".into(),
            listed,
            context: true,
            server,
            config_path: "/s/kind-sidecar-lab.yaml".into(),
            config: "config".into(),
            previous_config: Some("config".into()),
        }
    }

    fn facts(cluster: ClusterFacts) -> Facts {
        Facts {
            kubernetes: MinorVersion::new(1, 37),
            host: Some(host(Vec::new(), Vec::new(), fine())),
            cluster,
            namespace: "default".into(),
            namespace_found: Some(NamespaceFound::Exists),
            images: vec![ImageFacts {
                image: LAB.into(),
                on_host: true,
                on_node: true,
            }],
            lab_jobs: Vec::new(),
            interactive: false,
            sequential: false,
            bundle: None,
            steps: lab_steps(),
            all_steps: false,
            node_room: None,
        }
    }

    /// The lab's seven steps as the plan sees them: 1 and 2 hold, 4 holds its init
    /// variant's 600m, 5 holds from 1.34.
    fn lab_steps() -> Vec<StepFacts> {
        let step = |n, optional, cpu_millis, holds| StepFacts {
            number: StepNumber(n),
            optional,
            skipped: false,
            cpu_millis,
            jobs: vec![format!("job-{n}")],
            holds,
        };
        vec![
            step(1, false, 100, true),
            step(2, false, 150, true),
            step(3, false, 150, false),
            step(4, true, 600, true),
            step(5, true, 150, true),
            step(6, true, 150, false),
            step(7, true, 160, false),
        ]
    }

    fn numbers(list: &[u32]) -> Vec<StepNumber> {
        list.iter().map(|n| StepNumber(*n)).collect()
    }

    /// A 2-CPU kind node: kube-system's 950m leave 1050m for the lab.
    const TWO_CPUS: NodeRoom = NodeRoom {
        allocatable_millis: 2000,
        requested_millis: 950,
        estimated: false,
    };

    #[test]
    fn the_plan_names_exactly_the_steps_it_runs() {
        let steps = lab_steps();
        let plan = steps_plan(&steps, false, true, Some(TWO_CPUS));
        assert_eq!(plan.numbers(), numbers(&[1, 2, 3]));
        assert!(plan.in_turn.is_empty());
        let plan = steps_plan(&steps, true, true, Some(TWO_CPUS));
        assert_eq!(plan.together, numbers(&[1, 2, 3]));
        // Held: 1 and 2 (250m), then 4 (600m), then 5 (150m): 1000m of 1050m. Step 6's
        // 150m does not fit beside them, so they are freed before it, and only then.
        let freed: Vec<(u32, Vec<StepNumber>)> = plan
            .in_turn
            .iter()
            .map(|t| (t.number.0, t.free.clone()))
            .collect();
        assert_eq!(
            freed,
            [
                (4, Vec::new()),
                (5, Vec::new()),
                (6, numbers(&[1, 2, 4, 5])),
                (7, Vec::new()),
            ]
        );
        // One by one on a terminal: on a node with room, every Job stays to look at.
        let plan = steps_plan(&steps, false, false, Some(TWO_CPUS));
        assert!(plan.together.is_empty());
        assert_eq!(plan.numbers(), numbers(&[1, 2, 3]));
        assert!(plan.in_turn.iter().all(|t| t.free.is_empty()));
        // A node that could not be read: nothing is deleted on a guess.
        let plan = steps_plan(&steps, true, true, None);
        assert!(plan.in_turn.iter().all(|t| t.free.is_empty()));
    }

    #[test]
    fn a_node_too_small_for_the_steps_is_warned_with_the_numbers() {
        let steps = lab_steps();
        let all = steps_plan(&steps, true, true, None);
        // A 2-CPU kind node: 950m for kube-system leaves 1050m; the largest need is
        // step 4's 600m (1, 2 and 3 together: 400m). It fits.
        let two = NodeRoom {
            allocatable_millis: 2000,
            requested_millis: 950,
            estimated: false,
        };
        assert_eq!(room_warning(&steps, &all, two), None);
        let one = NodeRoom {
            allocatable_millis: 1000,
            requested_millis: 950,
            estimated: true,
        };
        let warning = room_warning(&steps, &all, one).expect("1 CPU is too small");
        assert!(
            warning.contains("about 50m CPU left")
                && warning.contains("step 4 requests 600m")
                && warning.contains("950m requested"),
            "{warning}"
        );
        let three = steps_plan(&steps, false, true, None);
        let tight = NodeRoom {
            allocatable_millis: 1300,
            requested_millis: 950,
            estimated: false,
        };
        let warning = room_warning(&steps, &three, tight).expect("400m > 350m");
        assert!(
            warning.contains("steps 1, 2 and 3 together request 400m"),
            "{warning}"
        );
    }

    fn kinds(plan: &Plan) -> Vec<&'static str> {
        plan.phases
            .iter()
            .map(|p| match p {
                Phase::HostFixes(_) => "fixes",
                Phase::LoadNodeImage { .. } => "load-node-image",
                Phase::Install(_) => "install",
                Phase::WriteConfig { .. } => "config",
                Phase::Cluster(ClusterAction::Create { .. }) => "create",
                Phase::Cluster(ClusterAction::Reuse { .. }) => "reuse",
                Phase::Cluster(ClusterAction::Recreate { .. }) => "recreate",
                Phase::Cluster(ClusterAction::Existing { .. }) => "existing",
                Phase::RestoreContext { .. } => "restore-context",
                Phase::WaitForNode => "wait",
                Phase::Namespace(NamespaceAction::Use) => "namespace",
                Phase::Namespace(NamespaceAction::Create) => "create-namespace",
                Phase::Namespace(NamespaceAction::Trust { .. }) => "trust-namespace",
                Phase::Images(images) if images.is_empty() => "no-images",
                Phase::Images(_) => "images",
                Phase::GateCheck => "gate",
                Phase::Steps { steps, .. } if !steps.together.is_empty() => "steps-together",
                Phase::Steps { .. } => "steps-one-by-one",
            })
            .collect()
    }

    #[test]
    fn a_ready_machine_and_cluster_plan_nothing_but_the_steps() {
        let plan = plan(&facts(kind(Some(Ok(true)), Some(MinorVersion::new(1, 37)))));
        assert!(plan.stop.is_empty());
        assert_eq!(
            kinds(&plan),
            [
                "config",
                "reuse",
                "wait",
                "namespace",
                "no-images",
                "gate",
                "steps-together"
            ]
        );
        assert!(plan.only_steps());
    }

    #[test]
    fn a_fresh_machine_gets_everything_host_fixes_first() {
        let mut facts = facts(kind(None, None));
        let inotify = Check::fail("inotify-instances", "128, under 512", Some("sysctl".into()));
        let fix = Fix {
            check: "inotify",
            title: "raise the inotify limits".into(),
            steps: Vec::new(),
        };
        let docker_fix = Fix {
            check: "docker",
            title: "start dockerd".into(),
            steps: Vec::new(),
        };
        facts.host = Some(host(
            vec![inotify],
            vec![fix, docker_fix],
            vec![Action::Fine {
                tool: Tool::Kubectl,
                detail: "ok".into(),
            }],
        ));
        facts
            .host
            .as_mut()
            .expect("host")
            .install
            .plan
            .actions
            .push(Action::Docker(crate::install::docker::DockerPlan::Cannot(
                "for the test".into(),
            )));
        facts.images[0] = ImageFacts {
            image: LAB.into(),
            on_host: false,
            on_node: false,
        };
        facts.namespace = "learner-7".into();
        facts.namespace_found = None;
        let plan = plan(&facts);
        assert_eq!(
            kinds(&plan),
            [
                "fixes",
                "install",
                "config",
                "create",
                "wait",
                "create-namespace",
                "images",
                "gate",
                "steps-together"
            ]
        );
        let Phase::HostFixes(fixes) = &plan.phases[0] else {
            panic!()
        };
        assert_eq!(
            fixes.len(),
            1,
            "only the inotify fix: Docker is the install's"
        );
        assert_eq!(
            plan.stop,
            ["some tools cannot be installed here (see the install plan)"]
        );
        let Some(Phase::Images(images)) =
            plan.phases.iter().find(|p| matches!(p, Phase::Images(_)))
        else {
            panic!()
        };
        assert_eq!(images, &[ImageAction::PullAndLoad(LAB.into())]);
    }

    #[test]
    fn failures_only_a_person_can_fix_stop_up_with_their_fix() {
        let mut facts = facts(kind(None, None));
        facts.host = Some(host(
            vec![
                Check::fail("cgroup", "cgroup v1", Some("use a cgroup v2 host".into())),
                Check::fail("inotify-watches", "8192", None),
            ],
            Vec::new(),
            fine(),
        ));
        let plan = plan(&facts);
        assert_eq!(
            plan.stop.len(),
            2,
            "no inotify fix planned: both stop: {:?}",
            plan.stop
        );
        assert!(plan.stop[0].contains("use a cgroup v2 host"));
    }

    #[test]
    fn drift_recreates_and_says_why() {
        let mut facts = facts(kind(Some(Ok(true)), Some(MinorVersion::new(1, 36))));
        facts.images[0].on_node = true;
        let plan = plan(&facts);
        let Some(ClusterAction::Recreate {
            drift, config_diff, ..
        }) = plan.cluster()
        else {
            panic!("{plan:?}")
        };
        assert_eq!(
            drift,
            &["kind cluster `sidecar-lab` runs Kubernetes 1.36; the lab wants 1.37"]
        );
        assert!(config_diff.is_none());
        // A new cluster has none of the images.
        assert!(
            plan.phases
                .iter()
                .any(|p| matches!(p, Phase::Images(i) if i == &[ImageAction::Load(LAB.into())]))
        );
    }

    #[test]
    fn a_lost_context_is_restored_and_missing_images_loaded() {
        let mut facts = facts(kind(Some(Ok(true)), Some(MinorVersion::new(1, 37))));
        if let ClusterFacts::Kind { context, .. } = &mut facts.cluster {
            *context = false;
        }
        facts.images[0].on_node = false;
        let plan = plan(&facts);
        assert_eq!(
            kinds(&plan),
            [
                "config",
                "reuse",
                "restore-context",
                "wait",
                "namespace",
                "images",
                "gate",
                "steps-together"
            ]
        );
    }

    #[test]
    fn namespaces_are_created_used_or_trusted() {
        for (found, kind) in [
            (NamespaceFound::Missing, "create-namespace"),
            (NamespaceFound::Exists, "namespace"),
            (NamespaceFound::Forbidden("no".into()), "trust-namespace"),
        ] {
            let mut facts = facts(ClusterFacts::Existing {
                context: "classroom".into(),
                server: Ok(MinorVersion::new(1, 35)),
            });
            facts.host = None;
            facts.namespace = "learner-7".into();
            facts.namespace_found = Some(found);
            let plan = plan(&facts);
            assert_eq!(kinds(&plan), ["existing", kind, "gate", "steps-together"]);
        }
        let mut facts = facts(ClusterFacts::Existing {
            context: "classroom".into(),
            server: Ok(MinorVersion::new(1, 35)),
        });
        facts.namespace_found = Some(NamespaceFound::Unknown("refused".into()));
        assert!(plan(&facts).stop[0].contains("refused"));
    }

    #[test]
    fn an_existing_cluster_that_cannot_run_the_lab_stops() {
        for server in [
            Ok(MinorVersion::new(1, 27)),
            Err("connection refused".to_owned()),
        ] {
            let mut facts = facts(ClusterFacts::Existing {
                context: "old".into(),
                server,
            });
            facts.host = None;
            assert_eq!(plan(&facts).stop.len(), 1);
        }
    }

    #[test]
    fn kind_that_cannot_list_stops_unless_docker_is_being_installed() {
        let facts_failing = facts(kind(Some(Err("permission denied".into())), None));
        assert_eq!(
            plan(&facts_failing).stop,
            ["cannot list the kind clusters: permission denied"]
        );
    }

    #[test]
    fn steps_run_together_only_unattended() {
        let mut facts = facts(kind(Some(Ok(true)), Some(MinorVersion::new(1, 37))));
        facts.interactive = true;
        assert!(kinds(&plan(&facts)).contains(&"steps-one-by-one"));
        facts.interactive = false;
        facts.sequential = true;
        assert!(kinds(&plan(&facts)).contains(&"steps-one-by-one"));
    }

    #[test]
    fn what_is_found_decides_the_namespace_action() {
        assert_eq!(
            NamespaceAction::for_found(NamespaceFound::Exists),
            Ok(NamespaceAction::Use)
        );
        assert_eq!(
            NamespaceAction::for_found(NamespaceFound::Missing),
            Ok(NamespaceAction::Create)
        );
        assert!(matches!(
            NamespaceAction::for_found(NamespaceFound::Forbidden("no".into())),
            Ok(NamespaceAction::Trust { .. })
        ));
        assert!(NamespaceAction::for_found(NamespaceFound::Unknown("refused".into())).is_err());
    }

    #[test]
    fn a_bundle_loads_the_node_image_and_the_lab_archive_and_pulls_nothing() {
        let mut facts = facts(kind(Some(Ok(false)), None));
        facts.images[0] = ImageFacts {
            image: LAB.into(),
            on_host: false,
            on_node: false,
        };
        facts.bundle = Some(BundleFacts {
            node_image: "kindest/node:v1.37.0".into(),
            node_loaded: false,
            node_archive: "images/linux-amd64/kind-node-1.37.tar".into(),
            lab_archive: "images/linux-amd64/lab-images.tar".into(),
        });
        let planned = plan(&facts);
        assert_eq!(
            kinds(&planned),
            [
                "config",
                "load-node-image",
                "create",
                "wait",
                "namespace",
                "images",
                "gate",
                "steps-together"
            ]
        );
        assert!(planned.phases.iter().any(|p| matches!(p, Phase::Images(i)
            if i == &[ImageAction::FromBundle("images/linux-amd64/lab-images.tar".into())])));
        // Loaded already: not again.
        facts.bundle.as_mut().expect("bundle").node_loaded = true;
        assert!(!kinds(&plan(&facts)).contains(&"load-node-image"));
    }

    #[test]
    fn images_on_the_node_are_matched_by_containerds_name() {
        let node = vec!["docker.io/library/postgres:17.5-alpine".to_owned()];
        assert!(on_node("postgres:17.5-alpine", &node));
        assert!(!on_node("postgres:17.4-alpine", &node));
    }
}

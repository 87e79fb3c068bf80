//! Which of the lab's steps `up` runs and how (together, or in turn freeing the room of
//! steps that hold their pods), and what each asks of the node's CPU.

use crate::lab::StepNumber;
use crate::requests::show_cpu;
use crate::version::MinorVersion;

/// A step `up` may run, as the plan needs it (from the lab, for the cluster's minor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StepFacts {
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
pub(crate) struct NodeRoom {
    pub allocatable_millis: u64,
    /// Requested by the pods that are not the lab's (kube-system's, anyone else's).
    pub requested_millis: u64,
    /// Estimated for a cluster `up` will create (the host's CPUs, kind's own pods).
    pub estimated: bool,
}

impl NodeRoom {
    /// What is left for the lab's pods.
    pub(crate) const fn free_millis(self) -> u64 {
        self.allocatable_millis
            .saturating_sub(self.requested_millis)
    }
}

/// A step run after the others, and the steps whose holding Jobs are deleted before it
/// (their results stay in the state and the report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InTurn {
    pub number: StepNumber,
    pub free: Vec<StepNumber>,
}

/// Which steps run, and how: some together (the three variants, unattended), then the
/// rest one after another, each after freeing the room that earlier holding steps keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StepsPlan {
    pub together: Vec<StepNumber>,
    pub in_turn: Vec<InTurn>,
}

impl StepsPlan {
    /// Every step the plan runs, in order.
    #[cfg(test)]
    pub(crate) fn numbers(&self) -> Vec<StepNumber> {
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
pub(crate) fn steps_plan(
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
pub(crate) fn room_warning(
    steps: &[StepFacts],
    plan: &StepsPlan,
    room: NodeRoom,
) -> Option<String> {
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
pub(crate) fn step_needs(
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
pub(crate) fn allocatable_cpu_millis(nodes: &str) -> Option<u64> {
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
pub(crate) fn requested_cpu_millis(
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
pub(crate) fn is_lab(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels
        .get("app.kubernetes.io/part-of")
        .is_some_and(|part| part == "sidecar-lab")
}

/// `1, 2 and 3`.
pub(crate) fn numbers_text(numbers: &[StepNumber]) -> String {
    let names: Vec<String> = numbers.iter().map(ToString::to_string).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

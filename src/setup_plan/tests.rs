//! The plan's cases: a fresh machine, a ready one, drift, bundles, the steps' room.

use super::*;
use crate::install::Tool;
use crate::install::plan::{Action, Plan as InstallPlan};
use crate::lab::StepNumber;
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
    let Some(Phase::Images(images)) = plan.phases.iter().find(|p| matches!(p, Phase::Images(_)))
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

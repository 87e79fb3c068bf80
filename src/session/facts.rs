//! What `up` reads before it plans: the host checks, what is installed, the kind
//! clusters, the kubeconfig context, the node and its images, the namespace, the lab's
//! images on the host, and earlier lab Jobs. Read-only commands only: `up --dry-run`
//! runs exactly this, then prints the plan.

use std::path::Path;
use std::time::Duration;

use crate::bundle::load;
use crate::bundle::manifest::layout;
use crate::bundle::source::Bundle;
use crate::doctor::{checks, fix, gather};
use crate::env::Environment;
use crate::install::detect::{self, DockerStatus};
use crate::install::prepare;
use crate::kube::{self, Target};
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::runner::{CommandLine, RunError, Runner};
use crate::session::namespace;
use crate::setup_plan::{self, BundleFacts, ClusterFacts, Facts, HostFacts, ImageFacts};
use crate::version::MinorVersion;

const SHORT: Duration = Duration::from_secs(60);

/// What the facts are gathered for.
pub(crate) struct Ask<'a> {
    pub release: &'a KubernetesRelease,
    /// The version matrix, for the install plan's pins and the bundle's.
    pub matrix: &'a VersionMatrix,
    pub target: &'a Target,
    /// The kind cluster's name; `None` on an existing cluster (`--context`).
    pub kind_name: Option<&'a str>,
    /// The kind config the lab would write, and where.
    pub config: Option<(&'a Path, &'a str)>,
    pub images: &'a [String],
    pub mirror: Option<String>,
    pub interactive: bool,
    pub sequential: bool,
    pub state_dir: &'a Path,
    /// `--bundle`, opened, and this machine's platform.
    pub bundle: Option<(&'a Bundle, &'a str)>,
}

/// Reads everything `up` plans from.
pub(crate) fn gather(
    ask: &Ask<'_>,
    environment: &Environment,
    runner: &dyn Runner,
) -> anyhow::Result<Facts> {
    let Some(name) = ask.kind_name else {
        return Ok(existing(ask, runner));
    };
    let bin_dir = environment.default_bin_dir().unwrap_or_default();
    docker_answers(environment, runner)?;
    docker_group(environment, runner);
    let host_facts = gather::gather(environment, runner, &bin_dir);
    let host = host(ask, name, &host_facts, environment, runner)?;
    let (config_path, config) = ask.config.unwrap_or((Path::new(""), ""));
    let cluster = kind_cluster(ask, name, host_facts.kind.is_some(), runner);
    let ready = cluster.context && cluster.server == Some(ask.release.minor);
    let namespace_found = ready.then(|| namespace::find(runner, ask.target));
    let nodes = if ready {
        read_nodes(runner, ask.target)
    } else {
        None
    };
    let node_images = nodes
        .as_deref()
        .and_then(kube::node_images)
        .unwrap_or_default();
    let node_room = kind_node_room(nodes.as_deref(), host_facts.cpus, ask.target, runner);
    let docker_runs = host_facts.docker.as_ref().is_some_and(|d| {
        matches!(
            d,
            DockerStatus::Running { .. } | DockerStatus::PermissionDenied { .. }
        )
    });
    let images = image_facts(ask, docker_runs, &node_images, runner);
    let docker_answers = matches!(host_facts.docker, Some(DockerStatus::Running { .. }));
    let bundle = bundle_facts(ask, docker_answers, runner)?;
    Ok(Facts {
        bundle,
        kubernetes: ask.release.minor,
        host: Some(host),
        cluster: ClusterFacts::Kind {
            name: name.to_owned(),
            listed: cluster.listed,
            context: cluster.context,
            server: cluster.server,
            config_path: config_path.to_path_buf(),
            config: config.to_owned(),
            previous_config: crate::files::read_to_string(config_path).ok(),
        },
        namespace: ask.target.namespace.clone(),
        namespace_found,
        images,
        lab_jobs: if ready {
            lab_jobs(runner, ask.target)
        } else {
            Vec::new()
        },
        interactive: ask.interactive,
        sequential: ask.sequential,
        steps: Vec::new(),
        all_steps: false,
        node_room,
    })
}

/// The user may be in the docker group without it being in effect in this login yet
/// (just added, no new login): then docker and kind run through `sg docker` from here
/// on, reads included. If that does not help, the install plan adds the user.
fn docker_group(environment: &Environment, runner: &dyn Runner) {
    if docker_needs_group(runner, environment.path.as_deref())
        && runner.docker_group(true)
        && docker_needs_group(runner, environment.path.as_deref())
    {
        runner.docker_group(false);
    }
}

/// The host checks, their fixes and the install plan.
fn host(
    ask: &Ask<'_>,
    name: &str,
    host_facts: &gather::Facts,
    environment: &Environment,
    runner: &dyn Runner,
) -> anyhow::Result<HostFacts> {
    let target = checks::Target {
        kubernetes: ask.release.minor,
        cluster_name: name.to_owned(),
    };
    let report = checks::all(host_facts, &target);
    let bundled = ask.bundle.map(|(bundle, platform)| {
        load::binaries(
            bundle,
            platform,
            ask.release.kind,
            ask.release.kubectl,
            ask.matrix,
        )
    });
    let settings = prepare::Settings {
        kubernetes: Some(ask.release.minor),
        mirror: ask.mirror.clone(),
        bundled,
        ..prepare::Settings::default()
    };
    let install = prepare::prepare(&settings, ask.matrix, environment, runner)?;
    let fixes = fix::plan(
        &report,
        host_facts,
        &prepare::docker_host(environment, runner, install.platform, ask.state_dir),
    );
    Ok(HostFacts {
        checks: report,
        fixes,
        install,
    })
}

/// The lab's kind cluster as kind and kubectl see it.
struct KindCluster {
    /// Whether kind lists it (`None`: kind is not installed).
    listed: Option<Result<bool, String>>,
    /// Whether its kubeconfig context is there.
    context: bool,
    server: Option<MinorVersion>,
}

fn kind_cluster(ask: &Ask<'_>, name: &str, kind_runs: bool, runner: &dyn Runner) -> KindCluster {
    let listed = kind_runs.then(|| {
        let clusters = kube::kind::get_clusters();
        match runner.run(&clusters, SHORT) {
            Ok(out) if out.success() => {
                Ok(kube::kind::clusters(&out.stdout).iter().any(|c| c == name))
            }
            Ok(out) => Err(crate::runner::Failed::of(&clusters, &out).to_string()),
            Err(error) => Err(error.to_string()),
        }
    });
    let exists = matches!(listed, Some(Ok(true)));
    let context = exists && has_context(runner, &ask.target.context);
    let server = if !exists {
        None
    } else if context {
        server_minor(runner, &ask.target.version())
    } else {
        // The context is gone: ask the cluster through its own kubeconfig, read with
        // `kind get kubeconfig`, without touching the user's.
        kubeconfig_minor(runner, ask.target, name)
    };
    KindCluster {
        listed,
        context,
        server,
    }
}

/// A running cluster is read; one `up` will create is estimated: the kind node sees
/// every host CPU, and kind's own pods request about 950m.
fn kind_node_room(
    nodes: Option<&str>,
    cpus: Option<usize>,
    target: &Target,
    runner: &dyn Runner,
) -> Option<setup_plan::NodeRoom> {
    match nodes {
        // Read, but never below what kind's own pods come to: CoreDNS is created only once
        // the node is Ready, so a cluster just made shows less than it will hold.
        Some(nodes) => node_room(runner, target, nodes).map(|room| setup_plan::NodeRoom {
            requested_millis: room
                .requested_millis
                .max(setup_plan::KIND_SYSTEM_CPU_MILLIS),
            ..room
        }),
        None => cpus.map(|cpus| setup_plan::NodeRoom {
            allocatable_millis: u64::try_from(cpus).unwrap_or(0).saturating_mul(1000),
            requested_millis: setup_plan::KIND_SYSTEM_CPU_MILLIS,
            estimated: true,
        }),
    }
}

/// Where each lab image is: on the host (when Docker runs), on the node.
fn image_facts(
    ask: &Ask<'_>,
    docker_runs: bool,
    node_images: &[String],
    runner: &dyn Runner,
) -> Vec<ImageFacts> {
    ask.images
        .iter()
        .map(|image| ImageFacts {
            image: image.clone(),
            on_host: docker_runs
                && runner
                    .run(
                        &CommandLine::new("docker", ["image", "inspect", image.as_str()]),
                        SHORT,
                    )
                    .is_ok_and(|o| o.success()),
            on_node: setup_plan::on_node(image, node_images),
        })
        .collect()
}

/// The bundle's node image and lab archive for this platform, and whether Docker has
/// the node image already.
fn bundle_facts(
    ask: &Ask<'_>,
    docker_answers: bool,
    runner: &dyn Runner,
) -> anyhow::Result<Option<BundleFacts>> {
    let Some((bundle, platform)) = ask.bundle else {
        return Ok(None);
    };
    let entry = load::entry(bundle, ask.release.minor, platform, ask.matrix)?;
    let node_archive = layout::node_image(platform, entry.minor);
    let layers = bundle
        .manifest
        .images_in(&node_archive)
        .find(|i| i.tag == entry.node_image)
        .map(|i| i.layers.clone())
        .unwrap_or_default();
    Ok(Some(BundleFacts {
        node_image: entry.node_image.clone(),
        node_loaded: docker_answers && load::docker_has(runner, &entry.node_image, &layers),
        node_archive,
        lab_archive: layout::lab_images(platform),
    }))
}

/// An existing cluster (`--context`): its version, the namespace, earlier lab Jobs.
fn existing(ask: &Ask<'_>, runner: &dyn Runner) -> Facts {
    let version = ask.target.version();
    let server = match runner.run(&version, SHORT) {
        Ok(out) if out.success() => kube::server_minor(&out.stdout)
            .ok_or_else(|| format!("`{version}` printed no server version")),
        Ok(out) => Err(crate::runner::Failed::of(&version, &out).tail),
        Err(error) => Err(error.to_string()),
    };
    let answered = server.is_ok();
    Facts {
        bundle: None,
        kubernetes: ask.release.minor,
        host: None,
        cluster: ClusterFacts::Existing {
            context: ask.target.context.clone(),
            server,
        },
        namespace: ask.target.namespace.clone(),
        namespace_found: answered.then(|| namespace::find(runner, ask.target)),
        images: Vec::new(),
        lab_jobs: if answered {
            lab_jobs(runner, ask.target)
        } else {
            Vec::new()
        },
        interactive: ask.interactive,
        sequential: ask.sequential,
        steps: Vec::new(),
        all_steps: false,
        node_room: answered
            .then(|| read_nodes(runner, ask.target))
            .flatten()
            .and_then(|nodes| node_room(runner, ask.target, &nodes)),
    }
}

fn has_context(runner: &dyn Runner, context: &str) -> bool {
    runner
        .run(&Target::contexts(), SHORT)
        .is_ok_and(|o| o.success() && o.stdout.lines().any(|l| l.trim() == context))
}

fn server_minor(runner: &dyn Runner, command: &CommandLine) -> Option<MinorVersion> {
    runner
        .run(command, SHORT)
        .ok()
        .filter(crate::runner::Output::success)
        .and_then(|o| kube::server_minor(&o.stdout))
}

fn kubeconfig_minor(runner: &dyn Runner, target: &Target, name: &str) -> Option<MinorVersion> {
    let out = runner
        .run(&kube::kind::get_kubeconfig(name), SHORT)
        .ok()
        .filter(crate::runner::Output::success)?;
    // A private temporary file, removed when dropped: it holds the cluster's credentials.
    let mut file = tempfile::NamedTempFile::new().ok()?;
    std::io::Write::write_all(&mut file, out.stdout.as_bytes()).ok()?;
    server_minor(runner, &target.version_with(file.path()))
}

/// `kubectl get nodes -o json`, when it answers.
fn read_nodes(runner: &dyn Runner, target: &Target) -> Option<String> {
    runner
        .run(&target.nodes(), SHORT)
        .ok()
        .filter(crate::runner::Output::success)
        .map(|o| o.stdout)
}

/// The nodes' allocatable CPU and what the pods that are not the lab's request of it
/// (kube-system's above all); `None` when either cannot be read (no right to list pods
/// in every namespace, say).
fn node_room(runner: &dyn Runner, target: &Target, nodes: &str) -> Option<setup_plan::NodeRoom> {
    let allocatable_millis = setup_plan::allocatable_cpu_millis(nodes)?;
    let pods = runner
        .run(&target.running_pods(), SHORT)
        .ok()
        .filter(crate::runner::Output::success)?;
    Some(setup_plan::NodeRoom {
        allocatable_millis,
        requested_millis: setup_plan::requested_cpu_millis(&pods.stdout, setup_plan::is_lab)?,
        estimated: false,
    })
}

fn lab_jobs(runner: &dyn Runner, target: &Target) -> Vec<String> {
    runner
        .run(&target.lab_jobs(), SHORT)
        .ok()
        .filter(crate::runner::Output::success)
        .map(|o| {
            o.stdout
                .lines()
                .map(|l| l.trim().trim_start_matches("job.batch/").to_owned())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// How long the first `docker version` may take: a daemon that has not answered by then
/// is hung, and every later docker or kind call would hang too.
const HUNG_AFTER: Duration = Duration::from_secs(8);

/// Asks the daemon once, briefly; a daemon that does not answer stops `up` at once with
/// its fix, instead of a timeout for each of the many docker and kind calls to come.
fn docker_answers(environment: &Environment, runner: &dyn Runner) -> anyhow::Result<()> {
    let version = CommandLine::new("docker", ["version", "--format", "{{json .}}"]);
    match runner.run(&version, HUNG_AFTER) {
        Err(RunError::TimedOut { .. }) => {
            let is_root = environment.user.as_deref() == Some("root")
                || runner
                    .run(&CommandLine::new("id", ["-u"]), detect::PROBE_TIMEOUT)
                    .is_ok_and(|o| o.stdout.trim() == "0");
            let systemd = Path::new("/run/systemd/system").is_dir();
            Err(anyhow::anyhow!(
                "the Docker daemon does not answer: `{version}` did not finish within {} s. {}",
                HUNG_AFTER.as_secs(),
                crate::install::docker::hung_daemon_fix(systemd, is_root)
            ))
        }
        _ => Ok(()),
    }
}

/// Whether docker answers now (after an install, the group may still be pending).
pub(crate) fn docker_needs_group(runner: &dyn Runner, path: Option<&str>) -> bool {
    matches!(
        detect::probe_docker(runner, path, detect::PROBE_TIMEOUT),
        DockerStatus::PermissionDenied { .. }
    )
}

//! `up`'s plan as people read it: one block per phase, with the commands it will run,
//! so `up --dry-run` is a script one could follow by hand.

use std::path::Path;

use crate::kube::{self, Target};
use crate::lab::StepNumber;
use crate::runner::CommandLine;
use crate::setup_plan::{ClusterAction, ImageAction, NamespaceAction, Phase, Plan};
use crate::ui::install;
use crate::ui::install::describe_step;

/// What the plan needs to name its commands.
pub struct Names<'a> {
    pub target: &'a Target,
    /// The bundle, as named on the command line.
    pub bundle: Option<&'a str>,
    pub state_dir: &'a Path,
    pub steps: &'a [StepFiles],
}

/// A step as the plan names it: its Jobs and the manifest each is written to.
#[derive(Clone, Debug)]
pub struct StepFiles {
    pub number: StepNumber,
    pub title: String,
    /// (Job, manifest path).
    pub jobs: Vec<(String, String)>,
    /// Why the cluster's version skips it.
    pub skip: Option<String>,
    /// The ResourceQuota it applies before its Jobs (its manifest path).
    pub quota: Option<String>,
}

/// The plan, phase by phase.
pub fn describe(plan: &Plan, names: &Names<'_>) -> String {
    // Plain text: image names, paths and step titles come from bundles and lab files.
    crate::ui::clean::clean(&describe_raw(plan, names)).into_owned()
}

fn describe_raw(plan: &Plan, names: &Names<'_>) -> String {
    let mut out = String::from("Plan\n");
    let target = names.target;
    let mut n = 0;
    let mut heading = |out: &mut String, text: &str| {
        n += 1;
        out.push_str(&format!("{n:>3}. {text}\n"));
    };
    let command = |out: &mut String, command: &CommandLine| {
        out.push_str(&format!("       $ {command}\n"));
    };
    for phase in &plan.phases {
        match phase {
            Phase::HostFixes(fixes) => {
                for fix in fixes {
                    heading(&mut out, &format!("host: {}", fix.title));
                    for step in &fix.steps {
                        out.push_str(&format!("       {}\n", describe_step(step)));
                    }
                }
            }
            Phase::Install(prepared) => {
                heading(&mut out, "install");
                let text =
                    install::describe(&prepared.plan, prepared.platform, prepared.distro.as_ref());
                for line in text.lines().skip(1) {
                    out.push_str(&format!("     {line}\n"));
                }
            }
            Phase::LoadNodeImage { tag, archive } => {
                heading(
                    &mut out,
                    &format!(
                        "load the node image {tag} from the bundle, its layers checked against the manifest"
                    ),
                );
                command(
                    &mut out,
                    &CommandLine::new(
                        "docker",
                        [
                            "load",
                            "-i",
                            &format!("{}/{archive}", names.bundle.unwrap_or("BUNDLE")),
                        ],
                    ),
                );
            }
            Phase::WriteConfig { path, .. } => {
                heading(
                    &mut out,
                    &format!("write the kind config {}", path.display()),
                );
            }
            Phase::Cluster(ClusterAction::Reuse { name }) => {
                heading(
                    &mut out,
                    &format!("reuse kind cluster `{name}`: it runs and matches"),
                );
            }
            Phase::Cluster(ClusterAction::Create { name }) => {
                heading(&mut out, &format!("create kind cluster `{name}`"));
                command(
                    &mut out,
                    &kube::kind::create_cluster(name, &config_path(names, name)),
                );
            }
            Phase::Cluster(ClusterAction::Recreate {
                name,
                drift,
                config_diff,
            }) => {
                heading(&mut out, &format!("recreate kind cluster `{name}`:"));
                for why in drift {
                    out.push_str(&format!("       {why}\n"));
                }
                if let Some((old, new)) = config_diff {
                    for line in
                        crate::render::diff::unified("cluster's config", old, "lab's config", new)
                            .lines()
                    {
                        out.push_str(&format!("       {line}\n"));
                    }
                }
                command(&mut out, &kube::kind::delete_cluster(name));
                command(
                    &mut out,
                    &kube::kind::create_cluster(name, &config_path(names, name)),
                );
            }
            Phase::Cluster(ClusterAction::Existing { context, minor }) => {
                heading(
                    &mut out,
                    &format!("use context `{context}` (Kubernetes {minor})"),
                );
            }
            Phase::RestoreContext { name } => {
                heading(
                    &mut out,
                    &format!("restore the kubeconfig context `kind-{name}`"),
                );
                command(&mut out, &kube::kind::export_kubeconfig(name));
            }
            Phase::WaitForNode => {
                heading(&mut out, "wait until the node is Ready");
                command(&mut out, &target.wait_nodes_ready(180));
            }
            Phase::Namespace(NamespaceAction::Use) => {
                heading(
                    &mut out,
                    &format!("namespace `{}`: exists", target.namespace),
                );
            }
            Phase::Namespace(NamespaceAction::Create) => {
                heading(
                    &mut out,
                    &format!("create namespace `{}`", target.namespace),
                );
                command(&mut out, &target.create_namespace());
            }
            Phase::Namespace(NamespaceAction::Trust { .. }) => {
                heading(
                    &mut out,
                    &format!(
                        "namespace `{}`: may not be read here; used as it is",
                        target.namespace
                    ),
                );
            }
            Phase::Images(images) if images.is_empty() => {
                heading(&mut out, "lab images: already on the node");
            }
            Phase::Images(images) => {
                heading(
                    &mut out,
                    "load the lab images into the node (pulled while the cluster starts)",
                );
                for image in images {
                    if let ImageAction::FromBundle(archive) = image {
                        let cluster = target.context.trim_start_matches("kind-");
                        let path = format!("{}/{archive}", names.bundle.unwrap_or("BUNDLE"));
                        command(
                            &mut out,
                            &kube::kind::load_image_archive(cluster, Path::new(&path)),
                        );
                        continue;
                    }
                    let (ImageAction::PullAndLoad(name)
                    | ImageAction::Load(name)
                    | ImageAction::FromBundle(name)) = image;
                    if matches!(image, ImageAction::PullAndLoad(_)) {
                        command(
                            &mut out,
                            &CommandLine::new("docker", ["pull", name.as_str()]),
                        );
                    }
                    let archive = names
                        .state_dir
                        .join(format!("{}.tar", name.replace(['/', ':'], "_")));
                    command(
                        &mut out,
                        &CommandLine::new(
                            "docker",
                            ["save", "-o", &archive.display().to_string(), name],
                        ),
                    );
                    let cluster = target.context.trim_start_matches("kind-");
                    command(&mut out, &kube::kind::load_image_archive(cluster, &archive));
                }
            }
            Phase::GateCheck => {
                heading(
                    &mut out,
                    "check that native sidecars work here (a server-side dry run)",
                );
                command(
                    &mut out,
                    &target.dry_run_create(&names.state_dir.join("gate-check-native.yaml")),
                );
            }
            Phase::Steps {
                replacing, steps, ..
            } => {
                let files = |n: &StepNumber| names.steps.iter().find(|s| s.number == *n);
                let run = |out: &mut String, n: &StepNumber| {
                    let Some(step) = files(n) else { return };
                    if let Some(why) = &step.skip {
                        out.push_str(&format!("       (step {n} is skipped: {why})\n"));
                        return;
                    }
                    for (job, _) in &step.jobs {
                        command(out, &target.delete_job(job));
                    }
                    if let Some(quota) = &step.quota {
                        command(out, &target.apply(Path::new(quota)));
                    }
                    for (_, manifest) in &step.jobs {
                        command(out, &target.apply(Path::new(manifest)));
                    }
                };
                if !steps.together.is_empty() {
                    heading(
                        &mut out,
                        &format!(
                            "run steps {} together",
                            crate::setup_plan::numbers_text(&steps.together)
                        ),
                    );
                    if !replacing.is_empty() {
                        replaced(&mut out, replacing);
                    }
                    for n in &steps.together {
                        run(&mut out, n);
                    }
                }
                for (index, turn) in steps.in_turn.iter().enumerate() {
                    let title = files(&turn.number).map_or("", |s| s.title.as_str());
                    if let Some(why) = files(&turn.number).and_then(|s| s.skip.as_deref()) {
                        heading(
                            &mut out,
                            &format!("skip step {}: {title} ({why})", turn.number),
                        );
                        continue;
                    }
                    heading(&mut out, &format!("run step {}: {title}", turn.number));
                    if index == 0 && steps.together.is_empty() && !replacing.is_empty() {
                        replaced(&mut out, replacing);
                    }
                    if !turn.free.is_empty() {
                        let (steps, hold, their) = if turn.free.len() == 1 {
                            ("step", "holds", "its")
                        } else {
                            ("steps", "hold", "their")
                        };
                        out.push_str(&format!(
                            "       (first free the CPU that {steps} {} {hold} until the Job's deadline: delete {their} Jobs; the results stay in the state)\n",
                            crate::setup_plan::numbers_text(&turn.free)
                        ));
                        for freed in turn.free.iter().filter_map(files) {
                            for (job, _) in &freed.jobs {
                                command(&mut out, &target.delete_job(job));
                            }
                        }
                    }
                    run(&mut out, &turn.number);
                }
            }
        }
    }
    for warning in &plan.warnings {
        out.push_str(&format!("  warning: {warning}\n"));
    }
    for reason in &plan.stop {
        out.push_str(&format!("  cannot go on: {reason}\n"));
    }
    out
}

/// The note on the Jobs an earlier run left, which the steps replace.
fn replaced(out: &mut String, jobs: &[String]) {
    out.push_str(&format!(
        "       (replacing the Jobs left from an earlier run: {})\n",
        jobs.join(", ")
    ));
}

fn config_path(names: &Names<'_>, name: &str) -> std::path::PathBuf {
    names.state_dir.join(format!("kind-{name}.yaml"))
}

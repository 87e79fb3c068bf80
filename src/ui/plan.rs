//! `up`'s plan as people read it: one block per phase, with the commands it will run,
//! so `up --dry-run` is a script one could follow by hand.

use std::path::Path;

use crate::kube::{self, Target};
use crate::lab::StepNumber;
use crate::runner::CommandLine;
use crate::setup_plan::{ClusterAction, ImageAction, NamespaceAction, Phase, Plan, StepsPlan};
use crate::ui::install;
use crate::ui::install::describe_step;

/// What the plan needs to name its commands.
pub(crate) struct Names<'a> {
    pub target: &'a Target,
    /// The bundle, as named on the command line.
    pub bundle: Option<&'a str>,
    pub state_dir: &'a Path,
    pub steps: &'a [StepFiles],
}

/// A step as the plan names it: its Jobs and the manifest each is written to.
#[derive(Clone, Debug)]
pub(crate) struct StepFiles {
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
pub(crate) fn describe(plan: &Plan, names: &Names<'_>) -> String {
    // Plain text: image names, paths and step titles come from bundles and lab files.
    crate::ui::text::clean(&describe_raw(plan, names)).into_owned()
}

fn describe_raw(plan: &Plan, names: &Names<'_>) -> String {
    let mut writer = Writer {
        out: String::from("Plan\n"),
        n: 0,
        names,
        target: names.target,
    };
    for phase in &plan.phases {
        writer.phase(phase);
    }
    let mut out = writer.out;
    for warning in &plan.warnings {
        out.push_str(&format!("  warning: {warning}\n"));
    }
    for reason in &plan.stop {
        out.push_str(&format!("  cannot go on: {reason}\n"));
    }
    out
}

/// The plan's text as it is written: numbered headings, each with its commands.
struct Writer<'a, 'n> {
    out: String,
    /// The last heading's number.
    n: usize,
    names: &'a Names<'n>,
    target: &'a Target,
}

impl Writer<'_, '_> {
    fn heading(&mut self, text: &str) {
        self.n += 1;
        self.out.push_str(&format!("{:>3}. {text}\n", self.n));
    }

    fn command(&mut self, command: &CommandLine) {
        self.out.push_str(&format!("       $ {command}\n"));
    }

    /// A line under the heading.
    fn line(&mut self, text: &str) {
        self.out.push_str(&format!("       {text}\n"));
    }

    fn phase(&mut self, phase: &Phase) {
        let target = self.target;
        match phase {
            Phase::HostFixes(fixes) => {
                for fix in fixes {
                    self.heading(&format!("host: {}", fix.title));
                    for step in &fix.steps {
                        self.line(&describe_step(step));
                    }
                }
            }
            Phase::Install(prepared) => {
                self.heading("install");
                let text =
                    install::describe(&prepared.plan, prepared.platform, prepared.distro.as_ref());
                for line in text.lines().skip(1) {
                    self.out.push_str(&format!("     {line}\n"));
                }
            }
            Phase::LoadNodeImage { tag, archive } => {
                self.heading(&format!(
                    "load the node image {tag} from the bundle, its layers checked against the manifest"
                ));
                self.command(&CommandLine::new(
                    "docker",
                    [
                        "load",
                        "-i",
                        &format!("{}/{archive}", self.names.bundle.unwrap_or("BUNDLE")),
                    ],
                ));
            }
            Phase::WriteConfig { path, .. } => {
                self.heading(&format!("write the kind config {}", path.display()));
            }
            Phase::Cluster(action) => self.cluster(action),
            Phase::RestoreContext { name } => {
                self.heading(&format!("restore the kubeconfig context `kind-{name}`"));
                self.command(&kube::kind::export_kubeconfig(name));
            }
            Phase::WaitForNode => {
                self.heading("wait until the node is Ready");
                self.command(&target.wait_nodes_ready(180));
            }
            Phase::Namespace(action) => self.namespace(action),
            Phase::Images(images) if images.is_empty() => {
                self.heading("lab images: already on the node");
            }
            Phase::Images(images) => self.images(images),
            Phase::GateCheck => {
                self.heading("check that native sidecars work here (a server-side dry run)");
                self.command(
                    &target.dry_run_create(&self.names.state_dir.join("gate-check-native.yaml")),
                );
            }
            Phase::Steps { replacing, steps } => self.steps(replacing, steps),
        }
    }

    fn cluster(&mut self, action: &ClusterAction) {
        match action {
            ClusterAction::Reuse { name } => {
                self.heading(&format!("reuse kind cluster `{name}`: it runs and matches"));
            }
            ClusterAction::Create { name } => {
                self.heading(&format!("create kind cluster `{name}`"));
                self.command(&kube::kind::create_cluster(
                    name,
                    &config_path(self.names, name),
                ));
            }
            ClusterAction::Recreate {
                name,
                drift,
                config_diff,
            } => {
                self.heading(&format!("recreate kind cluster `{name}`:"));
                for why in drift {
                    self.line(why);
                }
                if let Some((old, new)) = config_diff {
                    for line in
                        crate::render::diff::unified("cluster's config", old, "lab's config", new)
                            .lines()
                    {
                        self.line(line);
                    }
                }
                self.command(&kube::kind::delete_cluster(name));
                self.command(&kube::kind::create_cluster(
                    name,
                    &config_path(self.names, name),
                ));
            }
            ClusterAction::Existing { context, minor } => {
                self.heading(&format!("use context `{context}` (Kubernetes {minor})"));
            }
        }
    }

    fn namespace(&mut self, action: &NamespaceAction) {
        let namespace = &self.target.namespace;
        match action {
            NamespaceAction::Use => {
                self.heading(&format!("namespace `{namespace}`: exists"));
            }
            NamespaceAction::Create => {
                self.heading(&format!("create namespace `{namespace}`"));
                self.command(&self.target.create_namespace());
            }
            NamespaceAction::Trust { .. } => {
                self.heading(&format!(
                    "namespace `{namespace}`: may not be read here; used as it is"
                ));
            }
        }
    }

    fn images(&mut self, images: &[ImageAction]) {
        self.heading("load the lab images into the node (pulled while the cluster starts)");
        let cluster = self.target.context.trim_start_matches("kind-");
        for image in images {
            if let ImageAction::FromBundle(archive) = image {
                let path = format!("{}/{archive}", self.names.bundle.unwrap_or("BUNDLE"));
                self.command(&kube::kind::load_image_archive(cluster, Path::new(&path)));
                continue;
            }
            let (ImageAction::PullAndLoad(name)
            | ImageAction::Load(name)
            | ImageAction::FromBundle(name)) = image;
            if matches!(image, ImageAction::PullAndLoad(_)) {
                self.command(&CommandLine::new("docker", ["pull", name.as_str()]));
            }
            let archive = self
                .names
                .state_dir
                .join(format!("{}.tar", name.replace(['/', ':'], "_")));
            self.command(&CommandLine::new(
                "docker",
                ["save", "-o", &archive.display().to_string(), name],
            ));
            self.command(&kube::kind::load_image_archive(cluster, &archive));
        }
    }

    fn files(&self, n: StepNumber) -> Option<&StepFiles> {
        self.names.steps.iter().find(|s| s.number == n)
    }

    fn steps(&mut self, replacing: &[String], steps: &StepsPlan) {
        if !steps.together.is_empty() {
            self.heading(&format!(
                "run steps {} together",
                crate::setup_plan::numbers_text(&steps.together)
            ));
            if !replacing.is_empty() {
                replaced(&mut self.out, replacing);
            }
            for &n in &steps.together {
                self.run(n);
            }
        }
        for (index, turn) in steps.in_turn.iter().enumerate() {
            let step = self.files(turn.number);
            let title = step.map_or("", |s| s.title.as_str()).to_owned();
            if let Some(why) = step.and_then(|s| s.skip.clone()) {
                self.heading(&format!("skip step {}: {title} ({why})", turn.number));
                continue;
            }
            self.heading(&format!("run step {}: {title}", turn.number));
            if index == 0 && steps.together.is_empty() && !replacing.is_empty() {
                replaced(&mut self.out, replacing);
            }
            if !turn.free.is_empty() {
                self.free(&turn.free);
            }
            self.run(turn.number);
        }
    }

    /// Deleting the Jobs of the holding steps `free`, before a step that needs their CPU.
    fn free(&mut self, free: &[StepNumber]) {
        let (steps, hold, their) = if free.len() == 1 {
            ("step", "holds", "its")
        } else {
            ("steps", "hold", "their")
        };
        self.out.push_str(&format!(
            "       (first free the CPU that {steps} {} {hold} until the Job's deadline: delete {their} Jobs; the results stay in the state)\n",
            crate::setup_plan::numbers_text(free)
        ));
        let names = self.names;
        for freed in free
            .iter()
            .filter_map(|n| names.steps.iter().find(|s| s.number == *n))
        {
            for (job, _) in &freed.jobs {
                self.command(&self.target.delete_job(job));
            }
        }
    }

    /// One step's commands: its old Jobs deleted, its quota and Jobs applied.
    fn run(&mut self, n: StepNumber) {
        let names = self.names;
        let Some(step) = names.steps.iter().find(|s| s.number == n) else {
            return;
        };
        if let Some(why) = &step.skip {
            self.out
                .push_str(&format!("       (step {n} is skipped: {why})\n"));
            return;
        }
        for (job, _) in &step.jobs {
            self.command(&self.target.delete_job(job));
        }
        if let Some(quota) = &step.quota {
            self.command(&self.target.apply(Path::new(quota)));
        }
        for (_, manifest) in &step.jobs {
            self.command(&self.target.apply(Path::new(manifest)));
        }
    }
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

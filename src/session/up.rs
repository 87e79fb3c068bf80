//! `sidecar-lab up`: from a fresh VM to a judged lab, in four moves — read (every fact,
//! with read-only commands: `session::facts`), plan (pure: `setup_plan`), confirm once,
//! execute phase by phase. `--dry-run` stops after printing the plan. On an existing
//! cluster (`--context`) there is no host, install or cluster phase.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::assets;
use crate::bundle::source::Bundle;
use crate::exit::ExitStatus;
use crate::http::HttpClient;
use crate::install::{apply, execute};
use crate::kube;
use crate::lab::Lab;
use crate::matrix::{GateChoice, KubernetesRelease, VersionMatrix};
use crate::platform::Platform;
use crate::render::{self, job};
use crate::runner::{CommandLine, Failed, Output, RunError, Runner, checked};
use crate::session::facts::{self, Ask};
use crate::session::state::{self, ClusterRecord, LabState};
use crate::session::step::{self, Ending, Session, StepRun};
use crate::session::workspace::{self, Where};
use crate::session::{lock, namespace, room};
use crate::setup_plan::{self, ClusterAction, ImageAction, Phase, Plan};
use crate::state::write_atomically;
use crate::ui::phase::{Board, Phase as Progress};
use crate::ui::plan::{Names, StepFiles, describe};
use crate::ui::{Printer, prompt, text};
use crate::version::MinorVersion;
use crate::world::World;

/// `up`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct Settings {
    pub kubernetes: Option<MinorVersion>,
    pub place: Where,
    pub lab: Option<PathBuf>,
    pub yes: bool,
    pub dry_run: bool,
    /// Run the steps one after another even when unattended.
    pub sequential: bool,
    /// `--bundle DIR|URL`: everything from a classroom bundle, nothing from the internet.
    pub bundle: Option<String>,
    /// Run the optional steps too (beyond the three variants).
    pub all_steps: bool,
}

const CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const PULL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const SHORT: Duration = Duration::from_secs(60);

/// Runs `up`.
pub fn up(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let printer = *world.printer;
    let lab = workspace::lab(settings.lab.as_deref())?;
    let matrix = VersionMatrix::embedded()?;
    let release = matrix.release_or_default(settings.kubernetes)?;
    // One `up` at a time: two would both create the cluster, and kind's own race deletes
    // one run's node. Held to the end, so the state is this run's alone (a dry run
    // changes nothing and takes no lock).
    let _lock = if settings.dry_run {
        None
    } else {
        let dir = workspace::state_dir(world.environment)?;
        Some(lock::acquire(
            &dir,
            &up_command(settings),
            lock::UP_WAIT,
            &printer,
        )?)
    };
    let (dir, mut state, resolved) = workspace::open(&settings.place, world.environment, &printer)?;
    let kind_name = resolved.kind_name.clone();
    let config_path = dir.join(format!(
        "kind-{}.yaml",
        kind_name.as_deref().unwrap_or_default()
    ));
    // With a bundle, kind gets the node image's tag, which `docker load` brings: a digest
    // does not survive save and load, and kind would pull it (wave2-facts.md §1.1).
    let bundle = settings
        .bundle
        .as_deref()
        .map(|location| crate::bundle::open(location, world))
        .transpose()?;
    let platform = crate::bundle::this_platform(world)?;
    let mut config_release = release.clone();
    if let Some(bundle) = &bundle {
        let entry = crate::bundle::load::entry(bundle, release.minor, &platform)?;
        config_release.node_image = entry.node_image.clone();
    }
    let config =
        render::kind_config_file(&config_release, &settings.place.cluster, GateChoice::Auto)?;
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let images = job::images(&template);
    let interactive = !settings.yes && world.environment.stdin_is_terminal;

    // 1. Read.
    let reading = Progress::start(printer, "reading the host and the cluster");
    let ask = Ask {
        release,
        target: &resolved.kube,
        kind_name: kind_name.as_deref(),
        config: kind_name
            .is_some()
            .then_some((config_path.as_path(), config.as_str())),
        images: &images,
        mirror: world.environment.mirror.clone(),
        interactive,
        sequential: settings.sequential,
        state_dir: &dir,
        bundle: bundle.as_ref().map(|b| (b, platform.as_str())),
    };
    let mut facts = match facts::gather(&ask, world.environment, world.runner) {
        Ok(facts) => facts,
        Err(error) => {
            reading.fail("");
            return Err(error);
        }
    };
    reading.succeed("");
    // The steps as they run on the cluster's minor: an existing cluster's own, else the
    // one the lab makes.
    let minor = match &facts.cluster {
        setup_plan::ClusterFacts::Existing { server, .. } => server.as_ref().ok().copied(),
        setup_plan::ClusterFacts::Kind { .. } => Some(release.minor),
    }
    .unwrap_or(release.minor);
    let steps = step_files(&lab, &template, &dir, minor)?;
    facts.steps = step_facts(&lab, &template, minor)?;
    facts.all_steps = settings.all_steps;

    // 2. Plan, and show it.
    let plan = setup_plan::plan(&facts);
    printer.out(&describe(
        &plan,
        &Names {
            target: &resolved.kube,
            bundle: settings.bundle.as_deref(),
            state_dir: &dir,
            steps: &steps,
        },
    ));
    if !plan.stop.is_empty() {
        if let Some(host) = &facts.host {
            if host
                .checks
                .iter()
                .any(|c| c.status == crate::doctor::Status::Fail)
            {
                let target = crate::doctor::checks::Target {
                    kubernetes: release.minor,
                    cluster_name: settings.place.cluster.to_string(),
                };
                printer.out(&crate::ui::doctor::text(
                    &host.checks,
                    &target,
                    &printer.stdout_palette(),
                ));
            }
        }
        bail!(
            "up cannot go on: {}; fix that, then run `sidecar-lab up` again",
            plan.stop.join("; ")
        );
    }
    if settings.dry_run {
        return Ok(ExitStatus::Success);
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    // 3. Confirm once.
    if !prompt::confirm(
        "Go ahead?",
        settings.yes,
        world.environment.stdin_is_terminal,
    ) {
        printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }

    // 4. Execute.
    let mut record = ClusterRecord {
        kind_name: kind_name.clone(),
        context: resolved.kube.context.clone(),
        namespace: resolved.kube.namespace.clone(),
        kubernetes: Some(match plan.cluster() {
            Some(ClusterAction::Existing { minor, .. }) => *minor,
            _ => release.minor,
        }),
        config: kind_name.is_some().then(|| config_path.clone()),
        ..ClusterRecord::default()
    };
    let run = Execute {
        world,
        release,
        dir: &dir,
        target: &resolved.kube,
        bundle: bundle.as_ref(),
        platform: &platform,
    };
    run.setup(&plan)?;
    let native = run.gate_check()?;
    record.native_sidecars = Some(native);
    state.cluster = Some(record);
    state::save(&dir, &state)?;
    if !native {
        bail!(
            "native sidecars are OFF on this cluster: the API server dropped `restartPolicy: Always` from the init container (the SidecarContainers gate is off). On Kubernetes 1.28 the kind config must set `featureGates: {{SidecarContainers: true}}` (see `sidecar-lab render config -k 1.28`); or use 1.29 or later"
        );
    }
    let steps_plan = plan
        .phases
        .iter()
        .find_map(|p| match p {
            Phase::Steps { steps, .. } => Some(steps.clone()),
            _ => None,
        })
        .unwrap_or_default();
    // From here on Ctrl-C stops a step cleanly; before, it ends sidecar-lab as usual.
    let interrupted = crate::interrupt::flag();
    let runs = run.steps(&lab, &mut state, &interrupted, &steps_plan, interactive)?;
    printer.out(&summary(&runs));
    Ok(workspace::exit_status(&runs))
}

/// `up` as the lock's holder names it.
fn up_command(settings: &Settings) -> String {
    let mut words = vec!["sidecar-lab up".to_owned()];
    if let Some(minor) = settings.kubernetes {
        words.push(format!("--kubernetes {minor}"));
    }
    if let Some(context) = &settings.place.context {
        words.push(format!("--context {context}"));
    }
    if settings.yes {
        words.push("--yes".to_owned());
    }
    words.join(" ")
}

/// The steps' Job names and manifest paths on a cluster of `minor`, for the plan.
fn step_files(
    lab: &Lab,
    template: &k8s_openapi::api::batch::v1::Job,
    dir: &Path,
    minor: MinorVersion,
) -> anyhow::Result<Vec<StepFiles>> {
    lab.numbered()
        .map(|(number, step)| {
            let runs = render::step::step_runs(template, number, step, Some(minor))?;
            Ok(StepFiles {
                number,
                title: step.title.clone(),
                jobs: runs
                    .iter()
                    .map(|r| {
                        (
                            r.name.as_str().to_owned(),
                            dir.join(format!("step-{number}-{}.yaml", r.variant))
                                .display()
                                .to_string(),
                        )
                    })
                    .collect(),
                skip: step.skip_reason(Some(minor)),
                quota: (!step.quota.is_empty()).then(|| {
                    dir.join(format!("step-{number}-quota.yaml"))
                        .display()
                        .to_string()
                }),
            })
        })
        .collect()
}

/// What the plan needs to know of each step on a cluster of `minor`.
fn step_facts(
    lab: &Lab,
    template: &k8s_openapi::api::batch::v1::Job,
    minor: MinorVersion,
) -> anyhow::Result<Vec<setup_plan::StepFacts>> {
    lab.numbered()
        .map(|(number, step)| {
            let (jobs, cpu_millis, holds) =
                setup_plan::step_needs(template, number, step, Some(minor))?;
            Ok(setup_plan::StepFacts {
                number,
                optional: step.optional,
                skipped: step.skip_reason(Some(minor)).is_some(),
                cpu_millis,
                jobs,
                holds,
            })
        })
        .collect()
}

/// What the phases work with.
struct Execute<'a, 'w> {
    world: &'a World<'w>,
    release: &'a KubernetesRelease,
    dir: &'a Path,
    target: &'a kube::Target,
    bundle: Option<&'a Bundle>,
    platform: &'a str,
}

impl Execute<'_, '_> {
    fn runner(&self) -> &dyn Runner {
        self.world.runner
    }

    fn printer(&self) -> Printer {
        *self.world.printer
    }

    /// Every phase before the gate check, in order. Image pulls start with the cluster
    /// phase and run while the cluster is made: both take minutes on a slow link.
    fn setup(&self, plan: &Plan) -> anyhow::Result<()> {
        let pulls: Vec<String> = plan
            .phases
            .iter()
            .filter_map(|p| match p {
                Phase::Images(images) => Some(images),
                _ => None,
            })
            .flatten()
            .filter_map(|i| match i {
                ImageAction::PullAndLoad(image) => Some(image.clone()),
                ImageAction::Load(_) | ImageAction::FromBundle(_) => None,
            })
            .collect();
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let mut pulling = None;
            for phase in &plan.phases {
                match phase {
                    Phase::HostFixes(fixes) => self.host_fixes(fixes)?,
                    Phase::Install(prepared) => {
                        let progress = Progress::start(self.printer(), "installing the tools");
                        let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
                        let heard = apply::Heard {
                            progress: &downloads,
                            report: self.world.printer,
                        };
                        let supply = self.bundle.map(|b| b as &dyn apply::Supply);
                        match apply::apply(
                            prepared,
                            supply,
                            self.world.environment,
                            self.runner(),
                            heard,
                        ) {
                            Ok(()) => progress.succeed(""),
                            Err(error) => {
                                progress.fail("");
                                return Err(error
                                    .context("`sidecar-lab up` needs Docker, kind and kubectl"));
                            }
                        }
                        // A user just added to the docker group has it only from the next
                        // login: docker and kind go through `sg docker` from here on.
                        if facts::docker_needs_group(
                            self.runner(),
                            self.world.environment.path.as_deref(),
                        ) && self.runner().docker_group(true)
                        {
                            self.printer().note("the `docker` group is not in effect in this login yet: running docker and kind through `sg docker`");
                        }
                    }
                    Phase::LoadNodeImage { tag, .. } => self.load_node_image(tag)?,
                    Phase::WriteConfig { path, text } => {
                        write_atomically(path, text.as_bytes())?;
                        self.printer()
                            .note(&format!(" • kind config: {}", path.display()));
                    }
                    Phase::Cluster(action) => {
                        if pulling.is_none() && !pulls.is_empty() {
                            let pulls = &pulls;
                            pulling = Some(scope.spawn(move || self.pull(pulls)));
                        }
                        self.cluster(action)?;
                    }
                    Phase::RestoreContext { name } => {
                        let progress = Progress::start(
                            self.printer(),
                            &format!("restoring the kubeconfig context `kind-{name}`"),
                        );
                        match checked(self.runner(), &kube::kind::export_kubeconfig(name), SHORT) {
                            Ok(_) => progress.succeed(""),
                            Err(error) => {
                                progress.fail("");
                                return Err(error);
                            }
                        }
                    }
                    Phase::WaitForNode => {
                        let progress =
                            Progress::start(self.printer(), "waiting for the node to be Ready");
                        match checked(
                            self.runner(),
                            &self.target.wait_nodes_ready(180),
                            Duration::from_secs(200),
                        ) {
                            Ok(_) => progress.succeed(""),
                            Err(error) => {
                                progress.fail("");
                                return Err(
                                    error.context("the node did not become Ready within 180 s")
                                );
                            }
                        }
                    }
                    Phase::Namespace(action) => {
                        namespace::apply(self.runner(), self.target, action, &self.printer())?;
                    }
                    Phase::Images(images) if images.is_empty() => {}
                    Phase::Images(images) => {
                        let pulled = match pulling.take() {
                            Some(handle) => handle
                                .join()
                                .map_err(|_| anyhow!("the image pull thread panicked"))?,
                            None => Vec::new(),
                        };
                        self.preload(images, &pulled);
                    }
                    Phase::GateCheck | Phase::Steps { .. } => {}
                }
            }
            Ok(())
        })
    }

    fn host_fixes(&self, fixes: &[crate::doctor::fix::Fix]) -> anyhow::Result<()> {
        let client = HttpClient::new()?;
        for fix in fixes {
            let progress = Progress::start(self.printer(), &fix.title);
            match execute::steps(
                &fix.steps,
                self.runner(),
                &client,
                self.world.printer,
                self.dir,
            ) {
                Ok(()) => progress.succeed(""),
                Err(error) => {
                    progress.fail("");
                    return Err(error.context(format!("`{}` did not work", fix.title)));
                }
            }
        }
        Ok(())
    }

    fn cluster(&self, action: &ClusterAction) -> anyhow::Result<()> {
        let printer = self.printer();
        let (name, delete) = match action {
            ClusterAction::Reuse { name } => {
                printer.note(&format!(
                    " ✓ kind cluster `{name}` exists and matches: reusing it"
                ));
                return Ok(());
            }
            ClusterAction::Existing { context, minor } => {
                printer.note(&format!(" ✓ cluster `{context}`: Kubernetes {minor}"));
                return Ok(());
            }
            ClusterAction::Create { name } => (name, false),
            ClusterAction::Recreate { name, drift, .. } => {
                drift.iter().for_each(|why| printer.note(why));
                (name, true)
            }
        };
        if delete {
            let progress = Progress::start(printer, &format!("deleting kind cluster `{name}`"));
            if let Err(error) = checked(
                self.runner(),
                &kube::kind::delete_cluster(name),
                CREATE_TIMEOUT,
            ) {
                progress.fail("");
                return Err(error);
            }
            progress.succeed("");
        }
        let config = self.dir.join(format!("kind-{name}.yaml"));
        let create = kube::kind::create_cluster(name, &config);
        let progress = Progress::start(
            printer,
            &format!(
                "creating kind cluster `{name}` (Kubernetes {})",
                self.release.minor
            ),
        );
        let output = self.runner().run(&create, CREATE_TIMEOUT)?;
        if !output.success() {
            progress.fail("kind create cluster failed");
            let tail: Vec<&str> = output.stderr.lines().chain(output.stdout.lines()).collect();
            let shown = tail[tail.len().saturating_sub(25)..].join("\n");
            printer.note(&format!("--- kind's output ---\n{shown}\n---"));
            let said = format!("{}\n{}", output.stderr, output.stdout);
            bail!(
                "`{create}` failed: {}",
                kube::kind::create_advice(name, &said)
            );
        }
        progress.succeed("");
        Ok(())
    }

    /// `docker pull` of each image; the outcomes, in order.
    fn pull(&self, images: &[String]) -> Vec<(String, Result<Output, RunError>)> {
        images
            .iter()
            .map(|image| {
                let pull = CommandLine::new("docker", ["pull", image.as_str()]);
                (image.clone(), self.runner().run(&pull, PULL_TIMEOUT))
            })
            .collect()
    }

    /// Loads the images into the node; problems are warnings: the node may still pull.
    fn preload(&self, images: &[ImageAction], pulled: &[(String, Result<Output, RunError>)]) {
        let printer = self.printer();
        let progress = Progress::start(printer, "preloading the lab images into the node");
        let mut problems = Vec::new();
        let mut loaded = Vec::new();
        for action in images {
            if let ImageAction::FromBundle(archive) = action {
                match self.load_bundle_archive(archive) {
                    Ok(()) => loaded.push(archive.as_str()),
                    Err(error) => problems.push(crate::exit::one_line(&error)),
                }
                continue;
            }
            let (ImageAction::PullAndLoad(image)
            | ImageAction::Load(image)
            | ImageAction::FromBundle(image)) = action;
            if let Some((_, result)) = pulled.iter().find(|(i, _)| i == image) {
                let pull = CommandLine::new("docker", ["pull", image.as_str()]);
                match result {
                    Ok(output) if output.success() => {}
                    Ok(output) => {
                        problems.push(Failed::of(&pull, output).to_string());
                        continue;
                    }
                    Err(error) => {
                        problems.push(error.to_string());
                        continue;
                    }
                }
            }
            match self.load(image) {
                Ok(()) => loaded.push(image.as_str()),
                Err(error) => problems.push(crate::exit::one_line(&error)),
            }
        }
        if problems.is_empty() {
            progress.succeed(&loaded.join(", "));
        } else {
            progress.fail("the node will have to pull them itself");
            problems.iter().for_each(|p| printer.warn(p));
        }
    }

    /// The bundle's node image into Docker, its layers checked.
    fn load_node_image(&self, tag: &str) -> anyhow::Result<()> {
        let bundle = self.bundle.ok_or_else(|| anyhow!("no bundle was opened"))?;
        let entry = crate::bundle::load::entry(bundle, self.release.minor, self.platform)?;
        let progress = Progress::start(self.printer(), &format!("loading {tag} from the bundle"));
        let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
        match crate::bundle::load::node_image(
            bundle,
            entry,
            self.platform,
            self.runner(),
            &downloads,
        ) {
            Ok(tag) => {
                progress.succeed(&format!("{tag}: layers match the manifest"));
                Ok(())
            }
            Err(error) => {
                progress.fail("");
                Err(error)
            }
        }
    }

    /// The bundle's lab images archive into the node: no `docker save`, no pull.
    fn load_bundle_archive(&self, archive: &str) -> anyhow::Result<()> {
        let bundle = self.bundle.ok_or_else(|| anyhow!("no bundle was opened"))?;
        let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
        let local = bundle.fetch(archive, &downloads)?;
        let cluster = self.target.context.trim_start_matches("kind-");
        checked(
            self.runner(),
            &kube::kind::load_image_archive(cluster, &local),
            PULL_TIMEOUT,
        )
        .map(drop)
    }

    /// `docker save` then `kind load image-archive` — not `kind load docker-image`,
    /// which fails with Docker's containerd image store (kind#3795).
    fn load(&self, image: &str) -> anyhow::Result<()> {
        let cluster = self.target.context.trim_start_matches("kind-");
        let archive = self
            .dir
            .join(format!("{}.tar", image.replace(['/', ':'], "_")));
        let archive_text = archive.display().to_string();
        let platform = Platform::of_this_build()
            .map(|p| format!("linux/{}", p.arch.name()))
            .unwrap_or_else(|_| "linux/amd64".into());
        // `--platform` keeps a multi-platform image to the node's own; Docker before
        // 25 (such as 20.10) has no such flag.
        let with_platform = CommandLine::new(
            "docker",
            [
                "save",
                "--platform",
                platform.as_str(),
                "-o",
                archive_text.as_str(),
                image,
            ],
        );
        let saved = self.runner().run(&with_platform, PULL_TIMEOUT)?;
        if !saved.success() {
            checked(
                self.runner(),
                &CommandLine::new("docker", ["save", "-o", archive_text.as_str(), image]),
                PULL_TIMEOUT,
            )?;
        }
        let loaded = checked(
            self.runner(),
            &kube::kind::load_image_archive(cluster, &archive),
            PULL_TIMEOUT,
        );
        let _ = std::fs::remove_file(&archive);
        loaded.map(drop)
    }

    /// A server-side dry run of the native Job (named by `generateName`, so it never
    /// collides with a step's Job): false when the API server dropped
    /// `restartPolicy: Always`, which it does only with the SidecarContainers gate off.
    fn gate_check(&self) -> anyhow::Result<bool> {
        let manifest = self.dir.join("gate-check-native.yaml");
        write_atomically(
            &manifest,
            render::gate_check_manifest(self.release)?.as_bytes(),
        )?;
        let progress = Progress::start(self.printer(), "checking that native sidecars work here");
        let dry_run = self.target.dry_run_create(&manifest);
        let output = match checked(self.runner(), &dry_run, SHORT) {
            Ok(output) => output,
            Err(error) => {
                progress.fail("");
                return Err(error);
            }
        };
        match kube::native_sidecars_kept(&output.stdout) {
            Some(true) => {
                progress.succeed("the API server keeps `restartPolicy: Always`");
                Ok(true)
            }
            Some(false) => {
                progress.fail("the API server dropped `restartPolicy: Always`");
                Ok(false)
            }
            None => {
                progress.fail("");
                Err(anyhow!("`{dry_run}` did not return a Job"))
            }
        }
    }

    /// The steps as planned: some at once, each holding its own window, their reports
    /// printed one after another; then the rest one by one (Enter before each on a
    /// terminal), each after the room of earlier holding steps is freed.
    fn steps(
        &self,
        lab: &Lab,
        state: &mut LabState,
        interrupted: &AtomicBool,
        plan: &setup_plan::StepsPlan,
        interactive: bool,
    ) -> anyhow::Result<Vec<StepRun>> {
        let session = Session {
            runner: self.runner(),
            clock: self.world.clock,
            printer: self.printer(),
            target: self.target.clone(),
            state_dir: self.dir.to_path_buf(),
            release: self.release,
            minor: state.cluster.as_ref().and_then(|c| c.kubernetes),
            interrupted,
            dry_run: false,
        };
        let mut runs = Vec::new();
        if !plan.together.is_empty() {
            let board = Board::new();
            let results: Vec<anyhow::Result<StepRun>> = std::thread::scope(|scope| {
                let handles: Vec<_> = plan
                    .together
                    .iter()
                    .map(|number| {
                        let (session, board) = (&session, &board);
                        scope.spawn(move || step::run(session, lab, *number, Some(board)))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(anyhow!("a step's thread panicked")))
                    })
                    .collect()
            });
            for result in results {
                let run = result?;
                self.printer().out(&run.report);
                workspace::record(state, &run, self.target);
                runs.push(run);
            }
            state::save(self.dir, state)?;
            if runs.iter().any(|r| r.ending == Ending::Interrupted) {
                return Ok(runs);
            }
        }
        for turn in &plan.in_turn {
            let number = turn.number;
            if interactive {
                let title = lab.step(number).map_or("", |s| s.title.as_str());
                self.printer().note(&format!(
                    "\nNext: step {number} of {}, {title}. Press Enter to start (Ctrl-C to stop).",
                    lab.steps.len()
                ));
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read from the terminal")?;
            }
            room::free(&session, lab, &turn.free)?;
            let run = step::run(&session, lab, number, None)?;
            self.printer().out(&run.report);
            workspace::record(state, &run, self.target);
            state::save(self.dir, state)?;
            let stop = run.ending == Ending::Interrupted;
            runs.push(run);
            if stop {
                break;
            }
        }
        Ok(runs)
    }
}

/// Each step, its verdict, how long it took.
fn summary(runs: &[StepRun]) -> String {
    let mut rows = vec![
        ["STEP", "VARIANT", "TITLE", "RESULT", "OUTCOME", "TIME"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for run in runs {
        rows.push(vec![
            run.number.to_string(),
            run.variant.to_string(),
            run.title.clone(),
            run.ending.name().to_owned(),
            run.judgement
                .as_ref()
                .map_or("-".to_owned(), |j| j.outcome.to_string()),
            format!("{} s", run.seconds),
        ]);
    }
    format!("\nSummary\n{}", text::table(&rows))
}

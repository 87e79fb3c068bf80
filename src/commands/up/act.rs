//! `up`'s last move: the plan's phases, one after another, each a line that ends in ✓ or
//! ✗; then the gate check, the state, and the steps.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};

use crate::bundle::source::Bundle;
use crate::clock::Clock;
use crate::install::{apply, execute};
use crate::kube;
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::render;
use crate::runner::{Runner, checked};
use crate::session::state::{self, ClusterRecord, LabState};
use crate::session::step::StepRun;
use crate::session::{facts, namespace};
use crate::setup_plan::{ClusterAction, ImageAction, Phase, Plan};
use crate::state::write_atomically;
use crate::ui::Printer;
use crate::ui::phase::Transaction;
use crate::world::World;

use super::Settings;
use super::read::Ground;

pub(super) const CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
pub(super) const PULL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const SHORT: Duration = Duration::from_secs(60);

/// Carries the plan out: the phases, the gate check, the steps; what each step gave.
pub(super) fn act(
    settings: &Settings,
    matrix: &VersionMatrix,
    ground: &Ground,
    mut state: LabState,
    plan: &Plan,
    world: &World<'_>,
) -> anyhow::Result<Vec<StepRun>> {
    let run = Execute {
        world,
        release: &settings.release,
        matrix,
        dir: &ground.dir,
        target: &ground.resolved.kube,
        bundle: ground.bundle.as_ref(),
        platform: &ground.platform,
    };
    run.setup(plan)?;
    let native = run.gate_check()?;
    state.cluster = Some(ClusterRecord {
        kind_name: ground.kind_name.clone(),
        context: ground.resolved.kube.context.clone(),
        namespace: ground.resolved.kube.namespace.clone(),
        kubernetes: Some(match plan.cluster() {
            Some(ClusterAction::Existing { minor, .. }) => *minor,
            _ => settings.release.minor,
        }),
        config: ground
            .kind_name
            .is_some()
            .then(|| ground.config_path.clone()),
        native_sidecars: Some(native),
    });
    state::save(&ground.dir, &state)?;
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
    run.steps(
        &settings.lab,
        &mut state,
        &interrupted,
        &steps_plan,
        ground.interactive,
    )
}

/// What the phases work with.
pub(super) struct Execute<'a, 'w> {
    pub world: &'a World<'w>,
    pub release: &'a KubernetesRelease,
    pub matrix: &'a VersionMatrix,
    pub dir: &'a Path,
    pub target: &'a kube::Target,
    pub bundle: Option<&'a Bundle>,
    pub platform: &'a str,
}

impl Execute<'_, '_> {
    pub(super) fn runner(&self) -> &dyn Runner {
        self.world.runner
    }

    pub(super) fn printer(&self) -> Printer {
        *self.world.printer
    }

    /// What times the phases.
    pub(super) fn clock(&self) -> &dyn Clock {
        self.world.clock
    }

    /// Every phase before the gate check, in order. Image pulls start with the cluster
    /// phase and run while the cluster is made: both take minutes on a slow link.
    fn setup(&self, plan: &Plan) -> anyhow::Result<()> {
        let pulls = pulls(plan);
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let mut pulling = None;
            for phase in &plan.phases {
                match phase {
                    Phase::Cluster(action) => {
                        if pulling.is_none() && !pulls.is_empty() {
                            let pulls = &pulls;
                            pulling = Some(scope.spawn(move || self.pull(pulls)));
                        }
                        self.cluster(action)?;
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
                    other => self.phase(other)?,
                }
            }
            Ok(())
        })
    }

    /// One phase that neither starts nor waits for the image pulls.
    fn phase(&self, phase: &Phase) -> anyhow::Result<()> {
        match phase {
            Phase::HostFixes(fixes) => self.host_fixes(fixes),
            Phase::Install(prepared) => self.install(prepared),
            Phase::LoadNodeImage { tag, .. } => self.load_node_image(tag),
            Phase::WriteConfig { path, text } => {
                write_atomically(path, text.as_bytes())?;
                self.printer()
                    .note(&format!(" • kind config: {}", path.display()));
                Ok(())
            }
            Phase::RestoreContext { name } => Transaction::run(
                self.printer(),
                self.clock(),
                &format!("restoring the kubeconfig context `kind-{name}`"),
                || checked(self.runner(), &kube::kind::export_kubeconfig(name), SHORT),
            )
            .map(drop),
            Phase::WaitForNode => Transaction::run(
                self.printer(),
                self.clock(),
                "waiting for the node to be Ready",
                || {
                    checked(
                        self.runner(),
                        &self.target.wait_nodes_ready(180),
                        Duration::from_secs(200),
                    )
                    .map_err(|error| error.context("the node did not become Ready within 180 s"))
                },
            )
            .map(drop),
            Phase::Namespace(action) => {
                let cluster = kube::Cluster::new(self.runner(), self.clock(), self.target);
                namespace::apply(&cluster, action, &self.printer())
            }
            Phase::Cluster(_) | Phase::Images(_) | Phase::GateCheck | Phase::Steps { .. } => Ok(()),
        }
    }

    fn host_fixes(&self, fixes: &[crate::doctor::fix::Fix]) -> anyhow::Result<()> {
        let client = self.world.http.get()?;
        for fix in fixes {
            Transaction::run(self.printer(), self.clock(), &fix.title, || {
                execute::steps(
                    &fix.steps,
                    self.runner(),
                    client,
                    self.world.printer,
                    self.dir,
                )
            })
            .map_err(|error| error.context(format!("`{}` did not work", fix.title)))?;
        }
        Ok(())
    }

    fn install(&self, prepared: &crate::install::prepare::Prepared) -> anyhow::Result<()> {
        Transaction::run(self.printer(), self.clock(), "installing the tools", || {
            let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
            let heard = apply::Heard {
                progress: &downloads,
                report: self.world.printer,
            };
            let supply = self.bundle.map(|b| b as &dyn apply::Supply);
            apply::apply(
                prepared,
                supply,
                self.world.environment,
                self.runner(),
                self.world.http,
                heard,
            )
        })
        .map_err(|error| error.context("`sidecar-lab up` needs Docker, kind and kubectl"))?;
        // A user just added to the docker group has it only from the next login: docker
        // and kind go through `sg docker` from here on.
        if facts::docker_needs_group(self.runner(), self.world.environment.path.as_deref())
            && self.runner().docker_group(true)
        {
            self.printer().note("the `docker` group is not in effect in this login yet: running docker and kind through `sg docker`");
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
                for why in drift {
                    printer.note(why);
                }
                (name, true)
            }
        };
        if delete {
            Transaction::run(
                printer,
                self.clock(),
                &format!("deleting kind cluster `{name}`"),
                || {
                    checked(
                        self.runner(),
                        &kube::kind::delete_cluster(name),
                        CREATE_TIMEOUT,
                    )
                },
            )?;
        }
        self.create_cluster(name)
    }

    fn create_cluster(&self, name: &str) -> anyhow::Result<()> {
        let printer = self.printer();
        let config = self.dir.join(format!("kind-{name}.yaml"));
        let create = kube::kind::create_cluster(name, &config);
        let progress = Transaction::begin(
            printer,
            self.clock(),
            &format!(
                "creating kind cluster `{name}` (Kubernetes {})",
                self.release.minor
            ),
        );
        let output = match self.runner().run(&create, CREATE_TIMEOUT) {
            Ok(output) => output,
            Err(error) => {
                // kind did not even run to the end: the line stays open, as it always has.
                progress.abandon();
                return Err(error.into());
            }
        };
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
        progress.commit("");
        Ok(())
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
        let progress = Transaction::begin(
            self.printer(),
            self.clock(),
            "checking that native sidecars work here",
        );
        let dry_run = self.target.dry_run_create(&manifest);
        let output = checked(self.runner(), &dry_run, SHORT)?;
        match kube::native_sidecars_kept(&output.stdout) {
            Some(true) => {
                progress.commit("the API server keeps `restartPolicy: Always`");
                Ok(true)
            }
            Some(false) => {
                progress.fail("the API server dropped `restartPolicy: Always`");
                Ok(false)
            }
            None => Err(anyhow!("`{dry_run}` did not return a Job")),
        }
    }
}

/// The images the plan pulls (they are pulled while the cluster is made).
fn pulls(plan: &Plan) -> Vec<String> {
    plan.phases
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
        .collect()
}

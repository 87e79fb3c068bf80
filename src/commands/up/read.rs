//! `up`'s first move: what it works on (the state directory, where the lab runs, the
//! bundle, the kind config it would write) and every fact the plan is made from.

use std::path::{Path, PathBuf};

use k8s_openapi::api::batch::v1::Job;

use crate::assets;
use crate::bundle::source::Bundle;
use crate::lab::Lab;
use crate::matrix::{GateChoice, VersionMatrix};
use crate::render::{self, job};
use crate::session::facts::{self, Ask};
use crate::session::state::LabState;
use crate::session::target::Resolved;
use crate::session::workspace;
use crate::setup_plan::{self, ClusterFacts, Facts};
use crate::ui::phase::Transaction;
use crate::ui::plan::StepFiles;
use crate::version::MinorVersion;
use crate::world::World;

use super::Settings;

/// What `up` works on, found before anything is read from the host or the cluster.
pub(super) struct Ground {
    pub dir: PathBuf,
    pub resolved: Resolved,
    /// The kind cluster's name; `None` on an existing cluster (`--context`).
    pub kind_name: Option<String>,
    pub config_path: PathBuf,
    /// The kind config the lab would write.
    pub config: String,
    pub bundle: Option<Bundle>,
    pub platform: String,
    pub template: Job,
    pub images: Vec<String>,
    /// Whether a person answers (Enter before each step).
    pub interactive: bool,
}

impl Ground {
    /// The state directory and the state in it, where the lab runs, and the kind config;
    /// a bundle's pins are checked against `matrix`.
    pub(super) fn open(
        settings: &Settings,
        matrix: &VersionMatrix,
        world: &World<'_>,
    ) -> anyhow::Result<(Self, LabState)> {
        let (dir, state, resolved) =
            workspace::open(&settings.place, world.environment, world.printer)?;
        let kind_name = resolved.kind_name.clone();
        let config_path = dir.join(format!(
            "kind-{}.yaml",
            kind_name.as_deref().unwrap_or_default()
        ));
        // With a bundle, kind gets the node image's tag, which `docker load` brings: a
        // digest does not survive save and load, and kind would pull it (wave2-facts.md §1.1).
        let bundle = settings
            .bundle
            .as_deref()
            .map(|location| crate::bundle::open(location, matrix, world))
            .transpose()?;
        let platform = crate::bundle::this_platform(world)?;
        let mut config_release = settings.release.clone();
        if let Some(bundle) = &bundle {
            let entry =
                crate::bundle::load::entry(bundle, settings.release.minor, &platform, matrix)?;
            config_release.node_image.clone_from(&entry.node_image);
        }
        let config =
            render::kind_config_file(&config_release, &settings.place.cluster, GateChoice::Auto)?;
        let template = job::parse_template(assets::JOB_TEMPLATE)?;
        let images = job::images(&template);
        let interactive = !settings.yes && world.environment.stdin_is_terminal;
        let ground = Self {
            dir,
            resolved,
            kind_name,
            config_path,
            config,
            bundle,
            platform,
            template,
            images,
            interactive,
        };
        Ok((ground, state))
    }
}

/// Every fact the plan needs (read-only commands only), and the steps' files for showing
/// the plan.
pub(super) fn facts(
    settings: &Settings,
    matrix: &VersionMatrix,
    ground: &Ground,
    world: &World<'_>,
) -> anyhow::Result<(Facts, Vec<StepFiles>)> {
    let release = &settings.release;
    let ask = Ask {
        release,
        matrix,
        target: &ground.resolved.kube,
        kind_name: ground.kind_name.as_deref(),
        config: ground
            .kind_name
            .is_some()
            .then_some((ground.config_path.as_path(), ground.config.as_str())),
        images: &ground.images,
        mirror: world.environment.mirror.clone(),
        interactive: ground.interactive,
        sequential: settings.sequential,
        state_dir: &ground.dir,
        bundle: ground
            .bundle
            .as_ref()
            .map(|b| (b, ground.platform.as_str())),
    };
    let mut facts = Transaction::run(
        *world.printer,
        world.clock,
        "reading the host and the cluster",
        || facts::gather(&ask, world.environment, world.runner),
    )?;
    // The steps as they run on the cluster's minor: an existing cluster's own, else the
    // one the lab makes.
    let minor = match &facts.cluster {
        ClusterFacts::Existing { server, .. } => server.as_ref().ok().copied(),
        ClusterFacts::Kind { .. } => Some(release.minor),
    }
    .unwrap_or(release.minor);
    let steps = step_files(&settings.lab, &ground.template, &ground.dir, minor)?;
    facts.steps = step_facts(&settings.lab, &ground.template, minor)?;
    facts.all_steps = settings.all_steps;
    Ok((facts, steps))
}

/// The steps' Job names and manifest paths on a cluster of `minor`, for the plan.
fn step_files(
    lab: &Lab,
    template: &Job,
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
    template: &Job,
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

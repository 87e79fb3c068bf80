//! `class up`: reads the cluster and the output directory, plans (`class::plan`), shows
//! the plan and what each namespace enforces, asks, then applies the objects and writes
//! each learner's kubeconfig.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::read::{self, READ_TIMEOUT, explain_forbidden};
use super::tokens::{Issuing, issue_tokens};
use crate::class::ClassPrefix;
use crate::class::capacity;
use crate::class::confinement::Confinement;
use crate::class::kubeconfig::ClusterAccess;
use crate::class::objects::{QuotaLimits, Template, manifests};
use crate::class::plan::{self, KubeconfigFound, Observed, UpPlan, Wanted};
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::kube::class as kubectl;
use crate::runner::{Runner, checked};
use crate::session::state::now;
use crate::session::workspace;
use crate::ui::{class as show, prompt};
use crate::version::MinorVersion;

const APPLY_TIMEOUT: Duration = Duration::from_secs(600);

/// `class up`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub(crate) struct UpSettings {
    pub context: String,
    pub learners: u32,
    pub prefix: ClassPrefix,
    pub output_dir: PathBuf,
    pub duration_seconds: u64,
    pub quota: QuotaLimits,
    pub yes: bool,
    pub dry_run: bool,
    /// One JSON document on stdout (the plan, what is enforced, what was done) instead
    /// of text.
    pub json: bool,
}

/// Runs `class up`.
pub(crate) fn up(settings: &UpSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let read = read_up(world.runner, settings)?;
    let (rules, plan) = plan_up(settings, &read)?;
    let view = UpView {
        settings,
        world,
        plan: &plan,
        rules: &rules,
    };
    view.plan(&read.access.server);
    if plan.is_empty() {
        view.unchanged();
        return Ok(ExitStatus::Success);
    }
    warn_before_acting(world, settings, &read.access)?;
    if settings.dry_run {
        world.printer.note("dry run: nothing was changed");
        if settings.json {
            view.json("dry-run", 0);
        }
        return Ok(ExitStatus::Success);
    }
    if !prompt::confirm(
        "Set up the class?",
        settings.yes,
        world.environment.stdin_is_terminal,
    ) {
        world.printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }
    apply(world, &settings.context, &plan)?;
    let issuing = Issuing {
        context: &settings.context,
        duration_seconds: settings.duration_seconds,
        output_dir: &settings.output_dir,
        access: &read.access,
        ca_data: read.ca_data.as_deref(),
    };
    let written = issue_tokens(world.runner, &issuing, &plan.tokens)?;
    view.done(written);
    Ok(ExitStatus::Success)
}

/// What `class up` reads before it plans.
struct UpRead {
    access: ClusterAccess,
    /// The cluster's CA, inline.
    ca_data: Option<String>,
    minor: Option<MinorVersion>,
    observed: Observed,
    files: BTreeMap<String, KubeconfigFound>,
}

/// The context's address and CA, the server's version, its namespaces, the class's
/// objects, and the kubeconfigs already in the output directory.
fn read_up(runner: &dyn Runner, settings: &UpSettings) -> anyhow::Result<UpRead> {
    let context = settings.context.as_str();
    let access = read::read_access(runner, context)?;
    let ca_data = read::inline_ca(&access)?;
    let minor = read::server_minor(runner, context);
    let namespaces = read::read_json(runner, &kubectl::namespaces(context), "list the namespaces")?;
    let objects = read::class_objects(runner, context, &settings.prefix, minor)?;
    let files = read::read_kubeconfigs(&settings.output_dir, &settings.prefix, settings.learners);
    Ok(UpRead {
        access,
        ca_data,
        minor,
        observed: read::observed(&namespaces, &objects),
        files,
    })
}

/// The rules the cluster can enforce, and the plan that brings it to them (pure).
fn plan_up(settings: &UpSettings, read: &UpRead) -> anyhow::Result<(Confinement, UpPlan)> {
    let template = Template::embedded()?;
    let rules = Confinement::decide(&template, &settings.prefix, read.minor, &settings.quota);
    let desired = rules.objects(
        &template,
        &settings.prefix,
        settings.learners,
        &settings.quota,
    );
    let wanted = Wanted {
        prefix: &settings.prefix,
        learners: settings.learners,
        desired: &desired,
        server: &read.access.server,
        now: now(),
        duration_seconds: settings.duration_seconds,
    };
    let plan = plan::plan_up(&wanted, &read.observed, &read.files)?;
    Ok((rules, plan))
}

/// What `class up` shows: as text, or as one JSON document (`-o json`).
struct UpView<'a> {
    settings: &'a UpSettings,
    world: &'a World<'a>,
    plan: &'a UpPlan,
    rules: &'a Confinement,
}

impl UpView<'_> {
    fn dir(&self) -> String {
        self.settings.output_dir.display().to_string()
    }

    /// The plan and what each namespace enforces, then what the cluster cannot enforce.
    fn plan(&self, server: &str) {
        let settings = self.settings;
        if !settings.json {
            let heading = format!(
                "Class `{}` on context `{}` ({server}): {} learner(s)",
                settings.prefix.label(),
                settings.context,
                settings.learners
            );
            let duration = show::human_duration(settings.duration_seconds);
            self.world
                .printer
                .out(&show::up_plan(self.plan, &heading, &self.dir(), &duration));
            self.world.printer.out(&show::confinement(self.rules));
        }
        if let Some(warning) = show::unenforced(self.rules) {
            self.world.printer.warn(&warning);
        }
    }

    fn unchanged(&self) {
        if self.settings.json {
            self.json("unchanged", 0);
        } else {
            self.world.printer.out(&show::up_unchanged(&self.dir()));
        }
    }

    fn done(&self, written: usize) {
        let settings = self.settings;
        if settings.json {
            self.json("applied", written);
        } else {
            self.world.printer.out(&show::up_done(&show::UpDone {
                prefix: &settings.prefix,
                context: &settings.context,
                learners: settings.learners,
                written,
                dir: &self.dir(),
            }));
        }
    }

    fn json(&self, outcome: &str, written: usize) {
        let settings = self.settings;
        self.world.printer.out(&show::up_json(
            &show::UpSummary {
                class: settings.prefix.label(),
                context: &settings.context,
                learners: settings.learners,
                outcome,
                kubeconfigs_written: written,
            },
            self.plan,
            self.rules,
        ));
    }
}

/// Warnings before anything changes: whether the class fits, and whether the learners
/// can reach the cluster's address.
fn warn_before_acting(
    world: &World<'_>,
    settings: &UpSettings,
    access: &ClusterAccess,
) -> anyhow::Result<()> {
    for warning in fit_warnings(world.runner, settings)? {
        world.printer.warn(&warning);
    }
    if access.is_loopback() {
        world.printer.warn(&show::loopback_warning(&access.server));
    }
    Ok(())
}

/// Whether the class fits the nodes and the quota. The nodes are read when the context
/// may (an instructor's usually can); otherwise only the quota is checked.
fn fit_warnings(runner: &dyn Runner, settings: &UpSettings) -> anyhow::Result<Vec<String>> {
    let lab = workspace::lab(None)?;
    let template = crate::render::job::parse_template(crate::assets::JOB_TEMPLATE)?;
    let nodes = runner
        .run(&kubectl::nodes(&settings.context), READ_TIMEOUT)
        .ok()
        .filter(crate::runner::Output::success)
        .and_then(|o| serde_json::from_str::<Value>(&o.stdout).ok());
    Ok(capacity::warnings(
        capacity::per_learner(&lab, &template),
        settings.learners,
        nodes.as_ref().and_then(capacity::allocatable),
        &settings.quota,
    ))
}

/// One `kubectl apply` of every object to create or update, from a temporary file.
fn apply(world: &World<'_>, context: &str, plan: &UpPlan) -> anyhow::Result<()> {
    let objects = plan.to_apply();
    if objects.is_empty() {
        return Ok(());
    }
    let mut file = tempfile::Builder::new()
        .prefix("sidecar-lab-class-")
        .suffix(".yaml")
        .tempfile()
        .context("cannot create a temporary file for the class's objects")?;
    std::io::Write::write_all(&mut file, manifests(&objects)?.as_bytes())
        .context("cannot write the class's objects to a temporary file")?;
    let command = kubectl::apply(context, file.path());
    world.printer.note(&format!(
        "applying {} object(s): kubectl --context {context} apply -f …",
        objects.len()
    ));
    checked(world.runner, &command, APPLY_TIMEOUT)
        .map_err(|e| explain_forbidden(e, "create the class's objects"))?;
    Ok(())
}

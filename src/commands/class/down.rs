//! `class down`: reads the class's objects and the kubeconfigs in the output directory,
//! plans (`class::plan`), shows the plan, asks, then deletes in the planned order.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::read::{self, READ_TIMEOUT, explain_forbidden};
use crate::class::ClassPrefix;
use crate::class::plan::{self, DownPlan};
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::kube::class as kubectl;
use crate::runner::{Runner, checked};
use crate::ui::{class as show, prompt};

const DELETE_SECONDS: u64 = 300;

/// `class down`'s arguments.
#[derive(Clone, Debug)]
pub(crate) struct DownSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub output_dir: PathBuf,
    pub yes: bool,
    pub dry_run: bool,
}

/// Runs `class down`.
pub(crate) fn down(settings: &DownSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let runner = world.runner;
    let context = settings.context.as_str();
    let minor = read::server_minor(runner, context);
    let objects = read::class_objects(runner, context, &settings.prefix, minor)?;
    let observed = read::observed(&Value::Null, &objects);
    let on_disk = read::kubeconfig_files(&settings.output_dir, &settings.prefix);
    let plan = plan::plan_down(&settings.prefix, &observed, &on_disk);
    let heading = format!(
        "Class `{}` on context `{context}`:",
        settings.prefix.label()
    );
    if plan.is_empty() {
        world
            .printer
            .out(&show::down_nothing(&heading, settings.prefix.label()));
        return Ok(ExitStatus::Success);
    }
    let dir = settings.output_dir.display().to_string();
    world.printer.out(&show::down_plan(&plan, &heading, &dir));
    if settings.dry_run {
        world.printer.note("dry run: nothing was changed");
        return Ok(ExitStatus::Success);
    }
    if !prompt::confirm(
        "Delete the class?",
        settings.yes,
        world.environment.stdin_is_terminal,
    ) {
        world.printer.note("nothing was changed");
        return Ok(ExitStatus::UsageOrSetup);
    }
    delete(world, context, &plan)?;
    remove_kubeconfigs(settings, &plan)?;
    world.printer.out(&show::down_done(
        settings.prefix.label(),
        plan.namespaces.len(),
        plan.kubeconfigs.len(),
    ));
    Ok(ExitStatus::Success)
}

/// Deletes the class's objects in the planned order: strays, the namespaces (waiting
/// until they are gone), then the cluster-wide policy.
fn delete(world: &World<'_>, context: &str, plan: &DownPlan) -> anyhow::Result<()> {
    let runner: &dyn Runner = world.runner;
    for (kind, namespace, name) in &plan.strays {
        let command = kubectl::delete_object(context, kind.resource(), namespace, name);
        checked(runner, &command, READ_TIMEOUT)
            .map_err(|e| explain_forbidden(e, "delete the class's objects"))?;
    }
    if !plan.namespaces.is_empty() {
        let command = kubectl::delete_namespaces(context, &plan.namespaces, DELETE_SECONDS);
        world.printer.note(&format!(
            "deleting {} namespace(s) and waiting until they are gone",
            plan.namespaces.len()
        ));
        checked(runner, &command, Duration::from_secs(DELETE_SECONDS + 30))
            .map_err(|e| explain_forbidden(e, "delete the class's namespaces"))?;
    }
    // The admission policy goes last: deleted first, it would leave the learners' namespaces
    // (and their pods) without it while the namespaces are being deleted.
    for (kind, name) in &plan.cluster_wide {
        let command = kubectl::delete_cluster_object(context, kind.resource(), name);
        checked(runner, &command, READ_TIMEOUT)
            .map_err(|e| explain_forbidden(e, "delete the class's admission policy"))?;
    }
    Ok(())
}

/// Removes the learners' kubeconfig files; one already gone is no error.
fn remove_kubeconfigs(settings: &DownSettings, plan: &DownPlan) -> anyhow::Result<()> {
    for namespace in &plan.kubeconfigs {
        let path = settings.output_dir.join(format!("{namespace}.kubeconfig"));
        crate::files::remove_file(&path)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .with_context(|| format!("cannot remove `{}`", path.display()))?;
    }
    Ok(())
}

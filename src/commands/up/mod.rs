//! `sidecar-lab up`: from a fresh VM to a judged lab, in four moves — read (every fact,
//! with read-only commands: `session::facts`), plan (pure: `setup_plan`), confirm once,
//! act phase by phase. `--dry-run` stops after printing the plan. On an existing
//! cluster (`--context`) there is no host, install or cluster phase.

mod act;
mod images;
mod read;
mod steps;

use anyhow::{Context, bail};

use crate::exit::ExitStatus;
use crate::lab::Lab;
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::session::lock;
use crate::session::workspace::{self, Where};
use crate::setup_plan::{self, Facts, Plan};
use crate::ui::plan::{Names, StepFiles, describe};
use crate::version::MinorVersion;
use crate::world::World;

use read::Ground;

/// `up`'s arguments, free of clap, resolved once by the dispatcher.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `--kubernetes` as given (the lock's holder line names it).
    pub kubernetes: Option<MinorVersion>,
    /// The release `--kubernetes` chose, or the default one.
    pub release: KubernetesRelease,
    pub place: Where,
    /// The lab file given, or the built-in lab.
    pub lab: Lab,
    pub yes: bool,
    pub dry_run: bool,
    /// Run the steps one after another even when unattended.
    pub sequential: bool,
    /// `--bundle DIR|URL`: everything from a classroom bundle, nothing from the internet.
    pub bundle: Option<String>,
    /// Run the optional steps too (beyond the three variants).
    pub all_steps: bool,
}

/// Runs `up`: read, plan, show, confirm, act. The install plan's and the bundle's pins
/// come from `matrix`.
pub fn up(
    settings: &Settings,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<ExitStatus> {
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
            world.printer,
        )?)
    };
    let (ground, state) = Ground::open(settings, matrix, world)?;
    // 1. Read.
    let (facts, steps) = read::facts(settings, matrix, &ground, world)?;
    // 2. Plan, and show it.
    let plan = setup_plan::plan(&facts);
    show(&plan, &facts, &ground, &steps, settings, world)?;
    if settings.dry_run {
        return Ok(ExitStatus::Success);
    }
    crate::files::create_dir_all(&ground.dir)
        .with_context(|| format!("cannot create the state directory {}", ground.dir.display()))?;
    // 3. Confirm once.
    if !crate::commands::go_ahead(settings.yes, world) {
        return Ok(ExitStatus::UsageOrSetup);
    }
    // 4. Act.
    let runs = act::act(settings, matrix, &ground, state, &plan, world)?;
    world.printer.out(&steps::summary(&runs));
    if runs
        .iter()
        .any(|r| r.ending == crate::session::step::Ending::Expected)
    {
        world.printer.note(
            "your turn: `sidecar-lab exercise` lists three exercises where you change the Job and the lab judges what it did",
        );
    }
    Ok(workspace::exit_status(&runs))
}

/// Prints the plan; when it cannot go on, the failed host checks and why.
fn show(
    plan: &Plan,
    facts: &Facts,
    ground: &Ground,
    steps: &[StepFiles],
    settings: &Settings,
    world: &World<'_>,
) -> anyhow::Result<()> {
    let printer = world.printer;
    printer.out(&describe(
        plan,
        &Names {
            target: &ground.resolved.kube,
            bundle: settings.bundle.as_deref(),
            state_dir: &ground.dir,
            steps,
        },
    ));
    if plan.stop.is_empty() {
        return Ok(());
    }
    if let Some(host) = &facts.host {
        if host
            .checks
            .iter()
            .any(|c| c.status == crate::doctor::Status::Fail)
        {
            let target = crate::doctor::checks::Target {
                kubernetes: settings.release.minor,
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
    )
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

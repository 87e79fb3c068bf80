//! `sidecar-lab up`: from a fresh VM to a judged lab. Checks the host, installs what is
//! missing, writes the kind config, creates (or reuses) the cluster while the lab images
//! are pulled, waits for the node, proves native sidecars work there, preloads the
//! images, and runs the steps. On an existing cluster (`--context`) it skips the host,
//! the install and the cluster, and keeps the version and gate checks.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::app::ExitStatus;
use crate::assets;
use crate::commands::World;
use crate::commands::install as install_command;
use crate::commands::session::{self, Where};
use crate::doctor::{self, checks, gather};
use crate::install::detect::{self, DockerStatus};
use crate::kube;
use crate::matrix::{GateChoice, KubernetesRelease, VersionMatrix};
use crate::platform::Platform;
use crate::render::{self, diff, job};
use crate::runner::{CommandLine, DockerGroupRunner, DryRunner, Runner};
use crate::session::state::{self, ClusterRecord, LabState};
use crate::session::step::{self, Ending, Session, StepRun};
use crate::state::write_atomically;
use crate::ui::phase::Phase;
use crate::ui::{Printer, prompt, text};
use crate::variant::Variant;
use crate::version::MinorVersion;

/// `up`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct Settings {
    pub kubernetes: Option<MinorVersion>,
    pub place: Where,
    pub lab: Option<PathBuf>,
    pub yes: bool,
    pub dry_run: bool,
}

const CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const PULL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const SHORT: Duration = Duration::from_secs(60);

/// Runs `up`.
pub fn up(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let printer = *world.printer;
    let lab = session::lab(settings.lab.as_deref())?;
    let matrix = VersionMatrix::embedded()?;
    let release = matrix.release_or_default(settings.kubernetes)?;
    let (dir, mut state, resolved) = session::open(&settings.place, world)?;
    let existing = settings.place.context.is_some();

    // Read-only probes (host checks, install detection) always run; with --dry-run the
    // commands that change something are only printed.
    let dry = DryRunner::new(printer);
    let group_runner = DockerGroupRunner {
        inner: world.runner,
    };
    let mut runner: &dyn Runner = if settings.dry_run { &dry } else { world.runner };
    let mut record = ClusterRecord {
        kind_name: resolved.kind_name.clone(),
        context: resolved.kube.context.clone(),
        namespace: resolved.kube.namespace.clone(),
        ..ClusterRecord::default()
    };

    if existing {
        let phase = Phase::start(printer, &format!("cluster `{}`", resolved.kube.context));
        // A read: it runs even with --dry-run.
        let version = world.runner.run(&resolved.kube.version(), SHORT)?;
        let Some(minor) = kube::server_minor(&version.stdout).filter(|_| version.success()) else {
            phase.fail("does not answer");
            bail!(
                "`{}` does not answer: {}",
                resolved.kube.version(),
                first_line(&version.stderr)
            );
        };
        phase.succeed(&format!("Kubernetes {minor}"));
        if minor < MinorVersion::new(1, 28) {
            bail!(
                "Kubernetes {minor} has no native sidecars (they came in 1.28): use a 1.28 or newer cluster"
            );
        }
        record.kubernetes = Some(minor.to_string());
        ensure_namespace(runner, &resolved.kube, printer)?;
    } else {
        check_host(world, release, &settings.place)?;
        install_tools(world, release, settings)?;
        if !settings.dry_run
            && matches!(
                detect::probe_docker(
                    world.runner,
                    world.environment.path.as_deref(),
                    detect::PROBE_TIMEOUT
                ),
                DockerStatus::PermissionDenied { .. }
            )
        {
            printer.note("the `docker` group is not in effect in this login yet: running docker and kind through `sg docker`");
            runner = &group_runner;
        }
        let name = resolved
            .kind_name
            .clone()
            .unwrap_or_else(|| settings.place.cluster.to_string());
        let config_path = dir.join(format!("kind-{name}.yaml"));
        let config = render::kind_config_file(release, &settings.place.cluster, GateChoice::Auto)?;
        let previous = std::fs::read_to_string(&config_path).ok();
        if settings.dry_run {
            printer.out(&format!(
                "# would write {}:\n{config}",
                config_path.display()
            ));
        } else {
            write_atomically(&config_path, config.as_bytes())?;
            printer.note(&format!(" • kind config: {}", config_path.display()));
        }
        let up = Up {
            runner,
            world,
            settings,
            release,
            dir: &dir,
        };
        cluster(&up, &name, &config_path, previous.as_deref(), &config)?;
        record.config = Some(config_path);
        record.kubernetes = Some(release.minor.to_string());
    }

    let native = gate_check(
        runner,
        &resolved.kube,
        release,
        &dir,
        printer,
        settings.dry_run,
    )?;
    record.native_sidecars = native;
    if !settings.dry_run {
        state.cluster = Some(record);
        state::save(&dir, &state)?;
    }
    if native == Some(false) {
        bail!(
            "native sidecars are OFF on this cluster: the API server dropped `restartPolicy: Always` from the init container (the SidecarContainers gate is off). On Kubernetes 1.28 the kind config must set `featureGates: {{SidecarContainers: true}}` (see `sidecar-lab render config -k 1.28`); or use 1.29 or later"
        );
    }

    let up = Up {
        runner,
        world,
        settings,
        release,
        dir: &dir,
    };
    // From here on Ctrl-C stops a step cleanly; before, it ends sidecar-lab as usual.
    let interrupted = crate::interrupt::flag();
    let runs = run_steps(&up, &lab, &resolved.kube, &mut state, &interrupted)?;
    printer.out(&summary(&runs));
    Ok(session::exit_status(&runs))
}

/// Step 1: the host checks; failures stop `up` with their fixes.
fn check_host(world: &World<'_>, release: &KubernetesRelease, place: &Where) -> anyhow::Result<()> {
    let phase = Phase::start(*world.printer, "host checks");
    let bin_dir = world.environment.default_bin_dir().unwrap_or_default();
    let facts = gather::gather(world.environment, world.runner, &bin_dir);
    let target = checks::Target {
        kubernetes: release.minor,
        cluster_name: place.cluster.to_string(),
    };
    let report = checks::all(&facts, &target);
    if doctor::any_failed(&report) {
        phase.fail("something would break the lab");
        world.printer.out(&crate::commands::doctor::text(
            &report,
            &target,
            &world.printer.stdout_palette(),
        ));
        bail!(
            "the host checks failed: fix the failures above (`sidecar-lab doctor --fix` applies the safe fixes), then run `sidecar-lab up` again"
        );
    }
    let warnings = report
        .iter()
        .filter(|c| c.status == doctor::Status::Warn)
        .count();
    phase.succeed(&if warnings == 0 {
        "all passed".to_owned()
    } else {
        format!("{warnings} warning(s); `sidecar-lab doctor` shows them")
    });
    Ok(())
}

/// Step 2: install what is missing (the plan, confirmed once).
fn install_tools(
    world: &World<'_>,
    release: &KubernetesRelease,
    settings: &Settings,
) -> anyhow::Result<()> {
    let install = install_command::Settings {
        kubernetes: Some(release.minor),
        mirror: world.environment.mirror.clone(),
        yes: settings.yes,
        dry_run: settings.dry_run,
        ..install_command::Settings::default()
    };
    match install_command::install(&install, world)? {
        ExitStatus::Success => Ok(()),
        _ => bail!("the tools were not installed; `sidecar-lab up` needs Docker, kind and kubectl"),
    }
}

/// What the phases of `up` after the install work with.
struct Up<'a, 'w> {
    /// Runs docker, kind and kubectl (printing them with --dry-run; through `sg docker`
    /// when the group is not in effect yet).
    runner: &'a dyn Runner,
    world: &'a World<'w>,
    settings: &'a Settings,
    release: &'a KubernetesRelease,
    /// The state directory.
    dir: &'a Path,
}

/// Steps 4 and 5 (and 7): create or reuse the cluster, pulling the lab images meanwhile;
/// wait for the node; preload the images.
fn cluster(
    up: &Up<'_, '_>,
    name: &str,
    config_path: &Path,
    previous_config: Option<&str>,
    config: &str,
) -> anyhow::Result<()> {
    let Up {
        runner,
        world,
        settings,
        release,
        dir,
    } = *up;
    let printer = *world.printer;
    let target = kube::Target::kind(name, "default");
    let clusters = runner.run(&kube::kind::get_clusters(), SHORT)?;
    let exists = kube::kind::clusters(&clusters.stdout)
        .iter()
        .any(|c| c == name);
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let images = job::images(&template);

    let mut create = !exists;
    if exists {
        let server = runner
            .run(&target.version(), SHORT)
            .ok()
            .and_then(|o| kube::server_minor(&o.stdout));
        let config_drift = previous_config.filter(|old| *old != config);
        let version_drift = server.filter(|minor| *minor != release.minor);
        if config_drift.is_none() && version_drift.is_none() {
            printer.note(&format!(
                " ✓ kind cluster `{name}` exists and matches: reusing it"
            ));
        } else {
            if let Some(minor) = version_drift {
                printer.note(&format!(
                    "kind cluster `{name}` runs Kubernetes {minor}; the lab wants {}",
                    release.minor
                ));
            }
            if let Some(old) = config_drift {
                printer.out(&diff::unified(
                    "cluster's config",
                    old,
                    "lab's config",
                    config,
                ));
            }
            create = prompt::confirm(
                &format!("Delete kind cluster `{name}` and create it anew?"),
                settings.yes,
                world.environment.stdin_is_terminal,
            );
            if create {
                let phase = Phase::start(printer, &format!("deleting kind cluster `{name}`"));
                match checked(runner, &kube::kind::delete_cluster(name), CREATE_TIMEOUT) {
                    Ok(()) => phase.succeed(""),
                    Err(error) => {
                        phase.fail("");
                        return Err(error);
                    }
                }
            } else {
                printer.warn(&format!("keeping kind cluster `{name}` as it is"));
            }
        }
    }

    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Pull while the cluster is created, not after: both take minutes on a slow link.
        let pulls = scope.spawn(|| {
            images
                .iter()
                .map(|image| {
                    (
                        image.clone(),
                        runner.run(
                            &CommandLine::new("docker", ["pull", image.as_str()]),
                            PULL_TIMEOUT,
                        ),
                    )
                })
                .collect::<Vec<_>>()
        });
        if create {
            let phase = Phase::start(
                printer,
                &format!(
                    "creating kind cluster `{name}` (Kubernetes {})",
                    release.minor
                ),
            );
            let output = runner.run(
                &kube::kind::create_cluster(name, config_path),
                CREATE_TIMEOUT,
            )?;
            if !output.success() {
                phase.fail("kind create cluster failed");
                let tail: Vec<&str> = output.stderr.lines().chain(output.stdout.lines()).collect();
                let shown = tail[tail.len().saturating_sub(25)..].join("\n");
                printer.note(&format!("--- kind's output ---\n{shown}\n---"));
                bail!(
                    "`{}` failed. Common causes: low inotify limits, cgroup v1 with Kubernetes 1.35 or later, too little disk or memory — run `sidecar-lab doctor`; to look inside, run kind again with `--retain` and then `kind export logs`",
                    kube::kind::create_cluster(name, config_path)
                );
            }
            phase.succeed("");
        }
        let phase = Phase::start(printer, "waiting for the node to be Ready");
        let ready = runner.run(&target.wait_nodes_ready(180), Duration::from_secs(200))?;
        if !ready.success() {
            phase.fail("");
            bail!(
                "the node did not become Ready within 180 s: {}",
                first_line(&ready.stderr)
            );
        }
        phase.succeed("");

        let phase = Phase::start(printer, "preloading the lab images into the node");
        let mut problems = Vec::new();
        for (image, pulled) in pulls
            .join()
            .map_err(|_| anyhow!("the image pull thread panicked"))?
        {
            match pulled {
                Ok(output) if output.success() => {}
                Ok(output) => problems.push(format!(
                    "`docker pull {image}`: {}",
                    first_line(&output.stderr)
                )),
                Err(error) => problems.push(error.to_string()),
            }
            if let Err(error) = preload(runner, name, &image, dir) {
                problems.push(format!("{error:#}"));
            }
        }
        if problems.is_empty() {
            phase.succeed(&images.join(", "));
        } else {
            phase.fail("the node will have to pull them itself");
            problems.iter().for_each(|p| printer.warn(p));
        }
        Ok(())
    })
}

/// `docker save` then `kind load image-archive` — not `kind load docker-image`, which
/// fails with Docker's containerd image store (kind#3795).
fn preload(runner: &dyn Runner, cluster: &str, image: &str, dir: &Path) -> anyhow::Result<()> {
    let archive = dir.join(format!("{}.tar", image.replace(['/', ':'], "_")));
    let archive_text = archive.display().to_string();
    let platform = Platform::of_this_build()
        .map(|p| format!("linux/{}", p.arch.name()))
        .unwrap_or_else(|_| "linux/amd64".into());
    // `--platform` keeps a multi-platform image to the node's own; older Docker lacks it.
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
    let saved = runner.run(&with_platform, PULL_TIMEOUT)?;
    if !saved.success() {
        checked(
            runner,
            &CommandLine::new("docker", ["save", "-o", archive_text.as_str(), image]),
            PULL_TIMEOUT,
        )?;
    }
    let loaded = checked(
        runner,
        &kube::kind::load_image_archive(cluster, &archive),
        PULL_TIMEOUT,
    );
    let _ = std::fs::remove_file(&archive);
    loaded
}

/// Step 6: a server-side dry run of the native Job; `Some(false)` when the API server
/// dropped `restartPolicy: Always` (the gate is off).
fn gate_check(
    runner: &dyn Runner,
    target: &kube::Target,
    release: &KubernetesRelease,
    dir: &Path,
    printer: Printer,
    dry_run: bool,
) -> anyhow::Result<Option<bool>> {
    let manifest = dir.join("gate-check-native.yaml");
    let text = render::job_manifest(Variant::Native, None, release)?;
    if dry_run {
        runner.run(&target.dry_run_create(&manifest), SHORT)?;
        return Ok(None);
    }
    write_atomically(&manifest, text.as_bytes())?;
    let phase = Phase::start(printer, "checking that native sidecars work here");
    let output = runner.run(&target.dry_run_create(&manifest), SHORT)?;
    match kube::native_sidecars_kept(&output.stdout).filter(|_| output.success()) {
        Some(true) => {
            phase.succeed("the API server keeps `restartPolicy: Always`");
            Ok(Some(true))
        }
        Some(false) => {
            phase.fail("the API server dropped `restartPolicy: Always`");
            Ok(Some(false))
        }
        None => {
            phase.fail("");
            Err(anyhow!(
                "`{}` did not return the Job: {}",
                target.dry_run_create(&manifest),
                first_line(&output.stderr)
            ))
        }
    }
}

/// Step 8: every step in order; interactively, Enter before each.
fn run_steps(
    up: &Up<'_, '_>,
    lab: &crate::lab::Lab,
    target: &kube::Target,
    state: &mut LabState,
    interrupted: &AtomicBool,
) -> anyhow::Result<Vec<StepRun>> {
    let Up {
        runner,
        world,
        settings,
        release,
        dir,
    } = *up;
    let interactive = !settings.yes && world.environment.stdin_is_terminal && !settings.dry_run;
    let session = Session {
        runner,
        printer: *world.printer,
        target: target.clone(),
        state_dir: dir.to_path_buf(),
        release,
        interrupted,
        dry_run: settings.dry_run,
    };
    let mut runs = Vec::new();
    for number in 1..=lab.steps.len() {
        if interactive {
            let title = lab.step(number).map_or("", |s| s.title.as_str());
            world.printer.note(&format!(
                "\nNext: step {number} of {}, {title}. Press Enter to start (Ctrl-C to stop).",
                lab.steps.len()
            ));
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read from the terminal")?;
        }
        let run = step::run(&session, lab, number)?;
        if !settings.dry_run {
            session::record(state, &run);
            state::save(dir, state)?;
        }
        let stop = run.ending == Ending::Interrupted;
        runs.push(run);
        if stop {
            break;
        }
    }
    Ok(runs)
}

/// Step 9: each step, its verdict, how long it took.
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

fn ensure_namespace(
    runner: &dyn Runner,
    target: &kube::Target,
    printer: Printer,
) -> anyhow::Result<()> {
    if runner.run(&target.get_namespace(), SHORT)?.success() {
        return Ok(());
    }
    printer.note(&format!("$ {}", target.create_namespace()));
    checked(runner, &target.create_namespace(), SHORT)
}

fn checked(runner: &dyn Runner, command: &CommandLine, timeout: Duration) -> anyhow::Result<()> {
    let output = runner.run(command, timeout)?;
    if output.success() {
        Ok(())
    } else {
        Err(anyhow!(
            "`{command}` failed: {}",
            first_line(if output.stderr.trim().is_empty() {
                &output.stdout
            } else {
                &output.stderr
            })
        ))
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
}

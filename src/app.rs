//! Dispatch: resolves the parsed command line against the embedded data, runs the
//! command, and says which exit status the process ends with.

use anyhow::Context;

use crate::class::objects::QuotaLimits;
use crate::cli::{
    ClassCommand, Cli, Command, DockerSourceArg, OutputFormat, RenderCommand, ResultsFormatArg,
    TargetArgs, Tool as ToolArg,
};
use crate::commands;
use crate::env::Environment;
use crate::exit::ExitStatus;
use crate::install::Tool;
use crate::install::docker::DockerSource;
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::names::ClusterName;
use crate::render;
use crate::runner::SystemRunner;
use crate::ui::Printer;
use crate::version::MinorVersion;

/// Runs one command. An `Err` is a usage or setup error: the caller prints it on one
/// line and exits 2.
pub fn run(cli: Cli, environment: &Environment, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let environment = &Environment {
        allow_http: cli.allow_http,
        allow_unpinned: cli.allow_unpinned,
        ..environment.clone()
    };
    if cli.allow_http || cli.allow_unpinned {
        printer.warn(
            "UNSAFE: --allow-http/--allow-unpinned turn off part of the download checks; what a bundle or mirror serves is taken on its word",
        );
    }
    let runner = SystemRunner::new(cli.verbose.then(|| -> crate::runner::Echo {
        let printer = *printer;
        std::sync::Arc::new(move |line: &str| printer.note(line))
    }))
    .preferring(environment.default_bin_dir(), environment.path.clone());
    let http = crate::http::LazyHttpClient::new();
    let world = commands::World {
        environment,
        printer,
        runner: &runner,
        http: &http,
        clock: &crate::clock::SystemClock,
    };
    let result = dispatch(cli.command, &world);
    // A signal outside the steps: the handler is stopping the children and ends the
    // program with 130; the verb, which saw its child die, must not end it first.
    crate::interrupt::await_ending();
    result
}

/// Hands the command, its settings resolved, to its verb.
fn dispatch(command: Command, world: &commands::World<'_>) -> anyhow::Result<ExitStatus> {
    let printer = world.printer;
    match command {
        Command::Render(what) => render_command(what, *printer),
        Command::Versions(args) => {
            printer.out(&versions_text(args.output, &matrix()?)?);
            Ok(ExitStatus::Success)
        }
        Command::Up(args) => {
            let matrix = matrix()?;
            commands::up::up(&up_settings(args, &matrix)?, &matrix, world)
        }
        Command::Step(args) => commands::session::step(
            &commands::session::StepSettings {
                number: args.number,
                place: place(args.target, args.name),
                lab: args.lab,
                dry_run: args.dry_run,
            },
            &matrix()?,
            world,
        ),
        Command::Exercise(args) => exercise_command(args, world),
        Command::Submit(args) => submit_command(args, world),
        Command::Status(args) => commands::session::status(
            &place(args.target, args.name),
            args.output.output == OutputFormat::Json,
            world,
        ),
        Command::Down(args) => {
            commands::session::down(&place(args.target, args.name), args.yes, world)
        }
        Command::Doctor(args) => {
            let matrix = matrix()?;
            commands::doctor::doctor(&doctor_settings(args, &matrix)?, &matrix, world)
        }
        Command::Install(args) => {
            commands::install::install(&install_settings(args), &matrix()?, world)
        }
        Command::Bundle(what) => bundle_command(what, &matrix()?, world),
        Command::Class(what) => class_command(what, world),
        Command::Report(args) => commands::report::report(
            &commands::report::Settings {
                format: results_format(args.output),
                name: args.name,
                merge: args.merge,
                lab: args.lab,
            },
            world,
        ),
        Command::Check(args) => commands::check::run(&check_settings(args)?, printer),
    }
}

/// The version matrix compiled into the binary: parsed here, once, by the arm whose verb
/// needs it, and handed down.
fn matrix() -> anyhow::Result<VersionMatrix> {
    Ok(VersionMatrix::embedded()?)
}

/// The supported versions, as a table or JSON.
fn versions_text(output: OutputFormat, matrix: &VersionMatrix) -> anyhow::Result<String> {
    Ok(match output {
        OutputFormat::Text => commands::versions::table(matrix),
        OutputFormat::Json => commands::versions::json(matrix)?,
    })
}

/// `up`'s settings: the lab and the release resolved here, once, in this order.
fn up_settings(
    args: crate::cli::UpArgs,
    matrix: &VersionMatrix,
) -> anyhow::Result<commands::up::Settings> {
    let lab = commands::lab(args.lab.as_deref())?;
    let release = release(args.kubernetes.kubernetes, matrix)?;
    Ok(commands::up::Settings {
        kubernetes: args.kubernetes.kubernetes,
        release,
        place: place(args.target, args.name),
        lab,
        yes: args.yes,
        dry_run: args.dry_run,
        sequential: args.sequential,
        bundle: args.bundle,
        all_steps: args.all,
    })
}

/// The Kubernetes release `--kubernetes` names, or the default one.
fn release(
    minor: Option<MinorVersion>,
    matrix: &VersionMatrix,
) -> anyhow::Result<KubernetesRelease> {
    Ok(matrix.release_or_default(minor)?.clone())
}

/// `doctor`'s settings: the release resolved here, before any check runs, as before.
fn doctor_settings(
    args: crate::cli::DoctorArgs,
    matrix: &VersionMatrix,
) -> anyhow::Result<commands::doctor::Settings> {
    Ok(commands::doctor::Settings {
        release: release(args.kubernetes.kubernetes, matrix)?,
        cluster_name: args.name,
        fix: args.fix,
        yes: args.yes,
        json: args.output.output == OutputFormat::Json,
        bundle: args.bundle,
    })
}

/// `check`'s settings. `--kubernetes` is looked up here, the matrix parsed only when one
/// was given (a plain check reads no table); `check` says an unknown one once it has
/// read the dump, as before.
fn check_settings(args: crate::cli::CheckArgs) -> anyhow::Result<commands::check::Settings> {
    let kubernetes = match args.kubernetes {
        Some(minor) => Some(matrix()?.release(minor).map(|release| release.minor)),
        None => None,
    };
    Ok(commands::check::Settings {
        from: args.from,
        step: args.step,
        variant: args.variant,
        kubernetes,
        lab: args.lab,
        json: args.output.output == OutputFormat::Json,
    })
}

fn install_settings(args: crate::cli::InstallArgs) -> crate::install::prepare::Settings {
    crate::install::prepare::Settings {
        tools: args
            .tools
            .iter()
            .map(|tool| match tool {
                ToolArg::Docker => Tool::Docker,
                ToolArg::Kind => Tool::Kind,
                ToolArg::Kubectl => Tool::Kubectl,
            })
            .collect(),
        kubernetes: args.kubernetes.kubernetes,
        kind_version: args.kind_version,
        kubectl_version: args.kubectl_version,
        mirror: args.mirror,
        bin_dir: args.bin_dir,
        docker_source: match args.docker_source {
            DockerSourceArg::Distribution => DockerSource::Distribution,
            DockerSourceArg::GetDockerCom => DockerSource::GetDockerCom,
        },
        dry_run: args.dry_run,
        yes: args.yes,
        bundled: None,
        bundle: args.bundle,
    }
}

fn bundle_command(
    what: crate::cli::BundleCommand,
    matrix: &VersionMatrix,
    world: &commands::World<'_>,
) -> anyhow::Result<ExitStatus> {
    use crate::cli::BundleCommand;
    match what {
        BundleCommand::Create(args) => commands::bundle::create(
            matrix,
            &args.kubernetes,
            &args.platform,
            &args.output,
            args.mirror,
            args.dist,
            world,
        ),
        BundleCommand::Check(args) => commands::bundle::check(&args.bundle, matrix, world),
        BundleCommand::Fetch(args) => {
            commands::bundle::fetch(&args.bundle, args.output, matrix, world)
        }
        BundleCommand::Load(args) => {
            commands::bundle::load(&args.bundle, args.kubernetes.kubernetes, matrix, world)
        }
    }
}

fn class_command(what: ClassCommand, world: &commands::World<'_>) -> anyhow::Result<ExitStatus> {
    use commands::class;
    match what {
        ClassCommand::Up(args) => class::up(
            &class::UpSettings {
                context: args.class.context,
                learners: args.learners,
                prefix: args.class.prefix,
                output_dir: args.output_dir,
                duration_seconds: args.duration.seconds(),
                quota: quota(args.quota),
                yes: args.yes,
                dry_run: args.dry_run,
                json: args.output.output == OutputFormat::Json,
            },
            world,
        ),
        ClassCommand::Down(args) => class::down(
            &class::DownSettings {
                context: args.class.context,
                prefix: args.class.prefix,
                output_dir: args.output_dir,
                yes: args.yes,
                dry_run: args.dry_run,
            },
            world,
        ),
        ClassCommand::Board(args) => class::board(
            &class::BoardSettings {
                context: args.class.context,
                prefix: args.class.prefix,
                listen: args.listen,
                stuck_after_seconds: args.stuck_after.saturating_mul(60),
                refresh_seconds: args.refresh,
                lab: args.lab,
            },
            world,
        ),
        ClassCommand::Status(args) => class::status(
            &class::StatusSettings {
                context: args.class.context,
                prefix: args.class.prefix,
                watch: args.watch,
                format: results_format(args.output),
                lab: args.lab,
            },
            world,
        ),
    }
}

fn quota(args: crate::cli::QuotaArgs) -> QuotaLimits {
    QuotaLimits {
        cpu: args.quota_cpu,
        memory: args.quota_memory,
        pods: args.quota_pods,
    }
}

const fn results_format(arg: ResultsFormatArg) -> crate::results::ResultsFormat {
    match arg {
        ResultsFormatArg::Text => crate::results::ResultsFormat::Text,
        ResultsFormatArg::Json => crate::results::ResultsFormat::Json,
        ResultsFormatArg::Junit => crate::results::ResultsFormat::Junit,
    }
}

fn render_command(what: RenderCommand, printer: Printer) -> anyhow::Result<ExitStatus> {
    let palette = printer.stdout_palette();
    let text = match what {
        RenderCommand::Job(args) => {
            let release = release(args.kubernetes.kubernetes, &matrix()?)?;
            render::job_manifest(args.variant, args.name.as_ref(), &release)?
        }
        RenderCommand::Config(args) => {
            let release = release(args.kubernetes.kubernetes, &matrix()?)?;
            render::kind_config_file(&release, &args.name, args.sidecar_gate)?
        }
        RenderCommand::Diff(args) => commands::render::diff(args.from, args.to, &palette)?,
        RenderCommand::Lab(args) => {
            let lab = commands::lab(args.lab.as_deref())?;
            commands::render::lab_text(&lab, &args.namespace, &palette)
                .context("cannot render the lab")?
        }
        RenderCommand::Class(args) => {
            commands::render::class(&args.prefix, args.learners, &quota(args.quota))?
        }
    };
    printer.out(&text);
    Ok(ExitStatus::Success)
}

/// `exercise [N]`, its settings resolved.
fn exercise_command(
    args: crate::cli::ExerciseArgs,
    world: &commands::World<'_>,
) -> anyhow::Result<ExitStatus> {
    commands::exercise::exercise(
        &commands::exercise::Settings {
            number: args.number,
            dir: args.dir,
            force: args.force,
            lab: args.lab,
            json: args.output.output == OutputFormat::Json,
        },
        world,
    )
}

/// `submit N [FILE]`, its settings resolved.
fn submit_command(
    args: crate::cli::SubmitArgs,
    world: &commands::World<'_>,
) -> anyhow::Result<ExitStatus> {
    commands::submit::submit(
        &commands::submit::Settings {
            number: args.number,
            file: args.file,
            place: place(args.target, args.name),
            lab: args.lab,
            dry_run: args.dry_run,
            json: args.output.output == OutputFormat::Json,
        },
        world,
    )
}

/// Where the lab runs, from the command line.
fn place(target: TargetArgs, cluster: ClusterName) -> commands::Where {
    commands::Where {
        context: target.context,
        namespace: target.namespace,
        cluster,
    }
}

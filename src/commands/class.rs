//! `sidecar-lab class up|down|status`: a class on one shared cluster. Each command reads
//! the cluster first, plans (pure, in `class::plan`), shows the plan, asks, then acts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use base64::Engine;
use serde_json::Value;

use crate::class::board::{ClassRead, judge_class};
use crate::class::capacity;
use crate::class::confinement::Confinement;
use crate::class::kubeconfig::{self, CaSource, ClusterAccess, Existing};
use crate::class::objects::{self, ObjectKind, QuotaLimits, Template, manifests};
use crate::class::plan::{self, KubeconfigFound, Observed, UpPlan, Wanted};
use crate::class::policy;
use crate::class::{ClassPrefix, LEARNER_ACCOUNT};
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::kube::class as kubectl;
use crate::results::{Results, ResultsFormat, StepState, junit};
use crate::runner::{CommandLine, Failed, Runner, checked};
use crate::session::state::now;
use crate::session::workspace;
use crate::state::write_private;
use crate::ui::{class as show, prompt};

const READ_TIMEOUT: Duration = Duration::from_secs(60);
const APPLY_TIMEOUT: Duration = Duration::from_secs(600);
const DELETE_SECONDS: u64 = 300;
/// Tokens are requested a few at a time: thirty one after another take seconds that
/// add up, thirty at once would be rude to a small API server.
const TOKEN_WORKERS: usize = 4;

/// `class up`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct UpSettings {
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

/// `class down`'s arguments.
#[derive(Clone, Debug)]
pub struct DownSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub output_dir: PathBuf,
    pub yes: bool,
    pub dry_run: bool,
}

/// `class status`'s arguments.
#[derive(Clone, Debug)]
pub struct StatusSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub watch: bool,
    pub format: ResultsFormat,
    /// The lab the learners run (the built-in one when `None`).
    pub lab: Option<PathBuf>,
}

/// Runs `class up`.
pub fn up(settings: &UpSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let runner = world.runner;
    let context = settings.context.as_str();
    let access = read_access(runner, context)?;
    let ca_data = inline_ca(&access)?;
    let minor = server_minor(runner, context);
    let namespaces = read_json(runner, &kubectl::namespaces(context), "list the namespaces")?;
    let objects = read_json(
        runner,
        &kubectl::class_objects(
            context,
            settings.prefix.label(),
            &objects::resources(policy::served(minor)),
        ),
        "read the class's objects",
    )?;
    let observed = observed(&namespaces, &objects);
    let files = read_kubeconfigs(&settings.output_dir, &settings.prefix, settings.learners);

    let template = Template::embedded()?;
    let rules = Confinement::decide(&template, &settings.prefix, minor, &settings.quota);
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
        server: &access.server,
        now: now(),
        duration_seconds: settings.duration_seconds,
    };
    let plan = plan::plan_up(&wanted, &observed, &files)?;
    let dir = settings.output_dir.display().to_string();
    let duration = human_duration(settings.duration_seconds);
    let heading = format!(
        "Class `{}` on context `{context}` ({}): {} learner(s)",
        settings.prefix.label(),
        access.server,
        settings.learners
    );
    let text = !settings.json;
    let json = |outcome: &str, written: usize| {
        world.printer.out(&show::up_json(
            &show::UpSummary {
                class: settings.prefix.label(),
                context,
                learners: settings.learners,
                outcome,
                kubeconfigs_written: written,
            },
            &plan,
            &rules,
        ));
    };
    if text {
        world
            .printer
            .out(&show::up_plan(&plan, &heading, &dir, &duration));
        world.printer.out(&show::confinement(&rules));
    }
    if let Some(warning) = show::unenforced(&rules) {
        world.printer.warn(&warning);
    }
    if plan.is_empty() {
        if text {
            world.printer.out(&format!(
                "Nothing to change: every learner's objects and kubeconfig are in place ({dir}).\n"
            ));
        } else {
            json("unchanged", 0);
        }
        return Ok(ExitStatus::Success);
    }
    for warning in fit_warnings(runner, settings)? {
        world.printer.warn(&warning);
    }
    if access.is_loopback() {
        world.printer.warn(&format!(
            "the cluster's address {} works only on this machine: learners on other machines need an address they can reach (for kind, set networking.apiServerAddress in the cluster config)",
            access.server
        ));
    }
    if settings.dry_run {
        world.printer.note("dry run: nothing was changed");
        if !text {
            json("dry-run", 0);
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
    apply(runner, context, &plan, world)?;
    let written = issue_tokens(runner, settings, &plan, &access, ca_data.as_deref())?;
    if !text {
        json("applied", written);
        return Ok(ExitStatus::Success);
    }
    let first = settings.prefix.namespace(1);
    world.printer.out(&format!(
        "✓ class `{}` is set up: {} learner(s); {written} kubeconfig(s) written to {dir} (mode 0600), each namespace confined as above.\n  Give each learner their own file; the first one runs:\n    export KUBECONFIG=$PWD/{first}.kubeconfig\n    sidecar-lab step 1 --context {first} --namespace {first}\n  Watch the class with: sidecar-lab class status --context {context} --prefix {} --watch\n",
        settings.prefix.label(),
        settings.learners,
        settings.prefix,
    ));
    Ok(ExitStatus::Success)
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

fn apply(
    runner: &dyn Runner,
    context: &str,
    plan: &UpPlan,
    world: &World<'_>,
) -> anyhow::Result<()> {
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
    checked(runner, &command, APPLY_TIMEOUT)
        .map_err(|e| explain_forbidden(e, "create the class's objects"))?;
    Ok(())
}

/// Requests the planned tokens, a few at a time, and writes each learner's kubeconfig.
fn issue_tokens(
    runner: &dyn Runner,
    settings: &UpSettings,
    plan: &UpPlan,
    access: &ClusterAccess,
    ca_data: Option<&str>,
) -> anyhow::Result<usize> {
    let context = settings.context.as_str();
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<&plan::TokenIssue>> = {
            let mut chunks = vec![Vec::new(); TOKEN_WORKERS];
            for (i, issue) in plan.tokens.iter().enumerate() {
                chunks[i % TOKEN_WORKERS].push(issue);
            }
            chunks
        };
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|issue| {
                            let command = kubectl::create_token(
                                context,
                                &issue.namespace,
                                LEARNER_ACCOUNT,
                                settings.duration_seconds,
                            );
                            let output = checked(runner, &command, READ_TIMEOUT).map_err(|e| {
                                explain_forbidden(e, "request a token (serviceaccounts/token)")
                            })?;
                            let token = token_of(&output.stdout).ok_or_else(|| {
                                anyhow!("`{command}` printed no TokenRequest with a token")
                            })?;
                            let text =
                                kubeconfig::render(access, ca_data, &issue.namespace, &token)?;
                            let path = settings
                                .output_dir
                                .join(format!("{}.kubeconfig", issue.namespace));
                            write_private(&path, text.as_bytes())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(anyhow!("a token worker stopped unexpectedly"))])
            })
            .collect()
    });
    let mut written = 0;
    for result in results {
        result?;
        written += 1;
    }
    Ok(written)
}

/// The token in `kubectl create token -o json`'s TokenRequest.
fn token_of(stdout: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stdout).ok()?;
    Some(value.pointer("/status/token")?.as_str()?.to_owned())
}

/// Runs `class down`.
pub fn down(settings: &DownSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let runner = world.runner;
    let context = settings.context.as_str();
    let minor = server_minor(runner, context);
    let objects = read_json(
        runner,
        &kubectl::class_objects(
            context,
            settings.prefix.label(),
            &objects::resources(policy::served(minor)),
        ),
        "read the class's objects",
    )?;
    let observed = observed(&Value::Null, &objects);
    let on_disk = kubeconfig_files(&settings.output_dir, &settings.prefix);
    let plan = plan::plan_down(&settings.prefix, &observed, &on_disk);
    let dir = settings.output_dir.display().to_string();
    let heading = format!(
        "Class `{}` on context `{context}`:",
        settings.prefix.label()
    );
    if plan.is_empty() {
        world.printer.out(&format!(
            "{heading} nothing labelled `{}={}` is left; nothing to do.\n",
            crate::class::CLASS_LABEL,
            settings.prefix.label()
        ));
        return Ok(ExitStatus::Success);
    }
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
    for namespace in &plan.kubeconfigs {
        let path = settings.output_dir.join(format!("{namespace}.kubeconfig"));
        std::fs::remove_file(&path)
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .with_context(|| format!("cannot remove `{}`", path.display()))?;
    }
    world.printer.out(&format!(
        "✓ class `{}` removed: {} namespace(s), {} kubeconfig file(s)\n",
        settings.prefix.label(),
        plan.namespaces.len(),
        plan.kubeconfigs.len()
    ));
    Ok(ExitStatus::Success)
}

/// Runs `class status`.
pub fn status(settings: &StatusSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let lab = workspace::lab(settings.lab.as_deref())?;
    let minor = server_minor(world.runner, &settings.context);
    let refresh = || {
        class_results(
            world.runner,
            &settings.context,
            &settings.prefix,
            &lab,
            minor,
        )
    };
    if !settings.watch {
        let results = refresh()?;
        world.printer.out(&match settings.format {
            ResultsFormat::Json => results.to_json(),
            ResultsFormat::Junit => junit::to_junit(&results),
            ResultsFormat::Text => board_text(settings, &results, world),
        });
        // As `step` does: a step that went wrong is an exit status scripts can read.
        let unexpected = results
            .suites
            .iter()
            .flat_map(|s| &s.steps)
            .any(|step| step.state == StepState::Unexpected);
        return Ok(if unexpected {
            ExitStatus::Unexpected
        } else {
            ExitStatus::Success
        });
    }
    if settings.format != ResultsFormat::Text {
        return Err(anyhow!(
            "--watch draws the board as text; drop -o (or run `class status -o {}` once, without --watch)",
            if settings.format == ResultsFormat::Json {
                "json"
            } else {
                "junit"
            }
        ));
    }
    watch(settings, world, &refresh)
}

fn board_text(settings: &StatusSettings, results: &Results, world: &World<'_>) -> String {
    let palette = world.printer.stdout_palette();
    if results.suites.is_empty() {
        return format!(
            "No learner namespace labelled `{}={}` on context `{}`: set the class up with `sidecar-lab class up`, or give the --prefix it was made with.\n",
            crate::class::CLASS_LABEL,
            settings.prefix.label(),
            settings.context
        );
    }
    format!(
        "{}\n{}\n\n{}",
        palette.heading.apply_to(format!(
            "Class `{}` on context `{}`",
            settings.prefix.label(),
            settings.context
        )),
        show::summary(results),
        show::board(results, world.printer.stdout_fancy(), &palette)
    )
}

/// Redraws the board about once a second until Ctrl-C: in place on a terminal, else one
/// line per learner and step whose state changed.
fn watch(
    settings: &StatusSettings,
    world: &World<'_>,
    refresh: &dyn Fn() -> anyhow::Result<Results>,
) -> anyhow::Result<ExitStatus> {
    let interrupted = crate::interrupt::flag();
    let terminal = world.environment.stdout_is_terminal;
    let mut drawn_lines = 0usize;
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    let mut last_problem = String::new();
    while !interrupted.load(Ordering::SeqCst) {
        let started = Instant::now();
        match refresh() {
            Ok(results) => {
                last_problem.clear();
                if terminal {
                    let text = board_text(settings, &results, world);
                    let term = console::Term::stdout();
                    let _ = term.clear_last_lines(drawn_lines);
                    world.printer.out(&text);
                    drawn_lines = text.lines().count();
                } else {
                    for (key, value) in show::cell_lines(&results) {
                        if last.get(&key) != Some(&value) {
                            world
                                .printer
                                .out(&format!("{} {key}: {value}\n", results.generated_at));
                            last.insert(key, value);
                        }
                    }
                }
            }
            Err(error) => {
                // A failing read is reported when its message changes, not every second.
                let message = crate::exit::one_line(&error);
                if message != last_problem {
                    world.printer.warn(&message);
                    last_problem = message;
                }
            }
        }
        let rest = Duration::from_secs(1).saturating_sub(started.elapsed());
        let until = Instant::now() + rest;
        while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(ExitStatus::Success)
}

/// The cluster's Kubernetes minor, read once (version rules need it); `None` when the
/// server does not say, and the newest rules apply.
fn server_minor(runner: &dyn Runner, context: &str) -> Option<crate::version::MinorVersion> {
    runner
        .run(&kubectl::version(context), Duration::from_secs(30))
        .ok()
        .filter(crate::runner::Output::success)
        .and_then(|o| crate::kube::server_minor(&o.stdout))
}

/// One refresh: the board's one read, judged.
fn class_results(
    runner: &dyn Runner,
    context: &str,
    prefix: &ClassPrefix,
    lab: &crate::lab::Lab,
    minor: Option<crate::version::MinorVersion>,
) -> anyhow::Result<Results> {
    let read = read_board(runner, context)?;
    let read = ClassRead::parse(read.as_bytes(), prefix)?;
    let at = now();
    Ok(Results::new(
        at.to_string(),
        format!("class status of `{}` on context {context}", prefix.label()),
        judge_class(&read, lab, minor, at),
    ))
}

/// `class board`'s arguments.
#[derive(Clone, Debug)]
pub struct BoardSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub listen: std::net::SocketAddr,
    pub stuck_after_seconds: u64,
    pub refresh_seconds: u64,
    pub lab: Option<PathBuf>,
}

/// Runs `class board`: reads the cluster once per refresh and serves the page until
/// Ctrl-C.
pub fn board(settings: &BoardSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    use crate::board::server::{Latest, ServerSettings, new_token, serve};
    use std::sync::{Arc, Mutex};

    let lab = workspace::lab(settings.lab.as_deref())?;
    let listener = std::net::TcpListener::bind(settings.listen).with_context(|| {
        format!(
            "cannot listen on {}: is another board (or program) using it? Choose another with --listen",
            settings.listen
        )
    })?;
    let address = listener.local_addr().unwrap_or(settings.listen);
    let token = if address.ip().is_loopback() {
        None
    } else {
        Some(new_token().context("cannot make an access token from /dev/urandom")?)
    };
    let url = match &token {
        Some(token) => format!("http://{address}/?token={token}"),
        None => format!("http://{address}/"),
    };
    if address.ip().is_unspecified() {
        world.printer.note(&format!(
            "{} means every address of this machine: on the projector, use one the room can reach (`hostname -I` lists them)",
            address.ip()
        ));
    }
    if token.is_some() {
        world.printer.warn(&format!(
            "the board listens on {address}, beyond this machine: anyone who can reach it and has the token can read every learner's progress. Share the URL only with the room"
        ));
    }
    world.printer.out(&format!(
        "Class board of `{}` on context `{}`: {url}\n(one read of the cluster every {} s; Ctrl-C stops it)\n",
        settings.prefix.label(),
        settings.context,
        settings.refresh_seconds
    ));
    let latest = Arc::new(Mutex::new(Latest::default()));
    let server_settings = Arc::new(ServerSettings {
        title: format!("Class {} — sidecar-lab", settings.prefix.label()),
        token,
        stuck_after_seconds: settings.stuck_after_seconds,
        refresh_seconds: settings.refresh_seconds,
    });
    let interrupted = crate::interrupt::flag();
    let minor = server_minor(world.runner, &settings.context);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Builder, not `scope.spawn`: a process out of threads gets an error, not a panic.
        std::thread::Builder::new()
            .name("board-server".to_owned())
            .spawn_scoped(scope, || {
                serve(&listener, &latest, &server_settings, &interrupted);
            })
            .context("cannot start the board's server thread: the system is out of threads or memory; stop other programs and run `sidecar-lab class board` again")?;
        let mut last_problem = String::new();
        while !interrupted.load(Ordering::SeqCst) {
            let started = Instant::now();
            let read = class_results(
                world.runner,
                &settings.context,
                &settings.prefix,
                &lab,
                minor,
            );
            if let Ok(mut shared) = latest.lock() {
                match read {
                    Ok(results) => {
                        shared.results = Some(results);
                        shared.problem = None;
                        last_problem.clear();
                    }
                    Err(error) => {
                        let message = crate::exit::one_line(&error);
                        if message != last_problem {
                            world.printer.warn(&message);
                            last_problem.clone_from(&message);
                        }
                        shared.problem = Some(message);
                    }
                }
            }
            let until = started + Duration::from_secs(settings.refresh_seconds.max(1));
            while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

/// The board's one read.
fn read_board(runner: &dyn Runner, context: &str) -> anyhow::Result<String> {
    let command = kubectl::board(context);
    let output = checked(runner, &command, READ_TIMEOUT).map_err(|e| {
        explain_forbidden(
            e,
            "read the class (class status needs get and list on namespaces, jobs.batch and pods in all namespaces)",
        )
    })?;
    Ok(output.stdout)
}

fn read_access(runner: &dyn Runner, context: &str) -> anyhow::Result<ClusterAccess> {
    let command = kubectl::cluster_access(context);
    let output = checked(runner, &command, READ_TIMEOUT)
        .with_context(|| format!("cannot read context `{context}` from the kubeconfig; `kubectl config get-contexts` lists them"))?;
    ClusterAccess::from_minified(&output.stdout).with_context(|| format!("context `{context}`"))
}

/// The CA, inline: a learner's kubeconfig travels to another machine.
fn inline_ca(access: &ClusterAccess) -> anyhow::Result<Option<String>> {
    Ok(match &access.ca {
        CaSource::Data(data) => Some(data.clone()),
        CaSource::File(file) => {
            let bytes = std::fs::read(file).with_context(|| {
                format!(
                    "cannot read the cluster's CA certificate `{file}` (named by the kubeconfig)"
                )
            })?;
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        CaSource::None => None,
    })
}

fn read_json(runner: &dyn Runner, command: &CommandLine, what: &str) -> anyhow::Result<Value> {
    let output = checked(runner, command, READ_TIMEOUT).map_err(|e| explain_forbidden(e, what))?;
    serde_json::from_str(&output.stdout)
        .with_context(|| format!("`{command}` printed something that is not JSON"))
}

/// A Forbidden answer becomes "you may not X: ask for Y"; anything else stays as it is.
fn explain_forbidden(error: anyhow::Error, what: &str) -> anyhow::Error {
    let missing = error
        .downcast_ref::<Failed>()
        .and_then(|failed| kubectl::missing_permission(&failed.tail));
    match missing {
        Some(missing) => anyhow!(
            "cannot {what}: user `{}` may not {} {} {}. Use a context with that permission (an admin's, or a ClusterRole that grants it)",
            missing.user,
            missing.verb,
            missing.resource,
            missing.scope
        ),
        None => error.context(format!("cannot {what}")),
    }
}

/// What the two reads found.
fn observed(namespaces: &Value, objects: &Value) -> Observed {
    let mut out = Observed::default();
    let items = |v: &Value| {
        v.get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for item in items(namespaces) {
        let name = item.pointer("/metadata/name").and_then(Value::as_str);
        let labels = item
            .pointer("/metadata/labels")
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default();
        if let Some(name) = name {
            out.namespaces.insert(name.to_owned(), labels);
        }
    }
    for item in items(objects) {
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .and_then(ObjectKind::from_kind);
        let name = item.pointer("/metadata/name").and_then(Value::as_str);
        let (Some(kind), Some(name)) = (kind, name) else {
            continue;
        };
        let namespace = if kind == ObjectKind::Namespace {
            name.to_owned()
        } else {
            item.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        out.objects.insert((kind, namespace, name.to_owned()), item);
    }
    out
}

/// The learner kubeconfigs found in `dir` for learners 1..=learners.
fn read_kubeconfigs(
    dir: &Path,
    prefix: &ClassPrefix,
    learners: u32,
) -> BTreeMap<String, KubeconfigFound> {
    (1..=learners)
        .map(|n| {
            let namespace = prefix.namespace(n);
            let path = dir.join(format!("{namespace}.kubeconfig"));
            let found = match std::fs::read_to_string(&path) {
                Err(_) => KubeconfigFound::Missing,
                Ok(text) => Existing::parse(&text)
                    .map_or(KubeconfigFound::Unreadable, KubeconfigFound::Found),
            };
            (namespace, found)
        })
        .collect()
}

/// The namespaces whose kubeconfig file is in `dir`.
fn kubeconfig_files(dir: &Path, prefix: &ClassPrefix) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let namespace = name.strip_suffix(".kubeconfig")?;
            prefix.learner(namespace).map(|_| namespace.to_owned())
        })
        .collect()
}

/// `8h`, `90m`, `45s`.
fn human_duration(seconds: u64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

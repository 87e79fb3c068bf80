//! `up` run in-process: the library's entry point with a `World` whose runner answers
//! docker, kind and kubectl from a script (and records what ran) and whose clock is fake.
//! It proves what the plan says is what runs: `up --yes` on a host that has everything
//! creates the cluster from the config it wrote, and `--dry-run` changes nothing.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sidecar_lab::clock::FakeClock;
use sidecar_lab::commands::{self, World};
use sidecar_lab::env::Environment;
use sidecar_lab::exit::ExitStatus;
use sidecar_lab::http::LazyHttpClient;
use sidecar_lab::lab::Lab;
use sidecar_lab::matrix::{GateChoice, KubernetesRelease, VersionMatrix};
use sidecar_lab::names::ClusterName;
use sidecar_lab::runner::Output;
use sidecar_lab::runner::scripted::ScriptedRunner;
use sidecar_lab::ui::Printer;

/// A host with Docker running, kind and kubectl at the lab's versions, and no cluster
/// until `kind create cluster` makes one. Every command is recorded as it would print.
fn scripted_host(release: &KubernetesRelease) -> ScriptedRunner {
    let release = release.clone();
    ScriptedRunner::new().respond(move |command, earlier| {
        // Found on PATH or in the bin dir, a tool may be named by its full path.
        let program = Path::new(&command.program)
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let args: Vec<&str> = command.args.iter().map(String::as_str).collect();
        let cluster = earlier.iter().any(|line| creates_the_cluster(line));
        Some(answer(&release, cluster, program, &args))
    })
}

/// Whether `line` is the `kind create` the host answers by making the cluster.
fn creates_the_cluster(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let program = words
        .next()
        .and_then(|p| Path::new(p).file_name())
        .and_then(|p| p.to_str());
    program == Some("kind") && words.next() == Some("create")
}

fn has_cluster(host: &ScriptedRunner) -> bool {
    host.calls().iter().any(|line| creates_the_cluster(line))
}

fn answer(release: &KubernetesRelease, cluster: bool, program: &str, args: &[&str]) -> Output {
    let has = |word: &str| args.contains(&word);
    #[allow(
        clippy::match_same_arms,
        reason = "one arm per command the stand-ins answer, in the order `up` runs them"
    )]
    match (program, args.first().copied().unwrap_or_default()) {
        ("docker", "version") => ok(
            r#"{"Client":{"Version":"28.2.2","ApiVersion":"1.50"},"Server":{"Version":"28.2.2","ApiVersion":"1.50","Os":"linux","Arch":"amd64"}}"#,
        ),
        ("docker", "info") => ok(&serde_json::json!({
            "ServerVersion": "28.2.2", "CgroupVersion": "2", "CgroupDriver": "systemd",
            "DockerRootDir": "/var/lib/docker", "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
            "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "NCPU": 4,
            "MemTotal": 16_000_000_000_u64, "Name": "scripted",
        })
        .to_string()),
        ("stat", _) => ok("cgroup2fs"),
        ("docker", "image" | "save") => ok(""),
        ("sysctl", _) if has("fs.inotify.max_user_watches") => ok("524288"),
        ("sysctl", _) if has("fs.inotify.max_user_instances") => ok("512"),
        ("df", _) => ok(
            "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 200000000 1000 190000000 1% /\n",
        ),
        ("id", _) => ok("1000"),
        ("kind", "version") => ok(&format!("kind {} go1.24.0 linux/amd64", release.kind)),
        ("kind", "get") if has("clusters") => ok(if cluster { "sidecar-lab" } else { "" }),
        ("kind", "create") => ok(""),
        ("kind", "load") => ok(""),
        ("kubectl", "version") if has("--client") => ok(&format!(
            r#"{{"clientVersion":{{"gitVersion":"{}"}}}}"#,
            release.kubectl
        )),
        ("kubectl", "config") if has("get-contexts") => {
            ok(if cluster { "kind-sidecar-lab" } else { "" })
        }
        ("kubectl", _) if has("wait") => ok("node/sidecar-lab-control-plane condition met"),
        ("kubectl", _) if has("--dry-run=server") => ok(&serde_json::json!({
            "kind": "Job",
            "spec": {"template": {"spec": {"initContainers": [
                {"name": "proxy", "restartPolicy": "Always"}
            ]}}}
        })
        .to_string()),
        _ => Output {
            code: Some(1),
            stdout: String::new(),
            stderr: format!("not scripted: {program} {}", args.join(" ")),
        },
    }
}

fn ok(stdout: &str) -> Output {
    Output {
        code: Some(0),
        stdout: format!("{stdout}\n"),
        stderr: String::new(),
    }
}

/// A home with docker, kind and kubectl on PATH (files that are never run: the scripted
/// runner answers for them).
struct Home {
    _dir: tempfile::TempDir,
    environment: Environment,
    state_dir: PathBuf,
}

fn home() -> Home {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for tool in ["docker", "kind", "kubectl", "dockerd"] {
        let path = bin.join(tool);
        std::fs::write(&path, "#!/bin/sh\nexit 99\n").expect("tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("mode");
    }
    let environment = Environment {
        no_color: true,
        home: Some(dir.path().join("home")),
        path: Some(bin.display().to_string()),
        user: Some("learner".into()),
        xdg_state_home: Some(dir.path().join("state")),
        platform_override: Some("linux-amd64".into()),
        ..Environment::default()
    };
    let state_dir = dir.path().join("state/sidecar-lab");
    Home {
        _dir: dir,
        environment,
        state_dir,
    }
}

fn release() -> KubernetesRelease {
    VersionMatrix::embedded()
        .expect("matrix")
        .release_or_default(None)
        .expect("default release")
        .clone()
}

/// The built-in lab with every step optional, so `up` stops after the gate check: the
/// steps are the watcher's to test.
fn lab_without_steps() -> Lab {
    let mut lab = Lab::embedded().expect("lab");
    for step in &mut lab.steps {
        step.optional = true;
    }
    lab
}

fn settings(dry_run: bool) -> commands::up::Settings {
    commands::up::Settings {
        kubernetes: None,
        release: release(),
        place: commands::Where {
            context: None,
            namespace: None,
            cluster: ClusterName::default_name(),
        },
        lab: lab_without_steps(),
        yes: true,
        dry_run,
        sequential: false,
        bundle: None,
        all_steps: false,
    }
}

fn run_up(dry_run: bool) -> (Home, ScriptedRunner, anyhow::Result<ExitStatus>) {
    let home = home();
    let host = scripted_host(&release());
    let printer = Printer::new(&home.environment);
    let clock = FakeClock::at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let http = LazyHttpClient::new();
    let world = World {
        environment: &home.environment,
        printer: &printer,
        runner: &host,
        http: &http,
        clock: &clock,
    };
    let matrix = VersionMatrix::embedded().expect("the embedded matrix");
    let status = commands::up::up(&settings(dry_run), &matrix, &world);
    (home, host, status)
}

/// What changes a machine: anything that creates, deletes, loads, pulls, saves or applies.
fn changes_the_machine(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    let has = |word: &str| words.contains(&word);
    let program = words
        .first()
        .and_then(|p| Path::new(p).file_name())
        .and_then(|p| p.to_str())
        .unwrap_or_default();
    match program {
        "kind" => has("create") || has("delete") || has("load") || has("export"),
        "docker" => has("pull") || has("save") || has("load") || has("run") || has("rm"),
        "kubectl" => {
            (has("apply") || has("delete") || has("create") || has("patch"))
                && !has("--dry-run=server")
        }
        "sysctl" => has("-w"),
        _ => !matches!(program, "stat" | "df" | "id"),
    }
}

#[test]
fn up_yes_on_a_ready_host_creates_the_cluster_from_the_config_it_wrote() {
    let (home, host, status) = run_up(false);
    let ran = host.calls();
    assert_eq!(
        status.expect("up succeeds"),
        ExitStatus::Success,
        "ran:\n{}",
        ran.join("\n")
    );
    let config = home.state_dir.join("kind-sidecar-lab.yaml");
    let create = format!(
        "kind create cluster --name sidecar-lab --config {}",
        config.display()
    );
    let created: Vec<&String> = ran.iter().filter(|c| c.starts_with(&create)).collect();
    assert_eq!(created.len(), 1, "one `{create}` in:\n{}", ran.join("\n"));
    // The config the cluster was made from is the one the plan rendered.
    let written = std::fs::read_to_string(&config).expect("the kind config was written");
    let planned = sidecar_lab::render::kind_config_file(
        &release(),
        &ClusterName::default_name(),
        GateChoice::Auto,
    )
    .expect("config");
    assert_eq!(written, planned);
    // The cluster is made after the host was read, the node waited for after it is made,
    // and the gate checked last.
    let position = |what: &str| {
        ran.iter()
            .position(|c| c.contains(what))
            .unwrap_or_else(|| panic!("`{what}` did not run:\n{}", ran.join("\n")))
    };
    assert!(position("docker version") < position("kind create cluster"));
    assert!(position("kind create cluster") < position("wait"));
    assert!(position("wait") < position("--dry-run=server"));
    let state = std::fs::read_to_string(home.state_dir.join("state.json")).expect("state");
    assert!(state.contains("sidecar-lab"), "{state}");
}

#[test]
fn up_dry_run_runs_nothing_that_changes_the_machine() {
    let (home, host, status) = run_up(true);
    let ran = host.calls();
    assert_eq!(status.expect("dry run succeeds"), ExitStatus::Success);
    assert!(!ran.is_empty(), "a dry run reads the host");
    let changing: Vec<&String> = ran.iter().filter(|c| changes_the_machine(c)).collect();
    assert!(
        changing.is_empty(),
        "a dry run changed the machine: {changing:?}"
    );
    assert!(!has_cluster(&host));
    assert!(
        !home.state_dir.join("state.json").exists(),
        "a dry run writes no state"
    );
    assert!(!home.state_dir.join("kind-sidecar-lab.yaml").exists());
}

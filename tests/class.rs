//! A class on one shared cluster, with the real kubectl against the simulated cluster
//! (tests/sim), RBAC enforced for the learners' ServiceAccount tokens: `class up` for
//! thirty learners, their kubeconfigs locked to their namespaces, the board judging
//! learners at mixed progress from one read, JUnit that validates against a schema,
//! `class down` leaving nothing behind; and `report` on a single VM.
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
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::sim::{Sim, python};

const CONTEXT: &str = "kind-sidecar-lab";

/// One classroom: a simulator with the kind cluster `sidecar-lab`, the instructor's
/// home (whose kubeconfig has the admin context) and a lab file with short holds.
struct Classroom {
    root: tempfile::TempDir,
    sim: Sim,
}

impl Classroom {
    /// A classroom whose one node has `cpus` CPUs.
    fn new(minor: &str, cpus: u32) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(root.path(), 1.0);
        std::fs::write(
            sim.dir.join("kind-version.json"),
            json!({ "cpu": cpus.to_string() }).to_string(),
        )
        .expect("node size");
        let room = Self { root, sim };
        std::fs::create_dir_all(room.home()).expect("home");
        let lab = include_str!("../labs/native-sidecar.yaml")
            .replace("holdSeconds: 10", "holdSeconds: 2")
            .replace("timeoutSeconds: 180", "timeoutSeconds: 40");
        std::fs::write(room.lab(), lab).expect("lab");
        let config = room.run(&["render", "config", "-k", minor]);
        assert_code(&config, 0);
        let config_path = room.root.path().join("kind.yaml");
        std::fs::write(&config_path, &config.stdout).expect("config");
        let created = room.tool(
            "kind",
            &[
                "create",
                "cluster",
                "--name",
                "sidecar-lab",
                "--config",
                config_path.to_str().expect("utf-8"),
            ],
            None,
        );
        assert_code(&created, 0);
        room.sim.control(
            "POST",
            "/clusters/sidecar-lab/images",
            &json!({"images": ["postgres:17.5-alpine"]}),
        );
        room
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn lab(&self) -> String {
        self.root.path().join("lab.yaml").display().to_string()
    }

    fn kubeconfigs(&self) -> PathBuf {
        self.root.path().join("kubeconfigs")
    }

    fn kubeconfig(&self, learner: u32) -> PathBuf {
        self.kubeconfigs()
            .join(format!("learner-{learner:02}.kubeconfig"))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"));
        command.args(args).current_dir(self.root.path());
        self.sim.prepare(&mut command, &self.home());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs")
    }

    /// A tool on the classroom's PATH; with `kubeconfig`, as the learner of that file.
    fn tool(&self, name: &str, args: &[&str], kubeconfig: Option<&Path>) -> Output {
        let mut command = Command::new(self.sim.bin.join(name));
        command.args(args);
        self.sim.prepare(&mut command, &self.home());
        if let Some(file) = kubeconfig {
            command.env("KUBECONFIG", file);
        }
        command.output().expect("tool runs")
    }

    fn admin(&self, args: &[&str]) -> Output {
        let mut all = vec!["--context", CONTEXT];
        all.extend_from_slice(args);
        self.tool("kubectl", &all, None)
    }

    fn learner(&self, learner: u32, args: &[&str]) -> Output {
        self.tool("kubectl", args, Some(&self.kubeconfig(learner)))
    }

    fn class_up(&self, learners: u32, extra: &[&str]) -> Output {
        let learners = learners.to_string();
        let dir = self.kubeconfigs().display().to_string();
        let mut args = vec![
            "class",
            "up",
            "--context",
            CONTEXT,
            "--learners",
            learners.as_str(),
            "--output-dir",
            dir.as_str(),
            "--yes",
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `sidecar-lab step N` as learner `learner`, with their kubeconfig and a home of
    /// their own, on the shared cluster (their context and namespace).
    fn learner_step(&self, learner: u32, number: &str) -> Output {
        let namespace = format!("learner-{learner:02}");
        let lab = self.lab();
        let mut step = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"));
        step.args([
            "step",
            number,
            "--context",
            &namespace,
            "--namespace",
            &namespace,
            "--lab",
            &lab,
        ]);
        self.sim.prepare(
            &mut step,
            &self.root.path().join(format!("home-{namespace}")),
        );
        step.env("KUBECONFIG", self.kubeconfig(learner));
        step.output().expect("step runs")
    }

    fn status(&self, format: &str) -> Output {
        let lab = self.lab();
        self.run(&[
            "class",
            "status",
            "--context",
            CONTEXT,
            "--lab",
            &lab,
            "-o",
            format,
        ])
    }

    /// The API requests that changed something.
    fn writes(&self) -> Vec<String> {
        self.sim
            .requests("sidecar-lab")
            .iter()
            .filter(|r| r["method"] != "GET")
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["path"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Learner `learner` starts the step with `variant`, as `sidecar-lab step` would: the
    /// lab's Job, applied with the learner's own kubeconfig. `edit` changes the manifest.
    fn start_step(&self, learner: u32, variant: &str, edit: &dyn Fn(String) -> String) {
        let manifest = self.run(&["render", "job", "--variant", variant]);
        assert_code(&manifest, 0);
        let path = self
            .root
            .path()
            .join(format!("learner-{learner:02}-{variant}.yaml"));
        std::fs::write(&path, edit(text(&manifest.stdout))).expect("manifest");
        let namespace = format!("learner-{learner:02}");
        let applied = self.learner(
            learner,
            &[
                "apply",
                "-n",
                &namespace,
                "-f",
                path.to_str().expect("utf-8"),
            ],
        );
        assert_code(&applied, 0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_code(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit code\nstdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn assert_forbidden(output: &Output, what: &str) {
    assert_code(output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is forbidden: User") && stderr.contains(what),
        "expected Forbidden naming {what}:\n{stderr}"
    );
}

/// Mixed progress: learner n has run steps 1..=(n % 4); learner 4 ran a native step
/// whose postgres lost `restartPolicy: Always` (judged unexpected).
fn mixed_progress(room: &Classroom) {
    let variants = ["init", "sidecar", "native"];
    for n in 1..=30u32 {
        for variant in variants.iter().take((n % 4) as usize) {
            room.start_step(n, variant, &|m| m);
        }
    }
    room.start_step(4, "native", &|m| m.replace("restartPolicy: Always", ""));
}

/// One tile as the browser checker reads it: the learner, its steps' states, and its
/// exercises as (number, attempts, solved).
type Tile = (String, Vec<String>, Vec<(String, String, String)>);

/// Starts `class board` with `args` after the context; returns it and the URL it prints.
fn start_board(room: &Classroom, args: &[&str]) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut all = vec!["class", "board", "--context", CONTEXT];
    all.extend_from_slice(args);
    let mut board = room
        .command(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("board starts");
    let mut first = String::new();
    BufReader::new(board.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("the board prints its URL");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    // The first read of the cluster.
    std::thread::sleep(Duration::from_millis(1500));
    (board, url)
}

/// Polls `class status -o json` until no step is `running`, or 60 s.
fn settled(room: &Classroom) -> Value {
    let start = Instant::now();
    loop {
        let output = room.status("json");
        // 1 once a step is unexpected (learner 4's), as `step` exits.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            text(&output.stderr)
        );
        let results: Value = serde_json::from_slice(&output.stdout).expect("JSON results");
        let running = results["suites"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["steps"].as_array().cloned().unwrap_or_default())
            .any(|s| s["state"] == "running");
        if !running || start.elapsed() > Duration::from_secs(60) {
            return results;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Validates `xml` against tests/fixtures/junit/junit.xsd (Python's xmlschema).
fn validate_junit(xml: &str, dir: &Path) -> Result<(), String> {
    let file = dir.join("results.xml");
    std::fs::write(&file, xml).expect("junit file");
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit/junit.xsd");
    let output = Command::new(python())
        .args([
            "-c",
            "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        ])
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("python runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(text(&output.stderr))
    }
}

#[test]
fn a_class_of_thirty_is_set_up_locked_down_judged_and_removed() {
    use std::os::unix::fs::PermissionsExt;

    let room = Classroom::new("1.35", 16);
    let up = room.class_up(30, &["--quota-cpu", "2", "--quota-pods", "10"]);
    assert_code(&up, 0);
    assert!(
        text(&up.stdout).contains("30 kubeconfig(s) written"),
        "{}",
        text(&up.stdout)
    );
    for n in 1..=30 {
        let meta = std::fs::metadata(room.kubeconfig(n)).expect("kubeconfig");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "learner {n}");
    }

    // A second run creates nothing, and says so.
    let writes = room.writes().len();
    let again = room.class_up(30, &["--quota-cpu", "2", "--quota-pods", "10"]);
    assert_code(&again, 0);
    assert!(
        text(&again.stdout).contains("Nothing to change"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(room.writes().len(), writes, "the second class up wrote");

    // A learner reaches their own namespace and nothing else.
    assert_code(&room.learner(1, &["get", "pods"]), 0);
    assert_forbidden(
        &room.learner(1, &["get", "pods", "-n", "learner-02"]),
        "\"learner-02\"",
    );
    assert_forbidden(
        &room.learner(1, &["get", "jobs", "-n", "learner-02"]),
        "\"learner-02\"",
    );
    assert_forbidden(
        &room.learner(1, &["get", "pods", "-A"]),
        "at the cluster scope",
    );
    assert_forbidden(&room.learner(1, &["get", "nodes"]), "at the cluster scope");
    assert_forbidden(
        &room.learner(1, &["get", "namespaces"]),
        "at the cluster scope",
    );
    assert_forbidden(
        &room.learner(1, &["create", "token", "learner", "-n", "learner-01"]),
        "serviceaccounts/token",
    );
    assert_forbidden(
        &room.learner(1, &["delete", "resourcequota", "sidecar-lab-learner"]),
        "resourcequotas",
    );

    mixed_progress(&room);
    let results = settled(&room);
    let suites = results["suites"].as_array().expect("suites");
    assert_eq!(suites.len(), 30);
    for (index, suite) in suites.iter().enumerate() {
        let n = u32::try_from(index + 1).expect("small");
        assert_eq!(suite["name"], format!("learner-{n:02}"));
        // The three variants; the later, optional steps nobody ran here.
        let states: Vec<&str> = suite["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .take(3)
            .map(|s| s["state"].as_str().unwrap_or(""))
            .collect();
        let done = (n % 4) as usize;
        let mut wanted: Vec<&str> = (0..3)
            .map(|i| if i < done { "expected" } else { "not-started" })
            .collect();
        if n == 4 {
            wanted[2] = "unexpected";
        }
        assert_eq!(states, wanted, "learner {n}: {suite}");
    }
    let broken = &suites[3]["steps"][2];
    assert_eq!(broken["finding"], "variant-mismatch", "{broken}");

    // One cluster read per refresh: one list of each kind, never one call per learner.
    let before = room.sim.requests("sidecar-lab").len();
    // Learner 4's step 3 is unexpected: `class status` says so in its exit status.
    assert_code(&room.status("text"), 1);
    let lists: Vec<String> = room.sim.requests("sidecar-lab")[before..]
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .filter(|p| {
            p.ends_with("/namespaces")
                || p.ends_with("/jobs")
                || p.ends_with("/pods")
                || p.ends_with("/configmaps")
        })
        .collect();
    assert_eq!(
        lists,
        [
            "/api/v1/namespaces",
            "/apis/batch/v1/jobs",
            "/api/v1/pods",
            "/api/v1/configmaps"
        ]
    );

    // JUnit: valid against the schema, one suite per learner, one case per step and
    // per exercise (nobody tried one here: skipped).
    let junit = room.status("junit");
    assert_code(&junit, 1);
    let xml = text(&junit.stdout);
    validate_junit(&xml, room.root.path()).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(xml.matches("<testsuite ").count(), 30);
    let steps = include_str!("../labs/native-sidecar.yaml")
        .matches("\n  - title:")
        .count();
    let exercises = include_str!("../labs/exercises.yaml")
        .matches("\n  - number:")
        .count();
    assert_eq!(xml.matches("<testcase ").count(), 30 * (steps + exercises));
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert!(xml.contains("<failure type=\"variant-mismatch\""), "{xml}");

    // The board as a learner: it says which permissions it needs and one that is
    // missing (kubectl refuses each of the four lists; the last lines name three).
    let as_learner = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"))
        .args(["class", "status", "--context", "learner-01"])
        .env_clear()
        .env("HOME", room.home())
        .env("PATH", format!("{}:/usr/bin:/bin", room.sim.bin.display()))
        .env("KUBECONFIG", room.kubeconfig(1))
        .output()
        .expect("runs");
    assert_code(&as_learner, 2);
    let error = text(&as_learner.stderr);
    assert!(
        error.contains(
            "class status needs get and list on namespaces, jobs.batch, pods and configmaps in all namespaces"
        ) && error.contains("may not list jobs.batch at the cluster scope"),
        "{error}"
    );

    // Down removes the class, only the class, and its kubeconfigs; tokens stop working.
    room.admin(&["create", "namespace", "learner-99-notes"]);
    let down = room.run(&[
        "class",
        "down",
        "--context",
        CONTEXT,
        "--yes",
        "--output-dir",
        room.kubeconfigs().to_str().expect("utf-8"),
    ]);
    assert_code(&down, 0);
    let left = room.admin(&[
        "get",
        "namespaces,serviceaccounts,roles,rolebindings,resourcequotas,limitranges,networkpolicies,validatingadmissionpolicies,validatingadmissionpolicybindings,jobs,pods",
        "-A",
        "-l",
        "sidecar-lab/class=learner",
        "-o",
        "name",
    ]);
    assert_code(&left, 0);
    assert_eq!(
        text(&left.stdout).trim(),
        "",
        "labelled objects left behind"
    );
    let namespaces = text(&room.admin(&["get", "namespaces", "-o", "name"]).stdout);
    assert!(!namespaces.contains("learner-01"), "{namespaces}");
    assert!(
        namespaces.contains("learner-99-notes"),
        "down took a stranger: {namespaces}"
    );
    assert!(!room.kubeconfig(1).exists());
}

#[test]
fn a_namespace_that_is_not_the_classes_stops_class_up_before_anything_changes() {
    let room = Classroom::new("1.37", 2);
    assert_code(&room.admin(&["create", "namespace", "learner-02"]), 0);
    let writes = room.writes().len();
    let up = room.class_up(3, &[]);
    assert_code(&up, 2);
    let error = text(&up.stderr);
    assert!(
        error.contains("learner-02") && error.contains("--prefix"),
        "{error}"
    );
    assert_eq!(room.writes().len(), writes, "class up changed the cluster");

    // Another prefix is another class.
    let other = room.class_up(2, &["--prefix", "ws-"]);
    assert_code(&other, 0);
    assert!(room.kubeconfigs().join("ws-02.kubeconfig").exists());
    let dry = room.class_up(3, &["--prefix", "ws-", "--dry-run"]);
    assert_code(&dry, 0);
    let plan = text(&dry.stdout);
    assert!(
        plan.contains("create  1 Namespace, 1 ServiceAccount, 1 Role, 1 RoleBinding"),
        "{plan}"
    );
    assert!(plan.contains("keep    2 learner(s)"), "{plan}");
    assert!(!room.kubeconfigs().join("ws-03.kubeconfig").exists());

    // Thirty learners do not fit one 2-CPU node, nor two pods each: said with numbers.
    let crowded = room.class_up(30, &["--prefix", "ws-", "--dry-run", "--quota-pods", "2"]);
    assert_code(&crowded, 0);
    let warnings = text(&crowded.stderr);
    assert!(
        warnings.contains("request 12 CPU (400m each)"),
        "{warnings}"
    );
    assert!(
        warnings.contains("--quota-pods 2 is less than the 3 pods"),
        "{warnings}"
    );
}

#[test]
fn a_learner_runs_a_step_with_their_kubeconfig_and_the_board_watch_shows_it() {
    let room = Classroom::new("1.37", 2);
    assert_code(&room.class_up(2, &[]), 0);
    let lab = room.lab();
    let watch = room
        .command(&[
            "class",
            "status",
            "--context",
            CONTEXT,
            "--lab",
            &lab,
            "--watch",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    // `sidecar-lab step` itself, as learner 2, on the shared cluster.
    let stepped = room.learner_step(2, "3");
    assert_code(&stepped, 0);
    assert!(
        text(&stepped.stdout).contains("expected"),
        "{}",
        text(&stepped.stdout)
    );
    // The quota step, as the learner: RBAC lets them create and remove the step's own
    // ResourceQuota (and no other).
    let stepped = room.learner_step(2, "4");
    assert_code(&stepped, 0);
    let report = text(&stepped.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(report.contains("they agree"), "{report}");
    std::thread::sleep(Duration::from_secs(2));
    let killed = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = watch.wait_with_output().expect("watch ends");
    assert_code(&output, 0);
    let lines = text(&output.stdout);
    // Without a terminal: a line per learner and step at first, then one per change.
    assert!(
        lines.contains("learner-01 step 1 (init): not started"),
        "{lines}"
    );
    assert!(
        lines.contains("learner-02 step 3 (native): not started"),
        "{lines}"
    );
    assert!(
        lines.contains("learner-02 step 3 (native): expected (succeeded)"),
        "{lines}"
    );
    assert_eq!(
        lines.matches("learner-01 step 1 (init)").count(),
        1,
        "an unchanged cell was printed again:\n{lines}"
    );
}

#[test]
fn report_writes_this_vms_results_and_merges_many() {
    let room = Classroom::new("1.37", 2);
    let lab = room.lab();
    // A VM that ran step 3 on its own kind cluster.
    assert_code(&room.run(&["step", "3", "--lab", &lab]), 0);
    let json = room.run(&["report", "-o", "json", "--name", "vm-07", "--lab", &lab]);
    assert_code(&json, 0);
    let results: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(results["kind"], "LabResults");
    assert_eq!(results["suites"][0]["name"], "vm-07");
    let states: Vec<&str> = results["suites"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states[..3], ["not-started", "not-started", "expected"]);
    assert!(
        states[3..].iter().all(|s| *s == "not-started"),
        "{states:?}"
    );
    assert!(results["suites"][0]["properties"]["sidecar-lab"].is_string());
    // Every exercise, none tried on this VM.
    let exercises = results["suites"][0]["exercises"]
        .as_array()
        .expect("exercises");
    assert_eq!(exercises.len(), 3, "{exercises:?}");
    assert!(
        exercises
            .iter()
            .all(|e| e["attempts"] == 0 && e["last"].is_null())
    );

    let junit = room.run(&["report", "-o", "junit", "--name", "vm-07", "--lab", &lab]);
    assert_code(&junit, 0);
    validate_junit(&text(&junit.stdout), room.root.path()).unwrap_or_else(|e| panic!("{e}"));

    // Thirty VMs' files merge into one report (here: two, and one repeated).
    let dir = room.root.path();
    std::fs::write(dir.join("vm-07.json"), &json.stdout).expect("write");
    let other = text(&json.stdout).replace("vm-07", "vm-08");
    std::fs::write(dir.join("vm-08.json"), other).expect("write");
    let merged = room.run(&[
        "report",
        "--merge",
        "vm-07.json",
        "vm-08.json",
        "vm-07.json",
        "-o",
        "junit",
    ]);
    assert_code(&merged, 0);
    let xml = text(&merged.stdout);
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert_eq!(
        xml.matches("<testcase name=\"exercise ").count(),
        2 * 3,
        "{xml}"
    );
    validate_junit(&xml, dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text(&merged.stderr).contains("`vm-07` is in"),
        "{}",
        text(&merged.stderr)
    );

    std::fs::write(dir.join("r.xml"), &junit.stdout).expect("write");
    let refused = room.run(&["report", "--merge", "r.xml"]);
    assert_code(&refused, 2);
    assert!(
        text(&refused.stderr).contains("`r.xml` is JUnit XML"),
        "{}",
        text(&refused.stderr)
    );
}

/// The schema is a real check: it refuses a test case without `time`.
#[test]
fn the_junit_schema_refuses_a_case_without_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = "<testsuites><testsuite name=\"a\" tests=\"1\" time=\"1\"><testcase name=\"x\" classname=\"c\"/></testsuite></testsuites>";
    assert!(validate_junit(bad, dir.path()).is_err());
    let good = bad.replace("classname=\"c\"", "classname=\"c\" time=\"1\"");
    validate_junit(&good, dir.path()).unwrap_or_else(|e| panic!("{e}"));
}

/// A learner's exercise progress as `sidecar-lab submit` records it, with their class
/// kubeconfig: a merge patch of `sidecar-lab-exercises`, created from a file the first
/// time. They may write that ConfigMap and no other, nor another learner's; `class status`
/// reads every learner's in the same read as the Jobs, and shows their attempts.
#[test]
fn a_learner_records_their_exercises_and_the_class_sees_them() {
    let room = Classroom::new("1.37", 2);
    assert_code(&room.class_up(2, &[]), 0);
    record_progress(
        &room,
        1,
        1,
        r#"{"attempts":1,"solved":false,"last":"refused","hint":"pod-restart-policy","at":"2026-12-07T10:00:00Z"}"#,
    );
    record_progress(
        &room,
        1,
        1,
        r#"{"attempts":2,"solved":true,"last":"solved","at":"2026-12-07T10:05:00Z"}"#,
    );
    record_progress(
        &room,
        1,
        2,
        r#"{"attempts":1,"solved":false,"last":"wrong","hint":"postgres-plain-init","at":"2026-12-07T10:09:00Z"}"#,
    );
    // A record that does not decode (a hand edit) is skipped, never fatal.
    record_progress(&room, 2, 3, r#"{"attempts":"many"}"#);

    // Nothing more than that one ConfigMap: not another (the class's admission policy
    // refuses the create RBAC cannot limit by name), not the root CA one, not another
    // learner's, and no list or delete.
    let other = room.root.path().join("other.json");
    std::fs::write(
        &other,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "notes"}, "data": {"a": "b"}}).to_string(),
    )
    .expect("file");
    let refused = room.learner(1, &["create", "-f", other.to_str().expect("utf-8")]);
    assert_code(&refused, 1);
    assert!(
        text(&refused.stderr)
            .contains("a learner may create only the ConfigMap `sidecar-lab-exercises`"),
        "{}",
        text(&refused.stderr)
    );
    let patch = ["--type=merge", "--patch", r#"{"data":{"x":"y"}}"#];
    let mut root_ca = vec!["patch", "configmap", "kube-root-ca.crt"];
    root_ca.extend_from_slice(&patch);
    assert_forbidden(&room.learner(1, &root_ca), "configmaps");
    let mut theirs = vec![
        "patch",
        "configmap",
        "sidecar-lab-exercises",
        "-n",
        "learner-02",
    ];
    theirs.extend_from_slice(&patch);
    assert_forbidden(&room.learner(1, &theirs), "\"learner-02\"");
    assert_forbidden(&room.learner(1, &["get", "configmaps"]), "configmaps");
    assert_forbidden(
        &room.learner(1, &["delete", "configmap", "sidecar-lab-exercises"]),
        "configmaps",
    );

    let status = room.status("json");
    assert_code(&status, 0);
    let results: Value = serde_json::from_slice(&status.stdout).expect("JSON");
    let exercises = |suite: usize| -> Vec<(u64, u64, bool, Value)> {
        results["suites"][suite]["exercises"]
            .as_array()
            .expect("exercises")
            .iter()
            .map(|e| {
                (
                    e["number"].as_u64().unwrap_or(0),
                    e["attempts"].as_u64().unwrap_or(0),
                    e["solved"].as_bool().unwrap_or(false),
                    e["hint"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        exercises(0),
        [
            (1, 2, true, Value::Null),
            (2, 1, false, json!("postgres-plain-init")),
            (3, 0, false, Value::Null)
        ]
    );
    assert!(exercises(1).iter().all(|(_, attempts, ..)| *attempts == 0));
    assert!(
        results["suites"][1]["properties"]["progress-skipped"]
            .as_str()
            .is_some_and(|p| p.contains("`exercise-3`")),
        "{}",
        results["suites"][1]
    );
    let board = text(&room.status("text").stdout);
    assert!(board.contains("EX1  EX2  EX3"), "{board}");
    assert!(
        board.contains(
            "learner-01 exercise 2: 1 attempt(s), last wrong, hint `postgres-plain-init`"
        ),
        "{board}"
    );
    let junit = room.status("junit");
    let xml = text(&junit.stdout);
    validate_junit(&xml, room.root.path()).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(xml.matches("<failure type=\"wrong\"").count(), 1, "{xml}");
}

/// Records `record` as exercise `number` of learner `learner`, with their kubeconfig and
/// the commands `sidecar-lab submit` runs (`kube::progress`): a merge patch, and when the
/// ConfigMap is not there yet, `kubectl create -f` of it.
fn record_progress(room: &Classroom, learner: u32, number: u32, record: &str) {
    let key = format!("exercise-{number}");
    let labels =
        json!({"app.kubernetes.io/part-of": "sidecar-lab", "sidecar-lab/progress": "exercises"});
    let body = json!({"metadata": {"labels": labels}, "data": {&key: record}}).to_string();
    let patched = room.learner(
        learner,
        &[
            "patch",
            "configmap",
            "sidecar-lab-exercises",
            "--type=merge",
            "--patch",
            &body,
        ],
    );
    if patched.status.success() {
        return;
    }
    assert!(
        text(&patched.stderr).contains("(NotFound)"),
        "{}",
        text(&patched.stderr)
    );
    let namespace = format!("learner-{learner:02}");
    let file = room.root.path().join(format!("{namespace}-progress.json"));
    let manifest = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "sidecar-lab-exercises", "namespace": namespace, "labels": labels},
        "data": {&key: record},
    });
    std::fs::write(&file, manifest.to_string()).expect("manifest");
    assert_code(
        &room.learner(learner, &["create", "-f", file.to_str().expect("utf-8")]),
        0,
    );
}

/// The board on the projector: headless Chromium (the Debian package) loads the page for
/// thirty learners at mixed progress; every tile shows the verdicts `class status` gives
/// and the learner's exercises (a learner's attempts, solved or not);
/// a learner who starts a step is seen to change within 3 s, without a reload. The
/// screenshot is kept in the test output directory for a person to look at.
#[test]
fn the_board_shows_every_learner_and_a_change_within_three_seconds() {
    use std::io::{BufRead, BufReader, Write};

    let room = Classroom::new("1.37", 16);
    assert_code(&room.class_up(30, &[]), 0);
    mixed_progress(&room);
    // Learner 3 has solved exercise 1 at the second attempt and tried exercise 2 once.
    record_progress(
        &room,
        3,
        1,
        r#"{"attempts":2,"solved":true,"last":"solved","at":"2026-12-07T10:05:00Z"}"#,
    );
    record_progress(
        &room,
        3,
        2,
        r#"{"attempts":1,"solved":false,"last":"wrong","hint":"postgres-plain-init","at":"2026-12-07T10:09:00Z"}"#,
    );
    let results = settled(&room);
    let lab = room.lab();
    let (mut board, url) = start_board(
        &room,
        &["--lab", &lab, "--listen", "127.0.0.1:0", "--refresh", "1"],
    );
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("class-board.png");
    let mut checker = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/board_check.py"))
        .args([url.as_str(), "learner-02", "--screenshot"])
        .arg(&screenshot)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the browser checker starts");
    let mut lines = BufReader::new(checker.stdout.take().expect("stdout")).lines();
    let tiles: Vec<Tile> =
        serde_json::from_str(&lines.next().expect("tiles").expect("a line")).expect("tiles JSON");
    assert_eq!(tiles.len(), 30);
    // Each tile shows the learner's exercises: attempts and solved.
    let shown = |n: usize| -> Vec<String> {
        tiles[n]
            .2
            .iter()
            .map(|(number, attempts, solved)| format!("{number}:{attempts}:{solved}"))
            .collect()
    };
    assert_eq!(shown(2), ["1:2:true", "2:1:false", "3:0:false"]);
    assert_eq!(shown(0), ["1:0:false", "2:0:false", "3:0:false"]);
    for ((name, states, _), suite) in tiles
        .iter()
        .zip(results["suites"].as_array().expect("suites"))
    {
        let wanted: Vec<String> = suite["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                s["state"]
                    .as_str()
                    .unwrap_or("")
                    .replace("not-started", "not started")
            })
            .collect();
        assert_eq!(
            (name, states),
            (&suite["name"].as_str().unwrap_or("").to_owned(), &wanted)
        );
    }
    // One read of the cluster per refresh, however often the page asks.
    let reads = |room: &Classroom| {
        room.sim
            .requests("sidecar-lab")
            .iter()
            .filter(|r| r["path"] == "/api/v1/pods")
            .count()
    };
    let before = reads(&room);
    let since = Instant::now();
    // Thirty viewers at once: each request is answered from the latest read.
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host:port")
        .to_owned();
    for _ in 0..30 {
        let mut stream = std::net::TcpStream::connect(&host).expect("connects");
        stream
            .write_all(format!("GET /board.json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .expect("asks");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // Learner 2 starts step 3.
    room.start_step(2, "native", &|m| m);
    checker
        .stdin
        .as_mut()
        .expect("stdin")
        .write_all(b"advanced\n")
        .expect("tell the checker");
    let change: Value =
        serde_json::from_str(&lines.next().expect("change").expect("a line")).expect("JSON");
    assert!(
        !change["changed"].is_null(),
        "learner-02 did not change within 3 s: {change}"
    );
    assert_ne!(change["changed"][2], "not started", "{change}");
    assert_code(&checker.wait_with_output().expect("checker ends"), 0);
    let elapsed = since.elapsed().as_secs() + 1;
    let read = reads(&room) - before;
    assert!(
        read <= usize::try_from(elapsed).unwrap_or(0) + 1,
        "{read} reads in {elapsed} s"
    );
    assert!(screenshot.is_file());
    let _ = Command::new("kill")
        .args(["-INT", &board.id().to_string()])
        .status();
    assert!(board.wait().expect("board ends").success());
}

/// Beyond localhost the board wants its token: a request without it is refused.
#[test]
fn a_board_beyond_localhost_refuses_requests_without_its_token() {
    use std::io::{Read, Write};

    let room = Classroom::new("1.37", 2);
    assert_code(&room.class_up(1, &[]), 0);
    let (board, url) = start_board(&room, &["--listen", "0.0.0.0:0"]);
    assert!(url.contains("?token="), "{url}");
    let port = url
        .split(':')
        .nth(2)
        .and_then(|p| p.split('/').next())
        .expect("port")
        .to_owned();
    let token = url.split("token=").nth(1).expect("token").to_owned();
    let get = |path: &str| {
        let mut stream =
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connects");
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
            .expect("sends");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        answer
    };
    assert!(get("/").starts_with("HTTP/1.1 403"), "no token");
    assert!(
        get("/board.json?token=wrong").starts_with("HTTP/1.1 403"),
        "a wrong token"
    );
    assert!(get(&format!("/?token={token}")).starts_with("HTTP/1.1 200"));
    assert!(get(&format!("/board.json?token={token}")).starts_with("HTTP/1.1 200"));
    let _ = Command::new("kill")
        .args(["-INT", &board.id().to_string()])
        .status();
    let output = board.wait_with_output().expect("ends");
    assert!(
        text(&output.stderr).contains("beyond this machine"),
        "{}",
        text(&output.stderr)
    );
}

/// A learner's Job manifest, applied with their own kubeconfig from a file.
fn learner_apply(room: &Classroom, learner: u32, name: &str, manifest: &str) -> Output {
    let path = room.root.path().join(format!("{name}.yaml"));
    std::fs::write(&path, manifest).expect("manifest");
    let namespace = format!("learner-{learner:02}");
    room.learner(
        learner,
        &[
            "apply",
            "-n",
            &namespace,
            "-f",
            path.to_str().expect("utf-8"),
        ],
    )
}

/// A Job of busybox with `pod` merged into its pod spec (YAML lines at six spaces).
fn job_yaml(name: &str, pod: &str, suspend: bool) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  suspend: {suspend}\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n{pod}      containers:\n        - name: main\n          image: postgres:17.5-alpine\n          imagePullPolicy: IfNotPresent\n          command: [\"true\"]\n          resources:\n            requests:\n              cpu: 10m\n              memory: 16Mi\n"
    )
}

/// Issue 22: with their own class kubeconfig a learner cannot take the node (Pod
/// Security `baseline`), run a pod as their own ServiceAccount, pile up Jobs beyond the
/// class's quota, or make a quota they cannot delete; `class down` takes the
/// cluster-wide policy with the class.
#[test]
fn a_learner_cannot_take_the_node_borrow_their_token_or_starve_the_class() {
    let room = Classroom::new("1.35", 16);
    let up = room.class_up(2, &[]);
    assert_code(&up, 0);
    let said = text(&up.stdout);
    for line in [
        "Pod Security   baseline enforced, restricted warned and audited (version v1.35)",
        "quota          count/configmaps=4, count/jobs.batch=50, count/pods=200, limits.ephemeral-storage=16Gi, persistentvolumeclaims=0, pods=20, requests.cpu=4, requests.memory=4Gi",
        "NetworkPolicy  default-deny, ingress and egress",
        "admission      ValidatingAdmissionPolicy sidecar-lab-class-learner",
    ] {
        assert!(said.contains(line), "{line}\n{said}");
    }
    let policy = room.admin(&["get", "networkpolicy", "-n", "learner-01", "-o", "name"]);
    assert_eq!(
        text(&policy.stdout).trim(),
        "networkpolicy.networking.k8s.io/sidecar-lab-default-deny"
    );

    // A bare pod is RBAC's: learners create Jobs only.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: priv\nspec:\n  containers:\n    - name: main\n      image: postgres:17.5-alpine\n      securityContext:\n        privileged: true\n";
    let bare = learner_apply(&room, 1, "bare-pod", pod);
    assert_code(&bare, 1);
    assert!(
        text(&bare.stderr).contains("cannot create resource \"pods\""),
        "{}",
        text(&bare.stderr)
    );

    // The attack of issue 22 through a Job: accepted with Pod Security's warning (of the
    // `warn` level, `restricted`, as a real API server gives it for a Job), and every
    // pod it asks for refused by `baseline` (FailedCreate), so nothing runs.
    let attack = job_yaml(
        "take-the-node",
        "      hostNetwork: true\n      hostPID: true\n      volumes:\n        - name: host\n          hostPath:\n            path: /\n",
        false,
    )
    .replace(
        "          command: [\"true\"]\n",
        "          command: [\"true\"]\n          securityContext:\n            privileged: true\n          volumeMounts:\n            - name: host\n              mountPath: /host\n",
    );
    let applied = learner_apply(&room, 1, "take-the-node", &attack);
    assert_code(&applied, 0);
    let warning = text(&applied.stderr);
    assert!(
        warning.contains("Warning: would violate PodSecurity \"restricted:v1.35\"")
            && warning.contains("privileged (container \"main\""),
        "{warning}"
    );
    let start = Instant::now();
    let refused = loop {
        let events = room.learner(
            1,
            &[
                "get",
                "events",
                "--field-selector",
                "reason=FailedCreate",
                "-o",
                "json",
            ],
        );
        assert_code(&events, 0);
        let events = text(&events.stdout);
        if events.contains("violates PodSecurity") || start.elapsed() > Duration::from_secs(20) {
            break events;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    for part in [
        "violates PodSecurity \\\"baseline:v1.35\\\"",
        "host namespaces (hostNetwork=true, hostPID=true)",
        "hostPath volumes (volume \\\"host\\\")",
        "privileged (container \\\"main\\\" must not set securityContext.privileged=true)",
    ] {
        assert!(refused.contains(part), "{part}\n{refused}");
    }
    let pods = room.learner(1, &["get", "pods", "-o", "name"]);
    assert_eq!(text(&pods.stdout).trim(), "", "a pod of the attack exists");

    // The learner's own ServiceAccount, in a Job's pods: refused at once.
    let borrowed = job_yaml(
        "borrow-my-token",
        "      serviceAccountName: learner\n      automountServiceAccountToken: true\n",
        false,
    );
    let denied = learner_apply(&room, 1, "borrow-my-token", &borrowed);
    assert_code(&denied, 1);
    let error = text(&denied.stderr);
    assert!(
        error.contains("ValidatingAdmissionPolicy 'sidecar-lab-class-learner'")
            && error.contains("may not run their pods as the ServiceAccount `learner`"),
        "{error}"
    );

    // A quota of another name: refused (the learner could never delete it); the quota
    // step's own name: allowed, and deleted again.
    let other = room.learner(1, &["create", "quota", "mine", "--hard=pods=1"]);
    assert_code(&other, 1);
    assert!(
        text(&other.stderr).contains("may create only the ResourceQuota `sidecar-lab-step-4`"),
        "{}",
        text(&other.stderr)
    );
    assert_code(
        &room.learner(
            1,
            &["create", "quota", "sidecar-lab-step-4", "--hard=pods=30"],
        ),
        0,
    );
    assert_code(
        &room.learner(1, &["delete", "quota", "sidecar-lab-step-4"]),
        0,
    );

    // The default quota counts Jobs: fifty in all, the attack's among them; the 51st
    // is refused.
    let many: String = (2..=49)
        .map(|n| format!("---\n{}", job_yaml(&format!("pile-{n:02}"), "", true)))
        .collect();
    assert_code(&learner_apply(&room, 1, "pile", &many), 0);
    assert_code(
        &learner_apply(&room, 1, "pile-50", &job_yaml("pile-50", "", true)),
        0,
    );
    let over = learner_apply(&room, 1, "pile-51", &job_yaml("pile-51", "", true));
    assert_code(&over, 1);
    let error = text(&over.stderr);
    assert!(
        error.contains("exceeded quota: sidecar-lab-learner")
            && error.contains("limited: count/jobs.batch=50"),
        "{error}"
    );
    // Learner 2 is not starved by learner 1's pile.
    assert_code(
        &learner_apply(&room, 2, "mine", &job_yaml("mine", "", true)),
        0,
    );

    // Down takes the policy with the class.
    let down = room.run(&[
        "class",
        "down",
        "--context",
        CONTEXT,
        "--yes",
        "--output-dir",
        room.kubeconfigs().to_str().expect("utf-8"),
    ]);
    assert_code(&down, 0);
    assert!(
        text(&down.stdout)
            .contains("delete  ValidatingAdmissionPolicy sidecar-lab-class-learner (cluster-wide, once the namespaces are gone)"),
        "{}",
        text(&down.stdout)
    );
    let left = room.admin(&[
        "get",
        "validatingadmissionpolicies,validatingadmissionpolicybindings,namespaces",
        "-l",
        "sidecar-lab/class=learner",
        "-o",
        "name",
    ]);
    assert_code(&left, 0);
    assert_eq!(text(&left.stdout).trim(), "", "left behind");
}

/// Waits up to 30 s for a FailedCreate event in learner `learner`'s namespace that
/// contains `part`, and returns the events' JSON.
fn failed_create(room: &Classroom, learner: u32, part: &str) -> String {
    let start = Instant::now();
    loop {
        let events = room.learner(
            learner,
            &[
                "get",
                "events",
                "--field-selector",
                "reason=FailedCreate",
                "-o",
                "json",
            ],
        );
        assert_code(&events, 0);
        let events = text(&events.stdout);
        if events.contains(part) || start.elapsed() > Duration::from_secs(30) {
            return events;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Issue 22's review: finished pods count against `count/pods` (a Job with a huge
/// `completions` cannot pile up Succeeded pods), every container gets a disk limit with
/// no disk request, the LimitRange reads back as sent (a second `class up` changes
/// nothing), and a priority class is refused in a Job and in a bare pod's rule.
#[test]
fn finished_pods_count_every_container_has_a_disk_limit_and_priority_is_refused() {
    let room = Classroom::new("1.34", 16);
    assert_code(&room.class_up(1, &[]), 0);
    // The instructor tightens `count/pods` to 2 so that the third pod shows it.
    let patched = room.admin(&[
        "patch",
        "resourcequota",
        "sidecar-lab-learner",
        "-n",
        "learner-01",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"hard":{"count/pods":"2"}}}"#,
    ]);
    assert_code(&patched, 0);
    let many = job_yaml("many", "", false)
        .replace("spec:\n  suspend", "spec:\n  completions: 3\n  suspend");
    assert_code(&learner_apply(&room, 1, "many", &many), 0);
    let part = "exceeded quota: sidecar-lab-learner, requested: count/pods=1, used: count/pods=2, limited: count/pods=2";
    let events = failed_create(&room, 1, part);
    assert!(events.contains(part), "{events}");
    // Both pods are finished: `pods` no longer counts them, `count/pods` does.
    let quota = room.admin(&[
        "get",
        "resourcequota",
        "sidecar-lab-learner",
        "-n",
        "learner-01",
        "-o",
        "json",
    ]);
    assert_code(&quota, 0);
    let quota: Value = serde_json::from_slice(&quota.stdout).expect("JSON");
    assert_eq!(quota["status"]["used"]["count/pods"], "2", "{quota}");
    assert_eq!(quota["status"]["used"]["pods"], "0", "{quota}");
    assert_eq!(
        quota["status"]["used"]["persistentvolumeclaims"], "0",
        "{quota}"
    );

    // The LimitRange gave each container a disk limit and a request of 0 (nothing for
    // the scheduler to reserve), and the quota counts the limits of live pods only.
    let pods = room.learner(1, &["get", "pods", "-o", "json"]);
    assert_code(&pods, 0);
    let pods: Value = serde_json::from_slice(&pods.stdout).expect("JSON");
    let first = &pods["items"][0];
    assert_eq!(first["status"]["phase"], "Succeeded", "{first}");
    let resources = &first["spec"]["containers"][0]["resources"];
    assert_eq!(
        resources["limits"]["ephemeral-storage"], "1Gi",
        "{resources}"
    );
    assert_eq!(
        resources["requests"]["ephemeral-storage"], "0",
        "{resources}"
    );
    assert_eq!(first["status"]["qosClass"], "Burstable", "{first}");
    assert_eq!(
        quota["status"]["used"]["limits.ephemeral-storage"], "0",
        "{quota}"
    );
    let limits = room.admin(&[
        "get",
        "limitrange",
        "sidecar-lab-learner",
        "-n",
        "learner-01",
        "-o",
        "json",
    ]);
    let limits: Value = serde_json::from_slice(&limits.stdout).expect("JSON");
    assert_eq!(
        limits["spec"]["limits"][0]["default"],
        json!({"ephemeral-storage": "1Gi"})
    );
    // The instructor's patch is drift: `class up` puts the quota back, and then finds
    // nothing to change (the LimitRange and the policy read back as sent).
    let again = room.class_up(1, &[]);
    assert_code(&again, 0);
    let said = text(&again.stdout);
    assert!(
        said.contains("update  ResourceQuota learner-01/sidecar-lab-learner (spec.hard differs)"),
        "{said}"
    );
    assert_eq!(said.matches("  update  ").count(), 1, "{said}");
    let third = room.class_up(1, &[]);
    assert_code(&third, 0);
    assert!(
        text(&third.stdout).contains("Nothing to change"),
        "{}",
        text(&third.stdout)
    );

    // A priority class in a Job's pods: refused at once, by the class's policy.
    let priority = job_yaml(
        "jump-the-queue",
        "      priorityClassName: system-node-critical\n",
        false,
    );
    let denied = learner_apply(&room, 1, "jump-the-queue", &priority);
    assert_code(&denied, 1);
    let error = text(&denied.stderr);
    assert!(
        error.contains("ValidatingAdmissionPolicy 'sidecar-lab-class-learner'")
            && error.contains("system-critical priorityClassName"),
        "{error}"
    );
    // An empty name is no priority at all, and passes.
    let none = job_yaml("no-priority", "      priorityClassName: \"\"\n", true);
    assert_code(&learner_apply(&room, 1, "no-priority", &none), 0);
}

/// Before 1.30 there is no ValidatingAdmissionPolicy: `class up` says what that leaves
/// unenforced, and makes the rest.
#[test]
fn an_old_cluster_is_told_what_the_class_cannot_enforce() {
    let room = Classroom::new("1.29", 4);
    let up = room.class_up(1, &["-o", "json"]);
    assert_code(&up, 0);
    let report: Value = serde_json::from_slice(&up.stdout).expect("JSON");
    assert_eq!(report["outcome"], "applied");
    assert_eq!(report["enforces"]["podSecurityVersion"], "v1.29");
    assert_eq!(report["enforces"]["admissionPolicy"], Value::Null);
    assert!(
        report["notEnforced"]
            .as_str()
            .is_some_and(|s| s.starts_with("Kubernetes 1.29 does not serve")),
        "{report}"
    );
    assert!(
        text(&up.stderr).contains("NOT enforced here"),
        "{}",
        text(&up.stderr)
    );
    let labels = room.admin(&["get", "namespace", "learner-01", "-o", "json"]);
    let namespace: Value = serde_json::from_slice(&labels.stdout).expect("JSON");
    assert_eq!(
        namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "baseline"
    );
    // Without the admission policy a learner may create other ConfigMaps (RBAC cannot
    // limit `create` by name), but the quota stops them at four, `kube-root-ca.crt`
    // included.
    let made: Vec<bool> = (1..=4)
        .map(|n| {
            let file = room.root.path().join(format!("notes-{n}.json"));
            let manifest = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("notes-{n}")}});
            std::fs::write(&file, manifest.to_string()).expect("file");
            let created = room.learner(1, &["create", "-f", file.to_str().expect("utf-8")]);
            if !created.status.success() {
                assert!(
                    text(&created.stderr).contains("exceeded quota: sidecar-lab-learner, requested: count/configmaps=1, used: count/configmaps=4, limited: count/configmaps=4"),
                    "{}",
                    text(&created.stderr)
                );
            }
            created.status.success()
        })
        .collect();
    assert_eq!(made, [true, true, true, false]);
    // A second run changes nothing, on the old cluster too.
    let again = room.class_up(1, &[]);
    assert_code(&again, 0);
    assert!(
        text(&again.stdout).contains("Nothing to change"),
        "{}",
        text(&again.stdout)
    );
}

/// The lab's own seven steps, each run with `sidecar-lab step` as a learner in their
/// confined namespace (Pod Security `baseline`, the default quota and LimitRange, the
/// default-deny NetworkPolicy, the class's admission policy), all as the lab teaches;
/// Pod Security's `restricted` warning is shown once per step and refuses nothing.
#[test]
fn a_learner_runs_all_seven_steps_in_their_confined_namespace() {
    let room = Classroom::new("1.36", 16);
    assert_code(&room.class_up(1, &[]), 0);
    for number in 1..=7 {
        let stepped = room.learner_step(1, &number.to_string());
        let stdout = text(&stepped.stdout);
        assert_code(&stepped, 0);
        assert!(
            stdout.contains("expected") && !stdout.contains("unexpected"),
            "step {number}:\n{stdout}\n{}",
            text(&stepped.stderr)
        );
        // Said once a step (step 4's three Jobs draw two wordings: one per order of
        // the containers).
        assert_eq!(
            stdout
                .matches("The API server warned about the step's Job (a warning refuses nothing):")
                .count(),
            1,
            "step {number}:\n{stdout}"
        );
        assert!(
            stdout.contains("would violate PodSecurity \"restricted:v1.36\""),
            "step {number}:\n{stdout}"
        );
        if number == 4 {
            // The step's own quota refuses, never the class's.
            assert!(
                stdout.contains("exceeded quota: sidecar-lab-step-4")
                    && !stdout.contains("exceeded quota: sidecar-lab-learner"),
                "{stdout}"
            );
        }
    }
}

/// `sidecar-lab exercise N` then `submit N FILE -o json` as learner `learner`, with their
/// class kubeconfig and a home of their own; the submit's JSON.
fn learner_submit(room: &Classroom, learner: u32, number: &str, answer: &str) -> Value {
    let namespace = format!("learner-{learner:02}");
    let home = room.root.path().join(format!("home-{namespace}"));
    std::fs::create_dir_all(&home).expect("home");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/exercises")
        .join(answer);
    let mut submit = Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"));
    submit.args(["submit", number]).arg(&file).args([
        "-o",
        "json",
        "--context",
        &namespace,
        "--namespace",
        &namespace,
    ]);
    room.sim.prepare(&mut submit, &home);
    submit.env("KUBECONFIG", room.kubeconfig(learner));
    let output = submit.output().expect("submit runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&output.stderr)))
}

/// A learner with only their class kubeconfig does every exercise (the learner Role
/// allows all `submit` needs: the dry run, the Job, the watch, the progress ConfigMap),
/// their answers never touch a step's Jobs, and `class status` and the board show each
/// exercise's attempts.
#[test]
fn a_learner_does_every_exercise_with_their_kubeconfig_and_the_board_shows_the_attempts() {
    let room = Classroom::new("1.37", 16);
    assert_code(&room.class_up(2, &[]), 0);
    assert_code(&room.learner_step(1, "3"), 0);
    // Refused by the API server in the server-side dry run the Role allows: kept too.
    let refused = learner_submit(&room, 1, "1", "exercise-1/pod-restart-policy-always.yaml");
    assert_eq!(
        (&refused["result"], &refused["hint"], &refused["attempt"]),
        (
            &json!("refused"),
            &json!("pod-restart-policy-always"),
            &json!(1)
        )
    );
    for (number, answer) in [
        ("1", "exercise-1/solved-renamed-sidecar.yaml"),
        ("2", "exercise-2/solved-startup-probe.yaml"),
        ("3", "exercise-3/solved-extra-sidecar.yaml"),
    ] {
        let solved = learner_submit(&room, 1, number, answer);
        assert_eq!(solved["result"], "solved", "{number}: {solved}");
    }
    // The step's Job is still there, untouched by the answers.
    let jobs = room.learner(1, &["get", "jobs", "-o", "name"]);
    assert_code(&jobs, 0);
    let names = text(&jobs.stdout);
    for job in [
        "job.batch/cy-job-native",
        "job.batch/exercise-1",
        "job.batch/exercise-2",
        "job.batch/exercise-3",
    ] {
        assert!(names.contains(job), "{job} in {names}");
    }
    let status = room.status("json");
    let results: Value = serde_json::from_slice(&status.stdout).expect("JSON");
    let attempts: Vec<(Value, Value)> = results["suites"][0]["exercises"]
        .as_array()
        .expect("exercises")
        .iter()
        .map(|e| (e["attempts"].clone(), e["solved"].clone()))
        .collect();
    assert_eq!(
        attempts,
        [
            (json!(2), json!(true)),
            (json!(1), json!(true)),
            (json!(1), json!(true))
        ]
    );
    // The board's page data says the same.
    let lab = room.lab();
    let (mut board, url) = start_board(
        &room,
        &["--lab", &lab, "--listen", "127.0.0.1:0", "--refresh", "1"],
    );
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    // 503 until the board's first read of the cluster is done.
    let start = Instant::now();
    let answer = loop {
        let mut stream = std::net::TcpStream::connect(&host).expect("connects");
        std::io::Write::write_all(
            &mut stream,
            format!("GET /board.json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        )
        .expect("asks");
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).expect("answer");
        if !answer.starts_with("HTTP/1.1 503") || start.elapsed() > Duration::from_secs(30) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let _ = board.kill();
    let _ = board.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).expect("a body");
    let page: Value = serde_json::from_str(body).expect("board.json");
    let tiles = page["tiles"].as_str().expect("tiles");
    for (number, attempts) in [(1, 2), (2, 1), (3, 1)] {
        let cell =
            format!(r#"data-exercise="{number}" data-attempts="{attempts}" data-solved="true""#);
        assert!(tiles.contains(&cell), "{cell} in {tiles}");
    }
}

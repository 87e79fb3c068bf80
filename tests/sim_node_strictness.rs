//! The simulated node behaves as a real kind node does, seen through the real kubectl:
//! the kubelet restarts a crashed container at once and backs off from the second exit
//! (10 s, 20 s, 40 s); the pod stays Initialized while a sidecar restarts; the Job
//! controller writes terminal conditions at once before 1.31 and only after the pods are
//! gone from 1.31, and replaces failed pods after 10 s, then 20 s; containers get the
//! image's stop signal (SIGINT for postgres), or `lifecycle.stopSignal` with
//! ContainerStopSignals, and shell scripts act on it as PID 1 does; kube-system's pods
//! hold their CPU requests on the node; kind checks apiVersion and kind first and refuses
//! feature gates a version does not know; `docker save --platform` needs Docker 28.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

mod support;

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::machine::SimMachine;
use support::{assert_ok, text};

const IMAGE: &str = "postgres:17.5-alpine";

/// A simulator with one kind cluster `lab` of Kubernetes `image` (kindest/node:vX.Y.Z),
/// with `gates` in its kind config and the lab's image on its node.
struct Lab {
    machine: SimMachine,
}

impl std::ops::Deref for Lab {
    type Target = SimMachine;

    fn deref(&self) -> &SimMachine {
        &self.machine
    }
}

impl Lab {
    fn new(image: &str, speed: f64, gates: &[(&str, bool)]) -> Self {
        let lab = Self {
            machine: SimMachine::new(speed),
        };
        let created = lab.kind_create("lab", image, gates);
        assert_ok(&created);
        lab.load(&[IMAGE]);
        // kind returns before the node is Ready (its --wait is 0 s by default).
        assert_ok(&lab.kubectl(&[
            "wait",
            "--for=condition=Ready",
            "node",
            "--all",
            "--timeout=30s",
        ]));
        lab
    }

    fn kind_create(&self, name: &str, image: &str, gates: &[(&str, bool)]) -> Output {
        let mut config = String::from("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n");
        if !gates.is_empty() {
            config.push_str("featureGates:\n");
            for (gate, on) in gates {
                config.push_str(&format!("  {gate}: {on}\n"));
            }
        }
        config.push_str(&format!(
            "nodes:\n- role: control-plane\n  image: {image}\n"
        ));
        let path = self.file(&format!("{name}.kind.yaml"), &config);
        self.tool(
            "kind",
            &["create", "cluster", "--name", name, "--config", &path],
        )
    }

    fn load(&self, images: &[&str]) {
        self.sim
            .control("POST", "/clusters/lab/images", &json!({ "images": images }));
    }

    fn command(&self, name: &str, args: &[&str]) -> Command {
        let mut command = Command::new(self.sim.bin.join(name));
        command.args(args);
        self.sim.prepare(&mut command, &self.home());
        command
    }

    fn tool(&self, name: &str, args: &[&str]) -> Output {
        self.command(name, args).output().expect("runs")
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.tool("kubectl", args)
    }

    fn apply(&self, name: &str, manifest: &str) {
        let path = self.file(name, manifest);
        assert_ok(&self.kubectl(&["apply", "-f", &path]));
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "json"]);
        let output = self.kubectl(&all);
        assert_ok(&output);
        serde_json::from_slice(&output.stdout).expect("kubectl prints JSON")
    }

    /// `kubectl get KIND NAME -w -o json`: every version of the object, until `done`
    /// holds for one of them (all versions seen so far are returned).
    fn watch(&self, what: &[&str], timeout: Duration, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-w", "-o", "json"]);
        let mut child = self
            .command("kubectl", &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubectl watches");
        let stdout = child.stdout.take().expect("stdout");
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for value in serde_json::Deserializer::from_reader(stdout).into_iter::<Value>() {
                let Ok(value) = value else { break };
                if send.send(value).is_err() {
                    break;
                }
            }
        });
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let left = timeout.saturating_sub(start.elapsed());
            if let Ok(value) = receive.recv_timeout(left) {
                let finished = done(&value);
                seen.push(value);
                if finished {
                    break;
                }
            } else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "watch {what:?}: not done after {timeout:?}; last: {:#}",
                    seen.last().unwrap_or(&Value::Null)
                );
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        seen
    }

    /// Polls `kubectl get … -o json` until `done` holds.
    fn wait_for(&self, args: &[&str], timeout: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let value = self.json(args);
            if done(&value) {
                return value;
            }
            assert!(
                start.elapsed() < timeout,
                "{args:?} after {timeout:?}: {value:#}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Seconds since the epoch of an RFC 3339 timestamp with second precision.
fn seconds(stamp: &Value) -> i64 {
    let s = stamp
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp: {stamp}"));
    let field = |range: std::ops::Range<usize>| -> i64 { s[range].parse().expect("digits") };
    let (year, month, day) = (field(0..4), field(5..7), field(8..10));
    let (hour, minute, second) = (field(11..13), field(14..16), field(17..19));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hour * 3_600 + minute * 60 + second
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// The status of container `name` in `list` (`containerStatuses`,
/// `initContainerStatuses`), or null while the kubelet has written none.
fn container<'a>(pod: &'a Value, list: &str, name: &str) -> &'a Value {
    static NONE: Value = Value::Null;
    pod["status"][list]
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == name))
        .unwrap_or(&NONE)
}

// ---- 1 and 2: restarts and the Initialized condition.

const CRASHING_SIDECAR: &str = "apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  restartPolicy: Never
  initContainers:
  - name: crasher
    image: postgres:17.5-alpine
    restartPolicy: Always
  containers:
  - name: main
    image: postgres:17.5-alpine
    command: [sh, -c, sleep 1000]
";

/// The first restart of a crashed container comes at once; the back-off starts with the
/// second exit: 10 s, then 20 s, then 40 s, each counted from the exit. In back-off the
/// container waits in CrashLoopBackOff with the kubelet's message, and restartCount does
/// not count the run that has not started yet.
#[test]
fn a_crashed_container_is_restarted_at_once_then_after_10_20_40_seconds() {
    let lab = Lab::new("kindest/node:v1.34.3", 4.0, &[]);
    // The sidecar exits 1 three seconds after each start.
    lab.sim.control(
        "POST",
        "/clusters/lab/behaviours",
        &json!({"crasher": {"crash": true, "after": 3}}),
    );
    lab.apply("crash.yaml", CRASHING_SIDECAR);
    let seen = lab.watch(&["pod", "crash"], Duration::from_secs(60), |pod| {
        container(pod, "initContainerStatuses", "crasher")["state"]["waiting"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("back-off 40s"))
    });
    // Every run, from the lastState each exit leaves: (startedAt, finishedAt).
    let mut runs: Vec<(i64, i64)> = seen
        .iter()
        .filter_map(|pod| {
            let status = pod["status"]["initContainerStatuses"].as_array()?.first()?;
            let last = &status["lastState"]["terminated"];
            last.is_object()
                .then(|| (seconds(&last["startedAt"]), seconds(&last["finishedAt"])))
        })
        .collect();
    runs.sort_unstable();
    runs.dedup();
    assert_eq!(runs.len(), 4, "{runs:?}");
    let gaps: Vec<i64> = runs.windows(2).map(|w| w[1].0 - w[0].1).collect();
    assert!(gaps[0] <= 2, "the first restart is immediate: {gaps:?}");
    assert!((9..=12).contains(&gaps[1]), "then 10 s: {gaps:?}");
    assert!((19..=22).contains(&gaps[2]), "then 20 s: {gaps:?}");
    // While backing off: CrashLoopBackOff, the message with the current back-off, and the
    // count of restarts done so far.
    let waiting: Vec<(String, i64)> = seen
        .iter()
        .filter_map(|pod| {
            let status = container(pod, "initContainerStatuses", "crasher");
            let message = status["state"]["waiting"]["message"].as_str()?;
            assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
            Some((
                message.split(' ').nth(1).unwrap_or("").to_owned(),
                status["restartCount"].as_i64().unwrap_or(-1),
            ))
        })
        .collect();
    for expected in [("10s", 1), ("20s", 2), ("40s", 3)] {
        assert!(
            waiting.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} in {waiting:?}"
        );
    }
    let last = seen.last().expect("seen");
    let message =
        container(last, "initContainerStatuses", "crasher")["state"]["waiting"]["message"]
            .as_str()
            .unwrap_or("");
    assert!(
        message.starts_with("back-off 40s restarting failed container=crasher pod=crash_default("),
        "{message}"
    );
    let events = text(
        &lab.kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=BackOff",
            "-o",
            "jsonpath={.items[*].message}",
        ])
        .stdout,
    );
    assert!(
        events.contains("Back-off restarting failed container crasher in pod crash_default"),
        "{events}"
    );
}

/// Once an app container has started, a sidecar that exits and restarts does not make the
/// pod uninitialized again (GeneratePodInitializedCondition), and the pod stays Running.
#[test]
fn the_pod_stays_initialized_and_running_while_a_sidecar_restarts() {
    let lab = Lab::new("kindest/node:v1.33.7", 4.0, &[]);
    lab.sim.control(
        "POST",
        "/clusters/lab/behaviours",
        &json!({"crasher": {"crash": true, "after": 1}}),
    );
    lab.apply("crash.yaml", CRASHING_SIDECAR);
    let seen = lab.watch(&["pod", "crash"], Duration::from_secs(40), |pod| {
        container(pod, "initContainerStatuses", "crasher")["state"]["waiting"]["reason"]
            == "CrashLoopBackOff"
    });
    let started = seen
        .iter()
        .position(|pod| container(pod, "containerStatuses", "main")["state"]["running"].is_object())
        .expect("main started");
    let transitions: Vec<&Value> = seen[started..]
        .iter()
        .map(|pod| {
            let initialized = condition(pod, "Initialized").expect("Initialized");
            assert_eq!(initialized["status"], "True", "{pod:#}");
            assert_eq!(pod["status"]["phase"], "Running", "{pod:#}");
            &initialized["lastTransitionTime"]
        })
        .collect();
    assert!(
        transitions.windows(2).all(|w| w[0] == w[1]),
        "Initialized never flipped: {transitions:?}"
    );
    // The sidecar in back-off makes the pod unready, by name.
    let last = seen.last().expect("seen");
    let ready = condition(last, "Ready").expect("Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(
        ready["message"],
        "containers with unready status: [crasher]"
    );
    let printed = text(&lab.kubectl(&["get", "pod", "crash", "--no-headers"]).stdout);
    assert!(printed.contains(" 1/2 "), "{printed}");
}

// ---- 3: the Job controller.

fn deadline_job(name: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 6
      containers:
      - name: main
        image: postgres:17.5-alpine
        command: [sh, -c, sleep 1000]
"
    )
}

/// `sleep` as PID 1 ignores the stop signal, so the pod the deadline deletes takes its
/// whole grace period (6 s) to terminate. From 1.31 the Job gets FailureTarget at the
/// deadline and Failed only once the pod is gone; 1.30 writes Failed at once.
#[test]
fn the_failed_condition_waits_for_the_pods_from_1_31_only() {
    for (image, delayed) in [
        ("kindest/node:v1.30.13", false),
        ("kindest/node:v1.31.12", true),
    ] {
        let lab = Lab::new(image, 3.0, &[]);
        lab.apply("job.yaml", &deadline_job("slow"));
        let seen = lab.watch(&["job", "slow"], Duration::from_secs(40), |job| {
            condition(job, "Failed").is_some()
        });
        let job = seen.last().expect("job");
        let kinds: Vec<&str> = job["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        let failed = seconds(&condition(job, "Failed").expect("Failed")["lastTransitionTime"]);
        let start = seconds(&job["status"]["startTime"]);
        // Right when Failed appears: is the deleted pod still terminating?
        let pods = lab.json(&["get", "pods", "-l", "batch.kubernetes.io/job-name=slow"]);
        let terminating = pods["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_string())
            .count();
        if delayed {
            assert_eq!(kinds, ["FailureTarget", "Failed"], "{image}: {job:#}");
            let target = seconds(
                &condition(job, "FailureTarget").expect("FailureTarget")["lastTransitionTime"],
            );
            assert!((2..=4).contains(&(target - start)), "{image}: {job:#}");
            assert!(
                failed - target >= 5,
                "Failed only after the grace period: {job:#}"
            );
            assert_eq!(terminating, 0, "{image}: {pods:#}");
            assert_eq!(job["status"]["terminating"], 0, "{image}: {job:#}");
        } else {
            assert_eq!(kinds, ["Failed"], "{image}: {job:#}");
            assert!((2..=4).contains(&(failed - start)), "{image}: {job:#}");
            assert_eq!(terminating, 1, "the pod still terminates: {pods:#}");
            assert_eq!(job["status"]["terminating"], 1, "{image}: {job:#}");
        }
        assert_eq!(
            condition(job, "Failed").expect("Failed")["reason"],
            "DeadlineExceeded"
        );
    }
}

/// A failed pod of a Job is replaced 10 s after it failed, the next one 20 s after the
/// second failure (pod failure back-off, counted from the pod's finish time).
#[test]
fn a_jobs_failed_pods_are_replaced_after_10_then_20_seconds() {
    let lab = Lab::new("kindest/node:v1.37.0", 4.0, &[]);
    lab.apply(
        "job.yaml",
        "apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: postgres:17.5-alpine
        command: [sh, -c, exit 1]
",
    );
    lab.watch(&["job", "flaky"], Duration::from_secs(60), |job| {
        condition(job, "Failed").is_some()
    });
    let pods = lab.json(&["get", "pods", "-l", "batch.kubernetes.io/job-name=flaky"]);
    let mut lives: Vec<(i64, i64)> = pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            assert_eq!(p["status"]["phase"], "Failed", "{p:#}");
            (
                seconds(&p["metadata"]["creationTimestamp"]),
                seconds(
                    &container(p, "containerStatuses", "main")["state"]["terminated"]["finishedAt"],
                ),
            )
        })
        .collect();
    lives.sort_unstable();
    assert_eq!(lives.len(), 3, "{pods:#}");
    let gaps: Vec<i64> = lives.windows(2).map(|w| w[1].0 - w[0].1).collect();
    assert!(
        (9..=12).contains(&gaps[0]),
        "10 s after the first failure: {gaps:?}"
    );
    assert!(
        (19..=22).contains(&gaps[1]),
        "20 s after the second: {gaps:?}"
    );
}

// ---- 4: stop signals.

const STEP_7: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: order}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - name: postgres
        image: postgres:17.5-alpine
        restartPolicy: Always
        command: [sh, -c]
        args:
        - |
          docker-entrypoint.sh postgres & pid=$!
          trap 'sleep 2; kill -INT \"$pid\"' INT TERM
          wait \"$pid\"; wait \"$pid\"
      - name: log-shipper
        image: postgres:17.5-alpine
        restartPolicy: Always
        command: [sh, -c]
        args:
        - |
          trap 'sleep 2; exit 0' INT TERM
          while true; do echo \"shipping logs\"; sleep 1; done
      containers:
      - name: main
        image: postgres:17.5-alpine
        command: [sh, -c]
        args:
        - |
          until pg_isready -h localhost -p 5432; do sleep 0.5; done
          psql -h localhost -U postgres -c 'SELECT 1'
";

fn finished(pod: &Value, name: &str) -> (i64, i64) {
    let list = if name == "main" {
        "containerStatuses"
    } else {
        "initContainerStatuses"
    };
    let done = &container(pod, list, name)["state"]["terminated"];
    (
        seconds(&done["finishedAt"]),
        done["exitCode"].as_i64().unwrap_or(-1),
    )
}

/// Step 7's scripts: SIGINT (the postgres image's STOPSIGNAL) runs each trap, the kubelet
/// stops the log shipper first and postgres only once it has exited, and each takes its
/// trap's 2 s, so the two `finishedAt` are at least 2 s apart and both exit 0.
#[test]
fn step_7_sidecars_stop_in_reverse_order_at_least_two_seconds_apart() {
    let lab = Lab::new("kindest/node:v1.34.3", 2.0, &[]);
    lab.apply("order.yaml", STEP_7);
    lab.watch(&["job", "order"], Duration::from_secs(60), |job| {
        condition(job, "Complete").is_some()
    });
    let pods = lab.json(&["get", "pods", "-l", "batch.kubernetes.io/job-name=order"]);
    let pod = &pods["items"][0];
    assert_eq!(pod["status"]["phase"], "Succeeded", "{pod:#}");
    let (main, _) = finished(pod, "main");
    let (shipper, shipper_code) = finished(pod, "log-shipper");
    let (postgres, postgres_code) = finished(pod, "postgres");
    assert_eq!((shipper_code, postgres_code), (0, 0), "{pod:#}");
    assert!(
        shipper - main >= 2,
        "the shipper's trap sleeps 2 s: {pod:#}"
    );
    assert!(postgres - shipper >= 2, "postgres stops 2 s after: {pod:#}");
    // The kubelet records every sidecar's Killing event before it waits for that
    // sidecar's turn (a real 1.34.9 kubelet: both at one time), so the events show no
    // order; only `finishedAt` does.
    let killing = lab.json(&["get", "events", "--field-selector", "reason=Killing"]);
    let mut events: Vec<(String, String)> = killing["items"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["message"].as_str().unwrap_or("").to_owned(),
                e["firstTimestamp"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    events.sort();
    let messages: Vec<&str> = events.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Stopping container log-shipper",
            "Stopping container postgres"
        ]
    );
    assert_eq!(events[0].1, events[1].1, "one time for both: {events:?}");
    assert!(seconds(&json!(events[0].1)) < shipper, "{events:?}");
}

fn shipper_pod(name: &str, image: &str, trap: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
{extra}  initContainers:
  - name: shipper
    image: {image}
    restartPolicy: Always
    command: [sh, -c]
    args:
    - |
      trap 'sleep 2; exit 0' {trap}
      while true; do echo \"shipping logs\"; sleep 1; done
  - name: db
    image: postgres:17.5-alpine
    restartPolicy: Always
  containers:
  - name: main
    image: postgres:17.5-alpine
    command: [sh, -c, exit 0]
"
    )
}

/// A log shipper that traps only TERM (the lab's, before it trapped INT too; real nodes
/// showed exit 130): with the postgres image it gets SIGINT,
/// which `sh -c` as PID 1 answers with exit 130 as soon as its `sleep 1` ends, and the
/// trap never runs. The same script on an image without STOPSIGNAL gets SIGTERM and its
/// trap runs (exit 0, 2 s later). postgres itself exits 0 on SIGINT.
#[test]
fn a_script_that_traps_only_term_dies_with_130_on_the_postgres_images_sigint() {
    let lab = Lab::new("kindest/node:v1.37.0", 2.0, &[]);
    lab.load(&["busybox:1.37"]);
    lab.apply("int.yaml", &shipper_pod("int", IMAGE, "TERM", ""));
    lab.apply(
        "term.yaml",
        &shipper_pod("term", "busybox:1.37", "TERM", ""),
    );
    for name in ["int", "term"] {
        lab.wait_for(&["get", "pod", name], Duration::from_secs(30), |pod| {
            pod["status"]["phase"] == "Succeeded"
        });
    }
    let int = lab.json(&["get", "pod", "int"]);
    let (main, _) = finished(&int, "main");
    let (shipper, code) = finished(&int, "shipper");
    assert_eq!(code, 130, "{int:#}");
    // As soon as its `sleep 1` ends (timestamps have whole seconds), not after the grace
    // period.
    assert!(shipper - main <= 2, "at once: {int:#}");
    assert_eq!(
        container(&int, "initContainerStatuses", "shipper")["state"]["terminated"]["reason"],
        "Error"
    );
    let (db, db_code) = finished(&int, "db");
    assert_eq!(db_code, 0, "postgres's fast shutdown: {int:#}");
    // `db` is declared after the shipper, so it is stopped first (reverse order, 1.29+).
    assert!(db <= shipper, "{int:#}");
    let term = lab.json(&["get", "pod", "term"]);
    let (main, _) = finished(&term, "main");
    let (shipper, code) = finished(&term, "shipper");
    assert_eq!(code, 0, "{term:#}");
    assert!(shipper - main >= 2, "the trap's sleep 2: {term:#}");
}

/// From 1.33, with ContainerStopSignals on, `lifecycle.stopSignal` wins over the image's
/// STOPSIGNAL: SIGTERM reaches the TERM trap (exit 0). Without the gate the kubelet does
/// not pass it, and the image's SIGINT ends the script with 130.
#[test]
fn lifecycle_stop_signal_wins_only_with_the_gate() {
    let named = "  os: {name: linux}\n";
    let pod = |name: &str| {
        shipper_pod(name, IMAGE, "TERM", named).replace(
            "    restartPolicy: Always\n    command: [sh, -c]\n",
            "    restartPolicy: Always\n    lifecycle: {stopSignal: SIGTERM}\n    command: [sh, -c]\n",
        )
    };
    for (gates, code) in [(vec![("ContainerStopSignals", true)], 0), (vec![], 130)] {
        let lab = Lab::new("kindest/node:v1.33.7", 2.0, &gates);
        lab.apply("stop.yaml", &pod("stop"));
        let done = lab.wait_for(&["get", "pod", "stop"], Duration::from_secs(30), |pod| {
            pod["status"]["phase"] == "Succeeded"
        });
        assert_eq!(finished(&done, "shipper").1, code, "{gates:?}: {done:#}");
        // With the gate off the API server drops the field before it stores the pod
        // (dropContainerStopSignals): what was sent is not what is kept.
        let kept = &container_spec(&done, "shipper")["lifecycle"]["stopSignal"];
        if gates.is_empty() {
            assert!(kept.is_null(), "{done:#}");
        } else {
            assert_eq!(kept, "SIGTERM", "{done:#}");
        }
    }
}

/// The spec of init container `name` in `pod` as the server stored it.
fn container_spec<'a>(pod: &'a Value, name: &str) -> &'a Value {
    pod["spec"]["initContainers"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no init container {name}: {pod:#}"))
}

// ---- 5: kube-system on the node.

fn cpu_milli(value: &Value) -> i64 {
    let s = value.as_str().unwrap_or("0");
    match s.strip_suffix('m') {
        Some(milli) => milli.parse().expect("millicores"),
        None => s.parse::<i64>().expect("cores") * 1000,
    }
}

/// A kind node runs its control plane, CoreDNS ×2, kindnet and kube-proxy in kube-system,
/// Running, with about 950m of CPU requested.
#[test]
fn kube_system_runs_the_nodes_own_pods_with_their_requests() {
    let lab = Lab::new("kindest/node:v1.35.8", 2.0, &[]);
    let pods = lab.wait_for(
        &["get", "pods", "-n", "kube-system"],
        Duration::from_secs(20),
        |pods| pods["items"].as_array().is_some_and(|i| i.len() == 8),
    );
    let mut cpu = 0;
    let mut names = Vec::new();
    for pod in pods["items"].as_array().expect("items") {
        assert_eq!(pod["status"]["phase"], "Running", "{pod:#}");
        assert_eq!(pod["spec"]["nodeName"], "lab-control-plane");
        for c in pod["spec"]["containers"].as_array().expect("containers") {
            cpu += cpu_milli(&c["resources"]["requests"]["cpu"]);
        }
        let name = pod["metadata"]["name"].as_str().expect("name");
        names.push(name.rsplitn(3, '-').last().unwrap_or(name).to_owned());
    }
    assert_eq!(cpu, 950, "{pods:#}");
    for component in [
        "etcd-lab-control-plane",
        "kube-apiserver-lab-control-plane",
        "kube-controller-manager-lab-control-plane",
        "kube-scheduler-lab-control-plane",
    ] {
        assert!(
            pods["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|p| p["metadata"]["name"] == component),
            "{component}: {names:?}"
        );
    }
    let printed = text(&lab.kubectl(&["get", "pods", "-n", "kube-system"]).stdout);
    assert_eq!(printed.matches("coredns-").count(), 2, "{printed}");
    assert!(
        printed.contains("kindnet-") && printed.contains("kube-proxy-"),
        "{printed}"
    );
    // A deleted CoreDNS pod comes back, as its ReplicaSet makes another.
    let coredns = lab.json(&["get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"]);
    let first = coredns["items"][0]["metadata"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    assert_ok(&lab.kubectl(&["-n", "kube-system", "delete", "pod", &first]));
    lab.wait_for(
        &["get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"],
        Duration::from_secs(20),
        |pods| {
            let items = pods["items"].as_array().cloned().unwrap_or_default();
            items.len() == 2
                && items
                    .iter()
                    .all(|p| p["metadata"]["name"] != first.as_str())
        },
    );
}

fn cpu_pod(name: &str, cpu: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{sidecar-lab/step: \"4\"}}
spec:
  containers:
  - name: main
    image: postgres:17.5-alpine
    command: [sh, -c, sleep 1000]
    resources: {{requests: {{cpu: {cpu}}}}}
"
    )
}

/// The scheduler counts kube-system's 950m against the node's 2 CPUs: 1000m still fits,
/// another 100m does not (`Insufficient cpu`, preemption finds no victims), and a pod
/// asking for 1100m on an empty node does not fit either. Label selection sees only the
/// lab's pods.
#[test]
fn kube_system_requests_leave_1050m_for_the_lab_on_a_2_cpu_node() {
    let lab = Lab::new("kindest/node:v1.37.0", 2.0, &[]);
    lab.apply("big.yaml", &cpu_pod("big", "1100m"));
    let pending = lab.wait_for(&["get", "pod", "big"], Duration::from_secs(20), |pod| {
        condition(pod, "PodScheduled").is_some_and(|c| c["status"] == "False")
    });
    assert_eq!(
        condition(&pending, "PodScheduled").expect("PodScheduled")["message"],
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    );
    assert_ok(&lab.kubectl(&["delete", "pod", "big", "--wait=false"]));
    lab.apply("fits.yaml", &cpu_pod("fits", "1000m"));
    lab.wait_for(&["get", "pod", "fits"], Duration::from_secs(20), |pod| {
        pod["status"]["phase"] == "Running"
    });
    lab.apply("more.yaml", &cpu_pod("more", "100m"));
    let more = lab.wait_for(&["get", "pod", "more"], Duration::from_secs(20), |pod| {
        condition(pod, "PodScheduled").is_some_and(|c| c["status"] == "False")
    });
    assert_eq!(more["status"]["phase"], "Pending");
    let events = text(
        &lab.kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=FailedScheduling",
        ])
        .stdout,
    );
    assert!(events.contains("Insufficient cpu"), "{events}");
    let selected = text(
        &lab.kubectl(&["get", "pods", "-A", "-l", "sidecar-lab/step", "-o", "name"])
            .stdout,
    );
    let mut selected: Vec<&str> = selected.lines().collect();
    selected.sort_unstable();
    assert_eq!(selected, ["pod/fits", "pod/more"]);
}

// ---- 6: kind and docker.

/// kind reads apiVersion and kind before anything else, with its own words, and only then
/// decodes strictly.
#[test]
fn kind_checks_api_version_and_kind_first() {
    let lab = Lab::new("kindest/node:v1.37.0", 1.0, &[]);
    for (config, error) in [
        (
            "kind: Clusterr\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\n",
            "ERROR: failed to create cluster: unknown kind Clusterr for apiVersion: kind.x-k8s.io/v1alpha4",
        ),
        (
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\nnodez: []\n",
            "ERROR: failed to create cluster: unknown apiVersion: kind.x-k8s.io/v1alpha3",
        ),
        (
            "apiVersion: kind.x-k8s.io/v1alpha4\n",
            "ERROR: failed to create cluster: unknown kind  for apiVersion: kind.x-k8s.io/v1alpha4",
        ),
        ("", "ERROR: failed to create cluster: unknown apiVersion: "),
        (
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\n",
            "ERROR: failed to create cluster: unable to decode config: yaml: unmarshal errors:\n  line 3: field nodez not found in type v1alpha4.Cluster",
        ),
    ] {
        let path = lab.file("bad.yaml", config);
        let refused = lab.tool(
            "kind",
            &["create", "cluster", "--name", "bad", "--config", &path],
        );
        assert!(!refused.status.success(), "{config}");
        assert_eq!(text(&refused.stderr), format!("{error}\n"), "{config:?}");
    }
    let clusters = lab.tool("kind", &["get", "clusters"]);
    assert_eq!(text(&clusters.stdout).trim(), "lab");
}

/// Every component refuses a feature gate its version does not know, misspelt or not yet
/// there or already removed, and kind's kubeadm init fails; a gate the version knows is
/// accepted.
#[test]
fn kind_refuses_feature_gates_the_version_does_not_know() {
    let lab = Lab::new("kindest/node:v1.37.0", 1.0, &[]);
    for (image, gate) in [
        ("kindest/node:v1.34.3", "SidecarContainerz"),
        ("kindest/node:v1.32.8", "ContainerStopSignals"),
        ("kindest/node:v1.33.7", "ContainerRestartRules"),
        ("kindest/node:v1.37.0", "JobSuccessPolicy"),
        ("kindest/node:v1.35.8", "NoSuchGate"),
    ] {
        let refused = lab.kind_create("gated", image, &[(gate, true)]);
        let stderr = text(&refused.stderr);
        assert!(!refused.status.success(), "{image} {gate}: {stderr}");
        assert!(
            stderr.contains("failed to init node with kubeadm")
                && stderr.contains(&format!(
                    "failed to set feature gates from initial flags-based config: unrecognized feature gate: {gate}"
                )),
            "{image} {gate}: {stderr}"
        );
    }
    let clusters = lab.tool("kind", &["get", "clusters"]);
    assert_eq!(text(&clusters.stdout).trim(), "lab", "nothing left behind");
    for (image, gate) in [
        ("kindest/node:v1.33.7", "ContainerStopSignals"),
        ("kindest/node:v1.36.4", "JobSuccessPolicy"),
    ] {
        assert_ok(&lab.kind_create("known", image, &[(gate, true)]));
        assert_ok(&lab.tool("kind", &["delete", "cluster", "--name", "known"]));
    }
}

/// `docker save --platform` came with the Docker 28 CLI: an older CLI does not know the
/// flag; a 28 CLI needs a daemon that speaks API 1.48.
#[test]
fn docker_save_platform_needs_docker_28() {
    let lab = Lab::new("kindest/node:v1.37.0", 1.0, &[]);
    assert_ok(&lab.tool("docker", &["pull", IMAGE]));
    let out = lab.root.path().join("image.tar").display().to_string();
    let save = |mode: Value, image_verb: bool| {
        lab.sim.docker_mode(&mode);
        let mut args = if image_verb {
            vec!["image", "save"]
        } else {
            vec!["save"]
        };
        args.extend_from_slice(&["--platform", "linux/amd64", "-o", &out, IMAGE]);
        lab.tool("docker", &args)
    };
    let old = save(json!({"version": "27.5.1"}), false);
    assert_eq!(old.status.code(), Some(125));
    assert_eq!(
        text(&old.stderr),
        "unknown flag: --platform\nSee 'docker save --help'.\n"
    );
    let old = save(json!({"version": "20.10.24"}), true);
    assert_eq!(
        text(&old.stderr),
        "unknown flag: --platform\nSee 'docker image save --help'.\n"
    );
    let skew = save(json!({"version": "27.5.1", "client": "28.0.4"}), false);
    assert_eq!(skew.status.code(), Some(1));
    assert_eq!(
        text(&skew.stderr).trim_end(),
        "\"--platform\" requires API version 1.48, but the Docker daemon API version is 1.47"
    );
    assert_ok(&save(json!({"version": "28.0.4"}), false));
    assert!(std::path::Path::new(&out).is_file());
    let version = lab.tool("docker", &["version", "--format", "{{json .}}"]);
    let version: Value = serde_json::from_slice(&version.stdout).expect("JSON");
    assert_eq!(version["Client"]["ApiVersion"], "1.48");
}

/// Suspending a running Job deletes its pod and marks it `Suspended=True` (JobSuspended),
/// as job_controller.go's manageJob and syncJob do; a Job that is not suspended keeps
/// its pod (the negative, in the same cluster).
#[test]
fn a_suspended_job_loses_its_pod_and_says_so() {
    let lab = Lab::new("kindest/node:v1.34.3", 3.0, &[]);
    let job = |name: &str| {
        deadline_job(name).replace("activeDeadlineSeconds: 2", "activeDeadlineSeconds: 600")
    };
    lab.apply("held.yaml", &job("held"));
    lab.apply("kept.yaml", &job("kept"));
    for name in ["held", "kept"] {
        let selector = format!("batch.kubernetes.io/job-name={name}");
        lab.wait_for(
            &["get", "pods", "-l", &selector],
            Duration::from_secs(30),
            |pods| {
                pods["items"]
                    .as_array()
                    .is_some_and(|items| items.len() == 1)
            },
        );
    }
    assert_ok(&lab.kubectl(&[
        "patch",
        "job",
        "held",
        "--type=merge",
        "--patch",
        r#"{"spec":{"suspend":true}}"#,
    ]));
    let suspended = lab.wait_for(&["get", "job", "held"], Duration::from_secs(30), |job| {
        condition(job, "Suspended").is_some_and(|c| c["status"] == "True")
    });
    assert_eq!(
        condition(&suspended, "Suspended").expect("Suspended")["reason"],
        "JobSuspended"
    );
    lab.wait_for(
        &["get", "pods", "-l", "batch.kubernetes.io/job-name=held"],
        Duration::from_secs(30),
        |pods| {
            pods["items"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .all(|p| p["metadata"]["deletionTimestamp"].is_string())
            })
        },
    );
    let kept = lab.json(&["get", "job", "kept"]);
    assert!(condition(&kept, "Suspended").is_none(), "{kept:#}");
    let pods = lab.json(&["get", "pods", "-l", "batch.kubernetes.io/job-name=kept"]);
    assert!(
        pods["items"][0]["metadata"]["deletionTimestamp"].is_null(),
        "{pods:#}"
    );
}

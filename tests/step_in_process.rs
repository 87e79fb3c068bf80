//! `sidecar-lab step` run in-process: the library's verb, handed a `World` whose runner
//! answers kubectl from canned dumps (tests/fixtures/dumps) and whose clock is a
//! `FakeClock`, so a step that would watch for minutes ends in milliseconds and every
//! wait is seen on the fake clock, not the wall.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

#[path = "support/dumps.rs"]
mod dumps;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use dumps::dump_fixture;
use sidecar_lab::clock::FakeClock;
use sidecar_lab::commands::session::{StepSettings, step};
use sidecar_lab::env::Environment;
use sidecar_lab::exit::ExitStatus;
use sidecar_lab::http::LazyHttpClient;
use sidecar_lab::lab::StepNumber;
use sidecar_lab::runner::scripted::ScriptedRunner;
use sidecar_lab::session::workspace::Where;
use sidecar_lab::ui::Printer;
use sidecar_lab::world::World;

/// The server's version, as `kubectl version -o json` prints it.
const VERSION: &str =
    r#"{"clientVersion":{"gitVersion":"v1.35.0"},"serverVersion":{"gitVersion":"v1.35.0"}}"#;

/// A state directory of its own for each test.
fn state_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sidecar-lab-step-in-process-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("state home");
    dir
}

/// A kind cluster `sidecar-lab` whose step Jobs and pods read as `dump`.
fn cluster(dump: &str) -> ScriptedRunner {
    ScriptedRunner::new()
        .ok(" version -o json", VERSION)
        .ok(" get namespace ", "namespace/default\n")
        .ok(" delete job ", "")
        .ok(" apply -f ", "job.batch/cy-job created\n")
        .ok(" get jobs,pods -l sidecar-lab/step=", dump)
}

/// What one step run did: its exit status, its recorded result, how long it took on
/// the fake clock and on the wall.
struct Ran {
    status: ExitStatus,
    result: serde_json::Value,
    fake: Duration,
    wall: Duration,
}

fn run_step(name: &str, number: u32, runner: &ScriptedRunner) -> Ran {
    let home = state_home(name);
    let environment = Environment {
        home: Some(home.clone()),
        xdg_state_home: Some(home.join("state")),
        ..Environment::default()
    };
    let printer = Printer::new(&environment);
    let clock = FakeClock::at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let http = LazyHttpClient::new();
    let world = World {
        environment: &environment,
        printer: &printer,
        runner,
        http: &http,
        clock: &clock,
    };
    let settings = StepSettings {
        number: StepNumber(number),
        place: Where {
            context: None,
            namespace: None,
            cluster: "sidecar-lab".parse().expect("a cluster name"),
        },
        lab: None,
        dry_run: false,
    };
    let matrix = sidecar_lab::matrix::VersionMatrix::embedded().expect("the matrix");
    let wall = Instant::now();
    let status = step(&settings, &matrix, &world).expect("the step runs");
    let wall = wall.elapsed();
    let dir = environment.state_dir().expect("a state dir");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("state.json")).expect("the step saved the state"),
    )
    .expect("state is JSON");
    let _ = std::fs::remove_dir_all(&home);
    Ran {
        status,
        result: state["steps"][number.to_string()].clone(),
        fake: clock.elapsed(),
        wall,
    }
}

/// Step 3, the native sidecar: the Job completes at the first observation, so the step
/// ends `expected` at once, having replaced the previous Job and applied its manifest.
#[test]
fn a_native_sidecar_step_ends_expected() {
    let runner = cluster(&dump_fixture("native-succeeded.yaml"));
    let ran = run_step("native", 3, &runner);
    assert_eq!(ran.result["result"], "expected", "{:#}", ran.result);
    assert_eq!(ran.result["outcome"], "succeeded", "{:#}", ran.result);
    assert!(matches!(ran.status, ExitStatus::Success));
    let calls = runner.calls();
    let position = |needle: &str| {
        calls
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {calls:#?}"))
    };
    assert!(position(" delete job ") < position(" apply -f "));
    assert!(position(" apply -f ") < position(" get jobs,pods "));
    assert_eq!(runner.calls_with(" get jobs,pods ").len(), 1, "{calls:#?}");
}

/// Step 2, a regular second container, whose Job never shows up (kubectl answers with
/// nothing to judge, as when the Job controller is down): the step stays undecided and ends on its 180 s timeout, observed once a fake
/// second, while the test itself takes a fraction of that.
#[test]
fn a_hanging_step_ends_on_its_deadline_without_sleeping() {
    let runner = cluster(r#"{"apiVersion":"v1","kind":"List","items":[]}"#);
    let ran = run_step("hanging", 2, &runner);
    assert_eq!(ran.result["result"], "timed-out", "{:#}", ran.result);
    assert!(matches!(ran.status, ExitStatus::Unexpected));
    assert!(ran.fake >= Duration::from_secs(180), "{:?}", ran.fake);
    assert!(ran.fake < Duration::from_secs(190), "{:?}", ran.fake);
    assert!(
        ran.wall * 20 < ran.fake,
        "wall {:?}, fake {:?}",
        ran.wall,
        ran.fake
    );
    let observations = runner.calls_with(" get jobs,pods ").len();
    assert!((180..=182).contains(&observations), "{observations}");
}

/// Step 2 whose second container keeps the pod running: `sidecar-holds-pod` must hold
/// for the step's 10 s before the step is decided `expected`, on the fake clock.
#[test]
fn a_held_outcome_is_decided_after_its_hold_window() {
    let runner = cluster(&dump_fixture("sidecar-holds-pod.yaml"));
    let ran = run_step("held", 2, &runner);
    assert_eq!(ran.result["result"], "expected", "{:#}", ran.result);
    assert!(ran.fake >= Duration::from_secs(10), "{:?}", ran.fake);
    assert!(ran.fake < Duration::from_secs(20), "{:?}", ran.fake);
}

/// The items of a `kind: List` dump.
fn items(yaml: &str) -> Vec<serde_json::Value> {
    let list: serde_json::Value = sidecar_lab::yaml::from_str(yaml).expect("a List");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn list(items: &[serde_json::Value]) -> String {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

/// The sidecar variant's Job: postgres as a regular second container (and without the
/// last-applied copy, which says otherwise).
fn as_regular(mut item: serde_json::Value) -> serde_json::Value {
    if item["kind"] != "Job" {
        return item;
    }
    let drop_key = |value: &mut serde_json::Value, key: &str| {
        value.as_object_mut().and_then(|o| o.remove(key))
    };
    drop_key(&mut item["metadata"], "annotations");
    let spec = &mut item["spec"]["template"]["spec"];
    if let Some(serde_json::Value::Array(mut init)) = drop_key(spec, "initContainers")
        && let Some(mut postgres) = init.pop()
    {
        drop_key(&mut postgres, "restartPolicy");
        if let Some(containers) = spec["containers"].as_array_mut() {
            containers.push(postgres);
        }
    }
    item
}

/// Step 4, three Jobs under a quota: the quota is created and waited for, each Job is
/// judged on its own objects (the init Job's pod held in init; the sidecar and native
/// Jobs refused, as their `FailedCreate` events say), the refused Jobs are suspended and
/// the quota removed — every wait on the fake clock.
#[test]
fn a_step_group_under_a_quota_judges_each_job_and_cleans_up() {
    let refused_native = dump_fixture("native-not-admitted.yaml");
    // The same refusal for the sidecar variant's Job, an object of its own (its own uid).
    let refused_sidecar = refused_native
        .replace("native", "sidecar")
        .replace("1b89b976", "2c9ac087")
        .replace("dd25c6c3", "ee36d7d4");
    let (mut objects, mut events) = (items(&dump_fixture("init-running.yaml")), Vec::new());
    let refused = items(&refused_native)
        .into_iter()
        .chain(items(&refused_sidecar).into_iter().map(as_regular));
    for item in refused {
        if item["kind"] == "Event" {
            events.push(item);
        } else {
            objects.push(item);
        }
    }
    let runner = ScriptedRunner::new()
        .ok(
            " get resourcequota ",
            r#"{"status":{"hard":{"requests.cpu":"1"}}}"#,
        )
        .ok(" get events ", &list(&events))
        .ok(" patch job ", "job.batch/cy-job patched\n")
        .ok(" delete resourcequota ", "");
    let runner = cluster(&list(&objects)).prepend(runner);
    let ran = run_step("group", 4, &runner);
    assert_eq!(ran.result["result"], "expected", "{:#}", ran.result);
    assert_eq!(ran.result["outcome"], "init-running", "{:#}", ran.result);
    let calls = runner.calls();
    let position = |needle: &str| {
        calls
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {calls:#?}"))
    };
    assert!(position("step-4-quota.yaml") < position(" get resourcequota "));
    assert!(position(" get resourcequota ") < position("step-4-init.yaml"));
    assert_eq!(runner.calls_with(" patch job ").len(), 2, "{calls:#?}");
    assert!(position(" patch job ") < position(" delete resourcequota "));
    // Held for the step's 10 s, then up to 20 s for the Jobs to read as suspended.
    assert!(ran.fake >= Duration::from_secs(30), "{:?}", ran.fake);
    assert!(
        ran.wall * 20 < ran.fake,
        "wall {:?}, fake {:?}",
        ran.wall,
        ran.fake
    );
}

//! The exercise answers of tests/fixtures/exercises and their index (`cases.yaml`), and
//! the simulated clusters they run on: one simulator per Kubernetes minor (a 1.28 one
//! without the SidecarContainers gate), each case in its own namespace.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::machine::SimMachine;
use super::{assert_ok, text};

/// The simulated clock's speed for `submit`: `main`'s 60-second give-up takes 6 s.
pub(crate) const SPEED: f64 = 10.0;
/// The speed for plain kubectl: a held pod is checked after 70 simulated seconds and the
/// starting Jobs' own deadline (300 s) ends it 77 real seconds later, a window a loaded
/// machine's polls still hit.
pub(crate) const KUBECTL_SPEED: f64 = 3.0;

/// The index of every case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Index {
    pub cases: Vec<Case>,
}

/// One answer and what it must come to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub exercise: u8,
    pub file: String,
    pub on: Vec<String>,
    #[serde(default)]
    pub cluster: Option<String>,
    pub kubectl: Kubectl,
    pub result: String,
    #[serde(default)]
    pub hint: Option<String>,
    #[serde(default)]
    pub says: Option<String>,
}

/// What the real kubectl and a real cluster do with the file as it is.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Kubectl {
    /// kubectl's error, `FILE` standing for the path it was given.
    #[serde(default)]
    pub refused: Option<String>,
    /// The Job's terminal condition.
    #[serde(default)]
    pub job: Option<String>,
    /// That condition's reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// The STATUS `kubectl get pods` shows once the pod has settled.
    #[serde(default)]
    pub pod: Option<String>,
}

/// A cluster: a Kubernetes minor, and whether SidecarContainers is off.
pub(crate) type ClusterKey = (String, bool);

/// One case on one minor.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub case: Case,
    pub key: ClusterKey,
}

impl Run {
    /// The case's namespace on its cluster, starting with `prefix`.
    pub(crate) fn namespace(&self, prefix: &str) -> String {
        let stem = self
            .case
            .file
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".yaml");
        let minor = self.key.0.replace('.', "");
        format!("{prefix}{}-{minor}-{stem}", self.case.exercise)
    }

    pub(crate) fn label(&self) -> String {
        let gate = if self.key.1 { " (gate off)" } else { "" };
        format!("{} on {}{gate}", self.case.file, self.key.0)
    }
}

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exercises")
}

pub(crate) fn index() -> Index {
    let path = fixtures().join("cases.yaml");
    let text = std::fs::read_to_string(&path).expect("the index");
    sidecar_lab::yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every case on every minor it names.
pub(crate) fn runs(index: &Index) -> Vec<Run> {
    index
        .cases
        .iter()
        .flat_map(|case| {
            case.on.iter().map(|minor| Run {
                case: case.clone(),
                key: (minor.clone(), case.cluster.as_deref() == Some("gate-off")),
            })
        })
        .collect()
}

/// The node image of a minor, as the simulator serves it.
fn image(minor: &str) -> String {
    let patch = match minor {
        "1.28" => "15",
        "1.29" => "14",
        "1.33" => "7",
        "1.34" => "3",
        "1.35" => "8",
        _ => "0",
    };
    format!("kindest/node:v{minor}.{patch}")
}

/// A simulator with one kind cluster `lab` of `key`'s minor, on a node big enough for
/// every case at once, with the lab's image loaded. The SidecarContainers gate is as
/// `sidecar-lab up` leaves it (turned on for 1.28, where it is alpha and off), or off
/// when the key says so (1.28 without a word, 1.29-1.32 turned off).
pub(crate) fn start(key: &ClusterKey, speed: f64) -> SimMachine {
    let machine = SimMachine::new(speed);
    std::fs::write(
        machine.sim.dir.join("kind-version.json"),
        json!({"cpu": "64"}).to_string(),
    )
    .expect("the node's size");
    let (minor, gate_off) = (key.0.as_str(), key.1);
    let gate = match (minor, gate_off) {
        ("1.28", false) => Some(true),
        (other, true) if other != "1.28" => Some(false),
        _ => None,
    };
    let mut config = String::from("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n");
    if let Some(on) = gate {
        config.push_str(&format!("featureGates:\n  SidecarContainers: {on}\n"));
    }
    config.push_str(&format!(
        "nodes:\n- role: control-plane\n  image: {}\n",
        image(minor)
    ));
    let path = machine.file("lab.kind.yaml", &config);
    assert_ok(&machine.tool(
        "kind",
        &["create", "cluster", "--name", "lab", "--config", &path],
    ));
    machine.sim.control(
        "POST",
        "/clusters/lab/images",
        &json!({"images": ["postgres:17.5-alpine"]}),
    );
    super::machine::wait_for(
        || {
            machine
                .kubectl(&["get", "serviceaccount", "default"])
                .status
                .success()
        },
        "the default namespace's ServiceAccount",
    );
    machine
}

/// Every cluster the runs need, started side by side.
pub(crate) fn start_all(runs: &[Run], speed: f64) -> BTreeMap<ClusterKey, SimMachine> {
    let mut keys: Vec<ClusterKey> = runs.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    keys.dedup();
    std::thread::scope(|scope| {
        let handles: Vec<_> = keys
            .into_iter()
            .map(|key| scope.spawn(move || (key.clone(), start(&key, speed))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a cluster starts"))
            .collect()
    })
}

/// Runs `work` on every item with at most `width` at a time; the results in order.
pub(crate) fn pool<T: Sync, R: Send>(
    items: &[T],
    width: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..width.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    results.lock().expect("results")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Creates `names` with one `kubectl apply`, and waits until each has its default
/// ServiceAccount (without it the Job controller's first pod is refused and retried a
/// second later).
pub(crate) fn create_namespaces(machine: &SimMachine, names: &[String]) {
    let documents: String = names
        .iter()
        .map(|n| format!("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n"))
        .collect();
    let path = machine.file("namespaces.yaml", &documents);
    assert_ok(&machine.kubectl(&["apply", "-f", &path]));
    super::machine::wait_for(
        || {
            let output = machine.kubectl(&["get", "serviceaccounts", "-A", "--no-headers"]);
            let listed = text(&output.stdout);
            names
                .iter()
                .all(|n| listed.lines().any(|l| l.starts_with(&format!("{n} "))))
        },
        "every namespace's default ServiceAccount",
    );
}

/// `kubectl get pods -A`: namespace -> the STATUS of its first pod.
pub(crate) fn pod_statuses(machine: &SimMachine) -> BTreeMap<String, String> {
    let output = machine.kubectl(&["get", "pods", "-A", "--no-headers"]);
    assert_ok(&output);
    text(&output.stdout)
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            Some((
                (*columns.first()?).to_owned(),
                (*columns.get(3)?).to_owned(),
            ))
        })
        .collect()
}

/// `kubectl get jobs,pods -A -o json`: the Jobs and the pods by namespace (the first of
/// each).
pub(crate) fn items(machine: &SimMachine) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let output = machine.kubectl(&["get", "jobs,pods", "-A", "-o", "json"]);
    assert_ok(&output);
    let list: Value = serde_json::from_slice(&output.stdout).expect("kubectl prints JSON");
    let (mut jobs, mut pods) = (BTreeMap::new(), BTreeMap::new());
    for item in list["items"].as_array().into_iter().flatten() {
        let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default();
        let map = if item["kind"] == "Job" {
            &mut jobs
        } else {
            &mut pods
        };
        map.entry(namespace.to_owned())
            .or_insert_with(|| item.clone());
    }
    (jobs, pods)
}

/// A Job's terminal condition (`Complete` or `Failed`, status True) and its reason.
pub(crate) fn terminal(job: &Value) -> Option<(String, String)> {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            matches!(c["type"].as_str(), Some("Complete" | "Failed")) && c["status"] == "True"
        })
        .map(|c| {
            (
                c["type"].as_str().unwrap_or_default().to_owned(),
                c["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
}

/// Polls `settled` every second until it holds or `limit` passes; whether it held.
pub(crate) fn poll(limit: Duration, mut settled: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if settled() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

//! The simulated cluster is as strict as a real one: the real kubectl gets the real error
//! shapes (AlreadyExists, NotFound, Forbidden, Invalid, strict decoding), dry runs are
//! checked like creates, the kind stand-in refuses what kind refuses, and the kubelet
//! model runs the lab's three variants as sidecar-facts.md describes, on every minor
//! from 1.28 to 1.37. A mutation self-test runs the Job as learners get it wrong and
//! checks that `sidecar-lab check` judges each one `unexpected` with the right finding.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::machine::SimMachine;
use support::{assert_ok, text};

/// A simulator with one kind cluster `lab`, made by the kind stand-in from the config
/// sidecar-lab renders for `minor`, with the lab's image on its node.
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
    fn new(minor: &str) -> Self {
        Self::with_gate(minor, "auto")
    }

    /// The same on a node with `cpus` CPUs (kind's node sees every host CPU).
    fn with_cpus(minor: &str, cpus: u32) -> Self {
        Self::with(minor, "auto", cpus)
    }

    fn with_gate(minor: &str, gate: &str) -> Self {
        Self::with(minor, gate, 2)
    }

    fn with(minor: &str, gate: &str, cpus: u32) -> Self {
        let machine = SimMachine::new(2.0);
        std::fs::write(
            machine.sim.dir.join("kind-version.json"),
            json!({"cpu": cpus.to_string()}).to_string(),
        )
        .expect("the node's size");
        let lab = Self { machine };
        let config = lab.sidecar_lab(&[
            "render",
            "config",
            "-k",
            minor,
            "--name",
            "lab",
            "--sidecar-gate",
            gate,
        ]);
        assert_ok(&config);
        let path = lab.file("kind.yaml", &text(&config.stdout));
        assert_ok(&lab.tool("kind", &["create", "cluster", "--config", &path]));
        lab.sim.control(
            "POST",
            "/clusters/lab/images",
            &json!({"images": ["postgres:17.5-alpine"]}),
        );
        lab
    }

    /// The lab's Job for `variant` on `minor`, as sidecar-lab renders it.
    fn job(&self, variant: &str, minor: &str) -> String {
        let output = self.sidecar_lab(&["render", "job", "--variant", variant, "-k", minor]);
        assert_ok(&output);
        text(&output.stdout)
    }

    fn namespace(&self, name: &str) {
        assert_ok(&self.kubectl(&["create", "namespace", name]));
    }

    fn apply(&self, namespace: &str, manifest: &str) -> Output {
        let path = self.file(&format!("{namespace}.yaml"), manifest);
        self.kubectl(&["-n", namespace, "apply", "-f", &path])
    }

    /// Watches the namespace's Job and pods with `sidecar-lab check` until the verdict is
    /// decided and has held for `hold` (a finished Job decides at once).
    fn judge(&self, namespace: &str, variant: &str, hold: Duration) -> Value {
        let start = Instant::now();
        let mut last: Option<(Value, Instant)> = None;
        loop {
            let dump = self.kubectl(&["-n", namespace, "get", "jobs,pods", "-o", "json"]);
            assert_ok(&dump);
            let path = self.file(&format!("{namespace}-dump.json"), &text(&dump.stdout));
            let check =
                self.sidecar_lab(&["check", "--variant", variant, "--from", &path, "-o", "json"]);
            let report: Value = serde_json::from_slice(&check.stdout).expect("check prints JSON");
            let key = json!([report["verdict"], report["outcome"]]);
            let finished =
                ["succeeded", "failed"].contains(&report["outcome"].as_str().unwrap_or(""));
            if report["verdict"] == "undecided" {
                last = None;
            } else {
                if finished {
                    return report;
                }
                match &last {
                    Some((seen, since)) if *seen == key && since.elapsed() >= hold => {
                        return report;
                    }
                    Some((seen, _)) if *seen == key => {}
                    _ => last = Some((key, Instant::now())),
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "undecided after 60 s: {report:#}"
            );
            std::thread::sleep(Duration::from_millis(400));
        }
    }
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const HOLD: Duration = Duration::from_secs(3);

/// The three correct variants on `minor`: each judged `expected`, with the facts of that
/// minor visible to kubectl.
fn three_variants_are_expected(minor: &str) {
    let lab = Lab::new(minor);
    let version = lab.kubectl(&["version", "-o", "json"]);
    let version: Value = serde_json::from_slice(&version.stdout).expect("version JSON");
    assert!(
        version["serverVersion"]["gitVersion"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("v{minor}.")),
        "{version:#}"
    );
    for variant in ["init", "sidecar", "native"] {
        lab.namespace(variant);
        assert_ok(&lab.apply(variant, &lab.job(variant, minor)));
    }
    for variant in ["native", "init", "sidecar"] {
        let report = lab.judge(variant, variant, HOLD);
        assert_eq!(
            report["verdict"], "expected",
            "{minor} {variant}: {report:#}"
        );
    }
    // What kubectl shows a learner (server-side printing).
    let pods = text(&lab.kubectl(&["get", "pods", "-A"]).stdout);
    for (namespace, ready, status) in [
        ("init", "0/1", "Init:0/1"),
        ("sidecar", "1/2", "NotReady"),
        ("native", "0/2", "Completed"),
    ] {
        let row = pods
            .lines()
            .find(|l| l.starts_with(namespace))
            .unwrap_or_else(|| panic!("{pods}"));
        assert!(
            row.contains(ready) && row.contains(status),
            "{minor}: {row}"
        );
    }
    // The Job's conditions as this minor writes them.
    let job: Value = serde_json::from_slice(
        &lab.kubectl(&["-n", "native", "get", "job", "cy-job-native", "-o", "json"])
            .stdout,
    )
    .expect("job JSON");
    let kinds: Vec<&str> = job["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .filter_map(|c| c["type"].as_str())
        .collect();
    let newer = minor
        .trim_start_matches("1.")
        .parse::<u32>()
        .expect("minor")
        >= 31;
    assert_eq!(
        kinds,
        if newer {
            vec!["SuccessCriteriaMet", "Complete"]
        } else {
            vec!["Complete"]
        },
        "{minor}"
    );
    // The pod: sidecar stopped after main (from 1.29), cleanly; PodReadyToStartContainers from 1.29.
    let pod: Value = serde_json::from_slice(
        &lab.kubectl(&["-n", "native", "get", "pods", "-o", "json"])
            .stdout,
    )
    .expect("pod JSON");
    let pod = &pod["items"][0];
    let sidecar = &pod["status"]["initContainerStatuses"][0]["state"]["terminated"];
    let main = &pod["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        sidecar["exitCode"], 0,
        "postgres stops cleanly on SIGINT: {pod:#}"
    );
    assert!(
        sidecar["finishedAt"].as_str() >= main["finishedAt"].as_str(),
        "{pod:#}"
    );
    let ready_to_start = pod["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .any(|c| c["type"] == "PodReadyToStartContainers");
    assert_eq!(ready_to_start, minor != "1.28", "{minor}");
}

#[test]
fn the_three_variants_on_1_28_with_the_gate_on() {
    three_variants_are_expected("1.28");
}

#[test]
fn the_three_variants_on_1_29() {
    three_variants_are_expected("1.29");
}

#[test]
fn the_three_variants_on_1_30() {
    three_variants_are_expected("1.30");
}

#[test]
fn the_three_variants_on_1_31() {
    three_variants_are_expected("1.31");
}

#[test]
fn the_three_variants_on_1_32() {
    three_variants_are_expected("1.32");
}

#[test]
fn the_three_variants_on_1_33() {
    three_variants_are_expected("1.33");
}

#[test]
fn the_three_variants_on_1_34() {
    three_variants_are_expected("1.34");
}

#[test]
fn the_three_variants_on_1_35() {
    three_variants_are_expected("1.35");
}

#[test]
fn the_three_variants_on_1_36() {
    three_variants_are_expected("1.36");
}

#[test]
fn the_three_variants_on_1_37() {
    three_variants_are_expected("1.37");
}

// ---- The mutation self-test: the Job as learners get it wrong.

fn native(lab: &Lab, minor: &str) -> String {
    lab.job("native", minor)
}

#[test]
fn mutations_of_the_lab_job_are_judged_unexpected_with_the_right_finding() {
    let minor = "1.37";
    let lab = Lab::new(minor);
    let native_job = native(&lab, minor);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        // native without `restartPolicy: Always`: postgres is a plain init container again.
        (
            "no-restart-policy",
            "native",
            native_job.replace("        restartPolicy: Always\n", ""),
            "variant-mismatch",
        ),
        // the init variant with postgres as a regular container: the sidecar layout.
        (
            "init-as-regular",
            "init",
            lab.job("sidecar", minor)
                .replace("sidecar-lab/variant: sidecar", "sidecar-lab/variant: init")
                .replace("cy-job-sidecar", "cy-job-init"),
            "variant-mismatch",
        ),
        // a wrong image tag: no registry has it.
        (
            "wrong-tag",
            "native",
            native_job.replace("postgres:17.5-alpine", "postgres:17.5-alpin"),
            "image-pull-failed",
        ),
        // main exits 1.
        (
            "main-fails",
            "native",
            native_job.replace(
                "        - |\n          set -eu\n",
                "        - |\n          exit 1\n          set -eu\n",
            ),
            "app-container-failed",
        ),
    ];
    for (namespace, _, manifest, _) in &cases {
        lab.namespace(namespace);
        assert_ok(&lab.apply(namespace, manifest));
    }
    for (namespace, variant, _, finding) in &cases {
        let report = lab.judge(namespace, variant, HOLD);
        assert_eq!(report["verdict"], "unexpected", "{namespace}: {report:#}");
        assert!(
            codes(&report).iter().any(|c| c == finding),
            "{namespace}: want {finding}: {report:#}"
        );
    }
}

#[test]
fn restart_policy_on_a_regular_container_is_refused_before_1_34() {
    // 1.34 knows ContainerRestartRules (alpha, off) and drops the field silently
    // (tests/sim_api_strictness.rs); 1.33 refuses it.
    let lab = Lab::new("1.33");
    lab.namespace("learner");
    let manifest = lab.job("sidecar", "1.33").replace(
        "      - name: postgres\n        image:",
        "      - name: postgres\n        restartPolicy: Always\n        image:",
    );
    let output = lab.apply("learner", &manifest);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains(
            "The Job \"cy-job-sidecar\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers"
        ),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn restart_policy_on_a_regular_container_is_accepted_from_1_35_and_still_hangs() {
    let lab = Lab::new("1.35");
    lab.namespace("learner");
    let manifest = lab.job("sidecar", "1.35").replace(
        "      - name: postgres\n        image:",
        "      - name: postgres\n        restartPolicy: Always\n        image:",
    );
    assert_ok(&lab.apply("learner", &manifest));
    // The learner meant a native sidecar: the Job hangs, as the sidecar variant does.
    let report = lab.judge("learner", "native", HOLD);
    assert_eq!(report["verdict"], "unexpected", "{report:#}");
    assert_eq!(report["outcome"], "sidecar-holds-pod", "{report:#}");
}

// ---- Negative controls: the real kubectl's own error text.

#[test]
fn kubectl_prints_its_real_errors() {
    let lab = Lab::new("1.37");
    let job = lab.file("job.yaml", &lab.job("native", "1.37"));
    assert_ok(&lab.kubectl(&["create", "-f", &job]));
    let again = lab.kubectl(&["create", "-f", &job]);
    assert_eq!(
        text(&again.stderr).trim(),
        format!(
            "Error from server (AlreadyExists): error when creating \"{job}\": jobs.batch \"cy-job-native\" already exists"
        )
    );
    let missing = lab.kubectl(&["get", "job", "nope"]);
    assert_eq!(
        text(&missing.stderr).trim(),
        "Error from server (NotFound): jobs.batch \"nope\" not found"
    );
    let no_namespace = lab.kubectl(&["-n", "nowhere", "create", "-f", &job]);
    assert_eq!(
        text(&no_namespace.stderr).trim(),
        format!(
            "Error from server (NotFound): error when creating \"{job}\": namespaces \"nowhere\" not found"
        )
    );
    // A dry run is checked like a create, and stores nothing.
    let dry = lab.kubectl(&["create", "--dry-run=server", "-f", &job]);
    assert!(
        text(&dry.stderr).contains("(AlreadyExists)"),
        "{}",
        text(&dry.stderr)
    );
    let dry = lab.kubectl(&["-n", "nowhere", "create", "--dry-run=server", "-f", &job]);
    assert!(
        text(&dry.stderr).contains("namespaces \"nowhere\" not found"),
        "{}",
        text(&dry.stderr)
    );
    lab.namespace("empty");
    assert_ok(&lab.kubectl(&["-n", "empty", "create", "--dry-run=server", "-f", &job]));
    let none = lab.kubectl(&["-n", "empty", "get", "jobs"]);
    assert_eq!(
        text(&none.stderr).trim(),
        "No resources found in empty namespace."
    );
    // Strict decoding: an unknown field is refused, as kubectl's default --validate=strict asks.
    let typo = lab.file(
        "typo.yaml",
        &lab.job("native", "1.37")
            .replace("imagePullPolicy", "imagePullPolicyy"),
    );
    let refused = lab.kubectl(&["-n", "empty", "apply", "-f", &typo]);
    assert!(
        text(&refused.stderr).contains("Error from server (BadRequest)")
            && text(&refused.stderr).contains("strict decoding error: unknown field \"spec.template.spec.containers[0].imagePullPolicyy\", unknown field \"spec.template.spec.initContainers[0].imagePullPolicyy\""),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn rbac_switches_answer_forbidden_per_user_and_verb() {
    let lab = Lab::new("1.37");
    let server = lab.sim.control("GET", "/clusters/lab", &Value::Null)["server"]
        .as_str()
        .expect("server")
        .to_owned();
    let ca = lab.sim.dir.join("pki/ca.crt").display().to_string();
    lab.sim.control(
        "POST",
        "/clusters/lab/users",
        &json!({"token": "learner-7", "name": "learner-7"}),
    );
    for args in [
        vec![
            "config",
            "set-cluster",
            "class",
            "--server",
            server.as_str(),
            "--certificate-authority",
            ca.as_str(),
            "--embed-certs",
        ],
        vec![
            "config",
            "set-credentials",
            "learner-7",
            "--token",
            "learner-7",
        ],
        vec![
            "config",
            "set-context",
            "class",
            "--cluster",
            "class",
            "--user",
            "learner-7",
        ],
    ] {
        assert_ok(&lab.kubectl(&args));
    }
    lab.sim.control(
        "POST",
        "/clusters/lab/forbid",
        &json!({"user": "learner-7", "verb": "list", "resource": "pods"}),
    );
    let denied = lab.kubectl(&["--context", "class", "get", "pods"]);
    assert_eq!(
        text(&denied.stderr).trim(),
        "Error from server (Forbidden): pods is forbidden: User \"learner-7\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    // A token the API server does not know is refused before anything else.
    let stranger = lab.kubectl(&["--token", "nobody-knows-me", "get", "pods"]);
    assert_eq!(
        text(&stranger.stderr).trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );
    // Other verbs and other users are allowed.
    assert_ok(&lab.kubectl(&["--context", "class", "get", "jobs"]));
    assert_ok(&lab.kubectl(&["get", "pods"]));
    lab.sim.control(
        "POST",
        "/clusters/lab/forbid",
        &json!({"user": "learner-7", "verb": "get", "resource": "namespaces"}),
    );
    let denied = lab.kubectl(&["--context", "class", "get", "namespace", "default"]);
    assert_eq!(
        text(&denied.stderr).trim(),
        "Error from server (Forbidden): namespaces \"default\" is forbidden: User \"learner-7\" cannot get resource \"namespaces\" in API group \"\" at the cluster scope"
    );
}

/// ServiceAccount tokens (TokenRequest) are authorised by RBAC: a Role bound in one
/// namespace reaches that namespace and those resources only; the API server's own
/// validation refuses short tokens, broken Roles and a changed roleRef; a token stops
/// working when it expires or its ServiceAccount is deleted.
#[test]
fn rbac_authorises_service_account_tokens_that_expire() {
    let lab = Lab::new("1.37");
    lab.namespace("team");
    let rbac = lab.file(
        "rbac.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: reader, namespace: team}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pods, namespace: team}\n\
         rules: [{apiGroups: [\"\"], resources: [pods], verbs: [get, list]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: pods, namespace: team}\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods}\n\
         subjects: [{kind: ServiceAccount, name: reader, namespace: team}]\n",
    );
    assert_ok(&lab.kubectl(&["apply", "-f", &rbac]));
    let short = lab.kubectl(&[
        "-n",
        "team",
        "create",
        "token",
        "reader",
        "--duration",
        "5m",
    ]);
    assert_eq!(
        text(&short.stderr).trim(),
        "error: failed to create token: TokenRequest.authentication.k8s.io \"reader\" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"
    );
    let token = lab.kubectl(&[
        "-n",
        "team",
        "create",
        "token",
        "reader",
        "--duration",
        "10m",
    ]);
    assert_ok(&token);
    let token = text(&token.stdout).trim().to_owned();
    let as_reader = |args: &[&str]| {
        let mut all = vec!["--token", token.as_str()];
        all.extend_from_slice(args);
        lab.kubectl(&all)
    };
    assert_ok(&as_reader(&["-n", "team", "get", "pods"]));
    for (args, denied) in [
        (
            vec!["-n", "default", "get", "pods"],
            "cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
        ),
        (
            vec!["-n", "team", "get", "jobs"],
            "cannot list resource \"jobs\" in API group \"batch\" in the namespace \"team\"",
        ),
        (
            vec!["get", "pods", "-A"],
            "cannot list resource \"pods\" in API group \"\" at the cluster scope",
        ),
        (
            vec!["-n", "team", "delete", "pod", "x"],
            "cannot delete resource \"pods\"",
        ),
    ] {
        let output = as_reader(&args);
        assert!(
            text(&output.stderr).contains(&format!(
                "User \"system:serviceaccount:team:reader\" {denied}"
            )),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    // Validation of RBAC objects.
    let no_verbs = lab.file(
        "bad-role.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: bad, namespace: team}\n\
         rules: [{apiGroups: [\"\"], resources: [pods], verbs: []}]\n",
    );
    let refused = lab.kubectl(&["apply", "-f", &no_verbs]);
    assert!(
        text(&refused.stderr).contains("The Role \"bad\" is invalid: rules[0].verbs: Required value: verbs must contain at least one value"),
        "{}",
        text(&refused.stderr)
    );
    let rebound = lab.file(
        "rebound.yaml",
        &std::fs::read_to_string(&rbac)
            .expect("rbac")
            .replace("kind: Role, name: pods", "kind: ClusterRole, name: view"),
    );
    let refused = lab.kubectl(&["apply", "-f", &rebound]);
    assert!(
        text(&refused.stderr).contains("cannot change roleRef"),
        "{}",
        text(&refused.stderr)
    );
    // Expiry: ten simulated minutes pass in a moment.
    lab.sim.control("POST", "/speed", &json!({"speed": 2000}));
    std::thread::sleep(Duration::from_millis(600));
    lab.sim.control("POST", "/speed", &json!({"speed": 1}));
    let expired = as_reader(&["-n", "team", "get", "pods"]);
    assert_eq!(
        text(&expired.stderr).trim(),
        "error: You must be logged in to the server (Unauthorized)"
    );
    // A deleted ServiceAccount's tokens stop at once.
    let fresh = lab.kubectl(&["-n", "team", "create", "token", "reader"]);
    let fresh = text(&fresh.stdout).trim().to_owned();
    assert_ok(&lab.kubectl(&["--token", &fresh, "-n", "team", "get", "pods"]));
    assert_ok(&lab.kubectl(&["-n", "team", "delete", "serviceaccount", "reader"]));
    let gone = lab.kubectl(&["--token", &fresh, "-n", "team", "get", "pods"]);
    assert!(
        text(&gone.stderr).contains("Unauthorized"),
        "{}",
        text(&gone.stderr)
    );
}

/// A ResourceQuota on requests.cpu counts pods with the sidecar-aware formula: 600m +
/// 600m as a native sidecar is 1200m, refused by a 1-CPU quota; as a plain init container
/// it is 600m, admitted. A container without a cpu request is refused by name, and a
/// Job's refused pod shows as a FailedCreate event on the Job (wave2-facts §4.3).
#[test]
fn a_resource_quota_refuses_pods_beyond_it_with_the_api_servers_words() {
    let lab = Lab::new("1.37");
    lab.namespace("quota");
    let quota = lab.file(
        "quota.yaml",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: lab, namespace: quota}\nspec: {hard: {requests.cpu: \"1\"}}\n",
    );
    assert_ok(&lab.kubectl(&["apply", "-f", &quota]));
    std::thread::sleep(Duration::from_millis(300)); // the quota controller writes status
    let sized = |variant: &str| {
        lab.job(variant, "1.37")
            .replace("cpu: 100m", "cpu: 600m")
            .replace("cpu: 50m", "cpu: 600m")
    };
    assert_ok(&lab.apply("quota", &sized("native")));
    let start = Instant::now();
    let events = loop {
        let events = text(&lab.kubectl(&["-n", "quota", "get", "events"]).stdout);
        // A FailedCreate of the ServiceAccount admission may come first, while the
        // new namespace has no `default` account yet.
        if events.contains("exceeded quota") || start.elapsed() > Duration::from_secs(20) {
            break events;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        events.contains("Error creating: pods \"cy-job-native-")
            && events.contains("is forbidden: exceeded quota: lab, requested: requests.cpu=1200m, used: requests.cpu=0, limited: requests.cpu=1"),
        "{events}"
    );
    assert_ok(&lab.kubectl(&["-n", "quota", "delete", "job", "cy-job-native"]));
    assert_ok(&lab.apply("quota", &sized("init")));
    let start = Instant::now();
    while text(
        &lab.kubectl(&["-n", "quota", "get", "pods", "-o", "name"])
            .stdout,
    )
    .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the init variant's pod never came"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let used = lab.kubectl(&[
        "-n",
        "quota",
        "get",
        "quota",
        "lab",
        "-o",
        "jsonpath={.status.used}",
    ]);
    assert_eq!(text(&used.stdout), "{\"requests.cpu\":\"600m\"}");
    let bare = lab.file(
        "bare.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: quota}\n\
         spec: {containers: [{name: main, image: postgres:17.5-alpine}]}\n",
    );
    let refused = lab.kubectl(&["apply", "-f", &bare]);
    assert!(
        text(&refused.stderr).contains(
            "pods \"bare\" is forbidden: failed quota: lab: must specify requests.cpu for: main"
        ),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn a_gate_off_server_drops_restart_policy_silently() {
    for (minor, gate) in [("1.28", "off"), ("1.32", "off")] {
        let lab = Lab::with_gate(minor, gate);
        let job = lab.file("job.yaml", &lab.job("native", minor));
        let dry = lab.kubectl(&["create", "--dry-run=server", "-o", "json", "-f", &job]);
        assert_ok(&dry);
        assert!(
            text(&dry.stderr).is_empty(),
            "no warning: {}",
            text(&dry.stderr)
        );
        let answer: Value = serde_json::from_slice(&dry.stdout).expect("JSON");
        assert!(
            answer["spec"]["template"]["spec"]["initContainers"][0]
                .get("restartPolicy")
                .is_none(),
            "{minor}"
        );
        // Applied, the native Job behaves as the init variant, and is judged so.
        lab.namespace("learner");
        assert_ok(&lab.apply("learner", &lab.job("native", minor)));
        let report = lab.judge("learner", "native", HOLD);
        assert_eq!(report["verdict"], "unexpected", "{minor}: {report:#}");
        assert_eq!(report["outcome"], "init-running", "{minor}: {report:#}");
    }
}

#[test]
fn foreground_deletion_keeps_the_job_until_its_pods_are_gone() {
    let lab = Lab::new("1.37");
    lab.namespace("learner");
    assert_ok(&lab.apply("learner", &lab.job("sidecar", "1.37")));
    lab.judge("learner", "sidecar", Duration::from_secs(1));
    assert_ok(&lab.kubectl(&[
        "-n",
        "learner",
        "delete",
        "job",
        "cy-job-sidecar",
        "--cascade=foreground",
        "--wait=false",
    ]));
    let job: Value = serde_json::from_slice(
        &lab.kubectl(&[
            "-n",
            "learner",
            "get",
            "job",
            "cy-job-sidecar",
            "-o",
            "json",
        ])
        .stdout,
    )
    .expect("the Job lingers");
    assert!(job["metadata"]["deletionTimestamp"].is_string(), "{job:#}");
    assert_eq!(job["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    // kubectl waits (a watch) until it is gone: postgres stops at once, main has exited.
    assert_ok(&lab.kubectl(&[
        "-n",
        "learner",
        "wait",
        "--for=delete",
        "job/cy-job-sidecar",
        "--timeout=30s",
    ]));
    let pods = lab.kubectl(&["-n", "learner", "get", "pods"]);
    assert_eq!(
        text(&pods.stderr).trim(),
        "No resources found in learner namespace."
    );
}

#[test]
fn kubectl_wait_follows_a_watch_until_the_job_completes() {
    let lab = Lab::new("1.33");
    lab.namespace("learner");
    assert_ok(&lab.apply("learner", &lab.job("native", "1.33")));
    let waited = lab.kubectl(&[
        "-n",
        "learner",
        "wait",
        "--for=condition=complete",
        "job/cy-job-native",
        "--timeout=40s",
    ]);
    assert_ok(&waited);
    assert_eq!(
        text(&waited.stdout).trim(),
        "job.batch/cy-job-native condition met"
    );
}

#[test]
fn a_pod_that_does_not_fit_stays_pending_with_insufficient_cpu() {
    let lab = Lab::new("1.37");
    lab.namespace("learner");
    // 600m each: the native pod's effective request is max(600, 600 + 600) = 1200m,
    // more than the 1050m that kube-system's 950m leave of the node's 2 CPUs; the init
    // variant needs max(600, 600) and fits.
    let big = |variant: &str| {
        lab.job(variant, "1.37")
            .replace("cpu: 100m", "cpu: 600m")
            .replace("cpu: 50m", "cpu: 600m")
    };
    assert_ok(&lab.apply("learner", &big("native")));
    lab.namespace("other");
    assert_ok(&lab.apply("other", &big("init")));
    // Pending stays undecided (it may yet be scheduled), with the reason as a finding.
    let start = Instant::now();
    loop {
        let dump = lab.kubectl(&["-n", "learner", "get", "jobs,pods", "-o", "json"]);
        let path = lab.file("pending.json", &text(&dump.stdout));
        let check = lab.sidecar_lab(&[
            "check",
            "--variant",
            "native",
            "--from",
            &path,
            "-o",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&check.stdout).expect("JSON");
        if codes(&report).contains(&"unschedulable".to_owned()) {
            assert_eq!(report["outcome"], "pending", "{report:#}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{report:#}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let events = text(&lab.kubectl(&["-n", "learner", "get", "events"]).stdout);
    assert!(
        events.contains("FailedScheduling")
            && events.contains("0/1 nodes are available: 1 Insufficient cpu."),
        "{events}"
    );
    let report = lab.judge("other", "init", HOLD);
    assert_eq!(report["verdict"], "expected", "{report:#}");
}

// ---- The kind stand-in refuses what kind refuses.

#[test]
fn kind_refuses_the_articles_config_and_gates_a_version_does_not_allow() {
    let lab = Lab::new("1.37");
    let article = lab.file(
        "article.yaml",
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nSidecarContainers: true\nnodes:\n- role: control-plane\n  image: kindest/node:v1.28.15\n",
    );
    let refused = lab.tool(
        "kind",
        &[
            "create", "cluster", "--name", "article", "--config", &article,
        ],
    );
    assert!(!refused.status.success());
    assert_eq!(
        text(&refused.stderr).trim(),
        "ERROR: failed to create cluster: unable to decode config: yaml: unmarshal errors:\n  line 3: field SidecarContainers not found in type v1alpha4.Cluster"
    );
    for (image, gate, error) in [
        (
            "kindest/node:v1.37.0",
            "true",
            "unrecognized feature gate: SidecarContainers",
        ),
        (
            "kindest/node:v1.34.11",
            "false",
            "cannot set feature gate SidecarContainers to false, feature is locked to true",
        ),
    ] {
        let config = lab.file(
            "gate.yaml",
            &format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nfeatureGates:\n  SidecarContainers: {gate}\nnodes:\n- role: control-plane\n  image: {image}\n"),
        );
        let refused = lab.tool(
            "kind",
            &["create", "cluster", "--name", "gated", "--config", &config],
        );
        let stderr = text(&refused.stderr);
        assert!(!refused.status.success(), "{stderr}");
        assert!(
            stderr.contains("failed to init node with kubeadm") && stderr.contains(error),
            "{stderr}"
        );
    }
    // Nothing is left behind, and the name that exists is refused.
    let clusters = lab.tool("kind", &["get", "clusters"]);
    assert_eq!(text(&clusters.stdout).trim(), "lab");
    let again = lab.tool("kind", &["create", "cluster", "--name", "lab"]);
    assert!(
        text(&again.stderr).contains("node(s) already exist for a cluster with the name \"lab\"")
    );
    let load = lab.tool(
        "kind",
        &["load", "image-archive", "/dev/null", "--name", "nope"],
    );
    assert_eq!(
        text(&load.stderr).trim(),
        "ERROR: no nodes found for cluster \"nope\""
    );
}

// ---- The steps beyond the three variants, run by `sidecar-lab step` itself.

impl Lab {
    /// Runs `sidecar-lab step N` on the kind cluster `lab` with the built-in lab's steps
    /// (holds shortened): the report and the step's recorded result.
    fn step(&self, number: &str) -> (String, String) {
        self.mutated_step(number, &|lab| lab)
    }

    /// The same, with the lab file changed by `mutate` first (as a learner or a lab author
    /// gets it wrong).
    fn mutated_step(&self, number: &str, mutate: &dyn Fn(String) -> String) -> (String, String) {
        let lab = mutate(
            include_str!("../labs/native-sidecar.yaml")
                .replace("holdSeconds: 10", "holdSeconds: 3")
                .replace("timeoutSeconds: 180", "timeoutSeconds: 90"),
        );
        let path = self.file("lab.yaml", &lab);
        let output = self.sidecar_lab(&["step", number, "--name", "lab", "--lab", &path]);
        let state: Value =
            std::fs::read_to_string(self.home().join(".local/state/sidecar-lab/state.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
        let result = state["steps"][number]["result"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        // Reports wrap long lines: compare words, not line breaks.
        let report = format!("{}{}", text(&output.stdout), text(&output.stderr));
        (
            report.split_whitespace().collect::<Vec<_>>().join(" "),
            result,
        )
    }
}

/// Step 5 on three API servers, as real ones answered (real-cluster-facts.md): 1.33
/// refuses the Job, 1.34 accepts it and drops the field without a word (the step shows
/// what was sent beside what was kept), 1.35 keeps it. Each is the step's lesson there.
#[test]
fn the_common_mistake_is_refused_on_1_33_dropped_on_1_34_and_kept_from_1_35() {
    let old = Lab::new("1.33");
    let (report, result) = old.step("5");
    assert_eq!(result, "expected", "{report}");
    assert!(
        report.contains("may not be set for non-init containers"),
        "{report}"
    );
    assert!(
        report.contains("On this cluster (1.33) the step expects `refused`: its rule up to 1.33"),
        "{report}"
    );

    let dropped = Lab::new("1.34");
    let (report, result) = dropped.step("5");
    assert_eq!(result, "expected", "{report}");
    assert!(
        report.contains(
            "On this cluster (1.34) the step expects `sidecar-holds-pod`: its rule on 1.34"
        ),
        "{report}"
    );
    assert!(
        report.contains("field-dropped: kubectl sent `restartPolicy: Always` on the regular container `postgres`"),
        "{report}"
    );
    assert!(!report.contains("unexpected"), "{report}");
    let stored = dropped.kubectl(&[
        "get",
        "job",
        "cy-job-mistake",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].restartPolicy}",
    ]);
    assert_eq!(
        text(&stored.stdout).trim(),
        "",
        "1.34 keeps no restartPolicy"
    );
    let sent = dropped.kubectl(&["apply", "view-last-applied", "job/cy-job-mistake"]);
    assert!(
        text(&sent.stdout).contains("restartPolicy: Always"),
        "{}",
        text(&sent.stdout)
    );

    let new = Lab::new("1.35");
    let (report, result) = new.step("5");
    assert_eq!(result, "expected", "{report}");
    assert!(report.contains("sidecar-holds-pod"), "{report}");
    assert!(!report.contains("field-dropped"), "{report}");
    assert!(
        report.contains(
            "On this cluster (1.35) the step expects `sidecar-holds-pod`: its rule from 1.35"
        ),
        "{report}"
    );
}

#[test]
fn a_sidecar_that_crashes_once_is_restarted_and_the_job_completes() {
    let lab = Lab::new("1.37");
    let (report, result) = lab.step("6");
    assert_eq!(result, "expected", "{report}");
    let pod = lab.kubectl(&[
        "get", "pods", "-l", "batch.kubernetes.io/job-name=cy-job-crash", "-o",
        "jsonpath={.items[0].status.initContainerStatuses[0].restartCount} {.items[0].status.initContainerStatuses[0].lastState.terminated.exitCode}",
    ]);
    assert_eq!(text(&pod.stdout), "1 1");
    assert!(report.contains("was restarted 1 time"), "{report}");
}

#[test]
fn sidecars_stop_in_reverse_order_from_1_29() {
    let lab = Lab::new("1.29");
    let (report, result) = lab.step("7");
    assert_eq!(result, "expected", "{report}");
    assert!(
        report.contains("in reverse order: log-shipper, then postgres"),
        "{report}"
    );
    // 1.28 cannot run the step: skipped, never failed.
    let old = Lab::with_gate("1.28", "on");
    let (report, result) = old.step("7");
    assert_eq!(result, "skipped", "{report}");
    assert!(
        report.contains("needs Kubernetes 1.29 or later; this cluster runs 1.28"),
        "{report}"
    );
}

#[test]
fn what_a_sidecar_costs_under_a_quota_the_formula_and_the_api_server_agree() {
    let lab = Lab::new("1.37");
    let (report, result) = lab.step("4");
    assert_eq!(result, "expected", "{report}");
    for expected in [
        "effective CPU request: max(600m, 600m) = 600m",
        "effective CPU request: 600m + 600m = 1200m",
        "effective CPU request: max(600m, 600m + 600m) = 1200m",
        "the API server computed requests.cpu=1200m, the formula gives 1200m — they agree",
        "exceeded quota: sidecar-lab-step-4, requested: requests.cpu=1200m",
        // Each variant is judged against what it shows in this step, and says so.
        "verdict expected for the `sidecar` variant (expects `not-admitted`)",
        "verdict expected for the `native` variant (expects `not-admitted`)",
    ] {
        assert!(report.contains(expected), "missing {expected:?}: {report}");
    }
    assert!(
        !report.contains("(expects `sidecar-holds-pod`)")
            && !report.contains("(expects `succeeded`)"),
        "a variant's own outcome in step 4's report: {report}"
    );
    // Cleaned up: no quota; the refused Jobs are suspended, not deleted, so they and
    // their `FailedCreate` events stay to be read, and neither starts a pod late.
    let left = lab.kubectl(&["get", "resourcequota,jobs", "-o", "name"]);
    assert_eq!(
        text(&left.stdout).trim(),
        "job.batch/cy-job-cost-init\njob.batch/cy-job-cost-native\njob.batch/cy-job-cost-sidecar"
    );
    let suspended = |name: &str| {
        let output = lab.kubectl(&[
            "get",
            "job",
            name,
            "-o",
            "jsonpath={.spec.suspend} {.status.conditions[?(@.type==\"Suspended\")].status}",
        ]);
        text(&output.stdout)
    };
    for name in ["cy-job-cost-native", "cy-job-cost-sidecar"] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while suspended(name) != "true True" && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        assert_eq!(suspended(name), "true True", "{name}");
    }
    let events = lab.kubectl(&[
        "get",
        "events",
        "--field-selector",
        "reason=FailedCreate,involvedObject.name=cy-job-cost-native",
        "-o",
        "name",
    ]);
    assert!(
        !text(&events.stdout).trim().is_empty(),
        "the refusal's event stays"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pods = lab.kubectl(&["get", "pods", "-l", "sidecar-lab/step=4", "-o", "name"]);
    assert_eq!(
        text(&pods.stdout).trim().lines().count(),
        1,
        "only the init variant's pod: {}",
        text(&pods.stdout)
    );
}

/// Each step beyond the three variants, got wrong, is judged `unexpected` with the
/// finding that names what went wrong.
#[test]
fn mutations_of_the_later_steps_are_judged_unexpected_with_the_right_finding() {
    // Four CPUs: without its quota, step 4's three pods (600m + 1200m + 1200m) fit beside
    // kube-system's 950m, so what is judged is the quota's absence, not a full node.
    let lab = Lab::with_cpus("1.37", 4);
    // No quota: the regular-container and native variants get their pods.
    let (report, result) = lab.mutated_step("4", &|l| {
        l.replace("    quota:\n      requests.cpu: \"1\"\n", "")
    });
    assert_eq!(result, "unexpected", "{report}");
    assert!(report.contains("unexpected-outcome"), "{report}");
    // A sidecar that never crashes is never restarted.
    let (report, result) = lab.mutated_step("6", &|l| {
        l.replace(
            "if [ ! -e /restarted/once ]; then touch /restarted/once; sleep 5; exit 1; fi",
            "true",
        )
    });
    assert_eq!(result, "unexpected", "{report}");
    assert!(
        report.contains("not-restarted: `postgres` was never restarted"),
        "{report}"
    );
    // The mistake corrected by moving postgres to the init containers: the Job completes,
    // which is not what the step shows.
    let (report, result) = lab.mutated_step("5", &|l| {
        l.replace(
            "    variant: sidecar\n    job: cy-job-mistake",
            "    variant: native\n    job: cy-job-mistake",
        )
    });
    assert_eq!(result, "unexpected", "{report}");
    // Sidecars stopped all at once (1.28's alpha, the version check taken out), with
    // postgres's own shutdown made quick: it finishes first, and the order is visibly
    // wrong. (With both taking 2 s they finish in one second: `order-not-visible`.)
    let alpha = Lab::with_gate("1.28", "on");
    let (report, result) = alpha.mutated_step("7", &|l| {
        l.replace("    minKubernetes: \"1.29\"\n", "").replace(
            "trap 'sleep 2; kill -INT \"$pid\"' INT TERM",
            "trap 'kill -INT \"$pid\"' INT TERM",
        )
    });
    assert_eq!(result, "unexpected", "{report}");
    assert!(
        report.contains("stop-order: sidecar `postgres` (declared first) stopped at"),
        "{report}"
    );
}

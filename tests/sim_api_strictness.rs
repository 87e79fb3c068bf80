//! The simulated API server refuses what a real one refuses, with the same words, and
//! accepts what a real one accepts: each test drives the real kubectl against the
//! simulator and checks a behaviour modelled from the Kubernetes source named in
//! tests/sim/README.md (per-minor ContainerRestartRules, the ResourceQuota admission
//! plugin, container and Job validation, RBAC escalation and bind checks, ServiceAccount
//! admission, filtered and expired watches, and `kubectl get` printing).
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

use serde_json::{Value, json};
use support::machine::{SimMachine, wait_for};
use support::{assert_ok, text};

/// A simulator with one kind cluster `lab` of `minor`, made by the kind stand-in, with
/// the lab's image on its node.
struct Cluster {
    machine: SimMachine,
}

impl std::ops::Deref for Cluster {
    type Target = SimMachine;

    fn deref(&self) -> &SimMachine {
        &self.machine
    }
}

impl Cluster {
    fn new(minor: &str) -> Self {
        let cluster = Self {
            machine: SimMachine::new(1.0),
        };
        let image = match minor {
            "1.33" => "kindest/node:v1.33.7",
            "1.34" => "kindest/node:v1.34.3",
            "1.31" => "kindest/node:v1.31.12",
            "1.36" => "kindest/node:v1.36.4",
            _ => "kindest/node:v1.37.0",
        };
        cluster.create_lab_cluster(image);
        cluster
    }

    /// `kubectl create -f` of `manifest` (in `namespace` when given), with more args.
    fn create(&self, namespace: &str, manifest: &str, extra: &[&str]) -> Output {
        let path = self.file(&format!("manifest-{}.yaml", unique()), manifest);
        let mut args = vec!["-n", namespace, "create", "-f", path.as_str()];
        args.extend_from_slice(extra);
        self.kubectl(&args)
    }

    /// A server-side dry run of `manifest`, as JSON.
    fn dry_run(&self, namespace: &str, manifest: &str) -> Value {
        let output = self.create(namespace, manifest, &["--dry-run=server", "-o", "json"]);
        assert_ok(&output);
        serde_json::from_slice(&output.stdout).expect("JSON")
    }

    /// A namespace, once the ServiceAccount controller has put `default` in it.
    fn namespace(&self, name: &str) {
        assert_ok(&self.kubectl(&["create", "namespace", name]));
        wait_for(
            || {
                self.kubectl(&["-n", name, "get", "serviceaccount", "default"])
                    .status
                    .success()
            },
            "the namespace's default ServiceAccount",
        );
    }

    fn controller(&self, name: &str, running: bool) {
        self.sim.control(
            "POST",
            "/clusters/lab/controllers",
            &json!({ name: running }),
        );
    }
}

impl Cluster {
    /// The resourceVersion of a List (kubectl's own `get -o jsonpath` builds a List
    /// without one, so ask for the raw answer).
    fn list_version(&self, path: &str) -> String {
        let list = self.kubectl(&["get", "--raw", path]);
        assert_ok(&list);
        let list: Value = serde_json::from_slice(&list.stdout).expect("List JSON");
        list["metadata"]["resourceVersion"]
            .as_str()
            .expect("resourceVersion")
            .to_owned()
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The error kubectl prints for a refused `create -f`, without the file name.
fn refusal(output: &Output) -> String {
    assert!(
        !output.status.success(),
        "accepted: {}",
        text(&output.stdout)
    );
    let stderr = text(&output.stderr);
    match stderr.split_once(".yaml\": ") {
        Some((head, rest)) => {
            let status = head.split(": error when").next().unwrap_or("");
            format!("{status}: {}", rest.trim())
        }
        None => stderr.trim().to_owned(),
    }
}

/// A Job whose single container is `container` (YAML lines at the container's indent)
/// and whose pod spec may add `extra` (YAML lines at the pod spec's indent).
fn job(name: &str, container: &str, extra: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n{extra}      containers:\n      - name: main\n        image: postgres:17.5-alpine\n        command: [\"sh\", \"-c\", \"exit 0\"]\n{container}"
    )
}

fn containers(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]["containers"]
}

// ---- 1. ContainerRestartRules per minor ----------------------------------------------

const REGULAR_RESTART: &str = "        restartPolicy: Always\n";
const RULES: &str = "        restartPolicy: Never\n        restartPolicyRules:\n        - action: Restart\n          exitCodes: {operator: In, values: [42]}\n";

/// Up to 1.33 the field is refused on a regular container (validateContainers).
#[test]
fn restart_policy_on_a_regular_container_is_refused_on_1_33() {
    let cluster = Cluster::new("1.33");
    let output = cluster.create("default", &job("r", REGULAR_RESTART, ""), &[]);
    assert_eq!(
        refusal(&output),
        "The Job \"r\" is invalid: spec.template.spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"
    );
    let init = "      initContainers:\n      - name: setup\n        image: postgres:17.5-alpine\n        restartPolicy: Never\n";
    let output = cluster.create("default", &job("i", "", init), &[]);
    assert_eq!(
        refusal(&output),
        "The Job \"i\" is invalid: spec.template.spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
    );
}

/// 1.34 knows ContainerRestartRules but has it off (alpha): dropContainerRestartRules
/// removes the fields before validation, so the Job is accepted without them; only
/// kubectl's last-applied annotation keeps what the learner wrote.
#[test]
fn restart_policy_on_a_regular_container_is_dropped_silently_on_1_34() {
    let cluster = Cluster::new("1.34");
    let dry = cluster.dry_run("default", &job("r", REGULAR_RESTART, ""));
    assert!(
        containers(&dry)[0].get("restartPolicy").is_none(),
        "{dry:#}"
    );
    let dry = cluster.dry_run("default", &job("rules", RULES, ""));
    assert!(
        containers(&dry)[0].get("restartPolicy").is_none()
            && containers(&dry)[0].get("restartPolicyRules").is_none(),
        "{dry:#}"
    );
    // An init container keeps `Always` (a sidecar) and loses any other value.
    let init = "      initContainers:\n      - name: sidecar\n        image: postgres:17.5-alpine\n        restartPolicy: Always\n      - name: setup\n        image: postgres:17.5-alpine\n        restartPolicy: Never\n";
    let dry = cluster.dry_run("default", &job("i", "", init));
    let inits = &dry["spec"]["template"]["spec"]["initContainers"];
    assert_eq!(inits[0]["restartPolicy"], "Always", "{dry:#}");
    assert!(inits[1].get("restartPolicy").is_none(), "{dry:#}");

    let path = cluster.file("applied.yaml", &job("applied", REGULAR_RESTART, ""));
    assert_ok(&cluster.kubectl(&["apply", "-f", &path]));
    let stored: Value = serde_json::from_slice(
        &cluster
            .kubectl(&["get", "job", "applied", "-o", "json"])
            .stdout,
    )
    .expect("JSON");
    assert!(
        containers(&stored)[0].get("restartPolicy").is_none(),
        "{stored:#}"
    );
    let annotation =
        stored["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .expect("last-applied");
    assert!(
        annotation.contains("\"restartPolicy\":\"Always\""),
        "{annotation}"
    );
}

/// From 1.35 (beta, on) the field is accepted and kept.
#[test]
fn restart_policy_on_a_regular_container_is_kept_on_1_36() {
    let cluster = Cluster::new("1.36");
    let dry = cluster.dry_run("default", &job("r", REGULAR_RESTART, ""));
    assert_eq!(containers(&dry)[0]["restartPolicy"], "Always", "{dry:#}");
}

// ---- 2. The ResourceQuota admission plugin --------------------------------------------

const QUOTA: &str = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec: {hard: {requests.cpu: \"1\"}}\n";

fn pod(name: &str, resources: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: main\n    image: postgres:17.5-alpine\n{resources}"
    )
}

/// A quota whose status the controller has not written tracks nothing: it neither
/// refuses a pod nor counts it (CheckRequest reads status.hard).
#[test]
fn a_quota_without_status_admits_every_pod() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("quota");
    cluster.controller("resourcequota", false);
    assert_ok(&cluster.create("quota", QUOTA, &[]));
    assert_ok(&cluster.create("quota", &pod("bare", ""), &[]));
    assert_eq!(
        cluster.jsonpath(&["-n", "quota", "get", "quota", "q"], "{.status}"),
        ""
    );
}

/// "must specify" (Constraints) comes before "status unknown" (hasUsageStats); the
/// containers are named in sorted order, init containers too; limits are requests.
#[test]
fn a_quota_refuses_in_the_plugins_order() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("quota");
    cluster.controller("resourcequota", false);
    assert_ok(&cluster.create("quota", QUOTA, &[]));
    // status.hard written, status.used not yet.
    assert_ok(&cluster.kubectl(&[
        "-n",
        "quota",
        "patch",
        "quota",
        "q",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"hard":{"requests.cpu":"1"}}}"#,
    ]));
    let two = "apiVersion: v1\nkind: Pod\nmetadata: {name: two}\nspec:\n  initContainers:\n  - {name: zeta, image: postgres:17.5-alpine}\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n  - {name: alpha, image: postgres:17.5-alpine, resources: {requests: {memory: 1Mi}}}\n";
    assert_eq!(
        refusal(&cluster.create("quota", two, &[])),
        "Error from server (Forbidden): pods \"two\" is forbidden: failed quota: q: must specify requests.cpu for: alpha,main,zeta"
    );
    let limited = pod("limited", "    resources: {limits: {cpu: 400m}}\n");
    assert_eq!(
        refusal(&cluster.create("quota", &limited, &[])),
        "Error from server (Forbidden): pods \"limited\" is forbidden: status unknown for quota: q, resources: requests.cpu"
    );
}

/// SetDefaults_Pod: limits without requests become requests, in the stored pod and in
/// what the quota counts.
#[test]
fn limits_become_requests_for_the_pod_and_the_quota() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("quota");
    assert_ok(&cluster.create("quota", QUOTA, &[]));
    wait_for(
        || {
            !cluster
                .jsonpath(&["-n", "quota", "get", "quota", "q"], "{.status.used}")
                .is_empty()
        },
        "the quota's status",
    );
    let limited = pod("limited", "    resources: {limits: {cpu: 400m}}\n");
    assert_ok(&cluster.create("quota", &limited, &[]));
    assert_eq!(
        cluster.jsonpath(
            &["-n", "quota", "get", "pod", "limited"],
            "{.spec.containers[0].resources.requests.cpu}"
        ),
        "400m"
    );
    assert_eq!(
        cluster.jsonpath(
            &["-n", "quota", "get", "quota", "q"],
            "{.status.used.requests\\.cpu}"
        ),
        "400m"
    );
    // A Job's template keeps what was written: the defaulting is for pods only.
    let dry = cluster.dry_run(
        "quota",
        &job("j", "        resources: {limits: {cpu: 400m}}\n", ""),
    );
    assert!(
        containers(&dry)[0]["resources"].get("requests").is_none(),
        "{dry:#}"
    );
}

// ---- 3. Container and Job validation -------------------------------------------------

fn invalid(cluster: &Cluster, name: &str, manifest: &str) -> String {
    let refused = refusal(&cluster.create("default", manifest, &["--dry-run=server"]));
    refused
        .strip_prefix(&format!("The Job \"{name}\" is invalid: "))
        .unwrap_or_else(|| panic!("not Invalid: {refused}"))
        .to_owned()
}

#[test]
fn container_fields_are_validated_as_validate_container_common_does() {
    let cluster = Cluster::new("1.37");
    let at = "spec.template.spec.containers[0]";
    for (name, container, extra, want) in [
        (
            "mounts",
            "        volumeMounts: [{name: x, mountPath: /x}]\n",
            "",
            format!("{at}.volumeMounts[0].name: Not found: \"x\""),
        ),
        (
            "paths",
            "        volumeMounts: [{name: data, mountPath: /d}, {name: data, mountPath: /d}]\n",
            "      volumes: [{name: data, emptyDir: {}}]\n",
            format!("{at}.volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique"),
        ),
        (
            "requests",
            "        resources: {requests: {cpu: \"2\"}, limits: {cpu: \"1\"}}\n",
            "",
            format!(
                "{at}.resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"
            ),
        ),
        (
            "port",
            "        ports: [{containerPort: 70000}]\n",
            "",
            format!(
                "{at}.ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"
            ),
        ),
        (
            "names",
            "        ports: [{name: web, containerPort: 80}, {name: web, containerPort: 81}]\n",
            "",
            format!("{at}.ports[1].name: Duplicate value: \"web\""),
        ),
        (
            "protocol",
            "        ports: [{containerPort: 80, protocol: HTTP}]\n",
            "",
            format!(
                "{at}.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""
            ),
        ),
        (
            "env",
            "        env: [{name: A=B, value: x}]\n",
            "",
            format!(
                "{at}.env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"
            ),
        ),
        (
            "sources",
            "        env:\n        - name: A\n          valueFrom: {fieldRef: {fieldPath: metadata.name}, secretKeyRef: {name: s, key: k}}\n",
            "",
            format!(
                "{at}.env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time"
            ),
        ),
        (
            "handlers",
            "        readinessProbe: {exec: {command: [\"true\"]}, tcpSocket: {port: 5432}}\n",
            "",
            format!(
                "{at}.readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"
            ),
        ),
        (
            "handler",
            "        livenessProbe: {periodSeconds: 5}\n",
            "",
            format!("{at}.livenessProbe: Required value: must specify a handler type"),
        ),
    ] {
        assert_eq!(
            invalid(&cluster, name, &job(name, container, extra)),
            want,
            "{name}"
        );
    }
}

/// Before RelaxedEnvironmentVariableValidation (beta from 1.32) an env name is a C
/// identifier with '-' and '.'.
#[test]
fn env_names_follow_the_rule_of_the_minor() {
    let cluster = Cluster::new("1.31");
    assert_eq!(
        invalid(
            &cluster,
            "env",
            &job("env", "        env: [{name: 1BAD, value: x}]\n", "")
        ),
        "spec.template.spec.containers[0].env[0].name: Invalid value: \"1BAD\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
    );
}

/// validateGeneratedSelector: a selector of the user's own needs `manualSelector: true`,
/// unless it selects the generated labels.
#[test]
fn a_job_selector_needs_manual_selector() {
    let cluster = Cluster::new("1.37");
    let selected = |name: &str, selector: &str, manual: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n{manual}  selector: {{matchLabels: {selector}}}\n  template:\n    metadata: {{labels: {{app: lab}}}}\n    spec:\n      restartPolicy: Never\n      containers: [{{name: main, image: postgres:17.5-alpine}}]\n"
        )
    };
    let refused = invalid(&cluster, "own", &selected("own", "{app: lab}", ""));
    assert!(
        refused.starts_with("spec.selector: Invalid value: ")
            && refused.contains("app: lab")
            && refused.ends_with(": `selector` not auto-generated"),
        "{refused}"
    );
    for (name, selector, manual) in [
        ("manual", "{app: lab}", "  manualSelector: true\n"),
        ("generated", "{batch.kubernetes.io/job-name: generated}", ""),
    ] {
        let dry = cluster.dry_run("default", &selected(name, selector, manual));
        assert!(
            dry["spec"]["selector"]["matchLabels"].is_object(),
            "{dry:#}"
        );
    }
    // The pod-level restartPolicy of a Job must be given (Always is the pod default).
    let always = job("always", "", "").replace("      restartPolicy: Never\n", "");
    assert_eq!(
        invalid(&cluster, "always", &always),
        "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
    );
}

// ---- 4. RBAC escalation and bind checks ------------------------------------------------

const WRITER: &str = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: writer}\nrules:\n- apiGroups: [rbac.authorization.k8s.io]\n  resources: [roles, rolebindings]\n  verbs: [get, list, create, update, patch]\n- apiGroups: [\"\"]\n  resources: [pods]\n  verbs: [get, list]\n";

fn role(name: &str, group: &str, resource: &str, verbs: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {name}}}\nrules:\n- apiGroups: [\"{group}\"]\n  resources: [\"{resource}\"]\n  verbs: {verbs}\n"
    )
}

fn binding(name: &str, kind: &str, role: &str, account: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {name}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {kind}, name: {role}}}\nsubjects: [{{kind: ServiceAccount, name: {account}, namespace: team}}]\n"
    )
}

impl Cluster {
    /// A ServiceAccount in `team` and a token for it.
    fn account(&self, name: &str) -> String {
        assert_ok(&self.kubectl(&["-n", "team", "create", "serviceaccount", name]));
        let token = self.kubectl(&["-n", "team", "create", "token", name]);
        assert_ok(&token);
        text(&token.stdout).trim().to_owned()
    }

    fn create_as(&self, token: &str, manifest: &str) -> Output {
        self.create("team", manifest, &["--token", token])
    }
}

#[test]
fn rbac_refuses_to_grant_what_the_user_lacks_without_escalate_or_bind() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("team");
    let token = cluster.account("deployer");
    assert_ok(&cluster.create("team", WRITER, &[]));
    assert_ok(&cluster.create(
        "team",
        &binding("deployer-writes", "Role", "writer", "deployer"),
        &[],
    ));
    let who = "user \"system:serviceaccount:team:deployer\" (groups=[\"system:serviceaccounts\" \"system:serviceaccounts:team\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:";
    // A Role granting what the user does not hold.
    let makers = role("job-maker", "batch", "jobs", "[create, delete]");
    let refused = text(&cluster.create_as(&token, &makers).stderr);
    assert!(
        refused.contains(&format!(
            "roles.rbac.authorization.k8s.io \"job-maker\" is forbidden: {who}\n{{APIGroups:[\"batch\"], Resources:[\"jobs\"], Verbs:[\"create\" \"delete\"]}}"
        )),
        "{refused}"
    );
    // A Role granting only what the user holds is fine.
    assert_ok(&cluster.create_as(&token, &role("pod-reader", "", "pods", "[get]")));
    // A RoleBinding to a role whose permissions the user lacks.
    let viewers = binding("viewers", "ClusterRole", "view", "deployer");
    let refused = text(&cluster.create_as(&token, &viewers).stderr);
    assert!(
        refused.contains(&format!(
            "rolebindings.rbac.authorization.k8s.io \"viewers\" is forbidden: {who}\n"
        )) && refused.contains(
            "{APIGroups:[\"batch\"], Resources:[\"jobs\"], Verbs:[\"get\" \"list\" \"watch\"]}"
        ),
        "{refused}"
    );
    // A RoleBinding to a role that does not exist.
    let nothing = binding("nothing", "Role", "missing", "deployer");
    assert!(
        text(&cluster.create_as(&token, &nothing).stderr).contains(
            "rolebindings.rbac.authorization.k8s.io \"nothing\" is forbidden: roles.rbac.authorization.k8s.io \"missing\" not found"
        )
    );
    // `bind` on the ClusterRole, then `escalate` on roles, lift the checks.
    assert_ok(&cluster.create(
        "team",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: delegate}\nrules:\n- apiGroups: [rbac.authorization.k8s.io]\n  resources: [clusterroles]\n  resourceNames: [view]\n  verbs: [bind]\n- apiGroups: [rbac.authorization.k8s.io]\n  resources: [roles]\n  verbs: [escalate]\n",
        &[],
    ));
    assert_ok(&cluster.create(
        "team",
        &binding("deployer-delegates", "Role", "delegate", "deployer"),
        &[],
    ));
    assert_ok(&cluster.create_as(&token, &viewers));
    assert_ok(&cluster.create_as(&token, &makers));
    // The cluster admin (system:masters) was never checked.
    assert_ok(&cluster.create("team", &role("anything", "*", "*", "[\"*\"]"), &[]));
}

/// ResourceMatches: `*`, `RESOURCE/SUB` and `*/SUB` match a subresource; `RESOURCE/*`
/// is no rule form and matches nothing.
#[test]
fn rbac_has_no_resource_slash_star_form() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("team");
    let token = cluster.account("reader");
    assert_ok(&cluster.create("team", &role("logs", "", "pods/*", "[get]"), &[]));
    assert_ok(&cluster.create(
        "team",
        &binding("reader-logs", "Role", "logs", "reader"),
        &[],
    ));
    let path = "/api/v1/namespaces/team/pods/missing/log";
    let refused = cluster.kubectl(&["--token", &token, "get", "--raw", path]);
    assert!(
        text(&refused.stderr).contains(
            "User \\\"system:serviceaccount:team:reader\\\" cannot get resource \\\"pods/log\\\" in API group \\\"\\\" in the namespace \\\"team\\\""
        ) || text(&refused.stderr).contains("cannot get resource \"pods/log\""),
        "{}",
        text(&refused.stderr)
    );
    assert_ok(&cluster.create("team", &role("any-log", "", "*/log", "[get]"), &[]));
    assert_ok(&cluster.create(
        "team",
        &binding("reader-any-log", "Role", "any-log", "reader"),
        &[],
    ));
    let found = cluster.kubectl(&["--token", &token, "get", "--raw", path]);
    assert!(
        text(&found.stderr).contains("NotFound") || text(&found.stderr).contains("not found"),
        "{}",
        text(&found.stderr)
    );
}

// ---- 5. ServiceAccount admission -------------------------------------------------------

#[test]
fn pods_wait_for_the_namespaces_default_service_account() {
    let cluster = Cluster::new("1.37");
    cluster.controller("serviceaccount", false);
    assert_ok(&cluster.kubectl(&["create", "namespace", "fresh"]));
    assert_eq!(
        refusal(&cluster.create("fresh", &pod("early", ""), &[])),
        "Error from server (Forbidden): pods \"early\" is forbidden: error looking up service account fresh/default: serviceaccount \"default\" not found"
    );
    assert_ok(&cluster.create("fresh", &job("early", "", ""), &[]));
    wait_for(
        || {
            cluster
                .jsonpath(
                    &[
                        "-n",
                        "fresh",
                        "get",
                        "events",
                        "--field-selector",
                        "reason=FailedCreate",
                    ],
                    "{.items[*].message}",
                )
                .contains("is forbidden: error looking up service account fresh/default: serviceaccount \"default\" not found")
        },
        "the Job's FailedCreate",
    );
    cluster.controller("serviceaccount", true);
    wait_for(
        || {
            !cluster
                .jsonpath(&["-n", "fresh", "get", "pods"], "{.items[*].metadata.name}")
                .is_empty()
        },
        "the Job's pod once `default` exists",
    );
    assert_eq!(
        cluster.jsonpath(
            &["-n", "fresh", "get", "pods"],
            "{.items[0].spec.serviceAccountName}"
        ),
        "default"
    );
}

// ---- 6. Watches ------------------------------------------------------------------------

fn events(output: &Output) -> Vec<Value> {
    assert_ok(output);
    text(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON event a line"))
        .collect()
}

#[test]
fn a_watch_from_a_too_old_resource_version_is_expired() {
    let cluster = Cluster::new("1.37");
    let stream = cluster.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/serviceaccounts?watch=1&resourceVersion=1",
    ]);
    let stream = events(&stream);
    assert_eq!(stream.len(), 1, "{stream:?}");
    let status = &stream[0];
    assert_eq!(status["type"], "ERROR");
    assert_eq!(status["object"]["kind"], "Status");
    assert_eq!(status["object"]["code"], 410);
    assert_eq!(status["object"]["reason"], "Expired");
    let message = status["object"]["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("too old resource version: 1 (") && message.ends_with(')'),
        "{message}"
    );
}

#[test]
fn a_filtered_watch_sees_an_object_that_stops_matching_as_deleted() {
    let cluster = Cluster::new("1.37");
    assert_ok(&cluster.create(
        "default",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: tiered, labels: {tier: x}}\n",
        &[],
    ));
    let since =
        cluster.list_version("/api/v1/namespaces/default/serviceaccounts?labelSelector=tier%3Dx");
    assert_ok(&cluster.kubectl(&["label", "serviceaccount", "tiered", "tier=y", "--overwrite"]));
    let now = cluster.jsonpath(
        &["get", "serviceaccount", "tiered"],
        "{.metadata.resourceVersion}",
    );
    let stream = events(&cluster.kubectl(&[
        "get",
        "--raw",
        &format!(
            "/api/v1/namespaces/default/serviceaccounts?watch=1&labelSelector=tier%3Dx&resourceVersion={since}&timeoutSeconds=1"
        ),
    ]));
    assert_eq!(stream.len(), 1, "{stream:?}");
    assert_eq!(stream[0]["type"], "DELETED");
    let object = &stream[0]["object"];
    assert_eq!(
        object["metadata"]["labels"]["tier"], "x",
        "the last state that matched"
    );
    assert_eq!(object["metadata"]["resourceVersion"], now.as_str());
}

// ---- 7. `kubectl get` printing -----------------------------------------------------------

/// convertToAPIContainerStatuses: in a pod with init containers every container waits as
/// PodInitializing at first, never ContainerCreating.
#[test]
fn the_kubelet_reports_pod_initializing_in_a_pod_with_init_containers() {
    let cluster = Cluster::new("1.37");
    let since = cluster.list_version("/api/v1/namespaces/default/pods");
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: staged}\nspec:\n  initContainers:\n  - {name: setup, image: postgres:17.5-alpine, command: [sh, -c, exit 0]}\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
    assert_ok(&cluster.create("default", manifest, &[]));
    wait_for(
        || {
            cluster
                .jsonpath(&["get", "pod", "staged"], "{.status.phase}")
                .contains("Running")
        },
        "the pod running",
    );
    let stream = events(&cluster.kubectl(&[
        "get",
        "--raw",
        &format!(
            "/api/v1/namespaces/default/pods?watch=1&fieldSelector=metadata.name%3Dstaged&resourceVersion={since}&timeoutSeconds=1"
        ),
    ]));
    let waiting: Vec<String> = stream
        .iter()
        .filter_map(|e| {
            e["object"]["status"]["initContainerStatuses"][0]["state"]["waiting"]["reason"].as_str()
        })
        .map(str::to_owned)
        .collect();
    assert!(
        !waiting.is_empty() && waiting.iter().all(|r| r == "PodInitializing"),
        "{waiting:?}"
    );
}

/// printPod: an init container waiting as PodInitializing shows `Init:I/N`, any other
/// waiting reason `Init:REASON`; RESTARTS says when the last restarted container ended.
#[test]
fn kubectl_get_prints_pods_as_print_pod_does() {
    let cluster = Cluster::new("1.37");
    // Bound to a node that does not exist, so no kubelet writes its status but the test.
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: printed\nspec:\n  nodeName: no-such-node\n  initContainers:\n  - {name: setup, image: postgres:17.5-alpine}\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
    assert_ok(&cluster.create("default", manifest, &[]));
    let created = cluster.jsonpath(&["get", "pod", "printed"], "{.metadata.creationTimestamp}");
    let status = |value: Value| {
        assert_ok(&cluster.kubectl(&[
            "patch",
            "pod",
            "printed",
            "--subresource=status",
            "--type=merge",
            "-p",
            &json!({ "status": value }).to_string(),
        ]));
        let table = text(&cluster.kubectl(&["get", "pod", "printed"]).stdout);
        table
            .lines()
            .find(|l| l.starts_with("printed"))
            .unwrap_or_else(|| panic!("{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let waiting = |reason: &str| {
        json!({
            "phase": "Pending",
            "initContainerStatuses": [{"name": "setup", "image": "postgres:17.5-alpine", "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}],
            "containerStatuses": [{"name": "main", "image": "postgres:17.5-alpine", "imageID": "", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}],
        })
    };
    assert!(
        status(waiting("PodInitializing")).starts_with("printed 0/1 Init:0/1 0 "),
        "PodInitializing"
    );
    assert!(
        status(waiting("ContainerCreating")).starts_with("printed 0/1 Init:ContainerCreating 0 "),
        "any other reason"
    );
    let created = chrono_free_seconds(&created);
    let finished = stamp(created - 3 * 3600);
    let row = status(json!({
        "phase": "Running",
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
        "initContainerStatuses": [{"name": "setup", "image": "postgres:17.5-alpine", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
        "containerStatuses": [{"name": "main", "image": "postgres:17.5-alpine", "imageID": "", "ready": true, "started": true, "restartCount": 1,
            "state": {"running": {"startedAt": stamp(created)}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": finished}}}],
    }));
    assert!(row.starts_with("printed 1/1 Running 1 (3h ago) "), "{row}");
}

/// Seconds since the epoch of an RFC 3339 UTC stamp (`2026-01-02T03:04:05Z`).
fn chrono_free_seconds(stamp: &str) -> i64 {
    let digits: Vec<i64> = stamp
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("number"))
        .collect();
    let (y, m, d) = (digits[0], digits[1], digits[2]);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + digits[3] * 3600 + digits[4] * 60 + digits[5]
}

fn stamp(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

// ---- ConfigMaps ------------------------------------------------------------------------

/// The progress ConfigMap's verbs (create from a file, merge patch, get), the root CA
/// publisher's `kube-root-ca.crt` in every namespace, printing (`NAME DATA AGE`),
/// ValidateConfigMap's key and size rules with the words of the minor, an immutable
/// ConfigMap's data, and the namespace controller removing them.
#[test]
fn configmaps_are_served_validated_printed_and_removed_with_their_namespace() {
    let cluster = Cluster::new("1.37");
    cluster.namespace("team");
    wait_for(
        || {
            cluster
                .kubectl(&["-n", "team", "get", "configmap", "kube-root-ca.crt"])
                .status
                .success()
        },
        "the root CA publisher's ConfigMap",
    );
    let progress = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"sidecar-lab-exercises\",\"labels\":{\"sidecar-lab/progress\":\"exercises\"}},\"data\":{\"exercise-1\":\"{}\"}}";
    assert_ok(&cluster.create("team", progress, &[]));
    // A merge patch sets one key and keeps the others.
    assert_ok(&cluster.kubectl(&[
        "-n",
        "team",
        "patch",
        "configmap",
        "sidecar-lab-exercises",
        "--type=merge",
        "--patch",
        r#"{"data":{"exercise-2":"{\"attempts\":1}"}}"#,
    ]));
    let data = cluster.jsonpath(
        &[
            "-n",
            "team",
            "get",
            "configmap",
            "sidecar-lab-exercises",
            "-o",
            "json",
        ],
        "{.data}",
    );
    let data: Value = serde_json::from_str(&data).expect("data");
    assert_eq!(
        data,
        json!({"exercise-1": "{}", "exercise-2": "{\"attempts\":1}"})
    );
    let table = cluster.kubectl(&["-n", "team", "get", "configmaps"]);
    assert_ok(&table);
    let table = text(&table.stdout);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "DATA", "AGE"], "{table}");
    assert_eq!(lines[1][..2], ["kube-root-ca.crt", "1"], "{table}");
    assert_eq!(lines[2][..2], ["sidecar-lab-exercises", "2"], "{table}");

    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  \"a b\": one\n  \"..x\": two\nbinaryData:\n  \"..x\": eQ==\n";
    assert_eq!(
        refusal(&cluster.create("team", bad, &[])),
        "The ConfigMap \"bad\" is invalid: \n* data[..x]: Invalid value: \"..x\": must not start with '..'\n* data[..x]: Invalid value: \"..x\": duplicate of key present in binaryData\n* data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')\n* binaryData[..x]: Invalid value: \"..x\": must not start with '..'"
    );
    let big = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: {}\n  b: x\n",
            "x".repeat(1024 * 1024)
        )
    };
    assert_eq!(
        refusal(&cluster.create("team", &big("big"), &[])),
        "The ConfigMap \"big\" is invalid: : Too long: may not be more than 1048576 bytes"
    );
    let immutable = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fixed\nimmutable: true\ndata:\n  a: x\n";
    assert_ok(&cluster.create("team", immutable, &[]));
    let changed = cluster.kubectl(&[
        "-n",
        "team",
        "patch",
        "configmap",
        "fixed",
        "--type=merge",
        "--patch",
        r#"{"data":{"a":"y"}}"#,
    ]);
    assert!(!changed.status.success());
    assert!(
        text(&changed.stderr).contains(
            "The ConfigMap \"fixed\" is invalid: data: Forbidden: field is immutable when `immutable` is set"
        ),
        "{}",
        text(&changed.stderr)
    );

    assert_ok(&cluster.kubectl(&["delete", "namespace", "team", "--wait=true"]));
    let left = cluster.kubectl(&["get", "configmaps", "-A", "-o", "name"]);
    assert_ok(&left);
    assert!(!text(&left.stdout).contains("sidecar-lab-exercises"));

    // Before 1.32 the size error had other words (kubernetes PR #128553).
    let older = Cluster::new("1.31");
    assert_eq!(
        refusal(&older.create("default", &big("big"), &[])),
        "The ConfigMap \"big\" is invalid: : Too long: must have at most 1048576 bytes"
    );
}

//! The simulated API server's admission plugins confine a namespace as a real one does:
//! each test drives the real kubectl against the simulator and checks a refusal, a
//! warning or an accepted case modelled from the Kubernetes source named in
//! tests/sim/README.md (Pod Security admission, ResourceQuota object counts, LimitRange,
//! NetworkPolicy, ValidatingAdmissionPolicy, ServiceAccount token mounting, and
//! SelfSubjectAccessReview for `kubectl auth can-i`).
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

mod support;

use std::path::PathBuf;
use std::process::Output;

use serde_json::{Value, json};
use support::machine::{SimMachine, wait_for};
use support::{assert_ok, text};

/// A simulator with one kind cluster `lab` of `image`, driven by `kubectl`.
struct Cluster {
    machine: SimMachine,
}

impl std::ops::Deref for Cluster {
    type Target = SimMachine;

    fn deref(&self) -> &SimMachine {
        &self.machine
    }
}

const LATEST: &str = "kindest/node:v1.37.0";

impl Cluster {
    fn new(image: &str) -> Self {
        Self::with_kubectl(image, &support::sim::kubectl())
    }

    fn with_kubectl(image: &str, kubectl: &std::path::Path) -> Self {
        let cluster = Self {
            machine: SimMachine::with_kubectl(1.0, kubectl),
        };
        cluster.create_lab_cluster(image);
        cluster
    }

    /// `kubectl apply -f` of `manifest` in `namespace`, with more args.
    fn apply(&self, namespace: &str, manifest: &str, extra: &[&str]) -> Output {
        let path = self.file(&format!("manifest-{}.yaml", unique()), manifest);
        let mut args = vec!["-n", namespace, "apply", "-f", path.as_str()];
        args.extend_from_slice(extra);
        self.kubectl(&args)
    }

    /// A namespace with `labels`, once the ServiceAccount controller has put `default` in it.
    fn namespace(&self, name: &str, labels: &[&str]) {
        assert_ok(&self.kubectl(&["create", "namespace", name]));
        if !labels.is_empty() {
            let mut args = vec!["label", "namespace", name];
            args.extend_from_slice(labels);
            assert_ok(&self.kubectl(&args));
        }
        wait_for(
            || {
                self.kubectl(&["-n", name, "get", "serviceaccount", "default"])
                    .status
                    .success()
            },
            "the namespace's default ServiceAccount",
        );
    }

    /// The messages of the FailedCreate events in `namespace`, once there is one.
    fn failed_creates(&self, namespace: &str) -> String {
        let mut messages = String::new();
        wait_for(
            || {
                messages = self.jsonpath(
                    &[
                        "-n",
                        namespace,
                        "get",
                        "events",
                        "--field-selector",
                        "reason=FailedCreate",
                    ],
                    "{.items[*].message}",
                );
                !messages.is_empty()
            },
            "a FailedCreate event",
        );
        messages
    }

    /// The JSON of a server-side dry run of `manifest`.
    fn dry_run(&self, namespace: &str, manifest: &str) -> Value {
        let output = self.apply(namespace, manifest, &["--dry-run=server", "-o", "json"]);
        assert_ok(&output);
        serde_json::from_slice(&output.stdout).expect("JSON")
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Asserts that the command failed and that its stderr holds `message`.
fn refused_with(output: &Output, message: &str) {
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "accepted: {}",
        text(&output.stdout)
    );
    assert!(stderr.contains(message), "wanted {message}\nin {stderr}");
}

/// The kubectls to drive (SIDECAR_LAB_TEST_KUBECTLS, else the one kubectl): warnings
/// are printed by the client, so each minor is checked.
fn kubectls() -> Vec<PathBuf> {
    let listed = std::env::var("SIDECAR_LAB_TEST_KUBECTLS").unwrap_or_default();
    let all: Vec<PathBuf> = listed
        .split(':')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    if all.is_empty() {
        vec![support::sim::kubectl()]
    } else {
        all
    }
}

fn pod(name: &str, spec: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec}")
}

const PLAIN: &str = "  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
const ESCAPING: &str = "  hostNetwork: true\n  hostPID: true\n  volumes: [{name: root, hostPath: {path: /}}]\n  containers:\n  - name: x\n    image: postgres:17.5-alpine\n    securityContext: {privileged: true}\n";
const RESTRICTED: &str = "  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n  - name: main\n    image: postgres:17.5-alpine\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n";
const WARNED: &str = "would violate PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"main\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"main\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"main\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"main\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

fn job(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n{}",
        spec.lines()
            .map(|line| format!("      {line}\n"))
            .collect::<String>()
    )
}

// ---- Pod Security admission ------------------------------------------------------------

/// ValidatePod: enforce refuses (checks sorted by ID, baseline ones first), dry runs too;
/// warn answers with a Warning header each kubectl prints; a Job's template is only
/// warned about (ValidatePodController), and the Job controller's pod is refused.
#[test]
fn pod_security_enforces_on_pods_and_warns_on_jobs() {
    for kubectl in kubectls() {
        let cluster = Cluster::with_kubectl(LATEST, &kubectl);
        cluster.namespace(
            "learner",
            &[
                "pod-security.kubernetes.io/enforce=baseline",
                "pod-security.kubernetes.io/warn=restricted",
            ],
        );
        let refused = "pods \"bad\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume \"root\"), privileged (container \"x\" must not set securityContext.privileged=true)";
        refused_with(
            &cluster.apply("learner", &pod("bad", ESCAPING), &[]),
            refused,
        );
        refused_with(
            &cluster.apply("learner", &pod("bad", ESCAPING), &["--dry-run=server"]),
            refused,
        );
        let warned = cluster.apply("learner", &pod("plain", PLAIN), &[]);
        assert_ok(&warned);
        assert!(
            text(&warned.stderr).contains(&format!("Warning: {WARNED}")),
            "{}",
            text(&warned.stderr)
        );
        let quiet = cluster.apply("learner", &pod("tight", RESTRICTED), &[]);
        assert_ok(&quiet);
        assert!(
            !text(&quiet.stderr).contains("Warning"),
            "{}",
            text(&quiet.stderr)
        );
        let host = "hostNetwork: true\ncontainers:\n- {name: main, image: postgres:17.5-alpine}\n";
        let created = cluster.apply("learner", &job("host", host), &[]);
        assert_ok(&created);
        assert!(
            text(&created.stderr).contains(
                "Warning: would violate PodSecurity \"restricted:latest\": host namespaces (hostNetwork=true), allowPrivilegeEscalation != false"
            ),
            "{}",
            text(&created.stderr)
        );
        let events = cluster.failed_creates("learner");
        assert!(
            events.contains("Error creating: pods \"host-")
                && events.contains(
                    "is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"
                ),
            "{events}"
        );
    }
}

/// The restricted level: restrictedVolumes overrides hostPathVolumes, and the restricted
/// checks follow the baseline ones.
#[test]
fn pod_security_restricted_lists_every_violation_in_the_sources_order() {
    let cluster = Cluster::new(LATEST);
    cluster.namespace("strict", &["pod-security.kubernetes.io/enforce=restricted"]);
    let spec = "  volumes: [{name: root, hostPath: {path: /}}, {name: scratch, emptyDir: {}}]\n  initContainers:\n  - name: init\n    image: postgres:17.5-alpine\n    securityContext: {runAsUser: 0, capabilities: {add: [NET_ADMIN], drop: [ALL]}}\n  containers:\n  - name: main\n    image: postgres:17.5-alpine\n    ports: [{containerPort: 5432, hostPort: 5432}]\n";
    refused_with(
        &cluster.apply("strict", &pod("many", spec), &[]),
        "pods \"many\" is forbidden: violates PodSecurity \"restricted:latest\": hostPort (container \"main\" uses hostPort 5432), allowPrivilegeEscalation != false (containers \"init\", \"main\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"main\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"init\" must not include \"NET_ADMIN\" in securityContext.capabilities.add), restricted volume types (volume \"root\" uses restricted volume type \"hostPath\"), runAsNonRoot != true (pod or containers \"init\", \"main\" must set securityContext.runAsNonRoot=true), runAsUser=0 (container \"init\" must not set runAsUser=0), seccompProfile (pod or containers \"init\", \"main\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
    );
    assert_ok(&cluster.apply("strict", &pod("tight", RESTRICTED), &[]));
}

/// PolicyToEvaluate's errors refuse a namespace (422 on metadata.labels[KEY]).
#[test]
fn pod_security_labels_are_validated() {
    let cluster = Cluster::new(LATEST);
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: odd\n  labels: {pod-security.kubernetes.io/enforce: strict}\n";
    refused_with(
        &cluster.apply("default", namespace, &[]),
        "metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: \"strict\": must be one of privileged, baseline, restricted",
    );
    cluster.namespace("fine", &[]);
    refused_with(
        &cluster.kubectl(&[
            "label",
            "namespace",
            "fine",
            "pod-security.kubernetes.io/warn-version=1.30",
        ]),
        "metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: \"1.30\": must be \"latest\" or \"v1.x\"",
    );
    assert_ok(&cluster.kubectl(&[
        "label",
        "namespace",
        "fine",
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/enforce-version=v1.30",
    ]));
    refused_with(
        &cluster.apply("fine", &pod("plain", PLAIN), &[]),
        "pods \"plain\" is forbidden: violates PodSecurity \"restricted:v1.30\": allowPrivilegeEscalation != false",
    );
}

// ---- ResourceQuota object counts -------------------------------------------------------

#[test]
fn a_quota_counts_jobs() {
    let cluster = Cluster::new(LATEST);
    cluster.namespace("counted", &[]);
    let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: jobs}\nspec:\n  hard: {count/jobs.batch: \"1\"}\n";
    assert_ok(&cluster.apply("counted", quota, &[]));
    wait_for(
        || {
            cluster.jsonpath(
                &["-n", "counted", "get", "quota", "jobs"],
                "{.status.used.count/jobs\\.batch}",
            ) == "0"
        },
        "the quota's status",
    );
    let first = job(
        "first",
        "containers:\n- {name: main, image: postgres:17.5-alpine}\n",
    );
    // A dry run is checked but not counted.
    assert_ok(&cluster.apply("counted", &first, &["--dry-run=server"]));
    assert_ok(&cluster.apply("counted", &first, &[]));
    let second = first.replace("name: first", "name: second");
    refused_with(
        &cluster.apply("counted", &second, &[]),
        "jobs.batch \"second\" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1",
    );
}

// ---- LimitRange ----------------------------------------------------------------------

const LIMITS: &str = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: limits}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 256Mi}\n    defaultRequest: {cpu: 100m}\n    max: {cpu: \"1\"}\n    maxLimitRequestRatio: {cpu: \"10\"}\n";

/// SetDefaults_LimitRangeItem, LimitRanger's Admit (init containers too, annotated) and
/// Validate, and the quota counting the defaulted requests.
#[test]
fn a_limit_range_defaults_and_refuses() {
    let cluster = Cluster::new(LATEST);
    cluster.namespace("ranged", &[]);
    assert_ok(&cluster.apply("ranged", LIMITS, &[]));
    assert_eq!(
        cluster.jsonpath(
            &["-n", "ranged", "get", "limitrange", "limits"],
            "{.spec.limits[0].defaultRequest}"
        ),
        r#"{"cpu":"100m","memory":"256Mi"}"#
    );
    let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: cpu}\nspec:\n  hard: {requests.cpu: \"2\"}\n";
    assert_ok(&cluster.apply("ranged", quota, &[]));
    wait_for(
        || {
            !cluster
                .jsonpath(&["-n", "ranged", "get", "quota", "cpu"], "{.status.used}")
                .is_empty()
        },
        "the quota's status",
    );
    let spec = "  initContainers:\n  - {name: init, image: postgres:17.5-alpine}\n  containers:\n  - {name: main, image: postgres:17.5-alpine, resources: {requests: {cpu: 200m}}}\n";
    assert_ok(&cluster.apply("ranged", &pod("defaulted", spec), &[]));
    let stored = cluster.kubectl(&["-n", "ranged", "get", "pod", "defaulted", "-o", "json"]);
    assert_ok(&stored);
    let stored: Value = serde_json::from_slice(&stored.stdout).expect("JSON");
    assert_eq!(
        stored["metadata"]["annotations"]["kubernetes.io/limit-ranger"],
        "LimitRanger plugin set: memory request for container main; cpu, memory limit for container main; cpu, memory request for init container init; cpu, memory limit for init container init"
    );
    assert_eq!(
        stored["spec"]["initContainers"][0]["resources"],
        json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}})
    );
    assert_eq!(
        cluster.jsonpath(
            &["-n", "ranged", "get", "quota", "cpu"],
            "{.status.used.requests\\.cpu}"
        ),
        "200m"
    );
    let big = "  containers:\n  - {name: big, image: postgres:17.5-alpine, resources: {limits: {cpu: \"2\"}, requests: {cpu: 100m}}}\n";
    refused_with(
        &cluster.apply("ranged", &pod("big", big), &[]),
        "pods \"big\" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 10, but provided ratio is 20.000000]",
    );
    let low = "  containers:\n  - {name: low, image: postgres:17.5-alpine, resources: {limits: {cpu: 800m}, requests: {cpu: 50m}}}\n";
    refused_with(
        &cluster.apply("ranged", &pod("low", low), &["--dry-run=server"]),
        "pods \"low\" is forbidden: cpu max limit to request ratio per Container is 10, but provided ratio is 16.000000",
    );
    let bad = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: bad}\nspec:\n  limits:\n  - type: Pod\n    default: {cpu: 500m}\n  - type: Container\n    min: {cpu: \"2\"}\n    max: {cpu: \"1\"}\n";
    let refused = cluster.apply("ranged", bad, &[]);
    refused_with(
        &refused,
        "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
    );
    refused_with(
        &refused,
        "spec.limits[1].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
    );
}

// ---- NetworkPolicy and RBAC -------------------------------------------------------------

const DENY_ALL: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";

#[test]
fn a_default_deny_network_policy_is_stored_and_bad_ones_refused() {
    let cluster = Cluster::new(LATEST);
    cluster.namespace("fenced", &[]);
    assert_ok(&cluster.apply("fenced", DENY_ALL, &[]));
    // Applying again changes nothing.
    let again = cluster.apply("fenced", DENY_ALL, &[]);
    assert_ok(&again);
    assert!(
        text(&again.stdout).contains("unchanged"),
        "{}",
        text(&again.stdout)
    );
    let table = cluster.kubectl(&["-n", "fenced", "get", "netpol"]);
    assert_ok(&table);
    assert!(
        text(&table.stdout).contains("default-deny   <none>"),
        "{}",
        text(&table.stdout)
    );
    let bad = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Sideways]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}, {}]\n    ports: [{port: 70000}]\n";
    let refused = cluster.apply("fenced", bad, &[]);
    for cause in [
        "spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer",
        "spec.egress[0].to[1]: Required value: must specify a peer",
        "spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"",
    ] {
        refused_with(&refused, cause);
    }
}

/// RBAC authorises the new kinds per verb, and `kubectl auth can-i` asks the same
/// authorizer through a SelfSubjectAccessReview.
#[test]
fn rbac_covers_the_new_kinds_and_auth_can_i_answers() {
    let cluster = Cluster::new(LATEST);
    cluster.namespace("team", &[]);
    assert_ok(&cluster.kubectl(&["-n", "team", "create", "serviceaccount", "learner"]));
    let token = cluster.kubectl(&["-n", "team", "create", "token", "learner"]);
    assert_ok(&token);
    let token = text(&token.stdout).trim().to_owned();
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: reader}\nrules:\n- apiGroups: [networking.k8s.io]\n  resources: [networkpolicies]\n  verbs: [get, list]\n- apiGroups: [\"\"]\n  resources: [limitranges]\n  verbs: [get]\n";
    assert_ok(&cluster.apply("team", role, &[]));
    assert_ok(&cluster.kubectl(&[
        "-n",
        "team",
        "create",
        "rolebinding",
        "learner-reads",
        "--role=reader",
        "--serviceaccount=team:learner",
    ]));
    let can = |args: &[&str]| {
        let mut all = vec!["-n", "team", "auth", "can-i", "--token", token.as_str()];
        all.extend_from_slice(args);
        let output = cluster.kubectl(&all);
        text(&output.stdout).trim().to_owned()
    };
    assert_eq!(can(&["list", "networkpolicies"]), "yes");
    assert_eq!(can(&["delete", "networkpolicies"]), "no");
    assert_eq!(can(&["get", "limitranges"]), "yes");
    assert_eq!(can(&["create", "limitranges"]), "no");
    assert_eq!(can(&["create", "pods"]), "no");
    refused_with(
        &cluster.kubectl(&[
            "-n",
            "team",
            "--token",
            &token,
            "apply",
            "-f",
            &cluster.file("deny.yaml", DENY_ALL),
        ]),
        "User \"system:serviceaccount:team:learner\" cannot create resource \"networkpolicies\" in API group \"networking.k8s.io\" in the namespace \"team\"",
    );
    // The cluster admin may do anything.
    let admin = cluster.kubectl(&["auth", "can-i", "create", "validatingadmissionpolicies"]);
    assert_eq!(text(&admin.stdout).trim(), "yes");
}

// ---- ValidatingAdmissionPolicy ------------------------------------------------------------

const POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: no-host-network}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}\n    namespaceSelector: {matchLabels: {lab: learner}}\n  validations:\n  - expression: \"!has(object.spec.hostNetwork) || object.spec.hostNetwork == false\"\n    message: host networking is not allowed\n  - expression: \"!(object.metadata.name in ['forbidden', 'banned'])\"\n    reason: Forbidden\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: learners}\nspec:\n  policyName: no-host-network\n  validationActions: [Deny]\n";

#[test]
fn a_validating_admission_policy_denies_matching_requests() {
    let cluster = Cluster::new(LATEST);
    assert_ok(&cluster.apply("default", POLICY, &[]));
    cluster.namespace("learner", &["lab=learner"]);
    let host =
        "  hostNetwork: true\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
    // Invalid (422, the default reason) with the message as its one cause, which kubectl
    // prints after the object's name.
    refused_with(
        &cluster.apply("learner", &pod("host", host), &[]),
        "The pods \"host\" is invalid: : ValidatingAdmissionPolicy 'no-host-network' with binding 'learners' denied request: host networking is not allowed",
    );
    // No message: the expression is named; a reason sets the code (403).
    let banned = cluster.apply("learner", &pod("banned", PLAIN), &[]);
    refused_with(
        &banned,
        "Error from server (Forbidden): error when creating",
    );
    refused_with(
        &banned,
        "pods \"banned\" is forbidden: ValidatingAdmissionPolicy 'no-host-network' with binding 'learners' denied request: failed expression: !(object.metadata.name in ['forbidden', 'banned'])",
    );
    assert_ok(&cluster.apply("learner", &pod("plain", PLAIN), &[]));
    // The namespaceSelector leaves other namespaces alone.
    assert_ok(&cluster.apply("default", &pod("host", host), &["--dry-run=server"]));
    // The Job controller's pods go through the policy too.
    let hosted = job(
        "hosted",
        "hostNetwork: true\ncontainers:\n- {name: main, image: postgres:17.5-alpine}\n",
    );
    assert_ok(&cluster.apply("learner", &hosted, &[]));
    let events = cluster.failed_creates("learner");
    assert!(
        events.contains("ValidatingAdmissionPolicy 'no-host-network' with binding 'learners' denied request: host networking is not allowed"),
        "{events}"
    );
}

/// Warn gives a warning and admits; an expression outside the modelled CEL, and a
/// binding with both Deny and Warn, are refused when created.
#[test]
fn a_validating_admission_policy_warns_and_refuses_what_it_cannot_model() {
    let cluster = Cluster::new(LATEST);
    let warn = POLICY.replace("[Deny]", "[Warn, Audit]");
    assert_ok(&cluster.apply("default", &warn, &[]));
    cluster.namespace("learner", &["lab=learner"]);
    let warned = cluster.apply("learner", &pod("banned", PLAIN), &[]);
    assert_ok(&warned);
    assert!(
        text(&warned.stderr).contains("Warning: Validation failed for ValidatingAdmissionPolicy 'no-host-network' with binding 'learners': failed expression: !(object.metadata.name in ['forbidden', 'banned'])"),
        "{}",
        text(&warned.stderr)
    );
    let unmodelled = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: sized}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}\n  validations:\n  - expression: \"object.spec.containers.all(c, c.image != '')\"\n";
    refused_with(
        &cluster.apply("default", unmodelled, &[]),
        "the method all() is not modelled by the simulator's CEL subset",
    );
    let both = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: both}\nspec:\n  policyName: no-host-network\n  validationActions: [Deny, Warn]\n";
    refused_with(
        &cluster.apply("default", both, &[]),
        "spec.validationActions: Invalid value: [\"Deny\",\"Warn\"]: must not contain both Deny and Warn",
    );
}

/// 1.28 and 1.29 serve no ValidatingAdmissionPolicy (beta, off by default).
#[test]
fn validating_admission_policies_are_served_from_1_30() {
    let cluster = Cluster::new("kindest/node:v1.29.14");
    let listed = cluster.kubectl(&["get", "validatingadmissionpolicies"]);
    refused_with(
        &listed,
        "the server doesn't have a resource type \"validatingadmissionpolicies\"",
    );
    let cluster = Cluster::new("kindest/node:v1.31.12");
    assert_ok(&cluster.kubectl(&["get", "validatingadmissionpolicies"]));
}

// ---- ServiceAccount admission ------------------------------------------------------------

/// mountServiceAccountToken unless shouldAutomount says no (the pod first, then the
/// account); an account that does not exist refuses the pod.
#[test]
fn the_service_account_token_is_mounted_unless_automount_is_off() {
    let cluster = Cluster::new(LATEST);
    let mounted = cluster.dry_run("default", &pod("mounted", PLAIN));
    let volume = mounted["spec"]["volumes"][0]["name"]
        .as_str()
        .expect("a token volume");
    assert!(volume.starts_with("kube-api-access-"), "{mounted:#}");
    assert_eq!(
        mounted["spec"]["containers"][0]["volumeMounts"][0],
        json!({"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    );
    let quiet = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet}\nautomountServiceAccountToken: false\n";
    assert_ok(&cluster.apply("default", quiet, &[]));
    let spec = "  serviceAccountName: quiet\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
    let unmounted = cluster.dry_run("default", &pod("unmounted", spec));
    assert!(unmounted["spec"].get("volumes").is_none(), "{unmounted:#}");
    let wanted = format!("  automountServiceAccountToken: true\n{spec}");
    let overridden = cluster.dry_run("default", &pod("overridden", &wanted));
    assert!(
        overridden["spec"]["volumes"][0]["projected"].is_object(),
        "{overridden:#}"
    );
    let missing = "  serviceAccountName: nobody\n  containers:\n  - {name: main, image: postgres:17.5-alpine}\n";
    refused_with(
        &cluster.apply("default", &pod("orphan", missing), &[]),
        "pods \"orphan\" is forbidden: error looking up service account default/nobody: serviceaccount \"nobody\" not found",
    );
}

//! Each learner's objects as the template makes them: labels, quota, Role and the default deny.

use super::*;

fn template() -> Template {
    Template::embedded().expect("the embedded template decodes")
}

#[test]
fn a_learner_gets_seven_labelled_objects_in_their_own_namespace() {
    let prefix = ClassPrefix::default();
    let quota = QuotaLimits {
        cpu: Some("1".parse().expect("quantity")),
        memory: None,
        pods: Some(10),
    };
    let objects = template().learner(&prefix, 3, &quota);
    let kinds: Vec<_> = objects.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, ObjectKind::LEARNER);
    for object in &objects {
        let labels = &object.manifest["metadata"]["labels"];
        assert_eq!(labels[CLASS_LABEL], "learner", "{}", object.describe());
        assert_eq!(labels[PART_OF.0], PART_OF.1);
        assert_eq!(labels[MANAGED_BY.0], MANAGED_BY.1);
        if object.kind != ObjectKind::Namespace {
            assert_eq!(object.manifest["metadata"]["namespace"], "learner-03");
        }
    }
    let binding = &objects[3].manifest;
    assert_eq!(binding["subjects"][0]["namespace"], "learner-03");
    assert_eq!(binding["subjects"][0]["name"], LEARNER_ACCOUNT);
    assert_eq!(binding["roleRef"]["name"], objects[2].name);
    assert_eq!(objects[4].manifest["spec"]["hard"]["requests.cpu"], "1");
    assert_eq!(objects[4].manifest["spec"]["hard"]["pods"], "10");
    // The flags replace their lines; the rest stay the class's defaults.
    assert_eq!(
        objects[4].manifest["spec"]["hard"]["count/jobs.batch"],
        "50"
    );
    assert_eq!(
        objects[4].manifest["spec"]["hard"]["requests.memory"],
        "4Gi"
    );
}

#[test]
fn without_flags_a_learner_still_gets_the_quota_limits_and_deny_all() {
    let objects =
        template().learner_at(&ClassPrefix::default(), 1, &QuotaLimits::default(), "v1.33");
    let labels = &objects[0].manifest["metadata"]["labels"];
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "baseline");
    assert_eq!(
        labels["pod-security.kubernetes.io/enforce-version"],
        "v1.33"
    );
    assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
    assert_eq!(labels["pod-security.kubernetes.io/audit-version"], "v1.33");
    let hard = &objects[4].manifest["spec"]["hard"];
    assert_eq!(hard["count/jobs.batch"], "50");
    assert_eq!(hard["requests.cpu"], "4");
    assert_eq!(hard["pods"], "20");
    let limits = &objects[5].manifest["spec"]["limits"][0];
    assert_eq!(limits["defaultRequest"]["cpu"], "50m");
    // A default limit on disk only, with an explicit request of 0 (else the server
    // copies the limit into the request), and no `max` anywhere.
    assert_eq!(
        limits["default"],
        serde_json::json!({"ephemeral-storage": "1Gi"})
    );
    assert_eq!(limits["defaultRequest"]["ephemeral-storage"], "0");
    assert!(limits.get("max").is_none());
    assert_eq!(hard["count/pods"], "200");
    assert_eq!(hard["persistentvolumeclaims"], "0");
    let deny = &objects[6].manifest["spec"];
    assert_eq!(deny["podSelector"], serde_json::json!({}));
    assert_eq!(
        deny["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert!(deny.get("ingress").is_none() && deny.get("egress").is_none());
    assert_eq!(
        resources(false),
        "namespaces,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,resourcequotas,limitranges,networkpolicies.networking.k8s.io"
    );
    assert!(
        resources(true).ends_with("validatingadmissionpolicybindings.admissionregistration.k8s.io")
    );
}

#[test]
fn the_default_quota_fits_every_lab_step_at_once() {
    use crate::requests::parse_quantity;
    let lab = crate::lab::Lab::embedded().expect("lab");
    let job = crate::render::job::parse_template(assets::JOB_TEMPLATE).expect("template");
    let (peak, pods) = super::super::capacity::per_learner(&lab, &job);
    let hard = template().default_quota();
    let get = |key: &str, unit| parse_quantity(&hard[key].0, unit).expect(key);
    // Seven steps alive at once is at most about four times the three variants' peak
    // (step 4's init pod asks for 600m); the ceiling leaves room for it.
    assert!(get("requests.cpu", 1000) >= 4 * peak.cpu_millis, "{peak:?}");
    assert!(
        get("requests.memory", 1) >= 2 * peak.memory_bytes,
        "{peak:?}"
    );
    assert!(get("pods", 1) >= u64::from(pods) * 3);
    assert_eq!(get("count/jobs.batch", 1), 50);
    // Finished pods are counted too: room for many runs of every step.
    assert!(get("count/pods", 1) >= 10 * get("pods", 1));
    // Disk: every lab pod has two containers, each given the LimitRange's default
    // limit; the six pods of every step alive at once plus step 4's must fit.
    let job_pod = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod");
    let containers =
        job_pod.containers.len() + job_pod.init_containers.as_ref().map_or(0, Vec::len);
    assert_eq!(containers, 2);
    let limit =
        parse_quantity(&template().default_limits()["ephemeral-storage"].0, 1).expect("limit");
    assert!(get("limits.ephemeral-storage", 1) >= 7 * 2 * limit);
}

#[test]
fn the_role_reaches_nothing_cluster_wide_and_never_secrets() {
    let objects = template().learner(&ClassPrefix::default(), 1, &QuotaLimits::default());
    let rules = objects[2].manifest["rules"].as_array().expect("rules");
    for rule in rules {
        let resources: Vec<&str> = rule["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for resource in resources {
            assert!(
                [
                    "jobs",
                    "jobs/status",
                    "pods",
                    "pods/log",
                    "pods/status",
                    "events",
                    "resourcequotas",
                    "configmaps",
                ]
                .contains(&resource),
                "{resource}"
            );
        }
        // Beyond `create`, which RBAC cannot limit by name, a ConfigMap rule names the
        // progress ConfigMap and no other, and never lets it be deleted or listed.
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if rule["resources"][0] == "configmaps" && verbs != ["create"] {
            assert_eq!(
                rule["resourceNames"],
                serde_json::json!(["sidecar-lab-exercises"])
            );
            assert!(
                !verbs.contains(&"delete") && !verbs.contains(&"list"),
                "{verbs:?}"
            );
        }
        assert!(
            !rule["verbs"]
                .as_array()
                .expect("verbs")
                .contains(&Value::from("*"))
        );
    }
}

#[test]
fn quantities_are_checked_as_the_api_server_would() {
    for good in ["1", "1500m", "2Gi", "0.5", "512Mi", "1e3"] {
        assert!(good.parse::<QuantityArg>().is_ok(), "{good}");
    }
    for bad in ["", "-1", "2GB", "m", "1.2.3", "0", "two"] {
        assert!(bad.parse::<QuantityArg>().is_err(), "{bad}");
    }
}

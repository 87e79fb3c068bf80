//! `class up` and `class down` planned against clusters built from the template.

use super::*;
use crate::class::kubeconfig;
use crate::class::objects::{QuotaLimits, Template};

const SERVER: &str = "https://10.0.0.5:6443";

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("time")
}

fn desired(learners: u32, quota: &QuotaLimits) -> Vec<ClassObject> {
    let template = Template::embedded().expect("template");
    (1..=learners)
        .flat_map(|n| template.learner(&ClassPrefix::default(), n, quota))
        .collect()
}

fn desired_with(prefix: &ClassPrefix, learners: u32) -> Vec<ClassObject> {
    let template = Template::embedded().expect("template");
    (1..=learners)
        .flat_map(|n| template.learner(prefix, n, &QuotaLimits::default()))
        .collect()
}

fn token(exp: i64) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("h.{}.s", engine.encode(format!(r#"{{"exp":{exp}}}"#)))
}

/// The cluster after `desired` was applied, with valid kubeconfigs for every learner.
fn applied(objects: &[ClassObject]) -> (Observed, BTreeMap<String, KubeconfigFound>) {
    let mut observed = Observed::default();
    let mut files = BTreeMap::new();
    for object in objects {
        let namespace = object
            .namespace
            .clone()
            .unwrap_or_else(|| object.name.clone());
        let mut stored = object.manifest.clone();
        stored["metadata"]["uid"] = Value::from("u");
        if object.kind == ObjectKind::Namespace {
            let labels =
                serde_json::from_value(stored["metadata"]["labels"].clone()).expect("labels");
            observed.namespaces.insert(namespace.clone(), labels);
            files.insert(
                namespace.clone(),
                KubeconfigFound::Found(Existing {
                    server: SERVER.to_owned(),
                    namespace: namespace.clone(),
                    token: token(now().as_second() + 8 * 3600),
                }),
            );
        }
        // As the cluster's read files them: a cluster-wide object under no namespace.
        observed.objects.insert(object.key(), stored);
    }
    (observed, files)
}

fn wanted<'a>(prefix: &'a ClassPrefix, learners: u32, desired: &'a [ClassObject]) -> Wanted<'a> {
    Wanted {
        prefix,
        learners,
        desired,
        server: SERVER,
        now: now(),
        duration_seconds: 8 * 3600,
    }
}

#[test]
fn an_empty_cluster_gets_everything_and_a_token_each() {
    let prefix = ClassPrefix::default();
    let desired = desired(3, &QuotaLimits::default());
    let plan = plan_up(
        &wanted(&prefix, 3, &desired),
        &Observed::default(),
        &BTreeMap::new(),
    )
    .expect("plans");
    assert_eq!(plan.create.len(), 21);
    assert_eq!(plan.tokens.len(), 3);
    assert!(
        plan.tokens
            .iter()
            .all(|t| t.reason == TokenReason::NewAccount)
    );
    assert_eq!(plan.to_apply()[0].kind, ObjectKind::Namespace);
    assert!(plan.unchanged.is_empty());
}

#[test]
fn a_second_run_changes_nothing() {
    let prefix = ClassPrefix::default();
    let desired = desired(30, &QuotaLimits::default());
    let (observed, files) = applied(&desired);
    let plan = plan_up(&wanted(&prefix, 30, &desired), &observed, &files).expect("plans");
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(plan.unchanged.len(), 30);
}

#[test]
fn a_changed_role_or_quota_is_updated_and_nothing_else() {
    let prefix = ClassPrefix::default();
    let quota = QuotaLimits {
        cpu: Some("1".parse().expect("q")),
        ..QuotaLimits::default()
    };
    let before = desired(2, &quota);
    let (mut observed, files) = applied(&before);
    let role = observed
        .objects
        .get_mut(&(
            ObjectKind::Role,
            "learner-02".to_owned(),
            "sidecar-lab-learner".to_owned(),
        ))
        .expect("role");
    role["rules"] = serde_json::json!([]);
    let wider = QuotaLimits {
        cpu: Some("2".parse().expect("q")),
        ..QuotaLimits::default()
    };
    let after = desired(2, &wider);
    let plan = plan_up(&wanted(&prefix, 2, &after), &observed, &files).expect("plans");
    let updated: Vec<String> = plan.update.iter().map(|(o, _)| o.describe()).collect();
    assert_eq!(
        updated,
        [
            "ResourceQuota learner-01/sidecar-lab-learner",
            "Role learner-02/sidecar-lab-learner",
            "ResourceQuota learner-02/sidecar-lab-learner",
        ]
    );
    assert!(plan.create.is_empty() && plan.tokens.is_empty());
}

#[test]
fn a_changed_admission_policy_or_binding_is_updated() {
    let prefix = ClassPrefix::default();
    let mut desired = desired(1, &QuotaLimits::default());
    desired.extend(crate::class::policy::objects(&prefix));
    let (clean, files) = applied(&desired);
    // The server's own defaults are written by the class, so a policy read back as
    // sent is no drift.
    let plan = plan_up(&wanted(&prefix, 1, &desired), &clean, &files).expect("plans");
    assert!(plan.update.is_empty(), "{:?}", plan.update);
    let key = |kind| (kind, String::new(), "sidecar-lab-class-learner".to_owned());
    for (kind, pointer, value, field) in [
        (
            ObjectKind::ValidatingAdmissionPolicy,
            "/spec/failurePolicy",
            serde_json::json!("Ignore"),
            "spec.failurePolicy",
        ),
        (
            ObjectKind::ValidatingAdmissionPolicy,
            "/spec/matchConstraints/resourceRules/1/resources",
            serde_json::json!(["cronjobs"]),
            "spec.matchConstraints",
        ),
        (
            ObjectKind::ValidatingAdmissionPolicy,
            "/spec/matchConstraints/objectSelector",
            serde_json::json!({"matchLabels": {"exempt": "no"}}),
            "spec.matchConstraints",
        ),
        (
            ObjectKind::ValidatingAdmissionPolicyBinding,
            "/spec/validationActions",
            serde_json::json!(["Warn"]),
            "spec",
        ),
        (
            ObjectKind::ValidatingAdmissionPolicyBinding,
            "/spec/matchResources/namespaceSelector",
            serde_json::json!({}),
            "spec",
        ),
    ] {
        let mut observed = clean.clone();
        let stored = observed.objects.get_mut(&key(kind)).expect("stored");
        *stored.pointer_mut(pointer).expect(pointer) = value;
        let plan = plan_up(&wanted(&prefix, 1, &desired), &observed, &files).expect("plans");
        let updated: Vec<(String, Vec<String>)> = plan
            .update
            .iter()
            .map(|(o, fields)| (o.describe(), fields.clone()))
            .collect();
        assert_eq!(
            updated,
            [(
                format!("{kind} sidecar-lab-class-learner"),
                vec![field.to_owned()]
            )],
            "{pointer}"
        );
    }
}

#[test]
fn a_namespace_that_is_not_the_classes_is_never_taken() {
    let prefix = ClassPrefix::default();
    let desired = desired(3, &QuotaLimits::default());
    let mut observed = Observed::default();
    observed
        .namespaces
        .insert("learner-02".to_owned(), BTreeMap::new());
    let error =
        plan_up(&wanted(&prefix, 3, &desired), &observed, &BTreeMap::new()).expect_err("refused");
    assert!(error.to_string().contains("learner-02"), "{error}");
}

#[test]
fn tokens_are_renewed_when_they_would_end_soon_or_point_elsewhere() {
    let prefix = ClassPrefix::default();
    let desired = desired(4, &QuotaLimits::default());
    let (observed, mut files) = applied(&desired);
    files.insert(
        "learner-01".to_owned(),
        KubeconfigFound::Found(Existing {
            server: SERVER.to_owned(),
            namespace: "learner-01".to_owned(),
            token: token(now().as_second() + 600),
        }),
    );
    files.insert(
        "learner-02".to_owned(),
        KubeconfigFound::Found(Existing {
            server: "https://old:6443".to_owned(),
            namespace: "learner-02".to_owned(),
            token: token(now().as_second() + 8 * 3600),
        }),
    );
    files.insert("learner-03".to_owned(), KubeconfigFound::Unreadable);
    files.remove("learner-04");
    let plan = plan_up(&wanted(&prefix, 4, &desired), &observed, &files).expect("plans");
    let reasons: Vec<_> = plan.tokens.iter().map(|t| t.reason.clone()).collect();
    assert!(matches!(reasons[0], TokenReason::ExpiresSoon(Some(_))));
    assert_eq!(
        reasons[1],
        TokenReason::Elsewhere("server https://old:6443".to_owned())
    );
    assert_eq!(reasons[2], TokenReason::Unreadable);
    assert_eq!(reasons[3], TokenReason::NoFile);
    assert!(plan.create.is_empty());
    let _ = kubeconfig::token_expiry;
}

#[test]
fn fewer_learners_leave_the_rest_alone_and_down_takes_only_the_class() {
    let prefix = ClassPrefix::default();
    let desired5 = desired(5, &QuotaLimits::default());
    let (mut observed, files) = applied(&desired5);
    let desired3 = desired(3, &QuotaLimits::default());
    let plan = plan_up(&wanted(&prefix, 3, &desired3), &observed, &files).expect("plans");
    assert_eq!(plan.beyond, ["learner-04", "learner-05"]);
    assert!(plan.is_empty());

    observed
        .namespaces
        .insert("kube-system".to_owned(), BTreeMap::new());
    let on_disk: BTreeSet<String> = ["learner-01", "learner-05", "notes"]
        .map(str::to_owned)
        .into();
    // A class made with the prefix `learner` shares the label value `learner`.
    let other = desired_with(&"learner".parse().expect("prefix"), 2);
    let (theirs, _) = applied(&other);
    observed.objects.extend(theirs.objects);
    let down = plan_down(&prefix, &observed, &on_disk);
    assert_eq!(down.namespaces.len(), 5);
    assert!(down.namespaces.iter().all(|n| n.starts_with("learner-")));
    assert!(down.strays.is_empty(), "{:?}", down.strays);
    assert_eq!(down.kubeconfigs, ["learner-01", "learner-05"]);
}

//! The verdict engine on dumps shaped like real clusters' output (tests/fixtures/dumps,
//! after sidecar-facts.md §3): every outcome, every finding, the cross matrix of
//! variants, both stream formats, and inputs that must never panic.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]

use std::path::Path;

use proptest::prelude::*;
use sidecar_lab::lab::Checks;
use sidecar_lab::observe::dump;
use sidecar_lab::variant::Variant;
use sidecar_lab::verdict::{
    Expectation, Judgement, Outcome, Verdict, judge, judge_expecting, judge_refusal,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dumps")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn judged(bytes: &[u8], variant: Option<Variant>) -> Judgement {
    judge(&dump::parse(bytes).expect("the fixture parses"), variant)
}

fn codes(judgement: &Judgement) -> Vec<&'static str> {
    judgement.findings.iter().map(|f| f.code).collect()
}

/// A fixture, the variant it is judged under, and the outcome, verdict and finding
/// codes expected.
type Case = (
    &'static str,
    Option<Variant>,
    Outcome,
    Option<Verdict>,
    &'static [&'static str],
);

const CASES: &[Case] = {
    use Outcome::*;
    use Variant::*;
    use Verdict::*;
    &[
        (
            "init-running.yaml",
            Some(Init),
            InitRunning,
            Some(Expected),
            &[],
        ),
        (
            "sidecar-holds-pod.yaml",
            Some(Sidecar),
            SidecarHoldsPod,
            Some(Expected),
            &[],
        ),
        (
            "native-succeeded.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &[],
        ),
        (
            "native-succeeded-exit-143.json",
            Some(Native),
            Succeeded,
            Some(Expected),
            &["sidecar-exit-code"],
        ),
        (
            "native-succeeded-sidecar-stopping.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &[],
        ),
        (
            "native-watch.json",
            Some(Native),
            Succeeded,
            Some(Expected),
            &[],
        ),
        (
            "native-watch.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &[],
        ),
        (
            "native-1.28-sidecar-stopped-first.yaml",
            Some(Native),
            Succeeded,
            Some(Unexpected),
            &["sidecar-stopped-before-main"],
        ),
        (
            "native-gate-off.yaml",
            Some(Native),
            InitRunning,
            Some(Unexpected),
            &["gate-off"],
        ),
        (
            "native-init-starting.yaml",
            Some(Native),
            InitRunning,
            Some(Undecided),
            &[],
        ),
        (
            "native-running.yaml",
            Some(Native),
            Running,
            Some(Undecided),
            &[],
        ),
        (
            "native-sidecar-restarted.yaml",
            Some(Native),
            Running,
            Some(Undecided),
            &["sidecar-restarted"],
        ),
        (
            "image-pull-failed.yaml",
            Some(Native),
            Failed,
            Some(Unexpected),
            &["image-pull-failed"],
        ),
        (
            "sidecar-crashloop.yaml",
            Some(Native),
            Failed,
            Some(Unexpected),
            &["container-error", "sidecar-restarted"],
        ),
        (
            "kubelet-rejected.yaml",
            Some(Native),
            Failed,
            Some(Unexpected),
            &["kubelet-gate-off"],
        ),
        (
            "pending-unschedulable.yaml",
            Some(Native),
            Pending,
            Some(Undecided),
            &["unschedulable"],
        ),
        (
            "init-deadline-exceeded.yaml",
            Some(Init),
            Failed,
            Some(Expected),
            &["pod-deleted", "deadline-exceeded"],
        ),
        (
            "sidecar-deadline-exceeded.yaml",
            Some(Sidecar),
            Failed,
            Some(Expected),
            &["deadline-exceeded"],
        ),
        (
            "sidecar-main-failed.yaml",
            Some(Sidecar),
            Running,
            Some(Unexpected),
            &["app-container-failed"],
        ),
        // After the deadline only the Job is left: undecided, never unexpected.
        (
            "init-deadline-job-only.yaml",
            Some(Init),
            Failed,
            Some(Undecided),
            &["deadline-exceeded", "no-pod"],
        ),
        (
            "sidecar-deadline-job-only.yaml",
            Some(Sidecar),
            Failed,
            Some(Undecided),
            &["deadline-exceeded", "no-pod"],
        ),
        // The deadline's kill through a shell is not an app failure.
        (
            "sidecar-deadline-shell-exit.yaml",
            Some(Sidecar),
            Failed,
            Some(Expected),
            &["deadline-exceeded"],
        ),
        // An order that cannot be seen is not a broken order.
        (
            "native-sidecar-restarted-often.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &["sidecar-restarted", "order-not-visible"],
        ),
        // Terminal states win over stale waits.
        (
            "native-succeeded-stale-crashloop.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &["sidecar-restarted", "order-not-visible"],
        ),
        // Nothing has run yet: pending, not init-running.
        (
            "init-pulling.yaml",
            Some(Init),
            Pending,
            Some(Undecided),
            &[],
        ),
        // A re-created Job is not judged by its predecessor's pod.
        (
            "native-recreated-job.yaml",
            Some(Native),
            Running,
            Some(Undecided),
            &["other-pods"],
        ),
        // Every unexpected names its cause.
        (
            "init-oomkilled.yaml",
            Some(Init),
            Failed,
            Some(Unexpected),
            &["init-container-failed"],
        ),
        (
            "sidecar-postgres-stopped.yaml",
            Some(Sidecar),
            Succeeded,
            Some(Unexpected),
            &["unexpected-outcome"],
        ),
        // Node lost: stale states decide nothing.
        (
            "native-node-lost.yaml",
            Some(Native),
            Pending,
            Some(Undecided),
            &["node-lost"],
        ),
        (
            "native-startup-probe-failing.yaml",
            Some(Native),
            InitRunning,
            Some(Undecided),
            &["sidecar-not-started"],
        ),
        (
            "job-complete.yaml",
            Some(Native),
            Succeeded,
            Some(Expected),
            &["no-pod"],
        ),
        ("job-active.yaml", Some(Init), Running, Some(Undecided), &[]),
        ("native-succeeded.yaml", None, Succeeded, None, &[]),
    ]
};

#[test]
fn every_outcome_verdict_and_finding_on_its_fixture() {
    for (name, variant, outcome, verdict, findings) in CASES {
        let judgement = judged(&fixture(name), *variant);
        assert_eq!(
            (
                judgement.outcome,
                judgement.verdict,
                codes(&judgement).as_slice()
            ),
            (*outcome, *verdict, *findings),
            "{name} under {variant:?}: {}",
            judgement.outcome_message
        );
    }
}

#[test]
fn every_outcome_and_every_finding_is_covered() {
    let mut outcomes: Vec<Outcome> = CASES.iter().map(|c| c.2).collect();
    // Outcomes with tests of their own below: a refusal comes from kubectl's answer,
    // not from a dump; not-admitted needs a step's expectation and events.
    outcomes.extend([Outcome::Refused, Outcome::NotAdmitted]);
    for outcome in Outcome::ALL {
        assert!(
            outcomes.contains(&outcome),
            "no fixture for outcome {outcome}"
        );
    }
    let mut seen: Vec<&str> = CASES.iter().flat_map(|c| c.4.iter().copied()).collect();
    // Findings the cross matrix and the stream tests produce.
    seen.extend([
        "variant-mismatch",
        "other-pods",
        "input-truncated",
        "main-started-before-sidecar",
        // The tests of steps beyond the three variants, below.
        "api-refused",
        "not-restarted",
        "stop-order",
        "quota-exceeded",
        "effective-request",
        "field-dropped",
        // `check --step N`, below.
        "may-still-exit",
        "job-missing",
        "sidecar-oom-killed",
        "version-contradicted",
    ]);
    let source = include_str!("../src/verdict/finding.rs");
    for line in source
        .lines()
        .filter(|l| l.contains("pub const") && l.contains(": &str = \""))
    {
        let code = line.split('"').nth(1).expect("a quoted code");
        assert!(seen.contains(&code), "finding `{code}` has no test");
    }
}

/// The state each variant teaches, judged under the other two, is never `expected` —
/// with the lab's labels, and from the pod's layout alone without them.
#[test]
fn cross_matrix_never_confuses_variants() {
    let characteristic = [
        (Variant::Init, "init-running.yaml"),
        (Variant::Init, "init-deadline-exceeded.yaml"),
        (Variant::Sidecar, "sidecar-holds-pod.yaml"),
        (Variant::Sidecar, "sidecar-deadline-exceeded.yaml"),
        (Variant::Native, "native-succeeded.yaml"),
        (Variant::Native, "native-watch.json"),
    ];
    for (own, name) in characteristic {
        let labelled = fixture(name);
        for bytes in [without_variant_labels(&labelled), labelled] {
            assert_eq!(
                judged(&bytes, Some(own)).verdict,
                Some(Verdict::Expected),
                "{name} under its own variant"
            );
            for other in Variant::ALL.into_iter().filter(|v| *v != own) {
                let judgement = judged(&bytes, Some(other));
                assert!(
                    matches!(
                        judgement.verdict,
                        Some(Verdict::Unexpected | Verdict::Undecided)
                    ),
                    "{name} judged {:?} under {other}",
                    judgement.verdict
                );
            }
        }
    }
}

/// The dump without the lab's `sidecar-lab/variant` labels, as any cluster would print it.
fn without_variant_labels(bytes: &[u8]) -> Vec<u8> {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("sidecar-lab/variant");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    if text.trim_start().starts_with('{') {
        let mut out = Vec::new();
        for value in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let mut value = value.expect("valid JSON fixture");
            strip(&mut value);
            out.extend(serde_json::to_vec(&value).expect("encodes"));
        }
        out
    } else {
        let stripped: String = text
            .lines()
            .filter(|l| !l.contains("sidecar-lab/variant"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(stripped, text, "the fixture has the label");
        stripped.into_bytes()
    }
}

#[test]
fn json_and_yaml_streams_give_the_same_judgement() {
    let json = judged(&fixture("native-watch.json"), Some(Variant::Native));
    let yaml = judged(&fixture("native-watch.yaml"), Some(Variant::Native));
    assert_eq!(json, yaml);
}

#[test]
fn earlier_snapshots_only_add_history() {
    // The latest snapshot decides: the first five snapshots alone are still running.
    let text = String::from_utf8(fixture("native-watch.yaml")).expect("utf-8");
    let first_five: Vec<&str> = text.split("\n---\n").take(5).collect();
    let judgement = judged(first_five.join("\n---\n").as_bytes(), Some(Variant::Native));
    assert_eq!(
        (judgement.outcome, judgement.verdict),
        (Outcome::Running, Some(Verdict::Undecided))
    );
    // The whole stream carries main's start, seen only while it ran, into the timeline.
    let whole = judged(text.as_bytes(), Some(Variant::Native));
    let main = whole
        .timeline
        .rows
        .iter()
        .find(|r| r.container == "main")
        .expect("main row");
    assert_eq!(main.runs.len(), 1);
    assert_eq!(main.runs[0].exit_code, Some(0));
}

#[test]
fn a_recording_cut_short_is_judged_from_its_complete_snapshots() {
    let bytes = fixture("native-watch.json");
    let cut = &bytes[..bytes.len() - 100];
    let judgement = judged(cut, Some(Variant::Native));
    assert!(
        codes(&judgement).contains(&"input-truncated"),
        "{:?}",
        codes(&judgement)
    );
    assert_eq!(judgement.outcome, Outcome::Running);
}

#[test]
fn main_started_before_the_sidecar_is_unexpected() {
    let text = String::from_utf8(fixture("native-succeeded.yaml")).expect("utf-8");
    // Make main start at :00, before postgres at :01.
    let swapped = text.replacen(
        "startedAt: '2026-11-20T10:00:03Z'",
        "startedAt: '2026-11-20T10:00:00Z'",
        1,
    );
    assert_ne!(swapped, text, "the fixture has main's start time");
    let judgement = judged(swapped.as_bytes(), Some(Variant::Native));
    assert_eq!(judgement.verdict, Some(Verdict::Unexpected));
    assert!(codes(&judgement).contains(&"main-started-before-sidecar"));
}

#[test]
fn several_pods_pick_the_one_of_the_variant_and_say_so() {
    let mut bytes = fixture("init-running.yaml");
    bytes.extend_from_slice(b"\n---\n");
    bytes.extend(fixture("native-succeeded.yaml"));
    let judgement = judged(&bytes, Some(Variant::Init));
    assert_eq!(judgement.pod.as_deref(), Some("cy-job-init-k4m9q"));
    assert_eq!(judgement.verdict, Some(Verdict::Expected));
    assert!(codes(&judgement).contains(&"other-pods"));
}

#[test]
fn without_labels_the_pod_laid_out_as_the_variant_is_judged() {
    // A real namespace after all three steps, recorded without the lab's labels: the
    // native pod is the newest, yet each variant finds its own.
    let mut bytes = Vec::new();
    for name in [
        "init-running.yaml",
        "sidecar-holds-pod.yaml",
        "native-succeeded.yaml",
    ] {
        bytes.extend(without_variant_labels(&fixture(name)));
        bytes.extend_from_slice(b"\n---\n");
    }
    for (variant, pod) in [
        (Variant::Init, "cy-job-init-k4m9q"),
        (Variant::Sidecar, "cy-job-sidecar-p2x7w"),
        (Variant::Native, "cy-job-native-x7k2p"),
    ] {
        let judgement = judged(&bytes, Some(variant));
        assert_eq!(judgement.pod.as_deref(), Some(pod), "{variant}");
        assert_eq!(judgement.verdict, Some(Verdict::Expected), "{variant}");
    }
}

#[test]
fn image_pull_findings_name_the_image_and_reason() {
    let judgement = judged(&fixture("image-pull-failed.yaml"), Some(Variant::Native));
    let message = &judgement.findings[0].message;
    assert!(
        message.contains("postgres:17.5-alpine") && message.contains("ImagePullBackOff"),
        "{message}"
    );
    assert!(judgement.outcome_message.contains("ImagePullBackOff"));
}

#[test]
fn a_150_kb_stream_is_judged_like_its_last_snapshot() {
    let one = fixture("native-watch.json");
    let mut big = Vec::new();
    while big.len() < 150 * 1024 {
        big.extend_from_slice(&one);
    }
    let judgement = judged(&big, Some(Variant::Native));
    assert_eq!(
        (judgement.outcome, judgement.verdict),
        (Outcome::Succeeded, Some(Verdict::Expected))
    );
}

fn all_fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect()
}

/// The explanation matches the cause: a failing startup probe, a pod that is gone, a
/// node that stopped reporting.
#[test]
fn explanations_name_the_real_cause() {
    for (name, variant, words, never) in [
        (
            "native-startup-probe-failing.yaml",
            Variant::Native,
            "startupProbe",
            "never exits",
        ),
        (
            "init-deadline-job-only.yaml",
            Variant::Init,
            "its pod is gone",
            "No container has started yet",
        ),
        (
            "native-node-lost.yaml",
            Variant::Native,
            "stopped reporting",
            "is running",
        ),
    ] {
        let judgement = judged(&fixture(name), Some(variant));
        let text = sidecar_lab::verdict::explain::explain(&judgement);
        assert!(
            text.contains(words) && !text.contains(never),
            "{name}: {text}"
        );
        if name == "native-node-lost.yaml" {
            assert!(
                !judgement.outcome_message.contains("is running"),
                "stale states are not reported as live: {}",
                judgement.outcome_message
            );
        }
    }
}

/// Every `unexpected` names its cause: at least one finding of level problem.
fn unexpected_has_a_problem(bytes: &[u8]) {
    if let Ok(dump) = dump::parse(bytes) {
        for variant in Variant::ALL {
            let judgement = judge(&dump, Some(variant));
            if judgement.verdict == Some(Verdict::Unexpected) {
                assert!(
                    judgement
                        .findings
                        .iter()
                        .any(|f| f.level == sidecar_lab::verdict::Level::Problem),
                    "unexpected without a problem finding under {variant}: {:?}",
                    judgement.findings
                );
            }
        }
    }
}

#[test]
fn every_fixture_that_is_unexpected_names_a_problem() {
    for bytes in all_fixtures() {
        unexpected_has_a_problem(&bytes);
        // The documentation's shapes carry no lab labels to take away.
        if String::from_utf8_lossy(&bytes).contains("sidecar-lab/variant") {
            unexpected_has_a_problem(&without_variant_labels(&bytes));
        }
    }
}

/// Fixture `which` (modulo their number) with the bytes at the given fractions of its
/// length replaced.
fn mutated(which: usize, flips: &[(f64, u8)]) -> Vec<u8> {
    let fixtures = all_fixtures();
    let mut bytes = fixtures[which % fixtures.len()].clone();
    for (at, byte) in flips {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "`at` is a fraction in 0..1: the product is a non-negative index below the length"
        )]
        let index = ((bytes.len() as f64) * at) as usize;
        if index < bytes.len() {
            bytes[index] = *byte;
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_dumps_that_judge_unexpected_name_a_problem(
        which in 0usize..64,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..3),
    ) {
        let bytes = mutated(which, &flips);
        unexpected_has_a_problem(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(dump) = dump::parse(&bytes) {
            for variant in [None, Some(Variant::Init), Some(Variant::Sidecar), Some(Variant::Native)] {
                let _ = judge(&dump, variant);
            }
        }
    }

    #[test]
    fn truncated_and_mutated_dumps_never_panic(
        which in 0usize..64,
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..4),
    ) {
        let bytes = mutated(which, &flips);
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "`cut` is a fraction in 0..=1: the product is a non-negative length, at most the whole"
        )]
        let end = ((bytes.len() as f64) * cut) as usize;
        if let Ok(dump) = dump::parse(&bytes[..end.min(bytes.len())]) {
            for variant in [None, Some(Variant::Init), Some(Variant::Sidecar), Some(Variant::Native)] {
                let _ = judge(&dump, variant);
            }
        }
    }
}

/// The gate-off dump with the manifest `kubectl apply` sent recorded on the Job, with or
/// without `restartPolicy: Always` on postgres.
fn gate_off_with_applied(sent_native: bool) -> Vec<u8> {
    let text = String::from_utf8(fixture("native-gate-off.yaml")).expect("utf-8");
    let (documents, error) = sidecar_lab::yaml::documents(&text);
    assert!(error.is_none());
    let mut list = documents.into_iter().next().expect("a List");
    let mut init = serde_json::json!({"name": "postgres", "image": "postgres:17.5-alpine"});
    if sent_native {
        init["restartPolicy"] = "Always".into();
    }
    let sent = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
        "spec": {"template": {"spec": {"initContainers": [init], "containers": [{"name": "main"}]}}}});
    let items = list["items"].as_array_mut().expect("items");
    let job = items
        .iter_mut()
        .find(|i| i["kind"] == "Job")
        .expect("a Job");
    job["metadata"]["annotations"] = serde_json::json!({
        "kubectl.kubernetes.io/last-applied-configuration": sent.to_string()
    });
    serde_json::to_vec(&list).expect("JSON")
}

#[test]
fn a_dropped_restart_policy_is_told_from_a_manifest_without_one() {
    // Sent with restartPolicy, stored without: the API server dropped it (gate off).
    let dropped = judged(&gate_off_with_applied(true), Some(Variant::Native));
    assert_eq!(dropped.verdict, Some(Verdict::Unexpected));
    assert_eq!(codes(&dropped), ["gate-off"]);
    // Sent without it: the learner's manifest is the init variant, whatever the gate.
    let never_sent = judged(&gate_off_with_applied(false), Some(Variant::Native));
    assert_eq!(never_sent.verdict, Some(Verdict::Unexpected));
    assert_eq!(codes(&never_sent), ["variant-mismatch"]);
    assert!(
        never_sent.findings[0]
            .message
            .contains("the manifest that was applied has no init container"),
        "{:?}",
        never_sent.findings
    );
}

// ---- Steps beyond the three variants: expectations other than the variant's own.

use Variant::{Native, Sidecar};
use Verdict::{Expected, Unexpected};

fn expecting(variant: Variant, outcome: Outcome, checks: Checks) -> Expectation {
    Expectation {
        variant,
        outcome,
        checks,
    }
}

#[test]
fn a_pod_refused_by_a_quota_is_not_admitted_and_the_numbers_agree() {
    let dump = dump::parse(&fixture("native-not-admitted.yaml")).expect("parses");
    let checks = Checks {
        requests: true,
        ..Checks::default()
    };
    let judgement = judge_expecting(
        &dump,
        Some(&expecting(Native, Outcome::NotAdmitted, checks)),
    );
    assert_eq!(
        judgement.outcome,
        Outcome::NotAdmitted,
        "{}",
        judgement.outcome_message
    );
    assert_eq!(judgement.verdict, Some(Expected));
    assert_eq!(codes(&judgement), ["effective-request", "quota-exceeded"]);
    assert!(
        judgement.findings[0]
            .message
            .contains("max(600m, 600m + 600m) = 1200m")
    );
    assert!(judgement.findings[1].message.contains("they agree"));
    // The native variant on its own expects the Job to succeed: not admitted is not that.
    let taught = judged(&fixture("native-not-admitted.yaml"), Some(Native));
    assert_eq!(taught.verdict, Some(Unexpected));
}

#[test]
fn a_quota_number_that_disagrees_with_the_formula_is_a_problem() {
    let text = String::from_utf8(fixture("native-not-admitted.yaml"))
        .expect("utf-8")
        .replace(
            "requested: requests.cpu=1200m",
            "requested: requests.cpu=600m",
        );
    let dump = dump::parse(text.as_bytes()).expect("parses");
    let checks = Checks {
        requests: true,
        ..Checks::default()
    };
    let judgement = judge_expecting(
        &dump,
        Some(&expecting(Native, Outcome::NotAdmitted, checks)),
    );
    assert_eq!(judgement.verdict, Some(Unexpected));
    assert!(
        judgement
            .findings
            .iter()
            .any(|f| f.code == "quota-exceeded" && f.level == sidecar_lab::verdict::Level::Problem)
    );
}

#[test]
fn sidecars_must_stop_in_reverse_order_when_the_step_says_so() {
    let checks = Checks {
        reverse_stop_order: true,
        ..Checks::default()
    };
    let ordered = dump::parse(&fixture("native-two-sidecars.yaml")).expect("parses");
    let judgement = judge_expecting(
        &ordered,
        Some(&expecting(Native, Outcome::Succeeded, checks.clone())),
    );
    assert_eq!(
        judgement.verdict,
        Some(Expected),
        "{:?}",
        judgement.findings
    );
    assert!(codes(&judgement).contains(&"stop-order"));
    let alpha = dump::parse(&fixture("native-two-sidecars-1.28.yaml")).expect("parses");
    let judgement = judge_expecting(&alpha, Some(&expecting(Native, Outcome::Succeeded, checks)));
    assert_eq!(judgement.verdict, Some(Unexpected));
    let finding = judgement
        .findings
        .iter()
        .find(|f| f.code == "stop-order")
        .expect("named");
    assert!(
        finding.message.contains("`postgres` (declared first)")
            && finding.message.contains("before `log-shipper`"),
        "{}",
        finding.message
    );
}

#[test]
fn a_sidecar_the_step_expects_to_restart_must_have_restarted() {
    let checks = Checks {
        restarted: vec!["postgres".to_owned()],
        ..Checks::default()
    };
    let crashed = dump::parse(&fixture("native-crashed-once.yaml")).expect("parses");
    let judgement = judge_expecting(
        &crashed,
        Some(&expecting(Native, Outcome::Succeeded, checks.clone())),
    );
    assert_eq!(
        judgement.verdict,
        Some(Expected),
        "{:?}",
        judgement.findings
    );
    let never = dump::parse(&fixture("native-succeeded.yaml")).expect("parses");
    let judgement = judge_expecting(&never, Some(&expecting(Native, Outcome::Succeeded, checks)));
    assert_eq!(judgement.verdict, Some(Unexpected));
    assert!(codes(&judgement).contains(&"not-restarted"));
}

#[test]
fn a_refusal_the_step_teaches_is_expected_and_one_it_does_not_is_not() {
    let message = "The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers";
    let taught = judge_refusal(
        message,
        &expecting(Sidecar, Outcome::Refused, Checks::default()),
    );
    assert_eq!(
        (taught.outcome, taught.verdict),
        (Outcome::Refused, Some(Expected))
    );
    assert_eq!(codes(&taught), ["api-refused"]);
    let surprise = judge_refusal(
        message,
        &expecting(Sidecar, Outcome::SidecarHoldsPod, Checks::default()),
    );
    assert_eq!(surprise.verdict, Some(Unexpected));
    assert_eq!(
        surprise.findings[0].level,
        sidecar_lab::verdict::Level::Problem
    );
}

/// Pods shaped like the Kubernetes documentation's own examples — several init
/// containers, several app containers, sidecars beside plain init containers — are
/// recognised by what defines each variant, not by a count of containers.
#[test]
fn pods_of_the_documentations_shapes_are_judged_by_what_defines_each_variant() {
    use Variant::Init;
    use Verdict::Unexpected as U;
    /// A fixture, its outcome, and each variant's verdict with words its finding holds.
    type ShapeCase = (&'static str, Outcome, [(Variant, Verdict, &'static str); 3]);
    let cases: &[ShapeCase] = &[
        (
            "docs-init-two-inits.yaml",
            Outcome::InitRunning,
            [
                (Init, Expected, ""),
                (
                    Sidecar,
                    U,
                    "the sidecar variant needs two or more app containers",
                ),
                (Native, U, "the SidecarContainers gate is off"),
            ],
        ),
        (
            "docs-sidecar-job.yaml",
            Outcome::Succeeded,
            [
                (Native, Expected, ""),
                (Init, U, "the init variant has no sidecar"),
                (Sidecar, U, "keeps postgres as a regular container"),
            ],
        ),
        (
            "docs-init-sidecar-two-apps.yaml",
            Outcome::Succeeded,
            [
                (Native, Expected, ""),
                (Init, U, "the init variant has no sidecar"),
                (Sidecar, U, "keeps postgres as a regular container"),
            ],
        ),
        (
            "docs-three-apps-one-holds.yaml",
            Outcome::SidecarHoldsPod,
            [
                (Sidecar, Expected, ""),
                // It has the init variant's feature, and shows another outcome.
                (Init, U, "but the `init` variant teaches `init-running`"),
                (
                    Native,
                    U,
                    "needs an init container with `restartPolicy: Always`",
                ),
            ],
        ),
        (
            "docs-single-container.yaml",
            Outcome::Running,
            [
                (Init, U, "none of the lab's three ways"),
                (Sidecar, U, "none of the lab's three ways"),
                (Native, U, "none of the lab's three ways"),
            ],
        ),
    ];
    for (name, outcome, judged_as) in cases {
        for (variant, verdict, because) in judged_as {
            let judgement = judged(&fixture(name), Some(*variant));
            assert_eq!(
                (judgement.outcome, judgement.verdict),
                (*outcome, Some(*verdict)),
                "{name} as {variant}: {:?}",
                judgement.findings
            );
            let messages: Vec<&str> = judgement
                .findings
                .iter()
                .map(|f| f.message.as_str())
                .collect();
            assert!(
                because.is_empty() || messages.iter().any(|m| m.contains(because)),
                "{name} as {variant}: want {because:?} in {messages:?}"
            );
        }
    }
    // "None of the lab's three ways" is kept for pods that truly have none of the features.
    for name in [
        "docs-init-two-inits.yaml",
        "docs-sidecar-job.yaml",
        "docs-three-apps-one-holds.yaml",
    ] {
        for variant in Variant::ALL {
            let judgement = judged(&fixture(name), Some(variant));
            assert!(
                judgement
                    .findings
                    .iter()
                    .all(|f| !f.message.contains("none of the lab's three ways")),
                "{name} as {variant}"
            );
        }
    }
}

/// The dumps a real node left (tests/fixtures/real-cluster, real-cluster-facts.md).
fn real(name: &str) -> dump::Dump {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-cluster")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    dump::parse(&bytes).expect("a real dump parses")
}

/// Step 5 on a real 1.34 API server: accepted, `restartPolicy` dropped (the sent
/// manifest has it, the stored Job does not), the pod hangs as in step 2. On 1.36 the
/// field is kept. Against the outcome a version teaches, the report never contradicts
/// itself.
#[test]
fn a_field_the_server_dropped_is_shown_against_what_kubectl_sent() {
    let holds = expecting(Sidecar, Outcome::SidecarHoldsPod, Checks::default());
    let judgement = judge_expecting(&real("step5-v1.34.9.yaml"), Some(&holds));
    assert_eq!(
        judgement.verdict,
        Some(Expected),
        "{:?}",
        judgement.findings
    );
    assert_eq!(judgement.expected, Some(Outcome::SidecarHoldsPod));
    let dropped = judgement
        .findings
        .iter()
        .find(|f| f.code == "field-dropped")
        .expect("the dropped field is shown");
    assert!(
        dropped
            .message
            .contains("`restartPolicy: Always` on the regular container `postgres`"),
        "{}",
        dropped.message
    );
    let kept = judge_expecting(&real("step5-v1.36.3.yaml"), Some(&holds));
    assert_eq!(kept.verdict, Some(Expected));
    assert!(
        !codes(&kept).contains(&"field-dropped"),
        "{:?}",
        kept.findings
    );
    // Judged against `refused` (what a 1.33 server teaches), the hanging pod is
    // unexpected, and the problem names `refused`, not the outcome it got.
    let refused = expecting(Sidecar, Outcome::Refused, Checks::default());
    let judgement = judge_expecting(&real("step5-v1.34.9.yaml"), Some(&refused));
    assert_eq!(judgement.verdict, Some(Unexpected));
    let problem = judgement
        .findings
        .iter()
        .find(|f| f.code == "unexpected-outcome")
        .expect("a cause");
    assert!(
        problem.message.contains("expects `refused`")
            && !problem.message.contains("teaches `sidecar-holds-pod`"),
        "{}",
        problem.message
    );
}

/// Two sidecars whose `finishedAt` fall in the same second (a real 1.36 node running the
/// lab's earlier step 7, whose log shipper died of SIGINT at once; only the kubelet's log
/// showed it stopped first) show no order: neither a violation nor a confirmation. With
/// the lab's step 7 as it is now, a real 1.34 node stopped them 2 s apart.
#[test]
fn stops_in_the_same_second_are_order_not_visible() {
    let checks = Checks {
        reverse_stop_order: true,
        ..Checks::default()
    };
    let judgement = judge_expecting(
        &real("step7-v1.36.3.yaml"),
        Some(&expecting(Native, Outcome::Succeeded, checks.clone())),
    );
    assert_eq!(
        judgement.verdict,
        Some(Expected),
        "{:?}",
        judgement.findings
    );
    assert!(codes(&judgement).contains(&"order-not-visible"));
    assert!(
        !codes(&judgement).contains(&"stop-order"),
        "{:?}",
        judgement.findings
    );
    // The lab's step 7 today: each sidecar takes 2 s to stop, so the order shows.
    let apart = judge_expecting(
        &real("step7-v1.34.9-two-second-stops.yaml"),
        Some(&expecting(Native, Outcome::Succeeded, checks)),
    );
    assert_eq!(apart.verdict, Some(Expected), "{:?}", apart.findings);
    assert!(
        codes(&apart).contains(&"stop-order"),
        "{:?}",
        apart.findings
    );
}

/// A restarted sidecar's first start is gone from a finished pod: not a violation.
#[test]
fn one_restart_hides_the_first_start_from_a_final_object() {
    let checks = Checks {
        restarted: vec!["postgres".to_owned()],
        ..Checks::default()
    };
    let judgement = judge_expecting(
        &real("step6-v1.34.9.yaml"),
        Some(&expecting(Native, Outcome::Succeeded, checks)),
    );
    assert_eq!(
        judgement.verdict,
        Some(Expected),
        "{:?}",
        judgement.findings
    );
    assert!(codes(&judgement).contains(&"order-not-visible"));
    assert!(!codes(&judgement).contains(&"main-started-before-sidecar"));
}

/// Admission refuses a Job's pod until the namespace's `default` ServiceAccount exists,
/// which its controller makes a moment after the namespace: a FailedCreate that passes
/// by itself is not `not-admitted`.
#[test]
fn a_refusal_that_passes_by_itself_is_not_not_admitted() {
    let text = String::from_utf8(fixture("native-not-admitted.yaml"))
        .expect("utf-8")
        .replace(
            "exceeded quota:",
            "error looking up service account default/default: serviceaccount \"default\" not found; was:",
        );
    let dump = dump::parse(text.as_bytes()).expect("parses");
    let judgement = judge_expecting(
        &dump,
        Some(&expecting(Native, Outcome::NotAdmitted, Checks::default())),
    );
    assert_ne!(
        judgement.outcome,
        Outcome::NotAdmitted,
        "{}",
        judgement.outcome_message
    );
    assert_eq!(
        judgement.verdict,
        Some(Verdict::Undecided),
        "{:?}",
        judgement.findings
    );
}

// ---- `check --step N`: every step judged from what a learner can paste ----------------
// Each rule has its fixture (tests/fixtures/steps, built from the real node's dumps and
// the Kubernetes source each names) and a negative: the decisive field changed flips it.

use sidecar_lab::lab::{Lab, StepNumber};
use sidecar_lab::observe::refusal;
use sidecar_lab::verdict::step::{Evidence, MinorSource, StepJudgement, judge_step};
use sidecar_lab::version::MinorVersion;

fn step_fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/steps")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` (a YAML List) with its items edited, as JSON.
fn edited(text: &str, edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> String {
    let mut value: serde_json::Value = sidecar_lab::yaml::from_str(text).expect("YAML");
    if let Some(items) = value["items"].as_array_mut() {
        edit(items);
    }
    serde_json::to_string(&value).expect("JSON")
}

fn step_judged(text: &str, number: u32, minor: Option<&str>) -> StepJudgement {
    let evidence = match dump::parse(text.as_bytes()) {
        Ok(dump) => Evidence::Objects(dump),
        Err(_) => Evidence::Refusal(refusal::parse(text).expect("a dump or a refusal")),
    };
    let lab = Lab::embedded().expect("the lab");
    let minor = minor.map(|m| m.parse::<MinorVersion>().expect("a minor"));
    judge_step(&evidence, &lab, StepNumber(number), minor, None).expect("judged")
}

/// (job, outcome, verdict, codes) of each of the step's Jobs.
fn jobs(step: &StepJudgement) -> Vec<(String, Outcome, Option<Verdict>, Vec<&'static str>)> {
    step.jobs
        .iter()
        .map(|j| {
            (
                j.job.clone(),
                j.judgement.outcome,
                j.judgement.verdict,
                codes(&j.judgement),
            )
        })
        .collect()
}

/// Step 4 from the namespace dump the README asks for: each variant judged on its own
/// Job (never on the init Job's pod), the refused ones from their `FailedCreate` events,
/// with the formula beside the API server's number.
#[test]
fn step_4_judges_each_variant_on_its_own_job_from_its_events() {
    let text = step_fixture("step4-namespace-v1.34.yaml");
    let step = step_judged(&text, 4, None);
    assert_eq!(step.verdict, Verdict::Expected, "{:?}", jobs(&step));
    assert_eq!(
        jobs(&step),
        [
            (
                "cy-job-cost-init".to_owned(),
                Outcome::InitRunning,
                Some(Expected),
                vec!["effective-request"]
            ),
            (
                "cy-job-cost-sidecar".to_owned(),
                Outcome::NotAdmitted,
                Some(Expected),
                vec!["effective-request", "quota-exceeded"]
            ),
            (
                "cy-job-cost-native".to_owned(),
                Outcome::NotAdmitted,
                Some(Expected),
                vec!["effective-request", "quota-exceeded"]
            ),
        ]
    );
    let native = &step.jobs[2].judgement;
    assert!(
        native.findings[0]
            .message
            .contains("max(600m, 600m + 600m) = 1200m")
    );
    assert!(native.findings[1].message.contains("they agree"));
    assert_eq!(native.pod, None, "never another Job's pod");

    // Negative: without the events (a dump with `-l`), the refused Jobs are undecided,
    // and the finding says which command carries them.
    let without_events = edited(&text, |items| items.retain(|item| item["kind"] != "Event"));
    let step = step_judged(&without_events, 4, None);
    assert_eq!(step.verdict, Verdict::Undecided);
    let native = &step.jobs[2].judgement;
    assert_eq!(native.verdict, Some(Verdict::Undecided));
    assert!(
        native
            .findings
            .iter()
            .any(|f| f.code == "no-pod" && f.message.contains("kubectl get job,pod,event")),
        "{:?}",
        native.findings
    );
    // Negative: the API server's number differs from the formula's.
    let disagree = edited(&text, |items| {
        for item in items.iter_mut().filter(|i| {
            i["reason"] == "FailedCreate" && i["involvedObject"]["name"] == "cy-job-cost-native"
        }) {
            let message = item["message"]
                .as_str()
                .unwrap_or_default()
                .replace("requests.cpu=1200m", "requests.cpu=600m");
            item["message"] = message.into();
        }
    });
    let step = step_judged(&disagree, 4, None);
    assert_eq!(step.jobs[2].judgement.verdict, Some(Unexpected));
    assert_eq!(step.verdict, Verdict::Unexpected);
}

/// `--variant` alone keeps its meaning; the step's Jobs are found by name even when the
/// namespace holds every other step's objects, and a Job the input lacks is undecided.
#[test]
fn a_step_job_missing_from_the_input_is_undecided_not_another_jobs_verdict() {
    let text = edited(&step_fixture("step4-namespace-v1.34.yaml"), |items| {
        items.retain(|i| i["metadata"]["name"] != "cy-job-cost-native");
    });
    let step = step_judged(&text, 4, None);
    assert_eq!(step.jobs[2].judgement.verdict, Some(Verdict::Undecided));
    assert_eq!(codes(&step.jobs[2].judgement), ["job-missing"]);
}

/// Step 5 on each version, from what the learner has: kubectl's error text or the API's
/// Status body up to 1.33, the namespace dump on 1.34 (the dropped field named from the
/// last-applied annotation) and from 1.35.
#[test]
fn step_5_is_judged_by_the_version_the_input_shows() {
    let said = "The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n";
    let step = step_judged(said, 5, None);
    assert_eq!(step.verdict, Verdict::Expected, "{:?}", jobs(&step));
    assert_eq!(step.jobs[0].judgement.outcome, Outcome::Refused);
    assert_eq!(step.minor.map(|m| m.to_string()).as_deref(), Some("1.33"));
    assert!(matches!(step.minor_source, MinorSource::Inferred(_)));
    let status = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Job.batch \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers","reason":"Invalid","details":{"name":"cy-job-mistake","group":"batch","kind":"Job","causes":[{"reason":"FieldValueForbidden","message":"Forbidden: may not be set for non-init containers","field":"spec.template.spec.containers[1].restartPolicy"}]},"code":422}"#;
    assert_eq!(step_judged(status, 5, None).verdict, Verdict::Expected);
    // Negative: the learner says the cluster runs 1.35, where the Job is accepted.
    let step = step_judged(said, 5, Some("1.35"));
    assert_eq!(step.verdict, Verdict::Unexpected);
    assert!(codes(&step.jobs[0].judgement).contains(&"api-refused"));
    assert!(codes(&step.jobs[0].judgement).contains(&"version-contradicted"));
    // Negative: the version given agrees with what the refusal shows.
    let step = step_judged(said, 5, Some("1.33"));
    assert!(!codes(&step.jobs[0].judgement).contains(&"version-contradicted"));

    let dump = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-cluster/step5-v1.34.9.yaml"),
    )
    .expect("real dump");
    let step = step_judged(&dump, 5, None);
    assert_eq!(step.verdict, Verdict::Expected, "{:?}", jobs(&step));
    assert_eq!(step.minor.map(|m| m.to_string()).as_deref(), Some("1.34"));
    assert!(codes(&step.jobs[0].judgement).contains(&"field-dropped"));
    // Negative: judged as a 1.33 server would teach it, the hanging pod is unexpected.
    assert_eq!(
        step_judged(&dump, 5, Some("1.33")).verdict,
        Verdict::Unexpected
    );
}

/// Step 6: a sidecar the step expects to crash once and be restarted, which never did.
#[test]
fn step_6_says_not_restarted_when_the_crash_never_happened() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-cluster/step6-v1.34.9.yaml");
    let real = std::fs::read_to_string(path).expect("real dump");
    assert_eq!(step_judged(&real, 6, None).verdict, Verdict::Expected);
    let never = edited(&real, |items| {
        for pod in items.iter_mut().filter(|i| {
            i["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("cy-job-crash-"))
        }) {
            // Never crashed: one run, from the pod's start.
            let postgres = &mut pod["status"]["initContainerStatuses"][0];
            postgres["restartCount"] = 0.into();
            postgres["state"]["terminated"]["startedAt"] = "2026-12-06T20:02:50Z".into();
        }
    });
    let step = step_judged(&never, 6, None);
    assert_eq!(step.verdict, Verdict::Unexpected);
    assert!(codes(&step.jobs[0].judgement).contains(&"not-restarted"));
}

/// Step 7: a preStop hook that stops postgres at once runs before the kubelet's ordering
/// wait, so postgres stops 21 s before the log shipper: `stop-order`, naming the hook.
#[test]
fn step_7_says_stop_order_for_an_inversion_and_names_the_prestop_hook() {
    let text = step_fixture("step7-prestop-stops-postgres-first-v1.34.yaml");
    let step = step_judged(&text, 7, None);
    assert_eq!(step.verdict, Verdict::Unexpected);
    let finding = step.jobs[0]
        .judgement
        .findings
        .iter()
        .find(|f| f.code == "stop-order")
        .expect("stop-order");
    assert_eq!(finding.level, sidecar_lab::verdict::Level::Problem);
    assert!(finding.message.contains("preStop"), "{}", finding.message);
    // Negative: the log shipper stopped first, as the kubelet orders it.
    let ordered = text.replace(
        "finishedAt: '2026-12-06T22:15:09Z'",
        "finishedAt: '2026-12-06T22:14:47Z'",
    );
    assert_ne!(ordered, text);
    assert_eq!(step_judged(&ordered, 7, None).verdict, Verdict::Expected);
    // In the same second: not visible, never a violation.
    let same = text.replace(
        "finishedAt: '2026-12-06T22:15:09Z'",
        "finishedAt: '2026-12-06T22:14:48Z'",
    );
    let step = step_judged(&same, 7, None);
    assert_eq!(step.verdict, Verdict::Expected);
    assert!(codes(&step.jobs[0].judgement).contains(&"order-not-visible"));
}

/// After two restarts a running pod's status no longer shows the sidecar's first start:
/// `order-not-visible` while it runs, as once it has finished.
#[test]
fn after_restarts_order_is_not_visible_on_a_running_pod_too() {
    let text = step_fixture("step6-running-after-two-restarts-v1.34.yaml");
    let step = step_judged(&text, 6, None);
    assert_eq!(step.verdict, Verdict::Undecided);
    assert!(codes(&step.jobs[0].judgement).contains(&"order-not-visible"));
    // Negative: one restart, with `lastState` holding the first run: the order shows.
    let once = text.replacen("restartCount: 2", "restartCount: 1", 1);
    assert_ne!(once, text);
    let step = step_judged(&once, 6, None);
    assert!(
        !codes(&step.jobs[0].judgement).contains(&"order-not-visible"),
        "{:?}",
        step.jobs[0].judgement.findings
    );
}

/// A second regular container that works on after `main` is not a holder from one
/// snapshot; once it has exited the Job completes. A watch that saw it hold decides.
#[test]
fn a_second_app_container_still_running_is_undecided_not_a_holder() {
    let running = step_fixture("native-second-app-still-running-v1.34.yaml");
    let step = step_judged(&running, 3, None);
    assert_eq!(step.verdict, Verdict::Undecided, "{:?}", jobs(&step));
    assert_eq!(step.jobs[0].judgement.outcome, Outcome::SidecarHoldsPod);
    assert!(codes(&step.jobs[0].judgement).contains(&"may-still-exit"));
    let exited = step_fixture("native-second-app-exited-v1.34.yaml");
    assert_eq!(step_judged(&exited, 3, None).verdict, Verdict::Expected);
    // A watch that saw it hold past the hold time: unexpected, with a problem.
    let held = sidecar_lab::verdict::held_past(step.jobs[0].judgement.clone(), 12);
    assert_eq!(held.verdict, Some(Unexpected));
    assert!(!codes(&held).contains(&"may-still-exit"));
    unexpected_has_a_problem_judgement(&held);
    // The sidecar variant, whose postgres is a server that never exits, still holds.
    assert_eq!(
        judged(&fixture("sidecar-holds-pod.yaml"), Some(Sidecar)).verdict,
        Some(Expected)
    );
}

fn unexpected_has_a_problem_judgement(judgement: &Judgement) {
    assert!(
        judgement
            .findings
            .iter()
            .any(|f| f.level == sidecar_lab::verdict::Level::Problem),
        "{:?}",
        judgement.findings
    );
}

/// The words say what happened: an OOMKilled sidecar, a pod's own deadline under a Job
/// that failed with BackoffLimitExceeded, a Job that is failing (FailureTarget only).
#[test]
fn messages_say_what_happened() {
    let oom = step_fixture("native-sidecar-oomkilled-v1.34.yaml");
    let step = step_judged(&oom, 3, None);
    let judgement = &step.jobs[0].judgement;
    assert!(
        codes(judgement).contains(&"sidecar-oom-killed"),
        "{:?}",
        judgement.findings
    );
    assert!(
        !judgement
            .findings
            .iter()
            .any(|f| f.message.contains("SIGKILL"))
    );
    // Negative: the same exit code with reason Error is the kubelet's kill.
    let killed = oom.replace("reason: OOMKilled", "reason: Error");
    let judgement = &step_judged(&killed, 3, None).jobs[0].judgement;
    assert!(!codes(judgement).contains(&"sidecar-oom-killed"));
    assert!(
        judgement
            .findings
            .iter()
            .any(|f| f.message.contains("(SIGKILL)"))
    );

    let own = step_fixture("init-pod-deadline-backoff-limit-v1.34.yaml");
    let judgement = &step_judged(&own, 1, None).jobs[0].judgement;
    let deadline = judgement
        .findings
        .iter()
        .find(|f| f.code == "deadline-exceeded")
        .expect("deadline-exceeded");
    assert!(
        deadline
            .message
            .contains("the pod's own activeDeadlineSeconds (60 s)")
            && deadline.message.contains("BackoffLimitExceeded")
            && !deadline.message.contains("ended the Job"),
        "{}",
        deadline.message
    );
    // Negative: the Job's own deadline ended the Job.
    let by_job = own.replace("reason: BackoffLimitExceeded", "reason: DeadlineExceeded");
    let judgement = &step_judged(&by_job, 1, None).jobs[0].judgement;
    assert!(
        judgement
            .findings
            .iter()
            .any(|f| f.code == "deadline-exceeded"
                && f.message
                    .starts_with("the Job's activeDeadlineSeconds ended the Job")),
        "{:?}",
        judgement.findings
    );

    let failing = step_fixture("sidecar-failure-target-only-v1.34.yaml");
    let judgement = &step_judged(&failing, 2, None).jobs[0].judgement;
    assert!(
        judgement.outcome_message.starts_with("the Job is failing")
            && judgement.outcome_message.contains("FailureTarget"),
        "{}",
        judgement.outcome_message
    );
    // Negative: with `Failed` written, the Job has failed.
    let failed = failing.replace("type: FailureTarget", "type: Failed");
    let judgement = &step_judged(&failed, 2, None).jobs[0].judgement;
    assert!(
        judgement.outcome_message.starts_with("the Job failed"),
        "{}",
        judgement.outcome_message
    );
}

/// What a blind review found `check --step` taking for a lesson, each with its negative.
#[test]
fn another_steps_dump_is_never_judged_as_this_step() {
    // Step 7's pod, asked about as step 3: step 3's Job is not in it, and the objects say
    // which step they are.
    let seven = step_fixture("step7-prestop-stops-postgres-first-v1.34.yaml");
    let step = step_judged(&seven, 3, None);
    assert_eq!(step.verdict, Verdict::Undecided, "{:?}", jobs(&step));
    assert!(codes(&step.jobs[0].judgement).contains(&"job-missing"));
    // Negative: without the lab's labels and names (a learner's own copy), the pod laid
    // out as the variant is judged.
    let own = edited(&seven, |items| {
        for item in items.iter_mut() {
            item["metadata"]["labels"] = serde_json::json!({});
            item["metadata"]["ownerReferences"] = serde_json::json!([]);
        }
    });
    let step = step_judged(&own, 3, None);
    assert_ne!(step.verdict, Verdict::Undecided, "{:?}", jobs(&step));
}

#[test]
fn a_refusal_for_another_reason_is_not_the_lesson() {
    let other = "The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[0].image: Required value\n";
    let step = step_judged(other, 5, Some("1.33"));
    assert_eq!(step.verdict, Verdict::Unexpected, "{:?}", jobs(&step));
    assert!(
        step.jobs[0].judgement.findings[0]
            .message
            .contains("another reason")
    );
    // Another Job's refusal is not this step's.
    let elsewhere = "The Job \"my-job\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n";
    assert_eq!(step_judged(elsewhere, 5, None).verdict, Verdict::Undecided);
    // Negative: the step's own Job, for the cause it teaches.
    let taught = "The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n";
    assert_eq!(
        step_judged(taught, 5, Some("1.33")).verdict,
        Verdict::Expected
    );
    // A refusal that names no Job is the step's own Job's, not every variant's.
    let step = step_judged(
        "Error from server (Invalid): error when creating \"x.yaml\": something: Invalid value\n",
        4,
        None,
    );
    assert_eq!(step.jobs[0].judgement.outcome, Outcome::Refused);
    assert!(
        step.jobs[1..]
            .iter()
            .all(|j| codes(&j.judgement) == ["job-missing"])
    );
}

#[test]
fn a_steps_checks_without_the_pod_are_undecided_and_one_sidecar_has_no_order() {
    let real = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-cluster/step6-v1.34.9.yaml"),
    )
    .expect("real dump");
    let job_only = edited(&real, |items| {
        items.retain(|i| i["kind"] == "Job" && i["metadata"]["name"] == "cy-job-crash");
    });
    let step = step_judged(&job_only, 6, None);
    assert_eq!(step.verdict, Verdict::Undecided, "{:?}", jobs(&step));
    assert!(!codes(&step.jobs[0].judgement).contains(&"not-restarted"));
    // Step 7 with one sidecar: no order to see, a problem.
    let seven = step_fixture("step7-prestop-stops-postgres-first-v1.34.yaml");
    let one = edited(&seven, |items| {
        for pod in items.iter_mut() {
            if let Some(inits) = pod["spec"]["initContainers"].as_array_mut() {
                inits.retain(|c| c["name"] == "postgres");
            }
            if let Some(statuses) = pod["status"]["initContainerStatuses"].as_array_mut() {
                statuses.retain(|c| c["name"] == "postgres");
            }
        }
    });
    let step = step_judged(&one, 7, None);
    assert_eq!(step.verdict, Verdict::Unexpected);
    assert!(
        step.jobs[0]
            .judgement
            .findings
            .iter()
            .any(|f| f.code == "stop-order" && f.message.contains("1 sidecar"))
    );
}

/// The quota's message lists every exceeded resource by name: the CPU request is found
/// by its name, not by its place.
#[test]
fn the_quota_number_is_the_cpu_request_whatever_comes_first() {
    let text = step_fixture("step4-namespace-v1.34.yaml");
    let limits = edited(&text, |items| {
        for event in items.iter_mut().filter(|i| i["reason"] == "FailedCreate") {
            let message = event["message"]
                .as_str()
                .unwrap_or_default()
                .replace("requested: requests.cpu=1200m, used: requests.cpu=600m, limited: requests.cpu=1", "requested: limits.cpu=2,requests.cpu=1200m, used: limits.cpu=1,requests.cpu=600m, limited: limits.cpu=2,requests.cpu=1")
                .replace(",requests.cpu", ", requests.cpu");
            event["message"] = message.into();
        }
    });
    assert_ne!(limits, edited(&text, |_| {}));
    let step = step_judged(&limits, 4, None);
    assert_eq!(step.verdict, Verdict::Expected, "{:?}", jobs(&step));
}

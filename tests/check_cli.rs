//! `sidecar-lab check` as a user runs it: text and JSON reports, exit codes, standard
//! input, and bad input that must give one clear line and status 2.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

fn dump(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dumps")
        .join(name)
        .display()
        .to_string()
}

fn check(args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut command = Command::cargo_bin("sidecar-lab").expect("built");
    command.arg("check").args(args).env("NO_COLOR", "1");
    if let Some(bytes) = stdin {
        command.write_stdin(bytes);
    }
    command.output().expect("runs")
}

fn text(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

#[test]
fn reports_for_the_three_lessons_and_the_two_classic_failures() {
    let cases = [
        ("init", "init-running.yaml", 0),
        ("sidecar", "sidecar-holds-pod.yaml", 0),
        ("native", "native-watch.yaml", 0),
        ("native", "native-1.28-sidecar-stopped-first.yaml", 1),
        ("native", "native-gate-off.yaml", 1),
        ("native", "native-running.yaml", 3),
        ("native", "image-pull-failed.yaml", 1),
    ];
    for (variant, name, code) in cases {
        let output = check(&["--variant", variant, "--from", &dump(name)], None);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        insta::assert_snapshot!(
            format!("check_{}", name.replace(['.', '-'], "_")),
            text(&output)
        );
    }
}

#[test]
fn json_report() {
    let output = check(
        &[
            "--variant",
            "native",
            "--from",
            &dump("native-succeeded-exit-143.json"),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["outcome"], "succeeded");
    assert_eq!(report["verdict"], "expected");
    assert_eq!(report["timeline"][0]["role"], "sidecar");
    assert_eq!(report["timeline"][0]["exit_code"], 143);
    assert_eq!(report["timeline"][1]["started"], "2026-11-20T10:00:03Z");
    insta::assert_json_snapshot!(report);
}

#[test]
fn without_a_variant_there_is_no_verdict_and_status_0() {
    let output = check(
        &[
            "--from",
            &dump("sidecar-holds-pod.yaml"),
            "--output",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["outcome"], "sidecar-holds-pod");
    assert!(report["verdict"].is_null());
}

#[test]
fn reads_standard_input() {
    let bytes = std::fs::read(dump("native-watch.json")).expect("fixture");
    let output = check(
        &["--variant", "native", "--from", "-", "-o", "json"],
        Some(bytes),
    );
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["verdict"], "expected");
}

#[test]
fn bad_input_gives_one_line_and_status_2() {
    // Arguments, standard input, and what the error line must say.
    type Case = (Vec<String>, Option<Vec<u8>>, &'static str);

    let dir = tempfile::tempdir().expect("temp dir");
    let service = dir.path().join("service.yaml");
    std::fs::write(
        &service,
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
    )
    .expect("write");
    let cases: [Case; 6] = [
        (
            vec!["--from".into(), "no/such/dump.yaml".into()],
            None,
            "cannot read `no/such/dump.yaml`",
        ),
        (
            vec!["--from".into(), "-".into()],
            Some(b"kind: [Pod\n".to_vec()),
            "neither YAML nor JSON",
        ),
        (
            vec!["--from".into(), "-".into()],
            Some(vec![0xff, 0xff, 0x00]),
            "not UTF-8",
        ),
        (
            vec!["--from".into(), "-".into()],
            Some(vec![0xff, 0xfe, b'k']),
            "starts with a UTF-16LE byte-order mark but is not UTF-16LE text",
        ),
        (
            vec!["--from".into(), service.display().to_string()],
            None,
            "holds no Pod or Job",
        ),
        (
            vec!["--from".into(), "-".into()],
            Some(br#"{"kind":"Pod","spec":{"containers":7}}"#.to_vec()),
            "is not a valid Pod",
        ),
    ];
    for (args, stdin, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = check(&args, stdin);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn after_the_deadline_a_job_alone_is_undecided_with_status_3_in_text_and_json() {
    for format in ["text", "json"] {
        let output = check(
            &[
                "--variant",
                "sidecar",
                "--from",
                &dump("sidecar-deadline-job-only.yaml"),
                "--output",
                format,
            ],
            None,
        );
        assert_eq!(output.status.code(), Some(3), "{}", text(&output));
        let shown = text(&output);
        assert!(
            shown.contains("no-pod") && shown.contains("deadline-exceeded"),
            "{shown}"
        );
        assert!(
            shown.contains("while the pod still exists"),
            "the hint: {shown}"
        );
        assert!(!shown.contains("no container has started yet"), "{shown}");
    }
}

#[test]
fn deeply_nested_input_is_refused_at_once() {
    let started = std::time::Instant::now();
    let output = check(&["--from", "-"], Some("[".repeat(100_000).into_bytes()));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("nests deeper than 256 levels"), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "debug build, with process start"
    );
}

#[test]
fn the_rules_give_the_same_verdict_and_exit_status_in_text_and_json() {
    for (name, variant, status, verdict) in [
        ("init-deadline-job-only.yaml", "init", 3, "undecided"),
        ("sidecar-deadline-shell-exit.yaml", "sidecar", 0, "expected"),
        (
            "native-sidecar-restarted-often.yaml",
            "native",
            0,
            "expected",
        ),
        (
            "native-succeeded-stale-crashloop.yaml",
            "native",
            0,
            "expected",
        ),
        ("init-pulling.yaml", "init", 3, "undecided"),
        ("native-recreated-job.yaml", "native", 3, "undecided"),
        ("init-oomkilled.yaml", "init", 1, "unexpected"),
        ("sidecar-postgres-stopped.yaml", "sidecar", 1, "unexpected"),
        ("native-node-lost.yaml", "native", 3, "undecided"),
        (
            "native-startup-probe-failing.yaml",
            "native",
            3,
            "undecided",
        ),
    ] {
        let file = dump(name);
        let json = check(&["--variant", variant, "--from", &file, "-o", "json"], None);
        assert_eq!(json.status.code(), Some(status), "{name}: {}", text(&json));
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
        assert_eq!(report["verdict"], verdict, "{name}");
        let plain = check(&["--variant", variant, "--from", &file], None);
        assert_eq!(plain.status.code(), Some(status), "{name}");
        let shown = text(&plain);
        assert!(
            shown.contains(&format!("verdict   {verdict}")),
            "{name}: {shown}"
        );
        for finding in report["findings"].as_array().expect("findings") {
            let code = finding["code"].as_str().expect("code");
            assert!(
                shown.contains(&format!("{code}:")),
                "{name}: {code} missing in:\n{shown}"
            );
        }
    }
}

/// The dumps a real Kubernetes node left after each step (v1.34.9 and v1.36.3,
/// `kubectl get job,pod -o yaml` right after the step) are judged as the step teaches,
/// with the findings that say what that version did. The step 7 dumps come from the lab's
/// earlier step 7 (a log shipper that trapped only TERM and died of SIGINT, exit 130);
/// `step7-v1.34.9-two-second-stops.yaml` is the step as it is now.
#[test]
fn dumps_from_real_nodes_are_judged_right() {
    // (file, variant, outcome, findings that must be there, findings that must not)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a [&'a str]);

    let real = |name: &str| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-cluster")
            .join(name)
            .display()
            .to_string()
    };
    let cases: [Case; 10] = [
        ("step1-v1.34.9.yaml", "init", "init-running", &[], &[]),
        (
            "step2-v1.34.9.yaml",
            "sidecar",
            "sidecar-holds-pod",
            &[],
            &["field-dropped"],
        ),
        ("step3-v1.34.9.yaml", "native", "succeeded", &[], &[]),
        ("step4-v1.34.9.yaml", "init", "init-running", &[], &[]),
        // 1.34 accepts the mistake and drops the field: what was sent is not what was kept.
        (
            "step5-v1.34.9.yaml",
            "sidecar",
            "sidecar-holds-pod",
            &["field-dropped"],
            &[],
        ),
        // 1.36 keeps it: nothing was dropped, the pod hangs all the same.
        (
            "step5-v1.36.3.yaml",
            "sidecar",
            "sidecar-holds-pod",
            &[],
            &["field-dropped"],
        ),
        // One restart hides the first start from the final object: not a violation.
        (
            "step6-v1.34.9.yaml",
            "native",
            "succeeded",
            &["sidecar-restarted", "order-not-visible"],
            &["main-started-before-sidecar"],
        ),
        (
            "step7-v1.34.9.yaml",
            "native",
            "succeeded",
            &["sidecar-exit-code"],
            &[],
        ),
        (
            "step7-v1.36.3.yaml",
            "native",
            "succeeded",
            &[],
            &["stop-order"],
        ),
        (
            "step7-v1.34.9-two-second-stops.yaml",
            "native",
            "succeeded",
            &[],
            &["sidecar-exit-code", "main-started-before-sidecar"],
        ),
    ];
    for (name, variant, outcome, present, absent) in cases {
        let output = check(
            &["--variant", variant, "--from", &real(name), "-o", "json"],
            None,
        );
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("check prints JSON");
        assert_eq!(output.status.code(), Some(0), "{name}: {report:#}");
        assert_eq!(report["verdict"], "expected", "{name}: {report:#}");
        assert_eq!(report["outcome"], outcome, "{name}: {report:#}");
        let codes: Vec<&str> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect();
        for code in present {
            assert!(codes.contains(code), "{name}: no `{code}` in {codes:?}");
        }
        for code in absent {
            assert!(!codes.contains(code), "{name}: `{code}` in {codes:?}");
        }
    }
}

fn step_fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/steps")
        .join(name)
        .display()
        .to_string()
}

/// `check --step N` as a learner runs it: the whole step's report (each Job on its own),
/// its JSON, and the two ways it refuses to guess.
#[test]
fn a_step_is_judged_as_step_n_judges_it() {
    let namespace = step_fixture("step4-namespace-v1.34.yaml");
    let output = check(&["--step", "4", "--from", &namespace], None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    insta::assert_snapshot!("check_step_4_namespace", text(&output));
    let output = check(&["--step", "4", "--from", &namespace, "-o", "json"], None);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["step"], 4);
    assert_eq!(report["verdict"], "expected");
    let outcomes: Vec<&str> = report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["outcome"].as_str())
        .collect();
    assert_eq!(outcomes, ["init-running", "not-admitted", "not-admitted"]);
    // Only the native variant's Job.
    let output = check(
        &[
            "--step",
            "4",
            "--variant",
            "native",
            "--from",
            &namespace,
            "-o",
            "json",
        ],
        None,
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["jobs"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["jobs"][0]["job"], "cy-job-cost-native");

    // A namespace of several steps, without --step: which one is for the learner to say.
    let output = check(&["--from", &namespace], None);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("steps 1, 2, 3, 4") && stderr.contains("--step N"),
        "{stderr}"
    );
    // One step's objects name their step themselves.
    let output = check(
        &[
            "--from",
            &step_fixture("step7-prestop-stops-postgres-first-v1.34.yaml"),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["step"], 7);

    // Step 5 before 1.34: what the learner has is kubectl's error.
    let refused = b"The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n".to_vec();
    let output = check(
        &["--step", "5", "--from", "-", "-o", "json"],
        Some(refused.clone()),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["jobs"][0]["outcome"], "refused");
    assert_eq!(report["kubernetes"], "1.33");
    let output = check(
        &["--step", "5", "-k", "1.35", "--from", "-"],
        Some(refused.clone()),
    );
    assert_eq!(output.status.code(), Some(1));
    let output = check(&["--from", "-"], Some(refused));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--step N"));
    // A step the lab does not have.
    let output = check(&["--step", "9", "--from", &namespace], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no step 9"));
}

#[test]
fn a_key_given_twice_is_refused_with_the_key_and_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = std::fs::read_to_string(dump("native-succeeded.yaml")).expect("fixture");
    // The Job's name given twice, as a careless edit of the dump would.
    let at = yaml.find("\n    name: ").expect("the Job's name") + 1;
    let twice = format!("{}    name: again\n{}", &yaml[..at], &yaml[at..]);
    let line = twice[..at].lines().count() + 2;
    let json = {
        let value = as_json(&yaml);
        let text = serde_json::to_string_pretty(&value).expect("JSON");
        let at = text.find("\"uid\"").expect("a uid");
        let line = text[..at].lines().count() + 1;
        (
            format!("{}\"uid\": \"other\",\n{}", &text[..at], &text[at..]),
            line,
        )
    };
    for (name, text, key, line) in [
        ("twice.yaml", twice, "name", line),
        ("twice.json", json.0, "uid", json.1),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        let path = path.display().to_string();
        let output = check(&["--variant", "native", "--from", &path], None);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
        let said = format!("duplicate key `{key}` at line {line} (kubectl refuses this too");
        assert!(stderr.contains(&said), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}");
    }
}

/// The first document of `yaml` as a JSON value, read by the crate's own YAML module.
fn as_json(yaml: &str) -> serde_json::Value {
    let (documents, error) = sidecar_lab::yaml::documents(yaml);
    assert!(error.is_none(), "{error:?}");
    documents.into_iter().next().expect("one document")
}

#[test]
fn utf16_with_a_byte_order_mark_is_judged_as_its_utf8_twin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let utf8 = std::fs::read_to_string(dump("native-succeeded.yaml")).expect("fixture");
    // What Windows PowerShell 5.1 writes for `kubectl get pod,job -o yaml > dump.yaml`.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(utf8.encode_utf16().flat_map(u16::to_le_bytes));
    let path = dir.path().join("powershell.yaml");
    std::fs::write(&path, utf16).expect("write");
    let path = path.display().to_string();
    for format in ["text", "json"] {
        let twin = check(
            &[
                "--variant",
                "native",
                "--from",
                &dump("native-succeeded.yaml"),
                "-o",
                format,
            ],
            None,
        );
        let output = check(
            &["--variant", "native", "--from", &path, "-o", format],
            None,
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(text(&output), text(&twin));
    }
}

/// kubectl's own failures, a version sidecar-lab does not know, and a step the version
/// skips: each refused with one line that says what it is (exit 2).
#[test]
fn what_is_not_a_step_to_judge_is_said_in_one_line() {
    let rbac = b"Error from server (Forbidden): error when creating \"step-5-sidecar.yaml\": jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"lab\"\n".to_vec();
    let down = b"E1207 10:00:00.000000   12345 memcache.go:265] couldn't get current server API group list\nThe connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n".to_vec();
    let rbac_status = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"lab\"","reason":"Forbidden","details":{"group":"batch","kind":"jobs"},"code":403}"#.to_vec();
    for (input, said) in [
        (rbac, "kubectl's own error"),
        (down, "The connection to the server"),
        (rbac_status, "refuses no Job"),
    ] {
        let output = check(&["--step", "5", "--from", "-"], Some(input));
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
    }
    let namespace = step_fixture("step4-namespace-v1.34.yaml");
    let output = check(&["--step", "5", "-k", "1.99", "--from", &namespace], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("1.28"));
    let seven = step_fixture("step7-prestop-stops-postgres-first-v1.34.yaml");
    let output = check(&["--step", "7", "-k", "1.28", "--from", &seven], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("skips it"));
    // Negative: on 1.34 the same dump is judged (and the preStop inversion is unexpected).
    let output = check(&["--step", "7", "-k", "1.34", "--from", &seven], None);
    assert_eq!(output.status.code(), Some(1));
}

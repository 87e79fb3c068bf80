//! The command line as a user meets it: every rendered file, table and error message
//! is a snapshot, and every exit status is asserted.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

use std::process::Output;

use assert_cmd::Command;

fn sidecar_lab(args: &[&str]) -> Output {
    Command::cargo_bin("sidecar-lab")
        .expect("the binary is built")
        .args(args)
        .env_remove("SIDECAR_LAB_MIRROR")
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("the binary runs")
}

/// Standard output of a command that must succeed.
fn stdout(args: &[&str]) -> String {
    let output = sidecar_lab(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty(), "{args:?} wrote to stderr");
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Standard error of a command that must fail with `code`; nothing on standard output.
fn failure(args: &[&str], code: i32) -> String {
    let output = sidecar_lab(args);
    assert_eq!(output.status.code(), Some(code), "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?} wrote to stdout");
    String::from_utf8(output.stderr).expect("utf-8")
}

#[test]
fn job_of_each_variant() {
    for variant in ["init", "sidecar", "native"] {
        insta::assert_snapshot!(
            format!("job_{variant}"),
            stdout(&[
                "render",
                "job",
                "--variant",
                variant,
                "--kubernetes",
                "1.37"
            ])
        );
    }
}

#[test]
fn job_on_1_28_warns_about_the_gate() {
    insta::assert_snapshot!(stdout(&[
        "render",
        "job",
        "--variant",
        "native",
        "-k",
        "1.28"
    ]));
}

#[test]
fn job_name_can_be_chosen() {
    let text = stdout(&[
        "render",
        "job",
        "--variant",
        "native",
        "--name",
        "learner-7-native",
    ]);
    assert!(text.contains("\n  name: learner-7-native\n"), "{text}");
}

#[test]
fn kind_config_for_1_28_1_32_and_the_newest() {
    for minor in ["1.28", "1.32", "1.37"] {
        insta::assert_snapshot!(
            format!("config_{}", minor.replace('.', "_")),
            stdout(&["render", "config", "--kubernetes", minor])
        );
    }
}

#[test]
fn kind_config_defaults_to_the_newest_minor() {
    assert_eq!(
        stdout(&["render", "config"]),
        stdout(&["render", "config", "-k", "1.37"])
    );
}

#[test]
fn kind_config_with_the_gate_turned_off() {
    insta::assert_snapshot!(stdout(&[
        "render",
        "config",
        "-k",
        "1.30",
        "--sidecar-gate",
        "off",
        "--name",
        "gate-off"
    ]));
}

#[test]
fn no_kind_config_from_1_33_on_names_the_gate() {
    for minor in 33..=37 {
        let text = stdout(&["render", "config", "-k", &format!("1.{minor}")]);
        let yaml: String = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(
            !yaml.contains("SidecarContainers") && !yaml.contains("featureGates"),
            "{text}"
        );
    }
}

#[test]
fn turning_the_gate_off_where_it_is_locked_is_refused() {
    insta::assert_snapshot!(failure(
        &["render", "config", "-k", "1.37", "--sidecar-gate", "off"],
        2
    ));
}

#[test]
fn diff_from_init_to_native() {
    insta::assert_snapshot!(stdout(&["render", "diff"]));
}

#[test]
fn diff_from_init_to_sidecar() {
    insta::assert_snapshot!(stdout(&[
        "render", "diff", "--from", "init", "--to", "sidecar"
    ]));
}

#[test]
fn lab_steps() {
    insta::assert_snapshot!(stdout(&["render", "lab", "--namespace", "learner-1"]));
}

#[test]
fn a_lab_file_with_an_unknown_field_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lab.yaml");
    let text = include_str!("../labs/native-sidecar.yaml").replacen("whatYouSee", "whatYouSaw", 1);
    std::fs::write(&path, text).expect("write");
    let stderr = failure(
        &["render", "lab", "--lab", path.to_str().expect("utf-8 path")],
        2,
    );
    assert!(stderr.starts_with("error: lab file `"), "{stderr}");
    assert!(stderr.contains("unknown field `whatYouSaw`"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Issue 22: a lab file's `edit` cannot make the Job privileged; the refusal names the
/// file, the step and the field, and nothing is run.
#[test]
fn a_lab_file_whose_edit_adds_privilege_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lab.yaml");
    let text = include_str!("../labs/native-sidecar.yaml").replacen(
        "    edit:\n      containers:\n        postgres:\n          restartPolicy: Always\n",
        "    edit:\n      pod:\n        volumes:\n          - name: host\n            hostPath: {path: /}\n      containers:\n        postgres:\n          restartPolicy: Always\n          securityContext: {privileged: true}\n",
        1,
    );
    assert_ne!(text, include_str!("../labs/native-sidecar.yaml"));
    std::fs::write(&path, text).expect("write");
    let stderr = failure(
        &["render", "lab", "--lab", path.to_str().expect("utf-8 path")],
        2,
    );
    insta::assert_snapshot!(stderr.replace(path.to_str().expect("utf-8 path"), "LAB"));
}

/// Issue 22: nor can an `edit` give the Job an identity, a node or a priority: each field
/// is named with the file and the step.
#[test]
fn a_lab_file_whose_edit_reaches_past_the_namespace_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lab.yaml");
    let text = include_str!("../labs/native-sidecar.yaml").replacen(
        "    edit:\n      containers:\n        postgres:\n          restartPolicy: Always\n",
        "    edit:\n      pod:\n        serviceAccountName: learner\n        automountServiceAccountToken: true\n        nodeName: kind-control-plane\n        priorityClassName: system-node-critical\n        volumes:\n          - name: token\n            projected:\n              sources:\n                - serviceAccountToken: {path: token}\n      containers:\n        postgres:\n          restartPolicy: Always\n",
        1,
    );
    assert_ne!(text, include_str!("../labs/native-sidecar.yaml"));
    std::fs::write(&path, text).expect("write");
    let stderr = failure(
        &["render", "lab", "--lab", path.to_str().expect("utf-8 path")],
        2,
    );
    insta::assert_snapshot!(stderr.replace(path.to_str().expect("utf-8 path"), "LAB"));
}

#[test]
fn a_missing_lab_file_is_named() {
    let stderr = failure(&["render", "lab", "--lab", "no/such/lab.yaml"], 2);
    assert!(
        stderr.contains("cannot read lab file `no/such/lab.yaml`"),
        "{stderr}"
    );
}

#[test]
fn versions_table() {
    insta::assert_snapshot!(stdout(&["versions"]));
}

#[test]
fn versions_json() {
    let text = stdout(&["versions", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["default"], "1.37");
    assert_eq!(json["kubernetes"].as_array().map(Vec::len), Some(10));
    assert_eq!(json["kubernetes"][0]["sidecarGate"], "required");
    insta::assert_snapshot!(text);
}

#[test]
fn bad_values_exit_2_with_one_line_listing_what_is_allowed() {
    let cases: [&[&str]; 6] = [
        &["render", "job", "--variant", "initial"],
        &[
            "render",
            "job",
            "--variant",
            "native",
            "--kubernetes",
            "1.27",
        ],
        &[
            "render",
            "job",
            "--variant",
            "native",
            "--kubernetes",
            "latest",
        ],
        &["render", "job", "--variant", "native", "--name", "Cy_Job"],
        &["render", "config", "--name", "Lab!"],
        &["versions", "--output", "yaml"],
    ];
    let mut report = String::new();
    for args in cases {
        let stderr = failure(args, 2);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        report.push_str(&format!("{}\n{stderr}\n", args.join(" ")));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn help_lists_every_command() {
    insta::assert_snapshot!(stdout(&["--help"]));
}

#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"))
        .args(["render", "lab"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("the binary ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn version_names_the_commit_and_the_target() {
    let out = stdout(&["--version"]);
    let (name, rest) = out.trim().split_once(' ').expect("name and version");
    assert_eq!(name, "sidecar-lab");
    assert!(rest.starts_with(env!("CARGO_PKG_VERSION")), "{out}");
    let inside = rest
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .expect("(commit, target)");
    let (commit, target) = inside.split_once(", ").expect("commit, target");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{out}"
    );
    assert!(
        target.contains("-linux-") || target.contains("-apple-"),
        "{out}"
    );
}

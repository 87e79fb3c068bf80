//! `sidecar-lab exercise` and what `submit` does before it reaches a cluster: the files
//! written and kept, the list, and the errors a learner meets first. (The answers on a
//! cluster: `tests/exercises.rs`.)
#![allow(
    clippy::disallowed_methods,
    reason = "integration tests set up files and processes directly"
)]

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("sidecar-lab")
        .expect("the binary is built")
        .current_dir(dir)
        .args(args)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("NO_COLOR", "1")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_exercises_are_listed_for_people_and_scripts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listed = run(dir.path(), &["exercise"]);
    assert!(listed.status.success());
    insta::assert_snapshot!(text(&listed.stdout));
    let json = run(dir.path(), &["exercise", "-o", "json"]);
    let all: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(all.as_array().map(Vec::len), Some(3));
    assert_eq!(all[2]["minKubernetes"], "1.29");
}

#[test]
fn an_exercise_is_written_and_the_learners_work_is_never_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = run(dir.path(), &["exercise", "1"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).starts_with("# Exercise 1: Make the Job complete"));
    let job = dir.path().join("exercise-1/job.yaml");
    let manifest = std::fs::read_to_string(&job).expect("job.yaml");
    assert!(
        manifest.contains("name: exercise-1")
            && (manifest.contains("sidecar-lab/exercise: '1'")
                || manifest.contains("sidecar-lab/exercise: \"1\"")),
        "{manifest}"
    );
    assert!(dir.path().join("exercise-1/TASK.md").is_file());
    // Again, unchanged: written again without a word.
    assert!(run(dir.path(), &["exercise", "1"]).status.success());
    // Edited: kept, and said how to go on.
    std::fs::write(&job, format!("{manifest}# mine\n")).expect("edit");
    let refused = run(dir.path(), &["exercise", "1"]);
    assert_eq!(refused.status.code(), Some(2));
    let error = text(&refused.stderr);
    assert!(
        error.contains("your work is kept") && error.contains("--force"),
        "{error}"
    );
    assert!(
        std::fs::read_to_string(&job)
            .expect("kept")
            .ends_with("# mine\n")
    );
    assert!(
        run(dir.path(), &["exercise", "1", "--force"])
            .status
            .success()
    );
    assert_eq!(std::fs::read_to_string(&job).expect("job"), manifest);
}

#[test]
fn a_missing_answer_or_exercise_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = run(dir.path(), &["submit", "2"]);
    assert_eq!(missing.status.code(), Some(2));
    let error = text(&missing.stderr);
    assert!(
        error.contains("exercise-2/job.yaml") && error.contains("sidecar-lab exercise 2"),
        "{error}"
    );
    let none = run(dir.path(), &["exercise", "9"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        text(&none.stderr).contains("there are exercises 1 to 3"),
        "{}",
        text(&none.stderr)
    );
    let zero = run(dir.path(), &["submit", "0"]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(text(&zero.stderr).contains("not an exercise number"));
}

#[test]
fn a_dry_run_reads_the_answer_and_prints_what_it_would_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(run(dir.path(), &["exercise", "3"]).status.success());
    let dry = run(
        dir.path(),
        &["submit", "3", "--dry-run", "--context", "nowhere"],
    );
    let out = text(&dry.stdout);
    assert!(dry.status.success(), "{}\n{}", out, text(&dry.stderr));
    assert!(out.contains("reads as one Job"), "{out}");
    for command in [
        "delete job exercise-3",
        "apply --dry-run=server -f",
        "get jobs,pods -l sidecar-lab/exercise=3",
    ] {
        assert!(out.contains(command), "{command} in {out}");
    }
    assert!(
        !dir.path().join("state/sidecar-lab/state.json").exists(),
        "a dry run keeps nothing"
    );
}

#[test]
fn an_answer_that_is_not_one_job_is_refused_before_any_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
    )
    .expect("write");
    let refused = run(
        dir.path(),
        &[
            "submit",
            "1",
            "pod.yaml",
            "--dry-run",
            "--context",
            "nowhere",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stdout).contains("cannot be read as one Job"),
        "{}",
        text(&refused.stdout)
    );
}

#[test]
fn an_answer_that_asks_for_privilege_is_not_sent() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(run(dir.path(), &["exercise", "1"]).status.success());
    let job = dir.path().join("exercise-1/job.yaml");
    let manifest = std::fs::read_to_string(&job).expect("job.yaml");
    let privileged = manifest.replacen(
        "      restartPolicy: Never\n",
        "      restartPolicy: Never\n      hostNetwork: true\n      serviceAccountName: learner\n",
        1,
    );
    assert_ne!(privileged, manifest);
    std::fs::write(&job, privileged).expect("write");
    let refused = run(
        dir.path(),
        &["submit", "1", "--dry-run", "--context", "nowhere"],
    );
    assert_eq!(refused.status.code(), Some(2));
    let error = text(&refused.stderr);
    assert!(
        error.contains("spec.template.spec.hostNetwork") && error.contains("serviceAccountName"),
        "{error}"
    );
}

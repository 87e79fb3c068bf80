//! Every rendered Job passes strict validation against the official Kubernetes OpenAPI
//! schemas of every minor in the version matrix, checked offline by the PyPI package
//! `kubernetes-validate` (`scripts/test.sh` installs it). Negative controls prove the
//! validator really rejects what it should.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sidecar_lab::matrix::VersionMatrix;
use sidecar_lab::render;
use sidecar_lab::variant::Variant;
use sidecar_lab::version::MinorVersion;

fn validator() -> String {
    let program = std::env::var("SIDECAR_LAB_KUBERNETES_VALIDATE")
        .unwrap_or_else(|_| "kubernetes-validate".to_owned());
    let found = Command::new(&program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{program}` is not installed: run scripts/test.sh, which installs it, or `pip install kubernetes-validate`"
    );
    program
}

/// Runs the strict validator for `minor` over `files`: (success, combined output).
fn validate(minor: &str, files: &[PathBuf]) -> (bool, String) {
    let output = Command::new(validator())
        .args(["--strict", "--kubernetes-version", minor])
        .args(files)
        .output()
        .expect("the validator runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn write_variants(dir: &Path, minor: MinorVersion) -> Vec<PathBuf> {
    let matrix = VersionMatrix::embedded().expect("matrix");
    let release = matrix.release(minor).expect("supported minor");
    Variant::ALL
        .into_iter()
        .map(|variant| {
            let path = dir.join(format!("{minor}-{variant}.yaml"));
            let text = render::job_manifest(variant, None, release).expect("renders");
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect()
}

#[test]
fn every_variant_validates_strictly_on_every_supported_minor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let matrix = VersionMatrix::embedded().expect("matrix");
    for release in &matrix.kubernetes {
        let files = write_variants(dir.path(), release.minor);
        let (ok, output) = validate(&release.minor.to_string(), &files);
        assert!(ok, "Kubernetes {}:\n{output}", release.minor);
        assert_eq!(
            output.matches(" passed for resource ").count(),
            3,
            "{output}"
        );
    }
}

#[test]
fn an_unknown_field_fails_strict_validation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_variants(dir.path(), MinorVersion::new(1, 37));
    let text = std::fs::read_to_string(&files[2]).expect("read");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        text.replacen("backoffLimit: 0", "backoffLimit: 0\n  bogus: 1", 1),
    )
    .expect("write");
    let (ok, output) = validate("1.37", &[broken]);
    assert!(!ok && output.contains("'bogus' was unexpected"), "{output}");
}

#[test]
fn the_native_job_needs_kubernetes_1_28() {
    // Before 1.28 the API has no `restartPolicy` on containers: the native Job is refused.
    let dir = tempfile::tempdir().expect("temp dir");
    let files = write_variants(dir.path(), MinorVersion::new(1, 28));
    let (ok, output) = validate("1.27", &files[2..]);
    assert!(
        !ok && output.contains("'restartPolicy' was unexpected"),
        "{output}"
    );
    let (ok, output) = validate("1.27", &files[..2]);
    assert!(
        ok,
        "init and sidecar are plain pods on any version:\n{output}"
    );
}

#[test]
fn the_articles_job_is_not_a_valid_manifest() {
    let article = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/article-cy-job.yaml");
    let (ok, output) = validate("1.28", &[article]);
    assert!(!ok, "the article's listing validated:\n{output}");
}

/// The class's objects (Namespace, ServiceAccount, Role, RoleBinding, ResourceQuota), as
/// `class up` applies them, pass strict validation on the oldest and newest minors; a
/// Role with a misspelt field does not.
#[test]
fn the_class_objects_validate_strictly_on_1_28_and_1_37() {
    use sidecar_lab::class::ClassPrefix;
    use sidecar_lab::class::objects::{QuotaLimits, Template, manifests};

    let dir = tempfile::tempdir().expect("temp dir");
    let quota = QuotaLimits {
        cpu: Some("2".parse().expect("quantity")),
        memory: Some("2Gi".parse().expect("quantity")),
        pods: Some(10),
    };
    let objects = Template::embedded().expect("template").learner_at(
        &ClassPrefix::default(),
        1,
        &quota,
        "v1.28",
    );
    assert_eq!(objects.len(), 7);
    // The class's admission policy exists from 1.30: checked against 1.37 below.
    let policy = sidecar_lab::class::policy::objects(&ClassPrefix::default());
    let mut files = Vec::new();
    for object in &objects {
        let path = dir.path().join(format!("{}.yaml", object.kind));
        std::fs::write(&path, manifests(&[object]).expect("renders")).expect("write");
        files.push(path);
    }
    for minor in ["1.28", "1.37"] {
        let (ok, text) = validate(minor, &files);
        assert!(ok, "class objects on {minor}:\n{text}");
    }
    let mut policy_files = Vec::new();
    for object in &policy {
        let path = dir.path().join(format!("{}.yaml", object.kind));
        std::fs::write(&path, manifests(&[object]).expect("renders")).expect("write");
        policy_files.push(path);
    }
    for minor in ["1.30", "1.37"] {
        let (ok, text) = validate(minor, &policy_files);
        assert!(ok, "the class's policy on {minor}:\n{text}");
    }
    let role = std::fs::read_to_string(&files[2]).expect("role");
    let broken = dir.path().join("broken-role.yaml");
    std::fs::write(&broken, role.replace("verbs:", "verb:")).expect("write");
    let (ok, text) = validate("1.37", &[broken]);
    assert!(!ok, "a Role with `verb:` passed:\n{text}");
}

/// Every Job of every step of the lab (the steps beyond the three variants included,
/// each variant a step runs, with the step's edits) and a step's ResourceQuota pass
/// strict validation on every minor the step can run on. (Step 5's `restartPolicy` on a
/// regular container passes the schema before 1.35 too: the schema has one Container
/// type for init and regular containers, so only the API server's validation refuses
/// it — which the simulated cluster does, and `tests/simulated_cluster.rs` shows.)
#[test]
fn every_step_job_validates_strictly_where_the_step_runs() {
    use sidecar_lab::lab::Lab;
    use sidecar_lab::render::job::{parse_template, to_manifest};
    use sidecar_lab::render::step::{step_quota, step_runs};

    let dir = tempfile::tempdir().expect("temp dir");
    let lab = Lab::embedded().expect("lab");
    let template = parse_template(sidecar_lab::assets::JOB_TEMPLATE).expect("template");
    let matrix = VersionMatrix::embedded().expect("matrix");
    for release in &matrix.kubernetes {
        let minor = release.minor;
        let mut files = Vec::new();
        for (number, step) in lab.numbered() {
            if step.skip_reason(Some(minor)).is_some() {
                continue;
            }
            for run in step_runs(&template, number, step, Some(minor)).expect("renders") {
                let path = dir
                    .path()
                    .join(format!("{minor}-{number}-{}.yaml", run.variant));
                std::fs::write(&path, to_manifest(&run.job, &[]).expect("yaml")).expect("write");
                files.push(path);
            }
            if let Some(quota) = step_quota(number, step) {
                let path = dir.path().join(format!("{minor}-{number}-quota.yaml"));
                std::fs::write(&path, sidecar_lab::yaml::to_string(&quota).expect("yaml"))
                    .expect("write");
                files.push(path);
            }
        }
        let (ok, output) = validate(&minor.to_string(), &files);
        assert!(ok, "Kubernetes {minor}:\n{output}");
        assert_eq!(
            output.matches(" passed for resource ").count(),
            files.len(),
            "{output}"
        );
    }
}

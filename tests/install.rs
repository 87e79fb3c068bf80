//! `sidecar-lab install kind kubectl` against a real HTTP server on 127.0.0.1: the happy
//! path, a second run that downloads nothing, checksum and pin mismatches, a body cut
//! short, a server error then success, a 404, and atomic placement throughout; and a
//! checksum file sent a byte at a time, stopped at its total deadline.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use support::http_server::{Reply, Server};
use support::{fake_kind, fake_kubectl, sha256};

const KIND: &str = "/kubernetes-sigs/kind/releases/download/v0.99.1/kind-linux-amd64";
const KUBECTL: &str = "/release/v1.99.0/bin/linux/amd64/kubectl";

struct Lab {
    server: Server,
    home: tempfile::TempDir,
}

impl Lab {
    /// A server with kind v0.99.1 and kubectl v1.99.0 and their checksum files.
    fn new() -> Self {
        let server = Server::start();
        let kind = fake_kind("v0.99.1");
        let kubectl = fake_kubectl("v1.99.0");
        server.route(
            &format!("{KIND}.sha256sum"),
            vec![Reply::Body(
                format!("{}  kind-linux-amd64\n", sha256(&kind)).into_bytes(),
            )],
        );
        server.route(KIND, vec![Reply::Body(kind)]);
        server.route(
            &format!("{KUBECTL}.sha256"),
            vec![Reply::Body(sha256(&kubectl).into_bytes())],
        );
        server.route(KUBECTL, vec![Reply::Body(kubectl)]);
        Self {
            server,
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn bin_dir(&self) -> PathBuf {
        self.home.path().join("bin")
    }

    fn install(&self, extra: &[&str]) -> Output {
        self.install_into(&self.bin_dir(), extra)
    }

    /// Runs `install --yes` with the mirror and `bin_dir`; PATH holds only the lab's bin dir.
    fn install_into(&self, bin_dir: &Path, extra: &[&str]) -> Output {
        Command::cargo_bin("sidecar-lab")
            .expect("built")
            .args([
                "install",
                "--yes",
                "--mirror",
                &self.server.url(),
                // The test releases have no pins, and the mirror is plain http://.
                "--allow-http",
                "--bin-dir",
            ])
            .arg(bin_dir)
            .args(extra)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", self.bin_dir())
            .env("SIDECAR_LAB_PLATFORM", "linux-amd64")
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    }

    fn install_both(&self) -> Output {
        self.install(&[
            "kind",
            "kubectl",
            "--kind-version",
            "v0.99.1",
            "--kubectl-version",
            "v1.99.0",
        ])
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o111 == 0o111)
}

/// Nothing but the named files in `dir`: no temporary files left behind.
fn assert_only(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    assert_eq!(found, names, "in {}", dir.display());
}

#[test]
fn installs_both_then_a_second_run_downloads_nothing() {
    let lab = Lab::new();
    let output = lab.install_both();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bin = lab.bin_dir();
    assert_eq!(
        std::fs::read(bin.join("kind")).expect("kind"),
        fake_kind("v0.99.1")
    );
    assert_eq!(
        std::fs::read(bin.join("kubectl")).expect("kubectl"),
        fake_kubectl("v1.99.0")
    );
    assert!(is_executable(&bin.join("kind")) && is_executable(&bin.join("kubectl")));
    assert_only(&bin, &["kind", "kubectl"]);
    assert!(
        stderr(&output).contains("kind v0.99.1 installed to"),
        "{}",
        stderr(&output)
    );

    let hits = lab.server.total_hits();
    let again = lab.install_both();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        lab.server.total_hits(),
        hits,
        "the second run downloaded something"
    );
    let plan = String::from_utf8_lossy(&again.stdout);
    assert!(
        plan.contains("kind     ok        v0.99.1") && plan.contains("kubectl  ok        v1.99.0"),
        "{plan}"
    );
    assert!(stderr(&again).contains("nothing to install"));
}

#[test]
fn a_checksum_mismatch_is_refused_and_the_old_binary_stays() {
    let lab = Lab::new();
    let wrong = "0".repeat(64);
    lab.server.route(
        &format!("{KIND}.sha256sum"),
        vec![Reply::Body(
            format!("{wrong}  kind-linux-amd64\n").into_bytes(),
        )],
    );
    std::fs::create_dir_all(lab.bin_dir()).expect("bin dir");
    std::fs::write(lab.bin_dir().join("kind"), b"old kind").expect("old binary");

    let output = lab.install(&["kind", "--kind-version", "v0.99.1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&wrong) && message.contains(&sha256(&fake_kind("v0.99.1"))),
        "{message}"
    );
    assert!(
        message.contains(KIND) && message.contains("refusing to install"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(lab.bin_dir().join("kind")).expect("kind"),
        b"old kind"
    );
    assert_only(&lab.bin_dir(), &["kind"]);
}

#[test]
fn a_pinned_release_whose_file_differs_from_the_pin_is_refused() {
    // kind v0.33.0 is pinned in the version matrix; this server serves something else,
    // with a checksum file that matches it.
    let lab = Lab::new();
    let path = "/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64";
    let impostor = fake_kind("v0.33.0");
    lab.server.route(
        &format!("{path}.sha256sum"),
        vec![Reply::Body(
            format!("{}  kind-linux-amd64\n", sha256(&impostor)).into_bytes(),
        )],
    );
    lab.server.route(path, vec![Reply::Body(impostor.clone())]);
    let output = lab.install(&["kind", "--kind-version", "v0.33.0"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d"),
        "{message}"
    );
    assert!(message.contains(&sha256(&impostor)), "{message}");
    assert_eq!(
        lab.server.hits(path),
        0,
        "the binary was downloaded despite the mismatch"
    );
    assert_only(&lab.bin_dir(), &[]);
}

#[test]
fn a_body_cut_short_is_retried() {
    let lab = Lab::new();
    let kind = fake_kind("v0.99.1");
    lab.server.route(
        KIND,
        vec![
            Reply::Truncated {
                body: kind.clone(),
                sent: 10,
            },
            Reply::Body(kind),
        ],
    );
    let output = lab.install(&["kind", "--kind-version", "v0.99.1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(lab.server.hits(KIND), 2);
    assert!(
        stderr(&output).contains("trying again"),
        "{}",
        stderr(&output)
    );
    assert_only(&lab.bin_dir(), &["kind"]);
}

#[test]
fn a_body_always_cut_short_fails_naming_the_url_and_places_nothing() {
    let lab = Lab::new();
    lab.server.route(
        KIND,
        vec![Reply::Truncated {
            body: fake_kind("v0.99.1"),
            sent: 10,
        }],
    );
    let output = lab.install(&["kind", "--kind-version", "v0.99.1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    let last = message.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: kind v0.99.1 was not installed") && last.contains(KIND),
        "{message}"
    );
    assert_eq!(lab.server.hits(KIND), 4);
    assert_only(&lab.bin_dir(), &[]);
}

#[test]
fn a_server_error_then_success_is_retried() {
    let lab = Lab::new();
    let kubectl = fake_kubectl("v1.99.0");
    lab.server.route(
        KUBECTL,
        vec![Reply::Status(500), Reply::Hangup, Reply::Body(kubectl)],
    );
    let output = lab.install(&["kubectl", "--kubectl-version", "v1.99.0"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(lab.server.hits(KUBECTL), 3);
}

#[test]
fn a_404_is_reported_at_once() {
    let lab = Lab::new();
    lab.server.route(KIND, vec![Reply::Status(404)]);
    let output = lab.install(&["kind", "--kind-version", "v0.99.1"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("{}{KIND} answered HTTP 404", lab.server.url())),
        "{message}"
    );
    assert_eq!(lab.server.hits(KIND), 1);
    assert!(!message.contains("trying again"));
}

#[test]
fn dry_run_prints_the_plan_and_downloads_nothing() {
    let lab = Lab::new();
    let output = lab.install(&[
        "kind",
        "kubectl",
        "--kind-version",
        "v0.99.1",
        "--kubectl-version",
        "v1.99.0",
        "--dry-run",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(lab.server.total_hits(), 0);
    let plan = String::from_utf8_lossy(&output.stdout)
        .replace(&lab.server.url(), "http://[SERVER]")
        .replace(&lab.home.path().display().to_string(), "[HOME]");
    insta::assert_snapshot!(plan);
}

#[test]
fn a_bin_dir_off_path_is_pointed_out() {
    let lab = Lab::new();
    let other = lab.home.path().join("elsewhere");
    let output = lab.install_into(&other, &["kind", "--kind-version", "v0.99.1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not on PATH"),
        "{}",
        stderr(&output)
    );
    assert!(other.join("kind").is_file());
}

#[test]
fn a_small_file_sent_a_byte_at_a_time_stops_at_its_deadline() {
    let server = Server::start();
    server.route(
        "/slow.sha256",
        vec![Reply::Trickle {
            every: std::time::Duration::from_millis(100),
        }],
    );
    let client = sidecar_lab::http::HttpClient::new().expect("client");
    let started = std::time::Instant::now();
    let error = client
        .get_text_within(
            &format!("{}/slow.sha256", server.url()),
            1024 * 1024,
            std::time::Duration::from_millis(700),
        )
        .expect_err("stopped");
    assert!(
        matches!(error, sidecar_lab::http::HttpError::Deadline { .. }),
        "{error}"
    );
    // Bytes kept coming, so only the total deadline could stop it.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

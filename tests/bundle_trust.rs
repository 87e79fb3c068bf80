//! Bundles and mirrors as an attacker in the room would serve them, against the real
//! binary and a real HTTP server on 127.0.0.1: a replaced kind, an unpinned or replaced
//! kubectl over plain http://, a node image the matrix does not know, an entry or a
//! manifest far larger than declared, a redirect to another host, a FIFO and a link to
//! `/dev/zero` in a bundle directory, and a download host whose name does not resolve.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::json;
use support::http_server::{Reply, Server};
use support::{fake_kind, fake_kubectl, sha256, text};

/// kind v0.33.0's linux-amd64 pin and the 1.37 node image, as in templates/versions.yaml.
const NODE_TAG: &str = "kindest/node:v1.37.0";
const NODE_DIGEST: &str = "sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5";
const KIND_PATH: &str = "bin/linux-amd64/kind-v0.33.0";
const NODE_ARCHIVE: &str = "images/linux-amd64/kind-node-1.37.tar";

/// A home and a bin dir, and the binary run in them with nothing else on PATH.
struct Vm {
    home: tempfile::TempDir,
}

impl Vm {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn bin(&self) -> PathBuf {
        self.home.path().join("bin")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("sidecar-lab")
            .expect("built")
            .args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", self.bin())
            .env("SIDECAR_LAB_PLATFORM", "linux-amd64")
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(60))
            .output()
            .expect("runs")
    }
}

/// A manifest for Kubernetes 1.37 on linux-amd64 listing `files` (path, bytes) and the
/// node image `tag` pulled by `digest`.
fn manifest(files: &[(&str, &[u8])], tag: &str, digest: &str) -> String {
    let files: Vec<_> = files
        .iter()
        .map(|(path, bytes)| json!({"path": path, "size": bytes.len(), "sha256": sha256(bytes)}))
        .collect();
    json!({
        "format": 1,
        "sidecarLab": "0.1.0",
        "platforms": ["linux-amd64"],
        "kubernetes": [{"minor": "1.37", "kind": "v0.33.0", "kubectl": "v1.37.1", "nodeImage": tag}],
        "files": files,
        "images": [{"tag": tag, "digest": digest, "layers": ["sha256:l1"], "archive": NODE_ARCHIVE, "platform": "linux-amd64"}],
    })
    .to_string()
}

/// A bundle directory holding `files` and their manifest.
fn bundle_dir(files: &[(&str, &[u8])], tag: &str, digest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("bundle dir");
    for (path, bytes) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, bytes).expect("file");
    }
    std::fs::write(
        dir.path().join("manifest.json"),
        manifest(files, tag, digest),
    )
    .expect("manifest");
    dir
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8")
}

fn all_output(output: &Output) -> String {
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

#[test]
fn a_tampered_bundle_kind_is_refused_naming_the_file_even_with_allow_unpinned() {
    // A shell script posing as kind v0.33.0; the manifest's digest is the script's own.
    let impostor = fake_kind("v0.33.0");
    let bundle = bundle_dir(&[(KIND_PATH, &impostor)], NODE_TAG, NODE_DIGEST);
    let vm = Vm::new();
    let bin = vm.bin();
    for extra in [None, Some("--allow-unpinned")] {
        let mut args = vec![
            "install",
            "kind",
            "-k",
            "1.37",
            "--yes",
            "--bundle",
            path_str(bundle.path()),
            "--bin-dir",
            path_str(&bin),
        ];
        args.extend(extra);
        let output = vm.run(&args);
        assert!(!output.status.success(), "{}", all_output(&output));
        let said = all_output(&output);
        assert!(
            said.contains(&format!(
                "the bundle's `{KIND_PATH}` is not kind v0.33.0 as released"
            )),
            "{said}"
        );
        assert!(!vm.bin().join("kind").exists(), "nothing was placed");
    }
}

#[test]
fn bundle_check_names_what_no_pin_vouches_for() {
    let kubectl = fake_kubectl("v1.37.1");
    let kubectl_path = "bin/linux-amd64/kubectl-v1.37.1";
    let bundle = bundle_dir(
        &[(kubectl_path, &kubectl)],
        "attacker/node:evil",
        NODE_DIGEST,
    );
    let vm = Vm::new();
    let output = vm.run(&["bundle", "check", path_str(bundle.path())]);
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let said = text(&output.stderr);
    assert!(
        said.contains(&format!(
            "the bundle's `{kubectl_path}` is not kubectl v1.37.1 as released"
        )) && said.contains("manifest.json names `attacker/node:evil"),
        "{said}"
    );
    // --allow-unpinned lets the unknown node image through, loudly; never a replaced kubectl.
    let output = vm.run(&[
        "bundle",
        "check",
        path_str(bundle.path()),
        "--allow-unpinned",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let said = text(&output.stderr);
    assert!(
        said.contains("UNPINNED: manifest.json names `attacker/node:evil"),
        "{said}"
    );
    assert!(
        said.contains(&format!("`{kubectl_path}` is not kubectl v1.37.1")),
        "{said}"
    );
}

#[test]
fn a_kubectl_from_a_plain_http_mirror_needs_a_pin_or_the_flag() {
    let server = Server::start();
    let vm = Vm::new();
    // v1.30.13 has no pin: refused before anything is fetched, the URL named.
    let unpinned = fake_kubectl("v1.30.13");
    let path = "/release/v1.30.13/bin/linux/amd64/kubectl";
    server.route(
        &format!("{path}.sha256"),
        vec![Reply::Body(sha256(&unpinned).into_bytes())],
    );
    server.route(path, vec![Reply::Body(unpinned)]);
    let (url, bin) = (server.url(), vm.bin());
    let install = |minor: &str, extra: &[&str]| {
        let mut args = vec![
            "install",
            "kubectl",
            "-k",
            minor,
            "--yes",
            "--mirror",
            &url,
            "--bin-dir",
            path_str(&bin),
        ];
        args.extend(extra);
        vm.run(&args)
    };
    let output = install("1.30", &[]);
    assert!(!output.status.success());
    let said = all_output(&output);
    assert!(
        said.contains(&format!(
            "kubectl v1.30.13 would come from {}{path} over plain http://",
            server.url()
        )) && said.contains("--allow-http"),
        "{said}"
    );
    assert_eq!(server.total_hits(), 0, "nothing was fetched");
    assert!(!vm.bin().join("kubectl").exists());
    // With the flag, the checksum file beside it is all there is to go by.
    let output = install("1.30", &["--allow-http"]);
    assert!(output.status.success(), "{}", all_output(&output));
    assert!(vm.bin().join("kubectl").is_file());
    std::fs::remove_file(vm.bin().join("kubectl")).expect("remove");

    // v1.37.1 is pinned: a replaced one is refused whatever its checksum file says.
    let replaced = fake_kubectl("v1.37.1");
    let path = "/release/v1.37.1/bin/linux/amd64/kubectl";
    server.route(
        &format!("{path}.sha256"),
        vec![Reply::Body(sha256(&replaced).into_bytes())],
    );
    server.route(path, vec![Reply::Body(replaced)]);
    let output = install("1.37", &["--allow-http"]);
    assert!(!output.status.success());
    let said = all_output(&output);
    assert!(
        said.contains("65691ff77eb6fa44c908b77a1082c9f092c3b9733b5cefabec0d1104890e21a8")
            && said.contains("refusing to install"),
        "{said}"
    );
    assert!(!vm.bin().join("kubectl").exists());
}

#[test]
fn a_node_image_the_matrix_does_not_know_is_refused_naming_the_manifest() {
    let archive: &[u8] = b"not an image";
    let bundle = bundle_dir(
        &[(NODE_ARCHIVE, archive)],
        "attacker/node:evil",
        NODE_DIGEST,
    );
    let vm = Vm::new();
    let output = vm.run(&["bundle", "load", path_str(bundle.path()), "-k", "1.37"]);
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let said = text(&output.stderr);
    assert!(
        said.contains("manifest.json names `attacker/node:evil@sha256:a1ed")
            && said.contains(NODE_ARCHIVE)
            && said.contains(&format!("{NODE_TAG}@{NODE_DIGEST}")),
        "{said}"
    );
    // The pinned tag with another digest is not the pinned image either.
    let other = format!("sha256:{}", "0".repeat(64));
    let bundle = bundle_dir(&[(NODE_ARCHIVE, archive)], NODE_TAG, &other);
    let output = vm.run(&["bundle", "load", path_str(bundle.path()), "-k", "1.37"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(&other),
        "{}",
        text(&output.stderr)
    );
}

/// Serves `manifest` at `/b/manifest.json` and returns the bundle's URL.
fn serve_manifest(server: &Server, manifest: String) -> String {
    server.route("/b/manifest.json", vec![Reply::Body(manifest.into_bytes())]);
    format!("{}/b", server.url())
}

/// Waits until the server has counted what its endless replies sent.
fn endless_sent(server: &Server) -> u64 {
    let started = Instant::now();
    while server.endless_sent() == 0 && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    server.endless_sent()
}

/// Every regular file under `dir`, with its size.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) => found.push((path, m.len())),
                Err(_) => {}
            }
        }
    }
    found
}

#[test]
fn an_entry_larger_than_declared_stops_at_its_size() {
    let declared = fake_kind("v0.33.0"); // 46 bytes in the manifest
    for length in [Some(512 * 1024 * 1024), None] {
        let server = Server::start();
        let url = serve_manifest(
            &server,
            manifest(&[(KIND_PATH, &declared)], NODE_TAG, NODE_DIGEST),
        );
        server.route(&format!("/b/{KIND_PATH}"), vec![Reply::Endless { length }]);
        let vm = Vm::new();
        let out = vm.home.path().join("fetched");
        let started = Instant::now();
        let output = vm.run(&[
            "bundle",
            "fetch",
            &url,
            "--output",
            path_str(&out),
            "--allow-http",
        ]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{length:?}: {}",
            all_output(&output)
        );
        assert!(started.elapsed() < Duration::from_secs(20), "{length:?}");
        let said = text(&output.stderr);
        assert!(
            said.contains(&format!("sent more than the {} bytes", declared.len())),
            "{said}"
        );
        assert_eq!(server.hits(&format!("/b/{KIND_PATH}")), 1, "not retried");
        // Nothing reached the disk: no file, no temporary file.
        assert_eq!(files_under(&out), [], "{length:?}");
        // The client stopped reading: the server got out at most what socket buffers hold.
        assert!(
            endless_sent(&server) < 64 * 1024 * 1024,
            "{}",
            server.endless_sent()
        );
    }
}

#[test]
fn a_manifest_is_capped_whether_or_not_it_says_its_length() {
    for length in [Some(1u64 << 30), None] {
        let server = Server::start();
        server.route("/b/manifest.json", vec![Reply::Endless { length }]);
        let vm = Vm::new();
        let started = Instant::now();
        let output = vm.run(&[
            "bundle",
            "check",
            &format!("{}/b", server.url()),
            "--allow-http",
        ]);
        assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
        assert!(started.elapsed() < Duration::from_secs(20));
        let said = text(&output.stderr);
        assert!(said.contains("sent more than the 4194304 bytes"), "{said}");
        assert!(
            endless_sent(&server) < 64 * 1024 * 1024,
            "{}",
            server.endless_sent()
        );
    }
}

#[test]
fn a_bundle_over_plain_http_needs_the_flag() {
    let server = Server::start();
    let url = serve_manifest(&server, manifest(&[], NODE_TAG, NODE_DIGEST));
    let vm = Vm::new();
    let output = vm.run(&["bundle", "check", &url]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--allow-http"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn a_redirect_to_another_host_is_refused() {
    let elsewhere = Server::start();
    let port = elsewhere.url().rsplit(':').next().expect("port").to_owned();
    elsewhere.route(
        "/b/manifest.json",
        vec![Reply::Body(
            manifest(&[], NODE_TAG, NODE_DIGEST).into_bytes(),
        )],
    );
    let server = Server::start();
    server.route(
        "/b/manifest.json",
        vec![Reply::Redirect(format!(
            "http://localhost:{port}/b/manifest.json"
        ))],
    );
    let vm = Vm::new();
    let output = vm.run(&[
        "bundle",
        "check",
        &format!("{}/b", server.url()),
        "--allow-http",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    let said = text(&output.stderr);
    assert!(
        said.contains(&format!(
            "refused a redirect from {} to http://localhost:{port}",
            server.url()
        )),
        "{said}"
    );
    assert_eq!(elsewhere.total_hits(), 0);
    // On the same host, a redirect is followed.
    server.route(
        "/same/manifest.json",
        vec![Reply::Redirect(format!(
            "{}/b2/manifest.json",
            server.url()
        ))],
    );
    server.route(
        "/b2/manifest.json",
        vec![Reply::Body(
            manifest(&[], NODE_TAG, NODE_DIGEST).into_bytes(),
        )],
    );
    let output = vm.run(&[
        "bundle",
        "check",
        &format!("{}/same", server.url()),
        "--allow-http",
    ]);
    assert!(output.status.success(), "{}", all_output(&output));
}

#[test]
fn a_fifo_and_a_link_to_dev_zero_in_a_bundle_are_refused_at_once() {
    let declared: &[u8] = b"twenty-six bytes, declared";
    let lab = "images/linux-amd64/lab-images.tar";
    let bundle = bundle_dir(
        &[(KIND_PATH, declared), (lab, declared)],
        NODE_TAG,
        NODE_DIGEST,
    );
    let fifo = bundle.path().join(KIND_PATH);
    std::fs::remove_file(&fifo).expect("remove");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let zero = bundle.path().join(lab);
    std::fs::remove_file(&zero).expect("remove");
    std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
    let vm = Vm::new();
    let started = Instant::now();
    let output = vm.run(&["bundle", "check", path_str(bundle.path())]);
    assert_eq!(output.status.code(), Some(2), "{}", all_output(&output));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let said = text(&output.stderr);
    for path in [&fifo, &zero] {
        assert!(
            said.contains(&format!("`{}` is not a regular file", path.display())),
            "{said}"
        );
    }
}

#[test]
fn a_download_host_whose_name_does_not_resolve_is_said_once_without_retrying() {
    // `.invalid` never resolves (RFC 6761), with or without a network.
    let host = "sidecar-lab-test.invalid";
    let vm = Vm::new();
    let output = vm.run(&[
        "install",
        "kubectl",
        "-k",
        "1.37",
        "--yes",
        "--mirror",
        &format!("https://{host}"),
        "--bin-dir",
        path_str(&vm.bin()),
    ]);
    assert!(!output.status.success());
    let said = text(&output.stderr);
    assert_eq!(said.matches(host).count(), 1, "{said}");
    assert!(
        said.contains(&format!("cannot reach {host}: its name does not resolve"))
            && said.contains("--bundle")
            && said.contains("--mirror"),
        "{said}"
    );
    assert!(!said.contains("trying again"), "{said}");
}

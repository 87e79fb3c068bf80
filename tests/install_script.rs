//! `scripts/install.sh`, the one-line installer, against a release served on 127.0.0.1:
//! a good install, a wrong checksum refused with nothing installed, and a machine
//! without `sha256sum` or `shasum` refused. And the release binaries `scripts/dist.sh`
//! built (`SIDECAR_LAB_DIST_DIR`, set by scripts/test.sh): glibc 2.17 at most, and they
//! run `versions` and `render config` from an empty directory.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::http_server::{Reply, Server};
use support::sha256;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh")
}

/// A release archive holding a `sidecar-lab` that says its version.
fn archive(dir: &Path) -> Vec<u8> {
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).expect("stage");
    std::fs::write(
        stage.join("sidecar-lab"),
        "#!/bin/sh\necho 'sidecar-lab 9.9.9 (test)'\n",
    )
    .expect("binary");
    let out = dir.join("archive.tar.gz");
    let tar = Command::new("tar")
        .arg("-C")
        .arg(&stage)
        .args(["-czf"])
        .arg(&out)
        .arg("sidecar-lab")
        .status()
        .expect("tar");
    assert!(tar.success());
    std::fs::read(out).expect("archive")
}

/// A release server with the archive and a SHA256SUMS saying `digest`.
fn release(archive: &[u8], digest: &str) -> Server {
    let server = Server::start();
    let name = "sidecar-lab-9.9.9-linux-amd64.tar.gz";
    server.route(
        "/release/SHA256SUMS",
        vec![Reply::Body(
            format!(
                "{digest}  {name}\n{}  sidecar-lab-9.9.9-linux-arm64.tar.gz\n",
                "0".repeat(64)
            )
            .into_bytes(),
        )],
    );
    server.route(
        &format!("/release/{name}"),
        vec![Reply::Body(archive.to_vec())],
    );
    server
}

/// Runs install.sh against the test server (plain http://, so with the flag that allows it).
fn install(server: &Server, home: &Path, path: &str) -> Output {
    install_with(server, home, path, &[("SIDECAR_LAB_ALLOW_HTTP", "1")])
}

fn install_with(server: &Server, home: &Path, path: &str, env: &[(&str, &str)]) -> Output {
    Command::new("/bin/sh")
        .arg(script())
        .env_clear()
        .env("HOME", home)
        .env("PATH", path)
        .env("SIDECAR_LAB_DOWNLOAD", format!("{}/release", server.url()))
        .envs(env.iter().copied())
        .output()
        .expect("sh runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_good_release_is_installed_into_local_bin() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &sha256(&bytes));
    let home = dir.path().join("home");
    let output = install(&server, &home, "/usr/bin:/bin");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let installed = home.join(".local/bin/sidecar-lab");
    let ran = Command::new(&installed).output().expect("runs");
    assert_eq!(text(&ran.stdout).trim(), "sidecar-lab 9.9.9 (test)");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is not on PATH") && stderr.contains("next: sidecar-lab up"),
        "{stderr}"
    );
}

#[test]
fn plain_http_is_refused_unless_asked_for() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &sha256(&bytes));
    let home = dir.path().join("home");
    let output = install_with(&server, &home, "/usr/bin:/bin", &[]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is plain http://") && stderr.contains("SIDECAR_LAB_ALLOW_HTTP=1"),
        "{stderr}"
    );
    assert_eq!(server.total_hits(), 0, "nothing was downloaded");
    assert!(!home.join(".local/bin/sidecar-lab").exists());
    let output = install(&server, &home, "/usr/bin:/bin");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("WARNING: downloading over plain http://"));
}

#[test]
fn a_name_planted_in_the_bin_dir_is_not_followed_and_nothing_is_left_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &sha256(&bytes));
    let home = dir.path().join("home");
    let bin = home.join(".local/bin");
    std::fs::create_dir_all(&bin).expect("bin");
    // What an earlier version's fixed temporary name would have written through.
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me\n").expect("victim");
    std::os::unix::fs::symlink(&victim, bin.join(".sidecar-lab.partial")).expect("plant");
    let output = install(&server, &home, "/usr/bin:/bin");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "keep me\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&bin)
        .expect("bin")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".sidecar-lab.partial", "sidecar-lab"]);
}

#[test]
fn a_directory_or_a_link_to_one_in_the_binarys_place_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &sha256(&bytes));
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    for link in [false, true] {
        let home = dir.path().join(format!("home-{link}"));
        let bin = home.join(".local/bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let place = bin.join("sidecar-lab");
        if link {
            std::os::unix::fs::symlink(&elsewhere, &place).expect("link");
        } else {
            std::fs::create_dir(&place).expect("directory");
        }
        let output = install(&server, &home, "/usr/bin:/bin");
        assert!(!output.status.success(), "link {link}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("is a directory (or a link to one)"),
            "{stderr}"
        );
        // Nothing moved into it, and no temporary file left beside it.
        let inside = |d: &Path| std::fs::read_dir(d).expect("read").count();
        assert_eq!(inside(&place), 0, "link {link}");
        assert_eq!(inside(&bin), 1, "link {link}");
    }
}

#[test]
fn a_wrong_checksum_is_refused_and_nothing_installed() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &"ab".repeat(32));
    let home = dir.path().join("home");
    let output = install(&server, &home, "/usr/bin:/bin");
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("refusing to install it (nothing was installed)"),
        "{}",
        text(&output.stderr)
    );
    assert!(!home.join(".local/bin/sidecar-lab").exists());
    let left: Vec<_> = std::fs::read_dir(home.join(".local/bin"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no temporary file is left: {left:?}");
}

#[test]
fn without_sha256sum_or_shasum_it_refuses() {
    let dir = tempfile::tempdir().expect("dir");
    let bytes = archive(dir.path());
    let server = release(&bytes, &sha256(&bytes));
    // A PATH with everything the script uses but the two hashing tools.
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("tools");
    for tool in [
        "sh", "uname", "curl", "grep", "tail", "mktemp", "rm", "mkdir", "tar", "gzip", "cp",
        "chmod", "mv", "cut",
    ] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists());
        if let Some(found) = found {
            std::os::unix::fs::symlink(found, tools.join(tool)).expect("link");
        }
    }
    let home = dir.path().join("home");
    let output = install(&server, &home, tools.to_str().expect("utf-8"));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("neither sha256sum nor shasum is installed"),
        "{}",
        text(&output.stderr)
    );
    assert!(!home.join(".local/bin/sidecar-lab").exists());
    assert_eq!(server.total_hits(), 0, "nothing was downloaded");
}

/// The archives scripts/dist.sh built, when scripts/test.sh built them.
fn dist_archives() -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(std::env::var_os("SIDECAR_LAB_DIST_DIR")?);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dist dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    found.sort();
    Some(found)
}

#[test]
#[expect(clippy::print_stderr, reason = "a skipped run says why it did nothing")]
fn the_release_binary_needs_glibc_2_17_at_most_and_runs_from_an_empty_directory() {
    let Some(archives) = dist_archives() else {
        eprintln!(
            "skipped: SIDECAR_LAB_DIST_DIR is not set (scripts/test.sh builds the release binaries)"
        );
        return;
    };
    let amd64 = archives
        .iter()
        .find(|a| a.to_string_lossy().ends_with("-linux-amd64.tar.gz"))
        .expect("dist.sh built the x86_64 archive");
    let sums = std::fs::read_to_string(amd64.with_file_name("SHA256SUMS")).expect("SHA256SUMS");
    let bytes = std::fs::read(amd64).expect("archive");
    assert!(sums.contains(&sha256(&bytes)), "{sums}");
    // Installed by install.sh from a local release, as a VM would.
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start();
    let name = amd64
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    server.route(
        "/release/SHA256SUMS",
        vec![Reply::Body(
            format!("{}  {name}\n", sha256(&bytes)).into_bytes(),
        )],
    );
    server.route(&format!("/release/{name}"), vec![Reply::Body(bytes)]);
    let home = dir.path().join("home");
    let output = install(&server, &home, "/usr/bin:/bin");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let binary = home.join(".local/bin/sidecar-lab");
    let symbols = Command::new("objdump")
        .arg("-T")
        .arg(&binary)
        .output()
        .expect("objdump");
    let mut versions: Vec<(u32, u32)> = text(&symbols.stdout)
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((
                parts.next()?.parse().ok()?,
                parts.next().unwrap_or("0").parse().ok()?,
            ))
        })
        .collect();
    versions.sort_unstable();
    assert!(
        versions.last().is_some_and(|v| *v <= (2, 17)),
        "needs {:?}",
        versions.last()
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty");
    for args in [
        vec!["versions"],
        vec!["render", "config"],
        vec!["--version"],
    ] {
        let ran = Command::new(&binary)
            .args(&args)
            .current_dir(&empty)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("runs");
        assert!(ran.status.success(), "{args:?}: {}", text(&ran.stderr));
    }
}

//! Docker for real on this machine: `sidecar-lab install docker` installs the package if
//! needed, starts the daemon (without systemd where there is none) and waits until it
//! answers; then a container runs from an image built locally, as no image registry is
//! reachable here. Runs only with SIDECAR_LAB_TEST_DOCKER=1 (`.ci/run` sets it): it
//! installs packages and leaves dockerd running.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]

use std::io::Write;
use std::process::{Command, Stdio};

fn enabled() -> bool {
    std::env::var("SIDECAR_LAB_TEST_DOCKER").as_deref() == Ok("1")
}

fn sidecar_lab(args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("sidecar-lab")
        .expect("built")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

#[test]
#[expect(clippy::print_stderr, reason = "a skipped run says why it did nothing")]
fn installs_and_starts_docker_then_runs_a_locally_built_image() {
    if !enabled() {
        eprintln!("skipped: set SIDECAR_LAB_TEST_DOCKER=1 to install and start Docker for real");
        return;
    }
    let output = sidecar_lab(&["install", "docker", "--yes"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "install docker failed:\n{stderr}"
    );
    assert!(
        run("docker", &["info"]).status.success(),
        "docker info fails after install"
    );

    // A second run finds it answering and changes nothing.
    let again = sidecar_lab(&["install", "docker", "--yes"]);
    let plan = String::from_utf8_lossy(&again.stdout);
    assert!(plan.contains("docker   ok        daemon"), "{plan}");

    // An image from a root file system holding a static busybox: `docker import`.
    docker_import(&busybox_rootfs(), "sidecar-lab-test/busybox:1");

    let container = run(
        "docker",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "sidecar-lab-test/busybox:1",
            "/bin/busybox",
            "echo",
            "hello from a container",
        ],
    );
    assert!(
        container.status.success(),
        "docker run: {}",
        String::from_utf8_lossy(&container.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&container.stdout),
        "hello from a container\n"
    );
    let _ = run("docker", &["image", "rm", "sidecar-lab-test/busybox:1"]);
}

/// The apt command the Docker plan runs on Debian, as root.
fn planned_apt_install() -> Vec<String> {
    use sidecar_lab::install::detect::DockerStatus;
    use sidecar_lab::install::docker::{self, DockerHost, DockerPlan, DockerSource};
    use sidecar_lab::install::step::HostStep;
    use sidecar_lab::platform::Distro;
    let host = DockerHost {
        platform: "linux-amd64".parse().expect("platform"),
        distro: Some(Distro::parse_os_release("ID=debian\n")),
        is_root: true,
        systemd: false,
        user: None,
        state_dir: std::env::temp_dir(),
        dockerd: None,
    };
    let DockerPlan::Steps { steps, .. } =
        docker::plan(&host, &DockerStatus::Missing, DockerSource::Distribution)
    else {
        panic!("Debian gets apt steps")
    };
    steps
        .iter()
        .find_map(|step| match step {
            HostStep::Run(command) if command.args.contains(&"install".to_owned()) => Some(
                std::iter::once(command.program.clone())
                    .chain(command.args.clone())
                    .collect(),
            ),
            _ => None,
        })
        .expect("an apt-get install step")
}

#[test]
#[expect(clippy::print_stderr, reason = "a skipped run says why it did nothing")]
fn a_held_dpkg_lock_is_waited_for_not_failed_on() {
    if !enabled() {
        eprintln!("skipped: set SIDECAR_LAB_TEST_DOCKER=1 to run apt for real");
        return;
    }
    // Hold the lock apt takes, as unattended-upgrades does on a freshly booted VM.
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import fcntl, sys, time\n\
             f = open('/var/lib/dpkg/lock-frontend', 'w')\n\
             fcntl.lockf(f, fcntl.LOCK_EX)\n\
             print('held', flush=True)\n\
             time.sleep(6)\n",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("lock holder");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the holder says when it holds the lock");
    assert_eq!(line.trim(), "held");
    let started = std::time::Instant::now();
    let apt = planned_apt_install();
    let output = Command::new(&apt[0])
        .args(&apt[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .expect("apt-get");
    let waited = started.elapsed();
    let _ = holder.wait();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        waited >= std::time::Duration::from_secs(3),
        "apt did not wait for the lock ({waited:?})"
    );
}

/// A root file system holding a static busybox, as a tar stream for `docker import`.
fn busybox_rootfs() -> Vec<u8> {
    if !std::path::Path::new("/bin/busybox").exists() {
        let apt = run(
            "apt-get",
            &[
                "-o",
                "DPkg::Lock::Timeout=600",
                "install",
                "-y",
                "-qq",
                "busybox-static",
            ],
        );
        assert!(
            apt.status.success(),
            "{}",
            String::from_utf8_lossy(&apt.stderr)
        );
    }
    let rootfs = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(rootfs.path().join("bin")).expect("bin");
    std::fs::copy("/bin/busybox", rootfs.path().join("bin/busybox")).expect("copy busybox");
    let tar = Command::new("tar")
        .args(["-C"])
        .arg(rootfs.path())
        .args(["-cf", "-", "."])
        .output()
        .expect("tar");
    assert!(tar.status.success());
    tar.stdout
}

fn docker_import(tar: &[u8], tag: &str) {
    let mut import = Command::new("docker")
        .args(["import", "-", tag])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker import");
    import
        .stdin
        .take()
        .expect("stdin")
        .write_all(tar)
        .expect("write the tar");
    let imported = import.wait_with_output().expect("docker import ends");
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}

#[test]
#[expect(clippy::print_stderr, reason = "a skipped run says why it did nothing")]
fn a_bundled_node_image_is_loaded_checked_and_handed_to_kind_by_tag() {
    use sidecar_lab::bundle::manifest::{
        FORMAT, FileEntry, ImageEntry, KubernetesEntry, MANIFEST, Manifest, layout,
    };
    if !enabled() {
        eprintln!("skipped: set SIDECAR_LAB_TEST_DOCKER=1 to use Docker for real");
        return;
    }
    let output = sidecar_lab(&["install", "docker", "--yes"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A small stand-in for a node image, built without a registry.
    let tag = "sidecar-lab-test/kind-node:v1.37.0";
    docker_import(&busybox_rootfs(), tag);
    let layers: Vec<String> = serde_json::from_slice(
        &run(
            "docker",
            &["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag],
        )
        .stdout,
    )
    .expect("layers");
    let bundle = tempfile::tempdir().expect("bundle");
    let platform = "linux-amd64";
    let minor = sidecar_lab::version::MinorVersion::new(1, 37);
    let archive = layout::node_image(platform, minor);
    std::fs::create_dir_all(bundle.path().join(format!("images/{platform}"))).expect("dir");
    let saved = run(
        "docker",
        &[
            "save",
            "-o",
            bundle.path().join(&archive).to_str().expect("utf-8"),
            tag,
        ],
    );
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let bytes = std::fs::read(bundle.path().join(&archive)).expect("archive");
    let manifest = Manifest {
        format: FORMAT,
        sidecar_lab: "test".into(),
        platforms: vec![platform.into()],
        kubernetes: vec![KubernetesEntry {
            minor,
            kind: "v0.33.0".parse().expect("version"),
            kubectl: "v1.37.0".parse().expect("version"),
            node_image: tag.into(),
        }],
        files: vec![FileEntry {
            path: archive.clone(),
            size: bytes.len() as u64,
            sha256: support_sha256(&bytes),
        }],
        images: vec![ImageEntry {
            tag: tag.into(),
            digest: None,
            layers: layers.clone(),
            archive: archive.clone(),
            platform: platform.into(),
        }],
    };
    std::fs::write(
        bundle.path().join(MANIFEST),
        serde_json::to_string_pretty(&manifest).expect("JSON"),
    )
    .expect("manifest");
    // Gone from Docker, as on a learner's VM; then the load phase brings it back.
    assert!(run("docker", &["image", "rm", tag]).status.success());
    let path = bundle.path().to_str().expect("utf-8");
    // A node image built here is not the matrix's `kindest/node@sha256:…`: refused by
    // the pin compiled into sidecar-lab, with the manifest named, before anything loads.
    let pinned = sidecar_lab(&["bundle", "load", path, "-k", "1.37"]);
    let stderr = String::from_utf8_lossy(&pinned.stderr);
    assert_eq!(pinned.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("manifest.json") && stderr.contains("--allow-unpinned"),
        "{stderr}"
    );
    assert!(
        !run("docker", &["image", "inspect", tag]).status.success(),
        "nothing was loaded"
    );
    // Taken on the bundle's word only when asked, and said loudly.
    let loaded = sidecar_lab(&["bundle", "load", path, "-k", "1.37", "--allow-unpinned"]);
    let stdout = String::from_utf8_lossy(&loaded.stdout);
    let warned = String::from_utf8_lossy(&loaded.stderr);
    assert_eq!(loaded.status.code(), Some(0), "{stdout}{warned}");
    assert!(
        format!("{stdout}{warned}").contains("UNPINNED:"),
        "{stdout}{warned}"
    );
    assert!(
        stdout.contains(&format!("kind gets `--image {tag}`")) && stdout.contains("layers match"),
        "{stdout}"
    );
    let again: Vec<String> = serde_json::from_slice(
        &run(
            "docker",
            &["image", "inspect", "-f", "{{json .RootFS.Layers}}", tag],
        )
        .stdout,
    )
    .expect("layers after load");
    assert_eq!(again, layers, "RootFS.Layers survive save and load");

    // A tampered archive is refused, and named.
    assert!(run("docker", &["image", "rm", tag]).status.success());
    let mut tampered = bytes.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0xff;
    std::fs::write(bundle.path().join(&archive), tampered).expect("tamper");
    let refused = sidecar_lab(&["bundle", "load", path, "-k", "1.37", "--allow-unpinned"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("`{archive}` does not match its manifest")),
        "{stderr}"
    );
    assert!(
        !run("docker", &["image", "inspect", tag]).status.success(),
        "nothing was loaded"
    );
}

fn support_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! Docker for real on this machine: `sidecar-lab install docker` installs the package if
//! needed, starts the daemon (without systemd where there is none) and waits until it
//! answers; then a container runs from an image built locally, as no image registry is
//! reachable here. Runs only with SIDECAR_LAB_TEST_DOCKER=1 (`.ci/run` sets it): it
//! installs packages and leaves dockerd running.

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
    if !std::path::Path::new("/bin/busybox").exists() {
        // Waits for the package lock, as the product's own apt steps do.
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
            "apt-get install busybox-static: {}",
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
    let mut import = Command::new("docker")
        .args(["import", "-", "sidecar-lab-test/busybox:1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker import");
    import
        .stdin
        .take()
        .expect("stdin")
        .write_all(&tar.stdout)
        .expect("write the tar");
    let imported = import.wait_with_output().expect("docker import ends");
    assert!(
        imported.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&imported.stderr)
    );

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

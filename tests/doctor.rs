//! `sidecar-lab doctor` for real on this machine, and with Docker absent, hung or
//! forbidden (scripted `docker` executables first on PATH); and SIGTERM or SIGHUP while
//! a scripted `docker` runs, which must not outlive sidecar-lab.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn doctor(path: Option<&Path>) -> (Output, Duration) {
    let mut command = Command::cargo_bin("sidecar-lab").expect("built");
    command
        .args(["doctor", "--output", "json"])
        .env("NO_COLOR", "1");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let started = Instant::now();
    let output = command.output().expect("runs");
    (output, started.elapsed())
}

fn report(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

fn check<'a>(report: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    report
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

/// A directory holding the system tools doctor uses, and a scripted `docker` if given.
fn tools_dir(docker: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for tool in ["sh", "stat", "df", "id", "sleep", "cat", "echo"] {
        if let Some(found) = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
        {
            std::os::unix::fs::symlink(found, dir.path().join(tool)).expect("symlink");
        }
    }
    if let Some(script) = docker {
        let path = dir.path().join("docker");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write docker");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

#[test]
fn the_report_is_right_for_this_machine_and_quick() {
    let (output, elapsed) = doctor(None);
    let report = report(&output);
    let ids: Vec<&str> = report.iter().filter_map(|c| c["id"].as_str()).collect();
    for id in sidecar_lab::doctor::checks::ALWAYS {
        assert!(ids.contains(&id), "no `{id}` in {ids:?}");
    }
    for entry in &report {
        assert!(
            ["pass", "warn", "fail"].contains(&entry["status"].as_str().unwrap_or_default()),
            "{entry}"
        );
        assert!(
            entry["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{entry}"
        );
    }
    // Exit status 1 exactly when something failed.
    let failed = report.iter().any(|c| c["status"] == "fail");
    assert_eq!(output.status.code(), Some(i32::from(failed)));

    // The facts, read independently.
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    assert_eq!(check(&report, "cpus")["message"], format!("{cpus} CPUs"));
    assert_eq!(
        check(&report, "cpus")["status"],
        if cpus >= 2 { "pass" } else { "fail" }
    );
    let read = |file: &str| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    if let Some(watches) = read("/proc/sys/fs/inotify/max_user_watches") {
        assert_eq!(
            check(&report, "inotify-watches")["status"],
            if watches >= 524_288 { "pass" } else { "fail" }
        );
    }
    if let Some(instances) = read("/proc/sys/fs/inotify/max_user_instances") {
        assert_eq!(
            check(&report, "inotify-instances")["status"],
            if instances >= 512 { "pass" } else { "fail" }
        );
    }
    let docker_answers = std::process::Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|o| o.status.success());
    assert_eq!(
        check(&report, "docker-daemon")["status"] == "pass",
        docker_answers
    );
    assert!(elapsed < Duration::from_secs(3), "doctor took {elapsed:?}");
}

#[test]
fn without_docker_it_says_so_and_does_not_crash() {
    let tools = tools_dir(None);
    let (output, _) = doctor(Some(tools.path()));
    let report = report(&output);
    assert_eq!(check(&report, "docker-cli")["status"], "warn");
    assert_eq!(
        check(&report, "docker-cli")["message"],
        "Docker is not installed"
    );
    assert_eq!(
        check(&report, "docker-cli")["fix"],
        "sidecar-lab install docker"
    );
    assert!(matches!(output.status.code(), Some(0 | 1)));
}

#[test]
fn a_hung_daemon_is_reported_not_waited_on() {
    let tools = tools_dir(Some("exec sleep 60"));
    let (output, elapsed) = doctor(Some(tools.path()));
    let report = report(&output);
    let daemon = check(&report, "docker-daemon");
    assert_eq!(daemon["status"], "fail");
    assert!(
        daemon["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not finish within 5 s")),
        "{daemon}"
    );
    assert!(elapsed < Duration::from_secs(12), "doctor took {elapsed:?}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn permission_denied_on_the_socket_points_to_the_docker_group() {
    let script = r#"echo '{"Client":{"Version":"28.2.2"},"Server":null}'
echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: connect: permission denied' >&2
exit 1"#;
    let tools = tools_dir(Some(script));
    let (output, _) = doctor(Some(tools.path()));
    let report = report(&output);
    let daemon = check(&report, "docker-daemon");
    assert_eq!(daemon["status"], "warn");
    assert!(
        daemon["fix"]
            .as_str()
            .is_some_and(|f| f.contains("usermod -aG docker") && f.contains("newgrp docker")),
        "{daemon}"
    );
}

/// The non-zombie processes whose process group is `pgid`, from /proc.
fn group_members(pgid: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid pgrp …: comm may hold spaces, so split after it.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            fields.first() != Some(&"Z") && fields.get(2) == Some(&pgid)
        })
        .collect()
}

/// SIGTERM or SIGHUP (a closed SSH window) to sidecar-lab while its child runs: the
/// child's group goes with it, so nothing works on after sidecar-lab's lock is released.
#[test]
fn a_terminating_signal_takes_the_running_children_along() {
    for signal in ["TERM", "HUP"] {
        let pids = tempfile::NamedTempFile::new().expect("pid file");
        // The stand-in writes its pid (its group's id: it leads one) and sleeps in a child.
        let tools = tools_dir(Some(&format!(
            "echo $$ >> '{}'; sleep 60; echo",
            pids.path().display()
        )));
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sidecar-lab"))
            .args(["doctor", "--output", "json"])
            .env("NO_COLOR", "1")
            .env("PATH", tools.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("runs");
        let started = Instant::now();
        let groups = loop {
            let text = std::fs::read_to_string(pids.path()).unwrap_or_default();
            let groups: Vec<String> = text.lines().map(str::to_owned).collect();
            let sleeping = groups.iter().any(|g| group_members(g).len() >= 2);
            if sleeping || started.elapsed() > Duration::from_secs(10) {
                break groups;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(!groups.is_empty(), "the stand-in docker never ran");
        let kill = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(kill.success());
        let status = child.wait().expect("ends");
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        // The kernel reaps orphans a moment later.
        let left = || -> Vec<String> { groups.iter().flat_map(|g| group_members(g)).collect() };
        let waited = Instant::now();
        while !left().is_empty() && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(
            left(),
            Vec::<String>::new(),
            "left behind after SIG{signal}"
        );
        assert!(started.elapsed() < Duration::from_secs(10), "SIG{signal}");
    }
}

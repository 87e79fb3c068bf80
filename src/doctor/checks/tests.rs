//! Tests of `checks`.

use super::*;
use crate::doctor::gather::DiskFree;
use crate::version::ReleaseVersion;

fn target(minor: u32) -> Target {
    Target {
        kubernetes: MinorVersion::new(1, minor),
        cluster_name: "sidecar-lab".into(),
    }
}

fn healthy() -> Facts {
    Facts {
        platform: Some(Ok("linux-amd64".parse().expect("platform"))),
        cpus: Some(4),
        memory_kib: Some(16 * GIB),
        disk: Some(DiskFree {
            path: "/var/lib/docker".into(),
            free_kib: 80 * GIB,
        }),
        docker: Some(DockerStatus::Running {
            client: Some("28.2.2".into()),
            server: "28.2.2".into(),
        }),
        docker_info: Some(
            serde_json::json!({"CgroupVersion": "2", "DockerRootDir": "/var/lib/docker"}),
        ),
        cgroup_fs: Some("cgroup2fs".into()),
        inotify_watches: Some(524_288),
        inotify_instances: Some(512),
        kind: Some(Found {
            path: "/home/l/.local/bin/kind".into(),
            version: "v0.33.0".parse().ok(),
        }),
        kubectl: Some(Found {
            path: "/home/l/.local/bin/kubectl".into(),
            version: "v1.37.0".parse().ok(),
        }),
        kind_clusters: Some(vec![]),
        ..Facts::default()
    }
}

fn status(checks: &[Check], id: &str) -> Status {
    checks
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| panic!("no check {id}"), |c| c.status)
}

#[test]
fn a_healthy_host_passes_everything() {
    let checks = all(&healthy(), &target(37));
    let failing: Vec<_> = checks.iter().filter(|c| c.status != Status::Pass).collect();
    assert!(failing.is_empty(), "{failing:#?}");
    let ids: Vec<_> = checks.iter().map(|c| c.id).collect();
    assert_eq!(ids, ALWAYS);
}

#[test]
fn resources_have_thresholds() {
    fn with(change: impl Fn(&mut Facts)) -> Vec<Check> {
        let mut facts = healthy();
        change(&mut facts);
        all(&facts, &target(37))
    }
    assert_eq!(status(&with(|f| f.cpus = Some(1)), "cpus"), Status::Fail);
    assert_eq!(
        status(&with(|f| f.memory_kib = Some(6 * GIB)), "memory"),
        Status::Warn
    );
    assert_eq!(
        status(&with(|f| f.memory_kib = Some(3 * GIB)), "memory"),
        Status::Fail
    );
    let low = |kib| {
        move |f: &mut Facts| {
            f.disk = Some(DiskFree {
                path: "/".into(),
                free_kib: kib,
            });
        }
    };
    assert_eq!(status(&with(low(9 * GIB)), "disk"), Status::Warn);
    assert_eq!(status(&with(low(GIB)), "disk"), Status::Fail);
}

#[test]
fn the_three_docker_failure_modes_read_differently() {
    let cases = [
        (DockerStatus::Missing, Status::Warn, "not installed"),
        (
            DockerStatus::DaemonDown {
                client: None,
                dockerd_installed: true,
            },
            Status::Warn,
            "not running",
        ),
        (
            DockerStatus::PermissionDenied { client: None },
            Status::Warn,
            "permission denied",
        ),
        (
            DockerStatus::Broken(
                "`docker version` did not finish within 5 s and was stopped".into(),
            ),
            Status::Fail,
            "did not finish",
        ),
    ];
    for (docker, expected, words) in cases {
        let mut facts = healthy();
        facts.docker = Some(docker);
        facts.docker_info = None;
        let checks = all(&facts, &target(37));
        let check = checks
            .iter()
            .find(|c| c.id == "docker-daemon")
            .expect("check");
        assert_eq!(check.status, expected, "{check:?}");
        assert!(check.message.contains(words), "{check:?}");
        assert!(check.fix.is_some());
    }
    let mut facts = healthy();
    facts.docker = Some(DockerStatus::PermissionDenied { client: None });
    let fix = all(&facts, &target(37))
        .into_iter()
        .find(|c| c.id == "docker-daemon")
        .and_then(|c| c.fix);
    assert!(fix.is_some_and(|f| f.contains("newgrp docker")));
}

#[test]
fn docker_versions() {
    let with = |server: &str| {
        let mut facts = healthy();
        facts.docker = Some(DockerStatus::Running {
            client: None,
            server: server.into(),
        });
        status(&all(&facts, &target(37)), "docker-daemon")
    };
    assert_eq!(with("25.0.0"), Status::Warn);
    assert_eq!(with("25.0.1"), Status::Pass);
    assert_eq!(with("19.03.15"), Status::Fail);
    assert_eq!(with("20.10.24+dfsg1"), Status::Pass);
}

#[test]
fn cgroup_v1_is_a_warning_before_1_35_and_a_failure_after() {
    let mut facts = healthy();
    facts.docker_info = Some(serde_json::json!({"CgroupVersion": "1"}));
    assert_eq!(status(&all(&facts, &target(34)), "cgroup"), Status::Warn);
    assert_eq!(status(&all(&facts, &target(35)), "cgroup"), Status::Fail);
    facts.docker_info = None;
    facts.cgroup_fs = Some("tmpfs".into());
    assert_eq!(status(&all(&facts, &target(37)), "cgroup"), Status::Fail);
    facts.cgroup_fs = Some("cgroup2fs".into());
    assert_eq!(status(&all(&facts, &target(37)), "cgroup"), Status::Pass);
}

#[test]
fn inotify_limits_as_ubuntu_ships_them_fail() {
    let mut facts = healthy();
    facts.inotify_watches = Some(8192);
    facts.inotify_instances = Some(128);
    let checks = all(&facts, &target(37));
    assert_eq!(status(&checks, "inotify-watches"), Status::Fail);
    assert_eq!(status(&checks, "inotify-instances"), Status::Fail);
}

#[test]
fn kubectl_must_be_within_one_minor() {
    let mut facts = healthy();
    facts.kubectl = Some(Found {
        path: "/usr/bin/kubectl".into(),
        version: "v1.32.4".parse::<ReleaseVersion>().ok(),
    });
    assert_eq!(status(&all(&facts, &target(37)), "kubectl"), Status::Warn);
    assert_eq!(status(&all(&facts, &target(33)), "kubectl"), Status::Pass);
    facts.kubectl = None;
    assert_eq!(status(&all(&facts, &target(37)), "kubectl"), Status::Warn);
}

#[test]
fn an_existing_cluster_and_proxies_are_told() {
    let mut facts = healthy();
    facts.kind_clusters = Some(vec!["sidecar-lab".into()]);
    facts.proxy = vec![("HTTPS_PROXY".into(), "http://proxy:3128".into())];
    let checks = all(&facts, &target(37));
    let cluster = checks
        .iter()
        .find(|c| c.id == "cluster-name")
        .expect("check");
    assert!(
        cluster.message.contains("reuses it")
            && cluster
                .message
                .contains("kind delete cluster --name sidecar-lab")
    );
    assert_eq!(status(&checks, "proxy"), Status::Warn);
}

#[test]
fn known_host_problems_from_kinds_known_issues() {
    let mut facts = healthy();
    facts.daemon_json = Some(r#"{"init": true}"#.into());
    facts.kernel = Some("Linux version 5.15.153.1-microsoft-standard-WSL2".into());
    facts.docker_info = Some(serde_json::json!({
        "CgroupVersion": "2",
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=rootless", "name=cgroupns"],
        "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]
    }));
    let checks = all(&facts, &target(37));
    assert_eq!(status(&checks, "docker-init"), Status::Fail);
    assert_eq!(status(&checks, "wsl"), Status::Warn);
    assert_eq!(status(&checks, "docker-rootless"), Status::Warn);
    assert_eq!(status(&checks, "docker-image-store"), Status::Pass);
}

//! Tests of `plan`.

use super::*;
use crate::platform::Distro;

fn v(text: &str) -> ReleaseVersion {
    text.parse().expect("version")
}

fn request(kind: &str, kubectl: &str) -> Request {
    Request {
        tools: Tool::ALL.to_vec(),
        kind: v(kind),
        kubectl: v(kubectl),
        kubectl_for: None,
        bundled: None,
        bin_dir: PathBuf::from("/home/learner/.local/bin"),
        mirror: None,
        allow_http: false,
        docker_source: DockerSource::Distribution,
    }
}

fn docker_host() -> DockerHost {
    DockerHost {
        platform: "linux-amd64".parse().expect("platform"),
        distro: Some(Distro::parse_os_release("ID=debian\n")),
        is_root: true,
        systemd: false,
        user: None,
        state_dir: PathBuf::from("/state"),
        dockerd: None,
    }
}

fn matrix() -> VersionMatrix {
    VersionMatrix::embedded().expect("matrix")
}

fn run(request: &Request, installed: &Installed) -> Plan {
    plan(
        request,
        "linux-amd64".parse().expect("platform"),
        &docker_host(),
        installed,
        &matrix(),
    )
}

fn nothing() -> Installed {
    Installed {
        docker: DockerStatus::Missing,
        kind: None,
        kubectl: None,
    }
}

#[test]
fn a_fresh_machine_downloads_both_with_pins_where_the_matrix_has_them() {
    let plan = run(&request("v0.33.0", "v1.35.8"), &nothing());
    assert!(matches!(
        &plan.actions[0],
        Action::Docker(DockerPlan::Steps { .. })
    ));
    let Action::Download(kind) = &plan.actions[1] else {
        panic!("{plan:?}")
    };
    assert_eq!(
        kind.url,
        "https://github.com/kubernetes-sigs/kind/releases/download/v0.33.0/kind-linux-amd64"
    );
    assert_eq!(kind.checksum_url, format!("{}.sha256sum", kind.url));
    assert_eq!(
        kind.pinned_sha256.as_deref(),
        Some("aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d")
    );
    assert_eq!(
        kind.destination,
        PathBuf::from("/home/learner/.local/bin/kind")
    );
    let Action::Download(kubectl) = &plan.actions[2] else {
        panic!("{plan:?}")
    };
    assert_eq!(kubectl.checksum_url, format!("{}.sha256", kubectl.url));
    assert_eq!(
        kubectl.pinned_sha256.as_deref(),
        Some("874d5e72dbb819f43cff16bcd1e4f8bac5b7f2361fe1e55049b0a6c676fb0cbf")
    );
}

#[test]
fn versions_without_a_pin_rely_on_the_checksum_file() {
    let plan = run(&request("v0.99.1", "v1.99.0"), &nothing());
    for action in &plan.actions[1..] {
        let Action::Download(download) = action else {
            panic!("{action:?}")
        };
        assert_eq!(download.pinned_sha256, None);
    }
}

#[test]
fn tools_at_the_requested_version_are_not_downloaded_again() {
    let installed = Installed {
        docker: DockerStatus::Running {
            client: None,
            server: "20.10.24".into(),
        },
        kind: Some(Found {
            path: "/home/learner/.local/bin/kind".into(),
            version: Some(v("v0.33.0")),
        }),
        kubectl: Some(Found {
            path: "/usr/local/bin/kubectl".into(),
            version: Some(v("v1.37.0")),
        }),
    };
    let plan = run(&request("v0.33.0", "v1.37.0"), &installed);
    assert!(plan.is_noop(), "{plan:?}");
    assert!(plan.notes.is_empty());
}

#[test]
fn another_version_elsewhere_on_path_is_replaced_in_the_bin_dir_with_a_note() {
    let installed = Installed {
        kubectl: Some(Found {
            path: "/usr/local/bin/kubectl".into(),
            version: Some(v("v1.30.0")),
        }),
        ..nothing()
    };
    let mut request = request("v0.33.0", "v1.37.0");
    request.tools = vec![Tool::Kubectl];
    let plan = run(&request, &installed);
    assert!(
        matches!(&plan.actions[..], [Action::Download(_)]),
        "{plan:?}"
    );
    assert!(
        plan.notes[0].contains("/usr/local/bin/kubectl")
            && plan.notes[0].contains("comes first on PATH")
    );
}

#[test]
fn a_kubectl_within_one_minor_of_the_cluster_is_kept() {
    let with = |version: &str| Installed {
        kubectl: Some(Found {
            path: "/usr/local/bin/kubectl".into(),
            version: Some(v(version)),
        }),
        ..nothing()
    };
    let mut request = request("v0.33.0", "v1.37.0");
    request.tools = vec![Tool::Kubectl];
    request.kubectl_for = Some(MinorVersion::new(1, 37));
    for kept in ["v1.36.4", "v1.37.1", "v1.38.0"] {
        let plan = run(&request, &with(kept));
        assert!(plan.is_noop() && plan.notes.is_empty(), "{kept}: {plan:?}");
        let Action::Fine { detail, .. } = &plan.actions[0] else {
            panic!("{plan:?}")
        };
        assert!(
            detail.contains("within one minor of Kubernetes 1.37"),
            "{detail}"
        );
    }
    for replaced in ["v1.35.8", "v1.39.0", "v2.37.0"] {
        let plan = run(&request, &with(replaced));
        assert!(
            matches!(&plan.actions[..], [Action::Download(_)]),
            "{replaced}: {plan:?}"
        );
    }
    // A version the user named is installed as named.
    request.kubectl_for = None;
    assert!(!run(&request, &with("v1.37.1")).is_noop());
}

#[test]
fn a_bundle_replaces_downloads_and_says_what_it_lacks() {
    let mut request = request("v0.33.0", "v1.37.0");
    request.tools = vec![Tool::Kind, Tool::Kubectl];
    request.bundled = Some(vec![
        (
            Tool::Kind,
            Offer::Taken(Bundled {
                path: "bin/linux-amd64/kind-v0.33.0".into(),
                sha256: "ab".repeat(32),
                version: v("v0.33.0"),
                unpinned: Some("UNPINNED: kind".into()),
            }),
        ),
        (Tool::Kubectl, Offer::Missing),
    ]);
    let plan = run(&request, &nothing());
    assert!(
        matches!(
            &plan.actions[0],
            Action::FromBundle {
                tool: Tool::Kind,
                ..
            }
        ),
        "{plan:?}"
    );
    assert!(
        matches!(
            &plan.actions[1],
            Action::Cannot {
                tool: Tool::Kubectl,
                ..
            }
        ),
        "{plan:?}"
    );
    assert!(plan.has_cannot());
    assert_eq!(plan.notes, ["UNPINNED: kind"], "the warning is in the plan");
    request.bundled = Some(vec![(
        Tool::Kind,
        Offer::Refused("the bundle's `bin/x`".into()),
    )]);
    let plan = run(&request, &nothing());
    assert!(
        matches!(&plan.actions[0], Action::Cannot { reason, .. } if reason.contains("`bin/x`")),
        "{plan:?}"
    );
}

#[test]
fn an_http_mirror_serves_only_pinned_binaries_unless_allowed() {
    let mut request = request("v0.33.0", "v1.30.13");
    request.tools = vec![Tool::Kind, Tool::Kubectl];
    request.mirror = Some(Mirror::parse("http://127.0.0.1:9").expect("mirror"));
    let plan = run(&request, &nothing());
    assert!(
        matches!(&plan.actions[0], Action::Download(_)),
        "kind is pinned: {plan:?}"
    );
    let Action::Cannot { reason, .. } = &plan.actions[1] else {
        panic!("{plan:?}")
    };
    assert!(
        reason.contains("kubectl v1.30.13") && reason.contains("--allow-http"),
        "{reason}"
    );
    request.allow_http = true;
    let plan = run(&request, &nothing());
    assert!(matches!(&plan.actions[1], Action::Download(_)), "{plan:?}");
}

#[test]
fn only_the_named_tools_are_planned_in_a_fixed_order() {
    let mut request = request("v0.33.0", "v1.37.0");
    request.tools = vec![Tool::Kubectl, Tool::Kind];
    let plan = run(&request, &nothing());
    let tools: Vec<Tool> = plan
        .actions
        .iter()
        .filter_map(|a| {
            if let Action::Download(d) = a {
                Some(d.tool)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(tools, [Tool::Kind, Tool::Kubectl]);
}

#[test]
fn the_mirror_is_used_for_binaries_and_checksums() {
    let mut request = request("v0.33.0", "v1.37.1");
    request.mirror = Some(Mirror::parse("http://127.0.0.1:9").expect("mirror"));
    let plan = run(&request, &nothing());
    for action in &plan.actions[1..] {
        let Action::Download(d) = action else {
            panic!("{action:?}")
        };
        assert!(
            d.url.starts_with("http://127.0.0.1:9/")
                && d.checksum_url.starts_with("http://127.0.0.1:9/")
        );
    }
}

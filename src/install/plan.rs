//! The install plan: for each requested tool, already fine / download (URL, digest,
//! destination) / Docker steps / cannot, and why. Pure: host, request and what is
//! installed in; plan out. Printed before anything happens; `--dry-run` stops there.

use std::path::{Path, PathBuf};

use crate::install::Tool;
use crate::install::detect::{DockerStatus, Found};
use crate::install::docker::{self, DockerHost, DockerPlan, DockerSource};
use crate::install::urls::{self, Mirror};
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::platform::Platform;
use crate::version::{MinorVersion, ReleaseVersion};

/// What the user asked for, resolved against the version matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub tools: Vec<Tool>,
    pub kind: ReleaseVersion,
    pub kubectl: ReleaseVersion,
    /// The cluster's minor when any kubectl within the supported skew of it will do (the
    /// user named no kubectl version): such a kubectl is kept, not shadowed by a download.
    pub kubectl_for: Option<MinorVersion>,
    /// kind and kubectl from a bundle instead of the internet: what the bundle offers for
    /// each tool.
    pub bundled: Option<Vec<(Tool, Offer)>>,
    pub bin_dir: PathBuf,
    pub mirror: Option<Mirror>,
    /// `--allow-http`: an http:// mirror may serve binaries no pin vouches for.
    pub allow_http: bool,
    pub docker_source: DockerSource,
}

/// What is installed already.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub docker: DockerStatus,
    pub kind: Option<Found>,
    pub kubectl: Option<Found>,
}

/// A binary to download, verify and place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    pub tool: Tool,
    pub version: ReleaseVersion,
    pub url: String,
    /// The checksum file published beside the binary.
    pub checksum_url: String,
    /// The digest pinned in the version matrix, when it has one.
    pub pinned_sha256: Option<String>,
    pub destination: PathBuf,
}

/// A binary a bundle carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundled {
    /// Its path inside the bundle.
    pub path: String,
    pub sha256: String,
    pub version: ReleaseVersion,
    /// The warning when no pin vouches for it (taken because of `--allow-unpinned`).
    pub unpinned: Option<String>,
}

/// What a bundle offers for one tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// The bundle does not carry it at that version.
    Missing,
    /// It carries one that may not be used: why, naming the file.
    Refused(String),
    Taken(Bundled),
}

/// What happens to one tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Present at the requested version (or, for Docker, answering).
    Fine {
        tool: Tool,
        detail: String,
    },
    Download(Download),
    /// Copied from the bundle (checked against its manifest first).
    FromBundle {
        tool: Tool,
        bundled: Bundled,
        destination: PathBuf,
    },
    Docker(DockerPlan),
    Cannot {
        tool: Tool,
        reason: String,
    },
}

/// The whole plan, in the order the tools are installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Things to know that change nothing (another kubectl earlier on PATH, say).
    pub notes: Vec<String>,
}

impl Plan {
    /// True when nothing needs doing.
    pub fn is_noop(&self) -> bool {
        self.actions
            .iter()
            .all(|a| matches!(a, Action::Fine { .. }))
    }

    /// True when some tool cannot be installed.
    pub fn has_cannot(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Cannot { .. } | Action::Docker(DockerPlan::Cannot(_))
            )
        })
    }
}

/// The kind and kubectl versions for a Kubernetes release, unless the user named others.
pub fn versions(
    release: &KubernetesRelease,
    kind: Option<ReleaseVersion>,
    kubectl: Option<ReleaseVersion>,
) -> (ReleaseVersion, ReleaseVersion) {
    (
        kind.unwrap_or(release.kind),
        kubectl.unwrap_or(release.kubectl),
    )
}

/// The plan for `request` on `platform` (`docker_host` describes the rest of the host).
pub fn plan(
    request: &Request,
    platform: Platform,
    docker_host: &DockerHost,
    installed: &Installed,
    matrix: &VersionMatrix,
) -> Plan {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for tool in Tool::ALL.into_iter().filter(|t| request.tools.contains(t)) {
        let action = match tool {
            Tool::Docker => {
                match docker::plan(docker_host, &installed.docker, request.docker_source) {
                    DockerPlan::Fine { server } => Action::Fine {
                        tool,
                        detail: format!("daemon {server} answers"),
                    },
                    other => Action::Docker(other),
                }
            }
            Tool::Kind => binary(
                tool,
                request.kind,
                installed.kind.as_ref(),
                &request.bin_dir,
                urls::kind(request.kind, platform, request.mirror.as_ref()),
                ".sha256sum",
                pinned_kind(matrix, request.kind, platform),
            ),
            Tool::Kubectl => match within_skew(installed.kubectl.as_ref(), request.kubectl_for) {
                Some((found, version, minor)) => Action::Fine {
                    tool,
                    detail: format!(
                        "{version} at {} (within one minor of Kubernetes {minor})",
                        found.path.display()
                    ),
                },
                None => binary(
                    tool,
                    request.kubectl,
                    installed.kubectl.as_ref(),
                    &request.bin_dir,
                    urls::kubectl(request.kubectl, platform, request.mirror.as_ref()),
                    ".sha256",
                    pinned_kubectl(matrix, request.kubectl, platform),
                ),
            },
        };
        let action = match (&action, bundled(request, tool)) {
            (Action::Download(download), Some(Offer::Taken(bundled))) => {
                notes.extend(bundled.unpinned.clone());
                Action::FromBundle {
                    tool,
                    bundled: bundled.clone(),
                    destination: download.destination.clone(),
                }
            }
            (Action::Download(_), Some(Offer::Refused(reason))) => Action::Cannot {
                tool,
                reason: reason.clone(),
            },
            (Action::Download(download), Some(Offer::Missing)) => Action::Cannot {
                tool,
                reason: format!(
                    "the bundle carries no {tool} {} for {platform}: make the bundle for this Kubernetes version and platform",
                    download.version
                ),
            },
            (Action::Download(download), None) => match plain_http_refusal(download, request) {
                Some(reason) => Action::Cannot { tool, reason },
                None => action,
            },
            _ => action,
        };
        if let (Action::Download(download), Some(found)) = (&action, found_of(tool, installed)) {
            if found.path != download.destination {
                notes.push(format!(
                    "{tool} {} at {} stays; the new one goes to {} — make sure that directory comes first on PATH",
                    found.version.map_or("(unknown version)".to_owned(), |v| v.to_string()),
                    found.path.display(),
                    download.destination.display()
                ));
            }
        }
        actions.push(action);
    }
    Plan { actions, notes }
}

/// A kubectl that kubectl's version skew policy allows with the cluster's minor (±1).
fn within_skew(
    found: Option<&Found>,
    cluster: Option<MinorVersion>,
) -> Option<(&Found, ReleaseVersion, MinorVersion)> {
    let (found, cluster) = (found?, cluster?);
    let version = found.version?;
    let skew = i64::from(version.minor) - i64::from(cluster.minor);
    (version.major == cluster.major && skew.abs() <= 1).then_some((found, version, cluster))
}

/// What the bundle offers for `tool`: `None` without a bundle.
fn bundled(request: &Request, tool: Tool) -> Option<&Offer> {
    let bundled = request.bundled.as_ref()?;
    Some(
        bundled
            .iter()
            .find(|(t, _)| *t == tool)
            .map_or(&Offer::Missing, |(_, offer)| offer),
    )
}

/// Why a download from a plain http:// mirror may not happen: with no pin, whoever sits
/// on the network serves both the binary and its checksum file. `None` when it may.
fn plain_http_refusal(download: &Download, request: &Request) -> Option<String> {
    let plain = download.url.starts_with("http://");
    (plain && download.pinned_sha256.is_none() && !request.allow_http).then(|| {
        format!(
            "{} {} would come from {} over plain http:// and sidecar-lab pins no SHA-256 for it, so a replaced binary could not be told apart: use an https:// mirror, a bundle (--bundle), or pass --allow-http",
            download.tool, download.version, download.url
        )
    })
}

fn found_of(tool: Tool, installed: &Installed) -> Option<&Found> {
    match tool {
        Tool::Docker => None,
        Tool::Kind => installed.kind.as_ref(),
        Tool::Kubectl => installed.kubectl.as_ref(),
    }
}

fn binary(
    tool: Tool,
    version: ReleaseVersion,
    found: Option<&Found>,
    bin_dir: &Path,
    url: String,
    checksum_suffix: &str,
    pinned_sha256: Option<String>,
) -> Action {
    if let Some(found) = found.filter(|f| f.version == Some(version)) {
        return Action::Fine {
            tool,
            detail: format!("{version} at {}", found.path.display()),
        };
    }
    Action::Download(Download {
        tool,
        version,
        checksum_url: format!("{url}{checksum_suffix}"),
        url,
        pinned_sha256,
        destination: bin_dir.join(tool.name()),
    })
}

fn pinned_kind(
    matrix: &VersionMatrix,
    version: ReleaseVersion,
    platform: Platform,
) -> Option<String> {
    matrix
        .kind_binaries
        .get(&version)?
        .get(&platform.to_string())
        .cloned()
}

fn pinned_kubectl(
    matrix: &VersionMatrix,
    version: ReleaseVersion,
    platform: Platform,
) -> Option<String> {
    matrix
        .kubernetes
        .iter()
        .find(|release| release.kubectl == version)?
        .kubectl_sha256
        .get(&platform.to_string())
        .cloned()
}

#[cfg(test)]
mod tests {
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
}

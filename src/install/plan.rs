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
pub(crate) struct Request {
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
pub(crate) struct Installed {
    pub docker: DockerStatus,
    pub kind: Option<Found>,
    pub kubectl: Option<Found>,
}

/// A binary to download, verify and place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Download {
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
pub(crate) struct Bundled {
    /// Its path inside the bundle.
    pub path: String,
    pub sha256: String,
    pub version: ReleaseVersion,
    /// The warning when no pin vouches for it (taken because of `--allow-unpinned`).
    pub unpinned: Option<String>,
}

/// What a bundle offers for one tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// The bundle does not carry it at that version.
    Missing,
    /// It carries one that may not be used: why, naming the file.
    Refused(String),
    Taken(Bundled),
}

/// What happens to one tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
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
pub(crate) struct Plan {
    pub actions: Vec<Action>,
    /// Things to know that change nothing (another kubectl earlier on PATH, say).
    pub notes: Vec<String>,
}

impl Plan {
    /// True when nothing needs doing.
    pub(crate) fn is_noop(&self) -> bool {
        self.actions
            .iter()
            .all(|a| matches!(a, Action::Fine { .. }))
    }

    /// True when some tool cannot be installed.
    pub(crate) fn has_cannot(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a,
                Action::Cannot { .. } | Action::Docker(DockerPlan::Cannot(_))
            )
        })
    }
}

/// The kind and kubectl versions for a Kubernetes release, unless the user named others.
pub(crate) fn versions(
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
pub(crate) fn plan(
    request: &Request,
    platform: Platform,
    docker_host: &DockerHost,
    installed: &Installed,
    matrix: &VersionMatrix,
) -> Plan {
    let mut actions = Vec::new();
    let mut notes = Vec::new();
    for tool in Tool::ALL.into_iter().filter(|t| request.tools.contains(t)) {
        let action = wanted(tool, request, platform, docker_host, installed, matrix);
        let action = offered(action, tool, request, platform, &mut notes);
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

/// What `tool` needs from the host alone: fine as it is, or a download (or Docker's steps).
fn wanted(
    tool: Tool,
    request: &Request,
    platform: Platform,
    docker_host: &DockerHost,
    installed: &Installed,
    matrix: &VersionMatrix,
) -> Action {
    match tool {
        Tool::Docker => match docker::plan(docker_host, &installed.docker, request.docker_source) {
            DockerPlan::Fine { server } => Action::Fine {
                tool,
                detail: format!("daemon {server} answers"),
            },
            other => Action::Docker(other),
        },
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
    }
}

/// A download taken from the bundle instead where it offers the binary (refused where it
/// refuses it or lacks it), or refused over plain http without a bundle.
fn offered(
    action: Action,
    tool: Tool,
    request: &Request,
    platform: Platform,
    notes: &mut Vec<String>,
) -> Action {
    match (&action, bundled(request, tool)) {
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
    }
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
mod tests;

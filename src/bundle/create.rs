//! `sidecar-lab bundle create`: on one machine with internet, everything thirty VMs need
//! to come up without it — kind and kubectl per platform (verified as `install` verifies
//! them), sidecar-lab itself, the node image pulled by its pinned digest and saved by its
//! tag, the lab's images — with `manifest.json` and `SHA256SUMS`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::assets;
use crate::bundle::images::{Docker, save_images};
use crate::bundle::manifest::{
    FORMAT, FileEntry, ImageEntry, KubernetesEntry, MANIFEST, Manifest, SHA256SUMS, layout,
};
use crate::clock::Clock;
use crate::http::HttpClient;
use crate::install::Tool;
use crate::install::download::{self, RetryPolicy};
use crate::install::plan::Download;
use crate::install::urls::{self, Mirror};
use crate::matrix::{KubernetesRelease, VersionMatrix};
use crate::platform::Platform;
use crate::render::job;
use crate::runner::{CommandLine, Runner, checked};
use crate::state::write_atomically;
use crate::ui::Printer;
use crate::ui::progress::DownloadProgress;
use crate::version::MinorVersion;
use crate::world::World;

/// Unpacking a release archive from `--dist`: seconds on a VM, bounded all the same.
const UNPACK_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What to bundle.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub kubernetes: Vec<MinorVersion>,
    pub platforms: Vec<Platform>,
    pub output: PathBuf,
    pub mirror: Option<String>,
    /// `scripts/dist.sh`'s output: sidecar-lab for the platforms other than this one.
    pub dist: Option<PathBuf>,
    /// `--allow-http`: an http:// mirror may serve binaries no pin vouches for.
    pub allow_http: bool,
}

/// What every part of one bundle is made with.
struct Making<'a> {
    settings: &'a Settings,
    runner: &'a dyn Runner,
    printer: Printer,
    clock: &'a dyn Clock,
    matrix: &'a VersionMatrix,
    releases: &'a [&'a KubernetesRelease],
    mirror: Option<Mirror>,
    client: &'a HttpClient,
    progress: DownloadProgress,
}

/// Writes the bundle of `settings`' releases from `matrix`; returns its manifest.
pub(crate) fn create(
    settings: &Settings,
    matrix: &VersionMatrix,
    world: &World<'_>,
) -> anyhow::Result<Manifest> {
    let (runner, printer) = (world.runner, *world.printer);
    let minors = if settings.kubernetes.is_empty() {
        vec![matrix.release_or_default(None)?.minor]
    } else {
        settings.kubernetes.clone()
    };
    let releases = minors
        .iter()
        .map(|m| matrix.release(*m))
        .collect::<Result<Vec<_>, _>>()?;
    let mirror = settings.mirror.as_deref().map(Mirror::parse).transpose()?;
    let out = &settings.output;
    crate::files::create_dir_all(out)
        .with_context(|| format!("cannot create `{}`", out.display()))?;
    let making = Making {
        settings,
        runner,
        printer,
        clock: world.clock,
        matrix,
        releases: &releases,
        mirror,
        client: world.http.get()?,
        progress: DownloadProgress::new(printer),
    };
    let mut images = Vec::new();
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let lab_images = job::images(&template);

    for &platform in &settings.platforms {
        making.tools(platform)?;
        making.sidecar_lab(platform)?;
        images.extend(making.node_images(platform)?);
        images.extend(making.lab_images(platform, &lab_images)?);
    }

    let manifest = Manifest {
        format: FORMAT,
        sidecar_lab: env!("CARGO_PKG_VERSION").to_owned(),
        platforms: settings.platforms.iter().map(ToString::to_string).collect(),
        kubernetes: releases
            .iter()
            .map(|r| KubernetesEntry {
                minor: r.minor,
                kind: r.kind,
                kubectl: r.kubectl,
                node_image: r
                    .node_image
                    .split('@')
                    .next()
                    .unwrap_or(&r.node_image)
                    .to_owned(),
            })
            .collect(),
        files: files(out)?,
        images,
    };
    write_atomically(&out.join(SHA256SUMS), manifest.sha256sums().as_bytes())?;
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    write_atomically(&out.join(MANIFEST), text.as_bytes())?;
    Ok(manifest)
}

impl Making<'_> {
    fn docker(&self) -> Docker<'_> {
        Docker {
            runner: self.runner,
            printer: self.printer,
            clock: self.clock,
        }
    }

    /// kind and kubectl for `platform`, each version once, verified as `install` does.
    fn tools(&self, platform: Platform) -> anyhow::Result<()> {
        let name = platform.to_string();
        let (settings, mirror) = (self.settings, self.mirror.as_ref());
        let mut done: Vec<(Tool, crate::version::ReleaseVersion)> = Vec::new();
        for release in self.releases {
            for (tool, version) in [(Tool::Kind, release.kind), (Tool::Kubectl, release.kubectl)] {
                if done.contains(&(tool, version)) {
                    continue;
                }
                done.push((tool, version));
                let (url, suffix, pinned) = match tool {
                    Tool::Kind => (
                        urls::kind(version, platform, mirror),
                        ".sha256sum",
                        self.matrix
                            .kind_binaries
                            .get(&version)
                            .and_then(|p| p.get(&name))
                            .cloned(),
                    ),
                    _ => (
                        urls::kubectl(version, platform, mirror),
                        ".sha256",
                        release.kubectl_sha256.get(&name).cloned(),
                    ),
                };
                if url.starts_with("http://") && pinned.is_none() && !settings.allow_http {
                    bail!(
                        "{tool} {version} for {name} would come from {url} over plain http:// and sidecar-lab pins no SHA-256 for it, so a replaced binary could not be told apart: use an https:// mirror, or pass --allow-http"
                    );
                }
                let path = layout::tool(&name, tool.name(), version);
                download::install(
                    self.client,
                    &Download {
                        tool,
                        version,
                        checksum_url: format!("{url}{suffix}"),
                        url,
                        pinned_sha256: pinned,
                        destination: settings.output.join(&path),
                    },
                    &self.progress,
                    RetryPolicy::default(),
                )
                .with_context(|| format!("{tool} {version} for {name} was not bundled"))?;
            }
        }
        Ok(())
    }

    /// sidecar-lab itself: the running binary for this machine's platform, from `--dist`
    /// for the others, or a warning that VMs of that platform need it another way.
    fn sidecar_lab(&self, platform: Platform) -> anyhow::Result<()> {
        let name = platform.to_string();
        let out = &self.settings.output;
        if Platform::of_this_build().is_ok_and(|p| p == platform) {
            let me = std::env::current_exe().context("cannot find the running sidecar-lab")?;
            let dest = out.join(layout::binary(&name, "sidecar-lab"));
            copy_atomically(&me, &dest)?;
        } else if let Some(dist) = &self.settings.dist {
            let dest = out.join(layout::binary(&name, "sidecar-lab"));
            from_dist(dist, &name, &dest, self.runner)?;
        } else {
            self.printer.warn(&format!(
                "no sidecar-lab binary for {name} in this bundle: pass --dist DIR with the archives `scripts/dist.sh` built, or VMs of that platform need sidecar-lab installed another way"
            ));
        }
        Ok(())
    }

    /// The node images, pulled by digest and saved by tag (a digest does not survive
    /// save and load: kind would pull again, wave2-facts.md §1.1).
    fn node_images(&self, platform: Platform) -> anyhow::Result<Vec<ImageEntry>> {
        let name = platform.to_string();
        let mut images = Vec::new();
        for release in self.releases {
            let tag = release
                .node_image
                .split('@')
                .next()
                .unwrap_or(&release.node_image)
                .to_owned();
            let digest = release
                .node_image
                .split_once('@')
                .map(|(_, d)| d.to_owned());
            let archive = layout::node_image(&name, release.minor);
            let layers = save_images(
                self.docker(),
                platform,
                &[(release.node_image.clone(), tag.clone())],
                &self.settings.output.join(&archive),
            )?;
            images.push(ImageEntry {
                tag,
                digest,
                layers: layers.into_iter().next().unwrap_or_default(),
                archive,
                platform: name.clone(),
            });
        }
        Ok(images)
    }

    /// The lab's images, in one archive.
    fn lab_images(
        &self,
        platform: Platform,
        lab_images: &[String],
    ) -> anyhow::Result<Vec<ImageEntry>> {
        let name = platform.to_string();
        let archive = layout::lab_images(&name);
        let pairs: Vec<(String, String)> =
            lab_images.iter().map(|i| (i.clone(), i.clone())).collect();
        let out = self.settings.output.join(&archive);
        let layers = save_images(self.docker(), platform, &pairs, &out)?;
        Ok(lab_images
            .iter()
            .zip(layers)
            .map(|(image, layers)| ImageEntry {
                tag: image.clone(),
                digest: None,
                layers,
                archive: archive.clone(),
                platform: name.clone(),
            })
            .collect())
    }
}

/// sidecar-lab for `platform` from a `scripts/dist.sh` output directory: the archive
/// `sidecar-lab-<version>-<platform>.tar.gz`, checked against the directory's
/// SHA256SUMS, unpacked, and its binary placed at `dest`.
fn from_dist(dist: &Path, platform: &str, dest: &Path, runner: &dyn Runner) -> anyhow::Result<()> {
    let name = format!(
        "sidecar-lab-{}-{platform}.tar.gz",
        env!("CARGO_PKG_VERSION")
    );
    let archive = dist.join(&name);
    let sums = dist.join(SHA256SUMS);
    let listed = crate::files::read_to_string(&sums)
        .with_context(|| format!("cannot read {} (scripts/dist.sh writes it)", sums.display()))?;
    let expected = listed
        .lines()
        .find_map(|line| line.strip_suffix(&format!("  {name}")))
        .with_context(|| {
            format!(
                "{} lists no {name}: build it with `scripts/dist.sh`",
                sums.display()
            )
        })?;
    let actual = crate::bundle::file::sha256_of(&archive)
        .with_context(|| format!("cannot read {}", archive.display()))?
        .sha256;
    if actual != expected {
        bail!(
            "the SHA-256 of {} is {actual}, but {} says {expected}: build it again with `scripts/dist.sh`",
            archive.display(),
            sums.display()
        );
    }
    let unpacked = tempfile::tempdir().context("cannot make a temporary directory")?;
    let into = unpacked.path().display().to_string();
    let from = archive.display().to_string();
    checked(
        runner,
        &CommandLine::new(
            "tar",
            ["-xzf", from.as_str(), "-C", into.as_str(), "sidecar-lab"],
        ),
        UNPACK_TIMEOUT,
    )?;
    copy_atomically(&unpacked.path().join("sidecar-lab"), dest)
}

/// Every file under `root` (but the manifest and SHA256SUMS), with size and SHA-256.
fn files(root: &Path) -> anyhow::Result<Vec<FileEntry>> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in crate::files::read_dir(&dir)
            .with_context(|| format!("cannot read `{}`", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            if relative == MANIFEST || relative == SHA256SUMS || relative.ends_with(".partial") {
                continue;
            }
            let crate::bundle::file::Measured { sha256, size } =
                crate::bundle::file::sha256_of(&path)
                    .with_context(|| format!("cannot read `{}`", path.display()))?;
            found.push(FileEntry {
                path: relative,
                size,
                sha256,
            });
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    if found.is_empty() {
        bail!("nothing was bundled in `{}`", root.display());
    }
    Ok(found)
}

/// Copies `from` to `to` through a temporary file beside it.
pub(crate) fn copy_atomically(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    crate::files::create_dir_all(dir)
        .with_context(|| format!("cannot create `{}`", dir.display()))?;
    let temp = tempfile::Builder::new()
        .prefix(".copy.")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    crate::files::copy_executable(from, temp.path())
        .with_context(|| format!("cannot copy `{}` to `{}`", from.display(), to.display()))?;
    temp.persist(to)
        .map_err(|e| anyhow!("cannot place `{}`: {}", to.display(), e.error))?;
    Ok(())
}

//! Where a bundle is read from: a directory (a USB stick) or a URL (any static HTTP
//! server, such as `python3 -m http.server` on the instructor's laptop). Every file is
//! checked against the manifest before it is used: from a directory in place, from a URL
//! through the downloader into a local cache (progress, retries, atomic placement), once.
//! Only regular files are read, never past the size the manifest gives; the manifest
//! itself is capped. A bundle at a plain http:// URL needs `--allow-http`: anyone on the
//! network could rewrite its manifest and files together.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::bundle::file;
use crate::bundle::manifest::{FileEntry, MANIFEST, Manifest};
use crate::bundle::trust::{ALLOW_HTTP, Allowed};
use crate::http::{HttpClient, LazyHttpClient};
use crate::install::apply::Supply;
use crate::install::download::{self, Fetch, Progress, RetryPolicy};

/// The largest manifest read: a real one is a few kilobytes.
pub(crate) const MAX_MANIFEST: u64 = 4 * 1024 * 1024;

/// A bundle and its manifest.
pub struct Bundle {
    origin: Origin,
    pub manifest: Manifest,
    /// What the user allowed beyond the pins.
    pub allowed: Allowed,
}

enum Origin {
    Directory(PathBuf),
    Url {
        base: String,
        cache: PathBuf,
        client: HttpClient,
    },
}

impl Bundle {
    /// Opens the bundle at `location`: a directory, or an `http(s)://` URL whose files
    /// are fetched into `cache` through `http`.
    pub fn open(
        location: &str,
        cache: &Path,
        allowed: Allowed,
        http: &LazyHttpClient,
    ) -> anyhow::Result<Self> {
        Self::open_with(location, cache, true, allowed, http)
    }

    /// Opens a bundle at a URL whose files land in `dir` itself (`bundle fetch --output`).
    pub fn open_into(
        location: &str,
        dir: &Path,
        allowed: Allowed,
        http: &LazyHttpClient,
    ) -> anyhow::Result<Self> {
        Self::open_with(location, dir, false, allowed, http)
    }

    fn open_with(
        location: &str,
        cache: &Path,
        per_url: bool,
        allowed: Allowed,
        http: &LazyHttpClient,
    ) -> anyhow::Result<Self> {
        if location.starts_with("http://") && !allowed.http {
            bail!(
                "the bundle {location} is served over plain http://, where anyone on the network can replace its manifest and files together: serve it over https://, copy it to this machine and pass the directory, or pass {ALLOW_HTTP}"
            );
        }
        if location.starts_with("http://") || location.starts_with("https://") {
            let base = location.trim_end_matches('/').to_owned();
            // The shared client (a handle: its clones use one connection pool).
            let client = http.get()?.clone();
            let url = format!("{base}/{MANIFEST}");
            let text = client
                .get_text(&url, MAX_MANIFEST)
                .with_context(|| format!("cannot read the bundle's manifest at {url}"))?;
            let manifest = Manifest::parse(&text).with_context(|| url.clone())?;
            let cache = if per_url {
                cache.join(cache_name(&base))
            } else {
                cache.to_path_buf()
            };
            Ok(Self {
                origin: Origin::Url {
                    base,
                    cache,
                    client,
                },
                manifest,
                allowed,
            })
        } else {
            let root = PathBuf::from(location);
            let path = root.join(MANIFEST);
            let bytes = file::read_capped(&path, MAX_MANIFEST)
                .with_context(|| format!("`{}` is not a bundle", root.display()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow!("{} is not UTF-8 text", path.display()))?;
            let manifest = Manifest::parse(&text).with_context(|| path.display().to_string())?;
            Ok(Self {
                origin: Origin::Directory(root),
                manifest,
                allowed,
            })
        }
    }

    /// Where the bundle is, as the user named it.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::Directory(root) => root.display().to_string(),
            Origin::Url { base, .. } => base.clone(),
        }
    }

    /// The entry of the file at `path`, or an error naming it.
    pub fn entry(&self, path: &str) -> anyhow::Result<&FileEntry> {
        self.manifest
            .file(path)
            .ok_or_else(|| anyhow!("the bundle {} carries no `{path}`", self.describe()))
    }

    /// A local copy of the file at `path`, checked against the manifest.
    pub fn fetch(&self, path: &str, progress: &dyn Progress) -> anyhow::Result<PathBuf> {
        let entry = self.entry(path)?;
        match &self.origin {
            Origin::Directory(root) => {
                let local = root.join(path);
                let measured = file::measure_file(&local, entry.size)
                    .with_context(|| format!("the bundle's `{path}` cannot be used"))?;
                if measured.sha256 != entry.sha256 || measured.size != entry.size {
                    bail!("{}", mismatch(path, &measured, entry));
                }
                Ok(local)
            }
            Origin::Url {
                base,
                cache,
                client,
            } => {
                let local = cache.join(path);
                // Fetched before and still intact: not fetched again.
                if file::measure_file(&local, entry.size)
                    .is_ok_and(|m| m.sha256 == entry.sha256 && m.size == entry.size)
                {
                    return Ok(local);
                }
                let url = format!("{base}/{path}");
                download::fetch(
                    client,
                    &Fetch {
                        url: &url,
                        sha256: &entry.sha256,
                        destination: &local,
                        label: path,
                        executable: path.starts_with("bin/"),
                        size: Some(entry.size),
                    },
                    progress,
                    RetryPolicy::default(),
                )
                .with_context(|| format!("the bundle's `{path}` could not be fetched"))?;
                Ok(local)
            }
        }
    }

    /// Places the bundle's file at `path` at `destination`, executable: read through one
    /// descriptor, hashed while it is copied, renamed into place only when it matches.
    pub fn install(
        &self,
        path: &str,
        destination: &Path,
        progress: &dyn Progress,
    ) -> anyhow::Result<()> {
        let entry = self.entry(path)?;
        // From a directory, the copy is the check; from a URL, the cached copy is checked
        // again while copied (it may have changed since it was fetched).
        let local = match &self.origin {
            Origin::Directory(root) => root.join(path),
            Origin::Url { .. } => self.fetch(path, progress)?,
        };
        let copied = file::copy_checked(&local, destination, entry.size, &entry.sha256, true)
            .with_context(|| format!("the bundle's `{path}` could not be installed"))?;
        match copied {
            None => Ok(()),
            Some(measured) => bail!("{}", mismatch(path, &measured, entry)),
        }
    }

    /// Checks every file (fetching each from a URL): the paths that failed, with why.
    pub fn verify_all(&self, progress: &dyn Progress) -> Vec<String> {
        self.manifest
            .files
            .iter()
            .filter_map(|f| {
                self.fetch(&f.path, progress)
                    .err()
                    .map(|e| crate::exit::one_line(&e))
            })
            .collect()
    }
}

/// The installer places kind and kubectl from the bundle.
impl Supply for Bundle {
    fn place(&self, path: &str, destination: &Path, progress: &dyn Progress) -> anyhow::Result<()> {
        self.install(path, destination, progress)
    }
}

/// A file that is not what the manifest says.
fn mismatch(path: &str, measured: &file::Measured, entry: &FileEntry) -> String {
    format!(
        "the bundle's `{path}` does not match its manifest (sha256 {}, {} bytes; the manifest says {}, {} bytes): refusing to use it — copy the bundle again",
        measured.sha256, measured.size, entry.sha256, entry.size
    )
}

/// A cache directory name for a bundle URL.
fn cache_name(base: &str) -> String {
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

//! Where a bundle is read from: a directory (a USB stick) or a URL (any static HTTP
//! server, such as `python3 -m http.server` on the instructor's laptop). Every file is
//! checked against the manifest before it is used: from a directory in place, from a URL
//! through the downloader into a local cache (progress, retries, atomic placement), once.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::bundle::manifest::{FileEntry, MANIFEST, Manifest};
use crate::http::HttpClient;
use crate::install::download::{self, Fetch, Progress, RetryPolicy};

/// A bundle and its manifest.
pub struct Bundle {
    origin: Origin,
    pub manifest: Manifest,
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
    /// are fetched into `cache`.
    pub fn open(location: &str, cache: &Path) -> anyhow::Result<Self> {
        Self::open_with(location, cache, true)
    }

    /// Opens a bundle at a URL whose files land in `dir` itself (`bundle fetch --output`).
    pub fn open_into(location: &str, dir: &Path) -> anyhow::Result<Self> {
        Self::open_with(location, dir, false)
    }

    fn open_with(location: &str, cache: &Path, per_url: bool) -> anyhow::Result<Self> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let base = location.trim_end_matches('/').to_owned();
            let client = HttpClient::new()?;
            let url = format!("{base}/{MANIFEST}");
            let text = client
                .get_text(&url)
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
            })
        } else {
            let root = PathBuf::from(location);
            let path = root.join(MANIFEST);
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "`{}` is not a bundle: cannot read {}",
                    root.display(),
                    path.display()
                )
            })?;
            let manifest = Manifest::parse(&text).with_context(|| path.display().to_string())?;
            Ok(Self {
                origin: Origin::Directory(root),
                manifest,
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
                let (sha256, size) = download::sha256_of(&local).with_context(|| {
                    format!("the bundle's `{path}` cannot be read ({})", local.display())
                })?;
                if sha256 != entry.sha256 || size != entry.size {
                    bail!(
                        "the bundle's `{path}` does not match its manifest (sha256 {sha256}, {size} bytes; the manifest says {}, {} bytes): refusing to use it — copy the bundle again",
                        entry.sha256,
                        entry.size
                    );
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
                if download::sha256_of(&local).is_ok_and(|(sha, _)| sha == entry.sha256) {
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
                    },
                    progress,
                    RetryPolicy::default(),
                )
                .with_context(|| format!("the bundle's `{path}` could not be fetched"))?;
                Ok(local)
            }
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

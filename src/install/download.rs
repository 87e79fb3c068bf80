//! Downloads a binary, verifies it and places it atomically: streamed to a temporary
//! file in the destination directory with SHA-256 computed on the way, compared with the
//! pinned digest and the published checksum file, made executable, renamed into place.
//! On any failure nothing is left at the destination and an existing binary is untouched.
//! Nothing is read past the expected size, and all attempts together end by a deadline.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::http::{HttpClient, HttpError, transport};
use crate::install::Tool;
use crate::install::checksum::{self, ChecksumFileError};
use crate::install::plan::Download;
use crate::runner::CommandLine;
use crate::version::ReleaseVersion;

/// Read buffer: large enough that hashing and writing run in big strides.
const BUFFER: usize = 256 * 1024;
/// The most a binary without a declared size may be: kubectl is about 60 MB, kind 10 MB.
pub(crate) const MAX_BINARY: u64 = 256 * 1024 * 1024;
/// The most a published checksum file may be (it holds one line).
pub(crate) const MAX_CHECKSUM_FILE: u64 = 4096;

/// Events of a download, for a progress bar or plain lines.
pub trait Progress {
    fn started(&self, label: &str, total: Option<u64>);
    fn advanced(&self, bytes: u64);
    fn retrying(&self, attempt: u32, error: &str, delay: Duration);
    fn note(&self, message: &str);
    fn finished(&self, message: &str);
    fn failed(&self);
}

/// What the installer did, for the app to show: the installer says what happened, the
/// caller decides how it looks (and where: a warning or a note).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event<'a> {
    /// A bundled binary was placed, checked against its digest.
    FromBundle {
        tool: Tool,
        version: &'a ReleaseVersion,
        destination: &'a Path,
        sha256: &'a str,
    },
    /// A note of the Docker plan, said once its steps ran.
    PlanNote(&'a str),
    /// Binaries were placed in `bin_dir`, which is not on PATH.
    NotOnPath { bin_dir: &'a Path },
    /// A command is about to run with its output shown.
    Running(&'a CommandLine),
    /// A daemon is about to start in the background, its output appended to `log`.
    Detached {
        command: &'a CommandLine,
        log: &'a Path,
    },
    /// Docker's convenience script is about to be fetched and run.
    ConvenienceScript,
    /// The Docker daemon answered, with its version.
    DaemonAnswers(&'a str),
}

/// Hears what the installer did (`Event`): the app implements it with its terminal.
pub(crate) trait Report {
    fn report(&self, event: Event<'_>);
}

/// How often to try, how long to wait before the second try (doubling after), and how
/// long all attempts of one file may take together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            // A node image (about 500 MB) over a slow classroom link.
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

/// A download that was refused or failed; nothing was placed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DownloadError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    ChecksumFile(#[from] ChecksumFileError),
    #[error(
        "{url} says the SHA-256 is {published}, but sidecar-lab pins {pinned}: refusing to install; the release may have been replaced"
    )]
    PinMismatch {
        url: String,
        pinned: String,
        published: String,
    },
    #[error(
        "the SHA-256 of {url} is {actual}, expected {expected}: refusing to install it (nothing was placed)"
    )]
    Mismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("cannot write `{path}`: {source}; choose another --bin-dir")]
    Place {
        path: String,
        source: std::io::Error,
    },
}

/// What was installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    pub sha256: String,
    pub bytes: u64,
}

/// Downloads, verifies and places `download`.
pub(crate) fn install(
    client: &HttpClient,
    download: &Download,
    progress: &dyn Progress,
    retry: RetryPolicy,
) -> Result<Placed, DownloadError> {
    let expected = expected_digest(client, download, progress, retry)?;
    let label = format!("{} {}", download.tool, download.version);
    let placed = fetch(
        client,
        &Fetch {
            url: &download.url,
            sha256: &expected,
            destination: &download.destination,
            label: &label,
            executable: true,
            size: None,
        },
        progress,
        retry,
    )?;
    progress.finished(&format!(
        "{label} installed to {} (sha256 {})",
        download.destination.display(),
        placed.sha256
    ));
    Ok(placed)
}

/// One file to fetch whose SHA-256 is known (a bundle's manifest names every file's).
pub(crate) struct Fetch<'a> {
    pub url: &'a str,
    pub sha256: &'a str,
    pub destination: &'a Path,
    /// What progress lines call it.
    pub label: &'a str,
    pub executable: bool,
    /// The size it must have (a bundle's manifest says it): no byte past it is written.
    /// Without one, at most [`MAX_BINARY`] bytes.
    pub size: Option<u64>,
}

/// Streams `fetch.url` to a temporary file beside the destination, hashing on the way,
/// and renames it into place only when the digest is the expected one.
pub(crate) fn fetch(
    client: &HttpClient,
    fetch: &Fetch<'_>,
    progress: &dyn Progress,
    retry: RetryPolicy,
) -> Result<Placed, DownloadError> {
    let destination = fetch.destination;
    let place_error = |source| DownloadError::Place {
        path: destination.display().to_string(),
        source,
    };
    let directory = destination.parent().unwrap_or(Path::new("."));
    crate::files::create_dir_all(directory).map_err(place_error)?;
    // In the destination directory, so the final rename cannot cross file systems.
    let name = destination
        .file_name()
        .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned());
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(place_error)?;
    let local = |error: &std::io::Error| HttpError::Transport {
        url: fetch.url.to_owned(),
        message: format!(
            "cannot write the temporary file beside {}: {error}",
            destination.display()
        ),
    };
    let deadline = Deadline::new(retry.deadline);
    let limit = fetch.size.unwrap_or(MAX_BINARY);
    let (sha256, bytes) = with_retries(progress, retry, &deadline, fetch.url, || {
        file.as_file_mut().set_len(0).map_err(|e| local(&e))?;
        file.as_file_mut().rewind().map_err(|e| local(&e))?;
        stream(
            client,
            fetch.url,
            file.as_file_mut(),
            &Limits {
                bytes: limit,
                deadline: &deadline,
            },
            fetch.label,
            progress,
        )
    })
    .inspect_err(|_| progress.failed())?;
    if fetch.size.is_some_and(|size| size != bytes) {
        progress.failed();
        return Err(DownloadError::Mismatch {
            url: fetch.url.to_owned(),
            expected: format!("{} ({limit} bytes)", fetch.sha256),
            actual: format!("{sha256} ({bytes} bytes)"),
        });
    }
    if sha256 != fetch.sha256 {
        progress.failed();
        return Err(DownloadError::Mismatch {
            url: fetch.url.to_owned(),
            expected: fetch.sha256.to_owned(),
            actual: sha256,
        });
    }
    if fetch.executable {
        make_executable(file.as_file()).map_err(place_error)?;
    }
    file.as_file().sync_all().map_err(place_error)?;
    file.persist(destination)
        .map_err(|e| place_error(e.error))?;
    Ok(Placed { sha256, bytes })
}

/// The digest to require: the pinned one (checked against the published checksum file
/// when that can be read), or the published one.
fn expected_digest(
    client: &HttpClient,
    download: &Download,
    progress: &dyn Progress,
    retry: RetryPolicy,
) -> Result<String, DownloadError> {
    let url = &download.checksum_url;
    let deadline = Deadline::new(retry.deadline);
    let published = with_retries(progress, retry, &deadline, url, || {
        client.get_text(url, MAX_CHECKSUM_FILE)
    })
    .map(|text| checksum::parse(&text, url));
    // The binary lives on the same host: when that cannot be reached, say so once.
    if let Err(error @ HttpError::Unreachable { .. }) = published {
        return Err(error.into());
    }
    match (&download.pinned_sha256, published) {
        (Some(pinned), Ok(Ok(published))) if published != *pinned => {
            Err(DownloadError::PinMismatch {
                url: url.clone(),
                pinned: pinned.clone(),
                published,
            })
        }
        (Some(pinned), Ok(Ok(_))) => Ok(pinned.clone()),
        (Some(pinned), Ok(Err(error))) => {
            progress.note(&format!("{error}; relying on the pinned digest"));
            Ok(pinned.clone())
        }
        (Some(pinned), Err(error)) => {
            progress.note(&format!("{error}; relying on the pinned digest"));
            Ok(pinned.clone())
        }
        (None, Ok(parsed)) => Ok(parsed?),
        (None, Err(error)) => Err(error.into()),
    }
}

/// When all attempts of one download must be over.
struct Deadline {
    end: Instant,
    total: Duration,
}

impl Deadline {
    fn new(total: Duration) -> Self {
        Self {
            end: Instant::now() + total,
            total,
        }
    }

    fn passed(&self) -> bool {
        Instant::now() >= self.end
    }

    fn error(&self, url: &str) -> HttpError {
        HttpError::Deadline {
            url: url.to_owned(),
            seconds: self.total.as_secs(),
        }
    }
}

/// What one attempt may take: bytes, and time.
struct Limits<'a> {
    bytes: u64,
    deadline: &'a Deadline,
}

/// GETs `url` into `file`, hashing on the way: (hex digest, bytes). A body longer than
/// `limits.bytes` is refused by its declared length, or stopped at the first byte past it.
fn stream(
    client: &HttpClient,
    url: &str,
    file: &mut std::fs::File,
    limits: &Limits<'_>,
    label: &str,
    progress: &dyn Progress,
) -> Result<(String, u64), HttpError> {
    let too_large = || HttpError::TooLarge {
        url: url.to_owned(),
        limit: limits.bytes,
    };
    let mut response = client.get(url)?;
    let total = response.content_length();
    if total.is_some_and(|total| total > limits.bytes) {
        return Err(too_large());
    }
    progress.started(label, total);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; BUFFER];
    let mut bytes = 0u64;
    loop {
        if limits.deadline.passed() {
            return Err(limits.deadline.error(url));
        }
        // Never ask for more than one byte past the limit: that byte proves it too large.
        let room = limits.bytes.saturating_add(1).saturating_sub(bytes);
        let want = usize::try_from(room.min(BUFFER as u64)).unwrap_or(BUFFER);
        if want == 0 {
            return Err(too_large());
        }
        let read = match response.read(&mut buffer[..want]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(transport(url, &error)),
        };
        bytes = bytes.saturating_add(read as u64);
        if bytes > limits.bytes {
            return Err(too_large());
        }
        hasher.update(&buffer[..read]);
        file.write_all(&buffer[..read])
            .map_err(|e| transport(url, &e))?;
        progress.advanced(read as u64);
    }
    if let Some(total) = total.filter(|total| *total != bytes) {
        return Err(HttpError::Transport {
            url: url.to_owned(),
            message: format!("the body ended after {bytes} of {total} bytes"),
        });
    }
    Ok((hex(&hasher.finalize()), bytes))
}

/// Calls `attempt` until it succeeds, fails for good, the attempts are used up or the
/// deadline would pass during the wait.
fn with_retries<T>(
    progress: &dyn Progress,
    retry: RetryPolicy,
    deadline: &Deadline,
    url: &str,
    mut attempt: impl FnMut() -> Result<T, HttpError>,
) -> Result<T, HttpError> {
    let mut delay = retry.first_delay;
    let mut tried = 1;
    loop {
        match attempt() {
            Err(error) if error.is_retryable() && tried < retry.attempts => {
                if Instant::now() + delay >= deadline.end {
                    return Err(deadline.error(url));
                }
                progress.retrying(tried, &error.to_string(), delay);
                std::thread::sleep(delay);
                delay *= 2;
                tried += 1;
            }
            result => return result,
        }
    }
}

fn make_executable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o755))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

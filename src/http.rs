//! The one HTTP client: downloads of kind, kubectl, their checksum files and classroom
//! bundles. Errors say which URL (or host) failed, in one line, and whether trying again
//! may help; redirects stay on the host that was asked, except from the official release
//! hosts, whose downloads are served from other https hosts and checked against pins.

use std::io::Read;
use std::time::{Duration, Instant};

/// A response whose status was a success; its body is read as a stream.
pub type Response = reqwest::blocking::Response;

/// Hosts whose release downloads redirect to a CDN on another host (github.com to
/// release-assets.githubusercontent.com, dl.k8s.io to cdn.dl.k8s.io). Only from these may
/// a redirect leave the host, and only to https://.
const OFFICIAL_HOSTS: [&str; 4] = [
    "github.com",
    "dl.k8s.io",
    "get.docker.com",
    "kind.sigs.k8s.io",
];

/// At most this many redirects in a row.
const MAX_REDIRECTS: usize = 10;

/// Why a host could not be reached at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// The name does not resolve: no DNS, as in a room without internet.
    Dns,
    /// Nothing listens there (or a firewall says no).
    Refused,
    /// No route to the host or its network.
    NoRoute,
}

impl Unreachable {
    const fn words(self) -> &'static str {
        match self {
            Self::Dns => "its name does not resolve (no DNS: is this machine offline?)",
            Self::Refused => "the connection was refused",
            Self::NoRoute => "there is no route to it (is this machine offline?)",
        }
    }
}

/// A request that failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("cannot fetch {url}: {message}")]
    Transport { url: String, message: String },
    #[error(
        "cannot reach {host}: {}; without internet, take the files from a classroom bundle (--bundle DIR|URL) or a mirror (--mirror URL)",
        .reason.words()
    )]
    Unreachable { host: String, reason: Unreachable },
    #[error(
        "{url} sent more than the {limit} bytes expected of it: stopped there and kept nothing"
    )]
    TooLarge { url: String, limit: u64 },
    #[error(
        "{url} took longer than {} s in all: stopped; check the network or use a bundle (--bundle)",
        .seconds
    )]
    Deadline { url: String, seconds: u64 },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl HttpError {
    /// True for faults that another attempt may not hit: timeouts, a connection reset, a
    /// body cut short, and server errors (5xx, 429). A 404, a host that cannot be reached
    /// (a DNS failure above all), a body too large and the total deadline are final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Transport { .. } => true,
            Self::Unreachable { .. }
            | Self::TooLarge { .. }
            | Self::Deadline { .. }
            | Self::Setup(_) => false,
        }
    }
}

/// The HTTP client as a door the verbs share: made on first use, not at start-up, since
/// making one starts reqwest's I/O thread and may fail (the TLS setup), and most verbs
/// never download. A failure is not kept: each caller that asks sees it, as when every
/// caller made its own client.
#[derive(Debug, Default)]
pub struct LazyHttpClient {
    client: std::sync::OnceLock<HttpClient>,
}

impl LazyHttpClient {
    pub fn new() -> Self {
        Self::default()
    }

    /// The client, made now if no caller has asked before.
    pub fn get(&self) -> Result<&HttpClient, HttpError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let made = HttpClient::new()?;
        // Two threads may both have made one: the first stored is the one kept.
        Ok(self.client.get_or_init(|| made))
    }
}

/// The HTTP client.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::blocking::Client,
}

impl HttpClient {
    /// A client with timeouts suited to a slow classroom network: connecting may take
    /// 20 s, and a download may stall for 60 s before it counts as failed. Proxies come
    /// from HTTP_PROXY, HTTPS_PROXY and NO_PROXY.
    pub fn new() -> Result<Self, HttpError> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("sidecar-lab/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(20))
            // In the blocking client this bounds the wait for the response and for each
            // read of the body, not the whole download: a slow link is fine, a stall is not.
            // The whole download is bounded by the caller's deadline.
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::custom(redirect))
            .build()
            .map_err(|error| HttpError::Setup(error.to_string()))?;
        Ok(Self { client })
    }

    /// GETs `url`; any status but a success is an error.
    pub fn get(&self, url: &str) -> Result<Response, HttpError> {
        let response = self
            .client
            .get(url)
            .send()
            .map_err(|error| from_reqwest(url, &error))?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            Err(HttpError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            })
        }
    }

    /// GETs a small text document (a checksum file, a manifest), whole, but never more
    /// than `limit` bytes: a larger one is refused before (by its length) or while it
    /// is read, so a hostile server cannot fill the memory. It must come within
    /// `TEXT_DEADLINE`, so a server sending a byte a minute cannot hold it for days.
    pub fn get_text(&self, url: &str, limit: u64) -> Result<String, HttpError> {
        self.get_text_within(url, limit, TEXT_DEADLINE)
    }

    /// `get_text` with the total time given: past `total`, the next read fails. (A read
    /// already waiting may still take reqwest's 60 s per-read timeout.)
    pub fn get_text_within(
        &self,
        url: &str,
        limit: u64,
        total: Duration,
    ) -> Result<String, HttpError> {
        let end = Instant::now() + total;
        let deadline = || HttpError::Deadline {
            url: url.to_owned(),
            seconds: total.as_secs(),
        };
        let response = self.get(url)?;
        if Instant::now() >= end {
            return Err(deadline());
        }
        let too_large = || HttpError::TooLarge {
            url: url.to_owned(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        let read = Until {
            inner: response,
            end,
        }
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes);
        match read {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut && Instant::now() >= end => {
                return Err(deadline());
            }
            Err(error) => return Err(transport(url, &error)),
        }
        if bytes.len() as u64 > limit {
            return Err(too_large());
        }
        String::from_utf8(bytes).map_err(|_| HttpError::Transport {
            url: url.to_owned(),
            message: "the answer is not UTF-8 text".into(),
        })
    }
}

/// How long a small text document (`get_text`) may take in all.
pub const TEXT_DEADLINE: Duration = Duration::from_secs(120);

/// A body that fails with `TimedOut` once `end` has passed, checked before every read.
struct Until<R> {
    inner: R,
    end: Instant,
}

impl<R: Read> Read for Until<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() >= self.end {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the total deadline passed",
            ));
        }
        self.inner.read(buffer)
    }
}

/// Follows a redirect on the same host (never from https:// down to http://), or from an
/// official release host to any https:// URL; refuses the rest, naming both hosts.
fn redirect(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.previous().len() > MAX_REDIRECTS {
        return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
    }
    let Some(first) = attempt.previous().first() else {
        return attempt.follow();
    };
    let next = attempt.url();
    let same_host = next.host_str() == first.host_str()
        && next.port_or_known_default() == first.port_or_known_default()
        && !(first.scheme() == "https" && next.scheme() != "https");
    let official = first
        .host_str()
        .is_some_and(|host| OFFICIAL_HOSTS.contains(&host))
        && next.scheme() == "https";
    if same_host || official {
        attempt.follow()
    } else {
        let refused = format!(
            "refused a redirect from {} to {}: a bundle or mirror may redirect only within its own host",
            origin(first),
            origin(next)
        );
        attempt.error(refused)
    }
}

/// `scheme://host:port` of a URL, for messages.
fn origin(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

/// A reqwest error as one of ours: a host that cannot be reached is said in words, with
/// its host; anything else as one clean line.
fn from_reqwest(url: &str, error: &reqwest::Error) -> HttpError {
    if error.is_connect() {
        if let Some(reason) = unreachable(error) {
            let host = reqwest::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| url.to_owned());
            return HttpError::Unreachable { host, reason };
        }
    }
    transport(url, error)
}

/// Why a connection failed, when the host could not be reached at all. The socket errors
/// carry an `io::ErrorKind`; a failed name lookup reaches us only as the resolver's text
/// (hyper-util's `ConnectError("dns error", …)` around getaddrinfo's message).
fn unreachable(error: &(dyn std::error::Error + 'static)) -> Option<Unreachable> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Some(Unreachable::Refused),
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
                    return Some(Unreachable::NoRoute);
                }
                _ => {}
            }
        }
        let text = current.to_string();
        if text == "dns error"
            || text.starts_with("failed to lookup address information")
            || text.contains("Temporary failure in name resolution")
        {
            return Some(Unreachable::Dns);
        }
        cause = current.source();
    }
    None
}

/// A transport error in one line, with its underlying causes, each said once: reqwest's
/// own message says only "error sending request for url (…)", and the URL is already at
/// the start of ours.
pub fn transport(url: &str, error: &(dyn std::error::Error + 'static)) -> HttpError {
    HttpError::Transport {
        url: url.to_owned(),
        message: chain(url, error),
    }
}

/// The messages of `error` and its causes, joined by `: `, without the URL and without
/// a message that repeats the one before it (or is contained in it).
fn chain(url: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = current
            .to_string()
            .replace(&format!(" for url ({url})"), "")
            .replace(&format!(" ({url})"), "")
            .replace(url, "the URL");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lazy_client_is_made_once_and_shared() {
        let lazy = LazyHttpClient::new();
        assert!(
            lazy.client.get().is_none(),
            "nothing is made before it is asked for"
        );
        let first: *const HttpClient = lazy.get().expect("a client");
        let second: *const HttpClient = lazy.get().expect("a client");
        assert_eq!(first, second);
    }

    #[derive(Debug)]
    struct Layer(String, Option<Box<dyn std::error::Error + 'static>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref()
        }
    }

    #[test]
    fn the_chain_names_the_url_once_and_repeats_nothing() {
        let url = "https://dl.k8s.io/release/v1.37.1/bin/linux/amd64/kubectl";
        let io = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        let dns = Layer("dns error".into(), Some(Box::new(io)));
        let client = Layer("client error (Connect)".into(), Some(Box::new(dns)));
        let top = Layer(
            format!("error sending request for url ({url})"),
            Some(Box::new(client)),
        );
        let error = transport(url, &top);
        let line = error.to_string();
        assert_eq!(line.matches(url).count(), 1, "{line}");
        assert_eq!(
            line,
            format!(
                "cannot fetch {url}: error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known"
            )
        );
        assert_eq!(unreachable(&top), Some(Unreachable::Dns));
    }

    #[test]
    fn refused_and_unroutable_sockets_are_recognised_by_their_kind() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let wrapped = Layer("tcp connect error".into(), Some(Box::new(refused)));
        assert_eq!(unreachable(&wrapped), Some(Unreachable::Refused));
        let no_route = std::io::Error::from(std::io::ErrorKind::HostUnreachable);
        assert_eq!(unreachable(&no_route), Some(Unreachable::NoRoute));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(unreachable(&reset), None);
    }

    #[test]
    fn only_passing_faults_are_retried() {
        let unreachable = HttpError::Unreachable {
            host: "dl.k8s.io".into(),
            reason: Unreachable::Dns,
        };
        assert!(!unreachable.is_retryable());
        assert_eq!(
            unreachable.to_string(),
            "cannot reach dl.k8s.io: its name does not resolve (no DNS: is this machine offline?); without internet, take the files from a classroom bundle (--bundle DIR|URL) or a mirror (--mirror URL)"
        );
        let too_large = HttpError::TooLarge {
            url: "u".into(),
            limit: 26,
        };
        assert!(!too_large.is_retryable());
        assert!(
            HttpError::Transport {
                url: "u".into(),
                message: "reset".into()
            }
            .is_retryable()
        );
    }
}

//! The one HTTP client: downloads of kind, kubectl and their checksum files. Errors say
//! which URL failed and whether trying again may help.

use std::time::Duration;

/// A response whose status was a success; its body is read as a stream.
pub type Response = reqwest::blocking::Response;

/// A request that failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("cannot fetch {url}: {message}")]
    Transport { url: String, message: String },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl HttpError {
    /// True for faults that another attempt may not hit: connection refused or reset,
    /// timeouts, a body cut short, and server errors (5xx, 429). A 404 is final.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Self::Transport { .. } => true,
            Self::Setup(_) => false,
        }
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
            .timeout(Duration::from_secs(60))
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
            .map_err(|error| transport(url, &error))?;
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

    /// GETs a small text document (a checksum file), whole.
    pub fn get_text(&self, url: &str) -> Result<String, HttpError> {
        self.get(url)?
            .text()
            .map_err(|error| transport(url, &error))
    }
}

/// A transport error in one line, with its underlying cause (reqwest's own message
/// alone says only "error sending request").
pub fn transport(url: &str, error: &(dyn std::error::Error + 'static)) -> HttpError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    HttpError::Transport {
        url: url.to_owned(),
        message,
    }
}

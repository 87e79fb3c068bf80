//! Reads a dump — one object, a `List`, or a stream of snapshots as `kubectl get -w`
//! prints them (multi-document YAML, or concatenated JSON objects) — into typed Pods and
//! Jobs, in the order they appear. It reads as kubectl does: a mapping key given twice
//! is refused, and UTF-16 or UTF-32 text behind a byte-order mark is accepted. Objects of
//! other kinds are skipped. Pure: bytes in.

mod encoding;
mod head;
mod json;
mod slim;
mod yaml;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};

pub use slim::{slim_job, slim_pod};

use encoding::{Decoded, Text, decode};
use json::read_json;
use yaml::read_yaml;

/// One Pod or Job snapshot.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Pod(Box<Pod>),
    Job(Box<Job>),
}

/// What a dump held.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dump {
    /// Pods and Jobs in the order they appear, slimmed (see `slim_pod`).
    pub objects: Vec<Object>,
    /// Events (core/v1), when the dump has them: a Job whose pods admission refused says
    /// so only in a `FailedCreate` event.
    pub events: Vec<Event>,
    /// True when the input ended inside a document: the complete ones before it are kept,
    /// as when a `kubectl get -w` recording was cut short.
    pub truncated: bool,
}

/// Input that holds nothing to judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("the input is not UTF-8 text")]
    NotText,
    #[error(
        "the input starts with a {0} byte-order mark but is not {0} text; save it again as UTF-8"
    )]
    BadEncoding(&'static str),
    #[error(
        "the input looks like UTF-16 without a byte-order mark; save it again as UTF-8 (PowerShell: `… | Out-File -Encoding utf8 dump.yaml`)"
    )]
    Utf16WithoutMark,
    #[error("the input is neither YAML nor JSON: {0}")]
    Syntax(String),
    #[error(
        "document {document}: duplicate key `{key}` at line {line} (kubectl refuses this too; the object cannot exist on a cluster)"
    )]
    DuplicateKey {
        document: usize,
        key: String,
        line: usize,
    },
    #[error(
        "the input holds no Pod or Job ({0} documents read); dump one with `kubectl get pod,job -o yaml`"
    )]
    NoPodOrJob(usize),
    #[error(
        "the input nests deeper than {MAX_DEPTH} levels (at byte {0}); kubectl never prints that, so it is refused unread"
    )]
    TooDeep(usize),
    #[error("{what} is not a valid {kind}: {message}")]
    BadObject {
        what: String,
        kind: &'static str,
        message: String,
    },
}

/// How deep objects and lists may nest: the one guard every input shares.
pub use crate::render::bounds::MAX_DEPTH;
use crate::render::bounds::too_deep;

/// Reads the dump in `bytes`: UTF-8, or UTF-16/32 behind a byte-order mark.
pub fn parse(bytes: &[u8]) -> Result<Dump, DumpError> {
    let text = match decode(bytes)? {
        Decoded::Utf8 { skip } => Text::Borrowed(
            std::str::from_utf8(bytes.get(skip..).unwrap_or_default())
                .map_err(|_| DumpError::NotText)?,
        ),
        Decoded::Transcoded(text) => Text::Owned(text),
    };
    read(text)
}

/// Reads the dump in `bytes` as `parse` does, giving the text back to the system as
/// its objects are decoded: a 50 MB `kubectl get pods -A -o json` then costs its
/// objects, not its text as well.
pub fn parse_owned(mut bytes: Vec<u8>) -> Result<Dump, DumpError> {
    let text = match decode(&bytes)? {
        Decoded::Utf8 { skip } => {
            bytes.drain(..skip);
            String::from_utf8(bytes).map_err(|_| DumpError::NotText)?
        }
        Decoded::Transcoded(text) => {
            drop(bytes); // the UTF-16/32 original is not held while its UTF-8 is read
            text
        }
    };
    read(Text::Owned(text))
}

/// The input as text — UTF-8, or UTF-16/32 behind a byte-order mark — for what is read
/// as text rather than objects (kubectl's error line when the API server refused).
pub fn text(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, DumpError> {
    match decode(bytes)? {
        Decoded::Utf8 { skip } => std::str::from_utf8(bytes.get(skip..).unwrap_or_default())
            .map(std::borrow::Cow::Borrowed)
            .map_err(|_| DumpError::NotText),
        Decoded::Transcoded(text) => Ok(std::borrow::Cow::Owned(text)),
    }
}

fn read(text: Text<'_>) -> Result<Dump, DumpError> {
    // JSON is left to serde_json's own depth limit (128, below ours), which costs
    // nothing more; YAML, or JSON that turns out to be YAML, is measured first.
    let (dump, read) = if text.as_str().trim_start().starts_with('{') {
        read_json(text)?
    } else if let Some(at) = too_deep(text.as_str().as_bytes()) {
        return Err(DumpError::TooDeep(at));
    } else {
        read_yaml(text.as_str())?
    };
    if dump.objects.is_empty() {
        return Err(DumpError::NoPodOrJob(read));
    }
    Ok(dump)
}

/// "document 2 (Pod `p`)": where an object is, for errors.
fn what(document: usize, kind: &str, name: Option<&str>) -> String {
    let name = name.map(|name| format!(" `{name}`")).unwrap_or_default();
    format!("document {document} ({kind}{name})")
}

#[cfg(test)]
mod tests;

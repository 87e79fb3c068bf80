//! Reads a dump — one object, a `List`, or a stream of snapshots as `kubectl get -w`
//! prints them (multi-document YAML, or concatenated JSON objects) — into typed Pods and
//! Jobs, in the order they appear. It reads as kubectl does: a mapping key given twice
//! is refused, and UTF-16 or UTF-32 text behind a byte-order mark is accepted. Objects of
//! other kinds are skipped. Pure: bytes in.

use std::borrow::Cow;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Event, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::render::strict::{Duplicate, Key, Keys, MaybeStr, Walk};
use crate::yaml;

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

/// The input's text: borrowed from the caller, or owned (transcoded, or handed over),
/// and then cut from the end as it is read.
enum Text<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Owned(text) => text,
        }
    }

    /// Frees the text from byte `from` on, once nothing after it is read again.
    fn release(&mut self, from: usize) {
        if let Text::Owned(text) = self
            && text.is_char_boundary(from)
        {
            text.truncate(from);
            // Giving back memory costs a system call: in steps of a megabyte.
            if text.capacity() - text.len() >= 1 << 20 {
                text.shrink_to_fit();
            }
        }
    }
}

/// What the first bytes say the encoding is.
enum Decoded {
    /// UTF-8 (not yet checked) from byte `skip` on, past any byte-order mark.
    Utf8 { skip: usize },
    /// UTF-16 or UTF-32, already turned into UTF-8.
    Transcoded(String),
}

/// Turns UTF-16 or UTF-32 (the bytes after the mark) into UTF-8; `None` when invalid.
type Transcode = fn(&[u8]) -> Option<String>;

/// How to read `bytes`. A byte-order mark names the encoding: Windows PowerShell 5.1
/// writes `kubectl … > dump.yaml` as UTF-16LE with one, and YAML 1.2 (§5.2) has readers
/// accept UTF-16 and UTF-32 that way. Without a mark only UTF-8 is read (and it is
/// never copied).
fn decode(bytes: &[u8]) -> Result<Decoded, DumpError> {
    const UTF8: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(UTF8) {
        return Ok(Decoded::Utf8 { skip: UTF8.len() });
    }
    // UTF-32LE's mark starts with UTF-16LE's, so it is tried first.
    let wide: [(&[u8], &'static str, Transcode); 4] = [
        (b"\x00\x00\xFE\xFF", "UTF-32BE", |b| {
            utf32(b, u32::from_be_bytes)
        }),
        (b"\xFF\xFE\x00\x00", "UTF-32LE", |b| {
            utf32(b, u32::from_le_bytes)
        }),
        (b"\xFE\xFF", "UTF-16BE", |b| utf16(b, u16::from_be_bytes)),
        (b"\xFF\xFE", "UTF-16LE", |b| utf16(b, u16::from_le_bytes)),
    ];
    for (mark, name, transcode) in wide {
        if let Some(rest) = bytes.strip_prefix(mark) {
            return transcode(rest)
                .map(Decoded::Transcoded)
                .ok_or(DumpError::BadEncoding(name));
        }
    }
    // ASCII text in UTF-16 without a mark has a zero byte beside every character: say so
    // rather than let a parser stumble on the first of them.
    if let [a, b, c, d, ..] = bytes
        && ((*a != 0 && *b == 0 && *c != 0 && *d == 0)
            || (*a == 0 && *b != 0 && *c == 0 && *d != 0))
    {
        return Err(DumpError::Utf16WithoutMark);
    }
    Ok(Decoded::Utf8 { skip: 0 })
}

/// UTF-16 units (`unit` reads one pair of bytes) as UTF-8; `None` when not UTF-16.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// UTF-32 code points (`unit` reads four bytes) as UTF-8; `None` when not UTF-32.
fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> Option<String> {
    if bytes.len() % 4 != 0 {
        return None;
    }
    bytes
        .chunks_exact(4)
        .map(|four| char::from_u32(unit([four[0], four[1], four[2], four[3]])))
        .collect()
}

/// Reads a stream of JSON documents (concatenated, as `kubectl get -w -o json` prints
/// them); returns what it held and how many documents were read. Each document is taken
/// as borrowed text and decoded straight into its type — a `List` item by item — so no
/// tree of `Value`s is built.
///
/// Two passes: the first finds the documents and the items of each `List`, checking
/// the keys around them; the second decodes them, last to first, so that owned text
/// can be cut from the end as it goes: the memory held stays about that of the larger
/// of the text and its objects, not the two together.
fn read_json(mut text: Text<'_>) -> Result<(Dump, usize), DumpError> {
    let mut units = Vec::new();
    let mut kinds = Vec::new();
    let mut read = 0;
    let mut truncated = false;
    {
        let whole = text.as_str();
        let mut stream = serde_json::Deserializer::from_str(whole).into_iter::<StreamHead>();
        let mut start = 0;
        while let Some(item) = stream.next() {
            let end = stream.byte_offset();
            let reader = JsonReader {
                text: whole,
                before: "",
                document: read + 1,
            };
            match item {
                Ok(StreamHead(head)) => {
                    read += 1;
                    let raw = whole.get(start..end).unwrap_or_default().trim_start();
                    reader.plan(raw, head, &mut units, &mut kinds)?;
                    start = end;
                }
                // A watch stream cut off mid-object: keep the snapshots before it.
                Err(error) if error.is_eof() && read > 0 => {
                    truncated = true;
                    break;
                }
                Err(error) => {
                    let rest = whole.get(start..).unwrap_or_default();
                    let refusal = reader.refusal_in(rest, &error);
                    if read > 0
                        || matches!(
                            refusal,
                            DumpError::DuplicateKey { .. } | DumpError::TooDeep(_)
                        )
                    {
                        return Err(refusal);
                    }
                    // `{` may also open a YAML flow mapping; give YAML its chance.
                    if let Some(at) = too_deep(whole.as_bytes()) {
                        return Err(DumpError::TooDeep(at));
                    }
                    return read_yaml(whole).map_err(|yaml| match yaml {
                        duplicate @ DumpError::DuplicateKey { .. } => duplicate,
                        _ => refusal,
                    });
                }
            }
        }
    }
    // Decoded last to first: each unit's objects are kept apart, then put in order.
    let mut parts = Vec::with_capacity(units.len());
    let mut first_error = None;
    let mut unindented = String::new();
    for unit in units.iter().rev() {
        let mut part = Dump::default();
        let whole = text.as_str();
        if let Some(raw) = whole.get(unit.start..unit.end) {
            // Read twice (checked, then decoded): from a copy without the indentation,
            // most of what `kubectl -o json` prints, which serde_json skips byte by byte.
            unindented.clear();
            unindent(raw, &mut unindented);
            let reader = JsonReader {
                text: &unindented,
                before: whole.get(..unit.start).unwrap_or_default(),
                document: unit.document,
            };
            let kind = unit.kind.and_then(|at| kinds.get(at)).map(String::as_str);
            // The error nearest the top is the one to report: later ones are overwritten.
            if let Err(error) = reader.collect(&unindented, kind, &mut part) {
                first_error = Some(error);
            }
        }
        parts.push(part);
        text.release(unit.start);
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let mut dump = Dump {
        truncated,
        ..Dump::default()
    };
    for part in parts.into_iter().rev() {
        dump.objects.extend(part.objects);
        dump.events.extend(part.events);
    }
    Ok((dump, read))
}

/// A span of the input to decode: a document, or an item of a `List`.
struct Unit {
    start: usize,
    end: usize,
    document: usize,
    /// The kind an item without one has (an index into the list kinds): a `PodList`'s
    /// items may leave theirs out.
    kind: Option<usize>,
}

/// `raw` without the indentation at the start of each line, added to `out`. The lines
/// stay, so errors name the same line. Safe for JSON: a string cannot hold a raw line
/// break, so spaces after one are never inside a string.
fn unindent(raw: &str, out: &mut String) {
    out.reserve(raw.len());
    let mut lines = raw.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        out.push_str(line.trim_start_matches([' ', '\t']));
    }
}

/// Reads JSON from `text`, which follows `before` in the input: positions in errors are
/// counted in the whole input.
struct JsonReader<'t> {
    text: &'t str,
    before: &'t str,
    document: usize,
}

impl<'t> JsonReader<'t> {
    /// Adds the spans of `raw` (a document) to decode: a `List`'s items, else itself.
    /// The keys of a `List` around its items are checked here, the items later.
    fn plan(
        &self,
        raw: &'t str,
        mut head: Head<'t>,
        units: &mut Vec<Unit>,
        kinds: &mut Vec<String>,
    ) -> Result<(), DumpError> {
        let list = head.kind.as_deref().filter(|kind| kind.ends_with("List"));
        let Some(list) = list else {
            let start = self.offset(raw);
            units.push(Unit {
                start,
                end: start + raw.len(),
                document: self.document,
                kind: None,
            });
            return Ok(());
        };
        let kind = list
            .strip_suffix("List")
            .filter(|k| !k.is_empty())
            .map(|item_kind| {
                kinds.push(item_kind.to_owned());
                kinds.len() - 1
            });
        for item in head.items.take().into_iter().flatten() {
            let start = self.offset(item.get());
            units.push(Unit {
                start,
                end: start + item.get().len(),
                document: self.document,
                kind,
            });
        }
        self.check_unread(head)
    }

    /// Where `raw` (a slice of the input) starts in it.
    fn offset(&self, raw: &str) -> usize {
        (raw.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize)
    }

    /// Adds the Pods, Jobs and Events in `raw` (an object, a `List`, or a watch event,
    /// as text borrowed from the input) to `dump`. `kind` stands in for a missing one:
    /// the API's typed lists (PodList) may leave out each item's kind.
    fn collect(&self, raw: &'t str, kind: Option<&str>, dump: &mut Dump) -> Result<(), DumpError> {
        let mut head = self.head(raw)?;
        match head.kind.as_deref().or(kind) {
            Some("Pod") => {
                let mut pod: Pod = self.typed(raw, "Pod")?;
                slim_pod(&mut pod);
                dump.objects.push(Object::Pod(Box::new(pod)));
            }
            Some("Job") => {
                let mut job: Job = self.typed(raw, "Job")?;
                slim_job(&mut job);
                dump.objects.push(Object::Job(Box::new(job)));
            }
            Some("Event") => {
                // Events only add to what the Jobs and Pods say: one that does not decode
                // is left out rather than failing the dump.
                if let Ok(mut event) = serde_json::from_str::<Event>(raw)
                    && judged(&event)
                {
                    event.metadata.managed_fields = None;
                    dump.events.push(event);
                }
            }
            Some(list) if list.ends_with("List") => {
                // `kubectl get pods -o json` prints a `List`.
                let item_kind = list.strip_suffix("List").filter(|k| !k.is_empty());
                for item in head.items.take().into_iter().flatten() {
                    self.collect(item.get(), item_kind, dump)?;
                }
            }
            Some(_) => {}
            // `kubectl get -w --output-watch-events` wraps each snapshot in an event.
            None => {
                if head.watch_type
                    && let Some(object) = head.object.take()
                {
                    self.collect(object.get(), None, dump)?;
                }
            }
        }
        self.check_unread(head)
    }

    /// Checks for repeated keys what was set aside and not read (an `items` in a Pod,
    /// say): kubectl would refuse the whole document.
    fn check_unread(&self, head: Head<'_>) -> Result<(), DumpError> {
        for raw in head
            .object
            .into_iter()
            .chain(head.items.into_iter().flatten())
        {
            let duplicate = Duplicate::default();
            let mut json = serde_json::Deserializer::from_str(raw.get());
            Walk(&duplicate)
                .deserialize(&mut json)
                .map_err(|error| self.refusal(raw.get(), &duplicate, &error))?;
        }
        Ok(())
    }

    /// The kind of `raw` and the parts to read next, checking every key on the way.
    fn head(&self, raw: &'t str) -> Result<Head<'t>, DumpError> {
        let duplicate = Duplicate::default();
        let mut json = serde_json::Deserializer::from_str(raw);
        HeadSeed(&duplicate)
            .deserialize(&mut json)
            .map_err(|error| self.refusal(raw, &duplicate, &error))
    }

    /// The error for `error`, met reading `raw`: a repeated key, or (the raw text was
    /// already read once, so rarely) a syntax error.
    fn refusal(&self, raw: &str, duplicate: &Duplicate, error: &serde_json::Error) -> DumpError {
        let line = self.line(raw, error);
        match duplicate.take() {
            Some(key) => DumpError::DuplicateKey {
                document: self.document,
                key,
                line,
            },
            // serde_json's own guard (128 levels, which it names only in words): our
            // measure says where, when the input also passes our limit.
            None if message(error) == "recursion limit exceeded" => {
                match too_deep(self.text.as_bytes()) {
                    Some(at) => DumpError::TooDeep(self.before.len() + at),
                    None => DumpError::Syntax(format!(
                        "JSON: nested more than 128 levels deep at line {line}; kubectl never prints that"
                    )),
                }
            }
            None => DumpError::Syntax(format!("JSON: {} at line {line}", message(error))),
        }
    }

    /// The error for the document at the start of `rest` that the stream refused with
    /// `error`: read again, on this error path alone, to learn whether a key was
    /// repeated (the stream's reader cannot say).
    fn refusal_in(&self, rest: &str, error: &serde_json::Error) -> DumpError {
        let duplicate = Duplicate::default();
        let mut json = serde_json::Deserializer::from_str(rest);
        match HeadSeed(&duplicate).deserialize(&mut json) {
            Err(again) => self.refusal(rest, &duplicate, &again),
            // The same reader on the same text refuses it again; should it not, the
            // stream's own words are kept.
            Ok(_) => DumpError::Syntax(format!("JSON: {error}")),
        }
    }

    /// The line in the whole input of `error`, met reading `raw` (a slice of it).
    fn line(&self, raw: &str, error: &serde_json::Error) -> usize {
        let before = self
            .text
            .as_bytes()
            .get(..self.offset(raw))
            .unwrap_or_default();
        let newlines = |text: &[u8]| text.iter().filter(|&&byte| byte == b'\n').count();
        newlines(self.before.as_bytes()) + newlines(before) + error.line()
    }

    /// `raw` decoded as a `T`.
    fn typed<T: de::DeserializeOwned>(
        &self,
        raw: &str,
        kind: &'static str,
    ) -> Result<T, DumpError> {
        serde_json::from_str(raw).map_err(|error| {
            // Only the name is wanted; it is read again, on this error path alone.
            #[derive(serde::Deserialize)]
            struct Named {
                metadata: Option<ObjectMeta>,
            }
            let name = serde_json::from_str::<Named>(raw)
                .ok()
                .and_then(|named| named.metadata?.name);
            DumpError::BadObject {
                what: what(self.document, kind, name.as_deref()),
                kind,
                message: format!("{} at line {}", message(&error), self.line(raw, &error)),
            }
        })
    }
}

/// The document heads of a JSON stream, read by the stream's own reader (one pass over
/// the text, where `&RawValue` documents then a `HeadSeed` would take two). It cannot
/// say which key was repeated: on an error the document is read again to find out.
struct StreamHead<'de>(Head<'de>);

impl<'de> Deserialize<'de> for StreamHead<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HeadSeed(&Duplicate::default())
            .deserialize(deserializer)
            .map(StreamHead)
    }
}

/// A serde_json error without its position (it counts within one object, not the input).
fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

/// "document 2 (Pod `p`)": where an object is, for errors.
fn what(document: usize, kind: &str, name: Option<&str>) -> String {
    let name = name.map(|name| format!(" `{name}`")).unwrap_or_default();
    format!("document {document} ({kind}{name})")
}

/// What the JSON reader needs of an object before decoding it: its kind, and the parts
/// a `List` or a watch event holds, as borrowed text.
#[derive(Default)]
struct Head<'de> {
    kind: Option<Cow<'de, str>>,
    /// A `type` key: with `object`, a watch event.
    watch_type: bool,
    object: Option<&'de RawValue>,
    items: Option<Vec<&'de RawValue>>,
}

/// Reads a `Head`, refusing repeated keys throughout (the parts set aside excepted:
/// they are checked when read).
struct HeadSeed<'a>(&'a Duplicate);

impl<'de> DeserializeSeed<'de> for HeadSeed<'_> {
    type Value = Head<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Head<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadSeed<'_> {
    type Value = Head<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    // Not an object (a bare scalar, a list): nothing to judge.
    fn visit_bool<E>(self, _: bool) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_unit<E>(self) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Head<'de>, A::Error> {
        Walk(self.0).visit_seq(seq).map(|()| Head::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head<'de>, A::Error> {
        let mut head = Head::default();
        let mut keys = Keys::default();
        while let Some(key) = map.next_key_seed(Key {
            keys: &mut keys,
            duplicate: self.0,
        })? {
            match key.as_ref() {
                "kind" => head.kind = map.next_value_seed(MaybeStr(self.0))?,
                "type" => {
                    head.watch_type = true;
                    map.next_value_seed(Walk(self.0))?;
                }
                "object" => head.object = Some(map.next_value()?),
                "items" => head.items = map.next_value_seed(Items(self.0))?,
                _ => map.next_value_seed(Walk(self.0))?,
            }
        }
        Ok(head)
    }
}

/// A `List`'s items, each as borrowed text; `None` (checked, not kept) when not a list.
struct Items<'a>(&'a Duplicate);

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    crate::render::strict::scalars_give_none!();
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Walk(self.0).visit_map(map).map(|()| None)
    }
}

/// Reads a YAML stream (documents separated by `---`) into `dump`; returns how many
/// non-empty documents were read. YAML dumps are small (a lab's pods and Jobs): they go
/// through `Value`s, which the duplicate check builds.
fn read_yaml(text: &str) -> Result<(Dump, usize), DumpError> {
    let mut dump = Dump::default();
    let (documents, error) = yaml::documents(text);
    if let Some(error) = &error {
        if let Some((key, line)) = error.duplicate() {
            return Err(DumpError::DuplicateKey {
                document: documents.len() + 1,
                key: key.to_owned(),
                line,
            });
        }
        // A later document broken (typically a recording cut short): keep the earlier
        // ones.
        if !documents.iter().any(Value::is_object) {
            return Err(DumpError::Syntax(format!("YAML: {error}")));
        }
        dump.truncated = true;
    }
    for (index, document) in documents.iter().enumerate() {
        collect(document, index + 1, &mut dump)?;
    }
    Ok((dump, documents.iter().filter(|d| !d.is_null()).count()))
}

/// Adds the Pods and Jobs in `value` (an object, a `List`, or a watch event) to `dump`.
fn collect(value: &Value, document: usize, dump: &mut Dump) -> Result<(), DumpError> {
    let Some(map) = value.as_object() else {
        return Ok(()); // an empty document or a bare scalar: nothing to judge
    };
    let kind = map.get("kind").and_then(Value::as_str);
    match kind {
        Some("Pod") => {
            let mut pod: Pod = typed(value, document, "Pod")?;
            slim_pod(&mut pod);
            dump.objects.push(Object::Pod(Box::new(pod)));
        }
        Some("Job") => {
            let mut job: Job = typed(value, document, "Job")?;
            slim_job(&mut job);
            dump.objects.push(Object::Job(Box::new(job)));
        }
        Some("Event") => {
            // Events only add to what the Jobs and Pods say: one that does not decode is
            // left out rather than failing the dump.
            if let Ok(mut event) = Event::deserialize(value)
                && judged(&event)
            {
                event.metadata.managed_fields = None;
                dump.events.push(event);
            }
        }
        Some(list) if list.ends_with("List") => {
            // `kubectl get pods -o yaml` prints a `List`; the API's typed lists (PodList)
            // may leave out each item's kind.
            let item_kind = list.strip_suffix("List").filter(|k| !k.is_empty());
            for item in map
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match (item.get("kind"), item_kind) {
                    (None, Some(kind)) => {
                        let mut item = item.clone();
                        if let Some(object) = item.as_object_mut() {
                            object.insert("kind".to_owned(), Value::String(kind.to_owned()));
                        }
                        collect(&item, document, dump)?;
                    }
                    _ => collect(item, document, dump)?,
                }
            }
        }
        Some(_) => {}
        // `kubectl get -w --output-watch-events` wraps each snapshot in an event.
        None => {
            if let Some(object) = map.get("object").filter(|_| map.contains_key("type")) {
                collect(object, document, dump)?;
            }
        }
    }
    Ok(())
}

fn typed<T: de::DeserializeOwned>(
    value: &Value,
    document: usize,
    kind: &'static str,
) -> Result<T, DumpError> {
    // Decoded from a reference: the tree is not copied.
    T::deserialize(value).map_err(|error| DumpError::BadObject {
        what: what(
            document,
            kind,
            value.pointer("/metadata/name").and_then(Value::as_str),
        ),
        kind,
        message: error.to_string(),
    })
}

/// Whether the judge reads `event`: only a Job's `FailedCreate` says anything objects do
/// not (a pod that admission refused). A namespace's other events (tens of thousands on
/// a busy cluster) are dropped as they are read.
fn judged(event: &Event) -> bool {
    event.reason.as_deref() == Some("FailedCreate")
}

/// Drops from a pod what no reader of a dump looks at, right after it is decoded, so a
/// dump of thousands of pods takes little more memory than its text: the fields the
/// API server keeps for itself (`managedFields`), annotations (a Pod's are never read;
/// a Job's are: see `slim_job`), each container's environment and mounts, the volumes
/// they mount, and the resources a status repeats from the spec. Everything else stays:
/// names, images, `restartPolicy`, resources, probes, `lifecycle` (preStop, stop
/// signals), statuses and conditions. Lists are trimmed to their length: serde grows
/// them by doubling, and a pod's one container status would hold room for four.
pub fn slim_pod(pod: &mut Pod) {
    slim_meta(&mut pod.metadata);
    pod.metadata.annotations = None;
    if let Some(spec) = &mut pod.spec {
        slim_spec(spec);
    }
    if let Some(status) = &mut pod.status {
        let statuses = [
            &mut status.init_container_statuses,
            &mut status.container_statuses,
            &mut status.ephemeral_container_statuses,
        ];
        for statuses in statuses.into_iter().flatten() {
            statuses.shrink_to_fit();
            for status in statuses {
                status.volume_mounts = None;
                status.allocated_resources = None;
                status.allocated_resources_status = None;
                status.resources = None;
            }
        }
        status.conditions.iter_mut().for_each(Vec::shrink_to_fit);
        status.host_ips.iter_mut().for_each(Vec::shrink_to_fit);
        status.pod_ips.iter_mut().for_each(Vec::shrink_to_fit);
    }
}

/// Drops a Job's `managedFields` and, in its pod template, the environment and mounts
/// (as `slim_pod`). Its annotations stay: the manifest `kubectl apply` sent
/// (`kubectl.kubernetes.io/last-applied-configuration`) tells a gate that is off.
pub fn slim_job(job: &mut Job) {
    slim_meta(&mut job.metadata);
    if let Some(spec) = job.spec.as_mut().and_then(|s| s.template.spec.as_mut()) {
        slim_spec(spec);
    }
}

fn slim_meta(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
    meta.owner_references
        .iter_mut()
        .for_each(Vec::shrink_to_fit);
    meta.finalizers.iter_mut().for_each(Vec::shrink_to_fit);
}

fn slim_spec(spec: &mut PodSpec) {
    spec.volumes = None;
    let slim = |container: &mut Container| {
        container.env = None;
        container.env_from = None;
        container.volume_mounts = None;
        container.volume_devices = None;
        container.ports.iter_mut().for_each(Vec::shrink_to_fit);
    };
    spec.containers.iter_mut().for_each(slim);
    spec.containers.shrink_to_fit();
    if let Some(init) = &mut spec.init_containers {
        init.iter_mut().for_each(slim);
        init.shrink_to_fit();
    }
    for container in spec.ephemeral_containers.iter_mut().flatten() {
        container.env = None;
        container.env_from = None;
        container.volume_mounts = None;
    }
    spec.tolerations.iter_mut().for_each(Vec::shrink_to_fit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_without_a_mark_is_named() {
        let wide: Vec<u8> = "kind: Pod\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(parse(&wide), Err(DumpError::Utf16WithoutMark));
        let big: Vec<u8> = "kind: Pod\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(parse(&big), Err(DumpError::Utf16WithoutMark));
        // The negative: the same text in UTF-8 reads on (and holds no Pod worth judging).
        assert!(!matches!(
            parse(b"kind: Pod\n"),
            Err(DumpError::Utf16WithoutMark)
        ));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let started = std::time::Instant::now();
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()), Err(DumpError::TooDeep(MAX_DEPTH)));
        let deep_json = format!("{{\"a\":{}", "{\"a\":".repeat(300));
        assert!(matches!(
            parse(deep_json.as_bytes()),
            Err(DumpError::TooDeep(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Between serde_json's limit and ours: refused, saying by how much.
        let json_deep = format!("{}1{}", "{\"a\":".repeat(150), "}".repeat(150));
        let error = parse(json_deep.as_bytes()).expect_err("refused");
        assert!(
            error.to_string().contains("nested more than 128 levels"),
            "{error}"
        );
        // Balanced brackets in a string cost nothing; an unclosed run is counted even
        // there (the guard cannot tell a string as the YAML parser does).
        let quoted = format!("kind: Pod\nmetadata:\n  name: \"{}\"\n", "[]".repeat(1000));
        assert!(!matches!(
            parse(quoted.as_bytes()),
            Err(DumpError::TooDeep(_))
        ));
        let unclosed = format!("kind: Pod\nmetadata:\n  name: \"{}\"\n", "[".repeat(1000));
        assert!(matches!(
            parse(unclosed.as_bytes()),
            Err(DumpError::TooDeep(_))
        ));
        let indented = format!("a:\n{}b: 1\n", " ".repeat(2000));
        assert!(matches!(
            parse(indented.as_bytes()),
            Err(DumpError::TooDeep(_))
        ));
    }

    const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u1"},"spec":{"containers":[{"name":"main"}]}}"#;

    fn kinds(dump: &Dump) -> Vec<&'static str> {
        dump.objects
            .iter()
            .map(|o| match o {
                Object::Pod(_) => "Pod",
                Object::Job(_) => "Job",
            })
            .collect()
    }

    #[test]
    fn concatenated_json_objects_are_a_stream() {
        let dump = parse(format!("{POD}\n{POD}").as_bytes()).expect("parses");
        assert_eq!(kinds(&dump), ["Pod", "Pod"]);
        assert!(!dump.truncated);
    }

    #[test]
    fn a_json_stream_cut_short_keeps_the_complete_snapshots() {
        let text = format!("{POD}\n{}", &POD[..40]);
        let dump = parse(text.as_bytes()).expect("parses");
        assert_eq!(kinds(&dump), ["Pod"]);
        assert!(dump.truncated);
    }

    #[test]
    fn lists_and_watch_events_are_unwrapped_and_other_kinds_skipped() {
        let text = format!(
            r#"{{"kind":"List","items":[{POD},{{"kind":"Service","metadata":{{"name":"s"}}}}]}}
{{"type":"MODIFIED","object":{POD}}}"#
        );
        assert_eq!(
            kinds(&parse(text.as_bytes()).expect("parses")),
            ["Pod", "Pod"]
        );
    }

    #[test]
    fn typed_lists_may_leave_out_the_item_kind() {
        let text =
            r#"{"kind":"JobList","apiVersion":"batch/v1","items":[{"metadata":{"name":"j"}}]}"#;
        assert_eq!(kinds(&parse(text.as_bytes()).expect("parses")), ["Job"]);
    }

    #[test]
    fn yaml_streams_with_comments_between_documents() {
        let text = "# snapshot 1\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: main}]}\n---\n# snapshot 2\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: main}]}\n";
        assert_eq!(
            kinds(&parse(text.as_bytes()).expect("parses")),
            ["Pod", "Pod"]
        );
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(parse(b"\xff\xff"), Err(DumpError::NotText));
        assert_eq!(parse(b"kind: Pod\n\xc3("), Err(DumpError::NotText));
        assert!(matches!(parse(b"a: [\n"), Err(DumpError::Syntax(_))));
        assert_eq!(parse(b"kind: Service\n"), Err(DumpError::NoPodOrJob(1)));
        assert_eq!(parse(b""), Err(DumpError::NoPodOrJob(0)));
        let error = parse(br#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":5}}"#)
            .expect_err("containers must be a list");
        assert!(
            error
                .to_string()
                .starts_with("document 1 (Pod `p`) is not a valid Pod"),
            "{error}"
        );
    }

    const YAML_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  uid: u1\n  labels:\n    app: a\nspec:\n  containers:\n  - name: main\n    image: busybox\n";

    #[test]
    fn a_key_given_twice_in_yaml_is_refused_with_its_line() {
        let twice = YAML_POD.replace("    app: a\n", "    app: a\n    app: b\n");
        assert_eq!(
            parse(twice.as_bytes()),
            Err(DumpError::DuplicateKey {
                document: 1,
                key: "app".to_owned(),
                line: 8,
            })
        );
        // In the second document of a stream, the line counts from the top of the input.
        let stream = format!(
            "{YAML_POD}---\n{}",
            YAML_POD.replace("  uid: u1\n", "  uid: u1\n  name: q\n")
        );
        let error = parse(stream.as_bytes()).expect_err("refused");
        assert_eq!(
            error,
            DumpError::DuplicateKey {
                document: 2,
                key: "name".to_owned(),
                line: 18,
            }
        );
        assert_eq!(
            error.to_string(),
            "document 2: duplicate key `name` at line 18 (kubectl refuses this too; the object cannot exist on a cluster)"
        );
        // The same input with each key once is read.
        let dump = parse(format!("{YAML_POD}---\n{YAML_POD}").as_bytes()).expect("parses");
        assert_eq!(kinds(&dump), ["Pod", "Pod"]);
    }

    /// `value` as `kubectl get -o json` prints it: indented by four, one key a line.
    fn pretty(value: &Value) -> String {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(value, &mut serializer).expect("serializes");
        String::from_utf8(out).expect("utf-8")
    }

    fn pod_value(name: &str) -> Value {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "uid": format!("uid-{name}")},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        })
    }

    #[test]
    fn a_key_given_twice_in_json_is_refused_with_its_line() {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "items": [pod_value("a"), pod_value("b")],
            "kind": "List",
        });
        let text = pretty(&list);
        // Give the second pod's container its image twice, as a hand edit might.
        let at = text.rfind("\"image\": \"busybox\"").expect("has an image");
        let twice = format!("{}\"image\": \"nginx\",\n{}", &text[..at], &text[at..]);
        let line = twice[..at].matches('\n').count() + 2;
        assert_eq!(
            parse(twice.as_bytes()),
            Err(DumpError::DuplicateKey {
                document: 1,
                key: "image".to_owned(),
                line,
            })
        );
        // Second document of a stream; at the top level of an object; escaped.
        let pod = pretty(&pod_value("c"));
        let stream = format!(
            "{pod}\n{}",
            pod.replacen("\"kind\"", "\"ki\\u006ed\": \"Pod\",\n    \"kind\"", 1)
        );
        let error = parse(stream.as_bytes()).expect_err("refused");
        assert!(
            matches!(&error, DumpError::DuplicateKey { document: 2, key, line } if key == "kind" && *line == pod.lines().count() + 4),
            "{error:?}"
        );
        // Parts of an object no reader looks at are checked too.
        let hidden = r#"{"kind":"Pod","metadata":{"name":"p"},"items":[{"a":1,"a":2}]}"#;
        assert!(matches!(
            parse(hidden.as_bytes()),
            Err(DumpError::DuplicateKey { key, .. }) if key == "a"
        ));
        // The same input with each key once is read.
        assert_eq!(
            kinds(&parse(text.as_bytes()).expect("parses")),
            ["Pod", "Pod"]
        );
    }

    fn with_mark(mark: &[u8], text: &str, unit: impl Fn(u32) -> Vec<u8>, wide: bool) -> Vec<u8> {
        let mut bytes = mark.to_vec();
        if wide {
            text.chars().for_each(|c| bytes.extend(unit(u32::from(c))));
        } else {
            text.encode_utf16()
                .for_each(|u| bytes.extend(unit(u32::from(u))));
        }
        bytes
    }

    #[test]
    fn utf16_and_utf32_with_a_byte_order_mark_read_as_utf8() {
        // A non-ASCII name, and one outside the Basic Multilingual Plane (a UTF-16 pair).
        let text = YAML_POD.replace("app: a", "app: \"caf\u{e9} \u{1F680}\"");
        let utf8 = parse(text.as_bytes()).expect("parses");
        let two = |u: u32| u.to_le_bytes()[..2].to_vec();
        let two_be = |u: u32| u.to_be_bytes()[2..].to_vec();
        let inputs = [
            with_mark(b"\xFF\xFE", &text, two, false),
            with_mark(b"\xFE\xFF", &text, two_be, false),
            with_mark(
                b"\xFF\xFE\x00\x00",
                &text,
                |u| u.to_le_bytes().to_vec(),
                true,
            ),
            with_mark(
                b"\x00\x00\xFE\xFF",
                &text,
                |u| u.to_be_bytes().to_vec(),
                true,
            ),
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ];
        for input in inputs {
            assert_eq!(parse(&input).as_ref(), Ok(&utf8), "{:?}", &input[..4]);
        }
        // JSON too, the way PowerShell 5.1 saves `kubectl get -o json > dump.json`.
        let json = pretty(&pod_value("p"));
        let utf16 = with_mark(b"\xFF\xFE", &json, two, false);
        assert_eq!(parse(&utf16), parse(json.as_bytes()));
        // A mark followed by something else is named for what it claimed.
        assert_eq!(
            parse(b"\xFF\xFEk\x00i"),
            Err(DumpError::BadEncoding("UTF-16LE"))
        );
        assert_eq!(
            parse(b"\xFF\xFE\x00\xD8k\x00"), // a lone surrogate
            Err(DumpError::BadEncoding("UTF-16LE"))
        );
        assert_eq!(
            parse(b"\x00\x00\xFE\xFF\x00\x11\x00\x00"),
            Err(DumpError::BadEncoding("UTF-32BE"))
        );
    }

    #[test]
    fn slimming_keeps_every_field_the_judge_reads() {
        let last_applied = r#"{"spec":{"template":{"spec":{"initContainers":[{"name":"s","restartPolicy":"Always"}]}}}}"#;
        let job = serde_json::json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "j",
                "uid": "j1",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}],
            },
            "spec": {"template": {"spec": {"containers": [{"name": "main", "restartPolicy": "Always"}]}}},
        });
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "p",
                "uid": "p1",
                "labels": {"batch.kubernetes.io/job-name": "j"},
                "annotations": {"note": "x"},
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "j1", "controller": true}],
                "managedFields": [{"manager": "kubelet"}],
            },
            "spec": {
                "initContainers": [{
                    "name": "s",
                    "image": "busybox",
                    "restartPolicy": "Always",
                    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                    "startupProbe": {"exec": {"command": ["true"]}},
                    "resources": {"requests": {"cpu": "100m"}},
                    "env": [{"name": "A", "value": "1"}],
                    "volumeMounts": [{"name": "v", "mountPath": "/v"}],
                }],
                "containers": [{"name": "main", "image": "busybox"}],
                "volumes": [{"name": "v", "emptyDir": {}}],
                "terminationGracePeriodSeconds": 30,
            },
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{
                    "name": "s", "image": "busybox", "imageID": "", "ready": true, "restartCount": 2,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }],
            },
        });
        for text in [
            format!("{job}\n{pod}"),
            format!(
                "{}---\n{}",
                yaml::to_string(&job).expect("yaml"),
                yaml::to_string(&pod).expect("yaml")
            ),
        ] {
            let dump = parse(text.as_bytes()).expect("parses");
            let [Object::Job(job), Object::Pod(pod)] = &dump.objects[..] else {
                panic!("a Job and a Pod: {:?}", kinds(&dump));
            };
            let kept = job
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(LAST_APPLIED_KEY));
            assert_eq!(kept.map(String::as_str), Some(last_applied));
            assert!(job.metadata.managed_fields.is_none() && pod.metadata.managed_fields.is_none());
            let spec = pod.spec.as_ref().expect("spec");
            let sidecar = &spec.init_containers.as_ref().expect("init containers")[0];
            let pre_stop = sidecar.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref());
            assert!(pre_stop.and_then(|p| p.exec.as_ref()).is_some());
            assert!(sidecar.startup_probe.is_some());
            assert_eq!(sidecar.restart_policy.as_deref(), Some("Always"));
            assert_eq!(sidecar.image.as_deref(), Some("busybox"));
            assert!(sidecar.resources.is_some());
            assert_eq!(spec.termination_grace_period_seconds, Some(30));
            assert!(
                sidecar.env.is_none() && sidecar.volume_mounts.is_none() && spec.volumes.is_none()
            );
            assert!(pod.metadata.owner_references.is_some() && pod.metadata.labels.is_some());
            let status = pod.status.as_ref().expect("status");
            assert_eq!(
                status
                    .init_container_statuses
                    .as_ref()
                    .map(|s| s[0].restart_count),
                Some(2)
            );
            assert!(status.conditions.is_some());
            // The judge still reads the Job's manifest through its annotation.
            assert_eq!(crate::verdict::judge(&dump, None).pod.as_deref(), Some("p"));
        }
    }

    const LAST_APPLIED_KEY: &str = "kubectl.kubernetes.io/last-applied-configuration";

    #[test]
    fn a_list_of_thousands_of_pods_is_read_at_once() {
        let items: Vec<Value> = (0..2000).map(|n| pod_value(&format!("p{n}"))).collect();
        let text = pretty(&serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"}));
        let started = std::time::Instant::now();
        let dump = parse(text.as_bytes()).expect("parses");
        assert_eq!(dump.objects.len(), 2000);
        let subject = crate::observe::history::subject(&dump, None, &|_| false);
        assert_eq!(subject.other_pods, 1999);
        // Debug build: quadratic grouping or a copy per pod would take far longer.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn owned_input_reads_as_borrowed_input() {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": [
                pod_value("a"),
                {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {}, "reason": "FailedCreate"},
                {"kind": "Service", "metadata": {"name": "s"}},
                {"kind": "PodList", "items": [{"metadata": {"name": "b"}}, {"metadata": {"name": "c"}}]},
                pod_value("d"),
            ],
        });
        let watch = format!(r#"{{"type":"MODIFIED","object":{}}}"#, pod_value("f"));
        let inputs = [
            pretty(&list),
            format!("{}\n{watch}\n{}", pretty(&pod_value("e")), &POD[..40]),
            format!("{YAML_POD}---\n{YAML_POD}"),
        ];
        for input in inputs {
            let borrowed = parse(input.as_bytes()).expect("parses");
            assert_eq!(
                parse_owned(input.clone().into_bytes()),
                Ok(borrowed.clone())
            );
            let names: Vec<_> = borrowed
                .objects
                .iter()
                .filter_map(|o| match o {
                    Object::Pod(pod) => pod.metadata.name.clone(),
                    Object::Job(job) => job.metadata.name.clone(),
                })
                .collect();
            assert!(
                names.windows(2).all(|w| w[0] <= w[1]),
                "in input order: {names:?}"
            );
        }
        let listed = parse_owned(pretty(&list).into_bytes()).expect("parses");
        assert_eq!(kinds(&listed), ["Pod", "Pod", "Pod", "Pod"]);
        assert_eq!(listed.events.len(), 1);
        // Of two errors, the one nearer the top is reported, as a forward read would.
        let bad = pretty(&serde_json::json!({"kind": "List", "items": [
            {"kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": 1}},
            {"kind": "Pod", "metadata": {"name": "y"}, "spec": {"containers": 2}},
        ]}));
        let error = parse_owned(bad.into_bytes()).expect_err("refused");
        assert!(error.to_string().contains("(Pod `x`)"), "{error}");
    }
}

//! The JSON reader: a stream of documents (as `kubectl get -w -o json` prints them)
//! decoded straight into Pods, Jobs and Events from borrowed text, a `List` item by item,
//! every key checked for repeats on the way.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::{self, DeserializeSeed};

use super::encoding::Text;
use super::head::{Head, HeadSeed, StreamHead};
use super::slim::{judged, slim_job, slim_pod};
use super::yaml::read_yaml;
use super::{Dump, DumpError, Object, what};
use crate::render::bounds::too_deep;
use crate::render::strict::{Duplicate, Walk};

/// Reads a stream of JSON documents (concatenated, as `kubectl get -w -o json` prints
/// them); returns what it held and how many documents were read. Each document is taken
/// as borrowed text and decoded straight into its type — a `List` item by item — so no
/// tree of `Value`s is built.
///
/// Two passes: the first finds the documents and the items of each `List`, checking
/// the keys around them; the second decodes them, last to first, so that owned text
/// can be cut from the end as it goes: the memory held stays about that of the larger
/// of the text and its objects, not the two together.
pub(super) fn read_json(mut text: Text<'_>) -> Result<(Dump, usize), DumpError> {
    let plan = match plan(text.as_str())? {
        Planned::Json(plan) => plan,
        Planned::Yaml(read) => return read,
    };
    let dump = decode_units(&mut text, &plan)?;
    Ok((dump, plan.read))
}

/// What the first pass found: the spans to decode, the item kinds of the `List`s they
/// belong to, how many documents were read, and whether the stream was cut short.
#[derive(Default)]
struct Plan {
    units: Vec<Unit>,
    kinds: Vec<String>,
    read: usize,
    truncated: bool,
}

/// The first pass's answer: a JSON stream to decode, or text that `{` opened but that
/// turned out to be YAML, read as such.
enum Planned {
    Json(Plan),
    Yaml(Result<(Dump, usize), DumpError>),
}

/// The first pass: the documents of the stream in `whole` and the items of each `List`,
/// with the keys around them checked.
fn plan(whole: &str) -> Result<Planned, DumpError> {
    let mut plan = Plan::default();
    let mut stream = serde_json::Deserializer::from_str(whole).into_iter::<StreamHead>();
    let mut start = 0;
    while let Some(item) = stream.next() {
        let end = stream.byte_offset();
        let reader = JsonReader {
            text: whole,
            before: "",
            document: plan.read + 1,
        };
        match item {
            Ok(StreamHead(head)) => {
                plan.read += 1;
                let raw = whole.get(start..end).unwrap_or_default().trim_start();
                reader.plan(raw, head, &mut plan.units, &mut plan.kinds)?;
                start = end;
            }
            // A watch stream cut off mid-object: keep the snapshots before it.
            Err(error) if error.is_eof() && plan.read > 0 => {
                plan.truncated = true;
                break;
            }
            Err(error) => {
                let rest = whole.get(start..).unwrap_or_default();
                let refusal = reader.refusal_in(rest, &error);
                if plan.read > 0
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
                return Ok(Planned::Yaml(read_yaml(whole).map_err(|yaml| match yaml {
                    duplicate @ DumpError::DuplicateKey { .. } => duplicate,
                    _ => refusal,
                })));
            }
        }
    }
    Ok(Planned::Json(plan))
}

/// The second pass: the planned spans decoded last to first, the text released behind
/// each, and their objects put back in order.
fn decode_units(text: &mut Text<'_>, plan: &Plan) -> Result<Dump, DumpError> {
    // Decoded last to first: each unit's objects are kept apart, then put in order.
    let mut parts = Vec::with_capacity(plan.units.len());
    let mut first_error = None;
    let mut unindented = String::new();
    for unit in plan.units.iter().rev() {
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
            let kind = unit
                .kind
                .and_then(|at| plan.kinds.get(at))
                .map(String::as_str);
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
        truncated: plan.truncated,
        ..Dump::default()
    };
    for part in parts.into_iter().rev() {
        dump.objects.extend(part.objects);
        dump.events.extend(part.events);
    }
    Ok(dump)
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
        #[allow(
            clippy::naive_bytecount,
            reason = "counted once, on an error path: not worth the bytecount crate"
        )]
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

/// A serde_json error without its position (it counts within one object, not the input).
fn message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).unwrap_or(&text).to_owned()
}

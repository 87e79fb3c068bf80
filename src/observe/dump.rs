//! Reads a dump — one object, a `List`, or a stream of snapshots as `kubectl get -w`
//! prints them (multi-document YAML, or concatenated JSON objects) — into typed Pods and
//! Jobs, in the order they appear. Objects of other kinds are skipped. Pure: bytes in.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::Value;

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
    /// Pods and Jobs in the order they appear.
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
    #[error("the input is neither YAML nor JSON: {0}")]
    Syntax(String),
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

/// How deep objects and lists may nest. A Pod is about 10 levels deep; the parsers
/// recurse, so deeply nested input (a line of 100,000 `[`) would take minutes to refuse.
pub const MAX_DEPTH: usize = 256;

/// Reads the dump in `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Dump, DumpError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DumpError::NotText)?;
    if let Some(at) = too_deep(bytes) {
        return Err(DumpError::TooDeep(at));
    }
    let (documents, truncated) = documents(text)?;
    let mut objects = Vec::new();
    let mut events = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        collect(document, index + 1, &mut objects, &mut events)?;
    }
    if objects.is_empty() {
        let read = documents.iter().filter(|d| !d.is_null()).count();
        return Err(DumpError::NoPodOrJob(read));
    }
    Ok(Dump {
        objects,
        events,
        truncated,
    })
}

/// Where the input first nests deeper than `MAX_DEPTH`, in one pass before any parser
/// runs: flow brackets (`[`, `{`) outside quoted strings, and block indentation (a YAML
/// level needs at least one more column, so a line indented past the limit nests too
/// deep as well, or is not a dump kubectl printed).
fn too_deep(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    let mut column = 0usize;
    let mut indenting = true;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' {
            column = 0;
            indenting = true;
            continue;
        }
        if indenting {
            if byte == b' ' {
                column += 1;
                if column > MAX_DEPTH * 4 {
                    return Some(at);
                }
                continue;
            }
            indenting = false;
        }
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' && q == b'"' {
                    escaped = true;
                } else if byte == q {
                    quote = None;
                }
            }
            None => match byte {
                b'"' | b'\'' => quote = Some(byte),
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(at);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    None
}

/// The documents of a JSON stream or a YAML stream, and whether the input was cut short.
fn documents(text: &str) -> Result<(Vec<Value>, bool), DumpError> {
    let looks_like_json = text.trim_start().starts_with('{');
    if looks_like_json {
        let mut values = Vec::new();
        for item in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            match item {
                Ok(value) => values.push(value),
                // A watch stream cut off mid-object: keep the snapshots before it.
                Err(error) if error.is_eof() && !values.is_empty() => return Ok((values, true)),
                Err(error) if values.is_empty() => {
                    // `{` may also open a YAML flow mapping; give YAML its chance.
                    return yaml_documents(text)
                        .map_err(|_| DumpError::Syntax(format!("JSON: {error}")));
                }
                Err(error) => return Err(DumpError::Syntax(format!("JSON: {error}"))),
            }
        }
        return Ok((values, false));
    }
    yaml_documents(text)
}

fn yaml_documents(text: &str) -> Result<(Vec<Value>, bool), DumpError> {
    match yaml::documents(text) {
        (values, None) => Ok((values, false)),
        // A later document broken (typically a recording cut short): keep the earlier ones.
        (values, Some(_)) if values.iter().any(Value::is_object) => Ok((values, true)),
        (_, Some(error)) => Err(DumpError::Syntax(format!("YAML: {error}"))),
    }
}

/// Adds the Pods and Jobs in `value` (an object, a `List`, or a watch event) to `out`.
fn collect(
    value: &Value,
    document: usize,
    out: &mut Vec<Object>,
    events: &mut Vec<Event>,
) -> Result<(), DumpError> {
    let Some(map) = value.as_object() else {
        return Ok(()); // an empty document or a bare scalar: nothing to judge
    };
    let kind = map.get("kind").and_then(Value::as_str);
    match kind {
        Some("Pod") => out.push(Object::Pod(Box::new(typed(value, document, "Pod")?))),
        Some("Job") => out.push(Object::Job(Box::new(typed(value, document, "Job")?))),
        Some("Event") => {
            // Events only add to what the Jobs and Pods say: one that does not decode is
            // left out rather than failing the dump.
            if let Ok(event) = serde_json::from_value::<Event>(value.clone()) {
                events.push(event);
            }
        }
        Some(list) if list.ends_with("List") => {
            // `kubectl get pods -o json` prints a `List`; the API's typed lists (PodList)
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
                        collect(&item, document, out, events)?;
                    }
                    _ => collect(item, document, out, events)?,
                }
            }
        }
        Some(_) => {}
        // `kubectl get -w --output-watch-events` wraps each snapshot in an event.
        None => {
            if let Some(object) = map.get("object").filter(|_| map.contains_key("type")) {
                collect(object, document, out, events)?;
            }
        }
    }
    Ok(())
}

fn typed<T: serde::de::DeserializeOwned>(
    value: &Value,
    document: usize,
    kind: &'static str,
) -> Result<T, DumpError> {
    serde_json::from_value(value.clone()).map_err(|error| {
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(|name| format!(" `{name}`"))
            .unwrap_or_default();
        DumpError::BadObject {
            what: format!("document {document} ({kind}{name})"),
            kind,
            message: error.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Brackets in strings do not count; real dumps pass.
        let quoted = format!("kind: Pod\nmetadata:\n  name: \"{}\"\n", "[".repeat(1000));
        assert!(!matches!(
            parse(quoted.as_bytes()),
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
        assert_eq!(parse(b"\xff\xfe"), Err(DumpError::NotText));
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
}

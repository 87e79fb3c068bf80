//! The YAML reader: a stream of documents separated by `---`, read through `Value`s
//! (which the duplicate-key check builds) into Pods, Jobs and Events.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use serde::Deserialize;
use serde::de;
use serde_json::Value;

use super::slim::{judged, slim_job, slim_pod};
use super::{Dump, DumpError, Object, what};
use crate::yaml;

/// Reads a YAML stream (documents separated by `---`) into `dump`; returns how many
/// non-empty documents were read. YAML dumps are small (a lab's pods and Jobs): they go
/// through `Value`s, which the duplicate check builds.
pub(super) fn read_yaml(text: &str) -> Result<(Dump, usize), DumpError> {
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

//! The one module that reads and writes YAML, so the YAML crate (serde_yaml, deprecated
//! upstream) can be swapped here and nowhere else.

use serde::Serialize;
use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::render::strict::{Duplicate, UniqueValue};

/// A YAML document that could not be read or written; the message carries the line
/// and column where the parser knows them.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    message: String,
    /// The key a mapping gave twice, and its second line.
    duplicate: Option<(String, usize)>,
    /// Where the parser stopped: 1-based line and column.
    location: Option<(usize, usize)>,
}

impl YamlError {
    /// The key a mapping gave twice and the line of the second one, when that is what
    /// was wrong.
    pub fn duplicate(&self) -> Option<(&str, usize)> {
        self.duplicate
            .as_ref()
            .map(|(key, line)| (key.as_str(), *line))
    }

    /// The 1-based line and column where the parser stopped, when it knows them.
    pub(crate) fn location(&self) -> Option<(usize, usize)> {
        self.location
    }

    /// The path of the value a typed decode failed at, as the parser names it
    /// (`spec.template.spec.containers[0].args`), when it names one.
    pub(crate) fn path(&self) -> Option<&str> {
        let (path, _) = self.message.split_once(": ")?;
        let plain = |c: char| c.is_ascii_alphanumeric() || "._-/[]".contains(c);
        (!path.is_empty() && path.chars().all(plain)).then_some(path)
    }

    /// What went wrong, without the path and the parser's own "at line L column C" (the
    /// caller shows the location its own way).
    pub(crate) fn problem(&self) -> String {
        let message = match self.path() {
            Some(path) => self.message[path.len() + 2..].to_owned(),
            None => self.message.clone(),
        };
        match self.location {
            Some((line, column)) => {
                message.replacen(&format!(" at line {line} column {column}"), "", 1)
            }
            None => message,
        }
    }
}

impl From<serde_yaml::Error> for YamlError {
    fn from(error: serde_yaml::Error) -> Self {
        Self {
            message: error.to_string(),
            duplicate: None,
            location: error.location().map(|at| (at.line(), at.column())),
        }
    }
}

/// Decodes one YAML document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    deep_enough(text)?;
    Ok(serde_yaml::from_str(text)?)
}

/// Decodes the first YAML document of `text` into `T`, calling `ignored` with the path
/// of every key `T`'s decoder skipped: the k8s-openapi types ignore unknown fields, where
/// kubectl's strict validation refuses them. Duplicate keys are not checked here
/// (`documents` does that).
pub(crate) fn from_str_noting_ignored<T: DeserializeOwned>(
    text: &str,
    mut ignored: impl FnMut(&serde_ignored::Path<'_>),
) -> Result<T, YamlError> {
    deep_enough(text)?;
    let first = serde_yaml::Deserializer::from_str(text)
        .next()
        .ok_or_else(|| YamlError {
            message: "the text holds no YAML document".to_owned(),
            duplicate: None,
            location: None,
        })?;
    Ok(serde_ignored::deserialize(first, |path| ignored(&path))?)
}

/// The shared depth guard, at the codec, so no YAML reaches the recursing parser
/// without it: 100,000 `[` took serde_yaml a minute to refuse.
fn deep_enough(text: &str) -> Result<(), YamlError> {
    match crate::render::bounds::too_deep(text.as_bytes()) {
        Some(at) => Err(YamlError {
            message: format!(
                "the YAML nests deeper than {} levels (at byte {at}); it is refused unread",
                crate::render::bounds::MAX_DEPTH
            ),
            duplicate: None,
            location: None,
        }),
        None => Ok(()),
    }
}

/// Decodes a stream of YAML documents (separated by `---`, as `kubectl get -w -o yaml`
/// prints them) into generic values, in order. Decoding stops at the first document that
/// is not valid YAML, or that gives a mapping key twice (kubectl's strict reader refuses
/// that; serde would keep the last silently): the documents before it are returned with
/// that error.
pub fn documents(text: &str) -> (Vec<serde_json::Value>, Option<YamlError>) {
    if let Err(error) = deep_enough(text) {
        return (Vec::new(), Some(error));
    }
    let mut values = Vec::new();
    let duplicate = Duplicate::default();
    for document in serde_yaml::Deserializer::from_str(text) {
        match UniqueValue(&duplicate).deserialize(document) {
            Ok(value) => values.push(value),
            Err(error) => {
                let line = error.location().map_or(0, |at| at.line());
                let mut error = YamlError::from(error);
                error.duplicate = duplicate.take().map(|key| (key, line));
                return (values, Some(error));
            }
        }
    }
    (values, None)
}

/// Encodes `value` as one YAML document (no leading `---`).
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    Ok(serde_yaml::to_string(value)?)
}

/// Encodes `value` with the keys of every mapping reordered: keys named in `first` come
/// first, in that order, the rest keep their order. Kubernetes types serialize their
/// fields alphabetically, which puts a container's `name` after its `image`; people read
/// manifests name first.
pub fn to_string_with_key_order<T: Serialize>(
    value: &T,
    first: &[&str],
) -> Result<String, YamlError> {
    let mut value = serde_yaml::to_value(value)?;
    reorder_keys(&mut value, first);
    to_string(&value)
}

fn reorder_keys(value: &mut serde_yaml::Value, first: &[&str]) {
    match value {
        serde_yaml::Value::Mapping(mapping) => {
            let mut entries: Vec<_> = std::mem::take(mapping).into_iter().collect();
            let rank = |key: &serde_yaml::Value| {
                key.as_str()
                    .and_then(|key| first.iter().position(|wanted| *wanted == key))
                    .unwrap_or(first.len())
            };
            // A stable sort keeps the serializer's order among keys of equal rank.
            entries.sort_by_key(|(key, _)| rank(key));
            for (key, mut child) in entries {
                reorder_keys(&mut child, first);
                mapping.insert(key, child);
            }
        }
        serde_yaml::Value::Sequence(items) => {
            for item in items {
                reorder_keys(item, first);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn named_keys_come_first_and_the_rest_keep_their_order() {
        let value: BTreeMap<&str, Vec<BTreeMap<&str, u8>>> = BTreeMap::from([(
            "items",
            vec![BTreeMap::from([("a", 1), ("b", 2), ("name", 3)])],
        )]);
        let text = to_string_with_key_order(&value, &["name"]).expect("encodes");
        assert_eq!(text, "items:\n- name: 3\n  a: 1\n  b: 2\n");
    }

    #[test]
    fn document_streams_decode_in_order_with_comments_between() {
        let (values, error) = documents("# first\na: 1\n---\n# second\na: 2\n");
        assert!(error.is_none());
        assert_eq!(
            values,
            [serde_json::json!({"a": 1}), serde_json::json!({"a": 2})]
        );
    }

    #[test]
    fn a_broken_document_keeps_the_ones_before_it() {
        let (values, error) = documents("a: 1\n---\na: [\n");
        assert_eq!(values, [serde_json::json!({"a": 1})]);
        assert!(error.is_some());
    }

    #[test]
    fn a_key_given_twice_is_refused_with_its_line() {
        let (values, error) = documents("a: 1\n---\nb: 1\nc:\n  d: 1\n  d: 2\n");
        assert_eq!(values, [serde_json::json!({"a": 1})]);
        assert_eq!(
            error.as_ref().and_then(YamlError::duplicate),
            Some(("d", 6))
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_the_parser_runs() {
        let deep = "[".repeat(100_000);
        let started = std::time::Instant::now();
        let error = from_str::<serde_json::Value>(&deep).expect_err("deep");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            error.to_string().contains("deeper than 256 levels"),
            "{error}"
        );
        let (values, error) = documents(&format!("a: 1\n---\n{deep}"));
        assert!(values.is_empty());
        assert!(error.is_some());
    }

    #[test]
    fn errors_carry_the_location() {
        let error = from_str::<BTreeMap<String, u8>>("a: 1\nb: [").expect_err("malformed");
        assert!(error.to_string().contains("line"), "{error}");
    }
}

//! What the API server refuses while it decodes a Job's JSON, which the k8s-openapi
//! types let through: a request or limit that is no quantity, a number where a text is
//! taken.

use k8s_openapi::api::batch::v1::Job;

use super::DecodeError;
use super::lines::{KeyLines, Seg, api_path};

/// Every resource quantity is one (`100m`, `128Mi`): the API server reads them while
/// decoding and refuses the Job with the regular expression below. A `restartPolicy:
/// Always` indented under `requests:` is read as a resource named `restartPolicy`.
pub(super) fn quantities(value: &serde_json::Value, lines: &KeyLines) -> Result<(), DecodeError> {
    let pod = ["spec", "template", "spec"].map(|key| Seg::Key(key.to_owned()));
    let at = |path: &[Seg]| {
        path.iter().try_fold(value, |at, seg| match seg {
            Seg::Key(key) => at.get(key.as_str()),
            Seg::Index(index) => at.get(*index),
        })
    };
    let mut maps: Vec<Vec<Seg>> = Vec::new();
    for kind in ["initContainers", "containers", "ephemeralContainers"] {
        let list = [&pod[..], &[Seg::Key(kind.to_owned())]].concat();
        let count = at(&list)
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        for index in 0..count {
            let container = [
                &list[..],
                &[Seg::Index(index), Seg::Key("resources".to_owned())],
            ]
            .concat();
            maps.push([&container[..], &[Seg::Key("requests".to_owned())]].concat());
            maps.push([&container[..], &[Seg::Key("limits".to_owned())]].concat());
        }
    }
    for tail in [
        &["resources", "requests"][..],
        &["resources", "limits"],
        &["overhead"],
    ] {
        let tail: Vec<Seg> = tail.iter().map(|key| Seg::Key((*key).to_owned())).collect();
        maps.push([&pod[..], &tail[..]].concat());
    }
    for map in maps {
        let Some(serde_json::Value::Object(entries)) = at(&map) else {
            continue;
        };
        for (name, quantity) in entries {
            let Some(text) = quantity.as_str().filter(|text| !is_quantity(text)) else {
                continue;
            };
            let path = [&map[..], &[Seg::Key(name.clone())]].concat();
            // The API server names a resource in brackets: `requests[cpu]`.
            let field = format!("{}[{name}]", api_path(&map));
            return Err(DecodeError::new(
                format!("\"{field}\" is {text:?}, not a quantity"),
                format!(
                    "the API server reads every request and limit as a quantity (`100m`, \
                     `128Mi`) and refuses this one; if `{name}` is meant for the container, line \
                     it up with the container's `name` and `image`"
                ),
            )
            .at(lines.line_of(&path), None)
            .with_field(Some(field)));
        }
    }
    Ok(())
}

/// A number or a true/false where the API takes a text: YAML reads `value: 5432` as a
/// number and kubectl sends it as one, which the API server refuses (`cannot unmarshal
/// number into Go struct field … of type string`), where the k8s-openapi types quietly
/// take the text "5432". Found by comparing the document with the Job decoded from it.
pub(super) fn texts_given_as_numbers(
    value: &serde_json::Value,
    job: &Job,
    lines: &KeyLines,
) -> Result<(), DecodeError> {
    let Ok(typed) = serde_json::to_value(job) else {
        return Ok(());
    };
    let mut path = Vec::new();
    let Some(given) = first_text_given_as_number(value, &typed, &mut path) else {
        return Ok(());
    };
    let field = api_path(&path);
    let kind = if given.is_boolean() {
        "true/false"
    } else {
        "a number"
    };
    Err(DecodeError::new(
        format!("\"{field}\" is {kind} ({given}); the API server takes only a text there"),
        format!("put it in quotes, `\"{given}\"`: YAML reads it unquoted as {kind}, and kubectl sends it so"),
    )
    .at(lines.line_of(&path), None)
    .with_field(Some(field)))
}

fn first_text_given_as_number<'v>(
    given: &'v serde_json::Value,
    typed: &serde_json::Value,
    path: &mut Vec<Seg>,
) -> Option<&'v serde_json::Value> {
    use serde_json::Value;
    // Quantities (`cpu: 1`) are taken as numbers by the API server too.
    let quantity = |path: &[Seg]| {
        path.iter().any(|seg| {
            matches!(seg, Seg::Key(key) if ["requests", "limits", "overhead", "sizeLimit"].contains(&key.as_str()))
        })
    };
    match (given, typed) {
        (Value::Number(_) | Value::Bool(_), Value::String(_)) if !quantity(path) => Some(given),
        (Value::Object(given), Value::Object(typed)) => given.iter().find_map(|(key, value)| {
            let typed = typed.get(key)?;
            path.push(Seg::Key(key.clone()));
            let found = first_text_given_as_number(value, typed, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        (Value::Array(given), Value::Array(typed)) => {
            given
                .iter()
                .zip(typed)
                .enumerate()
                .find_map(|(index, (value, typed))| {
                    path.push(Seg::Index(index));
                    let found = first_text_given_as_number(value, typed, path);
                    if found.is_none() {
                        path.pop();
                    }
                    found
                })
        }
        _ => None,
    }
}

/// Kubernetes' `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`, the form of a quantity.
pub(super) fn is_quantity(text: &str) -> bool {
    let rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    let number = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    if number == 0 {
        return false;
    }
    let suffix = &rest[number..];
    let letters = suffix
        .find(|c: char| !"eEinumkKMGTP".contains(c))
        .unwrap_or(suffix.len());
    let exponent = &suffix[letters..];
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    digits.chars().all(|c| c.is_ascii_digit())
}

//! Reads a learner's answer strictly, before anything reaches the cluster: one YAML
//! document holding one Job, no key given twice, no field the API server does not know
//! (what kubectl's default `--validate=strict` has the server refuse), every value of its
//! type. Each mistake is named by its line and by its field's path as the API server
//! writes it. Pure: text in, a Job or the reason out.

mod lines;
#[cfg(test)]
mod tests;
mod values;

use std::fmt;

use k8s_openapi::api::batch::v1::Job;

use self::lines::{KeyLines, Seg, api_path};

/// Why a file is not one Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// 1-based, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field at fault, as the API server names it:
    /// `spec.template.spec.initContainers[0].resources.restartPolicy`.
    pub field: Option<String>,
    /// One sentence: `unknown field "spec.template.spec.initContainers[0].resources.restartPolicy"`.
    pub message: String,
    /// What to do about it, one sentence.
    pub next: String,
}

impl DecodeError {
    /// The last key of `field` (`restartPolicy`), as the catalogue's `decode:` names it.
    /// A trailing index is no name (`containers[0]` is `containers`); a map key in
    /// brackets is (`requests[restartPolicy]` is `restartPolicy`).
    pub fn field_name(&self) -> Option<&str> {
        let mut field = self.field.as_deref()?;
        while let Some((before, inside)) = field
            .strip_suffix(']')
            .and_then(|open| open.rsplit_once('['))
        {
            if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_digit()) {
                return (!inside.is_empty()).then_some(inside);
            }
            field = before;
        }
        let name = field.rsplit('.').next().unwrap_or(field);
        (!name.is_empty()).then_some(name)
    }

    fn new(message: String, next: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            field: None,
            message,
            next: next.into(),
        }
    }

    fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column.filter(|_| line.is_some());
        self
    }

    fn with_field(mut self, field: Option<String>) -> Self {
        self.field = field;
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        write!(f, "{} — {}", self.message, self.next)
    }
}

impl std::error::Error for DecodeError {}

/// What starts a Job, for the advice.
const JOB_START: &str = "a Job starts with `apiVersion: batch/v1` and `kind: Job` at the left margin; \
     `sidecar-lab exercise N --force` writes the starting manifest again";

/// Decodes `text` as the one Job of an answer, strictly.
pub fn decode_job(text: &str) -> Result<Job, DecodeError> {
    let value = one_document(text)?;
    let lines = KeyLines::read(text).verified(|path| exists(&value, path));
    is_a_job(&value, &lines)?;
    let mut ignored = Vec::new();
    let job = crate::yaml::from_str_noting_ignored::<Job>(text, |path| {
        ignored.push(segments(path));
    })
    .map_err(|error| wrong_type(&error, &lines))?;
    values::quantities(&value, &lines)?;
    values::texts_given_as_numbers(&value, &job, &lines)?;
    match ignored.first() {
        Some(first) => Err(unknown_fields(first, &ignored[1..], &lines)),
        None => Ok(job),
    }
}

/// The one document of `text` as a value: not empty, not two, valid YAML, no key twice.
fn one_document(text: &str) -> Result<serde_json::Value, DecodeError> {
    let (values, error) = crate::yaml::documents(text);
    if let Some(error) = error {
        return Err(unreadable(text, &error, values.len()));
    }
    // kubectl skips empty documents (a trailing `---`), and so does this.
    let mut documents = values.into_iter().filter(|value| !value.is_null());
    let Some(first) = documents.next() else {
        return Err(DecodeError::new(
            "the file holds no YAML document: it is empty, or only comments".to_owned(),
            JOB_START,
        ));
    };
    if documents.next().is_some() {
        let line = KeyLines::read(text).second_document();
        return Err(DecodeError::new(
            "the file holds more than one YAML document".to_owned(),
            "an answer is the one Job: remove the `---` and everything after it",
        )
        .at(line, None));
    }
    Ok(first)
}

/// A document that does not parse, or gives a key twice (kubectl's strict reader refuses
/// that; serde would keep the last one silently).
fn unreadable(text: &str, error: &crate::yaml::YamlError, before: usize) -> DecodeError {
    let lines = KeyLines::read(text);
    let (line, column) = error.location().unzip();
    if let Some((key, line)) = error.duplicate() {
        let path = lines
            .path_at(line)
            .filter(|path| matches!(path.last(), Some(Seg::Key(last)) if last == key));
        let (field, earlier) = match path {
            Some(path) => {
                let first = lines.lines_of(path).into_iter().find(|at| *at < line);
                (api_path(path), first)
            }
            None => (key.to_owned(), None),
        };
        let message = match earlier {
            Some(first) => format!("\"{field}\" is given twice (first on line {first})"),
            None => format!("\"{field}\" is given twice"),
        };
        return DecodeError::new(
            message,
            "kubectl refuses a key given twice in one mapping: keep the one you mean and delete the other",
        )
        .at(Some(line), None)
        .with_field(Some(field));
    }
    if before > 0 {
        return DecodeError::new(
            "the file holds more than one YAML document".to_owned(),
            "an answer is the one Job: remove the `---` and everything after it",
        )
        .at(lines.second_document(), None);
    }
    // The key the parser stopped at: a key indented where YAML allows none (among a
    // list's items, under a scalar) is the usual cause. Its path when the walk placed it,
    // else the key as written.
    let field = line.and_then(|line| {
        lines
            .path_at(line)
            .map(api_path)
            .or_else(|| lines::key_written_on(text, line))
    });
    DecodeError::new(
        format!("the YAML does not parse: {}", error.problem()),
        "look at the indentation of this line and the one above: a field lines up with the \
         fields of the object it belongs to, and list items start with `- `",
    )
    .at(line, column)
    .with_field(field)
}

/// Whether the parsed document has a key at `path`.
fn exists(value: &serde_json::Value, path: &[Seg]) -> bool {
    let mut at = value;
    for seg in path {
        let next = match seg {
            Seg::Key(key) => at.get(key.as_str()),
            Seg::Index(index) => at.get(*index),
        };
        match next {
            Some(next) => at = next,
            None => return false,
        }
    }
    !path.is_empty()
}

/// One mapping whose `kind` is `Job` and `apiVersion` is `batch/v1`.
fn is_a_job(value: &serde_json::Value, lines: &KeyLines) -> Result<(), DecodeError> {
    use serde_json::Value;
    let line_of = |key: &str| lines.line_of(&[Seg::Key(key.to_owned())]);
    let object = match value {
        Value::Object(object) => object,
        Value::Array(items) => {
            return Err(DecodeError::new(
                format!("the file holds a list of {} items, not a Job", items.len()),
                "a Job is a mapping of fields: if its lines start with `- `, remove the dash and \
                 line the fields up at the left margin",
            ));
        }
        _ => {
            return Err(DecodeError::new(
                "the file holds a single value, not a Job's fields".to_owned(),
                JOB_START,
            ));
        }
    };
    let kind = match object.get("kind") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => {
            return Err(
                DecodeError::new("`kind` is not a name".to_owned(), "write `kind: Job`")
                    .at(line_of("kind"), None)
                    .with_field(Some("kind".to_owned())),
            );
        }
        None => {
            return Err(
                DecodeError::new("the manifest has no `kind`".to_owned(), JOB_START)
                    .with_field(Some("kind".to_owned())),
            );
        }
    };
    if kind == "List" || (kind.ends_with("List") && object.contains_key("items")) {
        return Err(DecodeError::new(
            format!("this is a {kind}; the exercise needs a Job, alone"),
            "keep the Job's own fields and remove the list around it (`items:`, `kind: List`)",
        )
        .at(line_of("kind"), None)
        .with_field(Some("kind".to_owned())));
    }
    if kind != "Job" {
        return Err(DecodeError::new(
            format!("this is a {kind}; the exercise needs a Job"),
            "change your answer in the Job that `sidecar-lab exercise N` wrote: \
             `kind: Job`, `apiVersion: batch/v1`",
        )
        .at(line_of("kind"), None)
        .with_field(Some("kind".to_owned())));
    }
    match object.get("apiVersion") {
        Some(Value::String(version)) if version == "batch/v1" => Ok(()),
        Some(other) => Err(DecodeError::new(
            format!("the apiVersion is {other}; a Job is \"batch/v1\""),
            "write `apiVersion: batch/v1`",
        )
        .at(line_of("apiVersion"), None)
        .with_field(Some("apiVersion".to_owned()))),
        None => Err(DecodeError::new(
            "the manifest has no `apiVersion`".to_owned(),
            "add `apiVersion: batch/v1` above `kind: Job`",
        )
        .with_field(Some("apiVersion".to_owned()))),
    }
}

/// A value of the wrong type, as the typed decode said. (A required field left out is
/// not one: the k8s-openapi types default it, and the API server's validation names it.)
fn wrong_type(error: &crate::yaml::YamlError, lines: &KeyLines) -> DecodeError {
    let (line, column) = error.location().unzip();
    // serde's Rust words, in the words of a manifest.
    let problem = [
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list"),
        ("expected a string", "expected a text"),
    ]
    .iter()
    .fold(error.problem(), |problem, (rust, said)| {
        problem.replace(rust, said)
    });
    let path = error
        .path()
        .map(str::to_owned)
        .or_else(|| line.and_then(|line| lines.path_at(line)).map(api_path));
    let message = match &path {
        Some(path) => format!("\"{path}\": {problem}"),
        None => problem,
    };
    DecodeError::new(
        message,
        "give this field a value of the type it takes (a number, a text, a list with `- ` items)",
    )
    .at(line, column)
    .with_field(path)
}

/// The fields the API server does not know: the first named with its line, the others
/// counted, as the server's `strict decoding error: unknown field "…"` names them all.
fn unknown_fields(first: &[Seg], others: &[Vec<Seg>], lines: &KeyLines) -> DecodeError {
    let field = api_path(first);
    let mut message = format!("unknown field \"{field}\"");
    if !others.is_empty() {
        let names: Vec<String> = others
            .iter()
            .map(|path| format!("\"{}\"", api_path(path)))
            .collect();
        message.push_str(&format!(" (also unknown: {})", names.join(", ")));
    }
    let name = match first.last() {
        Some(Seg::Key(name)) => name.as_str(),
        _ => "it",
    };
    let above: Vec<&Seg> = first[..first.len().saturating_sub(1)]
        .iter()
        .rev()
        .take(2)
        .collect();
    let owner = match above.as_slice() {
        [Seg::Key(parent), ..] => format!("`{parent}` has no field `{name}`"),
        [Seg::Index(_), Seg::Key(list), ..] => format!("an item of `{list}` has no field `{name}`"),
        _ => format!("a Job has no field `{name}` at this level"),
    };
    DecodeError::new(
        message,
        format!(
            "{owner}, so the API server refuses the Job (kubectl validates strictly): check \
             the spelling, and line it up with the fields of the object it belongs to"
        ),
    )
    .at(lines.line_of(first), None)
    .with_field(Some(field))
}

/// serde_ignored's path as keys and indexes (its `Some` and newtype steps are no field).
fn segments(path: &serde_ignored::Path<'_>) -> Vec<Seg> {
    use serde_ignored::Path;
    let mut segs = Vec::new();
    let mut at = path;
    loop {
        at = match at {
            Path::Root => break,
            Path::Seq { parent, index } => {
                segs.push(Seg::Index(*index));
                parent
            }
            Path::Map { parent, key } => {
                segs.push(Seg::Key(key.clone()));
                parent
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => parent,
        };
    }
    segs.reverse();
    segs
}

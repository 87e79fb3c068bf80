//! `report --merge`: many results files (one per VM, or a class board) into one. Pure:
//! the files' bytes in, one `Results` and notes out.

use std::collections::BTreeMap;

use super::{API_VERSION, KIND, Results, Suite};

/// A file that cannot be merged; names the file and says what it is instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MergeError {
    #[error(
        "`{0}` is JUnit XML; --merge reads the JSON results (`sidecar-lab report -o json` on each VM) and can write JUnit from them with -o junit"
    )]
    Junit(String),
    #[error("`{file}` is not a sidecar-lab results file: {why}")]
    NotResults { file: String, why: String },
    /// Too large or too deeply nested (the shared guard's message, naming the file).
    #[error("{0}")]
    Bounds(String),
    #[error("nothing to merge: name at least one file")]
    Nothing,
}

/// Merges `files` (name, contents) in order. A suite name that comes twice (a VM that
/// reported twice) keeps the newer report's suite; the notes say which.
pub(crate) fn merge(
    files: &[(String, Vec<u8>)],
    generated_at: String,
) -> Result<(Results, Vec<String>), MergeError> {
    if files.is_empty() {
        return Err(MergeError::Nothing);
    }
    let mut suites: BTreeMap<String, (String, String, Suite)> = BTreeMap::new();
    let mut notes = Vec::new();
    for (file, bytes) in files {
        let results = parse(file, bytes)?;
        for suite in results.suites {
            match suites.get(&suite.name) {
                Some((when, earlier, _)) if *when > results.generated_at => {
                    notes.push(format!(
                        "`{}` is in `{earlier}` and `{file}`: kept the newer, from `{earlier}`",
                        suite.name
                    ));
                }
                Some((_, earlier, _)) => {
                    notes.push(format!(
                        "`{}` is in `{earlier}` and `{file}`: kept the newer, from `{file}`",
                        suite.name
                    ));
                    suites.insert(
                        suite.name.clone(),
                        (results.generated_at.clone(), file.clone(), suite),
                    );
                }
                None => {
                    suites.insert(
                        suite.name.clone(),
                        (results.generated_at.clone(), file.clone(), suite),
                    );
                }
            }
        }
    }
    let merged = Results::new(
        generated_at,
        format!("merge of {} file(s)", files.len()),
        suites.into_values().map(|(_, _, suite)| suite).collect(),
    );
    Ok((merged, notes))
}

fn parse(file: &str, bytes: &[u8]) -> Result<Results, MergeError> {
    /// The kind and apiVersion alone, borrowed from the bytes.
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, rename = "apiVersion")]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }

    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if bytes[start..].starts_with(b"<") {
        return Err(MergeError::Junit(file.to_owned()));
    }
    let not = |why: String| MergeError::NotResults {
        file: file.to_owned(),
        why,
    };
    crate::render::bounds::check(bytes, file, crate::render::bounds::RESULTS_FILE)
        .map_err(|e| MergeError::Bounds(e.to_string()))?;
    // The kind is read first, borrowing from the bytes and skipping everything else;
    // then the results straight into their types: no tree of Values, so a large string
    // is held once, not three times.
    let head: Kind<'_> =
        serde_json::from_slice(bytes).map_err(|e| not(format!("not JSON ({e})")))?;
    let (kind, version) = (head.kind.as_deref(), head.api_version.as_deref());
    if kind != Some(KIND) || version != Some(API_VERSION) {
        return Err(not(format!(
            "it has kind {} and apiVersion {}, not {KIND} and {API_VERSION}",
            kind.unwrap_or("(none)"),
            version.unwrap_or("(none)")
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| not(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, at: &str, suites: &[&str]) -> (String, Vec<u8>) {
        let results = Results::new(
            at.to_owned(),
            "report".to_owned(),
            suites
                .iter()
                .map(|s| Suite {
                    name: (*s).to_owned(),
                    namespace: None,
                    properties: BTreeMap::new(),
                    steps: Vec::new(),
                    exercises: Vec::new(),
                })
                .collect(),
        );
        (name.to_owned(), results.to_json().into_bytes())
    }

    #[test]
    fn suites_are_joined_and_a_repeated_one_keeps_the_newer() {
        let files = [
            file("b.json", "2026-11-26T10:00:00Z", &["vm-02", "vm-01"]),
            file("a.json", "2026-11-26T11:00:00Z", &["vm-01", "vm-03"]),
        ];
        let (merged, notes) = merge(&files, "now".to_owned()).expect("merges");
        let names: Vec<_> = merged.suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["vm-01", "vm-02", "vm-03"]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("from `a.json`"), "{}", notes[0]);
    }

    #[test]
    fn other_files_are_named_and_refused() {
        let junit = (
            "r.xml".to_owned(),
            b"  <?xml version=\"1.0\"?><testsuites/>".to_vec(),
        );
        assert_eq!(
            merge(&[junit], String::new()).expect_err("refused"),
            MergeError::Junit("r.xml".to_owned())
        );
        let other = (
            "x.json".to_owned(),
            br#"{"kind":"Pod","apiVersion":"v1"}"#.to_vec(),
        );
        let error = merge(&[other], String::new()).expect_err("refused");
        assert!(error.to_string().contains("`x.json`"), "{error}");
        let garbage = ("g.json".to_owned(), vec![0xff, 0x00]);
        assert!(merge(&[garbage], String::new()).is_err());
        assert_eq!(
            merge(&[], String::new()).expect_err("nothing"),
            MergeError::Nothing
        );
    }
}

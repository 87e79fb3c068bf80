//! What a learner's progress ConfigMap (`sidecar-lab-exercises`) holds, both ways: the
//! merge patch and the whole object `submit` sends, and the records read back from one
//! ConfigMap or from a list read of every learner's. Pure: JSON in, records out. The
//! kubectl commands that carry them are `kube::progress`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{ExerciseNumber, ExerciseRecord, PROGRESS_CONFIGMAP};

/// The label that marks a progress ConfigMap, so that one labelled read finds every
/// learner's.
pub(crate) const PROGRESS_LABEL: (&str, &str) = ("sidecar-lab/progress", "exercises");

/// The ConfigMap's labels: the lab's own, and the progress mark.
fn labels() -> Value {
    json!({
        "app.kubernetes.io/part-of": "sidecar-lab",
        PROGRESS_LABEL.0: PROGRESS_LABEL.1,
    })
}

/// The merge patch that sets exercise `number`'s record and the labels, leaving every
/// other key as it is (RFC 7386: keys the patch does not name are kept).
pub(crate) fn patch_body(number: ExerciseNumber, record: &ExerciseRecord) -> String {
    json!({
        "metadata": {"labels": labels()},
        "data": {number.key(): record_text(record)},
    })
    .to_string()
}

/// The whole ConfigMap holding only exercise `number`'s record: what is created when
/// the namespace has none yet.
pub(crate) fn manifest(namespace: &str, number: ExerciseNumber, record: &ExerciseRecord) -> String {
    let mut text = serde_json::to_string_pretty(&json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": PROGRESS_CONFIGMAP,
            "namespace": namespace,
            "labels": labels(),
        },
        "data": {number.key(): record_text(record)},
    }))
    .unwrap_or_default();
    text.push('\n');
    text
}

fn record_text(record: &ExerciseRecord) -> String {
    serde_json::to_string(record).unwrap_or_default()
}

/// The records read from one progress ConfigMap, and a line for each key that did not
/// decode (skipped: another version wrote it, or a hand edit broke it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub records: BTreeMap<ExerciseNumber, ExerciseRecord>,
    pub warnings: Vec<String>,
}

impl Progress {
    /// A progress ConfigMap from a list read (`kubectl get configmaps -A -o json`): its
    /// namespace and records; `None` for any other ConfigMap.
    pub(crate) fn from_configmap(item: &Value) -> Option<(String, Self)> {
        let metadata = item.get("metadata")?;
        let marked = metadata
            .pointer(&format!("/labels/{}", PROGRESS_LABEL.0.replace('/', "~1")))
            .and_then(Value::as_str)
            == Some(PROGRESS_LABEL.1);
        let named = metadata.get("name").and_then(Value::as_str) == Some(PROGRESS_CONFIGMAP);
        if !(marked && named) {
            return None;
        }
        let namespace = metadata.get("namespace")?.as_str()?.to_owned();
        let progress = Self::from_data(&namespace, item.get("data"));
        Some((namespace, progress))
    }

    /// Reads a ConfigMap's `data` (a JSON object of strings). Keys that are not
    /// `exercise-N` are left alone; a value that does not decode is skipped with a warning.
    pub(crate) fn from_data(namespace: &str, data: Option<&Value>) -> Self {
        let mut out = Self::default();
        let Some(data) = data.and_then(Value::as_object) else {
            return out;
        };
        for (key, value) in data {
            let Some(number) = key
                .strip_prefix("exercise-")
                .and_then(|n| n.parse::<ExerciseNumber>().ok())
            else {
                continue;
            };
            let record = value
                .as_str()
                .ok_or_else(|| "it is not a string".to_owned())
                .and_then(|text| {
                    serde_json::from_str::<ExerciseRecord>(text).map_err(|e| e.to_string())
                });
            match record {
                Ok(record) => {
                    out.records.insert(number, record);
                }
                Err(why) => out.warnings.push(format!(
                    "skipped `{key}` of ConfigMap `{PROGRESS_CONFIGMAP}` in namespace `{namespace}`: {why}"
                )),
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lab::AttemptResult;

    /// A wrong first attempt, as the tests of both ends of the ConfigMap use it.
    pub(crate) fn record() -> ExerciseRecord {
        ExerciseRecord::after(
            None,
            AttemptResult::Wrong,
            Some("no-postgres".into()),
            "2026-12-07T10:00:00Z".into(),
        )
    }

    #[test]
    fn the_patch_sets_one_key_and_the_labels() {
        let body: Value =
            serde_json::from_str(&patch_body(ExerciseNumber(2), &record())).expect("JSON");
        assert_eq!(
            body["data"]["exercise-2"],
            r#"{"attempts":1,"solved":false,"last":"wrong","hint":"no-postgres","at":"2026-12-07T10:00:00Z"}"#
        );
        assert_eq!(
            body["metadata"]["labels"]["sidecar-lab/progress"],
            "exercises"
        );
        assert_eq!(body["data"].as_object().map(serde_json::Map::len), Some(1));
        let manifest: Value =
            serde_json::from_str(&manifest("learner-01", ExerciseNumber(2), &record()))
                .expect("JSON");
        assert_eq!(manifest["metadata"]["namespace"], "learner-01");
        assert_eq!(manifest["kind"], "ConfigMap");
    }

    #[test]
    fn a_record_that_does_not_decode_is_skipped_with_a_warning() {
        let data = json!({
            "exercise-1": record_text(&record()),
            "exercise-2": "{\"attempts\":\"many\"}",
            "exercise-3": 7,
            "notes": "left alone",
            "exercise-0": "{}",
        });
        let progress = Progress::from_data("learner-01", Some(&data));
        assert_eq!(progress.records.len(), 1);
        assert_eq!(progress.records[&ExerciseNumber(1)], record());
        assert_eq!(progress.warnings.len(), 2, "{:?}", progress.warnings);
        assert!(progress.warnings[0].contains("`exercise-2`"));
        assert_eq!(Progress::from_data("x", None), Progress::default());
    }

    #[test]
    fn a_list_read_keeps_only_progress_configmaps() {
        let item = |name: &str, progress: bool| {
            let mut labels = json!({"app.kubernetes.io/part-of": "sidecar-lab"});
            if progress {
                labels["sidecar-lab/progress"] = json!("exercises");
            }
            json!({
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "learner-02", "labels": labels},
                "data": {"exercise-3": record_text(&record())},
            })
        };
        let (namespace, progress) =
            Progress::from_configmap(&item(PROGRESS_CONFIGMAP, true)).expect("progress");
        assert_eq!(namespace, "learner-02");
        assert_eq!(progress.records[&ExerciseNumber(3)], record());
        assert_eq!(
            Progress::from_configmap(&item(PROGRESS_CONFIGMAP, false)),
            None
        );
        assert_eq!(Progress::from_configmap(&item("other", true)), None);
    }
}

//! A learner's exercise progress on the cluster: the ConfigMap `sidecar-lab-exercises` of
//! their namespace, one key per exercise (`exercise-N`), its value the `ExerciseRecord`
//! as compact JSON. Written by `submit`, read by `class status` and the board (all
//! learners' at once, by its labels). Commands built and answers read here (pure); the
//! two functions at the end run them through the runner.
//!
//! Only verbs that send JSON: `kubectl patch --type merge` and `kubectl create -f FILE`
//! (`kubectl create configmap` sends protobuf).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

use super::{KUBECTL_TIMEOUT, Target};
use crate::lab::{ExerciseNumber, ExerciseRecord, PROGRESS_CONFIGMAP};
use crate::runner::{CommandLine, Failed, Runner};

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

impl Target {
    /// `kubectl patch configmap sidecar-lab-exercises --type merge -p BODY`.
    pub(crate) fn patch_progress(&self, body: &str) -> CommandLine {
        self.namespaced([
            "patch",
            "configmap",
            PROGRESS_CONFIGMAP,
            "--type=merge",
            "--patch",
            body,
        ])
    }

    /// `kubectl create -f FILE` (JSON on the wire, unlike `kubectl create configmap`).
    pub(crate) fn create_from(&self, manifest: &Path) -> CommandLine {
        let file = manifest.display().to_string();
        self.namespaced(["create", "-f", file.as_str()])
    }

    /// The progress ConfigMap as JSON; nothing at all when there is none.
    pub(crate) fn get_progress(&self) -> CommandLine {
        self.namespaced([
            "get",
            "configmap",
            PROGRESS_CONFIGMAP,
            "--ignore-not-found",
            "-o",
            "json",
        ])
    }
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

/// Records exercise `number`'s `record` in the namespace's progress ConfigMap, keeping
/// the other exercises' keys: a merge patch, which the API server applies to the stored
/// object (no read-modify-write race with another `submit`); when there is no ConfigMap
/// yet it is created from a file written in `dir`.
pub(crate) fn save_progress(
    runner: &dyn Runner,
    target: &Target,
    dir: &Path,
    number: ExerciseNumber,
    record: &ExerciseRecord,
) -> anyhow::Result<()> {
    let what = || {
        format!(
            "cannot record exercise {number} in ConfigMap `{PROGRESS_CONFIGMAP}` of namespace `{}` (context `{}`); the attempt is kept in the state file, and `sidecar-lab status` shows it",
            target.namespace, target.context
        )
    };
    let patch = target.patch_progress(&patch_body(number, record));
    let output = runner.run(&patch, KUBECTL_TIMEOUT).with_context(what)?;
    if output.success() {
        return Ok(());
    }
    if !output.stderr.contains("(NotFound)") {
        return Err(anyhow::Error::new(Failed::of(&patch, &output)).context(what()));
    }
    let file = dir.join(format!("{PROGRESS_CONFIGMAP}.json"));
    crate::state::write_atomically(
        &file,
        manifest(&target.namespace, number, record).as_bytes(),
    )
    .with_context(what)?;
    let create = target.create_from(&file);
    let output = runner.run(&create, KUBECTL_TIMEOUT).with_context(what)?;
    if output.success() {
        return Ok(());
    }
    // Another `submit` made it in between: patch the one it made.
    let again = if output.stderr.contains("(AlreadyExists)") {
        runner.run(&patch, KUBECTL_TIMEOUT).with_context(what)?
    } else {
        output
    };
    if again.success() {
        Ok(())
    } else {
        Err(anyhow::Error::new(Failed::of(&create, &again)).context(what()))
    }
}

/// The namespace's exercise records; none when it has no progress ConfigMap.
pub(crate) fn read_progress(runner: &dyn Runner, target: &Target) -> anyhow::Result<Progress> {
    let command = target.get_progress();
    let output = crate::runner::checked(runner, &command, KUBECTL_TIMEOUT).with_context(|| {
        format!(
            "cannot read ConfigMap `{PROGRESS_CONFIGMAP}` of namespace `{}` (context `{}`)",
            target.namespace, target.context
        )
    })?;
    if output.stdout.trim().is_empty() {
        return Ok(Progress::default());
    }
    let object: Value = serde_json::from_str(&output.stdout)
        .with_context(|| format!("`{command}` printed something that is not JSON"))?;
    Ok(Progress::from_data(&target.namespace, object.get("data")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::AttemptResult;
    use crate::runner::scripted::ScriptedRunner;

    fn record() -> ExerciseRecord {
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
        let target = Target::kind("lab", "learner-01");
        assert_eq!(
            target.get_progress().to_string(),
            "kubectl --context kind-lab --namespace learner-01 get configmap sidecar-lab-exercises --ignore-not-found -o json"
        );
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

    #[test]
    fn a_missing_configmap_is_created_and_an_existing_one_patched() {
        let dir = tempfile::tempdir().expect("dir");
        let target = Target::kind("lab", "learner-01");
        let patch = target.patch_progress(&patch_body(ExerciseNumber(1), &record()));
        let file = dir.path().join("sidecar-lab-exercises.json");
        let runner = ScriptedRunner::default()
            .fail(
                &patch.to_string(),
                1,
                "Error from server (NotFound): configmaps \"sidecar-lab-exercises\" not found\n",
            )
            .answer(&target.create_from(&file).to_string(), 0, "");
        save_progress(&runner, &target, dir.path(), ExerciseNumber(1), &record()).expect("saved");
        assert!(crate::files::read_to_string(&file).is_ok_and(|t| t.contains("exercise-1")));
        let forbidden = ScriptedRunner::default().fail(
            &patch.to_string(),
            1,
            "Error from server (Forbidden): configmaps \"sidecar-lab-exercises\" is forbidden\n",
        );
        let error = save_progress(
            &forbidden,
            &target,
            dir.path(),
            ExerciseNumber(1),
            &record(),
        )
        .expect_err("refused");
        assert!(format!("{error:#}").contains("Forbidden"), "{error:#}");
    }
}

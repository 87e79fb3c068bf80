//! What the lab remembers between runs (`state.json` in the state directory): the
//! cluster it set up and each step's last verdict. Written atomically; a file that
//! cannot be read is reported and set aside, never silently overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::lab::{ExerciseNumber, ExerciseRecord, StepNumber};
use crate::session::decide::Ending;
use crate::state::write_atomically;
use crate::variant::Variant;
use crate::verdict::Outcome;
use crate::version::MinorVersion;

/// The state file's format version.
pub(crate) const VERSION: u32 = 1;

/// Everything remembered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabState {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRecord>,
    /// Step number → its last run.
    #[serde(default)]
    pub steps: BTreeMap<StepNumber, StepRecord>,
    /// Exercise number → its attempts so far (`sidecar-lab submit`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exercises: BTreeMap<ExerciseNumber, ExerciseRecord>,
}

/// The cluster the lab runs on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterRecord {
    /// The kind cluster's name; absent for an existing cluster (`--context`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_name: Option<String>,
    pub context: String,
    pub namespace: String,
    /// The server's Kubernetes minor, such as `1.37`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<MinorVersion>,
    /// The kind config the cluster was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// Whether a server-side dry run kept `restartPolicy: Always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_sidecars: Option<bool>,
}

/// One step's last run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    pub variant: Variant,
    /// `expected`, `unexpected`, `timed-out` or `interrupted`.
    pub result: Ending,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// When it ended, RFC 3339.
    pub at: String,
    pub seconds: u64,
    /// Where it ran (kubeconfig context and namespace): its Jobs are there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The state file in `state_dir`.
pub(crate) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("state.json")
}

/// Reads the state. A missing file is an empty state. A file that cannot be read or
/// decoded is renamed aside (`state.json.unreadable-<time>`) and reported through the
/// returned message, so nothing is lost and the lab can go on.
pub(crate) fn load(state_dir: &Path) -> (LabState, Option<String>) {
    let file = path(state_dir);
    let text = match crate::files::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (fresh(), None),
        Err(error) => return (fresh(), Some(set_aside(&file, &error.to_string()))),
    };
    match serde_json::from_str::<LabState>(&text) {
        Ok(state) if state.version == VERSION => (state, None),
        Ok(state) => (
            fresh(),
            Some(set_aside(
                &file,
                &format!("format version {} is not {VERSION}", state.version),
            )),
        ),
        Err(error) => (fresh(), Some(set_aside(&file, &error.to_string()))),
    }
}

/// Writes the state atomically.
pub(crate) fn save(state_dir: &Path, state: &LabState) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(state).context("cannot encode the lab state")?;
    text.push('\n');
    write_atomically(&path(state_dir), text.as_bytes())
}

fn fresh() -> LabState {
    LabState {
        version: VERSION,
        ..LabState::default()
    }
}

/// The current time (jiff is built here without its clock, so it comes from std).
pub(crate) fn now() -> k8s_openapi::jiff::Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    k8s_openapi::jiff::Timestamp::from_second(seconds)
        .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

fn set_aside(file: &Path, reason: &str) -> String {
    let stamp = now().as_second();
    let aside = file.with_extension(format!("json.unreadable-{stamp}"));
    match crate::files::rename(file, &aside) {
        Ok(()) => format!(
            "the lab state `{}` could not be read ({reason}); it was moved to `{}` and a new one started",
            file.display(),
            aside.display()
        ),
        Err(error) => format!(
            "the lab state `{}` could not be read ({reason}) nor moved aside ({error}); it is left as it is",
            file.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut state = fresh();
        state.steps.insert(
            StepNumber(3),
            StepRecord {
                variant: Variant::Native,
                result: Ending::Expected,
                outcome: Some(Outcome::Succeeded),
                at: "2026-11-25T10:00:00Z".into(),
                seconds: 9,
                context: Some("kind-sidecar-lab".into()),
                namespace: Some("default".into()),
            },
        );
        state.cluster = Some(ClusterRecord {
            context: "kind-sidecar-lab".into(),
            namespace: "default".into(),
            kubernetes: Some(MinorVersion::new(1, 37)),
            ..ClusterRecord::default()
        });
        save(dir.path(), &state).expect("saves");
        assert_eq!(load(dir.path()), (state, None));
        // The file keeps the names people and scripts read.
        let text = crate::files::read_to_string(path(dir.path())).expect("state file");
        for field in [
            "\"3\": {",
            "\"variant\": \"native\"",
            "\"result\": \"expected\"",
            "\"outcome\": \"succeeded\"",
            "\"kubernetes\": \"1.37\"",
        ] {
            assert!(text.contains(field), "no {field} in {text}");
        }
    }

    #[test]
    fn a_state_with_an_unknown_variant_is_set_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            path(dir.path()),
            r#"{"version":1,"steps":{"1":{"variant":"sidecars","result":"expected","at":"x","seconds":1}}}"#,
        )
        .expect("write");
        let (state, problem) = load(dir.path());
        assert_eq!(state, fresh());
        assert!(problem.is_some());
    }

    #[test]
    fn a_missing_file_is_a_fresh_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(load(dir.path()), (fresh(), None));
    }

    #[test]
    fn an_unreadable_file_is_set_aside_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(path(dir.path()), b"{ not json").expect("write");
        let (state, message) = load(dir.path());
        assert_eq!(state, fresh());
        let message = message.expect("reported");
        assert!(
            message.contains("could not be read") && message.contains("unreadable-"),
            "{message}"
        );
        let aside: Vec<_> = crate::files::read_dir(dir.path())
            .expect("dir")
            .filter_map(std::result::Result::ok)
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            crate::files::read(aside[0].path()).expect("kept"),
            b"{ not json"
        );
    }
}

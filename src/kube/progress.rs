//! A learner's exercise progress on the cluster: the ConfigMap `sidecar-lab-exercises` of
//! their namespace, written by `submit` and read back by `status`. The kubectl commands
//! built here; the two functions at the end run them through the runner. What the
//! ConfigMap holds, and reading it, is `lab::progress_map` (pure).
//!
//! Only verbs that send JSON: `kubectl patch --type merge` and `kubectl create -f FILE`
//! (`kubectl create configmap` sends protobuf).

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use super::{KUBECTL_TIMEOUT, Target};
use crate::lab::progress_map::{Progress, manifest, patch_body};
use crate::lab::{ExerciseNumber, ExerciseRecord, PROGRESS_CONFIGMAP};
use crate::runner::{CommandLine, Failed, Runner};

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
    use crate::lab::progress_map::tests::record;
    use crate::runner::scripted::ScriptedRunner;

    #[test]
    fn the_progress_is_read_from_its_own_configmap() {
        let target = Target::kind("lab", "learner-01");
        assert_eq!(
            target.get_progress().to_string(),
            "kubectl --context kind-lab --namespace learner-01 get configmap sidecar-lab-exercises --ignore-not-found -o json"
        );
    }

    #[test]
    fn a_missing_configmap_is_created_and_an_existing_one_patched() {
        let dir = tempfile::tempdir().expect("dir");
        let target = Target::kind("lab", "learner-01");
        let patch = target.patch_progress(&patch_body(ExerciseNumber(1), &record()));
        let file = dir.path().join("sidecar-lab-exercises.json");
        let runner = ScriptedRunner::new()
            .exact(
                &patch.to_string(),
                1,
                "",
                "Error from server (NotFound): configmaps \"sidecar-lab-exercises\" not found\n",
            )
            .exact(&target.create_from(&file).to_string(), 0, "", "");
        save_progress(&runner, &target, dir.path(), ExerciseNumber(1), &record()).expect("saved");
        assert!(crate::files::read_to_string(&file).is_ok_and(|t| t.contains("exercise-1")));
        let forbidden = ScriptedRunner::new().exact(
            &patch.to_string(),
            1,
            "",
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

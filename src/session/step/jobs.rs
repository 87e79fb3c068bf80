//! What a step puts on the cluster, and takes off again: a plain step's one Job (the
//! step's own manifest), or a step group's Jobs, one per variant, perhaps under a
//! ResourceQuota created first (the lab's "what a sidecar costs"). When a group's Jobs
//! are decided, the ones the quota refused are suspended (so that none starts its pod
//! late) and the quota is removed, so that later steps run unconstrained.

use std::path::PathBuf;

use anyhow::Context;

use super::Session;
use crate::kube::cluster::Answer;
use crate::lab::{Step, StepNumber};
use crate::render;
use crate::render::job;
use crate::render::step::{quota_name, step_quota, step_runs};
use crate::session::decide::{Watch, Watched};
use crate::state::write_atomically;
use crate::verdict::{Expectation, Outcome, judge_refusal};

/// A step's Jobs, rendered and not yet applied.
pub(super) struct Jobs {
    /// A step group (`also` runs or a quota), rather than a plain step.
    grouped: bool,
    /// The quota's manifest, written and applied before the Jobs.
    quota: Option<(PathBuf, String)>,
    /// Each Job, its manifest's path and text.
    rendered: Vec<(Watched, PathBuf, String)>,
    hold_seconds: u64,
    timeout_seconds: u64,
}

/// Renders step `number`'s Jobs (and quota).
pub(super) fn prepare(
    session: &Session<'_>,
    number: StepNumber,
    step: &Step,
) -> anyhow::Result<Jobs> {
    let grouped = !step.also.is_empty() || !step.quota.is_empty();
    let mut jobs = Jobs {
        grouped,
        quota: None,
        rendered: Vec::new(),
        hold_seconds: step.hold_seconds,
        timeout_seconds: step.timeout_seconds,
    };
    let path = |name: &str| session.state_dir.join(format!("step-{number}-{name}.yaml"));
    if !grouped {
        let (name, text) = render::step_manifest(number, step, session.release)?;
        let expectation = Expectation {
            variant: step.variant,
            outcome: step.expect_on(session.minor),
            checks: step.check.clone(),
        };
        let watched = Watched::new(step.variant, name.as_str(), expectation);
        jobs.rendered
            .push((watched, path(&step.variant.to_string()), text));
        return Ok(jobs);
    }
    let template = job::parse_template(crate::assets::JOB_TEMPLATE)?;
    if let Some(quota) = step_quota(number, step) {
        jobs.quota = Some((path("quota"), crate::yaml::to_string(&quota)?));
    }
    for run in step_runs(&template, number, step, session.minor)? {
        let text = job::to_manifest(
            &run.job,
            &[format!(
                "sidecar-lab: step {number} ({}), variant `{}`, expects `{}`.",
                step.title, run.variant, run.expect
            )],
        )?;
        let expectation = Expectation {
            variant: run.variant,
            outcome: run.expect,
            checks: step.check.clone(),
        };
        let watched = Watched::new(run.variant, run.name.as_str(), expectation);
        jobs.rendered
            .push((watched, path(&run.variant.to_string()), text));
    }
    Ok(jobs)
}

impl Jobs {
    /// `--dry-run`: the manifests it would write and the commands it would run.
    pub(super) fn dry_run(
        &self,
        session: &Session<'_>,
        number: StepNumber,
        intro: String,
    ) -> String {
        let target = &session.target;
        let mut report = intro;
        if !self.grouped {
            for (watched, path, text) in &self.rendered {
                report.push_str(&format!("\n# would write {}:\n{text}", path.display()));
                let observe = target.observe(&super::step_label(number));
                for command in [
                    &target.delete_job(&watched.job),
                    &target.apply(path),
                    &observe,
                ] {
                    report.push_str(&format!("$ {command}\n"));
                }
            }
            return report;
        }
        for (path, text) in self.files() {
            report.push_str(&format!("\n# would write {}:\n{text}", path.display()));
            report.push_str(&format!("$ {}\n", target.apply(path)));
        }
        report
    }

    /// The manifests, the quota's first.
    fn files(&self) -> impl Iterator<Item = (&PathBuf, &String)> {
        let quota = self.quota.iter().map(|(path, text)| (path, text));
        quota.chain(self.rendered.iter().map(|(_, path, text)| (path, text)))
    }

    /// Replaces the step's previous Jobs with these (the quota first): the watch over
    /// them, the Jobs the API server refused already decided, and its warnings, each
    /// once (every Job of a step draws the same).
    pub(super) fn apply(
        &self,
        session: &Session<'_>,
        number: StepNumber,
    ) -> anyhow::Result<(Watch, Vec<String>)> {
        let cluster = session.cluster();
        let delete = |watched: &Watched| {
            cluster
                .delete_job(&watched.job)
                .context("cannot remove the step's previous Job")
        };
        // A plain step writes its manifest first; a group removes its old Jobs first.
        if self.grouped {
            self.rendered
                .iter()
                .try_for_each(|(watched, _, _)| delete(watched))?;
        }
        for (path, text) in self.files() {
            write_atomically(path, text.as_bytes())?;
        }
        if !self.grouped {
            self.rendered
                .iter()
                .try_for_each(|(watched, _, _)| delete(watched))?;
        }
        if let Some((path, _)) = &self.quota {
            cluster
                .apply_checked(path)
                .context("cannot create the step's ResourceQuota")?;
            cluster.wait_for_quota(&quota_name(number), session.interrupted);
        }
        let watched = self.rendered.iter().map(|(w, _, _)| w.clone()).collect();
        let mut watch = Watch::new(
            watched,
            self.hold_seconds,
            self.timeout_seconds,
            self.grouped,
        );
        let mut warnings: Vec<String> = Vec::new();
        for (index, (watched, path, _)) in self.rendered.iter().enumerate() {
            let applied = cluster.apply(path)?;
            for warning in applied.warnings {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            match applied.answer {
                Answer::Created => {}
                Answer::Refused(refusal) => {
                    watch.refused(index, judge_refusal(&refusal, &watched.expectation));
                }
                Answer::Failed(failed) => {
                    return Err(failed).context("cannot create the step's Job");
                }
            }
        }
        Ok((watch, warnings))
    }

    /// After a step with a quota: suspends the Jobs the quota kept from running, then
    /// removes the quota; a failure is only reported. Suspended first, so that none
    /// starts its pod late once the quota is gone; suspended, not deleted, so that the
    /// Jobs and their `FailedCreate` events stay for `kubectl describe` and
    /// `check --step N`.
    pub(super) fn clean_up(&self, session: &Session<'_>, number: StepNumber, watch: &Watch) {
        if self.quota.is_none() {
            return;
        }
        let cluster = session.cluster();
        let refused: Vec<&str> = watch
            .jobs()
            .iter()
            .filter(|w| {
                w.end()
                    .and_then(|e| e.judgement.as_ref())
                    .is_some_and(|j| j.outcome == Outcome::NotAdmitted)
            })
            .map(|w| w.job.as_str())
            .collect();
        let warn = |error: anyhow::Error| {
            session
                .printer
                .warn(&format!("could not clean up after step {number}: {error}"));
        };
        for name in &refused {
            if let Err(error) = cluster.suspend_job(name) {
                warn(error);
            }
        }
        // The Job controller acts on what its cache has seen: only once it has marked the
        // Jobs suspended is a pod no longer made for them when the quota goes.
        let label = super::step_label(number);
        cluster.wait_until_suspended(&label, &refused, session.interrupted);
        if let Err(error) = cluster.delete_quota(&quota_name(number)) {
            warn(error);
        }
    }
}

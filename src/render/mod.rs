//! Rendering: templates and the version matrix in, manifests and configs out. Nothing
//! here touches the outside world.

pub(crate) mod bounds;
pub(crate) mod diff;
pub mod job;
pub(crate) mod kind_config;
pub(crate) mod lab_file;
pub(crate) mod pod_reach;
pub(crate) mod pod_security;
pub mod step;
pub(crate) mod strict;

use crate::assets;
use crate::matrix::{GateChoice, GateRule, KubernetesRelease};
use crate::names::{ClusterName, JobName};
use crate::variant::Variant;

/// A render that could not be done; each wraps the failing part's own error.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Template(#[from] job::TemplateError),
    #[error(transparent)]
    KindConfig(#[from] kind_config::KindConfigError),
    #[error("could not encode the manifest: {0}")]
    Yaml(#[from] crate::yaml::YamlError),
    #[error("the lab step's Job: {0}")]
    Step(#[from] step::StepJobError),
}

/// The lab Job for `variant` as a manifest, with a comment header that says where
/// postgres runs and what the Kubernetes version means for it.
pub fn job_manifest(
    variant: Variant,
    name: Option<&JobName>,
    release: &KubernetesRelease,
) -> Result<String, RenderError> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let name = match name {
        Some(name) => name.clone(),
        None => job::default_job_name(&template, variant)?,
    };
    let job = job::derive_variant(&template, variant, &name)?;
    let mut header = vec![
        format!(
            "sidecar-lab: the lab Job, variant `{variant}`: {}.",
            variant.placement()
        ),
        native_sidecar_note(release),
    ];
    if !variant.completes() {
        header.push(format!(
            "This Job never completes by itself: activeDeadlineSeconds ends it after {} seconds.",
            job::HUNG_VARIANT_DEADLINE_SECONDS
        ));
    }
    Ok(job::to_manifest(&job, &header)?)
}

/// The Job of lab step `number` as a manifest: the step's variant with its edits, its
/// own name and step label, under the same header as `job_manifest`.
pub fn step_manifest(
    number: crate::lab::StepNumber,
    step: &crate::lab::Step,
    release: &KubernetesRelease,
) -> Result<(JobName, String), RenderError> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let job = step::step_job(&template, number, step)?;
    let name = step::step_job_name(&template, step)?;
    let variant = step.variant;
    let mut header = vec![
        format!(
            "sidecar-lab: step {number} ({}), variant `{variant}`: {}.",
            step.title,
            variant.placement()
        ),
        native_sidecar_note(release),
    ];
    if !step.edit.is_empty() {
        header.push("The step changes the variant as its lab file says (`edit`).".to_owned());
    }
    if !variant.completes() {
        header.push(format!(
            "This Job never completes by itself: activeDeadlineSeconds ends it after {} seconds.",
            job::HUNG_VARIANT_DEADLINE_SECONDS
        ));
    }
    Ok((name, job::to_manifest(&job, &header)?))
}

/// The native Job the gate check sends as a server-side dry run: no name of its own but
/// a `generateName`, so it never collides with a step's Job (nor with any other).
pub fn gate_check_manifest(release: &KubernetesRelease) -> Result<String, RenderError> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let name = job::default_job_name(&template, Variant::Native)?;
    let mut job = job::derive_variant(&template, Variant::Native, &name)?;
    job.metadata.name = None;
    job.metadata.generate_name = Some(GATE_CHECK_PREFIX.to_owned());
    let header = [
        "sidecar-lab: the gate check, sent only as a server-side dry run (never stored)."
            .to_owned(),
        native_sidecar_note(release),
    ];
    Ok(job::to_manifest(&job, &header)?)
}

/// The `generateName` of the gate check's dry-run Job.
pub const GATE_CHECK_PREFIX: &str = "sidecar-lab-gate-check-";

/// The kind cluster config file for `release`.
pub fn kind_config_file(
    release: &KubernetesRelease,
    name: &ClusterName,
    gate: GateChoice,
) -> Result<String, RenderError> {
    let cluster = kind_config::kind_config(assets::KIND_CLUSTER_TEMPLATE, release, name, gate)?;
    Ok(kind_config::to_config_file(&cluster, release)?)
}

/// A unified diff between two variants' Jobs, without the comment headers.
pub fn variant_diff(from: Variant, to: Variant) -> Result<String, RenderError> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let text = |variant| -> Result<String, RenderError> {
        let name = job::default_job_name(&template, variant)?;
        let job = job::derive_variant(&template, variant, &name)?;
        Ok(job::to_manifest(&job, &[])?)
    };
    Ok(diff::unified(
        from.name(),
        &text(from)?,
        to.name(),
        &text(to)?,
    ))
}

/// One sentence on whether native sidecars work on this Kubernetes version.
fn native_sidecar_note(release: &KubernetesRelease) -> String {
    let minor = release.minor;
    match release.sidecar_gate {
        GateRule::Required => format!(
            "Kubernetes {minor}: native sidecars need the SidecarContainers gate (alpha); without it the API server silently drops `restartPolicy: Always`."
        ),
        GateRule::Optional => format!(
            "Kubernetes {minor}: native sidecars are on by default (SidecarContainers is beta)."
        ),
        GateRule::Omitted => {
            format!("Kubernetes {minor}: native sidecars are always on (SidecarContainers is GA).")
        }
        GateRule::Forbidden => format!(
            "Kubernetes {minor}: native sidecars are always on (the SidecarContainers gate is gone)."
        ),
    }
}

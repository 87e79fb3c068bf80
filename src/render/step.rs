//! A lab step's Job: the step's variant of the template, with the step's edits from the
//! lab file (fields merged into named containers, sidecars added, pod-level fields), its
//! own name, and a label with its number. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use serde_json::Value;

use super::job::{self, TemplateError};
use crate::lab::{Edit, Step, StepNumber};
use crate::names::JobName;

/// The step label lives with the lab's other labels; kept here for its readers.
pub use crate::lab::labels::STEP_LABEL;

/// An edit that does not fit the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the edit names container `{0}`, which the step's Job does not have")]
    NoContainer(String),
    #[error("the edited Job is not a valid Job: {0}")]
    NotAJob(String),
}

/// The Job of step `number`.
pub fn step_job(template: &Job, number: StepNumber, step: &Step) -> Result<Job, StepJobError> {
    let name = step_job_name(template, step)?;
    variant_job(template, number, step, step.variant, &name)
}

/// One Job of a step that runs several variants (`also`).
#[derive(Clone, Debug)]
pub struct RunJob {
    pub variant: crate::variant::Variant,
    pub expect: crate::lab::Outcome,
    pub name: JobName,
    pub job: Job,
}

/// Every Job of step `number`, its own variant first: one for a plain step; for a step
/// with `also`, one per variant, named `<job>-<variant>`.
pub fn step_runs(
    template: &Job,
    number: StepNumber,
    step: &Step,
    minor: Option<crate::version::MinorVersion>,
) -> Result<Vec<RunJob>, StepJobError> {
    let base = step_job_name(template, step)?;
    step.runs(minor)
        .into_iter()
        .map(|(variant, expect)| {
            let name = run_job_name(&base, step, variant)
                .map_err(|e| StepJobError::Edit(EditError::NotAJob(e.to_string())))?;
            let job = variant_job(template, number, step, variant, &name)?;
            Ok(RunJob {
                variant,
                expect,
                name,
                job,
            })
        })
        .collect()
}

/// The ResourceQuota a step creates before its Jobs (`quota` in the lab file), labelled
/// as the step's.
pub fn step_quota(
    number: StepNumber,
    step: &Step,
) -> Option<k8s_openapi::api::core::v1::ResourceQuota> {
    use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    if step.quota.is_empty() {
        return None;
    }
    Some(ResourceQuota {
        metadata: ObjectMeta {
            name: Some(quota_name(number)),
            labels: Some(
                [
                    (
                        "app.kubernetes.io/part-of".to_owned(),
                        "sidecar-lab".to_owned(),
                    ),
                    (STEP_LABEL.to_owned(), number.to_string()),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(ResourceQuotaSpec {
            hard: Some(
                step.quota
                    .iter()
                    .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                    .collect(),
            ),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    })
}

/// The name of step `number`'s ResourceQuota.
pub fn quota_name(number: StepNumber) -> String {
    format!("sidecar-lab-step-{number}")
}

fn variant_job(
    template: &Job,
    number: StepNumber,
    step: &Step,
    variant: crate::variant::Variant,
    name: &JobName,
) -> Result<Job, StepJobError> {
    let derived = job::derive_variant(template, variant, name)?;
    let mut edited = apply_edit(&derived, &step.edit)?;
    let label = number.to_string();
    edited
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(STEP_LABEL.to_owned(), label.clone());
    if let Some(meta) = edited
        .spec
        .as_mut()
        .and_then(|s| s.template.metadata.as_mut())
    {
        meta.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(STEP_LABEL.to_owned(), label);
    }
    Ok(edited)
}

/// A step's Job could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StepJobError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// The Job with `edit` applied: objects merge key by key (JSON merge patch), anything
/// else replaces; `null` removes a field.
pub fn apply_edit(job: &Job, edit: &Edit) -> Result<Job, EditError> {
    if edit.is_empty() {
        return Ok(job.clone());
    }
    let mut value = serde_json::to_value(job).map_err(|e| EditError::NotAJob(e.to_string()))?;
    let spec = value
        .pointer_mut("/spec/template/spec")
        .ok_or_else(|| EditError::NotAJob("it has no pod template spec".to_owned()))?;
    for (name, fields) in &edit.containers {
        let mut found = false;
        for list in ["initContainers", "containers"] {
            let Some(items) = spec.get_mut(list).and_then(Value::as_array_mut) else {
                continue;
            };
            for container in items.iter_mut() {
                if container.get("name").and_then(Value::as_str) == Some(name.as_str()) {
                    merge(container, fields);
                    found = true;
                }
            }
        }
        if !found {
            return Err(EditError::NoContainer(name.clone()));
        }
    }
    if !edit.add_sidecars.is_empty() {
        let inits = spec
            .as_object_mut()
            .ok_or_else(|| EditError::NotAJob("its pod spec is not an object".to_owned()))?
            .entry("initContainers")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = inits {
            for sidecar in &edit.add_sidecars {
                let mut sidecar = sidecar.clone();
                if let Value::Object(map) = &mut sidecar {
                    map.insert("restartPolicy".to_owned(), Value::from("Always"));
                }
                list.push(sidecar);
            }
        }
    }
    if let Some(pod) = &edit.pod {
        merge(spec, pod);
    }
    serde_json::from_value(value).map_err(|e| EditError::NotAJob(e.to_string()))
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// The Job that runs `variant` in `step`: the step's own name, or `<name>-<variant>` when
/// the step runs several variants (each needs a Job of its own).
pub fn run_job_name(
    base: &JobName,
    step: &Step,
    variant: crate::variant::Variant,
) -> Result<JobName, crate::names::NameError> {
    if step.also.is_empty() {
        Ok(base.clone())
    } else {
        format!("{base}-{variant}").parse()
    }
}

/// The Job name a step uses.
pub fn step_job_name(template: &Job, step: &Step) -> Result<JobName, TemplateError> {
    match &step.job {
        Some(name) => Ok(name.clone()),
        None => job::default_job_name(template, step.variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;
    use crate::lab::Lab;

    #[test]
    fn every_step_of_the_lab_renders_with_its_label() {
        let lab = Lab::embedded().expect("lab");
        let template = job::parse_template(assets::JOB_TEMPLATE).expect("template");
        for (number, step) in lab.numbered() {
            let job = step_job(&template, number, step).expect("renders");
            let labels = job.metadata.labels.expect("labels");
            assert_eq!(labels[STEP_LABEL], number.to_string());
        }
    }

    #[test]
    fn an_edit_that_names_a_missing_container_is_refused() {
        let template = job::parse_template(assets::JOB_TEMPLATE).expect("template");
        let edit = Edit {
            containers: [("nginx".to_owned(), serde_json::json!({"image": "x"}))].into(),
            ..Edit::default()
        };
        assert_eq!(
            apply_edit(&template, &edit).expect_err("refused"),
            EditError::NoContainer("nginx".to_owned())
        );
    }

    #[test]
    fn edits_merge_fields_add_sidecars_and_remove_with_null() {
        let template = job::parse_template(assets::JOB_TEMPLATE).expect("template");
        let edit = Edit {
            containers: [(
                "postgres".to_owned(),
                serde_json::json!({"resources": {"requests": {"cpu": "600m"}}, "ports": null}),
            )]
            .into(),
            add_sidecars: vec![serde_json::json!({"name": "shipper", "image": "busybox"})],
            pod: Some(serde_json::json!({"os": {"name": "linux"}})),
        };
        let job = apply_edit(&template, &edit).expect("edits");
        let spec = job.spec.and_then(|s| s.template.spec).expect("spec");
        let inits = spec.init_containers.expect("inits");
        let postgres = &inits[0];
        let requests = postgres
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .expect("requests");
        assert_eq!(requests["cpu"].0, "600m");
        assert_eq!(requests["memory"].0, "128Mi", "merged, not replaced");
        assert!(postgres.ports.is_none());
        assert_eq!(inits[1].name, "shipper");
        assert_eq!(inits[1].restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.os.map(|o| o.name).as_deref(), Some("linux"));
    }
}

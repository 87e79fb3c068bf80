//! Derives the lab Job of each variant from the one template, as typed Kubernetes
//! objects (pure: text and choices in, manifest out).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;

use crate::names::JobName;
use crate::variant::Variant;
use crate::yaml::{self, YamlError};

/// The variants that never end by themselves are ended by the Job controller after this
/// long (the Job then fails with `DeadlineExceeded`), so a forgotten step cannot hold
/// the node for ever. Five minutes leaves the learner time to look around.
pub const HUNG_VARIANT_DEADLINE_SECONDS: i64 = 300;

/// The variant label lives with the lab's other labels; kept here for its readers.
pub use crate::lab::labels::VARIANT_LABEL;

/// The order in which keys are printed: Kubernetes types serialize alphabetically,
/// which would put a container's `name` after its `image`.
const KEY_ORDER: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "image",
    "imagePullPolicy",
    "restartPolicy",
    "initContainers",
    "containers",
    "command",
    "args",
    "value",
];

/// A Job template the variants cannot be derived from.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the Job template is not a valid Job: {0}")]
    Yaml(#[from] YamlError),
    #[error("the Job template {0}")]
    Shape(String),
}

/// Decodes the template and checks it has what the derivation needs: a pod spec, at
/// least one app container and exactly one init container with `restartPolicy: Always`.
pub fn parse_template(text: &str) -> Result<Job, TemplateError> {
    let job: Job = yaml::from_str(text)?;
    let spec = pod_spec(&job)?;
    if spec.containers.is_empty() {
        return Err(TemplateError::Shape("has no app container".to_owned()));
    }
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    if sidecars != 1 {
        return Err(TemplateError::Shape(format!(
            "must have exactly one init container with `restartPolicy: Always`, not {sidecars}"
        )));
    }
    if job.metadata.name.is_none() {
        return Err(TemplateError::Shape("has no metadata.name".to_owned()));
    }
    Ok(job)
}

/// The Job name a variant gets unless the user names it: the template's name and the
/// variant, so the three steps never collide.
pub fn default_job_name(template: &Job, variant: Variant) -> Result<JobName, TemplateError> {
    let base = template.metadata.name.as_deref().unwrap_or("cy-job");
    format!("{base}-{variant}")
        .parse()
        .map_err(|error| TemplateError::Shape(format!("name gives an invalid Job name: {error}")))
}

/// The Job for `variant`, named `name`: the article's "comment out line 17 / line 20"
/// exercise as a function.
/// - `native`: the template as it is.
/// - `init`: the sidecar loses `restartPolicy: Always` and becomes a plain init container.
/// - `sidecar`: the sidecar moves, without `restartPolicy`, to the end of `containers`.
pub fn derive_variant(
    template: &Job,
    variant: Variant,
    name: &JobName,
) -> Result<Job, TemplateError> {
    let mut job = template.clone();
    job.metadata.name = Some(name.as_str().to_owned());
    add_variant_label(&mut job.metadata.labels, variant);
    let pod_metadata = job
        .spec
        .as_mut()
        .and_then(|spec| spec.template.metadata.as_mut())
        .ok_or_else(|| TemplateError::Shape("has no pod template metadata".to_owned()))?;
    add_variant_label(&mut pod_metadata.labels, variant);

    let spec = pod_spec_mut(&mut job)?;
    let init_containers = spec.init_containers.get_or_insert_with(Vec::new);
    let position = init_containers
        .iter()
        .position(|c| c.restart_policy.as_deref() == Some("Always"))
        .ok_or_else(|| {
            TemplateError::Shape("has no init container with `restartPolicy: Always`".to_owned())
        })?;
    match variant {
        Variant::Native => {}
        Variant::Init => init_containers[position].restart_policy = None,
        Variant::Sidecar => {
            let mut postgres = init_containers.remove(position);
            postgres.restart_policy = None;
            spec.containers.push(postgres);
        }
    }
    if spec.init_containers.as_ref().is_some_and(Vec::is_empty) {
        spec.init_containers = None;
    }
    if !variant.completes() {
        if let Some(job_spec) = job.spec.as_mut() {
            job_spec.active_deadline_seconds = Some(HUNG_VARIANT_DEADLINE_SECONDS);
        }
    }
    Ok(job)
}

/// The images a Job's containers use, each once, in order: what the lab preloads.
pub fn images(job: &Job) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    if let Ok(spec) = pod_spec(job) {
        for container in spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
        {
            if let Some(image) = &container.image {
                if !images.contains(image) {
                    images.push(image.clone());
                }
            }
        }
    }
    images
}

/// The manifest text: `header` lines as YAML comments, then the Job.
pub fn to_manifest(job: &Job, header: &[String]) -> Result<String, YamlError> {
    let mut text = String::new();
    for line in header {
        text.push_str(if line.is_empty() { "#" } else { "# " });
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&yaml::to_string_with_key_order(job, KEY_ORDER)?);
    Ok(text)
}

fn add_variant_label(labels: &mut Option<BTreeMap<String, String>>, variant: Variant) {
    labels
        .get_or_insert_with(BTreeMap::new)
        .insert(VARIANT_LABEL.to_owned(), variant.name().to_owned());
}

fn pod_spec(job: &Job) -> Result<&PodSpec, TemplateError> {
    job.spec
        .as_ref()
        .and_then(|spec| spec.template.spec.as_ref())
        .ok_or_else(|| TemplateError::Shape("has no spec.template.spec".to_owned()))
}

fn pod_spec_mut(job: &mut Job) -> Result<&mut PodSpec, TemplateError> {
    job.spec
        .as_mut()
        .and_then(|spec| spec.template.spec.as_mut())
        .ok_or_else(|| TemplateError::Shape("has no spec.template.spec".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets;

    fn template() -> Job {
        parse_template(assets::JOB_TEMPLATE).expect("the embedded template is valid")
    }

    fn variant(variant: Variant) -> Job {
        let template = template();
        let name = default_job_name(&template, variant).expect("valid name");
        derive_variant(&template, variant, &name).expect("derives")
    }

    /// A container's name and restart policy.
    type Placement = (String, Option<String>);

    fn names(containers: Option<&Vec<k8s_openapi::api::core::v1::Container>>) -> Vec<Placement> {
        containers
            .into_iter()
            .flatten()
            .map(|c| (c.name.clone(), c.restart_policy.clone()))
            .collect()
    }

    /// Init containers, app containers and the Job's deadline.
    fn layout(job: &Job) -> (Vec<Placement>, Vec<Placement>, Option<i64>) {
        let spec = pod_spec(job).expect("pod spec");
        (
            names(spec.init_containers.as_ref()),
            names(Some(&spec.containers)),
            job.spec.as_ref().and_then(|s| s.active_deadline_seconds),
        )
    }

    fn pair(name: &str, policy: Option<&str>) -> (String, Option<String>) {
        (name.to_owned(), policy.map(str::to_owned))
    }

    #[test]
    fn native_keeps_postgres_as_an_always_restarting_init_container() {
        assert_eq!(
            layout(&variant(Variant::Native)),
            (
                vec![pair("postgres", Some("Always"))],
                vec![pair("main", None)],
                None
            )
        );
    }

    #[test]
    fn init_drops_the_restart_policy_and_bounds_the_job() {
        assert_eq!(
            layout(&variant(Variant::Init)),
            (
                vec![pair("postgres", None)],
                vec![pair("main", None)],
                Some(300)
            )
        );
    }

    #[test]
    fn sidecar_moves_postgres_after_main_and_bounds_the_job() {
        assert_eq!(
            layout(&variant(Variant::Sidecar)),
            (
                vec![],
                vec![pair("main", None), pair("postgres", None)],
                Some(300)
            )
        );
    }

    #[test]
    fn the_variants_differ_only_in_placement_name_label_and_deadline() {
        // Put each variant's differences back by hand: what is left must be the template.
        let template = template();
        for v in Variant::ALL {
            let mut job = variant(v);
            job.metadata.name = template.metadata.name.clone();
            job.metadata
                .labels
                .as_mut()
                .map(|l| l.remove(VARIANT_LABEL));
            let spec = job.spec.as_mut().expect("spec");
            spec.active_deadline_seconds = None;
            spec.template
                .metadata
                .as_mut()
                .and_then(|m| m.labels.as_mut())
                .map(|l| l.remove(VARIANT_LABEL));
            let pod = spec.template.spec.as_mut().expect("pod spec");
            if v == Variant::Sidecar {
                let postgres = pod.containers.pop().expect("postgres moved to containers");
                pod.init_containers = Some(vec![postgres]);
            }
            if let Some(postgres) = pod.init_containers.as_mut().and_then(|c| c.first_mut()) {
                postgres.restart_policy = Some("Always".to_owned());
            }
            assert_eq!(job, template, "variant {v} differs elsewhere");
        }
    }

    #[test]
    fn every_variant_gets_its_own_name_and_label() {
        let jobs: Vec<Job> = Variant::ALL.into_iter().map(variant).collect();
        let names: Vec<_> = jobs
            .iter()
            .filter_map(|j| j.metadata.name.clone())
            .collect();
        assert_eq!(names, ["cy-job-init", "cy-job-sidecar", "cy-job-native"]);
        for (job, v) in jobs.iter().zip(Variant::ALL) {
            let pod_labels = job
                .spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.labels.as_ref());
            assert_eq!(
                pod_labels
                    .and_then(|l| l.get(VARIANT_LABEL))
                    .map(String::as_str),
                Some(v.name())
            );
        }
    }

    #[test]
    fn images_are_pinned_and_never_pulled_again() {
        for v in Variant::ALL {
            let job = variant(v);
            let spec = pod_spec(&job).expect("pod spec");
            for c in spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
            {
                let image = c.image.as_deref().unwrap_or_default();
                let tag = image
                    .rsplit_once(':')
                    .map(|(_, tag)| tag)
                    .unwrap_or_default();
                assert!(!tag.is_empty() && tag != "latest", "{image} is not pinned");
                assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
            }
        }
    }

    #[test]
    fn main_reaches_postgres_on_localhost_without_installing_anything() {
        let job = variant(Variant::Native);
        let main = &pod_spec(&job).expect("pod spec").containers[0];
        let script = main.args.as_ref().map(|a| a.join(" ")).unwrap_or_default();
        assert!(
            script.contains("pg_isready -h localhost -p 5432"),
            "{script}"
        );
        assert!(
            !script.contains("apk ") && !script.contains("apt"),
            "{script}"
        );
        assert_eq!(job.spec.as_ref().and_then(|s| s.backoff_limit), Some(0));
    }

    #[test]
    fn templates_without_a_sidecar_are_refused() {
        let text = assets::JOB_TEMPLATE.replace("restartPolicy: Always", "");
        let error = parse_template(&text).expect_err("no sidecar");
        assert!(
            error.to_string().contains("exactly one init container"),
            "{error}"
        );
    }

    #[test]
    fn manifests_list_names_before_images() {
        let text = to_manifest(&variant(Variant::Native), &["header".to_owned()]).expect("renders");
        assert!(
            text.starts_with("# header\napiVersion: batch/v1\nkind: Job\n"),
            "{text}"
        );
        assert!(text.contains("- name: main\n"), "{text}");
    }
}

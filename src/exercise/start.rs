//! What `sidecar-lab exercise N` hands the learner: the starting manifest (the Job of the
//! lab step the exercise starts from, renamed and relabelled as the exercise's own) and
//! the task, as text. Pure: the command writes them.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;

use super::catalogue::Exercise;
use crate::lab::labels::{STEP_LABEL, VARIANT_LABEL};
use crate::lab::{EXERCISE_LABEL, Lab};
use crate::render::job;

/// The label every lab object carries, so `sidecar-lab down` removes answers too.
const PART_OF: (&str, &str) = ("app.kubernetes.io/part-of", "sidecar-lab");

/// The exercise's starting Job: step `start`'s Job as the lab renders it, named
/// `exercise-N`, with the exercise's label instead of the step's.
pub fn starting_job(exercise: &Exercise, lab: &Lab) -> anyhow::Result<Job> {
    let step = lab.step(exercise.start).ok_or_else(|| {
        anyhow::anyhow!(
            "exercise {} starts from step {}, which lab `{}` does not have",
            exercise.number,
            exercise.start,
            lab.name
        )
    })?;
    let template = job::parse_template(crate::assets::JOB_TEMPLATE)?;
    let mut job = crate::render::step::step_job(&template, exercise.start, step)?;
    make_answer(&mut job, exercise.number);
    Ok(job)
}

/// Makes `job` the answer to exercise `number` however the learner named or labelled it:
/// named `exercise-N`, labelled with the exercise (Job and pods) and as part of the lab,
/// and without a step's or variant's label, so it never collides with a step's Jobs nor
/// is watched as one. The namespace is the one the answer is applied in.
pub fn make_answer(job: &mut Job, number: crate::lab::ExerciseNumber) {
    job.metadata.name = Some(number.job_name());
    job.metadata.generate_name = None;
    job.metadata.namespace = None;
    relabel(&mut job.metadata.labels, number);
    if let Some(spec) = job.spec.as_mut() {
        let template = spec.template.metadata.get_or_insert_with(Default::default);
        relabel(&mut template.labels, number);
    }
}

fn relabel(labels: &mut Option<BTreeMap<String, String>>, number: crate::lab::ExerciseNumber) {
    let labels = labels.get_or_insert_with(BTreeMap::new);
    labels.remove(STEP_LABEL);
    labels.remove(VARIANT_LABEL);
    labels.insert(EXERCISE_LABEL.to_owned(), number.to_string());
    labels.insert(PART_OF.0.to_owned(), PART_OF.1.to_owned());
}

/// The starting manifest as the learner reads it.
pub fn starting_manifest(exercise: &Exercise, job: &Job) -> anyhow::Result<String> {
    let header = [
        format!("Exercise {}: {}.", exercise.number, exercise.title),
        format!(
            "Edit this Job (TASK.md says what to do), then run `sidecar-lab submit {}`.",
            exercise.number
        ),
    ];
    Ok(job::to_manifest(job, &header)?)
}

/// The image the starting Job's first container runs (the snippet's `{{image}}`).
fn image(job: &Job) -> String {
    super::signs::pod_spec(job)
        .and_then(|spec| spec.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_else(|| "postgres:17.5-alpine".to_owned())
}

/// The snippet with its placeholder filled in, when the exercise has one.
pub fn snippet(exercise: &Exercise, job: &Job) -> Option<String> {
    exercise
        .snippet
        .as_ref()
        .map(|s| s.replace("{{image}}", &image(job)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Catalogue;

    fn start(number: u32) -> (Exercise, Job) {
        let catalogue = Catalogue::embedded().expect("catalogue");
        let exercise = catalogue
            .exercise(crate::lab::ExerciseNumber(number))
            .expect("exercise")
            .clone();
        let lab = Lab::embedded().expect("lab");
        let job = starting_job(&exercise, &lab).expect("job");
        (exercise, job)
    }

    #[test]
    fn each_exercise_starts_from_its_step_under_its_own_name_and_label() {
        for number in 1..=3 {
            let (exercise, job) = start(number);
            assert_eq!(
                job.metadata.name.as_deref(),
                Some(format!("exercise-{number}").as_str())
            );
            for labels in [
                job.metadata.labels.as_ref(),
                job.spec
                    .as_ref()
                    .and_then(|s| s.template.metadata.as_ref())
                    .and_then(|m| m.labels.as_ref()),
            ] {
                let labels = labels.expect("labels");
                assert_eq!(
                    labels.get(EXERCISE_LABEL).map(String::as_str),
                    Some(number.to_string().as_str())
                );
                assert!(!labels.contains_key(STEP_LABEL) && !labels.contains_key(VARIANT_LABEL));
            }
            let manifest = starting_manifest(&exercise, &job).expect("manifest");
            assert!(manifest.contains(&format!("sidecar-lab submit {number}")));
        }
    }

    #[test]
    fn the_starting_jobs_are_the_wrong_variants_and_the_native_one() {
        use crate::exercise::signs::{MainWork, Sign, signs};
        let (_, one) = start(1);
        let work = MainWork::of(&one).expect("main");
        assert!(signs(&one, &work).contains(&Sign::PostgresRegular));
        let (_, two) = start(2);
        assert!(signs(&two, &work).contains(&Sign::PostgresPlainInit));
        let (exercise, three) = start(3);
        assert!(signs(&three, &work).contains(&Sign::PostgresSidecar));
        let snippet = snippet(&exercise, &three).expect("snippet");
        assert!(
            snippet.contains("image: postgres:") && !snippet.contains("{{"),
            "{snippet}"
        );
    }
}

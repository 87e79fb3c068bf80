//! A lab file read, decoded strictly and checked as a whole, so a typo in a lab file is
//! an error that names the field instead of a silently ignored line. Checking renders
//! each step's Jobs (a lab may not give its pods power over the node), so it sits here,
//! above the lab's data and beside the renderer.

use crate::assets;
use crate::lab::Lab;
use crate::yaml;

/// A lab file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("cannot read lab file `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("lab file `{origin}` is malformed: {source}")]
    Decode {
        origin: String,
        source: yaml::YamlError,
    },
    /// Too large or too deeply nested: refused before it is parsed.
    #[error(transparent)]
    Bounds(#[from] crate::render::bounds::BoundsError),
    #[error("lab file `{origin}` is invalid: {}", .problems.join("; "))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
}

impl Lab {
    /// The lab compiled into the binary.
    pub fn embedded() -> Result<Self, LabError> {
        Self::parse(assets::NATIVE_SIDECAR_LAB, "labs/native-sidecar.yaml")
    }

    /// Reads and checks a lab file the caller opened (`files::open_regular`: only a
    /// regular file, since `--lab` on a FIFO would wait for ever for a writer); it is read
    /// through the shared cap. `name` names it in errors.
    pub fn read(file: impl std::io::Read, name: &str) -> Result<Self, LabError> {
        use crate::render::bounds;
        let read = |source| LabError::Read {
            path: name.to_owned(),
            source,
        };
        let bytes = bounds::read_stream(file, name, bounds::LAB_FILE)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            read(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        Self::parse(&text, name)
    }

    /// Decodes and checks lab text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, LabError> {
        // Size and depth first: the YAML parser recurses, and 100,000 `[` took it a minute.
        crate::render::bounds::check(text.as_bytes(), origin, crate::render::bounds::LAB_FILE)?;
        let lab: Self = yaml::from_str(text).map_err(|source| LabError::Decode {
            origin: origin.to_owned(),
            source,
        })?;
        let mut problems = lab.problems();
        problems.extend(lab.privilege_problems());
        if problems.is_empty() {
            Ok(lab)
        } else {
            Err(LabError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }
    /// Fields of a step's Jobs (the template with the step's `edit`) that Pod Security
    /// `baseline` forbids, or that reach past a learner's confinement (an account, its
    /// token, a Secret, a node by name, a priority class: `render::pod_reach`): a lab file
    /// may change the lab, never give its pods power over the node or other learners, in
    /// a class's namespace or on a learner's own VM alike. An edit that does
    /// not render at all is reported when the step runs, as before.
    fn privilege_problems(&self) -> Vec<String> {
        let Ok(template) = crate::render::job::parse_template(assets::JOB_TEMPLATE) else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (index, (number, step)) in self.numbered().enumerate() {
            let Ok(runs) = crate::render::step::step_runs(&template, number, step, None) else {
                continue;
            };
            for run in runs {
                for violation in crate::render::pod_security::check_job(&run.job) {
                    problems.push(format!(
                        "steps[{index}].edit makes Job `{}` break Pod Security `baseline` at {violation}: remove that from the edit",
                        run.name.as_str()
                    ));
                }
                for reach in crate::render::pod_reach::check_job(&run.job) {
                    problems.push(format!(
                        "steps[{index}].edit makes Job `{}` set {}, which a lab may not ({}): remove that from the edit",
                        run.name.as_str(),
                        reach.field,
                        reach.reason
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Outcome, StepNumber};
    use crate::variant::Variant;

    #[test]
    fn the_embedded_lab_has_the_three_variants_in_order() {
        let lab = Lab::embedded().expect("valid");
        let steps: Vec<(Variant, Outcome)> = lab
            .steps
            .iter()
            .filter(|s| !s.optional)
            .map(|s| (s.variant, s.expect))
            .collect();
        assert_eq!(
            steps,
            [
                (Variant::Init, Outcome::InitRunning),
                (Variant::Sidecar, Outcome::SidecarHoldsPod),
                (Variant::Native, Outcome::Succeeded),
            ]
        );
        assert_eq!(
            lab.step(StepNumber(3)).map(|s| s.variant),
            Some(Variant::Native)
        );
        assert!(lab.step(StepNumber(0)).is_none() && lab.step(StepNumber(99)).is_none());
        assert!("0".parse::<StepNumber>().is_err() && "x".parse::<StepNumber>().is_err());
        assert_eq!("2".parse::<StepNumber>(), Ok(StepNumber(2)));
    }

    #[test]
    fn the_lab_round_trips() {
        let lab = Lab::embedded().expect("valid");
        let text = yaml::to_string(&lab).expect("encodes");
        assert_eq!(Lab::parse(&text, "round trip").expect("decodes"), lab);
    }

    #[test]
    fn an_unknown_field_is_named() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen("holdSeconds", "holdSecs", 1);
        let error = Lab::parse(&text, "bad.yaml").expect_err("strict");
        let message = error.to_string();
        assert!(
            message.contains("bad.yaml") && message.contains("holdSecs"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_outcome_or_variant_is_named() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen("expect: init-running", "expect: stuck", 1);
        let message = Lab::parse(&text, "bad.yaml")
            .expect_err("bad outcome")
            .to_string();
        assert!(
            message.contains("stuck") && message.contains("init-running"),
            "{message}"
        );
        let text = assets::NATIVE_SIDECAR_LAB.replacen("variant: init", "variant: initial", 1);
        let message = Lab::parse(&text, "bad.yaml")
            .expect_err("bad variant")
            .to_string();
        assert!(message.contains("initial"), "{message}");
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let text = assets::NATIVE_SIDECAR_LAB
            .replacen("kind: Lab", "kind: Labb", 1)
            .replacen("holdSeconds: 10", "holdSeconds: 500", 1)
            .replacen("job-name={{job}}", "job-name={{jobname}}", 1);
        let Err(LabError::Invalid { problems, .. }) = Lab::parse(&text, "bad.yaml") else {
            panic!("expected an invalid lab");
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[2].contains("{{jobname}}"), "{problems:#?}");
    }

    #[test]
    fn an_edit_that_adds_privilege_is_refused_with_the_file_and_field() {
        let text = assets::NATIVE_SIDECAR_LAB.replacen(
            "    edit:\n      containers:\n        postgres:\n",
            "    edit:\n      pod:\n        hostPID: true\n      containers:\n        postgres:\n          securityContext:\n            privileged: true\n",
            1,
        );
        assert_ne!(text, assets::NATIVE_SIDECAR_LAB, "the edit was not made");
        let error = Lab::parse(&text, "labs/evil.yaml").expect_err("refused");
        let message = error.to_string();
        assert!(
            message.starts_with("lab file `labs/evil.yaml` is invalid: "),
            "{message}"
        );
        assert!(
            message.contains("steps[3].edit makes Job `cy-job-cost-init` break Pod Security `baseline` at spec.template.spec.hostPID: host namespaces are not allowed"),
            "{message}"
        );
        assert!(
            message.contains("spec.template.spec.initContainers[0].securityContext.privileged: privileged containers are not allowed"),
            "{message}"
        );
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        for text in [
            "",
            "[",
            "steps: {",
            "apiVersion: 1\n  bad indent: [",
            "\u{0}",
            "- - -",
        ] {
            assert!(Lab::parse(text, "x").is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn commands_get_the_job_and_namespace() {
        let lab = Lab::embedded().expect("valid");
        let commands = lab.steps[0].commands("cy-job-init", "team-a");
        assert_eq!(
            commands[0],
            "kubectl get pods -n team-a -l batch.kubernetes.io/job-name=cy-job-init"
        );
        assert!(commands.iter().all(|c| !c.contains("{{")));
    }
}

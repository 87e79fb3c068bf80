//! The exercises and the wrong answers the lab recognises (`labs/exercises.yaml`), as
//! data: what each exercise starts from and asks for, and each mistake's signs, hint and
//! what it does per Kubernetes version. Decoded strictly and checked as a whole.

use serde::Deserialize;

use super::signs::Sign;
use crate::lab::{ExerciseNumber, Outcome, StepNumber};
use crate::version::MinorVersion;

/// The `kind` of the exercises file.
pub const KIND: &str = "Exercises";

/// All exercises, and the mistakes in the order they are tried.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Catalogue {
    pub api_version: String,
    pub kind: String,
    pub exercises: Vec<Exercise>,
    pub mistakes: Vec<Mistake>,
}

/// What an answer must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    /// A sidecar serves postgres to `main`, `main` does its work and exits 0, and the Job
    /// completes.
    ServePostgres,
    /// As `ServePostgres`, and a second sidecar stops after postgres.
    StopAfterPostgres,
}

/// One exercise.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Exercise {
    pub number: ExerciseNumber,
    pub title: String,
    /// The lab step whose Job the exercise starts from.
    pub start: StepNumber,
    pub goal: Goal,
    /// The oldest Kubernetes minor the exercise can be done on.
    #[serde(default)]
    pub min_kubernetes: Option<MinorVersion>,
    pub task: String,
    /// YAML for the learner to add, `{{image}}` standing for the starting Job's image.
    #[serde(default)]
    pub snippet: Option<String>,
    pub hold_seconds: u64,
    pub timeout_seconds: u64,
}

/// One wrong answer the lab recognises.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mistake {
    pub id: String,
    pub title: String,
    /// The exercises it applies to; every one when empty.
    #[serde(default)]
    pub exercises: Vec<ExerciseNumber>,
    pub when: When,
    pub hint: String,
    pub on_version: Vec<VersionNote>,
}

/// The signs of a mistake: every one given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct When {
    /// The strict decoder refused a field of this name.
    #[serde(default)]
    pub decode: Option<String>,
    /// The API server's refusal contains this text.
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub manifest: Vec<Sign>,
    /// Finding codes of the verdict engine.
    #[serde(default)]
    pub finding: Vec<String>,
    #[serde(default)]
    pub outcome: Vec<Outcome>,
}

impl When {
    fn is_empty(&self) -> bool {
        self.decode.is_none()
            && self.refusal.is_none()
            && self.manifest.is_empty()
            && self.finding.is_empty()
            && self.outcome.is_empty()
    }
}

/// What a mistake does on clusters up to `through` (the rest, without it).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VersionNote {
    #[serde(default)]
    pub through: Option<MinorVersion>,
    pub said: String,
}

impl Mistake {
    /// Whether it applies to exercise `number`.
    pub fn applies_to(&self, number: ExerciseNumber) -> bool {
        self.exercises.is_empty() || self.exercises.contains(&number)
    }

    /// What it does on `minor` (the last note when the minor is unknown).
    pub fn on(&self, minor: Option<MinorVersion>) -> Option<&str> {
        let note = match minor {
            Some(minor) => self
                .on_version
                .iter()
                .find(|n| n.through.is_none_or(|through| minor <= through)),
            None => self.on_version.last(),
        };
        note.map(|n| n.said.as_str())
    }
}

impl Catalogue {
    /// The catalogue built in (`labs/exercises.yaml`).
    pub fn embedded() -> anyhow::Result<Self> {
        Self::parse(crate::assets::EXERCISES)
    }

    /// Decodes and checks a catalogue.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let catalogue: Self = crate::yaml::from_str(text)
            .map_err(|e| anyhow::anyhow!("the exercises file does not decode: {e}"))?;
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Exercise `number`.
    pub fn exercise(&self, number: ExerciseNumber) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.number == number)
    }

    /// Each exercise's number and title, in order.
    pub fn titles(&self) -> Vec<(ExerciseNumber, String)> {
        self.exercises
            .iter()
            .map(|e| (e.number, e.title.clone()))
            .collect()
    }

    /// The mistake with `id`.
    pub fn mistake(&self, id: &str) -> Option<&Mistake> {
        self.mistakes.iter().find(|m| m.id == id)
    }

    /// What the file must hold beyond its shape: numbers 1, 2, 3 … in order, unique
    /// mistake ids, known exercises and finding codes, a sign in every `when`, and
    /// version notes in order with the last one open.
    fn check(&self) -> anyhow::Result<()> {
        use anyhow::bail;
        if self.api_version != crate::lab::API_VERSION || self.kind != KIND {
            bail!(
                "the exercises file must say `apiVersion: {}` and `kind: {KIND}`",
                crate::lab::API_VERSION
            );
        }
        for (index, exercise) in self.exercises.iter().enumerate() {
            if usize::try_from(exercise.number.0).ok() != Some(index + 1) {
                bail!(
                    "exercise {} is number {} in the file: number them 1, 2, 3 … in order",
                    exercise.number,
                    index + 1
                );
            }
        }
        for (index, mistake) in self.mistakes.iter().enumerate() {
            let id = &mistake.id;
            if self.mistakes[..index].iter().any(|m| &m.id == id) {
                bail!("mistake `{id}` is in the exercises file twice");
            }
            if mistake.when.is_empty() {
                bail!("mistake `{id}` has an empty `when`: it would match every answer");
            }
            if let Some(n) = mistake
                .exercises
                .iter()
                .find(|n| self.exercise(**n).is_none())
            {
                bail!("mistake `{id}` names exercise {n}, which does not exist");
            }
            if let Some(code) = mistake
                .when
                .finding
                .iter()
                .find(|c| !crate::verdict::finding::code::ALL.contains(&c.as_str()))
            {
                bail!(
                    "mistake `{id}` names finding `{code}`, which the verdict engine never makes"
                );
            }
            let notes = &mistake.on_version;
            let ordered = notes.windows(2).all(|w| {
                matches!((w[0].through, w[1].through), (Some(a), Some(b)) if a < b)
                    || matches!((w[0].through, w[1].through), (Some(_), None))
            });
            if notes.last().is_none_or(|n| n.through.is_some()) || !ordered {
                bail!(
                    "mistake `{id}`: `onVersion` must go from old to new and end with a note without `through`"
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_has_three_exercises_and_a_dozen_mistakes() {
        let catalogue = Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalogue.exercises.len(), 3);
        assert!(
            catalogue.mistakes.len() >= 12,
            "{}",
            catalogue.mistakes.len()
        );
        let mistake = catalogue
            .mistake("restart-policy-on-regular-container")
            .expect("mistake");
        let minor = |m: &str| m.parse::<MinorVersion>().ok();
        assert!(
            mistake
                .on(minor("1.33"))
                .is_some_and(|s| s.contains("refuses"))
        );
        assert!(
            mistake
                .on(minor("1.34"))
                .is_some_and(|s| s.contains("drops"))
        );
        assert!(
            mistake
                .on(minor("1.37"))
                .is_some_and(|s| s.contains("keeps"))
        );
    }

    #[test]
    fn a_mistake_that_would_match_everything_is_refused() {
        let text = crate::assets::EXERCISES.replace("      decode: restartPolicy\n", "");
        let error = Catalogue::parse(&text).expect_err("refused").to_string();
        assert!(error.contains("empty `when`"), "{error}");
    }

    #[test]
    fn an_unknown_finding_or_field_is_named() {
        let text = crate::assets::EXERCISES.replace("[deadline-exceeded]", "[deadline-exeeded]");
        let error = Catalogue::parse(&text).expect_err("refused").to_string();
        assert!(error.contains("deadline-exeeded"), "{error}");
        let text =
            crate::assets::EXERCISES.replace("    holdSeconds: 10\n", "    holdSecond: 10\n");
        let error = Catalogue::parse(&text).expect_err("refused").to_string();
        assert!(error.contains("holdSecond"), "{error}");
    }
}

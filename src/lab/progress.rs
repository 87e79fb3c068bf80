//! The words for a learner's exercises (`sidecar-lab exercise N`, `sidecar-lab submit N`):
//! an exercise's number, the record of its attempts, and where that record lives on the
//! cluster, so the state file, `status`, `report`, `class status` and the board all read
//! one shape.

use serde::{Deserialize, Serialize};

/// The label on an exercise's Job and its pods: which exercise it answers. Never the
/// step label, so an answer never collides with the lab's own Jobs.
pub const EXERCISE_LABEL: &str = "sidecar-lab/exercise";

/// The ConfigMap in the learner's namespace holding their progress (one key per
/// exercise, `exercise-N`, its value an `ExerciseRecord` as JSON): `class status` and the
/// board read it, and the learner Role may write this one ConfigMap and no other.
pub const PROGRESS_CONFIGMAP: &str = "sidecar-lab-exercises";

/// An exercise's number, counting from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExerciseNumber(pub u32);

impl ExerciseNumber {
    /// The key of this exercise in the progress ConfigMap (`exercise-2`).
    pub fn key(self) -> String {
        format!("exercise-{}", self.0)
    }

    /// The name of the Job an answer to this exercise runs as (`exercise-2`): whatever
    /// name the learner's manifest gives, so attempts replace one another and never a step.
    pub fn job_name(self) -> String {
        self.key()
    }
}

impl std::fmt::Display for ExerciseNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for ExerciseNumber {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Self(n)),
            _ => Err(format!("`{text}` is not an exercise number (1, 2, 3, …)")),
        }
    }
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptResult {
    /// The Job did what the exercise asks.
    Solved,
    /// The manifest could not be read as a Job (strict decoding named the field).
    NotDecoded,
    /// The API server refused it (the server-side dry run).
    Refused,
    /// It ran, and did not do what the exercise asks.
    Wrong,
    /// It was still undecided when the exercise's timeout passed.
    TimedOut,
    /// The learner pressed Ctrl-C.
    Interrupted,
}

impl AttemptResult {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Solved => "solved",
            Self::NotDecoded => "not-decoded",
            Self::Refused => "refused",
            Self::Wrong => "wrong",
            Self::TimedOut => "timed-out",
            Self::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for AttemptResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One exercise's progress: how many answers were submitted, whether one solved it, and
/// what the last one got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExerciseRecord {
    pub attempts: u32,
    /// True once any attempt solved it (a later wrong attempt does not undo that).
    pub solved: bool,
    /// How the last attempt ended.
    pub last: AttemptResult,
    /// The catalogue id of the mistake the last attempt was recognised as, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// When the last attempt ended, RFC 3339.
    pub at: String,
}

impl ExerciseRecord {
    /// The record after one more attempt ending `last` (with `hint`) at `at`.
    pub fn after(
        previous: Option<&Self>,
        last: AttemptResult,
        hint: Option<String>,
        at: String,
    ) -> Self {
        Self {
            attempts: previous.map_or(0, |p| p.attempts) + 1,
            solved: previous.is_some_and(|p| p.solved) || last == AttemptResult::Solved,
            last,
            hint,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_counts_and_solved_stays_solved() {
        let first = ExerciseRecord::after(
            None,
            AttemptResult::Refused,
            Some("pod-restart-policy".into()),
            "t1".into(),
        );
        assert_eq!((first.attempts, first.solved), (1, false));
        let second = ExerciseRecord::after(Some(&first), AttemptResult::Solved, None, "t2".into());
        assert_eq!((second.attempts, second.solved), (2, true));
        let third = ExerciseRecord::after(
            Some(&second),
            AttemptResult::Wrong,
            Some("no-postgres".into()),
            "t3".into(),
        );
        assert_eq!(
            (third.attempts, third.solved, third.last),
            (3, true, AttemptResult::Wrong)
        );
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let record = ExerciseRecord::after(
            None,
            AttemptResult::Wrong,
            Some("no-postgres".into()),
            "2026-12-07T10:00:00Z".into(),
        );
        let json = serde_json::to_string(&record).expect("JSON");
        assert_eq!(
            json,
            r#"{"attempts":1,"solved":false,"last":"wrong","hint":"no-postgres","at":"2026-12-07T10:00:00Z"}"#
        );
        assert_eq!(
            serde_json::from_str::<ExerciseRecord>(&json).expect("read"),
            record
        );
        assert!("0".parse::<ExerciseNumber>().is_err());
        assert_eq!(
            "2".parse::<ExerciseNumber>().map(ExerciseNumber::job_name),
            Ok("exercise-2".to_owned())
        );
    }
}

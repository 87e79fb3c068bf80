//! A learner's exercises as results show them: one entry per exercise of the catalogue
//! (attempted or not), from the records `submit` keeps in the state file or in the
//! progress ConfigMap. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lab::{AttemptResult, ExerciseNumber, ExerciseRecord};

/// One exercise's progress in a suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExerciseResult {
    pub number: ExerciseNumber,
    pub title: String,
    pub attempts: u32,
    pub solved: bool,
    /// How the last attempt ended; `null` when none was made.
    pub last: Option<AttemptResult>,
    /// The catalogue id of the mistake the last attempt was recognised as.
    pub hint: Option<String>,
}

impl ExerciseResult {
    /// Tried and not solved (yet).
    pub(crate) fn failing(&self) -> bool {
        self.attempts > 0 && !self.solved
    }
}

/// Every exercise of `known` (the catalogue's numbers and titles, handed in: results sit
/// below the exercise engine) in order, with its record when there is one; a record of
/// an exercise the catalogue does not have (written by another version) comes after,
/// titled by its number, so no attempt is lost from a report.
pub(crate) fn exercise_results(
    records: &BTreeMap<ExerciseNumber, ExerciseRecord>,
    known: &[(ExerciseNumber, String)],
) -> Vec<ExerciseResult> {
    let result = |number: ExerciseNumber, title: String| {
        let record = records.get(&number);
        ExerciseResult {
            number,
            title,
            attempts: record.map_or(0, |r| r.attempts),
            solved: record.is_some_and(|r| r.solved),
            last: record.map(|r| r.last),
            hint: record.and_then(|r| r.hint.clone()),
        }
    };
    let mut out: Vec<ExerciseResult> = known
        .iter()
        .map(|(number, title)| result(*number, title.clone()))
        .collect();
    out.extend(
        records
            .keys()
            .filter(|n| !known.iter().any(|(k, _)| k == *n))
            .map(|n| result(*n, format!("exercise {n}"))),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exercise_is_listed_and_an_unknown_record_is_kept() {
        let known: Vec<(ExerciseNumber, String)> = (1..=3)
            .map(|n| (ExerciseNumber(n), format!("title {n}")))
            .collect();
        let mut records = BTreeMap::new();
        records.insert(
            ExerciseNumber(2),
            ExerciseRecord::after(
                None,
                AttemptResult::Wrong,
                Some("no-postgres".into()),
                "t".into(),
            ),
        );
        records.insert(
            ExerciseNumber(9),
            ExerciseRecord::after(None, AttemptResult::Solved, None, "t".into()),
        );
        let results = exercise_results(&records, &known);
        let shape: Vec<(u32, u32, bool, bool)> = results
            .iter()
            .map(|r| (r.number.0, r.attempts, r.solved, r.failing()))
            .collect();
        assert_eq!(
            shape,
            [
                (1, 0, false, false),
                (2, 1, false, true),
                (3, 0, false, false),
                (9, 1, true, false)
            ]
        );
        assert_eq!(results[0].title, "title 1");
        assert_eq!(results[0].last, None);
        assert_eq!(results[1].hint.as_deref(), Some("no-postgres"));
        assert_eq!(results[3].title, "exercise 9");
    }
}

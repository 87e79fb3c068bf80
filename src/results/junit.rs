//! Results as JUnit XML, in the subset that GitHub's reporters, GitLab and Jenkins all
//! read (wave2-facts §2.1): `testsuites` → one `testsuite` per learner → one `testcase`
//! per step, with `name`, `classname` and `time` always set. A passing case has no child;
//! `failure` carries an unexpected verdict's finding and explanation, `error` a step that
//! could not be decided, `skipped` one not started or still running. Then one `testcase`
//! per exercise (`exercise N: TITLE`): passing once solved, a `failure` (the last
//! result and hint) when tried and not solved, `skipped` when never tried.
//!
//! GitLab keys cases by classname and name and shows no suite names, so the learner is
//! part of the classname (`sidecarlab.learner-01`): thirty learners' step 1 stay thirty
//! cases. Jenkins reads the part before the last `.` as the package (`sidecarlab`).

use std::fmt::Write;

use super::{ExerciseResult, Results, StepResult, StepState, Suite};

/// The JUnit document for `results`.
pub(crate) fn to_junit(results: &Results) -> String {
    let totals = results.totals();
    let counts = |suites: &[Suite]| {
        let cases = suites.iter().flat_map(|s| &s.steps);
        let mut c = Counts::default();
        for step in cases {
            c.add(step);
        }
        for exercise in suites.iter().flat_map(|s| &s.exercises) {
            c.add_exercise(exercise);
        }
        c
    };
    let all = counts(&results.suites);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"sidecar-lab\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        totals.steps + totals.exercises,
        all.failures,
        all.errors,
        all.skipped,
        all.seconds,
        attr(&results.generated_at)
    );
    for suite in &results.suites {
        let c = counts(std::slice::from_ref(suite));
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
            attr(&suite.name),
            suite.steps.len() + suite.exercises.len(),
            c.failures,
            c.errors,
            c.skipped,
            c.seconds,
            attr(&results.generated_at)
        );
        let mut properties: Vec<(String, String)> = suite
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(namespace) = &suite.namespace {
            properties.insert(0, ("namespace".to_owned(), namespace.clone()));
        }
        if !properties.is_empty() {
            xml.push_str("    <properties>\n");
            for (name, value) in properties {
                let _ = writeln!(
                    xml,
                    "      <property name=\"{}\" value=\"{}\"/>",
                    attr(&name),
                    attr(&value)
                );
            }
            xml.push_str("    </properties>\n");
        }
        for step in &suite.steps {
            testcase(&mut xml, suite, step);
        }
        for exercise in &suite.exercises {
            exercise_case(&mut xml, suite, exercise);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[derive(Default)]
struct Counts {
    failures: usize,
    errors: usize,
    skipped: usize,
    seconds: u64,
}

impl Counts {
    /// Adds one case. Saturating: `seconds` comes from results files a learner's VM wrote
    /// (`report --merge`), and a huge value must not wrap or abort the report.
    fn add(&mut self, step: &StepResult) {
        self.seconds = self.seconds.saturating_add(step.seconds);
        let count = match step.state {
            StepState::Expected => return,
            StepState::Unexpected => &mut self.failures,
            StepState::Undecided | StepState::TimedOut => &mut self.errors,
            StepState::Running
            | StepState::Interrupted
            | StepState::NotStarted
            | StepState::Skipped => &mut self.skipped,
        };
        *count = count.saturating_add(1);
    }

    /// Adds one exercise's case (no time of its own: attempts are not timed here).
    fn add_exercise(&mut self, exercise: &ExerciseResult) {
        if exercise.failing() {
            self.failures = self.failures.saturating_add(1);
        } else if exercise.attempts == 0 {
            self.skipped = self.skipped.saturating_add(1);
        }
    }
}

/// One exercise: passing once solved, a failure naming the last result and hint when
/// tried and not solved, skipped when never tried.
fn exercise_case(xml: &mut String, suite: &Suite, exercise: &ExerciseResult) {
    let name = format!("exercise {}: {}", exercise.number, exercise.title);
    let classname = format!("sidecarlab.{}", suite.name.replace('.', "-"));
    let open = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
        attr(&name),
        attr(&classname)
    );
    if exercise.solved {
        let _ = writeln!(xml, "{open}/>");
    } else if exercise.attempts == 0 {
        let _ = writeln!(
            xml,
            "{open}>\n      <skipped message=\"not tried yet: sidecar-lab exercise {}\"/>\n    </testcase>",
            exercise.number
        );
    } else {
        let last = exercise.last.map_or("unknown", |l| l.name());
        let message = match &exercise.hint {
            Some(hint) => format!("last attempt {last}, hint `{hint}`"),
            None => format!("last attempt {last}"),
        };
        let _ = writeln!(
            xml,
            "{open}>\n      <failure type=\"{}\" message=\"{}\">{} attempt(s), not solved; {}</failure>\n    </testcase>",
            attr(last),
            attr(&message),
            exercise.attempts,
            text(&message)
        );
    }
}

fn testcase(xml: &mut String, suite: &Suite, step: &StepResult) {
    let name = format!("step {} ({}): {}", step.step, step.variant, step.title);
    let classname = format!("sidecarlab.{}", suite.name.replace('.', "-"));
    let open = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
        attr(&name),
        attr(&classname),
        step.seconds
    );
    let message = step.message.clone().unwrap_or_default();
    let outcome = step
        .outcome
        .map(|o| format!("ended `{o}`, the step teaches `{}`", step.expect))
        .unwrap_or_default();
    let summary = if message.is_empty() {
        outcome.clone()
    } else {
        message.clone()
    };
    match step.state {
        StepState::Expected => {
            let _ = writeln!(xml, "{open}/>");
        }
        StepState::Unexpected => {
            let kind = step.finding.as_deref().unwrap_or("unexpected-outcome");
            let _ = writeln!(
                xml,
                "{open}>\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                attr(kind),
                attr(&first_line(&summary)),
                text([outcome, message].join("\n").trim())
            );
        }
        StepState::Undecided | StepState::TimedOut => {
            let kind = step.finding.as_deref().unwrap_or(step.state.name());
            let _ = writeln!(
                xml,
                "{open}>\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>",
                attr(kind),
                attr(&first_line(if summary.is_empty() {
                    step.state.name()
                } else {
                    &summary
                })),
                text(&summary)
            );
        }
        StepState::Running
        | StepState::Interrupted
        | StepState::NotStarted
        | StepState::Skipped => {
            let why = if summary.is_empty() {
                step.state.name().to_owned()
            } else {
                format!("{}: {summary}", step.state.name())
            };
            let _ = writeln!(
                xml,
                "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(&first_line(&why))
            );
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

/// Text that XML 1.0 can carry: characters it forbids (control characters other than
/// tab, newline and carriage return) are dropped, the five specials escaped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: as `text`, with line breaks kept as character references (a
/// parser would turn a literal newline in an attribute into a space).
fn attr(value: &str) -> String {
    text(value)
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lab::Outcome;
    use crate::lab::StepNumber;
    use crate::variant::Variant;

    #[test]
    fn escapes_what_xml_cannot_carry_and_counts_each_kind() {
        let step = |n, state, message: Option<&str>| StepResult {
            step: StepNumber(n),
            title: "a <b> & \"c\"".to_owned(),
            variant: Variant::Init,
            optional: false,
            state,
            expect: Outcome::InitRunning,
            outcome: Some(Outcome::Succeeded),
            seconds: 5,
            since: None,
            finding: Some("gate-off".to_owned()),
            message: message.map(str::to_owned),
        };
        let results = Results::new(
            "2026-11-26T10:00:00Z".to_owned(),
            "test".to_owned(),
            vec![Suite {
                name: "learner-01".to_owned(),
                namespace: Some("learner-01".to_owned()),
                properties: BTreeMap::default(),
                steps: vec![
                    step(1, StepState::Expected, None),
                    step(2, StepState::Unexpected, Some("bad\u{1}\nsecond line")),
                    step(3, StepState::NotStarted, None),
                ],
                exercises: Vec::new(),
            }],
        );
        let xml = to_junit(&results);
        assert!(xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
        assert!(xml.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
        assert!(!xml.contains('\u{1}'));
        assert!(xml.contains("message=\"badsecond line\"") || xml.contains("message=\"bad\""));
        assert!(xml.contains("classname=\"sidecarlab.learner-01\""));
    }

    /// One case per exercise after the steps: solved passes, tried and not solved is a
    /// failure naming the last result and hint, never tried is skipped; the counts add
    /// them.
    #[test]
    fn each_exercise_is_a_case() {
        use crate::lab::{AttemptResult, ExerciseNumber};
        let exercise = |n, attempts, solved, last, hint: Option<&str>| ExerciseResult {
            number: ExerciseNumber(n),
            title: format!("title & {n}"),
            attempts,
            solved,
            last,
            hint: hint.map(str::to_owned),
        };
        let results = Results::new(
            "2026-12-07T10:00:00Z".to_owned(),
            "test".to_owned(),
            vec![Suite {
                name: "learner-01".to_owned(),
                namespace: None,
                properties: BTreeMap::default(),
                steps: Vec::new(),
                exercises: vec![
                    exercise(1, 2, true, Some(AttemptResult::Solved), None),
                    exercise(
                        2,
                        3,
                        false,
                        Some(AttemptResult::Wrong),
                        Some("postgres-plain-init"),
                    ),
                    exercise(3, 0, false, None, None),
                ],
            }],
        );
        insta::assert_snapshot!(to_junit(&results));
    }

    #[test]
    fn time_sums_saturate_instead_of_wrapping() {
        let step = |n, seconds| StepResult {
            step: StepNumber(n),
            title: "t".to_owned(),
            variant: Variant::Init,
            optional: false,
            state: StepState::Expected,
            expect: Outcome::InitRunning,
            outcome: None,
            seconds,
            since: None,
            finding: None,
            message: None,
        };
        let results = Results::new(
            "2026-11-26T10:00:00Z".to_owned(),
            "test".to_owned(),
            vec![Suite {
                name: "learner-01".to_owned(),
                namespace: None,
                properties: BTreeMap::default(),
                steps: vec![step(1, u64::MAX), step(2, 7)],
                exercises: Vec::new(),
            }],
        );
        let xml = to_junit(&results);
        assert!(
            xml.contains(&format!("skipped=\"0\" time=\"{}\"", u64::MAX)),
            "{xml}"
        );
    }
}

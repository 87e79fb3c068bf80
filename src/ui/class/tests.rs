//! The views of `class up`, `class down` and the board, against snapshots.

use std::collections::BTreeMap;

use super::*;
use crate::class::ClassPrefix;
use crate::class::objects::{QuotaLimits, Template};
use crate::class::plan::{Observed, Wanted, plan_up};
use crate::lab::StepNumber;
use crate::results::{Results, StepState};
use crate::results::{StepResult, Suite};
use crate::ui::Palette;
use crate::variant::Variant;
use crate::verdict::Outcome;
use k8s_openapi::jiff::Timestamp;

fn step(n: u32, variant: Variant, state: StepState, since: Option<&str>) -> StepResult {
    StepResult {
        step: StepNumber(n),
        title: format!("step {n}"),
        variant,
        optional: false,
        state,
        expect: Outcome::Succeeded,
        outcome: None,
        seconds: 12,
        since: since.map(str::to_owned),
        finding: (state == StepState::Unexpected).then(|| "gate-off".to_owned()),
        message: (state == StepState::Unexpected)
            .then(|| "no init container has `restartPolicy: Always`".to_owned()),
    }
}

#[test]
fn the_board_aligns_learners_and_steps_and_lists_what_needs_a_look() {
    let results = Results::new(
        "2026-11-26T10:00:00Z".to_owned(),
        "test".to_owned(),
        vec![
            Suite {
                name: "learner-01".to_owned(),
                namespace: None,
                properties: BTreeMap::new(),
                steps: vec![
                    step(
                        1,
                        Variant::Init,
                        StepState::Expected,
                        Some("2026-11-26T09:55:00Z"),
                    ),
                    step(
                        2,
                        Variant::Sidecar,
                        StepState::Running,
                        Some("2026-11-26T09:59:50Z"),
                    ),
                    step(3, Variant::Native, StepState::NotStarted, None),
                ],
                exercises: Vec::new(),
            },
            Suite {
                name: "learner-02".to_owned(),
                namespace: None,
                properties: BTreeMap::new(),
                steps: vec![
                    step(
                        1,
                        Variant::Init,
                        StepState::Expected,
                        Some("2026-11-26T07:00:00Z"),
                    ),
                    step(
                        2,
                        Variant::Sidecar,
                        StepState::Expected,
                        Some("2026-11-26T09:00:00Z"),
                    ),
                    step(
                        3,
                        Variant::Native,
                        StepState::Unexpected,
                        Some("2026-11-26T09:58:00Z"),
                    ),
                ],
                exercises: Vec::new(),
            },
        ],
    );
    let plain = format!(
        "{}\n\n{}",
        summary(&results),
        board(&results, false, &Palette::new(false))
    );
    insta::assert_snapshot!("board_plain", plain);
    insta::assert_snapshot!("board_fancy", board(&results, true, &Palette::new(false)));
}

/// A learner's image name that clears the screen and retitles the window, in a
/// learner name and a message: shown as text, never obeyed.
#[test]
fn needs_a_look_shows_terminal_escapes_as_text() {
    let mut hostile = step(3, Variant::Native, StepState::Unexpected, None);
    hostile.message = Some(
        "container `main` uses image `postgres\u{1b}[2J\u{1b}]0;pwned\u{7}:17`\u{9b}1;1H, not the lab's\nsecond line"
            .to_owned(),
    );
    hostile.finding = Some("image\u{1b}[8m".to_owned());
    let results = Results::new(
        "2026-11-26T10:00:00Z".to_owned(),
        "test".to_owned(),
        vec![Suite {
            name: "learner-03\u{1b}]2;title\u{1b}\\".to_owned(),
            namespace: None,
            properties: BTreeMap::new(),
            steps: vec![hostile],
            exercises: Vec::new(),
        }],
    );
    let shown = board(&results, false, &Palette::new(false));
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{9b}'),
        "{shown}"
    );
    insta::assert_snapshot!("board_hostile_names", shown);
    let lines = cell_lines(&results);
    assert!(
        lines
            .iter()
            .all(|(k, v)| !k.contains('\u{1b}') && !v.contains('\u{1b}')),
        "{lines:?}"
    );
}

#[test]
fn the_up_plan_of_a_new_class() {
    use crate::class::confinement::Confinement;
    use crate::version::MinorVersion;
    let prefix = ClassPrefix::default();
    let quota = QuotaLimits {
        cpu: Some("2".parse().expect("q")),
        ..QuotaLimits::default()
    };
    let template = Template::embedded().expect("template");
    let rules = Confinement::decide(&template, &prefix, Some(MinorVersion::new(1, 34)), &quota);
    let desired = rules.objects(&template, &prefix, 30, &quota);
    let wanted = Wanted {
        prefix: &prefix,
        learners: 30,
        desired: &desired,
        server: "https://10.0.0.5:6443",
        now: Timestamp::UNIX_EPOCH,
        duration_seconds: 8 * 3600,
    };
    let plan = plan_up(&wanted, &Observed::default(), &BTreeMap::new()).expect("plans");
    let text = up_plan(
        &plan,
        "Class `learner` on context `classroom` (https://10.0.0.5:6443): 30 learner(s)",
        "kubeconfigs",
        "8h",
    );
    insta::assert_snapshot!(format!("{text}{}", confinement(&rules)));
    assert_eq!(unenforced(&rules), None);
}

#[test]
fn the_up_plan_as_json() {
    use crate::class::confinement::Confinement;
    use crate::version::MinorVersion;
    let prefix = ClassPrefix::default();
    let template = Template::embedded().expect("template");
    let quota = QuotaLimits::default();
    let rules = Confinement::decide(&template, &prefix, Some(MinorVersion::new(1, 36)), &quota);
    let desired = rules.objects(&template, &prefix, 1, &quota);
    let wanted = Wanted {
        prefix: &prefix,
        learners: 1,
        desired: &desired,
        server: "https://10.0.0.5:6443",
        now: Timestamp::UNIX_EPOCH,
        duration_seconds: 3600,
    };
    let plan = plan_up(&wanted, &Observed::default(), &BTreeMap::new()).expect("plans");
    let summary = UpSummary {
        class: "learner",
        context: "classroom",
        learners: 1,
        outcome: "applied",
        kubeconfigs_written: 1,
    };
    insta::assert_snapshot!(up_json(&summary, &plan, &rules));
}

#[test]
fn an_old_cluster_is_told_what_is_not_enforced() {
    use crate::class::confinement::Confinement;
    use crate::version::MinorVersion;
    let template = Template::embedded().expect("template");
    let rules = Confinement::decide(
        &template,
        &ClassPrefix::default(),
        Some(MinorVersion::new(1, 29)),
        &QuotaLimits::default(),
    );
    insta::assert_snapshot!(format!(
        "{}\nwarning: {}",
        confinement(&rules),
        unenforced(&rules).expect("a warning")
    ));
}

#[test]
fn the_down_plan_lists_the_policy_after_the_namespaces() {
    use crate::class::objects::ObjectKind;
    use crate::class::plan::DownPlan;
    let plan = DownPlan {
        namespaces: vec!["learner-01".to_owned(), "learner-02".to_owned()],
        cluster_wide: vec![
            (
                ObjectKind::ValidatingAdmissionPolicy,
                "sidecar-lab-class-learner".to_owned(),
            ),
            (
                ObjectKind::ValidatingAdmissionPolicyBinding,
                "sidecar-lab-class-learner".to_owned(),
            ),
        ],
        strays: vec![(
            ObjectKind::Role,
            "learner-03".to_owned(),
            "sidecar-lab-learner".to_owned(),
        )],
        kubeconfigs: vec!["learner-01".to_owned()],
    };
    let text = down_plan(&plan, "Class `learner` on context `kind-x`:", "OUT");
    let at = |what: &str| text.find(what).expect(what);
    assert!(at("namespace(s)") < at("ValidatingAdmissionPolicy "));
    insta::assert_snapshot!(text);
}

/// Exercises as columns after the steps: solved with its attempts, tried and not solved,
/// not tried; the summary counts them and "Needs a look" names the one not solved.
#[test]
fn the_board_shows_a_column_per_exercise() {
    use crate::lab::{AttemptResult, ExerciseNumber};
    use crate::results::ExerciseResult;
    let exercise = |n: u32, attempts: u32, solved: bool, hint: Option<&str>| ExerciseResult {
        number: ExerciseNumber(n),
        title: format!("exercise {n}"),
        attempts,
        solved,
        last: (attempts > 0).then_some(if solved {
            AttemptResult::Solved
        } else {
            AttemptResult::Wrong
        }),
        hint: hint.map(str::to_owned),
    };
    let suite = |name: &str, exercises| Suite {
        name: name.to_owned(),
        namespace: None,
        properties: BTreeMap::new(),
        steps: vec![step(
            1,
            Variant::Init,
            StepState::Expected,
            Some("2026-11-26T09:55:00Z"),
        )],
        exercises,
    };
    let results = Results::new(
        "2026-11-26T10:00:00Z".to_owned(),
        "test".to_owned(),
        vec![
            suite(
                "learner-01",
                vec![
                    exercise(1, 3, true, None),
                    exercise(2, 1, false, Some("postgres-plain-init")),
                    exercise(3, 0, false, None),
                ],
            ),
            suite(
                "learner-02",
                vec![
                    exercise(1, 0, false, None),
                    exercise(2, 0, false, None),
                    exercise(3, 0, false, None),
                ],
            ),
        ],
    );
    let fancy = format!(
        "{}\n\n{}",
        summary(&results),
        board(&results, true, &Palette::new(false))
    );
    insta::assert_snapshot!("board_exercises_fancy", fancy);
    insta::assert_snapshot!(
        "board_exercises_plain",
        board(&results, false, &Palette::new(false))
    );
    let lines = cell_lines(&results);
    assert!(lines.contains(&(
        "learner-01 exercise 2".to_owned(),
        "not solved (1 attempt(s), last wrong)".to_owned()
    )));
    assert!(lines.contains(&("learner-02 exercise 3".to_owned(), "not tried".to_owned())));
}

//! What `class up`, `class down`, `class status` and `report` show: the plans, and the
//! board (one row per learner, one column per step) with what went wrong below it.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::class::confinement::Confinement;
use crate::class::objects::ObjectKind;
use crate::class::plan::{DownPlan, UpPlan};
use crate::class::policy;
use crate::results::{Results, StepState};
use crate::ui::Palette;
use crate::ui::clean::clean_line;

/// The plan of `class up`.
pub fn up_plan(plan: &UpPlan, heading: &str, kubeconfig_dir: &str, duration: &str) -> String {
    let mut out = format!("{heading}\n");
    let count = |objects: &mut dyn Iterator<Item = ObjectKind>| {
        let mut counts: BTreeMap<ObjectKind, usize> = BTreeMap::new();
        for kind in objects {
            *counts.entry(kind).or_default() += 1;
        }
        counts
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !plan.create.is_empty() {
        let _ = writeln!(
            out,
            "  create  {}",
            count(&mut plan.create.iter().map(|o| o.kind))
        );
    }
    for (object, fields) in &plan.update {
        let _ = writeln!(
            out,
            "  update  {} ({} differs)",
            clean_line(&object.describe()),
            clean_line(&fields.join(", "))
        );
    }
    if !plan.tokens.is_empty() {
        let mut reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for token in &plan.tokens {
            reasons
                .entry(token.reason.describe())
                .or_default()
                .push(&token.namespace);
        }
        let _ = writeln!(
            out,
            "  token   {} kubeconfig(s) in {kubeconfig_dir}, each token valid for {duration}:",
            plan.tokens.len()
        );
        for (reason, names) in reasons {
            let _ = writeln!(out, "          {} ({reason})", abbreviate(&names));
        }
    }
    if !plan.unchanged.is_empty() {
        let _ = writeln!(
            out,
            "  keep    {} learner(s) already set up",
            plan.unchanged.len()
        );
    }
    if !plan.beyond.is_empty() {
        let names: Vec<&str> = plan.beyond.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  leave   {} (beyond --learners; `class down` removes the whole class)",
            abbreviate(&names)
        );
    }
    if !plan.stray_quotas.is_empty() {
        let names: Vec<&str> = plan.stray_quotas.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  leave   ResourceQuota {} (no --quota-* asked for it; delete it with kubectl if it should go)",
            abbreviate(&names)
        );
    }
    out
}

/// The plan of `class down`, in the order it is carried out.
pub fn down_plan(plan: &DownPlan, heading: &str, kubeconfig_dir: &str) -> String {
    let mut out = format!("{heading}\n");
    for (kind, namespace, name) in &plan.strays {
        let _ = writeln!(
            out,
            "  delete  {kind} {}/{}",
            clean_line(namespace),
            clean_line(name)
        );
    }
    if !plan.namespaces.is_empty() {
        let names: Vec<&str> = plan.namespaces.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  delete  {} namespace(s) and everything in them: {}",
            plan.namespaces.len(),
            abbreviate(&names)
        );
    }
    // In the order `class down` deletes: the policy once the namespaces are gone.
    for (kind, name) in &plan.cluster_wide {
        let _ = writeln!(
            out,
            "  delete  {kind} {name} (cluster-wide, once the namespaces are gone)"
        );
    }
    if !plan.kubeconfigs.is_empty() {
        let _ = writeln!(
            out,
            "  remove  {} kubeconfig file(s) in {kubeconfig_dir}",
            plan.kubeconfigs.len()
        );
    }
    out
}

/// What the class enforces in each learner's namespace, below the plan of `class up`.
pub fn confinement(rules: &Confinement) -> String {
    let join = |map: &BTreeMap<String, String>| {
        map.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from(
        "Each learner's namespace enforces:
",
    );
    let _ = writeln!(
        out,
        "  Pod Security   {} enforced, {} warned and audited (version {}): no privileged pods, host namespaces or hostPath volumes",
        rules.pod_security_enforce, rules.pod_security_warn, rules.pod_security_version
    );
    let _ = writeln!(out, "  quota          {}", join(&rules.quota));
    let _ = writeln!(
        out,
        "  LimitRange     for containers that declare none: requests {}; limits {}",
        join(&rules.default_requests),
        join(&rules.default_limits)
    );
    let _ = writeln!(
        out,
        "  NetworkPolicy  {} (where the network plugin enforces NetworkPolicy; the lab's pods talk only inside themselves)",
        rules.network_policy
    );
    match &rules.admission_policy {
        Some(name) => {
            let _ = writeln!(
                out,
                "  admission      ValidatingAdmissionPolicy {name}: no pod or Job runs as the learner's ServiceAccount or uses a system-critical priority class; a learner creates only the quota `{}`",
                policy::LEARNER_QUOTA
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  admission      none: this cluster has no ValidatingAdmissionPolicy (see the warning)"
            );
        }
    }
    out
}

/// What `class up -o json` reports besides the plan and the rules.
pub struct UpSummary<'a> {
    pub class: &'a str,
    pub context: &'a str,
    pub learners: u32,
    /// `applied`, `dry-run` or `unchanged`.
    pub outcome: &'a str,
    pub kubeconfigs_written: usize,
}

/// `class up -o json`: one document, for scripts.
pub fn up_json(summary: &UpSummary<'_>, plan: &UpPlan, rules: &Confinement) -> String {
    let value = serde_json::json!({
        "class": summary.class,
        "context": summary.context,
        "learners": summary.learners,
        "outcome": summary.outcome,
        "create": plan.create.iter().map(crate::class::objects::ClassObject::describe).collect::<Vec<_>>(),
        "update": plan.update.iter().map(|(o, fields)| serde_json::json!({"object": o.describe(), "fields": fields})).collect::<Vec<_>>(),
        "tokens": plan.tokens.iter().map(|t| serde_json::json!({"namespace": t.namespace, "reason": t.reason.describe()})).collect::<Vec<_>>(),
        "kubeconfigsWritten": summary.kubeconfigs_written,
        "enforces": rules,
        "notEnforced": unenforced(rules),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The warning when the cluster cannot take the class's admission policy.
pub fn unenforced(rules: &Confinement) -> Option<String> {
    if rules.admission_policy.is_some() {
        return None;
    }
    let minor = rules
        .minor
        .map_or_else(|| "this cluster".to_owned(), |m| format!("Kubernetes {m}"));
    Some(format!(
        "{minor} does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (from 1.30): NOT enforced here: that no pod or Job runs as a learner's ServiceAccount (its token has no automount, but a pod may still name it), and that a learner creates no quota but `{}`. Use a cluster of 1.30 or newer for a class",
        policy::LEARNER_QUOTA
    ))
}

/// `a, b, c, … z (26)`: long lists of learner names stay on one line. The names come
/// from the cluster: cleaned.
fn abbreviate(names: &[&str]) -> String {
    clean_line(&abbreviate_raw(names)).into_owned()
}

fn abbreviate_raw(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        _ if names.len() <= 4 => names.join(", "),
        [first, second, .., last] => format!("{first}, {second}, … {last} ({})", names.len()),
        _ => names.join(", "),
    }
}

/// The board: one row per suite, one cell per step (its state and the step's own time),
/// then one line for each step that is not going as the lab teaches.
pub fn board(results: &Results, fancy: bool, palette: &Palette) -> String {
    let steps = results
        .suites
        .iter()
        .map(|s| s.steps.len())
        .max()
        .unwrap_or(0);
    let mut header = vec!["LEARNER".to_owned()];
    if let Some(first) = results.suites.iter().find(|s| s.steps.len() == steps) {
        header.extend(
            first
                .steps
                .iter()
                .map(|s| format!("{} {}", s.step, s.variant).to_uppercase()),
        );
    }
    let rows: Vec<Vec<(String, StepState)>> = results
        .suites
        .iter()
        .map(|suite| {
            suite
                .steps
                .iter()
                .map(|step| {
                    // The step's own time (a finished step's does not grow), as in
                    // the JSON and on the page.
                    let age = match step.state {
                        StepState::NotStarted => String::new(),
                        _ => format!(
                            " {}",
                            duration(i64::try_from(step.seconds).unwrap_or(i64::MAX))
                        ),
                    };
                    (
                        format!("{} {}{age}", symbol(step.state, fancy), step.state.name()),
                        step.state,
                    )
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    // Learner names come from the cluster or a results file: cleaned before they are
    // measured, so the columns still line up.
    let names: Vec<String> = results
        .suites
        .iter()
        .map(|suite| clean_line(&suite.name).into_owned())
        .collect();
    for (name, row) in names.iter().zip(&rows) {
        widths[0] = widths[0].max(name.chars().count());
        for (i, (cell, _)) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i + 1) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let pad = |text: &str, width: usize| {
        format!(
            "{text}{}",
            " ".repeat(width.saturating_sub(text.chars().count()) + 2)
        )
    };
    let mut out = String::new();
    let mut line = String::new();
    for (i, title) in header.iter().enumerate() {
        line.push_str(&pad(title, widths[i]));
    }
    let _ = writeln!(out, "{}", palette.heading.apply_to(line.trim_end()));
    for (name, row) in names.iter().zip(&rows) {
        let mut line = pad(name, widths[0]);
        for (i, (cell, state)) in row.iter().enumerate() {
            let padded = pad(cell, widths.get(i + 1).copied().unwrap_or(0));
            let styled = match state {
                StepState::Expected => palette.added.apply_to(padded),
                StepState::Unexpected => palette.error.apply_to(padded),
                StepState::Running => palette.init.apply_to(padded),
                StepState::Undecided | StepState::TimedOut => palette.warning.apply_to(padded),
                StepState::Interrupted | StepState::NotStarted | StepState::Skipped => {
                    palette.dim.apply_to(padded)
                }
            };
            line.push_str(&styled.to_string());
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let problems: Vec<String> = results
        .suites
        .iter()
        .flat_map(|suite| {
            suite.steps.iter().filter_map(move |step| {
                let shown = matches!(
                    step.state,
                    StepState::Unexpected | StepState::Undecided | StepState::TimedOut
                );
                // Every part but the step number came from the cluster or a file.
                shown.then(|| {
                    format!(
                        "  {} step {}: {}{}",
                        clean_line(&suite.name),
                        step.step,
                        step.finding
                            .as_deref()
                            .map(|f| format!("[{}] ", clean_line(f)))
                            .unwrap_or_default(),
                        clean_line(
                            step.message
                                .as_deref()
                                .and_then(|m| m.lines().next())
                                .unwrap_or(step.state.name())
                        )
                    )
                })
            })
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n{}", palette.heading.apply_to("Needs a look:"));
        for problem in problems {
            let _ = writeln!(out, "{problem}");
        }
    }
    out
}

/// One line per learner and step, for the line-per-change mode of `--watch`.
pub fn cell_lines(results: &Results) -> Vec<(String, String)> {
    results
        .suites
        .iter()
        .flat_map(|suite| {
            suite.steps.iter().map(move |step| {
                let key = format!(
                    "{} step {} ({})",
                    clean_line(&suite.name),
                    step.step,
                    step.variant
                );
                let mut value = step.state.name().to_owned();
                if let Some(outcome) = step.outcome {
                    let _ = write!(value, " ({outcome})");
                }
                if let Some(finding) = &step.finding {
                    let _ = write!(value, " [{}]", clean_line(finding));
                }
                (key, value)
            })
        })
        .collect()
}

/// The summary line above the board.
pub fn summary(results: &Results) -> String {
    let totals = results.totals();
    format!(
        "{} learner(s), {} done · steps: {} expected, {} unexpected, {} running, {} undecided, {} not started",
        totals.suites,
        totals.done,
        totals.expected,
        totals.unexpected,
        totals.running,
        totals.undecided,
        totals.not_started
    )
}

fn symbol(state: StepState, fancy: bool) -> &'static str {
    match (state, fancy) {
        (StepState::Expected, true) => "✓",
        (StepState::Unexpected, true) => "✗",
        (StepState::Running, true) => "…",
        (StepState::Undecided | StepState::TimedOut, true) => "?",
        (StepState::Interrupted | StepState::NotStarted | StepState::Skipped, true) => "·",
        (StepState::Expected, false) => "+",
        (StepState::Unexpected, false) => "x",
        (StepState::Running, false) => ">",
        (StepState::Undecided | StepState::TimedOut, false) => "?",
        (StepState::Interrupted | StepState::NotStarted | StepState::Skipped, false) => "-",
    }
}

/// `45s`, `3m`, `2h`: a duration, coarse.
fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..120 => format!("{seconds}s"),
        120..3600 => format!("{}m", seconds / 60),
        _ => format!("{}h", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::class::ClassPrefix;
    use crate::class::objects::{QuotaLimits, Template};
    use crate::class::plan::{Observed, Wanted, plan_up};
    use crate::lab::StepNumber;
    use crate::results::{StepResult, Suite};
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
}

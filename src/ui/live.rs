//! The live view of a running step on a terminal: the timeline as it grows, each
//! container's state now, and the hold window counting down — redrawn in place from the
//! same judgements the verdict comes from. Every line is cut to the terminal's width,
//! never wrapped (a wrapped line would break the redraw). A step group shows each Job's
//! outcome on its line instead. Pure: the watch's state in, text out.

use crate::lab::StepNumber;
use crate::session::decide::{Ending, Watch};
use crate::ui::Palette;
use crate::ui::text::clean_line;
use crate::ui::timeline;
use crate::verdict::Judgement;
use crate::verdict::timeline::Row;

/// The frame under the step's spinner line.
pub(crate) fn frame(
    judgement: &Judgement,
    hold_left: Option<u64>,
    width: usize,
    palette: &Palette,
) -> String {
    let mut lines: Vec<String> = Vec::new();
    lines.push(format!(
        "  {}: {}",
        judgement.outcome,
        clean_line(&judgement.outcome_message)
    ));
    if judgement.timeline.rows.iter().any(|r| !r.runs.is_empty()) {
        lines.extend(
            timeline::draw(&judgement.timeline, true, palette)
                .lines()
                .map(str::to_owned),
        );
    }
    let name_width = judgement
        .timeline
        .rows
        .iter()
        .map(|r| clean_line(&r.container).chars().count())
        .max()
        .unwrap_or(0);
    for row in &judgement.timeline.rows {
        // Names and reasons come from the cluster.
        lines.push(format!(
            "  {:name_width$}  {}",
            clean_line(&row.container),
            clean_line(&now(row))
        ));
    }
    if let Some(left) = hold_left {
        lines.push(format!("  holding `{}`: {left} s left", judgement.outcome));
    }
    lines
        .iter()
        .map(|line| console::truncate_str(line, width.max(10), "…").into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The phase's label: the step and its variant, or how many Jobs it watches.
pub(crate) fn label(number: StepNumber, watch: &Watch) -> String {
    match watch.jobs() {
        [one] if !watch.grouped() => format!("step {number} ({})", one.variant),
        jobs => format!("step {number} ({} Jobs)", jobs.len()),
    }
}

/// What the phase's line says after a judgement: a plain step's outcome and why; each
/// open Job's outcome in a group. `None` when nothing is open.
pub(crate) fn update(watch: &Watch) -> Option<String> {
    if watch.grouped() {
        let open: Vec<String> = watch
            .jobs()
            .iter()
            .filter(|j| j.end().is_none())
            .filter_map(|j| Some(format!("{} {}", j.variant, j.last()?.outcome)))
            .collect();
        return (!open.is_empty()).then(|| open.join(", "));
    }
    let judgement = watch.jobs().first()?.last()?;
    Some(format!(
        "{}: {}",
        judgement.outcome, judgement.outcome_message
    ))
}

/// A plain step's latest outcome as a line said above the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    pub line: String,
    /// The outcome differs from the one before (or is the first).
    pub changed: bool,
    /// It is the first judgement.
    pub first: bool,
}

/// The change a plain step's latest judgement makes; `None` for a group.
pub(crate) fn change(watch: &Watch) -> Option<Change> {
    if watch.grouped() {
        return None;
    }
    let observed = watch.jobs().first()?.observed();
    let (last, before) = match observed {
        [.., before, last] => (last, Some(before)),
        [last] => (last, None),
        [] => return None,
    };
    let judgement = &last.judgement;
    Some(Change {
        line: format!(
            "  now `{}`: {}",
            judgement.outcome, judgement.outcome_message
        ),
        changed: before.is_none_or(|b| b.judgement.outcome != judgement.outcome),
        first: before.is_none(),
    })
}

/// The frame of a plain step's latest judgement, with its hold countdown.
pub(crate) fn frame_of(watch: &Watch, width: usize) -> Option<String> {
    let judgement = watch.jobs().first()?.last()?;
    Some(frame(
        judgement,
        watch.hold_left(0),
        width,
        &Palette::new(true),
    ))
}

/// How the step's phase line ends: ✓ or ✗, and a few words.
pub(crate) fn verdict_line(watch: &Watch) -> (bool, String) {
    let ending = watch.ending();
    if watch.grouped() {
        return match ending {
            Ending::Expected => (true, "as expected".to_owned()),
            Ending::Interrupted => (false, "interrupted".to_owned()),
            _ => (false, "not what this step teaches".to_owned()),
        };
    }
    match ending {
        Ending::Expected => (true, "as expected".to_owned()),
        Ending::Unexpected => (false, "not what this variant teaches".to_owned()),
        Ending::TimedOut => (
            false,
            format!("undecided after {} s", watch.timeout_seconds()),
        ),
        Ending::Interrupted => (false, "interrupted".to_owned()),
        Ending::DryRun | Ending::Skipped => (true, String::new()),
    }
}

/// A container's state now, in a few words.
fn now(row: &Row) -> String {
    let restarts = row.runs.len().saturating_sub(1);
    let restarted = if restarts > 0 {
        format!(", restarted {restarts}×")
    } else {
        String::new()
    };
    match row.last_run() {
        Some(run) if run.finished.is_some() => {
            let code = run
                .exit_code
                .map_or_else(|| "?".to_owned(), |c| c.to_string());
            match (&row.waiting, run.reason.as_deref()) {
                (Some(waiting), _) => format!("exited {code}, waiting: {waiting}{restarted}"),
                (None, Some(reason)) => format!("exited {code} ({reason}){restarted}"),
                (None, None) => format!("exited {code}{restarted}"),
            }
        }
        Some(run) if run.started.is_some() => format!("{} running{restarted}", role_word(row)),
        _ => match &row.waiting {
            Some(waiting) => format!("waiting: {waiting}"),
            None => "not started".to_owned(),
        },
    }
}

fn role_word(row: &Row) -> &'static str {
    match row.role {
        crate::verdict::containers::Role::Init => "init container",
        crate::verdict::containers::Role::Sidecar => "sidecar",
        crate::verdict::containers::Role::App => "app container",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::dump;
    use crate::variant::Variant;
    use crate::verdict::judge;

    fn fixture(name: &str) -> Judgement {
        let path = format!("{}/tests/fixtures/dumps/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(path).expect("fixture");
        judge(&dump::parse(&bytes).expect("parses"), Some(Variant::Init))
    }

    #[test]
    fn a_frame_names_each_container_and_the_countdown_and_fits_the_width() {
        let judgement = fixture("init-running.yaml");
        let text = frame(&judgement, Some(6), 100, &Palette::new(false));
        assert!(text.contains("holding `init-running`: 6 s left"), "{text}");
        assert!(text.contains("postgres"), "{text}");
        assert!(text.contains("waiting: PodInitializing"), "{text}");
        let narrow = frame(&judgement, Some(6), 40, &Palette::new(false));
        for line in narrow.lines() {
            assert!(console::measure_text_width(line) <= 40, "{line:?}");
        }
    }

    fn watched(
        variant: Variant,
        outcome: crate::verdict::Outcome,
    ) -> crate::session::decide::Watched {
        let expectation = crate::verdict::Expectation {
            variant,
            outcome,
            checks: crate::lab::Checks::default(),
        };
        crate::session::decide::Watched::new(variant, format!("cy-job-{variant}"), expectation)
    }

    /// A plain step says its variant and its outcome; a group how many Jobs it watches
    /// and each open Job's outcome; each ends its line in its own words.
    #[test]
    fn the_phase_line_follows_the_watch() {
        use crate::session::decide::{Observation, Watch};
        use crate::verdict::Outcome;
        let dump = || {
            let path = format!(
                "{}/tests/fixtures/dumps/native-succeeded.yaml",
                env!("CARGO_MANIFEST_DIR")
            );
            dump::parse(&std::fs::read(path).expect("fixture")).expect("parses")
        };
        let seen = || Observation {
            objects: Some(dump()),
            events: None,
        };
        let mut plain = Watch::new(
            vec![watched(Variant::Native, Outcome::Succeeded)],
            0,
            180,
            false,
        );
        assert_eq!(label(crate::lab::StepNumber(3), &plain), "step 3 (native)");
        assert_eq!(update(&plain), None);
        plain.observe(1, seen());
        assert!(update(&plain).is_some_and(|u| u.starts_with("succeeded: ")));
        let first = change(&plain).expect("a change");
        assert!(first.changed && first.first);
        plain.decide(1);
        assert_eq!(verdict_line(&plain), (true, "as expected".to_owned()));

        let mut group = Watch::new(
            vec![
                watched(Variant::Native, Outcome::Succeeded),
                watched(Variant::Sidecar, Outcome::NotAdmitted),
            ],
            10,
            180,
            true,
        );
        assert_eq!(label(crate::lab::StepNumber(4), &group), "step 4 (2 Jobs)");
        group.observe(1, seen());
        assert_eq!(
            update(&group).as_deref(),
            Some("native succeeded, sidecar pending")
        );
        assert_eq!(change(&group), None);
        group.decide(200);
        assert_eq!(
            verdict_line(&group),
            (false, "not what this step teaches".to_owned())
        );
    }
}

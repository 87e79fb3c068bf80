//! The class board as one small web page for the projector: totals on top, one tile per
//! learner with the steps as coloured cells, a row of their exercises (attempts, solved
//! or not), the time on the current step, and a marker on learners stuck longer than a
//! threshold. Server-rendered, so it works with JavaScript off (a `<noscript>` meta refresh reloads it); with JavaScript on, the page
//! polls `board.json` and redraws the tiles without reloading. No build step, no CDN.
//! Pure: results in, HTML out.

use std::fmt::Write;

use crate::results::{ExerciseResult, Results, StepState, Suite};

/// How the page is drawn.
pub(crate) struct PageSettings<'a> {
    pub title: &'a str,
    /// Appended to every URL the page asks for (`?token=…`), or empty.
    pub query: &'a str,
    /// A learner running one step longer than this is marked stuck.
    pub stuck_after_seconds: u64,
    /// How often the page refreshes itself without JavaScript.
    pub refresh_seconds: u64,
}

/// The whole page.
pub(crate) fn page(results: &Results, settings: &PageSettings<'_>) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{title}</h1><div id="totals">{totals}</div><div id="updated">{updated}</div></header>
<main id="tiles">{tiles}</main>
<footer>sidecar-lab class board · refreshed from one read of the cluster · <span class="cell expected">expected</span> <span class="cell unexpected">unexpected</span> <span class="cell running">running</span> <span class="cell not-started">not started</span></footer>
<script>const QUERY = "{query}"; const STUCK_AFTER = {stuck};
{SCRIPT}</script>
</body>
</html>
"#,
        refresh = settings.refresh_seconds,
        title = escape(settings.title),
        totals = totals(results),
        updated = escape(&format!("as of {}", results.generated_at)),
        tiles = tiles(results, settings.stuck_after_seconds),
        query = escape(settings.query),
        stuck = settings.stuck_after_seconds,
    );
    html
}

/// The totals line.
pub(crate) fn totals(results: &Results) -> String {
    let t = results.totals();
    let exercises = if t.exercises > 0 {
        format!(
            " · exercises: {} solved · {} not solved",
            t.solved, t.failing
        )
    } else {
        String::new()
    };
    format!(
        "{} learners · <b>{}</b> done · {} expected · {} unexpected · {} running · {} not started{exercises}",
        t.suites, t.done, t.expected, t.unexpected, t.running, t.not_started
    )
}

/// Every learner's tile.
pub(crate) fn tiles(results: &Results, stuck_after: u64) -> String {
    results
        .suites
        .iter()
        .map(|suite| tile(suite, stuck_after))
        .collect()
}

fn tile(suite: &Suite, stuck_after: u64) -> String {
    let current = suite
        .steps
        .iter()
        .find(|s| s.state == StepState::Running)
        .or_else(|| {
            suite
                .steps
                .iter()
                .find(|s| s.state == StepState::NotStarted && !s.optional)
        });
    // `seconds` runs from the Job's start to the read: the time on the current step.
    let on_step = current
        .filter(|s| s.state == StepState::Running)
        .map(|s| (s.step, s.seconds));
    let stuck = on_step.is_some_and(|(_, seconds)| seconds > stuck_after);
    let status = match (on_step, current) {
        (Some((step, seconds)), _) => format!("step {step} for {}", duration(seconds)),
        (None, Some(next)) => format!("next: step {}", next.step),
        (None, None) => "done".to_owned(),
    };
    let mut cells = String::new();
    for step in &suite.steps {
        let class = class_of(step.state);
        let title = format!(
            "step {} ({}): {}{}",
            step.step,
            step.variant,
            step.state.name(),
            step.finding
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default()
        );
        let _ = write!(
            cells,
            r#"<span class="cell {class}" data-step="{}" data-state="{}" title="{}">{}</span>"#,
            step.step,
            step.state.name(),
            escape(&title),
            step.step
        );
    }
    let exercises = if suite.exercises.is_empty() {
        String::new()
    } else {
        format!(
            r#"<div class="cells exercises">{}</div>"#,
            suite
                .exercises
                .iter()
                .map(exercise_cell)
                .collect::<String>()
        )
    };
    format!(
        r#"<section class="tile{stuck_class}" data-learner="{name}"><h2>{name}{marker}</h2><div class="cells">{cells}</div>{exercises}<div class="status">{status}</div></section>"#,
        stuck_class = if stuck { " stuck" } else { "" },
        name = escape(&suite.name),
        marker = if stuck {
            r#" <span class="marker" title="on this step longer than the threshold">stuck</span>"#
        } else {
            ""
        },
        status = escape(&status),
    )
}

/// An exercise's cell: `ex1 ✓ 3` solved in three attempts, `ex2 ✗ 1` tried once and not
/// solved, `ex3 ·` not tried.
fn exercise_cell(exercise: &ExerciseResult) -> String {
    let (class, symbol) = if exercise.solved {
        ("expected", "✓")
    } else if exercise.attempts > 0 {
        ("unexpected", "✗")
    } else {
        ("not-started", "·")
    };
    let attempts = if exercise.attempts > 0 {
        format!(" {}", exercise.attempts)
    } else {
        String::new()
    };
    let title = format!(
        "exercise {}: {} · {} attempt(s){}{}",
        exercise.number,
        exercise.title,
        exercise.attempts,
        exercise
            .last
            .map(|l| format!(", last {l}"))
            .unwrap_or_default(),
        exercise
            .hint
            .as_deref()
            .map(|h| format!(", hint {h}"))
            .unwrap_or_default()
    );
    format!(
        r#"<span class="cell {class}" data-exercise="{}" data-attempts="{}" data-solved="{}" title="{}">ex{} {symbol}{attempts}</span>"#,
        exercise.number,
        exercise.attempts,
        exercise.solved,
        escape(&title),
        exercise.number
    )
}

fn class_of(state: StepState) -> &'static str {
    match state {
        StepState::Expected => "expected",
        StepState::Unexpected => "unexpected",
        StepState::Running => "running",
        StepState::Undecided | StepState::TimedOut => "undecided",
        StepState::Interrupted | StepState::NotStarted | StepState::Skipped => "not-started",
    }
}

fn duration(seconds: u64) -> String {
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds / 60)
    }
}

/// Text safe inside HTML elements and attribute values.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#eee}
header{padding:12px 20px;background:#222;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
h1{font-size:22px;margin:0}#totals{font-size:18px}#updated{color:#999;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;padding:14px}
.tile{background:#1d1d1d;border:2px solid #333;border-radius:8px;padding:8px 10px}
.tile.stuck{border-color:#e0a000}.tile h2{font-size:16px;margin:0 0 6px}
.marker{background:#e0a000;color:#111;border-radius:4px;padding:0 5px;font-size:12px}
.cells{display:flex;gap:4px;flex-wrap:wrap}.exercises{margin-top:4px}.exercises .cell{padding:1px 4px;font-size:12px;font-weight:normal}.status{color:#aaa;font-size:13px;margin-top:6px}
.cell{display:inline-block;min-width:22px;text-align:center;border-radius:4px;padding:2px 0;font-weight:bold;color:#111}
.expected{background:#3fb950}.unexpected{background:#f85149}.running{background:#d29922}
.undecided{background:#a371f7}.not-started{background:#444;color:#bbb}
footer{padding:8px 20px;color:#888;font-size:13px}footer .cell{padding:2px 6px}
";

/// Polls `board.json` every second (answered from the server's cache, never a cluster read) and redraws the totals and the tiles in place.
const SCRIPT: &str = r#"
async function refresh() {
  try {
    const response = await fetch("board.json" + QUERY, {cache: "no-store"});
    if (!response.ok) return;
    const board = await response.json();
    document.getElementById("totals").innerHTML = board.totals;
    document.getElementById("tiles").innerHTML = board.tiles;
    document.getElementById("updated").textContent = "as of " + board.generatedAt;
  } catch (e) { /* the next poll tries again */ }
}
setInterval(refresh, 1000);
"#;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lab::StepNumber;
    use crate::results::StepResult;
    use crate::variant::Variant;
    use crate::verdict::Outcome;

    fn results() -> Results {
        let step = |n, state, since: &str| StepResult {
            step: StepNumber(n),
            title: format!("step {n}"),
            variant: Variant::Init,
            optional: false,
            state,
            expect: Outcome::InitRunning,
            outcome: None,
            seconds: 30,
            since: Some(since.to_owned()),
            finding: None,
            message: None,
        };
        Results::new(
            "2026-11-26T10:30:00Z".to_owned(),
            "test".to_owned(),
            vec![
                Suite {
                    name: "learner-01".to_owned(),
                    namespace: None,
                    properties: BTreeMap::default(),
                    steps: vec![
                        step(1, StepState::Expected, "2026-11-26T10:00:00Z"),
                        step(2, StepState::Running, "2026-11-26T10:10:00Z"),
                    ],
                    exercises: Vec::new(),
                },
                Suite {
                    name: "<script>".to_owned(),
                    namespace: None,
                    properties: BTreeMap::default(),
                    steps: vec![step(1, StepState::Unexpected, "2026-11-26T10:29:00Z")],
                    exercises: Vec::new(),
                },
            ],
        )
    }

    #[test]
    fn tiles_show_each_step_and_mark_a_stuck_learner() {
        let mut results = results();
        results.suites[0].steps[1].seconds = 1200; // on step 2 for 20 minutes
        let html = tiles(&results, 600);
        assert!(html.contains(r#"data-learner="learner-01""#));
        assert!(
            html.contains(r#"<span class="cell expected" data-step="1" data-state="expected""#)
        );
        assert!(html.contains(r#"data-step="2" data-state="running""#));
        assert!(html.contains("stuck"), "20 minutes on step 2: {html}");
        assert!(html.contains("step 2 for 20 min"));
        assert!(!html.contains("<script>"), "learner names are escaped");
    }

    #[test]
    fn a_tile_shows_each_exercises_attempts_and_the_totals_count_them() {
        use crate::lab::{AttemptResult, ExerciseNumber};
        let mut results = results();
        let exercise = |n, attempts, solved, last| ExerciseResult {
            number: ExerciseNumber(n),
            title: format!("<b>{n}</b>"),
            attempts,
            solved,
            last,
            hint: None,
        };
        results.suites[0].exercises = vec![
            exercise(1, 3, true, Some(AttemptResult::Solved)),
            exercise(2, 1, false, Some(AttemptResult::Wrong)),
            exercise(3, 0, false, None),
        ];
        let html = tiles(&results, 600);
        assert!(html.contains(r#"data-exercise="1" data-attempts="3" data-solved="true""#));
        assert!(html.contains("ex1 ✓ 3</span>"), "{html}");
        assert!(html.contains(r#"<span class="cell unexpected" data-exercise="2""#));
        assert!(html.contains("ex2 ✗ 1</span>"));
        assert!(html.contains("ex3 ·</span>"));
        assert!(!html.contains("<b>"), "titles are escaped");
        assert!(totals(&results).ends_with(" · exercises: 1 solved · 1 not solved"));
        results.suites[0].exercises.clear();
        assert!(!totals(&results).contains("exercises"));
    }

    #[test]
    fn the_page_works_without_javascript_and_needs_no_cdn() {
        let settings = PageSettings {
            title: "Class learner",
            query: "?token=abc",
            stuck_after_seconds: 600,
            refresh_seconds: 5,
        };
        let html = page(&results(), &settings);
        assert!(html.contains(r#"<noscript><meta http-equiv="refresh" content="5"></noscript>"#));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no outside URL"
        );
        assert!(html.contains(r#"const QUERY = "?token=abc""#));
    }
}

//! The board as text: one row per learner, one cell per step (its state and the step's own
//! time), then one line for each step that needs a look; the line-per-change form of
//! `--watch`, the summary line, and what `class status` and `class board` say around it.

use std::fmt::Write;
use std::net::SocketAddr;

use crate::results::{ExerciseResult, Results, StepState, Suite};
use crate::ui::Palette;
use crate::ui::text::clean_line;

/// One row of the board: each cell's text and the state it is drawn in.
type Row = Vec<(String, StepState)>;

/// The board: one row per suite, one cell per step (its state and the step's own time),
/// then one line for each step that is not going as the lab teaches.
pub(crate) fn board(results: &Results, fancy: bool, palette: &Palette) -> String {
    let header = header(results);
    let rows: Vec<Row> = results
        .suites
        .iter()
        .map(|suite| row(suite, fancy))
        .collect();
    // Learner names come from the cluster or a results file: cleaned before they are
    // measured, so the columns still line up.
    let names: Vec<String> = results
        .suites
        .iter()
        .map(|suite| clean_line(&suite.name).into_owned())
        .collect();
    let widths = widths(&header, &names, &rows);
    let mut out = table(&header, &names, &rows, &widths, palette);
    let problems = problems(results);
    if !problems.is_empty() {
        let _ = writeln!(out, "\n{}", palette.heading.apply_to("Needs a look:"));
        for problem in problems {
            let _ = writeln!(out, "{problem}");
        }
    }
    out
}

/// `LEARNER`, one title per step, from a suite with the most steps, and one per
/// exercise (`EX1`), from a suite with the most exercises.
fn header(results: &Results) -> Vec<String> {
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
    let exercises = results.suites.iter().map(|s| s.exercises.len()).max();
    if let Some(most) = results
        .suites
        .iter()
        .find(|s| Some(s.exercises.len()) == exercises)
    {
        header.extend(most.exercises.iter().map(|e| format!("EX{}", e.number)));
    }
    header
}

/// A learner's cells: the steps, then the exercises.
fn row(suite: &Suite, fancy: bool) -> Row {
    let mut row = step_cells(suite, fancy);
    row.extend(suite.exercises.iter().map(|e| exercise_cell(e, fancy)));
    row
}

/// An exercise's cell: solved (`✓ 3`, three attempts), tried and not solved (`✗ 1`), or
/// not tried (`·`), drawn in the colour of the step state it reads like.
fn exercise_cell(exercise: &ExerciseResult, fancy: bool) -> (String, StepState) {
    let state = if exercise.solved {
        StepState::Expected
    } else if exercise.attempts > 0 {
        StepState::Unexpected
    } else {
        StepState::NotStarted
    };
    let symbol = symbol(state, fancy);
    if exercise.attempts == 0 {
        (symbol.to_owned(), state)
    } else {
        (format!("{symbol} {}", exercise.attempts), state)
    }
}

fn step_cells(suite: &Suite, fancy: bool) -> Row {
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
}

/// Each column's width: its widest title, name or cell.
fn widths(header: &[String], names: &[String], rows: &[Row]) -> Vec<usize> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for (name, row) in names.iter().zip(rows) {
        widths[0] = widths[0].max(name.chars().count());
        for (i, (cell, _)) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i + 1) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    widths
}

/// The header and the rows, padded to `widths`, each cell in its state's colour.
fn table(
    header: &[String],
    names: &[String],
    rows: &[Row],
    widths: &[usize],
    palette: &Palette,
) -> String {
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
    for (name, row) in names.iter().zip(rows) {
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
    out
}

/// One line for each step that is unexpected, undecided or timed out, then one for each
/// exercise tried and not solved.
fn problems(results: &Results) -> Vec<String> {
    let mut lines = step_problems(results);
    lines.extend(results.suites.iter().flat_map(|suite| {
        suite
            .exercises
            .iter()
            .filter(|e| e.failing())
            .map(move |e| {
                format!(
                    "  {} exercise {}: {} attempt(s), last {}{}",
                    clean_line(&suite.name),
                    e.number,
                    e.attempts,
                    e.last.map_or("unknown", |l| l.name()),
                    e.hint
                        .as_deref()
                        .map(|h| format!(", hint `{}`", clean_line(h)))
                        .unwrap_or_default()
                )
            })
    }));
    lines
}

fn step_problems(results: &Results) -> Vec<String> {
    results
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
        .collect()
}

/// One line per learner and step (and exercise), for the line-per-change mode of
/// `--watch`.
pub(crate) fn cell_lines(results: &Results) -> Vec<(String, String)> {
    let mut lines = step_lines(results);
    lines.extend(results.suites.iter().flat_map(|suite| {
        suite.exercises.iter().map(move |e| {
            let key = format!("{} exercise {}", clean_line(&suite.name), e.number);
            let value = match (e.solved, e.attempts) {
                (_, 0) => "not tried".to_owned(),
                (true, n) => format!("solved ({n} attempt(s))"),
                (false, n) => format!(
                    "not solved ({n} attempt(s), last {})",
                    e.last.map_or("unknown", |l| l.name())
                ),
            };
            (key, value)
        })
    }));
    lines
}

fn step_lines(results: &Results) -> Vec<(String, String)> {
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
pub(crate) fn summary(results: &Results) -> String {
    let totals = results.totals();
    let exercises = if totals.exercises > 0 {
        format!(
            " · exercises: {} solved, {} tried and not solved",
            totals.solved, totals.failing
        )
    } else {
        String::new()
    };
    format!(
        "{} learner(s), {} done · steps: {} expected, {} unexpected, {} running, {} undecided, {} not started{exercises}",
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
    #[allow(
        clippy::match_same_arms,
        reason = "two sets of symbols, fancy then plain, each complete; `?` is in both"
    )]
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

/// `class status` when the cluster has no learner namespace of the class.
pub(crate) fn no_learners(label: &str, context: &str) -> String {
    format!(
        "No learner namespace labelled `{}={label}` on context `{context}`: set the class up with `sidecar-lab class up`, or give the --prefix it was made with.\n",
        crate::class::CLASS_LABEL,
    )
}

/// Where the page is, and how often the cluster is read.
pub(crate) fn board_announcement(
    label: &str,
    context: &str,
    url: &str,
    refresh_seconds: u64,
) -> String {
    format!(
        "Class board of `{label}` on context `{context}`: {url}\n(one read of the cluster every {refresh_seconds} s; Ctrl-C stops it)\n"
    )
}

/// The note when the board listens on every address of the machine.
pub(crate) fn unspecified_address_note(address: SocketAddr) -> String {
    format!(
        "{} means every address of this machine: on the projector, use one the room can reach (`hostname -I` lists them)",
        address.ip()
    )
}

/// The warning when the board is reachable beyond this machine.
pub(crate) fn beyond_localhost_warning(address: SocketAddr) -> String {
    format!(
        "the board listens on {address}, beyond this machine: anyone who can reach it and has the token can read every learner's progress. Share the URL only with the room"
    )
}

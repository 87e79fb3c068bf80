//! Draws the container timeline: one row per container, bars on a shared time axis,
//! start and finish marks and exit codes. Unicode and colour on a terminal, plain ASCII
//! otherwise (pure: timeline and style in, text out).

use crate::ui::text::clean_line;
use k8s_openapi::jiff::Timestamp;

use crate::ui::Palette;
use crate::verdict::containers::Role;
use crate::verdict::timeline::{Row, Run, Timeline};

/// Columns the bars span.
const BAR_WIDTH: usize = 40;

/// The characters a timeline is drawn with.
#[derive(Clone, Copy, Debug)]
struct Glyphs {
    start: char,
    finish: char,
    fill: char,
    running: char,
    arrow: &'static str,
}

const ASCII: Glyphs = Glyphs {
    start: '[',
    finish: ']',
    fill: '=',
    running: '>',
    arrow: "->",
};
const UNICODE: Glyphs = Glyphs {
    start: '├',
    finish: '┤',
    fill: '━',
    running: '▶',
    arrow: "→",
};

/// The timeline as text; `fancy` picks Unicode glyphs, `palette` the colours.
pub(crate) fn draw(timeline: &Timeline, fancy: bool, palette: &Palette) -> String {
    let glyphs = if fancy { UNICODE } else { ASCII };
    let Some((t0, t1)) = timeline.span() else {
        return "  no container has started yet\n".to_owned();
    };
    let seconds = (t1.as_second() - t0.as_second()).max(1);
    let name_width = timeline
        .rows
        .iter()
        .map(|r| clean_line(&r.container).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "  {:name_width$}  {:7}  {:<half$}{:>rest$}\n",
        "",
        "",
        "0s",
        format!("{seconds}s"),
        half = BAR_WIDTH / 2,
        rest = BAR_WIDTH - BAR_WIDTH / 2,
    );
    for row in &timeline.rows {
        let bar = bar(row, t0, seconds, glyphs);
        let style = match row.role {
            Role::Init => &palette.init,
            Role::Sidecar => &palette.sidecar,
            Role::App => &palette.app,
        };
        out.push_str(&format!(
            "  {:name_width$}  {:7}  {}  {}\n",
            clean_line(&row.container),
            row.role.name(),
            style.apply_to(bar),
            // Reasons come from the kubelet or a dump file.
            clean_line(&describe(row, t0, glyphs))
        ));
    }
    out
}

/// One row's bars.
fn bar(row: &Row, t0: Timestamp, seconds: i64, glyphs: Glyphs) -> String {
    let mut cells = vec![' '; BAR_WIDTH];
    #[allow(
        clippy::cast_possible_wrap,
        reason = "BAR_WIDTH is 40: it fits in an i64"
    )]
    let column = |t: Timestamp| {
        let offset = (t.as_second() - t0.as_second()).clamp(0, seconds);
        // Rounded to the nearest column; offset and seconds are small and non-negative.
        usize::try_from((offset * (BAR_WIDTH as i64 - 1) + seconds / 2) / seconds).unwrap_or(0)
    };
    for run in &row.runs {
        let Some(start) = run.started.or(run.finished) else {
            continue;
        };
        let from = column(start);
        let to = run.finished.map_or(BAR_WIDTH - 1, column).max(from);
        for cell in &mut cells[from..=to] {
            *cell = glyphs.fill;
        }
        cells[from] = glyphs.start;
        cells[to] = if run.finished.is_some() {
            glyphs.finish
        } else {
            glyphs.running
        };
    }
    cells.into_iter().collect()
}

/// "+0s → +12s exit 0 (Completed)", per run; or why the container never ran.
fn describe(row: &Row, t0: Timestamp, glyphs: Glyphs) -> String {
    if row.runs.is_empty() {
        return match &row.waiting {
            Some(reason) => format!("never started ({reason})"),
            None => "never started".to_owned(),
        };
    }
    let at = |t: Option<Timestamp>| {
        t.map_or("?".to_owned(), |t| {
            format!("+{}s", t.as_second() - t0.as_second())
        })
    };
    row.runs
        .iter()
        .map(|run: &Run| match run.finished {
            None => format!("{} {} running", at(run.started), glyphs.arrow),
            Some(_) => format!(
                "{} {} {} exit {}{}",
                at(run.started),
                glyphs.arrow,
                at(run.finished),
                run.exit_code.map_or("?".to_owned(), |c| c.to_string()),
                run.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Option<Timestamp> {
        Timestamp::from_second(1_800_000_000 + second).ok()
    }

    fn timeline() -> Timeline {
        let run = |started: i64, finished: Option<i64>, exit_code: Option<i32>| Run {
            started: at(started),
            finished: finished.and_then(at),
            exit_code,
            reason: exit_code.map(|c| {
                if c == 0 {
                    "Completed".to_owned()
                } else {
                    "Error".to_owned()
                }
            }),
        };
        Timeline {
            rows: vec![
                Row {
                    container: "postgres".to_owned(),
                    role: Role::Sidecar,
                    runs: vec![run(1, Some(10), Some(143))],
                    waiting: None,
                },
                Row {
                    container: "main".to_owned(),
                    role: Role::App,
                    runs: vec![run(3, Some(8), Some(0))],
                    waiting: None,
                },
                Row {
                    container: "never".to_owned(),
                    role: Role::App,
                    runs: vec![],
                    waiting: Some("PodInitializing".to_owned()),
                },
            ],
            created: at(0),
            observed: at(10),
        }
    }

    #[test]
    fn ascii_timeline() {
        // Columns: 40 over 10 s; +1 s -> column 4, +3 s -> 12, +8 s -> 31, +10 s -> 39.
        let text = draw(&timeline(), false, &Palette::new(false));
        assert_eq!(
            text,
            "                     0s                                   10s
  postgres  sidecar      [==================================]  +1s -> +10s exit 143 (Error)
  main      app                  [==================]          +3s -> +8s exit 0 (Completed)
  never     app                                                never started (PodInitializing)
"
        );
        assert!(text.is_ascii());
    }

    #[test]
    fn unicode_timeline_uses_box_drawing_marks() {
        let text = draw(&timeline(), true, &Palette::new(false));
        assert!(
            text.contains("├━━") && text.contains("━┤") && text.contains('→'),
            "{text}"
        );
    }

    #[test]
    fn running_containers_reach_the_end_of_the_axis() {
        let mut timeline = timeline();
        timeline.rows[0].runs[0].finished = None;
        let text = draw(&timeline, false, &Palette::new(false));
        assert!(text.contains("=> "), "{text}");
        assert!(text.contains("+1s -> running"), "{text}");
    }
}

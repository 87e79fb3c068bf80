//! `class status`: one read of the cluster judged per learner and step, shown once (as
//! text, JSON or JUnit) or redrawn until Ctrl-C (`--watch`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::anyhow;

use super::read;
use crate::class::ClassPrefix;
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::results::{Results, ResultsFormat, StepState, junit};
use crate::session::workspace;
use crate::ui::class as show;

/// `class status`'s arguments.
#[derive(Clone, Debug)]
pub(crate) struct StatusSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub watch: bool,
    pub format: ResultsFormat,
    /// The lab the learners run (the built-in one when `None`).
    pub lab: Option<PathBuf>,
}

/// Runs `class status`.
pub(crate) fn status(settings: &StatusSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let lab = workspace::lab(settings.lab.as_deref())?;
    let minor = read::server_minor(world.runner, &settings.context);
    let refresh = || {
        read::class_results(
            world.runner,
            &settings.context,
            &settings.prefix,
            &lab,
            minor,
        )
    };
    if !settings.watch {
        return Ok(once(settings, world, &refresh()?));
    }
    if settings.format != ResultsFormat::Text {
        return Err(anyhow!(
            "--watch draws the board as text; drop -o (or run `class status -o {}` once, without --watch)",
            if settings.format == ResultsFormat::Json {
                "json"
            } else {
                "junit"
            }
        ));
    }
    Ok(watch(settings, world, &refresh))
}

/// One read, shown in the asked format.
fn once(settings: &StatusSettings, world: &World<'_>, results: &Results) -> ExitStatus {
    world.printer.out(&match settings.format {
        ResultsFormat::Json => results.to_json(),
        ResultsFormat::Junit => junit::to_junit(results),
        ResultsFormat::Text => board_text(settings, results, world),
    });
    // As `step` does: a step that went wrong is an exit status scripts can read.
    let unexpected = results
        .suites
        .iter()
        .flat_map(|s| &s.steps)
        .any(|step| step.state == StepState::Unexpected);
    if unexpected {
        ExitStatus::Unexpected
    } else {
        ExitStatus::Success
    }
}

fn board_text(settings: &StatusSettings, results: &Results, world: &World<'_>) -> String {
    let palette = world.printer.stdout_palette();
    if results.suites.is_empty() {
        return show::no_learners(settings.prefix.label(), &settings.context);
    }
    format!(
        "{}\n{}\n\n{}",
        palette.heading.apply_to(format!(
            "Class `{}` on context `{}`",
            settings.prefix.label(),
            settings.context
        )),
        show::summary(results),
        show::board(results, world.printer.stdout_fancy(), &palette)
    )
}

/// Redraws the board about once a second until Ctrl-C: in place on a terminal, else one
/// line per learner and step whose state changed.
fn watch(
    settings: &StatusSettings,
    world: &World<'_>,
    refresh: &dyn Fn() -> anyhow::Result<Results>,
) -> ExitStatus {
    let interrupted = crate::interrupt::flag();
    let mut screen = Screen::default();
    while !interrupted.load(Ordering::SeqCst) {
        let started = Instant::now();
        match refresh() {
            Ok(results) => {
                screen.last_problem.clear();
                screen.draw(settings, world, &results);
            }
            Err(error) => {
                // A failing read is reported when its message changes, not every second.
                let message = crate::exit::one_line(&error);
                if message != screen.last_problem {
                    world.printer.warn(&message);
                    screen.last_problem = message;
                }
            }
        }
        let rest = Duration::from_secs(1).saturating_sub(started.elapsed());
        let until = Instant::now() + rest;
        while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    ExitStatus::Success
}

/// What `--watch` has drawn so far.
#[derive(Default)]
struct Screen {
    /// Lines of the board drawn last (on a terminal).
    drawn_lines: usize,
    /// Each learner and step's line as last printed (elsewhere).
    last: BTreeMap<String, String>,
    last_problem: String,
}

impl Screen {
    fn draw(&mut self, settings: &StatusSettings, world: &World<'_>, results: &Results) {
        if world.environment.stdout_is_terminal {
            let text = board_text(settings, results, world);
            let term = console::Term::stdout();
            let _ = term.clear_last_lines(self.drawn_lines);
            world.printer.out(&text);
            self.drawn_lines = text.lines().count();
        } else {
            for (key, value) in show::cell_lines(results) {
                if self.last.get(&key) != Some(&value) {
                    world
                        .printer
                        .out(&format!("{} {key}: {value}\n", results.generated_at));
                    self.last.insert(key, value);
                }
            }
        }
    }
}

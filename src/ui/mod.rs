//! Everything the user sees goes through here: the `Printer` writes results to
//! standard output and messages to standard error, with colour only where it belongs,
//! and never a control character it did not draw itself (`text::clean`).

pub(crate) mod class;
pub(crate) mod doctor;
pub(crate) mod exercise;
pub(crate) mod install;
pub(crate) mod live;
pub(crate) mod phase;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod prompt;
pub(crate) mod report;
pub(crate) mod text;
pub(crate) mod timeline;

use std::io::{self, Write};

use console::Style;

use crate::env::Environment;

/// Writes to standard output and error. A closed pipe (`sidecar-lab versions | head -1`)
/// ends the output quietly instead of panicking as `println!` would.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    stdout_color: bool,
    stderr_color: bool,
    stderr_terminal: bool,
}

/// Colours for kinds of text; plain when colour is off.
#[derive(Clone, Debug)]
pub struct Palette {
    pub added: Style,
    pub removed: Style,
    pub heading: Style,
    pub dim: Style,
    pub error: Style,
    pub warning: Style,
    pub init: Style,
    pub sidecar: Style,
    pub app: Style,
}

impl Printer {
    pub const fn new(environment: &Environment) -> Self {
        Self {
            stdout_color: environment.stdout_color(),
            stderr_color: environment.stderr_color(),
            stderr_terminal: environment.stderr_is_terminal,
        }
    }

    /// True when standard output may use colour and Unicode drawing.
    pub const fn stdout_fancy(&self) -> bool {
        self.stdout_color
    }

    /// Colours for text bound for standard output.
    pub fn stdout_palette(&self) -> Palette {
        Palette::new(self.stdout_color)
    }

    /// Writes `text` to standard output: its colours as drawn, any other control
    /// character escaped (a value from a cluster or a file that a view did not clean).
    pub fn out(&self, text: &str) {
        write_ignoring_closed_pipe(&mut io::stdout().lock(), &text::clean_styled(text));
    }

    /// Writes one line of progress or information to standard error.
    pub fn note(&self, message: &str) {
        let message = text::clean(message);
        write_ignoring_closed_pipe(&mut io::stderr().lock(), &format!("{message}\n"));
    }

    /// Writes one line of `warning: …` to standard error.
    pub fn warn(&self, message: &str) {
        let palette = Palette::new(self.stderr_color);
        let message = text::clean(message);
        let line = format!("{} {message}\n", palette.warning.apply_to("warning:"));
        write_ignoring_closed_pipe(&mut io::stderr().lock(), &line);
    }

    /// True when standard error is a terminal that may show colour and redraws (not with
    /// `NO_COLOR`): where the live view of a step belongs.
    pub const fn stderr_fancy(&self) -> bool {
        self.stderr_terminal && self.stderr_color
    }

    /// The terminal's width in columns (80 when it cannot be read).
    pub fn stderr_width(&self) -> usize {
        usize::from(
            console::Term::stderr()
                .size_checked()
                .map_or(80, |(_, cols)| cols),
        )
    }

    /// True when standard error is a terminal, where progress bars and spinners belong.
    pub const fn stderr_is_terminal(&self) -> bool {
        self.stderr_terminal
    }

    /// Writes one line of `error: …` to standard error.
    pub fn error(&self, message: &str) {
        let palette = Palette::new(self.stderr_color);
        let message = text::clean(message);
        let line = format!("{} {message}\n", palette.error.apply_to("error:"));
        write_ignoring_closed_pipe(&mut io::stderr().lock(), &line);
    }
}

impl Palette {
    /// Styles that colour when `color` is true and are plain otherwise.
    pub fn new(color: bool) -> Self {
        let style = |s: Style| s.force_styling(color);
        Self {
            added: style(Style::new().green()),
            removed: style(Style::new().red()),
            heading: style(Style::new().bold()),
            dim: style(Style::new().dim()),
            error: style(Style::new().red().bold()),
            warning: style(Style::new().yellow().bold()),
            init: style(Style::new().yellow()),
            sidecar: style(Style::new().cyan()),
            app: style(Style::new().green()),
        }
    }
}

fn write_ignoring_closed_pipe(stream: &mut impl Write, text: &str) {
    // Nothing sensible can be done when the terminal or pipe is gone.
    let _ = stream
        .write_all(text.as_bytes())
        .and_then(|()| stream.flush());
}

//! One line per phase of a long operation — a spinner on a terminal, a plain line
//! otherwise — ending in ✓ or ✗ (as kind reports its own steps). Its seconds are read
//! from a clock handed in, so a fake clock times `up`'s phases in tests.

use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::clock::Clock;
use crate::ui::Printer;
use crate::ui::text::clean_styled;

/// A phase in progress.
pub(crate) struct Phase<'a> {
    printer: Printer,
    label: String,
    spinner: Option<ProgressBar>,
    clock: &'a dyn Clock,
    started: Instant,
    /// One line among others (steps that run at once): no room for a frame.
    shared: bool,
}

/// Several phases at once (the lab's steps run together): one line each.
pub(crate) struct Board {
    multi: MultiProgress,
}

impl Board {
    pub(crate) fn new() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        }
    }
}

impl Default for Board {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Phase<'a> {
    /// Starts a phase timed by `clock`, on `board`'s own line when there is one.
    pub(crate) fn timed(
        clock: &'a dyn Clock,
        board: Option<&Board>,
        printer: Printer,
        label: &str,
    ) -> Self {
        let spinner = printer.stderr_fancy().then(|| {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let spinner = match board {
                Some(board) => board.multi.add(spinner),
                None => spinner,
            };
            spinner.set_style(
                ProgressStyle::with_template(" {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            spinner.set_message(clean_styled(label).into_owned());
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        });
        if spinner.is_none() {
            printer.note(&format!(" • {label} ..."));
        }
        Self {
            printer,
            label: label.to_owned(),
            spinner,
            clock,
            started: clock.now(),
            shared: board.is_some(),
        }
    }

    /// Shows what is happening now, on the spinner's line (plain output stays quiet).
    pub(crate) fn update(&self, detail: &str) {
        if let Some(spinner) = &self.spinner {
            // indicatif draws past the Printer, and a detail may quote kubectl or a pod.
            spinner.set_message(clean_styled(&format!("{}: {detail}", self.label)).into_owned());
        }
    }

    /// Shows `frame` (several lines) under the phase's label, redrawn in place; nothing
    /// when not on a terminal.
    pub(crate) fn show_frame(&self, frame: &str) {
        if let Some(spinner) = &self.spinner {
            spinner.set_message(clean_styled(&format!("{}\n{frame}", self.label)).into_owned());
        }
    }

    /// True when the phase draws on a terminal, on a line of its own.
    pub(crate) const fn is_live(&self) -> bool {
        self.spinner.is_some() && !self.shared
    }

    /// Prints a line above the spinner.
    pub(crate) fn println(&self, line: &str) {
        match &self.spinner {
            Some(spinner) => spinner.println(clean_styled(line)),
            None => self.printer.note(line),
        }
    }

    /// Ends the phase with ✓.
    pub(crate) fn succeed(self, detail: &str) {
        self.finish("✓", detail);
    }

    /// Ends the phase with ✗.
    pub(crate) fn fail(self, detail: &str) {
        self.finish("✗", detail);
    }

    fn finish(self, mark: &str, detail: &str) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
        self.printer.note(&self.ending(mark, detail));
    }

    /// The phase's last line: its mark, label and detail, and the seconds it took on its
    /// clock.
    fn ending(&self, mark: &str, detail: &str) -> String {
        let seconds = self.clock.now().duration_since(self.started).as_secs_f64();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        format!(" {mark} {}{detail} ({seconds:.1} s)", self.label)
    }
}

/// A phase that ends with ✗ unless it is committed, as rustup's `Transaction` undoes what
/// it did unless committed: an early return (`?`) between `begin` and `commit` marks the
/// phase failed on its way out, so every path through a phase ends its line exactly once.
pub(crate) struct Transaction<'a> {
    phase: Option<Phase<'a>>,
}

impl<'a> Transaction<'a> {
    /// Starts a phase, timed by `clock`, that fails on drop.
    pub(crate) fn begin(printer: Printer, clock: &'a dyn Clock, label: &str) -> Self {
        Self {
            phase: Some(Phase::timed(clock, None, printer, label)),
        }
    }

    /// Ends the phase with ✓.
    pub(crate) fn commit(mut self, detail: &str) {
        if let Some(phase) = self.phase.take() {
            phase.succeed(detail);
        }
    }

    /// Ends the phase with ✗ and a word on why (dropping it says nothing more).
    pub(crate) fn fail(mut self, detail: &str) {
        if let Some(phase) = self.phase.take() {
            phase.fail(detail);
        }
    }

    /// Leaves the phase's line open, ended by neither mark (what `up` has always done
    /// when kind could not be run at all).
    pub(crate) fn abandon(mut self) {
        drop(self.phase.take());
    }

    /// Runs `work` as the phase: ✓ when it returns `Ok`, ✗ when it returns `Err`.
    pub(crate) fn run<T, E>(
        printer: Printer,
        clock: &'a dyn Clock,
        label: &str,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let phase = Self::begin(printer, clock, label);
        let value = work()?;
        phase.commit("");
        Ok(value)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if let Some(phase) = self.phase.take() {
            phase.fail("");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::env::Environment;

    #[test]
    fn a_phase_takes_its_seconds_from_the_clock_it_is_given() {
        let clock = FakeClock::at(std::time::SystemTime::UNIX_EPOCH);
        let printer = Printer::new(&Environment::default());
        let phase = Phase::timed(&clock, None, printer, "creating kind cluster `lab`");
        clock.advance(Duration::from_millis(95_040));
        assert_eq!(
            phase.ending("✓", "ready"),
            " ✓ creating kind cluster `lab`: ready (95.0 s)"
        );
    }
}

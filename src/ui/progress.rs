//! Download progress: an indicatif bar (bytes, rate, ETA) on a terminal, which clears
//! itself when done; plain lines on standard error otherwise.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::install::download::Progress;
use crate::ui::Printer;
use crate::ui::text::{clean_line, clean_styled};

/// Shows one download at a time.
pub(crate) struct DownloadProgress {
    printer: Printer,
    bar: Option<ProgressBar>,
}

impl DownloadProgress {
    pub(crate) fn new(printer: Printer) -> Self {
        let bar = printer.stderr_fancy().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:20} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self { printer, bar }
    }
}

impl Progress for DownloadProgress {
    fn started(&self, label: &str, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(total.unwrap_or(0));
            bar.set_message(clean_line(label).into_owned());
        } else {
            let size = total
                .map(|t| format!(" ({:.1} MiB)", t as f64 / 1_048_576.0))
                .unwrap_or_default();
            self.printer.note(&format!("downloading {label}{size}"));
        }
    }

    fn advanced(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    fn retrying(&self, attempt: u32, error: &str, delay: Duration) {
        let line = format!(
            "attempt {attempt} failed ({error}); trying again in {:.1} s",
            delay.as_secs_f64()
        );
        match &self.bar {
            // indicatif writes past the Printer: cleaned here (the error may quote a server).
            Some(bar) => bar.println(clean_styled(&line)),
            None => self.printer.note(&line),
        }
    }

    fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(clean_styled(message)),
            None => self.printer.note(message),
        }
    }

    fn finished(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.printer.note(&format!("✓ {message}"));
    }

    fn failed(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}

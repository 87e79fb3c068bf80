//! The one watcher, for a plain step's Job and a step group's Jobs alike: once a second
//! it reads the step's objects (and, for a group, the refusal events) from the cluster,
//! feeds them to the watch (`session::decide::Watch`, pure), shows its state on the
//! phase's line (`ui::live`), and stops when every Job is decided, has timed out, or the
//! user interrupts. Time passes through the session's clock, never the system's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::decide::{Observation, Watch};
use crate::kube::Cluster;
use crate::ui::Printer;
use crate::ui::live;
use crate::ui::phase::Phase;

/// How often the step is observed.
const POLL: Duration = Duration::from_secs(1);

/// What the watcher reads from, draws with, and stops on.
pub(crate) struct Watcher<'a> {
    pub cluster: Cluster<'a>,
    pub printer: Printer,
    pub interrupted: &'a AtomicBool,
}

impl Watcher<'_> {
    /// Watches until `watch` is done or the user interrupts; `started` is when the
    /// step's clock started, `label` selects the step's Jobs and pods.
    pub(crate) fn follow(&self, watch: &mut Watch, phase: &Phase, label: &str, started: Instant) {
        let cluster = self.cluster;
        let clock = cluster.clock();
        // A failing kubectl is reported when its message changes, not every second.
        let mut last_problem = String::new();
        while !watch.done() {
            let tick = clock.now();
            let (objects, problem) = match cluster.dump(label) {
                Ok(objects) => (objects, String::new()),
                Err(problem) => (None, problem),
            };
            let events = if watch.grouped() {
                cluster.failed_create_events()
            } else {
                None
            };
            let now = clock.now().duration_since(started).as_secs();
            if watch.observe(now, Observation { objects, events }) {
                self.show(phase, watch);
            }
            // A group's line says each Job's outcome; a problem would only hide it.
            if !watch.grouped() {
                if !problem.is_empty() && problem != last_problem {
                    phase.println(&format!("  ({problem})"));
                }
                last_problem = problem;
            }
            watch.decide(now);
            if self.interrupted.load(Ordering::SeqCst) {
                watch.interrupt();
                return;
            }
            if let Some(rest) = POLL.checked_sub(clock.now().duration_since(tick)) {
                clock.sleep(rest);
            }
        }
    }

    /// The live view after a judgement: a group's outcomes on its line; a plain step's
    /// outcome, and on a terminal the frame redrawn in place with a change of outcome said
    /// above it (elsewhere a change is one plain line).
    fn show(&self, phase: &Phase, watch: &Watch) {
        let printer = &self.printer;
        let Some(update) = live::update(watch) else {
            return;
        };
        phase.update(&update);
        let Some(change) = live::change(watch) else {
            return;
        };
        if phase.is_live() && printer.stderr_fancy() {
            if change.changed && !change.first {
                let width = printer.stderr_width();
                phase.println(&console::truncate_str(&change.line, width, "…"));
            }
            if let Some(frame) = live::frame_of(watch, printer.stderr_width()) {
                phase.show_frame(&frame);
            }
        } else if change.changed {
            phase.println(&change.line);
        }
    }
}

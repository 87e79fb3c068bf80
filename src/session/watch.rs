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
            // Decided: no pause before the next step (it would add a second to every
            // step's time and to `up`'s).
            if watch.done() {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, SystemTime};

    use super::Watcher;
    use crate::clock::{Clock, FakeClock};
    use crate::kube::{Cluster, Target};
    use crate::runner::scripted::ScriptedRunner;
    use crate::session::decide::{Ending, Watch, Watched};
    use crate::ui::Printer;
    use crate::ui::phase::Phase;
    use crate::variant::Variant;
    use crate::verdict::{Expectation, Outcome};

    /// Watches one Job expecting `outcome` (held for 10 s), its reads answered with
    /// `dump`: how it ended, how long it took on the fake clock, and how many reads.
    fn follow(dump: &str, variant: Variant, outcome: Outcome) -> (Ending, Duration, usize) {
        let runner = ScriptedRunner::default().ok("kubectl", dump);
        let clock = FakeClock::at(SystemTime::UNIX_EPOCH);
        let target = Target::kind("sidecar-lab", "default");
        let interrupted = AtomicBool::new(false);
        let printer = Printer::new(&crate::env::Environment {
            no_color: true,
            ..crate::env::Environment::default()
        });
        let watcher = Watcher {
            cluster: Cluster::new(&runner, &clock, &target),
            printer,
            interrupted: &interrupted,
        };
        let expectation = Expectation {
            variant,
            outcome,
            checks: crate::lab::Checks::default(),
        };
        let job = Watched::new(variant, format!("cy-job-{variant}"), expectation);
        let mut watch = Watch::new(vec![job], 10, 180, false);
        let phase = Phase::timed(&clock, None, printer, "step");
        watcher.follow(&mut watch, &phase, "sidecar-lab/step=1", clock.now());
        let reads = runner.calls().len();
        (watch.ending(), clock.elapsed(), reads)
    }

    /// A Job decided at the first read ends the watch at once: no pause after the
    /// decision, which would add a second to the step's time and to `up`'s.
    #[test]
    fn a_decided_job_is_not_followed_by_a_pause() {
        let dump = include_str!("../../tests/fixtures/dumps/native-succeeded.yaml");
        let (ending, elapsed, reads) = follow(dump, Variant::Native, Outcome::Succeeded);
        assert_eq!(ending, Ending::Expected);
        assert_eq!(elapsed, Duration::ZERO);
        assert_eq!(reads, 1);
    }

    /// A held outcome is read once a second and decided at the read where it has held
    /// for the hold time, and the watch ends there.
    #[test]
    fn a_held_outcome_ends_the_watch_at_the_deciding_read() {
        let dump = include_str!("../../tests/fixtures/dumps/init-running.yaml");
        let (ending, elapsed, reads) = follow(dump, Variant::Init, Outcome::InitRunning);
        assert_eq!(ending, Ending::Expected);
        assert_eq!(elapsed, Duration::from_secs(10));
        assert_eq!(reads, 11);
    }
}

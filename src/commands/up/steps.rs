//! `up`'s steps as planned: some at once, the rest in turn; then the summary.

use std::sync::atomic::AtomicBool;

use anyhow::{Context, anyhow};

use crate::lab::Lab;
use crate::session::state::{self, LabState};
use crate::session::step::{self, Ending, Session, StepRun};
use crate::session::{room, workspace};
use crate::setup_plan::StepsPlan;
use crate::ui::phase::Board;
use crate::ui::text;

use super::act::Execute;

impl Execute<'_, '_> {
    /// The steps as planned: some at once, each holding its own window, their reports
    /// printed one after another; then the rest one by one (Enter before each on a
    /// terminal), each after the room of earlier holding steps is freed.
    pub(super) fn steps(
        &self,
        lab: &Lab,
        state: &mut LabState,
        interrupted: &AtomicBool,
        plan: &StepsPlan,
        interactive: bool,
    ) -> anyhow::Result<Vec<StepRun>> {
        let session = Session {
            runner: self.runner(),
            clock: self.world.clock,
            printer: self.printer(),
            target: self.target.clone(),
            state_dir: self.dir.to_path_buf(),
            release: self.release,
            minor: state.cluster.as_ref().and_then(|c| c.kubernetes),
            interrupted,
            dry_run: false,
        };
        let mut runs = Vec::new();
        if !plan.together.is_empty() {
            runs = self.together(&session, lab, state, plan)?;
            if runs.iter().any(|r| r.ending == Ending::Interrupted) {
                return Ok(runs);
            }
        }
        for turn in &plan.in_turn {
            let number = turn.number;
            if interactive {
                let title = lab.step(number).map_or("", |s| s.title.as_str());
                self.printer().note(&format!(
                    "\nNext: step {number} of {}, {title}. Press Enter to start (Ctrl-C to stop).",
                    lab.steps.len()
                ));
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read from the terminal")?;
            }
            room::free(&session, lab, &turn.free)?;
            let run = step::run(&session, lab, number, None)?;
            self.printer().out(&run.report);
            workspace::record(state, &run, self.target);
            state::save(self.dir, state)?;
            let stop = run.ending == Ending::Interrupted;
            runs.push(run);
            if stop {
                break;
            }
        }
        Ok(runs)
    }

    /// The steps that run at once, one thread each; their reports in order.
    fn together(
        &self,
        session: &Session<'_>,
        lab: &Lab,
        state: &mut LabState,
        plan: &StepsPlan,
    ) -> anyhow::Result<Vec<StepRun>> {
        let board = Board::new();
        let results: Vec<anyhow::Result<StepRun>> = std::thread::scope(|scope| {
            let handles: Vec<_> = plan
                .together
                .iter()
                .map(|number| {
                    let board = &board;
                    scope.spawn(move || step::run(session, lab, *number, Some(board)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow!("a step's thread panicked")))
                })
                .collect()
        });
        let mut runs = Vec::new();
        for result in results {
            let run = result?;
            self.printer().out(&run.report);
            workspace::record(state, &run, self.target);
            runs.push(run);
        }
        state::save(self.dir, state)?;
        Ok(runs)
    }
}

/// Each step, its verdict, how long it took.
pub(super) fn summary(runs: &[StepRun]) -> String {
    let mut rows = vec![
        ["STEP", "VARIANT", "TITLE", "RESULT", "OUTCOME", "TIME"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for run in runs {
        rows.push(vec![
            run.number.to_string(),
            run.variant.to_string(),
            run.title.clone(),
            run.ending.name().to_owned(),
            run.judgement
                .as_ref()
                .map_or("-".to_owned(), |j| j.outcome.to_string()),
            format!("{} s", run.seconds),
        ]);
    }
    format!("\nSummary\n{}", text::table(&rows))
}

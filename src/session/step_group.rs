//! A step that runs several variants at once, under a ResourceQuota it creates first
//! (the lab's "what a sidecar costs"): each variant's Job is applied and judged against
//! its own expected outcome from the same observations, once a second; a pod that
//! admission refuses shows only in the Job's `FailedCreate` events, so those are read
//! too. When every Job is decided, the Jobs it refused are suspended (so that none starts
//! its pod late) and the quota is removed, so that later steps run unconstrained.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::decide::{Decision, Observed, decide};
use super::step::{Ending, Session, StepRun, refusal};
use crate::assets;
use crate::lab::{Step, StepNumber};
use crate::observe::dump::{self, Dump, Object};
use crate::render::job::{self, VARIANT_LABEL};
use crate::render::step::{RunJob, quota_name, step_quota, step_runs};
use crate::runner::checked;
use crate::state::write_atomically;
use crate::ui::phase::{Board, Phase};
use crate::ui::text::wrap;
use crate::verdict::{Expectation, Judgement, Verdict, judge_expecting, judge_refusal};

const POLL: Duration = Duration::from_secs(1);
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(30);
const DELETE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the quota controller may take to write the new quota's status; until then
/// admission tracks nothing against it (the plugin works from `status.hard`), so a pod
/// the quota should refuse would be admitted.
const QUOTA_READY: Duration = Duration::from_secs(20);

/// One variant of the step, as it goes.
struct Run {
    job: RunJob,
    expectation: Expectation,
    observed: Vec<Observed>,
    decided: Option<(Ending, Option<Judgement>)>,
}

/// Runs step `number` (which has `also` runs or a quota).
pub fn run(
    session: &Session<'_>,
    number: StepNumber,
    step: &Step,
    intro: String,
    board: Option<&Board>,
) -> anyhow::Result<StepRun> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let mut runs: Vec<Run> = step_runs(&template, number, step, session.minor)?
        .into_iter()
        .map(|job| Run {
            expectation: Expectation {
                variant: job.variant,
                outcome: job.expect,
                checks: step.check.clone(),
            },
            job,
            observed: Vec::new(),
            decided: None,
        })
        .collect();
    let quota = step_quota(number, step);
    let target = &session.target;
    let printer = &session.printer;
    let mut files = Vec::new();
    if let Some(quota) = &quota {
        let text = crate::yaml::to_string(quota)?;
        files.push((
            session.state_dir.join(format!("step-{number}-quota.yaml")),
            text,
        ));
    }
    for run in &runs {
        let text = job::to_manifest(
            &run.job.job,
            &[format!(
                "sidecar-lab: step {number} ({}), variant `{}`, expects `{}`.",
                step.title, run.job.variant, run.job.expect
            )],
        )?;
        files.push((
            session
                .state_dir
                .join(format!("step-{number}-{}.yaml", run.job.variant)),
            text,
        ));
    }
    if session.dry_run {
        let mut report = intro;
        for (path, text) in &files {
            report.push_str(&format!("\n# would write {}:\n{text}", path.display()));
            report.push_str(&format!("$ {}\n", target.apply(path)));
        }
        return Ok(finished(number, step, Ending::DryRun, None, 0, report));
    }
    if board.is_none() {
        printer.note(&intro);
    }
    for run in &runs {
        checked(
            session.runner,
            &target.delete_job(run.job.name.as_str()),
            DELETE_TIMEOUT,
        )
        .context("cannot remove the step's previous Job")?;
    }
    for (path, text) in &files {
        write_atomically(path, text.as_bytes())?;
    }
    let mut files = files.into_iter();
    if quota.is_some()
        && let Some((path, _)) = files.next()
    {
        checked(session.runner, &target.apply(&path), KUBECTL_TIMEOUT)
            .context("cannot create the step's ResourceQuota")?;
        wait_for_quota(session, &quota_name(number));
    }
    // Each Job of the step draws the same warnings: they are said once.
    let mut warnings: Vec<String> = Vec::new();
    for (run, (path, _)) in runs.iter_mut().zip(files) {
        let apply = target.apply(&path);
        let applied = session.runner.run(&apply, KUBECTL_TIMEOUT)?;
        for warning in crate::observe::refusal::api_warnings(&applied.stderr) {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        if !applied.success() {
            let Some(message) = refusal(&applied.stderr) else {
                return Err(crate::runner::Failed::of(&apply, &applied))
                    .context("cannot create the step's Job");
            };
            let judgement = judge_refusal(&message, &run.expectation);
            run.decided = Some((ending_of(&judgement), Some(judgement)));
        }
    }

    let started = Instant::now();
    let phase = Phase::start_on(
        board,
        *printer,
        &format!("step {number} ({} Jobs)", runs.len()),
    );
    let label = format!("{}={number}", crate::render::step::STEP_LABEL);
    let observe = target.observe(&label);
    let events = target.failed_create_events();
    let mut all = Dump::default();
    let mut interrupted = false;
    while runs.iter().any(|r| r.decided.is_none()) {
        let tick = Instant::now();
        if let Ok(output) = session.runner.run(&observe, KUBECTL_TIMEOUT)
            && output.success()
            && let Ok(dump) = dump::parse(output.stdout.as_bytes())
        {
            all.objects.extend(dump.objects);
        }
        if let Ok(output) = session.runner.run(&events, KUBECTL_TIMEOUT)
            && output.success()
            && let Ok(parsed) = crate::yaml::from_str::<serde_json::Value>(&output.stdout)
        {
            // Events are replaced, not added up: each read has them all.
            all.events = parsed
                .get("items")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| serde_json::from_value(e.clone()).ok())
                .collect();
        }
        let now = started.elapsed().as_secs();
        let mut status = Vec::new();
        for run in runs.iter_mut().filter(|r| r.decided.is_none()) {
            let judgement = judge_expecting(&of_variant(&all, run), Some(&run.expectation));
            status.push(format!("{} {}", run.job.variant, judgement.outcome));
            run.observed.push(Observed {
                seconds: now,
                judgement,
            });
            match decide(
                run.expectation.outcome,
                step.hold_seconds,
                step.timeout_seconds,
                now,
                &run.observed,
            ) {
                Decision::Watch => {}
                Decision::Decided => {
                    let judgement = super::decide::conclusion(&mut run.observed);
                    let ending = judgement.as_ref().map_or(Ending::Unexpected, ending_of);
                    run.decided = Some((ending, judgement));
                }
                Decision::TimedOut => {
                    run.decided = Some((Ending::TimedOut, run.observed.pop().map(|o| o.judgement)));
                }
            }
        }
        if !status.is_empty() {
            phase.update(&status.join(", "));
        }
        if session.interrupted.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        if let Some(rest) = POLL.checked_sub(tick.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    let seconds = started.elapsed().as_secs();
    let ending = if interrupted {
        Ending::Interrupted
    } else {
        overall(&runs)
    };
    match ending {
        Ending::Expected => phase.succeed("as expected"),
        Ending::Interrupted => phase.fail("interrupted"),
        _ => phase.fail("not what this step teaches"),
    }
    if !interrupted {
        clean_up(session, number, &runs, quota.is_some());
    }
    let mut report = if board.is_some() {
        intro
    } else {
        String::new()
    };
    report.push_str(&crate::ui::report::api_warnings(&warnings));
    let palette = printer.stdout_palette();
    let last = runs.len().saturating_sub(1);
    for (index, run) in runs.iter().enumerate() {
        report.push_str(&format!(
            "\n{}\n",
            palette.heading.apply_to(format!(
                "— {} variant, Job {} (expects `{}`)",
                run.job.variant, run.job.name, run.expectation.outcome
            ))
        ));
        let Some((run_ending, Some(judgement))) = &run.decided else {
            report.push_str("  not decided\n");
            continue;
        };
        let body = crate::ui::report::text(judgement, printer.stdout_fancy(), &palette);
        if *run_ending == Ending::TimedOut {
            report.push_str(&format!(
                "The Job did not settle within {} s; this is the last state observed.\n",
                step.timeout_seconds
            ));
        }
        report.push_str(&body);
        if index == last {
            report.push_str(&format!("\nWhy\n{}\n", wrap(&step.why, 88, "  ")));
            let commands = step.commands(run.job.name.as_str(), &target.namespace);
            if !commands.is_empty() {
                report.push_str("\nSee for yourself\n");
                for command in commands {
                    report.push_str(&format!("  {command}\n"));
                }
            }
        }
    }
    let judgement = runs.first().and_then(|r| r.decided.as_ref()?.1.clone());
    Ok(finished(number, step, ending, judgement, seconds, report))
}

/// The dump of one variant's Job and pods (the step's Jobs all carry its label).
fn of_variant(all: &Dump, run: &Run) -> Dump {
    let variant = run.job.variant.name();
    let labelled = |labels: Option<&std::collections::BTreeMap<String, String>>| {
        labels
            .and_then(|l| l.get(VARIANT_LABEL))
            .map(String::as_str)
            == Some(variant)
    };
    Dump {
        objects: all
            .objects
            .iter()
            .filter(|o| match o {
                Object::Pod(pod) => labelled(pod.metadata.labels.as_ref()),
                Object::Job(job) => labelled(job.metadata.labels.as_ref()),
            })
            .cloned()
            .collect(),
        events: all.events.clone(),
        truncated: false,
    }
}

/// Waits until the quota controller has written the quota's status, so that the first
/// pods are judged by the quota, not refused because its status is unknown.
fn wait_for_quota(session: &Session<'_>, name: &str) {
    let start = Instant::now();
    while start.elapsed() < QUOTA_READY {
        let ready = session
            .runner
            .run(&session.target.get_quota(name), KUBECTL_TIMEOUT)
            .ok()
            .filter(crate::runner::Output::success)
            .and_then(|o| serde_json::from_str::<serde_json::Value>(&o.stdout).ok())
            .is_some_and(|q| q.pointer("/status/hard").is_some());
        if ready || session.interrupted.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Suspends the Jobs the quota kept from running, then removes the quota; a failure is
/// only reported. Suspended first, so that none starts its pod late once the quota is
/// gone; suspended, not deleted, so that the Jobs and their `FailedCreate` events stay
/// for `kubectl describe` and `check --step N`.
fn clean_up(session: &Session<'_>, number: StepNumber, runs: &[Run], quota: bool) {
    if !quota {
        return;
    }
    let target = &session.target;
    let refused: Vec<&str> = runs
        .iter()
        .filter(|run| {
            run.decided
                .as_ref()
                .and_then(|(_, j)| j.as_ref())
                .is_some_and(|j| j.outcome == crate::verdict::Outcome::NotAdmitted)
        })
        .map(|run| run.job.name.as_str())
        .collect();
    let warn = |error: anyhow::Error| {
        session
            .printer
            .warn(&format!("could not clean up after step {number}: {error}"));
    };
    for name in &refused {
        if let Err(error) = checked(session.runner, &target.suspend_job(name), KUBECTL_TIMEOUT) {
            warn(error);
        }
    }
    // The Job controller acts on what its cache has seen: only once it has marked the
    // Jobs suspended is a pod no longer made for them when the quota goes.
    wait_until_suspended(session, number, &refused);
    if let Err(error) = checked(
        session.runner,
        &target.delete_quota(&quota_name(number)),
        KUBECTL_TIMEOUT,
    ) {
        warn(error);
    }
}

/// Waits (up to `QUOTA_READY`) until every Job in `names` has `Suspended=True`.
fn wait_until_suspended(session: &Session<'_>, number: StepNumber, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    let observe = session
        .target
        .observe(&format!("{}={number}", crate::render::step::STEP_LABEL));
    let start = Instant::now();
    while start.elapsed() < QUOTA_READY {
        let suspended = session
            .runner
            .run(&observe, KUBECTL_TIMEOUT)
            .ok()
            .filter(crate::runner::Output::success)
            .and_then(|o| dump::parse(o.stdout.as_bytes()).ok())
            .is_some_and(|dump| {
                names.iter().all(|name| {
                    dump.objects.iter().any(|o| match o {
                        Object::Job(job) => {
                            job.metadata.name.as_deref() == Some(*name)
                                && crate::verdict::outcome::job_condition(job, "Suspended")
                                    .is_some()
                        }
                        Object::Pod(_) => false,
                    })
                })
            });
        if suspended || session.interrupted.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ending_of(judgement: &Judgement) -> Ending {
    if judgement.verdict == Some(Verdict::Expected) {
        Ending::Expected
    } else {
        Ending::Unexpected
    }
}

/// The step's ending: unexpected if any Job is, else undecided if any timed out.
fn overall(runs: &[Run]) -> Ending {
    let endings: Vec<Ending> = runs
        .iter()
        .map(|r| r.decided.as_ref().map_or(Ending::TimedOut, |d| d.0))
        .collect();
    if endings.contains(&Ending::Unexpected) {
        Ending::Unexpected
    } else if endings.contains(&Ending::TimedOut) {
        Ending::TimedOut
    } else {
        Ending::Expected
    }
}

fn finished(
    number: StepNumber,
    step: &Step,
    ending: Ending,
    judgement: Option<Judgement>,
    seconds: u64,
    report: String,
) -> StepRun {
    StepRun::new(number, step, ending, judgement, seconds, report)
}

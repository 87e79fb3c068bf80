//! Room on the node for the next step: the steps that hang by design (a plain init
//! container, a regular second container) keep their pods, and their CPU requests, until
//! the Job's deadline. On a small VM a later step would stay Pending beside them, so their
//! Jobs are deleted first — always before `up`'s later steps (the plan shows it), and
//! before `step N` when it would not fit. Their results stay in the state.

use anyhow::Context;

use super::state::LabState;
use super::step::{Ending, Session};
use crate::lab::{Lab, StepNumber};
use crate::render;
use crate::render::step::STEP_LABEL;
use crate::setup_plan;

/// Deletes the Jobs of `steps`, judged steps whose pods would keep their CPU until the
/// Job's deadline, so that the next step has room on a small node. Their results stay
/// in the state and the report.
pub(crate) fn free(session: &Session<'_>, lab: &Lab, steps: &[StepNumber]) -> anyhow::Result<()> {
    if steps.is_empty() || session.dry_run {
        return Ok(());
    }
    let (which, hold, their) = if steps.len() == 1 {
        ("step", "holds", "its")
    } else {
        ("steps", "hold", "their")
    };
    // Said before it is done: deleting a learner's Jobs is not a side effect to discover.
    session.printer.note(&format!(
        " • freeing the CPU that {which} {} {hold} until the Job's deadline: deleting {their} Jobs ({their} results stay in `sidecar-lab status` and `report`)",
        setup_plan::numbers_text(steps)
    ));
    let template = render::job::parse_template(crate::assets::JOB_TEMPLATE)?;
    for number in steps {
        let Some(step) = lab.step(*number) else {
            continue;
        };
        for run in render::step::step_runs(&template, *number, step, session.minor)? {
            session
                .cluster()
                .delete_job(run.name.as_str())
                .with_context(|| format!("cannot free the CPU that step {number} holds"))?;
        }
    }
    Ok(())
}

/// Frees the CPU that earlier judged steps hold (their pods never end by design) when
/// step `number` would not fit on the node beside them: on a small VM, one step after
/// another would otherwise leave the later ones Pending. Only when the node can be read
/// (a learner on a shared cluster cannot list every pod, and their Jobs stay).
pub(crate) fn free_if_needed(
    session: &Session<'_>,
    lab: &Lab,
    state: &LabState,
    number: StepNumber,
) -> anyhow::Result<()> {
    let template = render::job::parse_template(crate::assets::JOB_TEMPLATE)?;
    let holds = |n: StepNumber| {
        lab.step(n)
            .and_then(|s| setup_plan::step_needs(&template, n, s, session.minor).ok())
            .is_some_and(|(_, _, holds)| holds)
    };
    let judged: Vec<StepNumber> = state
        .steps
        .iter()
        .filter(|(n, record)| {
            // Only steps that ran here: elsewhere they hold nothing on this node's
            // namespace, and Jobs of the same name here would be someone else's.
            let here = record.context.as_deref() == Some(session.target.context.as_str())
                && record.namespace.as_deref() == Some(session.target.namespace.as_str());
            here && **n != number
                && matches!(
                    record.result,
                    Ending::Expected | Ending::Unexpected | Ending::TimedOut
                )
        })
        .map(|(n, _)| *n)
        .filter(|n| holds(*n))
        .collect();
    let Some(step) = lab.step(number).filter(|_| !judged.is_empty()) else {
        return Ok(());
    };
    let (_, need, _) = setup_plan::step_needs(&template, number, step, session.minor)?;
    let cluster = session.cluster();
    let room = cluster
        .nodes()
        .and_then(|nodes| setup_plan::allocatable_cpu_millis(&nodes))
        .zip(cluster.running_pods().and_then(|pods| {
            // This step's own pods are replaced by it: not in the way.
            let own = number.to_string();
            setup_plan::requested_cpu_millis(&pods, |labels| labels.get(STEP_LABEL) == Some(&own))
        }))
        .map(
            |(allocatable_millis, requested_millis)| setup_plan::NodeRoom {
                allocatable_millis,
                requested_millis,
                estimated: false,
            },
        );
    if room.is_some_and(|room| need > room.free_millis()) {
        free(session, lab, &judged)?;
    }
    Ok(())
}

//! `sidecar-lab render …`: the Job of a variant, the kind config, a diff of two
//! variants, or the lab's steps as a learner reads them.

use anyhow::Context;

use crate::lab::Lab;
use crate::names::NamespaceName;
use crate::render::{self, job};
use crate::ui::Palette;
use crate::ui::text::wrap;
use crate::variant::Variant;
use crate::{assets, render::RenderError};

/// Width the lab text is wrapped to: fits an 80-column terminal with room to spare.
const WIDTH: usize = 78;

/// A unified diff with added lines green and removed lines red (when colour is on).
pub(crate) fn colored_diff(diff: &str, palette: &Palette) -> String {
    diff.lines()
        .map(|line| {
            let styled =
                if line.starts_with("+++") || line.starts_with("---") || line.starts_with("@@") {
                    palette.dim.apply_to(line).to_string()
                } else if line.starts_with('+') {
                    palette.added.apply_to(line).to_string()
                } else if line.starts_with('-') {
                    palette.removed.apply_to(line).to_string()
                } else {
                    line.to_owned()
                };
            styled + "\n"
        })
        .collect()
}

/// The diff between two variants, or a sentence saying they are the same.
pub(crate) fn diff(from: Variant, to: Variant, palette: &Palette) -> Result<String, RenderError> {
    let diff = render::variant_diff(from, to)?;
    if diff.is_empty() {
        return Ok(format!("`{from}` and `{to}` render the same Job\n"));
    }
    let intro = format!(
        "From `{from}` ({}) to `{to}` ({}):\n\n",
        from.placement(),
        to.placement()
    );
    Ok(intro + &colored_diff(&diff, palette))
}

/// The lab's steps as a learner reads them: what to expect, why, and what to type.
pub(crate) fn lab_text(
    lab: &Lab,
    namespace: &NamespaceName,
    palette: &Palette,
) -> anyhow::Result<String> {
    let template = job::parse_template(assets::JOB_TEMPLATE)?;
    let mut out = format!(
        "{}\n{}\n",
        palette.heading.apply_to(&lab.title),
        wrap(&lab.summary, WIDTH, "")
    );
    for (number, step) in lab.numbered() {
        let job_name = crate::render::step::step_job_name(&template, step)
            .with_context(|| format!("step {number} has no valid Job name"))?;
        let heading = format!("Step {number}: {}", step.title);
        let runs: Vec<String> = step
            .runs(None)
            .iter()
            .map(|(variant, outcome)| format!("variant `{variant}`, expected outcome `{outcome}`"))
            .collect();
        out.push_str(&format!(
            "\n{}\n{}\n",
            palette.heading.apply_to(heading),
            wrap(
                &format!(
                    "{}; run it with: sidecar-lab step {number}",
                    runs.join("; ")
                ),
                WIDTH,
                "  "
            )
        ));
        let mut notes = Vec::new();
        if step.optional {
            notes.push("optional: `up` runs it with --all".to_owned());
        }
        if let Some(minor) = step.min_kubernetes {
            notes.push(format!(
                "needs Kubernetes {minor} or later (skipped before)"
            ));
        }
        for (index, rule) in step.by_version.iter().enumerate() {
            notes.push(format!(
                "{} it expects `{}`: {}",
                step.rule_span(index),
                rule.expect,
                rule.what_you_see
            ));
        }
        if !step.by_version.is_empty() {
            notes.push(format!(
                "{} it expects `{}`",
                step.rule_span(step.by_version.len()),
                step.expect
            ));
        }
        if !step.quota.is_empty() {
            let hard: Vec<String> = step.quota.iter().map(|(k, v)| format!("{k}={v}")).collect();
            notes.push(format!("sets a ResourceQuota first: {}", hard.join(", ")));
        }
        for note in notes {
            out.push_str(&wrap(&format!("- {note}"), WIDTH, "  "));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&format!(
            "  What you will see\n{}\n\n",
            wrap(&step.what_you_see, WIDTH, "    ")
        ));
        out.push_str(&format!("  Why\n{}\n", wrap(&step.why, WIDTH, "    ")));
        if !step.try_commands.is_empty() {
            out.push_str("\n  Try\n");
            for command in step.commands(job_name.as_str(), namespace.as_str()) {
                out.push_str(&format!("    {command}\n"));
            }
        }
    }
    Ok(out)
}

/// The objects `class up` creates for learners 1..=`learners`, as one YAML stream.
pub(crate) fn class(
    prefix: &crate::class::ClassPrefix,
    learners: u32,
    quota: &crate::class::objects::QuotaLimits,
) -> anyhow::Result<String> {
    let template = crate::class::objects::Template::embedded()?;
    // As on a cluster that says nothing of its version: Pod Security at `latest`, and the
    // admission policy that 1.30 and newer take.
    let rules = crate::class::confinement::Confinement::decide(&template, prefix, None, quota);
    let objects = rules.objects(&template, prefix, learners, quota);
    let refs: Vec<_> = objects.iter().collect();
    Ok(crate::class::objects::manifests(&refs)?)
}

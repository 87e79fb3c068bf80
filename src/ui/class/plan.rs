//! The plans of `class up` and `class down` as text (and `class up -o json`), what each
//! learner's namespace enforces, and the lines said before and after they are carried out.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::class::ClassPrefix;
use crate::class::confinement::Confinement;
use crate::class::objects::ObjectKind;
use crate::class::plan::{DownPlan, UpPlan};
use crate::class::policy;
use crate::ui::text::clean_line;

/// The plan of `class up`.
pub(crate) fn up_plan(
    plan: &UpPlan,
    heading: &str,
    kubeconfig_dir: &str,
    duration: &str,
) -> String {
    let mut out = format!("{heading}\n");
    let count = |objects: &mut dyn Iterator<Item = ObjectKind>| {
        let mut counts: BTreeMap<ObjectKind, usize> = BTreeMap::new();
        for kind in objects {
            *counts.entry(kind).or_default() += 1;
        }
        counts
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !plan.create.is_empty() {
        let _ = writeln!(
            out,
            "  create  {}",
            count(&mut plan.create.iter().map(|o| o.kind))
        );
    }
    for (object, fields) in &plan.update {
        let _ = writeln!(
            out,
            "  update  {} ({} differs)",
            clean_line(&object.describe()),
            clean_line(&fields.join(", "))
        );
    }
    token_lines(&mut out, plan, kubeconfig_dir, duration);
    left_lines(&mut out, plan);
    out
}

/// The plan's tokens, grouped by why each learner gets one.
fn token_lines(out: &mut String, plan: &UpPlan, kubeconfig_dir: &str, duration: &str) {
    if plan.tokens.is_empty() {
        return;
    }
    let mut reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for token in &plan.tokens {
        reasons
            .entry(token.reason.describe())
            .or_default()
            .push(&token.namespace);
    }
    let _ = writeln!(
        out,
        "  token   {} kubeconfig(s) in {kubeconfig_dir}, each token valid for {duration}:",
        plan.tokens.len()
    );
    for (reason, names) in reasons {
        let _ = writeln!(out, "          {} ({reason})", abbreviate(&names));
    }
}

/// What the plan keeps and what it leaves alone.
fn left_lines(out: &mut String, plan: &UpPlan) {
    if !plan.unchanged.is_empty() {
        let _ = writeln!(
            out,
            "  keep    {} learner(s) already set up",
            plan.unchanged.len()
        );
    }
    if !plan.beyond.is_empty() {
        let names: Vec<&str> = plan.beyond.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  leave   {} (beyond --learners; `class down` removes the whole class)",
            abbreviate(&names)
        );
    }
    if !plan.stray_quotas.is_empty() {
        let names: Vec<&str> = plan.stray_quotas.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  leave   ResourceQuota {} (no --quota-* asked for it; delete it with kubectl if it should go)",
            abbreviate(&names)
        );
    }
}

/// The plan of `class down`, in the order it is carried out.
pub(crate) fn down_plan(plan: &DownPlan, heading: &str, kubeconfig_dir: &str) -> String {
    let mut out = format!("{heading}\n");
    for (kind, namespace, name) in &plan.strays {
        let _ = writeln!(
            out,
            "  delete  {kind} {}/{}",
            clean_line(namespace),
            clean_line(name)
        );
    }
    if !plan.namespaces.is_empty() {
        let names: Vec<&str> = plan.namespaces.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "  delete  {} namespace(s) and everything in them: {}",
            plan.namespaces.len(),
            abbreviate(&names)
        );
    }
    // In the order `class down` deletes: the policy once the namespaces are gone.
    for (kind, name) in &plan.cluster_wide {
        let _ = writeln!(
            out,
            "  delete  {kind} {name} (cluster-wide, once the namespaces are gone)"
        );
    }
    if !plan.kubeconfigs.is_empty() {
        let _ = writeln!(
            out,
            "  remove  {} kubeconfig file(s) in {kubeconfig_dir}",
            plan.kubeconfigs.len()
        );
    }
    out
}

/// What the class enforces in each learner's namespace, below the plan of `class up`.
pub(crate) fn confinement(rules: &Confinement) -> String {
    let join = |map: &BTreeMap<String, String>| {
        map.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = String::from(
        "Each learner's namespace enforces:
",
    );
    let _ = writeln!(
        out,
        "  Pod Security   {} enforced, {} warned and audited (version {}): no privileged pods, host namespaces or hostPath volumes",
        rules.pod_security_enforce, rules.pod_security_warn, rules.pod_security_version
    );
    let _ = writeln!(out, "  quota          {}", join(&rules.quota));
    let _ = writeln!(
        out,
        "  LimitRange     for containers that declare none: requests {}; limits {}",
        join(&rules.default_requests),
        join(&rules.default_limits)
    );
    let _ = writeln!(
        out,
        "  NetworkPolicy  {} (where the network plugin enforces NetworkPolicy; the lab's pods talk only inside themselves)",
        rules.network_policy
    );
    match &rules.admission_policy {
        Some(name) => {
            let _ = writeln!(
                out,
                "  admission      ValidatingAdmissionPolicy {name}: no pod or Job runs as the learner's ServiceAccount or uses a system-critical priority class; a learner creates only the quota `{}` and the ConfigMap `{}`",
                policy::LEARNER_QUOTA,
                crate::lab::PROGRESS_CONFIGMAP
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  admission      none: this cluster has no ValidatingAdmissionPolicy (see the warning)"
            );
        }
    }
    out
}

/// What `class up -o json` reports besides the plan and the rules.
pub(crate) struct UpSummary<'a> {
    pub class: &'a str,
    pub context: &'a str,
    pub learners: u32,
    /// `applied`, `dry-run` or `unchanged`.
    pub outcome: &'a str,
    pub kubeconfigs_written: usize,
}

/// `class up -o json`: one document, for scripts.
pub(crate) fn up_json(summary: &UpSummary<'_>, plan: &UpPlan, rules: &Confinement) -> String {
    let value = serde_json::json!({
        "class": summary.class,
        "context": summary.context,
        "learners": summary.learners,
        "outcome": summary.outcome,
        "create": plan.create.iter().map(crate::class::objects::ClassObject::describe).collect::<Vec<_>>(),
        "update": plan.update.iter().map(|(o, fields)| serde_json::json!({"object": o.describe(), "fields": fields})).collect::<Vec<_>>(),
        "tokens": plan.tokens.iter().map(|t| serde_json::json!({"namespace": t.namespace, "reason": t.reason.describe()})).collect::<Vec<_>>(),
        "kubeconfigsWritten": summary.kubeconfigs_written,
        "enforces": rules,
        "notEnforced": unenforced(rules),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The warning when the cluster cannot take the class's admission policy.
pub(crate) fn unenforced(rules: &Confinement) -> Option<String> {
    if rules.admission_policy.is_some() {
        return None;
    }
    let minor = rules
        .minor
        .map_or_else(|| "this cluster".to_owned(), |m| format!("Kubernetes {m}"));
    Some(format!(
        "{minor} does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (from 1.30): NOT enforced here: that no pod or Job runs as a learner's ServiceAccount (its token has no automount, but a pod may still name it), that a learner creates no quota but `{}`, and no ConfigMap but `{}`. Use a cluster of 1.30 or newer for a class",
        policy::LEARNER_QUOTA,
        crate::lab::PROGRESS_CONFIGMAP
    ))
}

/// `a, b, c, … z (26)`: long lists of learner names stay on one line. The names come
/// from the cluster: cleaned.
fn abbreviate(names: &[&str]) -> String {
    clean_line(&abbreviate_raw(names)).into_owned()
}

fn abbreviate_raw(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        _ if names.len() <= 4 => names.join(", "),
        [first, second, .., last] => format!("{first}, {second}, … {last} ({})", names.len()),
        _ => names.join(", "),
    }
}

/// `8h`, `90m`, `45s`.
pub(crate) fn human_duration(seconds: u64) -> String {
    if seconds % 3600 == 0 {
        format!("{}h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// `class up` when everything is in place.
pub(crate) fn up_unchanged(kubeconfig_dir: &str) -> String {
    format!(
        "Nothing to change: every learner's objects and kubeconfig are in place ({kubeconfig_dir}).\n"
    )
}

/// The warning when the kubeconfigs would name an address only this machine reaches.
pub(crate) fn loopback_warning(server: &str) -> String {
    format!(
        "the cluster's address {server} works only on this machine: learners on other machines need an address they can reach (for kind, set networking.apiServerAddress in the cluster config)"
    )
}

/// What `class up` did, for the closing lines.
pub(crate) struct UpDone<'a> {
    pub prefix: &'a ClassPrefix,
    pub context: &'a str,
    pub learners: u32,
    pub written: usize,
    pub dir: &'a str,
}

/// The closing lines of `class up`: what was done, and how a learner starts.
pub(crate) fn up_done(done: &UpDone<'_>) -> String {
    let UpDone {
        prefix,
        context,
        learners,
        written,
        dir,
    } = done;
    let first = prefix.namespace(1);
    format!(
        "✓ class `{}` is set up: {learners} learner(s); {written} kubeconfig(s) written to {dir} (mode 0600), each namespace confined as above.\n  Give each learner their own file; the first one runs:\n    export KUBECONFIG=$PWD/{first}.kubeconfig\n    sidecar-lab step 1 --context {first} --namespace {first}\n  Watch the class with: sidecar-lab class status --context {context} --prefix {prefix} --watch\n",
        prefix.label(),
    )
}

/// `class down` when nothing of the class is left.
pub(crate) fn down_nothing(heading: &str, label: &str) -> String {
    format!(
        "{heading} nothing labelled `{}={label}` is left; nothing to do.\n",
        crate::class::CLASS_LABEL,
    )
}

/// The closing line of `class down`.
pub(crate) fn down_done(label: &str, namespaces: usize, kubeconfigs: usize) -> String {
    format!(
        "✓ class `{label}` removed: {namespaces} namespace(s), {kubeconfigs} kubeconfig file(s)\n"
    )
}

//! The namespace a session runs in: used when it exists, created when it does not, and
//! taken on trust when the user may not read it (a learner's namespace on a shared
//! cluster), where the first create of a Job will say if it is really missing. The
//! commands are the `Cluster`'s, with its timeouts.

use anyhow::anyhow;

use crate::clock::SystemClock;
use crate::kube::Cluster;
use crate::kube::{NamespaceFound, Target};
use crate::runner::Runner;
use crate::setup_plan::NamespaceAction;
use crate::ui::Printer;

/// Reads whether `target`'s namespace exists (a read, for the plan). The read never
/// waits, so no clock is consulted: the host's facts are read with the runner alone.
pub(crate) fn find(runner: &dyn Runner, target: &Target) -> NamespaceFound {
    Cluster::new(runner, &SystemClock, target).namespace_found()
}

/// Carries out `action` for the namespace of `cluster`.
pub(crate) fn apply(
    cluster: &Cluster<'_>,
    action: &NamespaceAction,
    printer: &Printer,
) -> anyhow::Result<()> {
    let namespace = &cluster.target().namespace;
    match action {
        NamespaceAction::Use => Ok(()),
        NamespaceAction::Trust { why } => {
            printer.note(&format!(
                " • namespace `{namespace}`: cannot be read ({}); going on as if it exists",
                why.trim_start_matches("Error from server ")
            ));
            Ok(())
        }
        NamespaceAction::Create => {
            // Said once, as what happened: with -v the runner echoes the command itself.
            match cluster.create_namespace() {
                Ok(()) => {
                    printer.note(&format!(" • created namespace `{namespace}`"));
                    Ok(())
                }
                // Another session made it meanwhile: that is what was wanted.
                Err(error) if error.to_string().contains("(AlreadyExists)") => Ok(()),
                Err(error) => Err(anyhow!(
                    "{error}\nthe lab needs namespace `{namespace}`: create it (or ask the cluster's admin to), or pass another --namespace"
                )),
            }
        }
    }
}

/// Makes sure the namespace of `cluster` can be used: reads, then acts.
pub(crate) fn ensure(cluster: &Cluster<'_>, printer: &Printer) -> anyhow::Result<()> {
    let target = cluster.target();
    let action = NamespaceAction::for_found(cluster.namespace_found()).map_err(|why| {
        anyhow!(
            "cannot tell whether namespace `{}` exists: `{}` failed: {why}",
            target.namespace,
            target.get_namespace()
        )
    })?;
    apply(cluster, &action, printer)
}

//! The namespace a session runs in: used when it exists, created when it does not, and
//! taken on trust when the user may not read it (a learner's namespace on a shared
//! cluster), where the first create of a Job will say if it is really missing.

use std::time::Duration;

use anyhow::anyhow;

use crate::kube::{self, NamespaceFound, Target};
use crate::runner::{Runner, checked};
use crate::setup_plan::NamespaceAction;
use crate::ui::Printer;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Reads whether `target`'s namespace exists (a read, for the plan).
pub(crate) fn find(runner: &dyn Runner, target: &Target) -> NamespaceFound {
    match runner.run(&target.get_namespace(), TIMEOUT) {
        Ok(output) => kube::namespace_found(output.success(), &output.stderr),
        Err(error) => NamespaceFound::Unknown(error.to_string()),
    }
}

/// Carries out `action` for `target`'s namespace.
pub(crate) fn apply(
    runner: &dyn Runner,
    target: &Target,
    action: &NamespaceAction,
    printer: &Printer,
) -> anyhow::Result<()> {
    match action {
        NamespaceAction::Use => Ok(()),
        NamespaceAction::Trust { why } => {
            printer.note(&format!(
                " • namespace `{}`: cannot be read ({}); going on as if it exists",
                target.namespace,
                why.trim_start_matches("Error from server ")
            ));
            Ok(())
        }
        NamespaceAction::Create => {
            // Said once, as what happened: with -v the runner echoes the command itself.
            let create = target.create_namespace();
            match checked(runner, &create, TIMEOUT) {
                Ok(_) => {
                    printer.note(&format!(" • created namespace `{}`", target.namespace));
                    Ok(())
                }
                // Another session made it meanwhile: that is what was wanted.
                Err(error) if error.to_string().contains("(AlreadyExists)") => Ok(()),
                Err(error) => Err(anyhow!(
                    "{error}\nthe lab needs namespace `{}`: create it (or ask the cluster's admin to), or pass another --namespace",
                    target.namespace
                )),
            }
        }
    }
}

/// Makes sure `target`'s namespace can be used: reads, then acts.
pub(crate) fn ensure(
    runner: &dyn Runner,
    target: &Target,
    printer: &Printer,
) -> anyhow::Result<()> {
    let action = NamespaceAction::for_found(find(runner, target)).map_err(|why| {
        anyhow!(
            "cannot tell whether namespace `{}` exists: `{}` failed: {why}",
            target.namespace,
            target.get_namespace()
        )
    })?;
    apply(runner, target, &action, printer)
}

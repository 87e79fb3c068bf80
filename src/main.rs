//! The `sidecar-lab` binary: parses the command line, runs it, prints any error on one
//! line and exits with the documented status.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use sidecar_lab::app;
use sidecar_lab::cli::Cli;
use sidecar_lab::env::Environment;
use sidecar_lab::exit::ExitStatus;
use sidecar_lab::ui::Printer;

fn main() -> ExitCode {
    let environment = Environment::from_process();
    let printer = Printer::new(&environment);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, printer),
    };
    match app::run(cli, &environment, &printer) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            // The whole chain of causes on one line, each cause once.
            printer.error(&sidecar_lab::exit::one_line(&error));
            ExitCode::from(ExitStatus::UsageOrSetup.code())
        }
    }
}

/// Help and version go to standard output with status 0. A bad value is reported on one
/// line that lists what is allowed; other usage errors keep clap's usage hint.
fn usage_error(error: &clap::Error, printer: Printer) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            printer.out(&error.render().to_string());
            ExitCode::from(
                if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitStatus::UsageOrSetup.code()
                } else {
                    ExitStatus::Success.code()
                },
            )
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with("For more information"))
                .collect();
            let message = message.join(" ");
            printer.error(message.strip_prefix("error: ").unwrap_or(&message));
            ExitCode::from(ExitStatus::UsageOrSetup.code())
        }
        _ => {
            let _ = error.print();
            ExitCode::from(ExitStatus::UsageOrSetup.code())
        }
    }
}

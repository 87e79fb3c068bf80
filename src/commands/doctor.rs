//! `sidecar-lab doctor`: run the preflight checks, report them (text or JSON), and with
//! `--fix` apply the safe fixes, each confirmed unless `--yes`.

use std::path::PathBuf;

use crate::app::ExitStatus;
use crate::commands::World;
use crate::commands::install::docker_host;
use crate::doctor::checks::{self, Target};
use crate::doctor::{Check, Status, any_failed, fix, gather};
use crate::http::HttpClient;
use crate::install::execute;
use crate::matrix::VersionMatrix;
use crate::names::ClusterName;
use crate::platform::Platform;
use crate::ui::{Palette, prompt};
use crate::version::MinorVersion;

/// `doctor`'s arguments, free of clap.
#[derive(Clone, Debug)]
pub struct Settings {
    pub kubernetes: Option<MinorVersion>,
    pub cluster_name: ClusterName,
    pub fix: bool,
    pub yes: bool,
    pub json: bool,
}

/// Runs the checks (and the fixes); exit 1 when a check still fails.
pub fn doctor(settings: &Settings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let World {
        environment,
        printer,
        runner,
    } = world;
    let matrix = VersionMatrix::embedded()?;
    let release = matrix.release_or_default(settings.kubernetes)?;
    let target = Target {
        kubernetes: release.minor,
        cluster_name: settings.cluster_name.to_string(),
    };
    let bin_dir = environment
        .default_bin_dir()
        .unwrap_or_else(|| PathBuf::from(".local/bin"));
    let mut facts = gather::gather(environment, *runner, &bin_dir);
    let mut report = checks::all(&facts, &target);

    if settings.fix {
        let state_dir = environment
            .state_dir()
            .unwrap_or_else(|| PathBuf::from(".sidecar-lab"));
        let platform = facts
            .platform
            .clone()
            .and_then(Result::ok)
            .or_else(|| Platform::of_this_build().ok());
        if let Some(platform) = platform {
            let host = docker_host(environment, *runner, platform, &state_dir);
            let fixes = fix::plan(&report, &facts, &host);
            if fixes.is_empty() {
                printer.note("nothing that doctor --fix can fix");
            }
            let client = HttpClient::new()?;
            for fix in &fixes {
                printer.note(&format!("fix: {}", fix.title));
                if !prompt::confirm(
                    &format!("Apply: {}?", fix.title),
                    settings.yes,
                    environment.stdin_is_terminal,
                ) {
                    printer.note("skipped");
                    continue;
                }
                if let Err(error) =
                    execute::steps(&fix.steps, *runner, &client, printer, &state_dir)
                {
                    printer.error(&format!("{error:#}"));
                }
            }
            if !fixes.is_empty() {
                facts = gather::gather(environment, *runner, &bin_dir);
                report = checks::all(&facts, &target);
            }
        }
    }

    if settings.json {
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        printer.out(&text);
    } else {
        printer.out(&text(&report, &target, &printer.stdout_palette()));
    }
    Ok(if any_failed(&report) {
        ExitStatus::Unexpected
    } else {
        ExitStatus::Success
    })
}

/// The report for people.
pub fn text(report: &[Check], target: &Target, palette: &Palette) -> String {
    let mut out = format!(
        "Preflight for Kubernetes {} (kind cluster `{}`)\n",
        target.kubernetes, target.cluster_name
    );
    let width = report.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in report {
        let status = match check.status {
            Status::Pass => palette.added.apply_to("pass"),
            Status::Warn => palette.warning.apply_to("warn"),
            Status::Fail => palette.removed.apply_to("fail"),
        };
        out.push_str(&format!(
            "  {status}  {:width$}  {}\n",
            check.id, check.message
        ));
        if let Some(fix) = check.fix.as_ref().filter(|_| check.status != Status::Pass) {
            out.push_str(&format!("        {:width$}  fix: {fix}\n", ""));
        }
    }
    let failed = report.iter().filter(|c| c.status == Status::Fail).count();
    let warned = report.iter().filter(|c| c.status == Status::Warn).count();
    out.push_str(&match (failed, warned) {
        (0, 0) => "\nall checks passed\n".to_owned(),
        (0, w) => format!("\nno failures, {w} warning(s)\n"),
        (f, w) => format!("\n{f} failed, {w} warning(s): fix the failures (`sidecar-lab doctor --fix` applies the safe fixes)\n"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::gather::{DiskFree, Facts};
    use crate::install::detect::DockerStatus;

    #[test]
    fn the_report_as_people_read_it() {
        let facts = Facts {
            platform: Some(Ok("linux-amd64".parse().expect("platform"))),
            cpus: Some(2),
            memory_kib: Some(6 * 1024 * 1024),
            disk: Some(DiskFree {
                path: "/var/lib/docker".into(),
                free_kib: 80 * 1024 * 1024,
            }),
            docker: Some(DockerStatus::PermissionDenied {
                client: Some("28.2.2".into()),
            }),
            cgroup_fs: Some("cgroup2fs".into()),
            inotify_watches: Some(8192),
            inotify_instances: Some(128),
            ..Facts::default()
        };
        let target = Target {
            kubernetes: MinorVersion::new(1, 37),
            cluster_name: "sidecar-lab".into(),
        };
        insta::assert_snapshot!(text(
            &checks::all(&facts, &target),
            &target,
            &Palette::new(false)
        ));
    }
}

//! The preflight report as people read it.

use crate::doctor::checks::Target;
use crate::doctor::{Check, Status};
use crate::ui::Palette;

/// The report for people.
pub(crate) fn text(report: &[Check], target: &Target, palette: &Palette) -> String {
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
            check.id,
            // Messages quote docker, kind and the host's files.
            crate::ui::text::clean(&check.message)
        ));
        if let Some(fix) = check.fix.as_ref().filter(|_| check.status != Status::Pass) {
            let fix = crate::ui::text::clean(fix);
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
    use crate::doctor::checks;
    use crate::doctor::gather::{DiskFree, Facts};
    use crate::install::detect::DockerStatus;
    use crate::version::MinorVersion;

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

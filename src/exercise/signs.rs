//! Signs read from the manifest a learner wrote: where postgres runs and with what
//! `restartPolicy`, whether `main` still does its work, how the sidecars are ordered.
//! Containers are recognised by what they run, never by their names, so a renamed
//! sidecar is still postgres. Pure.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde::{Deserialize, Serialize};

/// One thing true of a manifest, named as the exercises file names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sign {
    /// No container runs the postgres server.
    NoPostgres,
    /// postgres runs in `containers`.
    PostgresRegular,
    /// postgres runs in `initContainers` without a `restartPolicy`.
    PostgresPlainInit,
    /// postgres runs in `initContainers` with `restartPolicy: OnFailure` or `Never`.
    PostgresInitOtherRestartPolicy,
    /// postgres runs in `initContainers` with `restartPolicy: Always`: a native sidecar.
    PostgresSidecar,
    /// A regular container has a `restartPolicy`.
    RestartPolicyOnRegularContainer,
    /// An init container's `restartPolicy` is none of `Always`, `OnFailure`, `Never`.
    InitRestartPolicyMisspelt,
    /// A plain init container that waits for postgres (`pg_isready`) comes before the
    /// postgres sidecar, or there is none.
    PlainInitWaitsBeforeSidecar,
    /// postgres is a regular container with a readinessProbe.
    ReadinessProbeOnRegularPostgres,
    /// No app container runs `main`'s work as the exercise gave it.
    MainWorkChanged,
    /// Fewer than two sidecars.
    OneSidecar,
    /// A sidecar other than postgres is declared after the postgres sidecar.
    SecondSidecarAfterPostgres,
}

impl Sign {
    pub const ALL: [Self; 12] = [
        Self::NoPostgres,
        Self::PostgresRegular,
        Self::PostgresPlainInit,
        Self::PostgresInitOtherRestartPolicy,
        Self::PostgresSidecar,
        Self::RestartPolicyOnRegularContainer,
        Self::InitRestartPolicyMisspelt,
        Self::PlainInitWaitsBeforeSidecar,
        Self::ReadinessProbeOnRegularPostgres,
        Self::MainWorkChanged,
        Self::OneSidecar,
        Self::SecondSidecarAfterPostgres,
    ];
}

/// `main`'s work as the exercise's starting manifest gives it: its command and
/// arguments. An answer's app container must run exactly this (whatever its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainWork {
    pub command: Vec<String>,
    pub args: Vec<String>,
}

impl MainWork {
    /// The work of the app container named `main` in `job`.
    pub fn of(job: &Job) -> Option<Self> {
        let spec = pod_spec(job)?;
        spec.containers
            .iter()
            .find(|c| c.name == "main")
            .map(Self::from_container)
    }

    fn from_container(container: &Container) -> Self {
        Self {
            command: container.command.clone().unwrap_or_default(),
            args: container.args.clone().unwrap_or_default(),
        }
    }

    /// Whether `container` runs this work: the same command, and the same arguments
    /// line by line, trailing blanks aside (YAML's `|` and `|-` differ only there).
    pub fn done_by(&self, container: &Container) -> bool {
        let theirs = Self::from_container(container);
        let lines = |args: &[String]| -> Vec<String> {
            args.iter()
                .flat_map(|a| {
                    a.lines()
                        .map(|l| l.trim_end().to_owned())
                        .collect::<Vec<_>>()
                })
                .filter(|l| !l.is_empty())
                .collect()
        };
        theirs.command == self.command && lines(&theirs.args) == lines(&self.args)
    }
}

/// The pod spec of a Job's template.
pub fn pod_spec(job: &Job) -> Option<&PodSpec> {
    job.spec.as_ref()?.template.spec.as_ref()
}

/// Whether `container` runs the postgres server: a postgres image with no command of its
/// own (the image's entrypoint is the server), or a script one of whose commands starts
/// the server (`postgres`, `docker-entrypoint.sh postgres`, `exec …`, `… &`). A client
/// such as `pg_isready` or `psql -U postgres` is not the server.
pub fn serves_postgres(container: &Container) -> bool {
    let image = container.image.as_deref().unwrap_or_default();
    let name = image.rsplit('/').next().unwrap_or_default();
    let postgres_image =
        name == "postgres" || name.starts_with("postgres:") || name.starts_with("postgres@");
    let command = container.command.as_deref().unwrap_or_default();
    let args = container.args.as_deref().unwrap_or_default();
    if command.is_empty() {
        // The image's entrypoint runs the args as postgres's own (or as a command).
        return postgres_image
            && (args.is_empty()
                || args
                    .first()
                    .is_some_and(|a| a == "postgres" || a.starts_with('-')));
    }
    let words: Vec<&str> = command.iter().chain(args).map(String::as_str).collect();
    if words.first().is_some_and(|w| starts_server(w)) {
        return true;
    }
    words
        .iter()
        .flat_map(|w| w.split(['\n', ';', '&', '|']))
        .any(|line| {
            let mut parts = line.split_whitespace();
            let first = match parts.next() {
                Some("exec") => parts.next(),
                other => other,
            };
            first.is_some_and(|f| {
                starts_server(f)
                    || (f == "docker-entrypoint.sh" && parts.next() == Some("postgres"))
            })
        })
}

fn policy(container: &Container) -> Option<&str> {
    container.restart_policy.as_deref()
}

fn starts_server(word: &str) -> bool {
    word == "postgres" || word.ends_with("/postgres")
}

/// Whether `container`'s script waits for postgres (`pg_isready`).
fn waits_for_postgres(container: &Container) -> bool {
    container
        .command
        .iter()
        .chain(container.args.iter())
        .flatten()
        .any(|w| w.contains("pg_isready"))
}

/// Every sign that holds for `job`, given the exercise's `main` work.
pub fn signs(job: &Job, work: &MainWork) -> Vec<Sign> {
    let Some(spec) = pod_spec(job) else {
        return vec![Sign::NoPostgres, Sign::MainWorkChanged, Sign::OneSidecar];
    };
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let apps = &spec.containers;
    let sidecar = |c: &Container| policy(c) == Some("Always");
    let mut found = Vec::new();
    let mut push = |sign: Sign, holds: bool| {
        if holds {
            found.push(sign);
        }
    };
    let postgres_sidecar = inits.iter().position(|c| serves_postgres(c) && sidecar(c));
    let regular_postgres: Vec<&Container> = apps.iter().filter(|c| serves_postgres(c)).collect();
    push(
        Sign::NoPostgres,
        !inits.iter().chain(apps).any(serves_postgres),
    );
    push(Sign::PostgresRegular, !regular_postgres.is_empty());
    push(
        Sign::PostgresPlainInit,
        inits
            .iter()
            .any(|c| serves_postgres(c) && policy(c).is_none()),
    );
    push(
        Sign::PostgresInitOtherRestartPolicy,
        inits
            .iter()
            .any(|c| serves_postgres(c) && matches!(policy(c), Some("OnFailure" | "Never"))),
    );
    push(Sign::PostgresSidecar, postgres_sidecar.is_some());
    push(
        Sign::RestartPolicyOnRegularContainer,
        apps.iter().any(|c| policy(c).is_some()),
    );
    push(
        Sign::InitRestartPolicyMisspelt,
        inits
            .iter()
            .any(|c| policy(c).is_some_and(|p| !matches!(p, "Always" | "OnFailure" | "Never"))),
    );
    let waits_first = inits.iter().enumerate().any(|(index, c)| {
        !sidecar(c)
            && !serves_postgres(c)
            && waits_for_postgres(c)
            && postgres_sidecar.is_none_or(|p| index < p)
    });
    push(
        Sign::PlainInitWaitsBeforeSidecar,
        waits_first && postgres_sidecar.is_some(),
    );
    push(
        Sign::ReadinessProbeOnRegularPostgres,
        regular_postgres.iter().any(|c| c.readiness_probe.is_some()),
    );
    push(Sign::MainWorkChanged, !apps.iter().any(|c| work.done_by(c)));
    push(
        Sign::OneSidecar,
        inits.iter().filter(|c| sidecar(c)).count() < 2,
    );
    push(
        Sign::SecondSidecarAfterPostgres,
        postgres_sidecar.is_some_and(|p| {
            inits
                .iter()
                .skip(p + 1)
                .any(|c| sidecar(c) && !serves_postgres(c))
        }),
    );
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: &str) -> Job {
        crate::yaml::from_str(&format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: x}}\nspec:\n  template:\n    spec:\n{}",
            spec.lines().map(|l| format!("      {l}\n")).collect::<String>()
        ))
        .expect("a Job")
    }

    fn work() -> MainWork {
        MainWork {
            command: vec!["sh".into(), "-c".into()],
            args: vec!["until pg_isready -h localhost; do sleep 0.5; done\npsql -h localhost -U postgres -c 'CREATE TABLE t (c int);'\n".into()],
        }
    }

    const MAIN: &str = "- name: main\n  image: postgres:17.5-alpine\n  command: [sh, -c]\n  args:\n    - |\n      until pg_isready -h localhost; do sleep 0.5; done\n      psql -h localhost -U postgres -c 'CREATE TABLE t (c int);'\n";

    fn with(inits: &str, extra_apps: &str) -> Vec<Sign> {
        let mut spec = String::from("restartPolicy: Never\n");
        if !inits.is_empty() {
            spec.push_str("initContainers:\n");
            spec.push_str(inits);
        }
        spec.push_str("containers:\n");
        spec.push_str(MAIN);
        spec.push_str(extra_apps);
        signs(&job(&spec), &work())
    }

    #[test]
    fn a_renamed_sidecar_is_still_postgres() {
        let signs = with(
            "- name: db\n  image: docker.io/library/postgres:17.5-alpine\n  restartPolicy: Always\n",
            "",
        );
        assert_eq!(signs, [Sign::PostgresSidecar, Sign::OneSidecar]);
    }

    #[test]
    fn each_placement_of_postgres_has_its_sign() {
        assert_eq!(
            with("", "- name: postgres\n  image: postgres:17.5-alpine\n"),
            [Sign::PostgresRegular, Sign::OneSidecar]
        );
        assert_eq!(
            with("- name: postgres\n  image: postgres:17.5-alpine\n", ""),
            [Sign::PostgresPlainInit, Sign::OneSidecar]
        );
        assert_eq!(
            with(
                "- name: postgres\n  image: postgres:17.5-alpine\n  restartPolicy: OnFailure\n",
                ""
            ),
            [Sign::PostgresInitOtherRestartPolicy, Sign::OneSidecar]
        );
        assert_eq!(
            with(
                "- name: postgres\n  image: postgres:17.5-alpine\n  restartPolicy: always\n",
                ""
            ),
            [Sign::InitRestartPolicyMisspelt, Sign::OneSidecar]
        );
        assert_eq!(with("", ""), [Sign::NoPostgres, Sign::OneSidecar]);
        assert_eq!(
            with(
                "",
                "- name: postgres\n  image: postgres:17.5-alpine\n  restartPolicy: Always\n  readinessProbe: {exec: {command: [pg_isready]}}\n"
            ),
            [
                Sign::PostgresRegular,
                Sign::RestartPolicyOnRegularContainer,
                Sign::ReadinessProbeOnRegularPostgres,
                Sign::OneSidecar
            ]
        );
    }

    #[test]
    fn a_script_that_runs_the_server_serves_and_a_client_does_not() {
        let scripted = "- name: pg\n  image: postgres:17.5-alpine\n  restartPolicy: Always\n  command: [sh, -c]\n  args: ['docker-entrypoint.sh postgres & pid=$!; wait $pid']\n";
        assert!(with(scripted, "").contains(&Sign::PostgresSidecar));
        let client = "- name: pg\n  image: postgres:17.5-alpine\n  restartPolicy: Always\n  command: [sh, -c]\n  args: ['psql -U postgres -c select']\n";
        assert!(with(client, "").contains(&Sign::NoPostgres));
    }

    #[test]
    fn a_waiting_init_before_the_sidecar_and_a_late_second_sidecar_are_seen() {
        let wait = "- name: wait\n  image: postgres:17.5-alpine\n  command: [sh, -c, 'until pg_isready -h localhost; do sleep 1; done']\n";
        let pg = "- name: postgres\n  image: postgres:17.5-alpine\n  restartPolicy: Always\n";
        let shipper = "- name: log-shipper\n  image: postgres:17.5-alpine\n  restartPolicy: Always\n  command: [sh, -c, 'while true; do sleep 1; done']\n";
        assert!(with(&format!("{wait}{pg}"), "").contains(&Sign::PlainInitWaitsBeforeSidecar));
        assert!(!with(&format!("{pg}{wait}"), "").contains(&Sign::PlainInitWaitsBeforeSidecar));
        assert_eq!(with(&format!("{shipper}{pg}"), ""), [Sign::PostgresSidecar]);
        assert_eq!(
            with(&format!("{pg}{shipper}"), ""),
            [Sign::PostgresSidecar, Sign::SecondSidecarAfterPostgres]
        );
    }

    #[test]
    fn main_doing_something_else_is_seen() {
        let mut spec = String::from(
            "restartPolicy: Never\ninitContainers:\n- name: postgres\n  image: postgres:17.5-alpine\n  restartPolicy: Always\ncontainers:\n- name: main\n  image: postgres:17.5-alpine\n  command: [sh, -c, 'exit 0']\n",
        );
        assert!(signs(&job(&spec), &work()).contains(&Sign::MainWorkChanged));
        spec.push_str("  args: []\n");
        assert!(signs(&job(&spec), &work()).contains(&Sign::MainWorkChanged));
    }
}

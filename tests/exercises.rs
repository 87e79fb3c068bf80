//! Every answer in tests/fixtures/exercises, on the simulator, minor by minor: applied as
//! it is with the real kubectl, it does what a real cluster of that minor does (the API
//! server's refusals word for word, fields dropped, pods held, the deadlock, the
//! deadline, the sidecars' start and stop order); submitted with `sidecar-lab submit`,
//! each catalogue mistake gets its own hint, three different correct answers pass, and
//! an answer without postgres or without `main`'s work never does. The index
//! (`cases.yaml`) says what each must come to; a check without a cluster keeps it and
//! labs/exercises.yaml in step.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]
#![allow(
    clippy::print_stderr,
    reason = "the case table and its times, for whoever runs it with --nocapture"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use sidecar_lab::exercise::Catalogue;
use support::exercise_cases::{
    self as cases, ClusterKey, KUBECTL_SPEED, Run, fixtures, index, items, pod_statuses, runs,
    terminal,
};
use support::machine::SimMachine;
use support::text;

/// The files whose answer removes postgres or `main`'s work: never solved.
const NEVER: [&str; 3] = [
    "no-postgres.yaml",
    "main-work-changed.yaml",
    "no-postgres-main-work-deleted.yaml",
];

fn stem(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

#[test]
fn the_index_covers_every_mistake_of_every_exercise() {
    let catalogue = Catalogue::embedded().expect("the built-in catalogue");
    let index = index();
    let mut hinted: BTreeSet<(u8, &str)> = BTreeSet::new();
    for case in &index.cases {
        let number = case.exercise;
        assert!(
            catalogue
                .exercises
                .iter()
                .any(|e| e.number.0 == u32::from(number)),
            "{}: no exercise {number}",
            case.file
        );
        assert!(
            fixtures().join(&case.file).is_file(),
            "{}: no such fixture",
            case.file
        );
        assert!(
            case.file.starts_with(&format!("exercise-{number}/")),
            "{}: not under exercise-{number}/",
            case.file
        );
        assert!(
            !case.on.is_empty(),
            "{}: names no Kubernetes minor",
            case.file
        );
        if let Some(hint) = &case.hint {
            let mistake = catalogue
                .mistake(hint)
                .unwrap_or_else(|| panic!("{}: no mistake {hint} in the catalogue", case.file));
            assert!(
                mistake.exercises.is_empty()
                    || mistake.exercises.iter().any(|e| e.0 == u32::from(number)),
                "{}: mistake {hint} does not apply to exercise {number}",
                case.file
            );
            hinted.insert((number, hint.as_str()));
        }
        assert_eq!(
            case.result == "solved",
            case.hint.is_none() && case.says.is_none(),
            "{}: a solved case has no hint, every other one has a hint or a text",
            case.file
        );
        if NEVER.contains(&stem(&case.file)) {
            assert_ne!(case.result, "solved", "{}", case.file);
        }
    }
    for exercise in &catalogue.exercises {
        let number = u8::try_from(exercise.number.0).expect("a small number");
        for mistake in catalogue.mistakes.iter().filter(|m| {
            m.exercises.is_empty() || m.exercises.iter().any(|e| e.0 == u32::from(number))
        }) {
            assert!(
                hinted.contains(&(number, mistake.id.as_str())),
                "exercise {number}: no case for mistake {}",
                mistake.id
            );
        }
        let solved: BTreeSet<&str> = index
            .cases
            .iter()
            .filter(|c| c.exercise == number && c.result == "solved")
            .map(|c| c.file.as_str())
            .collect();
        assert!(solved.len() >= 3, "exercise {number}: {solved:?}");
        for never in NEVER {
            let file = format!("exercise-{number}/{never}");
            assert!(
                index.cases.iter().any(|c| c.file == file),
                "no case for {file}"
            );
        }
    }
}

/// What kubectl and the cluster did with one case, or why it differs from the index.
fn applied(machine: &SimMachine, run: &Run) -> Result<(), String> {
    let namespace = run.namespace("k");
    let path = fixtures().join(&run.case.file);
    let path = path.display().to_string();
    let output = machine.kubectl(&["apply", "-n", &namespace, "-f", &path]);
    let stderr = text(&output.stderr);
    match (&run.case.kubectl.refused, output.status.success()) {
        (Some(refused), false) => {
            let want = refused.replace("FILE", &path);
            if stderr.trim() == want {
                Ok(())
            } else {
                Err(format!("kubectl said\n  {}\nnot\n  {want}", stderr.trim()))
            }
        }
        (Some(_), true) => Err("kubectl apply was not refused".into()),
        (None, false) => Err(format!("kubectl apply refused: {stderr}")),
        (None, true) => Ok(()),
    }
}

/// Whether the namespace's objects show what the index says; why not when they do not.
fn settled(
    run: &Run,
    jobs: &BTreeMap<String, Value>,
    pods: &BTreeMap<String, Value>,
    statuses: &BTreeMap<String, String>,
) -> Result<(), String> {
    let namespace = run.namespace("k");
    let want = &run.case.kubectl;
    let job = jobs.get(&namespace).ok_or("no Job")?;
    let condition = terminal(job);
    if let Some(kind) = &want.job {
        let Some((got, reason)) = &condition else {
            return Err(format!("no {kind} condition yet"));
        };
        if got != kind || want.reason.as_ref().is_some_and(|r| r != reason) {
            return Err(format!("the Job is {got} ({reason})"));
        }
    } else if let Some((got, reason)) = &condition {
        return Err(format!("the Job ended: {got} ({reason})"));
    }
    if let Some(status) = &want.pod {
        let got = statuses.get(&namespace).map_or("(no pod)", String::as_str);
        if got != status {
            return Err(format!("the pod shows {got}, not {status}"));
        }
    }
    if want.job.as_deref() == Some("Complete") {
        order(run, pods.get(&namespace).ok_or("no pod")?)?;
    }
    Ok(())
}

/// An RFC 3339 second as a number.
fn second(stamp: &Value) -> i64 {
    stamp
        .as_str()
        .and_then(|s| s.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map_or(0, k8s_openapi::jiff::Timestamp::as_second)
}

/// The start and finish of a pod's container called one of `names`.
fn times(pod: &Value, names: &[&str]) -> Option<(i64, i64)> {
    let statuses = pod["status"]["initContainerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod["status"]["containerStatuses"]
                .as_array()
                .into_iter()
                .flatten(),
        );
    statuses
        .filter(|s| names.contains(&s["name"].as_str().unwrap_or_default()))
        .map(|s| {
            let done = &s["state"]["terminated"];
            (second(&done["startedAt"]), second(&done["finishedAt"]))
        })
        .next()
}

/// The order the kubelet kept: a startupProbe on postgres holds `main` until postgres
/// accepts connections (1.5 s after it starts); exercise 3's log shipper stops after
/// postgres when declared before it, and before it when declared after.
fn order(run: &Run, pod: &Value) -> Result<(), String> {
    let file = stem(&run.case.file);
    let postgres = times(pod, &["postgres", "db"]);
    if file == "solved-startup-probe.yaml" {
        let (Some((pg, _)), Some((main, _))) = (postgres, times(pod, &["main"])) else {
            return Err("no postgres or main status".into());
        };
        if main < pg + 1 {
            return Err(format!("main started at {main}, postgres at {pg}"));
        }
    }
    if run.case.exercise == 3 && postgres.is_some() && !file.starts_with("no-postgres") {
        let (Some((_, pg)), Some((_, shipper))) = (postgres, times(pod, &["log-shipper"])) else {
            return Ok(());
        };
        let after = file != "second-sidecar-wrong-order.yaml";
        if (shipper > pg) != after {
            return Err(format!(
                "the log shipper finished at {shipper}, postgres at {pg}"
            ));
        }
    }
    Ok(())
}

/// Applies every run on its cluster with plain kubectl and waits until each shows what
/// the index says: a Job's condition at once, a held pod once the 60-second give-ups of
/// `main` and of a waiting init container have passed since it was applied (in simulated
/// time; the starting Jobs' own deadline ends them later).
fn kubectl_phase(clusters: &BTreeMap<ClusterKey, SimMachine>, all: &[Run]) -> Vec<String> {
    let start = Instant::now();
    for (key, machine) in clusters {
        let namespaces: Vec<String> = all
            .iter()
            .filter(|r| &r.key == key)
            .map(|r| r.namespace("k"))
            .collect();
        cases::create_namespaces(machine, &namespaces);
    }
    let applies = cases::pool(all, 6, |run| {
        applied(&clusters[&run.key], run).map(|()| Instant::now())
    });
    eprintln!("applied in {:?}", start.elapsed());
    let mut failures: Vec<String> = all
        .iter()
        .zip(&applies)
        .filter_map(|(run, r)| r.as_ref().err().map(|e| format!("{}: {e}", run.label())))
        .collect();
    let mut pending: Vec<(&Run, Instant)> = all
        .iter()
        .zip(&applies)
        .filter(|(run, _)| run.case.kubectl.refused.is_none())
        .filter_map(|(run, r)| r.as_ref().ok().map(|at| (run, *at)))
        .collect();
    let settle = Duration::from_secs_f64(70.0 / KUBECTL_SPEED);
    let mut last = BTreeMap::new();
    cases::poll(Duration::from_secs(60), || {
        last.clear();
        for (key, machine) in clusters {
            if !pending.iter().any(|(r, _)| &r.key == key) {
                continue;
            }
            let (jobs, pods) = items(machine);
            let statuses = if pending
                .iter()
                .any(|(r, _)| &r.key == key && r.case.kubectl.pod.is_some())
            {
                pod_statuses(machine)
            } else {
                BTreeMap::new()
            };
            pending.retain(|(run, at)| {
                if &run.key != key {
                    return true;
                }
                match settled(run, &jobs, &pods, &statuses) {
                    Ok(()) if run.case.kubectl.pod.is_none() || at.elapsed() >= settle => false,
                    Ok(()) => true,
                    Err(why) => {
                        last.insert(run.label(), why);
                        true
                    }
                }
            });
        }
        pending.is_empty()
    });
    failures.extend(pending.iter().map(|(run, _)| {
        format!(
            "{}: {}",
            run.label(),
            last.get(&run.label()).map_or("not settled", String::as_str)
        )
    }));
    failures
}

#[test]
fn every_case_does_with_kubectl_what_a_real_cluster_of_its_minor_does() {
    let all = runs(&index());
    let start = Instant::now();
    let clusters = cases::start_all(&all, KUBECTL_SPEED);
    eprintln!("{} clusters in {:?}", clusters.len(), start.elapsed());
    let failures = kubectl_phase(&clusters, &all);
    eprintln!("{} cases with kubectl in {:?}", all.len(), start.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What `sidecar-lab submit` said of one run: its JSON, its exit code, its text (when
/// the case has words to find), how long it took.
struct Submitted {
    json: Option<Value>,
    code: Option<i32>,
    text: String,
    took: Duration,
}

/// `sidecar-lab exercise N`, then `sidecar-lab submit N FILE -o json` in the run's own
/// namespace and state directory (and once more in text when the case has words to find).
fn submit(machine: &SimMachine, run: &Run) -> Submitted {
    let start = Instant::now();
    let namespace = run.namespace("s");
    let dir = machine.root.path().join("answers").join(&namespace);
    std::fs::create_dir_all(&dir).expect("the case's directory");
    let number = run.case.exercise.to_string();
    let file = fixtures().join(&run.case.file).display().to_string();
    let sidecar_lab = |args: &[&str]| {
        let mut command = machine.command(assert_cmd::cargo::cargo_bin("sidecar-lab"));
        command
            .env("XDG_STATE_HOME", dir.join("state"))
            .env("KUBECONFIG", machine.home().join(".kube/config"))
            .current_dir(&dir)
            .args(args);
        command.output().expect("sidecar-lab runs")
    };
    let dir_text = dir.display().to_string();
    let started = sidecar_lab(&["exercise", &number, "--dir", &dir_text]);
    assert!(
        started.status.success(),
        "{}: exercise {number}: {}{}",
        run.label(),
        text(&started.stdout),
        text(&started.stderr)
    );
    let place = ["--context", "kind-lab", "--namespace", namespace.as_str()];
    let mut args = vec!["submit", number.as_str(), file.as_str(), "-o", "json"];
    args.extend_from_slice(&place);
    let output = sidecar_lab(&args);
    let json = serde_json::from_slice(&output.stdout).ok();
    let mut words = format!("{}{}", text(&output.stdout), text(&output.stderr));
    if run.case.says.is_some() && json.is_some() {
        let mut args = vec!["submit", number.as_str(), file.as_str()];
        args.extend_from_slice(&place);
        let again = sidecar_lab(&args);
        words = format!("{}{}", text(&again.stdout), text(&again.stderr));
    }
    Submitted {
        json,
        code: output.status.code(),
        text: words,
        took: start.elapsed(),
    }
}

/// Why `submitted` is not what the index says for `run`, if it is not.
fn judged(run: &Run, submitted: &Submitted) -> Result<(), String> {
    let case = &run.case;
    if let Some(says) = &case.says {
        // The text output wraps long lines.
        let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        if !flat(&submitted.text).contains(&flat(says)) {
            return Err(format!("the output lacks `{says}`:\n{}", submitted.text));
        }
    }
    if case.result == "too-old" {
        return match &submitted.json {
            Some(json) if json["solved"] == true => {
                Err("solved on a minor it cannot run on".into())
            }
            _ if submitted.code == Some(0) => Err("exit 0".into()),
            _ => Ok(()),
        };
    }
    let json = submitted
        .json
        .as_ref()
        .ok_or_else(|| format!("no JSON (exit {:?}):\n{}", submitted.code, submitted.text))?;
    let solved = case.result == "solved";
    let hint = case.hint.as_deref().map_or(Value::Null, Value::from);
    if json["result"] != case.result.as_str() || json["hint"] != hint || json["solved"] != solved {
        return Err(format!(
            "got result {}, hint {}, solved {}; want {}, {hint}, {solved}",
            json["result"], json["hint"], json["solved"], case.result
        ));
    }
    if NEVER.contains(&stem(&case.file)) && json["solved"] != false {
        return Err("solved without postgres or without main's work".into());
    }
    let code = i32::from(!solved);
    if submitted.code != Some(code) {
        return Err(format!("exit {:?}, not {code}", submitted.code));
    }
    Ok(())
}

#[test]
fn every_case_gets_its_hint_from_submit_and_every_right_answer_passes() {
    let all = runs(&index());
    let start = Instant::now();
    let clusters = cases::start_all(&all, cases::SPEED);
    for (key, machine) in &clusters {
        let namespaces: Vec<String> = all
            .iter()
            .filter(|r| &r.key == key)
            .map(|r| r.namespace("s"))
            .collect();
        cases::create_namespaces(machine, &namespaces);
    }
    eprintln!("{} clusters in {:?}", clusters.len(), start.elapsed());
    let submitted = cases::pool(&all, 24, |run| submit(&clusters[&run.key], run));
    let mut failures = Vec::new();
    eprintln!(
        "{:<58} {:>5}  {:<12} {:<36} time",
        "case", "minor", "result", "hint"
    );
    for (run, got) in all.iter().zip(&submitted) {
        let field = |name: &str| {
            got.json
                .as_ref()
                .map_or_else(|| "-".to_owned(), |j| j[name].to_string().replace('"', ""))
        };
        eprintln!(
            "{:<58} {:>5}  {:<12} {:<36} {:.1}s",
            run.case.file,
            format!("{}{}", run.key.0, if run.key.1 { "g" } else { "" }),
            field("result"),
            field("hint"),
            got.took.as_secs_f64()
        );
        if let Err(why) = judged(run, got) {
            failures.push(format!("{}: {why}", run.label()));
        }
    }
    eprintln!("{} cases with submit in {:?}", all.len(), start.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

//! The one scripted `Runner`, for the unit tests and for the integration tests that run
//! verbs in-process: each rule answers the commands whose line contains its text (or is
//! exactly its line), the first rule that matches winning, so a test puts the narrow ones
//! first; a rule may also be a function of the command and of what ran before it (a
//! cluster that exists once `kind create cluster` ran). Every command asked for is
//! recorded as it would print. A command no rule answers exits 1, as an unknown kubectl
//! subcommand would. Never used by the binary: it is public for the tests alone.

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::runner::{CommandLine, Output, RunError, Runner};

/// An answer worked out from the command and the command lines that ran before it;
/// `None` leaves the command to the rules after it.
type Respond = dyn Fn(&CommandLine, &[String]) -> Option<Output> + Send + Sync;

/// Which commands a rule answers.
enum Match {
    /// Those whose line contains the text.
    Contains(String),
    /// The one whose line is exactly the text.
    Exact(String),
}

impl Match {
    fn matches(&self, line: &str) -> bool {
        match self {
            Self::Contains(needle) => line.contains(needle.as_str()),
            Self::Exact(exact) => line == exact,
        }
    }
}

/// What a rule answers with.
#[derive(Clone)]
enum Reply {
    Output(Output),
    /// The program cannot be started: `RunError::NotFound`.
    NotFound,
}

enum Rule {
    Fixed(Match, Reply),
    Function(Box<Respond>),
}

/// A runner that answers from a script and records what it was asked.
#[derive(Default)]
pub struct ScriptedRunner {
    rules: Vec<Rule>,
    calls: Mutex<Vec<String>>,
}

fn output(code: i32, stdout: &str, stderr: &str) -> Output {
    Output {
        code: Some(code),
        stdout: stdout.to_owned(),
        stderr: stderr.to_owned(),
    }
}

impl ScriptedRunner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Commands containing `needle` succeed and print `stdout`.
    pub fn ok(self, needle: &str, stdout: &str) -> Self {
        self.answer(needle, 0, stdout, "")
    }

    /// Commands containing `needle` exit with `code`, printing `stdout` and `stderr`.
    pub fn answer(self, needle: &str, code: i32, stdout: &str, stderr: &str) -> Self {
        self.rule(
            Match::Contains(needle.to_owned()),
            Reply::Output(output(code, stdout, stderr)),
        )
    }

    /// Commands containing `needle` fail with `code`, saying `stderr`.
    pub fn fail(self, needle: &str, code: i32, stderr: &str) -> Self {
        self.answer(needle, code, "", stderr)
    }

    /// The command whose line is exactly `line` exits with `code`, printing `stdout`
    /// and `stderr`.
    pub fn exact(self, line: &str, code: i32, stdout: &str, stderr: &str) -> Self {
        self.rule(
            Match::Exact(line.to_owned()),
            Reply::Output(output(code, stdout, stderr)),
        )
    }

    /// Commands containing `needle` cannot be started: their program is not found.
    pub fn not_found(self, needle: &str) -> Self {
        self.rule(Match::Contains(needle.to_owned()), Reply::NotFound)
    }

    /// Commands that `respond` answers (given the command and the lines that ran before
    /// it) get its answer; those it leaves (`None`) go on to the next rules. It runs
    /// while the calls are locked, so it must not ask this runner for them.
    pub fn respond(
        mut self,
        respond: impl Fn(&CommandLine, &[String]) -> Option<Output> + Send + Sync + 'static,
    ) -> Self {
        self.rules.push(Rule::Function(Box::new(respond)));
        self
    }

    /// Puts `first`'s rules before these (narrow answers ahead of broad ones).
    pub fn prepend(mut self, first: Self) -> Self {
        let mut rules = first.rules;
        rules.append(&mut self.rules);
        self.rules = rules;
        self
    }

    fn rule(mut self, when: Match, reply: Reply) -> Self {
        self.rules.push(Rule::Fixed(when, reply));
        self
    }

    /// Every command asked for so far, as its shell line.
    pub fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The commands asked for whose line contains `needle`.
    pub fn calls_with(&self, needle: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.contains(needle))
            .collect()
    }

    fn reply(&self, command: &CommandLine) -> Result<Output, RunError> {
        let line = command.to_string();
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let reply = self.rules.iter().find_map(|rule| match rule {
            Rule::Fixed(when, reply) => when.matches(&line).then(|| reply.clone()),
            Rule::Function(respond) => respond(command, &calls).map(Reply::Output),
        });
        calls.push(line.clone());
        match reply {
            Some(Reply::Output(output)) => Ok(output),
            Some(Reply::NotFound) => Err(RunError::NotFound {
                command: command.program.clone(),
            }),
            None => Ok(output(1, "", &format!("not scripted: {line}\n"))),
        }
    }
}

impl Runner for ScriptedRunner {
    fn run(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
        self.reply(command)
    }

    fn run_shown(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
        self.reply(command)
    }

    fn start_detached(&self, command: &CommandLine, _: &Path) -> Result<(), RunError> {
        self.reply(command).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(runner: &ScriptedRunner, program: &str, args: &[&str]) -> Result<Output, RunError> {
        runner.run(
            &CommandLine::new(program, args.iter().copied()),
            Duration::ZERO,
        )
    }

    #[test]
    fn the_first_rule_that_matches_answers_and_every_call_is_recorded() {
        let runner = ScriptedRunner::new()
            .exact("kubectl get pods", 0, "exact\n", "")
            .ok("get", "contains\n")
            .not_found("docker");
        let stdout = |args: &[&str]| run(&runner, "kubectl", args).expect("runs").stdout;
        assert_eq!(stdout(&["get", "pods"]), "exact\n");
        assert_eq!(stdout(&["get", "pods", "-A"]), "contains\n");
        assert!(matches!(
            run(&runner, "docker", &["info"]),
            Err(RunError::NotFound { .. })
        ));
        let unscripted = run(&runner, "kind", &["version"]).expect("runs");
        assert_eq!(unscripted.code, Some(1));
        assert_eq!(unscripted.stderr, "not scripted: kind version\n");
        assert_eq!(runner.calls_with("kubectl").len(), 2);
        assert_eq!(runner.calls().len(), 4);
    }

    #[test]
    fn a_function_rule_sees_what_ran_before() {
        let runner = ScriptedRunner::new().respond(|command, earlier| {
            (command.program == "kind").then(|| {
                let made = earlier.iter().any(|c| c.starts_with("kind create"));
                output(0, if made { "lab\n" } else { "" }, "")
            })
        });
        let clusters = || {
            run(&runner, "kind", &["get", "clusters"])
                .expect("runs")
                .stdout
        };
        assert_eq!(clusters(), "");
        run(&runner, "kind", &["create", "cluster"]).expect("runs");
        assert_eq!(clusters(), "lab\n");
        assert_eq!(run(&runner, "kubectl", &["x"]).expect("runs").code, Some(1));
    }
}

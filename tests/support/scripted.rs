//! A scripted `Runner` for running verbs in-process: each rule answers the commands whose
//! line contains its text (the first rule that matches wins, so a test puts the narrow
//! ones first), and every command asked for is recorded. A command no rule answers fails
//! with exit 1, as an unknown kubectl subcommand would.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use sidecar_lab::runner::{CommandLine, Output, RunError, Runner};

/// One rule: commands containing `needle` get `output`.
struct Rule {
    needle: String,
    output: Output,
}

/// A runner that answers from a script and records what it was asked.
#[derive(Default)]
pub(crate) struct Scripted {
    rules: Vec<Rule>,
    calls: Mutex<Vec<String>>,
}

impl Scripted {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Commands containing `needle` succeed and print `stdout`.
    pub(crate) fn ok(self, needle: &str, stdout: &str) -> Self {
        self.answer(needle, 0, stdout, "")
    }

    /// Commands containing `needle` exit with `code`, printing `stdout` and `stderr`.
    pub(crate) fn answer(mut self, needle: &str, code: i32, stdout: &str, stderr: &str) -> Self {
        self.rules.push(Rule {
            needle: needle.to_owned(),
            output: Output {
                code: Some(code),
                stdout: stdout.to_owned(),
                stderr: stderr.to_owned(),
            },
        });
        self
    }

    /// Puts `first`'s rules before these (narrow answers ahead of broad ones).
    pub(crate) fn prepend(mut self, first: Self) -> Self {
        let mut rules = first.rules;
        rules.append(&mut self.rules);
        self.rules = rules;
        self
    }

    /// Every command asked for so far, as its shell line.
    pub(crate) fn calls(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The commands asked for whose line contains `needle`.
    pub(crate) fn calls_with(&self, needle: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.contains(needle))
            .collect()
    }

    fn reply(&self, command: &CommandLine) -> Output {
        let line = command.to_string();
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line.clone());
        self.rules
            .iter()
            .find(|rule| line.contains(&rule.needle))
            .map_or_else(
                || Output {
                    code: Some(1),
                    stdout: String::new(),
                    stderr: format!("not scripted: {line}\n"),
                },
                |rule| rule.output.clone(),
            )
    }
}

impl Runner for Scripted {
    fn run(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
        Ok(self.reply(command))
    }

    fn run_shown(&self, command: &CommandLine, _: Duration) -> Result<Output, RunError> {
        Ok(self.reply(command))
    }

    fn start_detached(&self, command: &CommandLine, _: &Path) -> Result<(), RunError> {
        self.reply(command);
        Ok(())
    }
}

/// A dump under tests/fixtures/dumps, as kubectl would print it.
pub(crate) fn dump_fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/dumps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

//! A runner for tests: answers from a script of (command prefix → output) and records
//! every command it was asked to run.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::runner::{CommandLine, Output, RunError, Runner};

#[derive(Default)]
pub(crate) struct ScriptedRunner {
    answers: Vec<(String, Result<Output, String>)>,
    pub calls: Mutex<Vec<String>>,
}

impl ScriptedRunner {
    /// Commands starting with `prefix` print `stdout` and exit with `code`.
    pub(crate) fn answer(mut self, prefix: &str, code: i32, stdout: &str) -> Self {
        let output = Output {
            code: Some(code),
            stdout: stdout.to_owned(),
            stderr: String::new(),
        };
        self.answers.push((prefix.to_owned(), Ok(output)));
        self
    }

    /// Commands starting with `prefix` fail with `code`, saying `stderr`.
    pub(crate) fn fail(mut self, prefix: &str, code: i32, stderr: &str) -> Self {
        let output = Output {
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.to_owned(),
        };
        self.answers.push((prefix.to_owned(), Ok(output)));
        self
    }

    fn reply(&self, command: &CommandLine) -> Result<Output, RunError> {
        let line = command.to_string();
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(line.clone());
        }
        match self
            .answers
            .iter()
            .find(|(prefix, _)| line.starts_with(prefix.as_str()))
        {
            Some((_, Ok(output))) => Ok(output.clone()),
            Some((_, Err(_))) | None => Err(RunError::NotFound {
                command: command.program.clone(),
            }),
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

//! `class up`'s last act: one token per planned learner, requested a few at a time, and
//! each learner's kubeconfig written (mode 0600) around it.

use std::path::Path;

use anyhow::anyhow;
use serde_json::Value;

use super::read::{READ_TIMEOUT, explain_forbidden};
use crate::class::LEARNER_ACCOUNT;
use crate::class::kubeconfig::{self, ClusterAccess};
use crate::class::plan::TokenIssue;
use crate::kube::class as kubectl;
use crate::runner::{Runner, checked};
use crate::state::write_private;

/// Tokens are requested a few at a time: thirty one after another take seconds that
/// add up, thirty at once would be rude to a small API server.
const TOKEN_WORKERS: usize = 4;

/// What every learner's token and kubeconfig share.
pub(super) struct Issuing<'a> {
    pub(super) context: &'a str,
    /// How long each token lasts.
    pub(super) duration_seconds: u64,
    /// Where the kubeconfigs are written.
    pub(super) output_dir: &'a Path,
    /// The address the kubeconfigs name.
    pub(super) access: &'a ClusterAccess,
    /// The cluster's CA, inline.
    pub(super) ca_data: Option<&'a str>,
}

/// Requests the planned tokens, a few at a time, and writes each learner's kubeconfig.
pub(super) fn issue_tokens(
    runner: &dyn Runner,
    issuing: &Issuing<'_>,
    tokens: &[TokenIssue],
) -> anyhow::Result<usize> {
    let results: Vec<anyhow::Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks(tokens)
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|issue| issue_one(runner, issuing, issue))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(anyhow!("a token worker stopped unexpectedly"))])
            })
            .collect()
    });
    let mut written = 0;
    for result in results {
        result?;
        written += 1;
    }
    Ok(written)
}

/// The planned tokens dealt round-robin to the workers.
fn chunks(tokens: &[TokenIssue]) -> Vec<Vec<&TokenIssue>> {
    let mut chunks = vec![Vec::new(); TOKEN_WORKERS];
    for (i, issue) in tokens.iter().enumerate() {
        chunks[i % TOKEN_WORKERS].push(issue);
    }
    chunks
}

/// One learner: a token for their ServiceAccount, and the kubeconfig that carries it.
fn issue_one(runner: &dyn Runner, issuing: &Issuing<'_>, issue: &TokenIssue) -> anyhow::Result<()> {
    let command = kubectl::create_token(
        issuing.context,
        &issue.namespace,
        LEARNER_ACCOUNT,
        issuing.duration_seconds,
    );
    let output = checked(runner, &command, READ_TIMEOUT)
        .map_err(|e| explain_forbidden(e, "request a token (serviceaccounts/token)"))?;
    let token = token_of(&output.stdout)
        .ok_or_else(|| anyhow!("`{command}` printed no TokenRequest with a token"))?;
    let text = kubeconfig::render(issuing.access, issuing.ca_data, &issue.namespace, &token)?;
    let path = issuing
        .output_dir
        .join(format!("{}.kubeconfig", issue.namespace));
    write_private(&path, text.as_bytes())
}

/// The token in `kubectl create token -o json`'s TokenRequest.
fn token_of(stdout: &str) -> Option<String> {
    let value: Value = serde_json::from_str(stdout).ok()?;
    Some(value.pointer("/status/token")?.as_str()?.to_owned())
}

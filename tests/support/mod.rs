//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different part

pub(crate) mod exercise_cases;
pub(crate) mod http_server;
pub(crate) mod machine;
pub(crate) mod sim;

use std::process::Output;

use sha2::{Digest, Sha256};

/// The lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fake kind binary: a shell script that answers `kind version` like the real one.
pub(crate) fn fake_kind(version: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho \"kind {version} go1.26.7 linux/amd64\"\n").into_bytes()
}

/// A fake kubectl binary that answers `kubectl version --client -o json`.
pub(crate) fn fake_kubectl(version: &str) -> Vec<u8> {
    format!(
        "#!/bin/sh\necho '{{\"clientVersion\":{{\"gitVersion\":\"{version}\",\"platform\":\"linux/amd64\"}},\"kustomizeVersion\":\"v5.7.1\"}}'\n"
    )
    .into_bytes()
}

/// Bytes as text, lossily (command output).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Panics with both streams unless the command succeeded.
pub(crate) fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

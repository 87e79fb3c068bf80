//! Build facts for `sidecar-lab --version`: the git commit the binary was built from
//! (`unknown` outside a git checkout, as in a crates.io package) and the target triple.
#![allow(
    clippy::disallowed_methods,
    reason = "a build script runs git and reads .git itself; the crate's doors are not built yet"
)]

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SIDECAR_LAB_GIT_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=SIDECAR_LAB_TARGET={target}");
    // A new commit changes the version text: watch HEAD, the branch it points to, and
    // packed-refs (where a branch may live after `git gc`).
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/packed-refs");
    if let Some(branch) = std::fs::read_to_string(".git/HEAD")
        .ok()
        .and_then(|head| head.strip_prefix("ref: ").map(|r| r.trim().to_owned()))
    {
        println!("cargo:rerun-if-changed=.git/{branch}");
    }
}

//! Build facts for `sidecar-lab --version`: the git commit the binary was built from
//! (`unknown` outside a git checkout, as in a crates.io package) and the target triple.
#![allow(
    clippy::disallowed_methods,
    reason = "a build script runs git and reads .git itself; the crate's doors are not built yet"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `git ARGS`' one line of output, if git runs here and succeeds.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Reruns this script when `path` changes. Only paths that exist: Cargo reruns a script
/// whose watched path is missing on every build.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SIDECAR_LAB_GIT_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=SIDECAR_LAB_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
    // A new commit changes the version text: watch HEAD, the branch it points to, and
    // packed-refs (where a branch may live after `git gc`). Asked of git, not assumed to
    // be `.git/`: in a worktree `.git` is a file, HEAD is in the worktree's own git
    // directory and the branches in the common one.
    let (Some(dir), Some(common)) = (
        git(&["rev-parse", "--git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) else {
        return;
    };
    let (dir, common) = (PathBuf::from(dir), PathBuf::from(common));
    let head = dir.join("HEAD");
    watch(&head);
    watch(&common.join("packed-refs"));
    if let Some(branch) = std::fs::read_to_string(&head)
        .ok()
        .and_then(|head| head.strip_prefix("ref: ").map(|r| r.trim().to_owned()))
    {
        // A branch only in packed-refs (or not born yet) has no file until the next
        // commit writes one: watch the nearest folder that holds it, which that write
        // changes.
        let branch = common.join(branch);
        if let Some(found) = branch.ancestors().find(|path| path.exists()) {
            watch(found);
        }
    }
}

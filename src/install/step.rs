//! A step that changes the host — a command, maybe as root; a file; a daemon started —
//! planned by the installer and by `doctor --fix`, and carried out by `execute`.

use std::path::PathBuf;

use crate::runner::CommandLine;

/// One step of changing the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostStep {
    /// Run a command (as root when it says so) and require success.
    Run(CommandLine),
    /// Download get.docker.com to a file and run it with `sh` as root.
    RunConvenienceScript { url: String, is_root: bool },
    /// Start `dockerd` in the background, its output in `log` (no systemd here).
    StartDockerd { command: CommandLine, log: PathBuf },
    /// Write a file as this user (atomically), to be installed by a later root step.
    WriteFile { path: PathBuf, contents: String },
    /// Wait until `docker info` answers; through sudo when the group is not in effect yet.
    WaitForDaemon { through_sudo: bool },
}

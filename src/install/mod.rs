//! Installing the toolchain: Docker, kind and kubectl. A pure planner decides what to do
//! from the host and what is already installed; the executor downloads, verifies and
//! places binaries, and runs the package manager for Docker.

pub(crate) mod apply;
pub(crate) mod checksum;
pub mod detect;
pub mod docker;
pub(crate) mod download;
pub(crate) mod execute;
pub(crate) mod plan;
pub(crate) mod prepare;
pub mod step;
pub(crate) mod urls;

use std::fmt;

/// A tool the lab needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tool {
    Docker,
    Kind,
    Kubectl,
}

impl Tool {
    pub const ALL: [Self; 3] = [Self::Docker, Self::Kind, Self::Kubectl];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Kind => "kind",
            Self::Kubectl => "kubectl",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

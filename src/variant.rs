//! The three ways the lab places postgres beside the main container.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where postgres runs in the lab Job.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// postgres as a plain init container: the main container never starts.
    Init,
    /// postgres as a regular second container: main finishes, the pod never does.
    Sidecar,
    /// postgres as an init container with `restartPolicy: Always`: the Job completes.
    Native,
}

impl Variant {
    /// All variants, in the order the lab teaches them.
    pub const ALL: [Self; 3] = [Self::Init, Self::Sidecar, Self::Native];

    /// The lower-case name used on the command line and in data files.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Init => "init",
            Self::Sidecar => "sidecar",
            Self::Native => "native",
        }
    }

    /// The variant named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// One sentence on where postgres runs.
    pub const fn placement(self) -> &'static str {
        match self {
            Self::Init => "postgres is a plain init container, without restartPolicy",
            Self::Sidecar => "postgres is a regular second container, beside main",
            Self::Native => "postgres is an init container with restartPolicy: Always",
        }
    }

    /// False for the two variants whose Job never ends by itself.
    pub const fn completes(self) -> bool {
        matches!(self, Self::Native)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

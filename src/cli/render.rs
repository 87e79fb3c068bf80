//! `render`: print what the lab would apply, without a cluster.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{KubernetesArg, QuotaArgs};
use crate::class::ClassPrefix;
use crate::matrix::GateChoice;
use crate::names::{ClusterName, JobName, NamespaceName};
use crate::variant::Variant;

/// What `render` prints.
#[derive(Debug, Subcommand)]
pub enum RenderCommand {
    /// Print the lab Job for one variant
    Job(RenderJobArgs),
    /// Print the kind cluster config for a Kubernetes version
    Config(RenderConfigArgs),
    /// Show which lines differ between two variants' Jobs
    Diff(RenderDiffArgs),
    /// Print the lab's steps: what to expect, why, and the commands to try
    Lab(RenderLabArgs),
    /// Print the objects `class up` creates for each learner (Namespace, ServiceAccount, Role, …)
    Class(RenderClassArgs),
}

#[derive(Debug, Args)]
pub struct RenderClassArgs {
    /// How many learners
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=999))]
    pub learners: u32,

    /// Prefix of the learner namespaces
    #[arg(long, value_name = "PREFIX", default_value = "learner-")]
    pub prefix: ClassPrefix,

    #[command(flatten)]
    pub quota: QuotaArgs,
}

#[derive(Debug, Args)]
pub struct RenderJobArgs {
    /// Where postgres runs
    #[arg(long, value_enum)]
    pub variant: Variant,

    #[command(flatten)]
    pub kubernetes: KubernetesArg,

    /// Job name (default: cy-job-<variant>)
    #[arg(long)]
    pub name: Option<JobName>,
}

#[derive(Debug, Args)]
pub struct RenderConfigArgs {
    #[command(flatten)]
    pub kubernetes: KubernetesArg,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    /// SidecarContainers gate: auto does what the version needs; off shows a cluster without native sidecars (1.28–1.32)
    #[arg(long, value_enum, default_value_t = GateChoice::Auto)]
    pub sidecar_gate: GateChoice,
}

#[derive(Debug, Args)]
pub struct RenderDiffArgs {
    /// The variant to compare from
    #[arg(long, value_enum, default_value_t = Variant::Init)]
    pub from: Variant,

    /// The variant to compare to
    #[arg(long, value_enum, default_value_t = Variant::Native)]
    pub to: Variant,
}

#[derive(Debug, Args)]
pub struct RenderLabArgs {
    /// A lab file to read instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    /// Namespace to put into the commands to try
    #[arg(short, long, default_value = "default")]
    pub namespace: NamespaceName,
}

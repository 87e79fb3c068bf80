//! `class`: the instructor's verbs over many learners on one cluster.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{OutputArgs, ResultsFormatArg};
use crate::class::ClassPrefix;
use crate::class::duration::TokenDuration;
use crate::class::objects::QuantityArg;

/// What `class` does.
#[derive(Debug, Subcommand)]
pub enum ClassCommand {
    /// Create each learner's namespace, ServiceAccount, Role, RoleBinding and kubeconfig
    Up(ClassUpArgs),
    /// Delete everything `class up` created (found by its label), and the kubeconfigs
    Down(ClassDownArgs),
    /// One row per learner, one column per step, judged from one read of the cluster
    Status(ClassStatusArgs),
    /// The class board as a web page for the projector, updated live (read-only)
    Board(ClassBoardArgs),
}

#[derive(Debug, Args)]
pub struct ClassBoardArgs {
    #[command(flatten)]
    pub class: ClassArgs,

    /// Address to serve on; beyond 127.0.0.1 the page needs the access token it prints
    #[arg(long, value_name = "ADDRESS:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    /// Mark a learner stuck after this many minutes on one step
    #[arg(long, value_name = "MINUTES", default_value_t = 10)]
    pub stuck_after: u64,

    /// Seconds between two reads of the cluster
    #[arg(long, value_name = "SECONDS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub refresh: u64,

    /// The lab file the learners run, when it is not the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,
}

/// A ResourceQuota for each learner (none unless one of these is given).
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// Cap each learner's CPU requests with a ResourceQuota (`2`, `1500m`)
    #[arg(long, value_name = "CPU")]
    pub quota_cpu: Option<QuantityArg>,

    /// Cap each learner's memory requests with a ResourceQuota (`2Gi`)
    #[arg(long, value_name = "MEMORY")]
    pub quota_memory: Option<QuantityArg>,

    /// Cap the number of pods each learner may have at once
    #[arg(long, value_name = "N")]
    pub quota_pods: Option<u32>,
}

/// Where the class is.
#[derive(Debug, Args)]
pub struct ClassArgs {
    /// The kubectl context of the shared cluster (an admin's, for up and down)
    #[arg(long, value_name = "CONTEXT")]
    pub context: String,

    /// Prefix of the learner namespaces: `learner-` gives learner-01, learner-02, …
    #[arg(long, value_name = "PREFIX", default_value = "learner-")]
    pub prefix: ClassPrefix,
}

#[derive(Debug, Args)]
pub struct ClassUpArgs {
    #[command(flatten)]
    pub class: ClassArgs,

    /// How many learners (namespaces learner-01 … learner-N)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=999))]
    pub learners: u32,

    /// Where the learners' kubeconfig files go (one `<namespace>.kubeconfig` each, mode 0600)
    #[arg(long, value_name = "DIR", default_value = "kubeconfigs")]
    pub output_dir: PathBuf,

    /// How long each learner's token lasts (`8h`, `90m`, `1h30m`); a run renews tokens that end within an hour
    #[arg(long, value_name = "DURATION", default_value = "8h")]
    pub duration: TokenDuration,

    #[command(flatten)]
    pub quota: QuotaArgs,

    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,

    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ClassDownArgs {
    #[command(flatten)]
    pub class: ClassArgs,

    /// Where `class up` wrote the kubeconfig files (removed with the class)
    #[arg(long, value_name = "DIR", default_value = "kubeconfigs")]
    pub output_dir: PathBuf,

    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,

    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ClassStatusArgs {
    #[command(flatten)]
    pub class: ClassArgs,

    /// Redraw about once a second until Ctrl-C (a line per change when not on a terminal)
    #[arg(short, long)]
    pub watch: bool,

    /// The lab file the learners run, when it is not the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = ResultsFormatArg::Text)]
    pub output: ResultsFormatArg,
}

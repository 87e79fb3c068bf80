//! The command line: clap definitions only. Doc comments are the help text; business
//! code never sees these types (see `app`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::names::{ClusterName, NamespaceName};
use crate::variant::Variant;
use crate::version::{MinorVersion, ReleaseVersion};

/// `sidecar-lab --version` (defined at the crate root, where every module may read it).
pub use crate::VERSION;

mod bundle;
mod class;
mod render;

pub use bundle::*;
pub use class::*;
pub use render::*;

/// Hands-on lab for Kubernetes native sidecar containers.
///
/// `sidecar-lab up` checks the host, installs Docker, kind and kubectl, creates a kind
/// cluster (with the SidecarContainers gate only where that Kubernetes version needs
/// it) and runs one Job three ways: postgres as a plain init container, as a regular
/// second container, and as a native sidecar. Each step is checked and explained.
#[derive(Debug, Parser)]
#[command(
    name = "sidecar-lab",
    version = VERSION,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Show every kind, kubectl and docker command as it runs
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// UNSAFE: accept a bundle at a plain http:// URL, and binaries without a pinned SHA-256 from an http:// mirror
    #[arg(long, global = true)]
    pub allow_http: bool,

    /// UNSAFE: take a bundle's kind, kubectl or node image that no pin compiled into sidecar-lab vouches for
    #[arg(long, global = true)]
    pub allow_unpinned: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the host, install what is missing, create the cluster and run every step
    Up(UpArgs),
    /// Run one lab step on the current cluster (1 init, 2 sidecar, 3 native)
    Step(StepArgs),
    /// List the exercises, or write exercise N's starting manifest and task to do yourself
    Exercise(ExerciseArgs),
    /// Run your answer to exercise N on the cluster, judge what it did, and give a hint
    Submit(SubmitArgs),
    /// Show the tools, the cluster and each step's last verdict
    Status(StatusArgs),
    /// Delete the lab's cluster (or, on an existing cluster, the lab's objects) and its state
    Down(DownArgs),
    /// Check the host for what would break the lab, and fix what is safe to fix
    Doctor(DoctorArgs),
    /// Install Docker, kind and kubectl (all three when none is named)
    Install(InstallArgs),
    /// Judge a Pod or Job dump (`kubectl get … -o json|yaml`) against a variant
    Check(CheckArgs),
    /// Print the lab's Job, the kind cluster config, a diff of two variants or the lab's steps
    #[command(subcommand)]
    Render(RenderCommand),
    /// Print the supported Kubernetes versions: kind release, node image, kubectl, gate rule
    Versions(OutputArgs),
    /// Make, check or fetch a classroom bundle: the lab for VMs without internet
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Run a class on one shared cluster: locked-down learner namespaces and a live board
    #[command(subcommand)]
    Class(ClassCommand),
    /// This VM's lab results (text, JSON or JUnit), or many VMs' results merged
    Report(ReportArgs),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ResultsFormatArg {
    /// A table, for people
    Text,
    /// One JSON document, for scripts and for `report --merge`
    Json,
    /// JUnit XML, for CI systems (GitLab, Jenkins, GitHub reporters)
    Junit,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = ResultsFormatArg::Text)]
    pub output: ResultsFormatArg,

    /// Name of this VM's results (the host name when not given)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Merge these JSON results files (from `report -o json` on each VM) instead
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub merge: Vec<PathBuf>,

    /// A lab file instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,
}

/// `--kubernetes`, shared by the commands that depend on the version.
#[derive(Debug, Args)]
pub struct KubernetesArg {
    /// Kubernetes minor version, such as 1.28 (default: the newest in `sidecar-lab versions`)
    #[arg(short = 'k', long, value_name = "1.NN")]
    pub kubernetes: Option<MinorVersion>,
}

/// `--output`, for commands that scripts may read.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people
    Text,
    /// One JSON document, for scripts
    Json,
}

/// Where the lab runs when it is not the lab's own kind cluster.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Run on this existing kubectl context instead of the lab's kind cluster
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,

    /// Namespace for the lab's Jobs (one per learner on a shared cluster)
    #[arg(short, long, value_name = "NAMESPACE")]
    pub namespace: Option<NamespaceName>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub kubernetes: KubernetesArg,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    /// Answer yes to every question and run the steps without pausing (all at once)
    #[arg(short, long)]
    pub yes: bool,

    /// Read the host and the cluster, print the plan, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Run the steps one after another even when unattended
    #[arg(long)]
    pub sequential: bool,

    /// Run every step of the lab, the optional ones too (by default the three variants)
    #[arg(long)]
    pub all: bool,

    /// Take kind, kubectl and every image from this bundle (a directory or a URL), not the internet
    #[arg(long, value_name = "DIR|URL")]
    pub bundle: Option<String>,

    /// A lab file to run instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct StepArgs {
    /// Step number: 1 (init), 2 (sidecar) or 3 (native)
    pub number: crate::lab::StepNumber,

    /// Print the commands and the manifest, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// A lab file to run instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct ExerciseArgs {
    /// The exercise to start: writes exercise-N/job.yaml and exercise-N/TASK.md (without
    /// it, the exercises are listed)
    pub number: Option<crate::lab::ExerciseNumber>,

    /// Where to write exercise-N/
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,

    /// Overwrite an exercise-N/job.yaml you have already edited
    #[arg(long)]
    pub force: bool,

    /// A lab file whose steps the exercises start from, instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The exercise you answer
    pub number: crate::lab::ExerciseNumber,

    /// Your answer: one Job manifest [default: exercise-N/job.yaml]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Check the file and print the commands, and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// A lab file whose steps the exercises start from, instead of the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: OutputArgs,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,

    /// Name of the kind cluster
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Apply the safe fixes (inotify limits, start Docker, docker group)
    #[arg(long)]
    pub fix: bool,

    /// Do not ask before each fix
    #[arg(short, long)]
    pub yes: bool,

    #[command(flatten)]
    pub kubernetes: KubernetesArg,

    /// Name of the kind cluster the lab will use
    #[arg(long, default_value = "sidecar-lab")]
    pub name: ClusterName,

    /// Also check that this bundle (a directory or a URL) fits this platform and version
    #[arg(long, value_name = "DIR|URL")]
    pub bundle: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// A tool `install` can install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Tool {
    /// The Docker engine, from the system's packages
    Docker,
    /// kind, from its GitHub release
    Kind,
    /// kubectl, from dl.k8s.io
    Kubectl,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Tools to install (default: all three)
    #[arg(value_enum)]
    pub tools: Vec<Tool>,

    #[command(flatten)]
    pub kubernetes: KubernetesArg,

    /// kind release to install instead of the one the version matrix pairs with the Kubernetes version
    #[arg(long, value_name = "vX.Y.Z")]
    pub kind_version: Option<ReleaseVersion>,

    /// kubectl release to install instead of the cluster's own
    #[arg(long, value_name = "vX.Y.Z")]
    pub kubectl_version: Option<ReleaseVersion>,

    /// Download from this mirror: its scheme and host replace the official ones, paths stay
    #[arg(long, value_name = "URL", env = "SIDECAR_LAB_MIRROR")]
    pub mirror: Option<String>,

    /// Where kind and kubectl go (default: ~/.local/bin)
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,

    /// Where Docker comes from on Debian and Ubuntu
    #[arg(long, value_enum, default_value_t = DockerSourceArg::Distribution)]
    pub docker_source: DockerSourceArg,

    /// Take kind and kubectl from this bundle (a directory or a URL), not the internet
    #[arg(long, value_name = "DIR|URL")]
    pub bundle: Option<String>,

    /// Print the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
}

/// Where Docker comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DockerSourceArg {
    /// The distribution's `docker.io` package (Debian, Ubuntu), or Docker's repository (Fedora, RHEL)
    Distribution,
    /// Docker's convenience script: the latest Docker CE
    #[value(name = "get.docker.com")]
    GetDockerCom,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The variant the dump should show (with --step: judge only that variant's Job)
    #[arg(long, value_enum)]
    pub variant: Option<Variant>,

    /// Judge the dump as lab step N, as `step N` does (default: the step the objects are labelled with)
    #[arg(long, value_name = "N")]
    pub step: Option<crate::lab::StepNumber>,

    /// The cluster's Kubernetes minor, such as 1.34: which of the step's version rules applies (default: what the dump shows of the API server, else the newest)
    #[arg(short = 'k', long, value_name = "1.NN")]
    pub kubernetes: Option<MinorVersion>,

    /// The lab file the step comes from, when it is not the built-in lab
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,

    /// File with the dump; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_flag_has_help() {
        fn visit(command: &clap::Command, path: &str) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" {
                    assert!(
                        arg.get_help().is_some(),
                        "`{path}` argument `{id}` has no help"
                    );
                }
            }
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                assert!(sub.get_about().is_some(), "`{path}` has no help");
                visit(sub, &path);
            }
        }
        visit(&Cli::command(), "sidecar-lab");
    }
}

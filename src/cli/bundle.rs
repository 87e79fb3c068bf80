//! `bundle`: create, check, fetch and load the offline classroom bundle.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::KubernetesArg;
use crate::version::MinorVersion;

/// What `bundle` does.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Download and save everything the lab needs into a directory (on a machine with internet)
    Create(BundleCreateArgs),
    /// Check every file of a bundle (a directory or a URL) against its manifest
    Check(BundleArgs),
    /// Fetch a bundle from a URL into a directory, every file checked
    Fetch(BundleFetchArgs),
    /// Load a bundle's node image into Docker, check its layers, and print the tag kind gets
    Load(BundleLoadArgs),
}

#[derive(Debug, Args)]
pub struct BundleCreateArgs {
    /// Kubernetes minors to bundle (repeat the flag; default: the newest)
    #[arg(short = 'k', long = "kubernetes", value_name = "1.NN")]
    pub kubernetes: Vec<MinorVersion>,

    /// Platforms to bundle, comma-separated (default: this machine's)
    #[arg(long, value_name = "OS-ARCH,…", value_delimiter = ',')]
    pub platform: Vec<String>,

    /// The directory to write (created if missing)
    #[arg(short, long, value_name = "DIR", default_value = "sidecar-lab-bundle")]
    pub output: PathBuf,

    /// Download kind and kubectl from this mirror (scheme and host replaced, paths kept)
    #[arg(long, value_name = "URL", env = "SIDECAR_LAB_MIRROR")]
    pub mirror: Option<String>,

    /// Where `scripts/dist.sh` put its archives: sidecar-lab for the other platforms
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The bundle: a directory, or an http(s):// URL
    #[arg(value_name = "DIR|URL")]
    pub bundle: String,
}

#[derive(Debug, Args)]
pub struct BundleFetchArgs {
    /// The bundle's URL
    #[arg(value_name = "URL")]
    pub bundle: String,

    /// Where to put it (default: the cache under ~/.cache/sidecar-lab/bundles)
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BundleLoadArgs {
    /// The bundle: a directory, or an http(s):// URL
    #[arg(value_name = "DIR|URL")]
    pub bundle: String,

    #[command(flatten)]
    pub kubernetes: KubernetesArg,
}

//! The host as the installer sees it: operating system and architecture, and on Linux
//! the distribution and its package manager. Detection reads the process and
//! `/etc/os-release`; the interpretation is pure and table-tested.

use std::fmt;
use std::str::FromStr;

/// Operating systems kind and kubectl are published for (that the lab supports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    Linux,
    Darwin,
}

/// CPU architectures kind and kubectl are published for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    Amd64,
    Arm64,
}

/// An operating system and architecture, written `linux-amd64` as in the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: Os,
    pub arch: Arch,
}

/// A host the lab cannot run on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} `{value}` is not supported: kind and kubectl are published for linux and darwin on amd64 and arm64"
)]
pub struct UnsupportedPlatform {
    what: &'static str,
    value: String,
}

impl Os {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Linux => "linux",
            Self::Darwin => "darwin",
        }
    }
}

impl Arch {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Amd64 => "amd64",
            Self::Arm64 => "arm64",
        }
    }
}

impl Platform {
    /// Maps Rust's names (`std::env::consts::{OS, ARCH}`) or `uname` names to a platform.
    pub fn from_names(os: &str, arch: &str) -> Result<Self, UnsupportedPlatform> {
        let os = match os.to_ascii_lowercase().as_str() {
            "linux" => Os::Linux,
            "macos" | "darwin" => Os::Darwin,
            _ => {
                return Err(UnsupportedPlatform {
                    what: "operating system",
                    value: os.to_owned(),
                });
            }
        };
        // kind ships no 32-bit ARM, s390x or ppc64le builds (dropped in 2020 and v0.18).
        let arch = match arch {
            "x86_64" | "amd64" => Arch::Amd64,
            "aarch64" | "arm64" => Arch::Arm64,
            _ => {
                return Err(UnsupportedPlatform {
                    what: "architecture",
                    value: arch.to_owned(),
                });
            }
        };
        Ok(Self { os, arch })
    }

    /// The platform this binary was built for.
    pub fn of_this_build() -> Result<Self, UnsupportedPlatform> {
        Self::from_names(std::env::consts::OS, std::env::consts::ARCH)
    }
}

impl FromStr for Platform {
    type Err = UnsupportedPlatform;

    /// `linux-amd64`, as the matrix and `SIDECAR_LAB_PLATFORM` write it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (os, arch) = text.split_once('-').unwrap_or((text, ""));
        Self::from_names(os, arch)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.os.name(), self.arch.name())
    }
}

/// A Linux distribution, from `/etc/os-release`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distro {
    /// `ID`, such as `debian`.
    pub id: String,
    /// `ID_LIKE`, such as `["debian"]` on Ubuntu.
    pub like: Vec<String>,
    /// `PRETTY_NAME`, for messages.
    pub pretty_name: String,
}

/// How system packages are installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageManager {
    /// Debian, Ubuntu and their derivatives.
    Apt,
    /// Fedora.
    DnfFedora,
    /// RHEL, CentOS Stream, Rocky, Alma.
    DnfRhel,
}

impl Distro {
    /// Parses the text of `/etc/os-release` (shell-style `KEY=value` lines).
    pub fn parse_os_release(text: &str) -> Self {
        let mut distro = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').trim_matches('\'');
            match key.trim() {
                "ID" => distro.id = value.to_ascii_lowercase(),
                "ID_LIKE" => {
                    distro.like = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect();
                }
                "PRETTY_NAME" => value.clone_into(&mut distro.pretty_name),
                _ => {}
            }
        }
        distro
    }

    /// The package manager Docker is installed with, if the distribution is one the lab knows.
    pub fn package_manager(&self) -> Option<PackageManager> {
        let is = |name: &str| self.id == name || self.like.iter().any(|l| l == name);
        if is("debian") || is("ubuntu") {
            Some(PackageManager::Apt)
        } else if self.id == "fedora" {
            Some(PackageManager::DnfFedora)
        } else if is("rhel") || is("centos") || is("fedora") {
            Some(PackageManager::DnfRhel)
        } else {
            None
        }
    }

    /// `PRETTY_NAME`, or the id.
    pub fn name(&self) -> &str {
        if self.pretty_name.is_empty() {
            &self.id
        } else {
            &self.pretty_name
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uname_and_rust_names_map_to_the_published_platforms() {
        let cases = [
            (("linux", "x86_64"), "linux-amd64"),
            (("Linux", "aarch64"), "linux-arm64"),
            (("macos", "aarch64"), "darwin-arm64"),
            (("Darwin", "x86_64"), "darwin-amd64"),
        ];
        for ((os, arch), expected) in cases {
            assert_eq!(
                Platform::from_names(os, arch).map(|p| p.to_string()),
                Ok(expected.to_owned())
            );
        }
        assert!(Platform::from_names("windows", "x86_64").is_err());
        assert!(Platform::from_names("linux", "armv7l").is_err());
        assert_eq!(
            "linux-arm64".parse::<Platform>().map(|p| p.arch),
            Ok(Arch::Arm64)
        );
        assert!("linux".parse::<Platform>().is_err());
    }

    #[test]
    fn os_release_gives_the_package_manager() {
        let cases = [
            (
                "ID=debian\nVERSION_CODENAME=bookworm\n",
                Some(PackageManager::Apt),
            ),
            ("ID=ubuntu\nID_LIKE=debian\n", Some(PackageManager::Apt)),
            (
                "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n",
                Some(PackageManager::Apt),
            ),
            ("ID=fedora\n", Some(PackageManager::DnfFedora)),
            (
                "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
                Some(PackageManager::DnfRhel),
            ),
            ("ID=rhel\n", Some(PackageManager::DnfRhel)),
            ("ID=arch\n", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Distro::parse_os_release(text).package_manager(),
                expected,
                "{text:?}"
            );
        }
    }
}

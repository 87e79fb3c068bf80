//! Version numbers as the lab uses them: a Kubernetes minor (`1.37`) chosen by the user,
//! and a release (`v0.33.0`, `v1.37.0`) of kind or kubectl.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Kubernetes minor version such as `1.37`; `v1.37` is accepted too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MinorVersion {
    pub major: u32,
    pub minor: u32,
}

/// A release version `vMAJOR.MINOR.PATCH`, as kind and kubectl are tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// Text that is not a version of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not {expected}")]
pub struct VersionError {
    text: String,
    expected: &'static str,
}

impl MinorVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// The minor after this one (`1.34` → `1.35`).
    pub const fn next(self) -> Self {
        Self::new(self.major, self.minor.saturating_add(1))
    }
}

impl ReleaseVersion {
    /// The minor this release belongs to.
    pub const fn minor_version(self) -> MinorVersion {
        MinorVersion::new(self.major, self.minor)
    }
}

fn numbers(text: &str, count: usize, expected: &'static str) -> Result<Vec<u32>, VersionError> {
    let error = || VersionError {
        text: text.to_owned(),
        expected,
    };
    let bare = text.strip_prefix('v').unwrap_or(text);
    let parts: Vec<&str> = bare.split('.').collect();
    if parts.len() != count {
        return Err(error());
    }
    parts
        .iter()
        .map(|part| {
            // Reject signs, spaces and leading zeros ("01") that `u32::from_str` would allow.
            let plain = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part.len() == 1 || !part.starts_with('0'));
            if plain {
                part.parse().map_err(|_| error())
            } else {
                Err(error())
            }
        })
        .collect()
}

impl FromStr for MinorVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let n = numbers(text, 2, "a Kubernetes minor version such as `1.37`")?;
        Ok(Self::new(n[0], n[1]))
    }
}

impl FromStr for ReleaseVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if !text.starts_with('v') {
            return Err(VersionError {
                text: text.to_owned(),
                expected: "a release version such as `v1.37.0`",
            });
        }
        let n = numbers(text, 3, "a release version such as `v1.37.0`")?;
        Ok(Self {
            major: n[0],
            minor: n[1],
            patch: n[2],
        })
    }
}

impl TryFrom<String> for MinorVersion {
    type Error = VersionError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl TryFrom<String> for ReleaseVersion {
    type Error = VersionError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<MinorVersion> for String {
    fn from(version: MinorVersion) -> Self {
        version.to_string()
    }
}

impl From<ReleaseVersion> for String {
    fn from(version: ReleaseVersion) -> Self {
        version.to_string()
    }
}

impl fmt::Display for MinorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_versions_parse_with_or_without_v() {
        assert_eq!("1.28".parse(), Ok(MinorVersion::new(1, 28)));
        assert_eq!("v1.37".parse(), Ok(MinorVersion::new(1, 37)));
    }

    #[test]
    fn malformed_minor_versions_are_rejected() {
        for text in [
            "", "1", "1.", "1.28.3", "1.x", "01.28", "1.+28", " 1.28", "1.28 ", "v",
        ] {
            assert!(text.parse::<MinorVersion>().is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn release_versions_need_the_v_and_three_numbers() {
        assert_eq!(
            "v0.33.0".parse::<ReleaseVersion>().map(|v| v.to_string()),
            Ok("v0.33.0".to_owned())
        );
        for text in ["0.33.0", "v0.33", "v0.33.0.1", "v0.33.x", "v0.33.0-rc.1"] {
            assert!(text.parse::<ReleaseVersion>().is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn minor_versions_order_numerically() {
        assert!(MinorVersion::new(1, 9) < MinorVersion::new(1, 28));
    }
}

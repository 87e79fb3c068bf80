//! Names the user may choose — a kind cluster's and a Job's — checked before anything
//! is rendered, with an error that says what is allowed.

use std::fmt;
use std::str::FromStr;

/// A kind cluster name: lowercase letters, digits, `.` and `-`, at most 50 characters
/// (kind's own rule; its kubectl context becomes `kind-<name>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterName(String);

/// A Job name: a DNS-1123 label of at most 63 characters, because the Job's name is
/// copied into the `batch.kubernetes.io/job-name` label of its pods.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JobName(String);

impl TryFrom<String> for JobName {
    type Error = NameError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<JobName> for String {
    fn from(name: JobName) -> Self {
        name.0
    }
}

/// A namespace name: a DNS-1123 label — at most 63 lowercase letters, digits and `-`,
/// starting and ending with a letter or digit — as the API server requires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceName(String);

impl NamespaceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for NamespaceName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if is_dns1123_label(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError {
                name: name.to_owned(),
                what: "namespace",
                rule: "a namespace is a DNS-1123 label: 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit (such as `learner-07`)",
            })
        }
    }
}

impl fmt::Display for NamespaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` is a DNS-1123 label (the API server's rule for namespaces and for the
/// values the lab copies into labels).
fn is_dns1123_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (1..=63).contains(&name.len())
        && bytes.iter().all(inner)
        && edge(bytes.first())
        && edge(bytes.last())
}

/// A name that breaks the rules for its kind of object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a valid {what} name: {rule}")]
pub struct NameError {
    name: String,
    what: &'static str,
    rule: &'static str,
}

const CLUSTER_RULE: &str = "use 1 to 50 lowercase letters, digits, `.` and `-`";
const JOB_RULE: &str =
    "use 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit";

impl ClusterName {
    /// The lab's default cluster name.
    pub fn default_name() -> Self {
        Self("sidecar-lab".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl JobName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ClusterName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let allowed =
            |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
        if (1..=50).contains(&name.len()) && name.bytes().all(allowed) {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError {
                name: name.to_owned(),
                what: "kind cluster",
                rule: CLUSTER_RULE,
            })
        }
    }
}

impl FromStr for JobName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let inner = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let bytes = name.as_bytes();
        if name.len() <= 63
            && bytes.iter().all(|&b| inner(b))
            && edge(bytes.first())
            && edge(bytes.last())
        {
            Ok(Self(name.to_owned()))
        } else {
            Err(NameError {
                name: name.to_owned(),
                what: "Job",
                rule: JOB_RULE,
            })
        }
    }
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod namespace_tests {
    use super::NamespaceName;

    #[test]
    fn namespaces_follow_the_api_servers_rule() {
        for good in ["default", "learner-07", "a", &"a".repeat(63), "0x"] {
            assert!(good.parse::<NamespaceName>().is_ok(), "{good}");
        }
        for bad in ["Bad_NS", "", "-a", "a-", "a.b", "Learner", &"a".repeat(64)] {
            let error = bad.parse::<NamespaceName>().expect_err(bad).to_string();
            assert!(error.contains("DNS-1123 label"), "{error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_follow_kinds_rule() {
        for good in ["sidecar-lab", "a", "lab.1", &"x".repeat(50)] {
            assert!(good.parse::<ClusterName>().is_ok(), "{good:?} refused");
        }
        for bad in ["", "Lab", "lab_1", "lab 1", "läb", &"x".repeat(51)] {
            assert!(bad.parse::<ClusterName>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn job_names_are_dns_labels() {
        for good in ["cy-job-native", "a", "1job", &"j".repeat(63)] {
            assert!(good.parse::<JobName>().is_ok(), "{good:?} refused");
        }
        for bad in [
            "",
            "-job",
            "job-",
            "Job",
            "job.native",
            "job_native",
            &"j".repeat(64),
        ] {
            assert!(bad.parse::<JobName>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn errors_say_what_is_allowed() {
        let error = "Bad_Name".parse::<JobName>().expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "`Bad_Name` is not a valid Job name: use 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
        );
    }
}

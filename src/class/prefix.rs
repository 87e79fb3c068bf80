//! A class's prefix (`learner-`): learner namespaces are the prefix and a number.

use std::fmt;
use std::str::FromStr;

/// The prefix of the learner namespaces: `learner-` gives `learner-01`, `learner-02`, …
/// It must leave room for the number in a 63-character DNS-1123 label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassPrefix(String);

/// How long a prefix may be: a namespace is a DNS-1123 label of at most 63 characters,
/// and up to four digits follow.
const MAX_LEN: usize = 59;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a valid learner prefix: use 1 to {MAX_LEN} lowercase letters, digits and `-`, starting with a letter (learner namespaces are the prefix and a number, such as `learner-01`)"
)]
pub struct PrefixError(String);

impl ClassPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The class's label value: the prefix without trailing dashes (a label value must
    /// end with a letter or digit).
    pub(crate) fn label(&self) -> &str {
        self.0.trim_end_matches('-')
    }

    /// The namespace of learner `n` (from 1): at least two digits, so `learner-01`
    /// sorts before `learner-10` and a class of up to 99 keeps its names as it grows.
    pub(crate) fn namespace(&self, n: u32) -> String {
        format!("{}{n:02}", self.0)
    }

    /// The learner number of `namespace`, when it is one of this class's.
    pub(crate) fn learner(&self, namespace: &str) -> Option<u32> {
        let digits = namespace.strip_prefix(self.0.as_str())?;
        if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n >= 1)
    }
}

impl Default for ClassPrefix {
    fn default() -> Self {
        Self("learner-".to_owned())
    }
}

impl fmt::Display for ClassPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ClassPrefix {
    type Err = PrefixError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = text.as_bytes();
        let ok = (1..=MAX_LEN).contains(&text.len())
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(PrefixError(text.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_round_trip_and_strangers_are_not_learners() {
        let prefix: ClassPrefix = "learner-".parse().expect("valid");
        assert_eq!(prefix.namespace(7), "learner-07");
        assert_eq!(prefix.namespace(120), "learner-120");
        assert_eq!(prefix.learner("learner-07"), Some(7));
        assert_eq!(prefix.learner("learner-120"), Some(120));
        assert_eq!(prefix.learner("learner-7"), None);
        assert_eq!(prefix.learner("learner-00"), None);
        assert_eq!(prefix.learner("learner-x1"), None);
        assert_eq!(prefix.learner("other-01"), None);
        assert_eq!(prefix.label(), "learner");
    }

    #[test]
    fn prefixes_that_cannot_make_a_namespace_are_refused() {
        for bad in ["", "Learner-", "1abc", "a_b", "é", &"a".repeat(60)] {
            assert!(bad.parse::<ClassPrefix>().is_err(), "{bad:?}");
        }
        assert!("ws2026-".parse::<ClassPrefix>().is_ok());
    }
}

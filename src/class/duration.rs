//! How long a learner's token lasts (`--duration 8h`).

use std::str::FromStr;

/// A token lifetime: `8h`, `90m`, `1h30m`, `3600s`. The API server refuses less than 10
/// minutes; more than 30 days would defeat the point of tokens that expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenDuration(pub u64);

const MIN: u64 = 600;
const MAX: u64 = 30 * 24 * 3600;

impl TokenDuration {
    pub const EIGHT_HOURS: Self = Self(8 * 3600);

    pub(crate) const fn seconds(self) -> u64 {
        self.0
    }
}

impl FromStr for TokenDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{text}` is not a token lifetime: use hours, minutes or seconds, such as `8h`, `90m` or `1h30m`, from 10m to 720h"
            )
        };
        let mut seconds = 0u64;
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return Err(bad()),
            };
            let n: u64 = number.parse().map_err(|_| bad())?;
            seconds = n
                .checked_mul(unit)
                .and_then(|s| seconds.checked_add(s))
                .ok_or_else(bad)?;
            number.clear();
        }
        if !number.is_empty() || text.is_empty() {
            return Err(bad());
        }
        if !(MIN..=MAX).contains(&seconds) {
            return Err(bad());
        }
        Ok(Self(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_and_the_servers_minimum_holds() {
        assert_eq!("8h".parse(), Ok(TokenDuration(28_800)));
        assert_eq!("1h30m".parse(), Ok(TokenDuration(5_400)));
        assert_eq!("600s".parse(), Ok(TokenDuration(600)));
        for bad in [
            "",
            "8",
            "5m",
            "8d",
            "h",
            "1h-1m",
            "721h",
            "99999999999999999999h",
        ] {
            assert!(bad.parse::<TokenDuration>().is_err(), "{bad}");
        }
    }
}

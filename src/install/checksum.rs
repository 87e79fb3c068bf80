//! Checksum files as kind and kubectl publish them, and the comparison of digests. Pure.

use crate::matrix::is_sha256_hex;

/// A checksum file that holds no SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checksum file {url} holds no SHA-256 digest")]
pub(crate) struct ChecksumFileError {
    pub url: String,
}

/// The digest in a checksum file: kind's `.sha256sum` is `<hex>  kind-linux-amd64`,
/// kubectl's `.sha256` is the bare hex; both start with the digest.
pub(crate) fn parse(text: &str, url: &str) -> Result<String, ChecksumFileError> {
    let digest = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if is_sha256_hex(&digest) {
        Ok(digest)
    } else {
        Err(ChecksumFileError {
            url: url.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d";

    #[test]
    fn both_published_formats_parse() {
        assert_eq!(
            parse(&format!("{HEX}  kind-linux-amd64\n"), "u"),
            Ok(HEX.to_owned())
        );
        assert_eq!(parse(HEX, "u"), Ok(HEX.to_owned()));
        assert_eq!(parse(&HEX.to_uppercase(), "u"), Ok(HEX.to_owned()));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in ["", "not a digest", &HEX[..63], "<html>404</html>"] {
            assert!(parse(text, "u").is_err(), "{text:?}");
        }
    }
}

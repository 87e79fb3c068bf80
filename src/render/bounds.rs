//! The one size and depth guard for every YAML or JSON input a user hands over (lab
//! files, `report --merge` files, `check` dumps). The caller opens the file with
//! `files::open_regular`, so a FIFO or a device is refused at once; it is read here through
//! `Read::take`, so an endless pipe or a 300 MB file costs the cap, not the file; and
//! nesting is measured in one pass before any parser runs, since the parsers recurse and
//! a line of 100,000 `[` would take them minutes to refuse.

use std::io::Read;

/// How deep objects and lists may nest. A Pod is about 10 levels deep.
pub const MAX_DEPTH: usize = 256;

/// What an input is and how large it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    /// What the input is, for messages: "lab file", "results file", "dump".
    pub what: &'static str,
    pub max_bytes: u64,
    /// The flag or command that reads it, for what to do next.
    pub hint: &'static str,
}

/// A lab file is a few kilobytes.
pub(crate) const LAB_FILE: Limit = Limit {
    what: "lab file",
    max_bytes: 1 << 20,
    hint: "a lab file is a few kilobytes; check the path given to --lab",
};

/// One VM's results, or a class board of thirty learners, are well under a megabyte.
pub(crate) const RESULTS_FILE: Limit = Limit {
    what: "results file",
    max_bytes: 16 << 20,
    hint: "--merge reads the JSON of `sidecar-lab report -o json`",
};

/// A `kubectl get pods -A -o json` of a busy cluster is tens of megabytes.
pub(crate) const DUMP: Limit = Limit {
    what: "dump",
    max_bytes: 128 << 20,
    hint: "dump only the pod and its Job: `kubectl get pod,job -n NAMESPACE -o yaml`",
};

/// An input refused by its size or its depth, or unreadable; names the input.
/// `Read` takes the `name` of a file that could not be opened as well.
#[derive(Debug, thiserror::Error)]
pub enum BoundsError {
    #[error("cannot read {what} `{name}`: {source}")]
    Read {
        what: &'static str,
        name: String,
        source: std::io::Error,
    },
    #[error(
        "{what} `{name}` is larger than {} MiB, the most a {what} may be; it was not read further ({hint})",
        .max_bytes >> 20
    )]
    TooLarge {
        what: &'static str,
        name: String,
        max_bytes: u64,
        hint: &'static str,
    },
    #[error(
        "{what} `{name}` nests deeper than {MAX_DEPTH} levels (at byte {at}); no lab, results or kubectl output does, so it is refused unread"
    )]
    TooDeep {
        what: &'static str,
        name: String,
        at: usize,
    },
}

/// What `reader` gives (a file, standard input), if it is within `limit`: at most
/// `limit.max_bytes + 1` bytes are ever read. `name` names it in errors.
pub(crate) fn read_stream(
    reader: impl Read,
    name: &str,
    limit: Limit,
) -> Result<Vec<u8>, BoundsError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| BoundsError::Read {
            what: limit.what,
            name: name.to_owned(),
            source,
        })?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit.max_bytes {
        return Err(too_large(name, limit));
    }
    Ok(bytes)
}

/// The error for input (already in memory) larger than `limit`.
pub(crate) fn too_large(name: &str, limit: Limit) -> BoundsError {
    BoundsError::TooLarge {
        what: limit.what,
        name: name.to_owned(),
        max_bytes: limit.max_bytes,
        hint: limit.hint,
    }
}

/// Refuses text that is larger than `limit` or nests deeper than `MAX_DEPTH`.
pub(crate) fn check(bytes: &[u8], name: &str, limit: Limit) -> Result<(), BoundsError> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit.max_bytes {
        return Err(too_large(name, limit));
    }
    match too_deep(bytes) {
        Some(at) => Err(BoundsError::TooDeep {
            what: limit.what,
            name: name.to_owned(),
            at,
        }),
        None => Ok(()),
    }
}

/// Where the input first nests deeper than `MAX_DEPTH`, in one pass before any parser
/// runs: unclosed flow brackets (`[`, `{`), and block indentation (a YAML level needs at
/// least one more column, so a line indented past the limit nests too deep as well, or
/// is not a document a person or kubectl wrote).
///
/// Brackets are counted inside quoted strings too. Telling a YAML string from what
/// surrounds it needs the parser's own rules (an apostrophe in a plain scalar or a
/// comment, a quote in a block scalar, start nothing), and a guess that takes text for a
/// string which the parser does not is a way past the guard. Balanced brackets in a
/// string cost nothing; only a string with more than 256 unclosed ones is refused, and
/// neither kubectl nor a person writes that.
pub(crate) fn too_deep(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut column = 0usize;
    let mut indenting = true;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' {
            column = 0;
            indenting = true;
            continue;
        }
        if indenting {
            if byte == b' ' {
                column += 1;
                if column > MAX_DEPTH * 4 {
                    return Some(at);
                }
                continue;
            }
            indenting = false;
        }
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_stream_is_cut_at_the_cap() {
        let started = std::time::Instant::now();
        let error =
            read_stream(std::io::repeat(0), "/dev/zero", RESULTS_FILE).expect_err("endless");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            error.to_string(),
            "results file `/dev/zero` is larger than 16 MiB, the most a results file may be; it was not read further (--merge reads the JSON of `sidecar-lab report -o json`)"
        );
    }

    #[test]
    fn input_within_the_cap_is_read_whole() {
        let bytes = read_stream(&b"a: 1\n"[..], "x", LAB_FILE).expect("small");
        assert_eq!(bytes, b"a: 1\n");
    }

    #[test]
    fn nesting_is_measured_in_brackets_anywhere_and_in_indentation() {
        let deep = "[".repeat(100_000);
        let started = std::time::Instant::now();
        assert_eq!(too_deep(deep.as_bytes()), Some(MAX_DEPTH));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // A string's brackets count: an apostrophe in a comment or a plain scalar
        // opens no string for the parser, so it must not hide what follows.
        assert!(too_deep(format!("# it's\na: {deep}").as_bytes()).is_some());
        assert!(too_deep(format!("a: don't {deep}").as_bytes()).is_some());
        assert!(too_deep(format!("s: |\n  '\nb: {deep}").as_bytes()).is_some());
        let balanced = "[]".repeat(100_000);
        assert_eq!(too_deep(format!("a: \"{balanced}\"").as_bytes()), None);
        let indented = format!("a:\n{}b: 1\n", " ".repeat(MAX_DEPTH * 4 + 1));
        assert!(too_deep(indented.as_bytes()).is_some());
        assert_eq!(too_deep(b"a: {b: [1, 2]}"), None);
        let error = check(deep.as_bytes(), "lab.yaml", LAB_FILE).expect_err("deep");
        assert!(
            error
                .to_string()
                .starts_with("lab file `lab.yaml` nests deeper than 256 levels"),
            "{error}"
        );
    }
}

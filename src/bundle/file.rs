//! Reading a bundle's files safely: only regular files are opened (a FIFO or a symlink to
//! `/dev/zero` is refused at once, not read for ever), nothing is read past the size the
//! manifest declares, and a file is hashed and copied through the one descriptor that was
//! checked, into a temporary file beside its destination that is renamed into place only
//! when size and digest match.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Read buffer: large enough that hashing and writing run in big strides.
const BUFFER: usize = 256 * 1024;

/// A bundle file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "`{path}` is not a regular file (a FIFO, a device, a directory or a link to one): refusing to read it"
    )]
    NotRegular { path: String },
    #[error("`{path}` is larger than the {limit} bytes expected: refusing to read it")]
    TooLarge { path: String, limit: u64 },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Opens `path` for reading only if it is a regular file (after following links). The
/// open does not block on a FIFO (`O_NONBLOCK`), and the check is made on the opened
/// descriptor (`fstat`), so what is read is what was checked.
pub(crate) fn open_regular(path: &Path) -> Result<File, FileError> {
    use crate::files::{self, OpenError};
    files::open_regular(path).map_err(|error| match error {
        OpenError::Io(source) => FileError::Read {
            path: path.display().to_string(),
            source,
        },
        OpenError::NotRegular => FileError::NotRegular {
            path: path.display().to_string(),
        },
    })
}

/// Reads a regular file of at most `limit` bytes, whole (a manifest).
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = open_regular(path)?;
    let too_large = || FileError::TooLarge {
        path: path.display().to_string(),
        limit,
    };
    if file.metadata().is_ok_and(|m| m.len() > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| FileError::Read {
            path: path.display().to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// What a file turned out to be: its SHA-256 (hex) and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Measured {
    pub sha256: String,
    pub size: u64,
}

/// Hashes `file`, reading at most `limit + 1` bytes (a larger file is reported as
/// `limit + 1` bytes long), and writes what it reads to `copy` when one is given.
pub(crate) fn measure(
    mut file: impl Read,
    limit: u64,
    mut copy: Option<&mut dyn Write>,
) -> std::io::Result<Measured> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; BUFFER];
    let mut size = 0u64;
    let cap = limit.saturating_add(1);
    while size < cap {
        let want = usize::try_from((cap - size).min(BUFFER as u64)).unwrap_or(BUFFER);
        let read = match file.read(&mut buffer[..want]) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        if let Some(copy) = copy.as_deref_mut() {
            copy.write_all(&buffer[..read])?;
        }
        size = size.saturating_add(read as u64);
    }
    Ok(Measured {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

/// Checks the regular file at `path` against `size` and `sha256`, reading no more than
/// `size + 1` bytes: what it is, for the caller to compare.
pub(crate) fn measure_file(path: &Path, size: u64) -> Result<Measured, FileError> {
    let file = open_regular(path)?;
    if file.metadata().is_ok_and(|m| m.len() > size) {
        return Err(FileError::TooLarge {
            path: path.display().to_string(),
            limit: size,
        });
    }
    measure(file, size, None).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The SHA-256 and size of a regular file of any size (one this program wrote itself).
pub(crate) fn sha256_of(path: &Path) -> Result<Measured, FileError> {
    let file = open_regular(path)?;
    measure(file, u64::MAX - 1, None).map_err(|source| FileError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Copies the regular file at `from` to `to` through one descriptor, hashing on the way;
/// `to` is replaced only when the copy has `size` bytes and `sha256`. `Ok(None)` when it
/// has; `Ok(Some(measured))` (and nothing placed) when it has not.
pub(crate) fn copy_checked(
    from: &Path,
    to: &Path,
    size: u64,
    sha256: &str,
    executable: bool,
) -> Result<Option<Measured>, FileError> {
    let source = open_regular(from)?;
    let write_error = |source| FileError::Write {
        path: to.display().to_string(),
        source,
    };
    let dir = to.parent().unwrap_or(Path::new("."));
    crate::files::create_dir_all(dir).map_err(write_error)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".sidecar-lab.")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(write_error)?;
    let measured =
        measure(source, size, Some(temp.as_file_mut())).map_err(|source| FileError::Read {
            path: from.display().to_string(),
            source,
        })?;
    if measured.size != size || measured.sha256 != sha256 {
        return Ok(Some(measured));
    }
    if executable {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))
            .map_err(write_error)?;
    }
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist(to).map_err(|e| write_error(e.error))?;
    Ok(None)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn digest(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[test]
    fn a_fifo_and_a_link_to_dev_zero_are_refused_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        for path in [&fifo, &zero] {
            let started = Instant::now();
            let error = measure_file(path, 26).expect_err("refused");
            assert!(matches!(error, FileError::NotRegular { .. }), "{error}");
            assert!(started.elapsed() < Duration::from_secs(2));
            assert!(
                copy_checked(path, &dir.path().join("out"), 26, "x", false).is_err(),
                "{}",
                path.display()
            );
        }
        assert!(!dir.path().join("out").exists());
    }

    #[test]
    fn a_file_larger_than_declared_is_not_read_past_its_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![7u8; 100_000]).expect("write");
        assert!(matches!(
            measure_file(&big, 26),
            Err(FileError::TooLarge { limit: 26, .. })
        ));
        // Through a reader that does not know its length, only 27 bytes are taken.
        let measured = measure(std::io::repeat(0), 26, None).expect("measured");
        assert_eq!(measured.size, 27);
    }

    #[test]
    fn a_copy_lands_only_when_size_and_digest_match() {
        let dir = tempfile::tempdir().expect("temp dir");
        let from = dir.path().join("kind");
        std::fs::write(&from, b"#!/bin/sh\necho kind\n").expect("write");
        let to = dir.path().join("bin/kind");
        let good = digest(b"#!/bin/sh\necho kind\n");
        let bad = copy_checked(&from, &to, 20, &"0".repeat(64), true).expect("read");
        assert_eq!(bad.map(|m| m.sha256), Some(good.clone()));
        assert!(!to.exists());
        assert_eq!(
            copy_checked(&from, &to, 20, &good, true).expect("copied"),
            None
        );
        assert_eq!(
            crate::files::read(&to).expect("placed"),
            b"#!/bin/sh\necho kind\n"
        );
        let leftovers = crate::files::read_dir(dir.path().join("bin"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temporary file is left");
    }

    #[test]
    fn a_manifest_is_read_only_up_to_its_cap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("manifest.json");
        std::fs::write(&path, vec![b' '; 2048]).expect("write");
        assert!(matches!(
            read_capped(&path, 1024),
            Err(FileError::TooLarge { .. })
        ));
        assert_eq!(read_capped(&path, 4096).expect("read").len(), 2048);
    }
}

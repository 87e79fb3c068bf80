//! The file door: every file sidecar-lab opens, lists, makes or removes outside the other
//! doors (`state` writes atomically, `runner` logs daemons, `bundle::file` copies through
//! one checked descriptor) goes through here, so `clippy.toml` can ban `std::fs` elsewhere
//! and a reader finds every touch of the disk in a few places.
#![allow(
    clippy::disallowed_methods,
    reason = "this module is the door the ban points to"
)]

use std::fs::{File, ReadDir};
use std::io;
use std::path::Path;

/// Why a user's input file was not opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error("{0}")]
    Io(std::io::Error),
    #[error(
        "not a regular file (a FIFO, a device, a directory or a link to one): refusing to read it"
    )]
    NotRegular,
}

/// Opens `path` for reading only if it is a regular file (after following links): the
/// one open of every file a user or a bundle hands over. The open does not block on a
/// FIFO (`O_NONBLOCK`; `--lab` on a FIFO with no writer would wait for ever), and the
/// check is made on the opened descriptor (`fstat`), so what is read is what was checked.
pub(crate) fn open_regular(path: &Path) -> Result<File, OpenError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(OpenError::Io)?;
    let metadata = file.metadata().map_err(OpenError::Io)?;
    if !metadata.is_file() {
        return Err(OpenError::NotRegular);
    }
    Ok(file)
}

/// The whole file as text.
pub(crate) fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    std::fs::read_to_string(path)
}

/// The whole file as bytes.
pub(crate) fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// The entries of a directory.
pub(crate) fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    std::fs::read_dir(path)
}

/// Makes a directory and its parents.
pub(crate) fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    std::fs::create_dir_all(path)
}

/// Removes a file.
pub(crate) fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    std::fs::remove_file(path)
}

/// Renames a file within one file system (atomic: a reader sees the old or the new).
pub(crate) fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    std::fs::rename(from, to)
}

/// Copies `from` over `to` and makes the copy executable (0755).
pub(crate) fn copy_executable(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))
}

/// Opens (making it if needed) a file for reading and writing without truncating it:
/// the state lock, whose holder line is rewritten in place.
pub(crate) fn open_for_update(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Opens a file for appending, making it if needed: a daemon's log.
pub(crate) fn open_for_append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// A fresh access token: 16 bytes from the kernel's random source, as hex.
pub(crate) fn new_token() -> io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_fresh() {
        let (a, b) = (
            super::new_token().expect("random"),
            super::new_token().expect("random"),
        );
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}

//! One `up` or one state write at a time: an exclusive `flock` on `state.lock` beside the
//! state. The holder writes who it is (pid, command, since when) into the file, so whoever
//! waits can say whom it waits for. The kernel drops the lock when its holder ends, however
//! it ends, so a crash never leaves the lab locked.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};

use crate::ui::Printer;
// The lock file is anyone's to write, and a terminal would obey escapes in it.
use crate::ui::text::clean_line;

/// How long `up` waits for another `up` (which may be creating a cluster: minutes).
pub(crate) const UP_WAIT: Duration = Duration::from_secs(15 * 60);
/// How long a step waits to record its result, or for an `up` to finish before it starts.
pub(crate) const STEP_WAIT: Duration = Duration::from_secs(5 * 60);
/// How often a waiter tries again.
const POLL: Duration = Duration::from_millis(200);
/// How long a waiter holds its line while the file names nobody: a new holder writes
/// itself just after it takes the lock, and a waiter that read in between would name
/// "another sidecar-lab" instead of the command it really waits for.
const NAME_GRACE: Duration = Duration::from_secs(1);

/// The lab's state, held: dropped, the lock is released.
#[derive(Debug)]
pub(crate) struct StateLock {
    // Held for its lock; closing the file releases it.
    file: File,
}

impl Drop for StateLock {
    /// Leaves the file naming nobody, while the lock is still held (the file closes
    /// after this), so the next waiter never names a holder that has gone.
    fn drop(&mut self) {
        // Held until a signal's handler has stopped the children and ended the program.
        crate::interrupt::await_ending();
        let _ = self.file.set_len(0);
    }
}

/// Who holds the lock, as the holder wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Holder {
    pub pid: u32,
    pub command: String,
    /// When it took the lock, RFC 3339.
    pub since: String,
}

/// The lock file in `state_dir`.
pub(crate) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("state.lock")
}

/// Takes the lock for `command` (such as `sidecar-lab up`), waiting at most `wait` for
/// its holder, with one line saying whom it waits for.
pub(crate) fn acquire(
    state_dir: &Path,
    command: &str,
    wait: Duration,
    printer: &Printer,
) -> anyhow::Result<StateLock> {
    let file = open(state_dir)?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return hold(file, state_dir, command),
            Err(error) if error == rustix::io::Errno::WOULDBLOCK => {}
            Err(error) => {
                return Err(std::io::Error::from(error))
                    .with_context(|| format!("cannot lock `{}`", path(state_dir).display()));
            }
        }
        let known = read_holder(&file);
        let holder = describe(known.as_ref());
        if started.elapsed() >= wait {
            bail!(
                "the lab's state in `{}` is in use by {holder}; wait for it to finish (or stop it if it hangs), then run `{command}` again",
                state_dir.display()
            );
        }
        if !said && (known.is_some() || started.elapsed() >= NAME_GRACE) {
            printer.note(&format!(
                "waiting for {holder} to finish with the lab's state (at most {} s)",
                wait.as_secs()
            ));
            said = true;
        }
        std::thread::sleep(POLL);
    }
}

fn open(state_dir: &Path) -> anyhow::Result<File> {
    crate::files::create_dir_all(state_dir).with_context(|| {
        format!(
            "cannot create the state directory `{}`",
            state_dir.display()
        )
    })?;
    let file = path(state_dir);
    crate::files::open_for_update(&file)
        .with_context(|| format!("cannot open the lock file `{}`", file.display()))
}

/// Writes who holds the lock into the file, for the next one who waits.
fn hold(mut file: File, state_dir: &Path, command: &str) -> anyhow::Result<StateLock> {
    let holder = Holder {
        pid: std::process::id(),
        command: command.to_owned(),
        since: crate::session::state::now().to_string(),
    };
    let text = serde_json::to_string(&holder).context("cannot encode the lock's holder")?;
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(text.as_bytes()))
        .with_context(|| format!("cannot write `{}`", path(state_dir).display()))?;
    Ok(StateLock { file })
}

fn read_holder(mut file: &File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    // A holder's line is short; more is not a holder's.
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// `holder` in words; it may be unknown for a moment, while a new holder writes itself.
pub(crate) fn describe(holder: Option<&Holder>) -> String {
    holder.map_or_else(
        || "another sidecar-lab".to_owned(),
        |h| {
            format!(
                "`{}` (pid {}, since {})",
                clean_line(&h.command),
                h.pid,
                clean_line(&h.since)
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;

    fn printer() -> Printer {
        Printer::new(&Environment {
            no_color: true,
            ..Environment::default()
        })
    }

    #[test]
    fn a_second_holder_is_told_who_holds_the_lock_and_gets_it_once_released() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first =
            acquire(dir.path(), "sidecar-lab up --yes", UP_WAIT, &printer()).expect("first lock");
        // Another open of the file is another holder, as another process would be.
        let error = acquire(
            dir.path(),
            "sidecar-lab step 3",
            Duration::from_millis(300),
            &printer(),
        )
        .expect_err("held");
        let message = error.to_string();
        let pid = std::process::id();
        assert!(
            message.contains(&format!("`sidecar-lab up --yes` (pid {pid}, since 20"))
                && message.contains("then run `sidecar-lab step 3` again"),
            "{message}"
        );
        drop(first);
        let again = acquire(dir.path(), "sidecar-lab step 3", UP_WAIT, &printer());
        assert!(again.is_ok(), "{again:?}");
    }

    #[test]
    fn a_released_lock_names_nobody_and_a_holder_names_itself() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = path(dir.path());
        let held = acquire(dir.path(), "sidecar-lab up", UP_WAIT, &printer()).expect("lock");
        let holder: Holder =
            serde_json::from_str(&crate::files::read_to_string(&file).expect("the holder's line"))
                .expect("a holder");
        assert_eq!(holder.command, "sidecar-lab up");
        drop(held);
        assert_eq!(
            crate::files::read_to_string(&file).expect("the file stays"),
            "",
            "a waiter reading now must not name the holder that has gone"
        );
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = acquire(dir.path(), "sidecar-lab up", UP_WAIT, &printer()).expect("lock");
        let started = Instant::now();
        std::thread::scope(|scope| {
            let waiter = scope
                .spawn(|| acquire(dir.path(), "sidecar-lab up", UP_WAIT, &printer()).map(drop));
            std::thread::sleep(Duration::from_millis(500));
            drop(first);
            assert!(waiter.join().expect("joins").is_ok());
        });
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn an_unknown_holder_is_still_named_and_escapes_are_shown_not_obeyed() {
        assert_eq!(describe(None), "another sidecar-lab");
        let holder = Holder {
            pid: 7,
            command: "sidecar-lab up\u{1b}[2J".to_owned(),
            since: "2026-12-07T04:00:00Z".to_owned(),
        };
        assert_eq!(
            describe(Some(&holder)),
            "`sidecar-lab up\\u001b[2J` (pid 7, since 2026-12-07T04:00:00Z)"
        );
    }
}

//! Ctrl-C, for a program whose children run in process groups of their own (so that a
//! timeout can stop a child and everything it started). The terminal signals only the
//! foreground group, so the handler passes Ctrl-C on to every running child's group.
//! During lab steps it then only raises a flag that the step's loop reads, so the step
//! is recorded as interrupted and the cluster is left as it is; before them, it ends
//! sidecar-lab with 130 as an unhandled Ctrl-C would.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// What the handler shares with the rest of the program.
struct Shared {
    /// Raised by Ctrl-C.
    flag: Arc<AtomicBool>,
    /// Whether a step loop reads the flag (else Ctrl-C ends the program).
    steps: AtomicBool,
    /// The process groups of the children running now.
    groups: Mutex<BTreeSet<i32>>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let shared = Shared {
            flag: Arc::new(AtomicBool::new(false)),
            steps: AtomicBool::new(false),
            groups: Mutex::new(BTreeSet::new()),
        };
        // Fails only if another handler is installed, which this program never does.
        let _ = ctrlc::set_handler(on_ctrl_c);
        shared
    })
}

fn on_ctrl_c() {
    let shared = shared();
    signal_groups(shared, rustix::process::Signal::INT);
    shared.flag.store(true, Ordering::SeqCst);
    if !shared.steps.load(Ordering::SeqCst) {
        std::process::exit(130);
    }
}

fn signal_groups(shared: &Shared, signal: rustix::process::Signal) {
    let groups = shared
        .groups
        .lock()
        .map(|g| g.iter().copied().collect::<Vec<_>>())
        .unwrap_or_default();
    for group in groups {
        if let Some(pid) = rustix::process::Pid::from_raw(group) {
            // Best effort: the group may have ended a moment ago.
            let _ = rustix::process::kill_process_group(pid, signal);
        }
    }
}

/// From now on Ctrl-C stops a step cleanly instead of ending the program; returns the
/// flag it raises.
pub fn flag() -> Arc<AtomicBool> {
    let shared = shared();
    shared.steps.store(true, Ordering::SeqCst);
    Arc::clone(&shared.flag)
}

/// A child's process group, known to the handler while the returned guard lives.
pub struct Group(i32);

/// Registers the process group `pgid` (a child started as the leader of its own group).
pub fn group(pgid: u32) -> Group {
    let pgid = i32::try_from(pgid).unwrap_or(i32::MAX);
    if let Ok(mut groups) = shared().groups.lock() {
        groups.insert(pgid);
    }
    Group(pgid)
}

impl Group {
    /// Kills every process of the group: the child, and whatever it started that is
    /// still in the group (kind's `docker ps`, a shell's pipeline).
    pub fn kill(&self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0) {
            // Best effort: the group may be empty already.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Ok(mut groups) = shared().groups.lock() {
            groups.remove(&self.0);
        }
    }
}

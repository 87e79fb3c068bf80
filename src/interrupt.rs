//! Ctrl-C, SIGTERM and SIGHUP, for a program whose children run in process groups of
//! their own (so that a timeout can stop a child and everything it started). The terminal
//! signals only the foreground group, and `kill` or a closed SSH window only this process,
//! so the handler passes the signal on (as SIGINT: the handler cannot tell which one came)
//! to every running child's group. During lab steps it then only raises a flag that the
//! step's loop reads, so the step is recorded as interrupted and the cluster is left as it
//! is; before them, it ends sidecar-lab with 130 as an unhandled Ctrl-C would, once the
//! children are gone: the lab's lock is released when this process ends, and must not be
//! while an orphaned `kind create cluster` still works.
#![allow(
    clippy::disallowed_methods,
    reason = "the signal door: it reads /proc for the children to stop and ends the process on a second Ctrl-C"
)]

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
    /// The children running now in this process's own group (commands shown on the
    /// terminal), whose trees are killed when sidecar-lab ends on a signal.
    trees: Mutex<BTreeSet<i32>>,
}

/// Made, and the handler installed, on first use.
static SHARED: OnceLock<Shared> = OnceLock::new();

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        let shared = Shared {
            flag: Arc::new(AtomicBool::new(false)),
            steps: AtomicBool::new(false),
            groups: Mutex::new(BTreeSet::new()),
            trees: Mutex::new(BTreeSet::new()),
        };
        // Fails only if another handler is installed, which this program never does. With
        // ctrlc's `termination` feature it handles SIGTERM and SIGHUP as well as SIGINT.
        let _ = ctrlc::set_handler(on_ctrl_c);
        shared
    })
}

fn on_ctrl_c() {
    let shared = shared();
    // Raised before the children are told: one that dies of it must find the flag up,
    // or the verb waiting on it could end the program with its own status first.
    shared.flag.store(true, Ordering::SeqCst);
    signal_groups(shared, rustix::process::Signal::INT);
    if !shared.steps.load(Ordering::SeqCst) {
        // A child that ignores SIGINT (or is slow to act on it) would outlive this
        // process and its lock: give the groups a moment, then kill what is left.
        let started = std::time::Instant::now();
        while started.elapsed() < GRACE && running_groups(shared).iter().any(|g| alive(*g)) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        signal_groups(shared, rustix::process::Signal::KILL);
        // Ctrl-C reached these with the terminal's group, but SIGTERM did not.
        let trees = shared.trees.lock().map(|t| t.clone()).unwrap_or_default();
        for pid in trees {
            kill_tree(pid.unsigned_abs());
        }
        std::process::exit(130);
    }
}

/// How long children have to end on SIGINT before an ending sidecar-lab kills them.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Called before a child starts, as the lab's lock is let go, and as a verb returns.
/// When a signal came outside the lab's steps, the handler is ending the program with
/// 130 once the children are gone; the verb (which saw its child die and went on) must
/// not start another child, release the lock, or end the program first with its own
/// status. So it waits here for the handler's exit, and ends with 130 itself should that
/// not come.
pub(crate) fn await_ending() {
    let Some(shared) = SHARED.get() else {
        return;
    };
    if !shared.flag.load(Ordering::SeqCst) || shared.steps.load(Ordering::SeqCst) {
        return;
    }
    // The handler needs GRACE, then up to TREE_GRACE for each tree it kills.
    let started = std::time::Instant::now();
    while started.elapsed() < ENDING_AT_MOST {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::process::exit(130);
}

/// How long a verb waits for the handler to end the program.
const ENDING_AT_MOST: std::time::Duration = std::time::Duration::from_secs(30);

fn running_groups(shared: &Shared) -> Vec<i32> {
    shared
        .groups
        .lock()
        .map(|g| g.iter().copied().collect::<Vec<_>>())
        .unwrap_or_default()
}

/// Whether the process group `pgid` has a member that is not a zombie (children not yet
/// reaped stay in their group, but no longer run).
fn alive(pgid: i32) -> bool {
    processes().iter().any(|p| p.pgrp == pgid && p.state != 'Z')
}

/// One line of `/proc/PID/stat`, the fields read here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Process {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

impl Process {
    /// Parses `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so
    /// the fields after it are split after its last `)` (proc(5)).
    pub(crate) fn parse(stat: &str) -> Option<Self> {
        let (head, rest) = stat.rsplit_once(')')?;
        let pid = head.split_once(' ')?.0.trim().parse().ok()?;
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let ppid = fields.next()?.parse().ok()?;
        let pgrp = fields.next()?.parse().ok()?;
        Some(Self {
            pid,
            state,
            ppid,
            pgrp,
        })
    }
}

/// The processes of this machine (this pid namespace), from `/proc`; empty without it.
pub(crate) fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| Process::parse(&stat))
        .collect()
}

/// The pids of every process `pid` started, and they started, from their parent links:
/// for a child that shares this process's group (a command on the terminal), whose
/// descendants a kill of its group cannot reach alone.
pub(crate) fn descendants(pid: i32) -> Vec<i32> {
    let all = processes();
    let mut found = vec![pid];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            all.iter()
                .filter(|p| p.ppid == parent && !found.contains(&p.pid))
                .map(|p| p.pid)
                .collect::<Vec<_>>(),
        );
        next += 1;
    }
    found.remove(0);
    found
}

/// Kills `pid` and every process it started (best effort: each may end meanwhile).
/// The descendants are found first, as a killed parent's children move to another. They
/// get SIGTERM first: `sudo` passes it on to its command, which runs as root where this
/// process may not signal it; SIGKILL follows for whatever is still running after
/// `TREE_GRACE`.
pub(crate) fn kill_tree(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    let mut all = descendants(pid);
    all.insert(0, pid);
    let signal = |signal| {
        for pid in &all {
            if let Some(pid) = rustix::process::Pid::from_raw(*pid) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    };
    signal(rustix::process::Signal::TERM);
    let running = || {
        processes()
            .iter()
            .any(|p| all.contains(&p.pid) && p.state != 'Z')
    };
    let started = std::time::Instant::now();
    while started.elapsed() < TREE_GRACE && running() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    signal(rustix::process::Signal::KILL);
}

/// How long a killed tree has to end on SIGTERM before SIGKILL.
const TREE_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

fn signal_groups(shared: &Shared, signal: rustix::process::Signal) {
    for group in running_groups(shared) {
        if let Some(pid) = rustix::process::Pid::from_raw(group) {
            // Best effort: the group may have ended a moment ago.
            let _ = rustix::process::kill_process_group(pid, signal);
        }
    }
}

/// From now on Ctrl-C stops a step cleanly instead of ending the program; returns the
/// flag it raises.
pub(crate) fn flag() -> Arc<AtomicBool> {
    let shared = shared();
    shared.steps.store(true, Ordering::SeqCst);
    Arc::clone(&shared.flag)
}

/// A child's process group, known to the handler while the returned guard lives.
pub(crate) struct Group(i32);

/// Registers the process group `pgid` (a child started as the leader of its own group).
pub(crate) fn group(pgid: u32) -> Group {
    let pgid = i32::try_from(pgid).unwrap_or(i32::MAX);
    if let Ok(mut groups) = shared().groups.lock() {
        groups.insert(pgid);
    }
    Group(pgid)
}

impl Group {
    /// Kills every process of the group: the child, and whatever it started that is
    /// still in the group (kind's `docker ps`, a shell's pipeline).
    pub(crate) fn kill(&self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.0) {
            // Best effort: the group may be empty already.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// A child in this process's own group, known to the handler while the guard lives.
pub(crate) struct Tree(i32);

/// Registers `pid`, a child left in this process's group (so that a terminal can hand
/// it its input): were sidecar-lab ended by SIGTERM, it and what it started are killed.
pub(crate) fn tree(pid: u32) -> Tree {
    let pid = i32::try_from(pid).unwrap_or(i32::MAX);
    if let Ok(mut trees) = shared().trees.lock() {
        trees.insert(pid);
    }
    Tree(pid)
}

impl Drop for Tree {
    fn drop(&mut self) {
        if let Ok(mut trees) = shared().trees.lock() {
            trees.remove(&self.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_past_odd_command_names() {
        let process = Process::parse("42 (a b) c)) S 7 42 42 0 -1 4194560").expect("parses");
        assert_eq!(
            process,
            Process {
                pid: 42,
                state: 'S',
                ppid: 7,
                pgrp: 42
            }
        );
        assert_eq!(Process::parse("42 (x"), None);
    }

    #[test]
    fn the_tree_of_a_child_is_found_and_killed() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 31 & wait"])
            .spawn()
            .expect("sh runs");
        let started = std::time::Instant::now();
        let pid = i32::try_from(child.id()).expect("pid");
        while descendants(pid).len() < 2 && started.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let tree = descendants(pid);
        assert_eq!(tree.len(), 2, "{tree:?}");
        kill_tree(child.id());
        let _ = child.wait();
        while tree
            .iter()
            .any(|p| processes().iter().any(|q| q.pid == *p && q.state != 'Z'))
            && started.elapsed() < std::time::Duration::from_secs(5)
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let left: Vec<_> = processes()
            .into_iter()
            .filter(|q| tree.contains(&q.pid) && q.state != 'Z')
            .collect();
        assert_eq!(left, Vec::new(), "left behind");
    }
}

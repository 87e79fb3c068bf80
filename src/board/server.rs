//! The board's HTTP server: a few lines of HTTP/1.1 over `std::net`, read-only. Every
//! request is answered from the latest read of the cluster, which one refresher updates
//! on its own clock — so thirty projectors and phones cost no more cluster reads than
//! one. Beyond localhost a token is required (`?token=…`); without it: 403. Built to
//! stay up in a room: heads are read through bounded buffers without blocking, a fixed
//! pool answers, every connection has a deadline, and only requests naming the board's
//! own address are answered (DNS rebinding).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::head::{Head, HeadReader, Progress, host_allowed};
use super::page::{self, PageSettings};
use crate::results::Results;

/// What the refresher last read, shared with the request handlers.
#[derive(Default)]
pub(crate) struct Latest {
    pub results: Option<Results>,
    /// Why the last read failed, if it did.
    pub problem: Option<String>,
}

/// How the server answers.
pub(crate) struct ServerSettings {
    pub title: String,
    /// The token every request must carry, when the board listens beyond localhost.
    pub token: Option<String>,
    pub stuck_after_seconds: u64,
    pub refresh_seconds: u64,
}

/// How much the server takes on at once. A room is thirty browsers polling once a
/// second; these bounds are far above that and far below what hurts the machine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Threads answering complete requests, started once.
    pub workers: usize,
    /// Connections whose head is still arriving. When full, the oldest is dropped: a
    /// browser sends its head at once, so the oldest is the one trickling it in.
    pub pending: usize,
    /// Complete requests waiting for a worker; beyond it, 503.
    pub queue: usize,
    /// From accept to the end of the head (slowloris), and again for the answer.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            workers: 4,
            pending: 512,
            queue: 64,
            deadline: Duration::from_secs(5),
        }
    }
}

/// A connection whose head is still arriving.
struct Pending {
    stream: TcpStream,
    head: HeadReader,
    until: Instant,
}

/// A complete request, for a worker.
struct Ready {
    stream: TcpStream,
    head: Head,
}

/// Serves until `stop` is raised, with the default limits.
pub(crate) fn serve(
    listener: &TcpListener,
    latest: &Arc<Mutex<Latest>>,
    settings: &Arc<ServerSettings>,
    stop: &AtomicBool,
) {
    serve_with(listener, latest, settings, stop, Limits::default());
}

/// Serves until `stop` is raised. One thread accepts connections and reads their heads
/// without blocking; a fixed pool of workers answers complete ones. No thread is started
/// per connection, so a flood costs buffers (bounded), never threads.
pub(crate) fn serve_with(
    listener: &TcpListener,
    latest: &Mutex<Latest>,
    settings: &ServerSettings,
    stop: &AtomicBool,
    limits: Limits,
) {
    // Non-blocking accept, so a raised `stop` is seen within a tick.
    let _ = listener.set_nonblocking(true);
    let Ok(listening) = listener.local_addr() else {
        return;
    };
    let answer = Answer {
        latest,
        settings,
        listening,
        deadline: limits.deadline,
    };
    let (sender, receiver) = sync_channel::<Ready>(limits.queue.max(1));
    let receiver = Mutex::new(receiver);
    std::thread::scope(|scope| {
        let mut workers = 0;
        for n in 0..limits.workers {
            // A thread that cannot be made (a full process table) costs capacity, not
            // the board: with none at all, the accepting thread answers on its own.
            let started = std::thread::Builder::new()
                .name(format!("board-{n}"))
                .spawn_scoped(scope, || work(&receiver, &answer));
            if started.is_ok() {
                workers += 1;
            }
        }
        let to_workers = (workers > 0).then_some(&sender);
        accept_loop(listener, to_workers, &answer, stop, limits);
        drop(sender);
    });
}

/// Accepts, reads heads as their bytes arrive, hands complete ones on.
fn accept_loop(
    listener: &TcpListener,
    workers: Option<&SyncSender<Ready>>,
    answer: &Answer<'_>,
    stop: &AtomicBool,
    limits: Limits,
) {
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        // Sleep in poll(2) until a connection arrives, a pending head has bytes, or the
        // nearest deadline (at most one tick, to see `stop`): a thousand idle slowloris
        // connections cost nothing until one of them sends a byte.
        let readable = wait_for_bytes(listener, &pending);
        let evicted = accept_waiting(listener, &mut pending, limits);
        let now = Instant::now();
        // `readable` is in the order of `pending` before this round's accepts: those
        // evicted from the front are skipped, the new ones at the back are read at once
        // (a browser sends its head with the connection). A connection not known to
        // have bytes is not read.
        let mut readable = readable.into_iter().skip(evicted);
        for _ in 0..pending.len() {
            let Some(mut connection) = pending.pop_front() else {
                break;
            };
            let progress = if readable.next().unwrap_or(true) {
                read_some(&mut connection, &mut buffer)
            } else {
                Progress::More
            };
            match progress {
                Progress::More if now < connection.until => pending.push_back(connection),
                Progress::More => refuse(&connection.stream, 408),
                Progress::Refused(code) => refuse(&connection.stream, code),
                Progress::Done(head) => hand_on(
                    Ready {
                        stream: connection.stream,
                        head,
                    },
                    workers,
                    answer,
                ),
            }
        }
    }
}

/// Accepts the connections waiting (a bounded number per round) into `pending`; when
/// it is full, the oldest are dropped. Returns how many were dropped from the front.
fn accept_waiting(
    listener: &TcpListener,
    pending: &mut VecDeque<Pending>,
    limits: Limits,
) -> usize {
    let mut evicted = 0;
    for _ in 0..256 {
        match listener.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                if pending.len() >= limits.pending.max(1) {
                    pending.pop_front();
                    evicted += 1;
                }
                pending.push_back(Pending {
                    stream,
                    head: HeadReader::default(),
                    until: Instant::now() + limits.deadline,
                });
            }
            // WouldBlock: none waiting. Anything else (out of file descriptors):
            // the connection waits in the backlog until a tick frees one.
            Err(_) => break,
        }
    }
    evicted
}

/// A complete request goes to a worker; 503 when they are all busy and the queue is full.
fn hand_on(ready: Ready, workers: Option<&SyncSender<Ready>>, answer: &Answer<'_>) {
    let Some(workers) = workers else {
        // No worker could be started: the accepting thread answers
        // itself (slower, never down), guarded as a worker is.
        answer.guarded(ready);
        return;
    };
    match workers.try_send(ready) {
        Ok(()) => {}
        Err(TrySendError::Full(ready)) => refuse(&ready.stream, 503),
        Err(TrySendError::Disconnected(ready)) => answer.guarded(ready),
    }
}

/// How long the accepting thread sleeps at most: the time it takes to notice `stop`.
const TICK: Duration = Duration::from_millis(50);

/// Waits in poll(2) for the listener or a pending connection to have something to
/// read, until the nearest pending deadline or one `TICK`. Returns, per pending
/// connection in order, whether it may be read; when poll itself fails, every one may
/// (a read that would block says so).
fn wait_for_bytes(listener: &TcpListener, pending: &VecDeque<Pending>) -> Vec<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let now = Instant::now();
    let wait = pending
        .iter()
        .map(|p| p.until.saturating_duration_since(now))
        .min()
        .map_or(TICK, |until| until.min(TICK));
    let Ok(timeout) = Timespec::try_from(wait) else {
        return vec![true; pending.len()];
    };
    let mut fds = Vec::with_capacity(pending.len() + 1);
    fds.push(PollFd::new(listener, PollFlags::IN));
    fds.extend(
        pending
            .iter()
            .map(|p| PollFd::new(&p.stream, PollFlags::IN)),
    );
    if poll(&mut fds, Some(&timeout)).is_err() {
        return vec![true; pending.len()];
    }
    // Hang-ups and errors count as readable: the read sees the end and refuses.
    fds.iter()
        .skip(1)
        .map(|fd| !fd.revents().is_empty())
        .collect()
}

/// Reads what has arrived on a pending connection. A closed or broken connection is
/// refused with 400 (nobody reads the answer).
fn read_some(connection: &mut Pending, buffer: &mut [u8]) -> Progress {
    loop {
        match connection.stream.read(buffer) {
            Ok(0) => return Progress::Refused(400),
            Ok(n) => match connection.head.feed(&buffer[..n]) {
                Progress::More => {}
                done => return done,
            },
            Err(error) if error.kind() == ErrorKind::WouldBlock => return Progress::More,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Progress::Refused(400),
        }
    }
}

/// A short refusal, written without waiting: the connection is closed either way.
fn refuse(mut stream: &TcpStream, code: u16) {
    let body = format!("{}\n", reason(code).to_ascii_lowercase());
    let _ = stream.write(head_text(code, "text/plain", body.len()).as_bytes());
    let _ = stream.write(body.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// A worker: answers complete requests until the accepting thread stops.
fn work(receiver: &Mutex<Receiver<Ready>>, answer: &Answer<'_>) {
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(ready) = next else {
            return;
        };
        answer.guarded(ready);
    }
}

/// What answering needs: the state, the settings, and where the board listens.
struct Answer<'a> {
    latest: &'a Mutex<Latest>,
    settings: &'a ServerSettings,
    listening: SocketAddr,
    deadline: Duration,
}

impl Answer<'_> {
    /// Answers `ready`, a panic included: a request that trips a bug costs that request,
    /// not a worker nor the accepting thread (which answers itself when no worker could
    /// start), and the scope does not re-raise the panic when the board stops.
    fn guarded(&self, ready: Ready) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(ready)));
    }

    fn answer(&self, ready: Ready) {
        let Ready { stream, head } = ready;
        let until = Instant::now() + self.deadline;
        if stream.set_nonblocking(false).is_err() {
            return;
        }
        let (code, content_type, body) = self.route(&head);
        let mut out = head_text(code, content_type, body.len()).into_bytes();
        out.extend_from_slice(body.as_bytes());
        write_by(&stream, &out, until);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    fn route(&self, head: &Head) -> (u16, &'static str, String) {
        let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
        if let Some(refusal) = self.refusal(head, query) {
            return refusal;
        }
        self.content(path)
    }

    /// Why a request is not answered: no Host, someone else's Host (DNS rebinding), not
    /// a GET, or without the token.
    fn refusal(&self, head: &Head, query: &str) -> Option<(u16, &'static str, String)> {
        let Some(host) = &head.host else {
            return Some((
                400,
                "text/plain",
                "bad request: no Host header\n".to_owned(),
            ));
        };
        if !host_allowed(host, self.listening) {
            return Some((
                421,
                "text/plain",
                format!(
                    "this board answers requests for {} only (the URL sidecar-lab printed)\n",
                    self.listening
                ),
            ));
        }
        if head.method != "GET" {
            return Some((405, "text/plain", "the board is read-only\n".to_owned()));
        }
        if let Some(token) = &self.settings.token {
            let given = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .unwrap_or_default();
            if !same(given.as_bytes(), token.as_bytes()) {
                return Some((
                    403,
                    "text/plain",
                    "this board needs its access token: open the URL sidecar-lab printed (…?token=…)\n"
                        .to_owned(),
                ));
            }
        }
        None
    }

    /// The page, its JSON, or why there is none yet, from the latest read.
    fn content(&self, path: &str) -> (u16, &'static str, String) {
        let settings = self.settings;
        let query_suffix = settings
            .token
            .as_ref()
            .map(|t| format!("?token={t}"))
            .unwrap_or_default();
        let snapshot = match self.latest.lock() {
            Ok(latest) => (latest.results.clone(), latest.problem.clone()),
            Err(_) => (None, Some("the board's state is unreadable".to_owned())),
        };
        match (path, snapshot) {
            ("/" | "/index.html", (Some(results), _)) => {
                let page_settings = PageSettings {
                    title: &settings.title,
                    query: &query_suffix,
                    stuck_after_seconds: settings.stuck_after_seconds,
                    refresh_seconds: settings.refresh_seconds.max(2) + 3,
                };
                (
                    200,
                    "text/html; charset=utf-8",
                    page::page(&results, &page_settings),
                )
            }
            ("/board.json", (Some(results), problem)) => {
                let body = serde_json::json!({
                    "generatedAt": results.generated_at,
                    "totals": page::totals(&results),
                    "tiles": page::tiles(&results, settings.stuck_after_seconds),
                    "problem": problem,
                    "results": results,
                });
                (200, "application/json", body.to_string())
            }
            ("/" | "/index.html" | "/board.json", (None, problem)) => (
                503,
                "text/plain",
                format!(
                    "no read of the cluster yet{}\n",
                    problem.map(|p| format!(": {p}")).unwrap_or_default()
                ),
            ),
            _ => (404, "text/plain", "not found\n".to_owned()),
        }
    }
}

/// Writes `bytes` unless `until` passes first: a client that reads slowly holds a
/// worker no longer than the deadline.
fn write_by(mut stream: &TcpStream, mut bytes: &[u8], until: Instant) {
    while !bytes.is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_write_timeout(Some(left)).is_err() {
            return;
        }
        match stream.write(bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
    let _ = stream.flush();
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    }
}

/// The status line and headers. `Referrer-Policy: no-referrer`: the token in the URL
/// never leaves in a Referer header.
fn head_text(code: u16, content_type: &str, length: usize) -> String {
    format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        reason(code)
    )
}

/// Compares in time that does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;

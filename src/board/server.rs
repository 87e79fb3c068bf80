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
pub struct Latest {
    pub results: Option<Results>,
    /// Why the last read failed, if it did.
    pub problem: Option<String>,
}

/// How the server answers.
pub struct ServerSettings {
    pub title: String,
    /// The token every request must carry, when the board listens beyond localhost.
    pub token: Option<String>,
    pub stuck_after_seconds: u64,
    pub refresh_seconds: u64,
}

/// How much the server takes on at once. A room is thirty browsers polling once a
/// second; these bounds are far above that and far below what hurts the machine.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
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
pub fn serve(
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
pub fn serve_with(
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
                Progress::Done(head) => {
                    let ready = Ready {
                        stream: connection.stream,
                        head,
                    };
                    let Some(workers) = workers else {
                        // No worker could be started: the accepting thread answers
                        // itself (slower, never down), guarded as a worker is.
                        answer.guarded(ready);
                        continue;
                    };
                    match workers.try_send(ready) {
                        Ok(()) => {}
                        Err(TrySendError::Full(ready)) => refuse(&ready.stream, 503),
                        Err(TrySendError::Disconnected(ready)) => answer.guarded(ready),
                    }
                }
            }
        }
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
        let settings = self.settings;
        let Some(host) = &head.host else {
            return (
                400,
                "text/plain",
                "bad request: no Host header\n".to_owned(),
            );
        };
        if !host_allowed(host, self.listening) {
            return (
                421,
                "text/plain",
                format!(
                    "this board answers requests for {} only (the URL sidecar-lab printed)\n",
                    self.listening
                ),
            );
        }
        let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
        if head.method != "GET" {
            return (405, "text/plain", "the board is read-only\n".to_owned());
        }
        if let Some(token) = &settings.token {
            let given = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="))
                .unwrap_or_default();
            if !same(given.as_bytes(), token.as_bytes()) {
                return (
                    403,
                    "text/plain",
                    "this board needs its access token: open the URL sidecar-lab printed (…?token=…)\n"
                        .to_owned(),
                );
            }
        }
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

/// A fresh access token: 16 bytes from the kernel's random source, as hex.
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    #[test]
    fn tokens_compare_whole_and_are_fresh() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        let (a, b) = (new_token().expect("random"), new_token().expect("random"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    /// A board on 127.0.0.1 with an empty class, stopped when dropped.
    struct Board {
        address: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    impl Board {
        fn start(limits: Limits) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
            let address = listener.local_addr().expect("address");
            let stop = Arc::new(AtomicBool::new(false));
            let latest = Mutex::new(Latest {
                results: Some(Results::new(
                    "2026-01-01T00:00:00Z".into(),
                    "test".into(),
                    vec![],
                )),
                problem: None,
            });
            let settings = ServerSettings {
                title: "test".into(),
                token: None,
                stuck_after_seconds: 60,
                refresh_seconds: 2,
            };
            let flag = Arc::clone(&stop);
            let thread = std::thread::spawn(move || {
                serve_with(&listener, &latest, &settings, &flag, limits);
            });
            Self {
                address,
                stop,
                thread: Some(thread),
            }
        }

        /// The answer's head (status line and headers) to `request`.
        fn ask(&self, request: &str) -> String {
            let mut stream = TcpStream::connect(self.address).expect("connects");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            stream.write_all(request.as_bytes()).expect("asks");
            let mut head = String::new();
            let mut reader = BufReader::new(stream);
            while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
            head
        }

        fn get(&self, path: &str) -> String {
            self.ask(&format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
                self.address
            ))
        }
    }

    impl Drop for Board {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    #[test]
    fn answers_its_own_host_with_no_referrer_and_refuses_others() {
        let board = Board::start(Limits::default());
        let answer = board.get("/board.json");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nReferrer-Policy: no-referrer\r\n"),
            "{answer}"
        );
        let port = board.address.port();
        let local = board.ask(&format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"));
        assert!(local.starts_with("HTTP/1.1 200"), "{local}");
        let rebound = board.ask(&format!(
            "GET /board.json HTTP/1.1\r\nHost: attacker.example:{port}\r\n\r\n"
        ));
        assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
        assert!(
            rebound.contains("Referrer-Policy: no-referrer"),
            "{rebound}"
        );
        let none = board.ask("GET / HTTP/1.1\r\n\r\n");
        assert!(none.starts_with("HTTP/1.1 400"), "{none}");
    }

    /// A 1 GiB request line, generated as it is sent: the board stops reading after one
    /// line's worth and closes the connection long before the gigabyte is through.
    #[test]
    fn a_gigabyte_request_line_is_cut_off() {
        let board = Board::start(Limits::default());
        let mut stream = TcpStream::connect(board.address).expect("connects");
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(b"GET /").expect("starts");
        let chunk = [b'a'; 64 * 1024];
        let mut sent = 0usize;
        let started = Instant::now();
        let cut = loop {
            if sent >= 1 << 30 {
                break false;
            }
            match stream.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break true,
            }
        };
        assert!(cut, "the board read a whole gigabyte");
        // What got through before the reset sat in the kernel's buffers, not the board's.
        assert!(sent < 64 << 20, "{sent} bytes sent before the cut");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(board.get("/").starts_with("HTTP/1.1 200"));
    }

    /// 300 connections trickling a head in (slowloris), then a normal request: answered
    /// at once; the trickling ones are closed at their deadline.
    #[test]
    fn slow_connections_do_not_delay_a_normal_request() {
        let board = Board::start(Limits {
            deadline: Duration::from_millis(1500),
            ..Limits::default()
        });
        let mut slow: Vec<TcpStream> = (0..300)
            .map(|_| {
                let mut stream = TcpStream::connect(board.address).expect("connects");
                stream
                    .write_all(b"GET / HTTP/1.1\r\nX-a: ")
                    .expect("starts");
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        for stream in &mut slow {
            let _ = stream.write_all(b"b");
        }
        let started = Instant::now();
        let answer = board.get("/board.json");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "answered in {:?}",
            started.elapsed()
        );
        // Past the deadline every trickling connection has been answered 408 and closed.
        std::thread::sleep(Duration::from_millis(1700));
        for stream in &mut slow {
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .expect("timeout");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        }
    }

    /// More trickling connections than the board keeps: the oldest are dropped, so a
    /// newcomer is still answered.
    #[test]
    fn a_full_table_of_pending_connections_drops_the_oldest() {
        let board = Board::start(Limits {
            pending: 20,
            ..Limits::default()
        });
        let _slow: Vec<TcpStream> = (0..100)
            .map(|_| {
                let mut stream = TcpStream::connect(board.address).expect("connects");
                stream.write_all(b"GET / HTT").expect("starts");
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        assert!(board.get("/").starts_with("HTTP/1.1 200"));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    /// With no worker thread at all the board still answers, from the accepting thread.
    #[test]
    fn without_workers_the_board_still_answers() {
        let board = Board::start(Limits {
            workers: 0,
            ..Limits::default()
        });
        assert!(board.get("/").starts_with("HTTP/1.1 200"));
        assert!(board.get("/nowhere").starts_with("HTTP/1.1 404"));
    }
}

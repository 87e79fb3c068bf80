//! A small HTTP/1.1 server on 127.0.0.1 for download tests: each path answers with a
//! scripted sequence of responses (the last repeats), including faults a real network
//! produces — server errors, bodies cut short, connections closed without an answer.
//! It stops when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One scripted answer.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status with a short text body.
    Status(u16),
    /// 200 announcing the whole body's length, then only `sent` bytes of it, then close.
    Truncated { body: Vec<u8>, sent: usize },
    /// Close the connection without answering.
    Hangup,
    /// 200 with zeros for ever (until the client stops reading), announcing `length`
    /// bytes when given; without, the body ends only when the connection closes.
    Endless { length: Option<u64> },
    /// 302 to this URL.
    Redirect(String),
    /// 200 without a length, then one byte every `every` until the client goes away (or
    /// a minute has passed, so a test that fails cannot run for ever).
    Trickle { every: std::time::Duration },
}

#[derive(Default)]
struct Routes {
    replies: HashMap<String, Vec<Reply>>,
    hits: HashMap<String, usize>,
    /// Bytes of body sent by `Endless` replies, in all.
    endless_sent: u64,
}

/// The running server.
pub(crate) struct Server {
    address: SocketAddr,
    routes: Arc<Mutex<Routes>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let address = listener.local_addr().expect("address");
        let routes = Arc::new(Mutex::new(Routes::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (routes, stop) = (Arc::clone(&routes), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let routes = Arc::clone(&routes);
                        std::thread::spawn(move || serve(stream, &routes));
                    }
                }
            })
        };
        Self {
            address,
            routes,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Scripts `path`: the replies in order, the last one for every later request.
    pub(crate) fn route(&self, path: &str, replies: Vec<Reply>) {
        let mut routes = self.routes.lock().expect("lock");
        routes.replies.insert(path.to_owned(), replies);
    }

    /// How many requests `path` has had.
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.routes
            .lock()
            .expect("lock")
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// How many bytes `Endless` replies got out before the client stopped reading.
    pub(crate) fn endless_sent(&self) -> u64 {
        self.routes.lock().expect("lock").endless_sent
    }

    /// All requests so far.
    pub(crate) fn total_hits(&self) -> usize {
        self.routes.lock().expect("lock").hits.values().sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, routes: &Mutex<Routes>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        // Skip the headers.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
                break;
            }
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let reply = {
            let mut routes = routes.lock().expect("lock");
            let hit = {
                let hits = routes.hits.entry(path.clone()).or_insert(0);
                *hits += 1;
                *hits
            };
            routes
                .replies
                .get(&path)
                .map_or(Reply::Status(404), |replies| {
                    replies[(hit - 1).min(replies.len() - 1)].clone()
                })
        };
        let written = match reply {
            Reply::Body(body) => respond(&mut stream, 200, &body, body.len()),
            Reply::Status(status) => respond(&mut stream, status, b"scripted status\n", 16),
            Reply::Truncated { body, sent } => {
                let _ = respond(&mut stream, 200, &body[..sent.min(body.len())], body.len());
                return;
            }
            Reply::Hangup => return,
            Reply::Endless { length } => {
                let sent = endless(&mut stream, length);
                routes.lock().expect("lock").endless_sent += sent;
                return;
            }
            Reply::Trickle { every } => {
                trickle(&mut stream, every);
                return;
            }
            Reply::Redirect(to) => write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"
            )
            .and_then(|()| stream.flush()),
        };
        if written.is_err() {
            return;
        }
    }
}

/// Zeros until the peer goes away (or 1 GiB, so a test that fails cannot run for ever);
/// the bytes written.
fn endless(stream: &mut TcpStream, length: Option<u64>) -> u64 {
    let header = match length {
        Some(length) => format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n"),
        None => "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned(),
    };
    if stream.write_all(header.as_bytes()).is_err() {
        return 0;
    }
    let chunk = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    while sent < (1 << 30) && stream.write_all(&chunk).is_ok() {
        sent += chunk.len() as u64;
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    sent
}

/// One byte at a time, `every` apart, until the peer goes away or a minute has passed.
fn trickle(stream: &mut TcpStream, every: std::time::Duration) {
    let header = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    let started = std::time::Instant::now();
    if stream.write_all(header.as_bytes()).is_err() {
        return;
    }
    while started.elapsed() < std::time::Duration::from_secs(60)
        && stream.write_all(b"a").and_then(|()| stream.flush()).is_ok()
    {
        std::thread::sleep(every);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn respond(stream: &mut TcpStream, status: u16, body: &[u8], length: usize) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )?;
    stream.write_all(body)?;
    stream.flush()
}

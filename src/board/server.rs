//! The board's HTTP server: a few lines of HTTP/1.1 over `std::net`, read-only. Every
//! request is answered from the latest read of the cluster, which one refresher updates
//! on its own clock — so thirty projectors and phones cost no more cluster reads than
//! one. Beyond localhost a token is required (`?token=…`); without it: 403.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Serves until `stop` is raised; each connection on a thread of its own.
pub fn serve(
    listener: &TcpListener,
    latest: &Arc<Mutex<Latest>>,
    settings: &Arc<ServerSettings>,
    stop: &AtomicBool,
) {
    // Non-blocking accept, so a raised `stop` is seen within a tick.
    let _ = listener.set_nonblocking(true);
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let latest = Arc::clone(latest);
                let settings = Arc::clone(settings);
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    handle(stream, &latest, &settings);
                });
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn handle(stream: TcpStream, latest: &Mutex<Latest>, settings: &ServerSettings) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.len() > 8192 {
        return;
    }
    // The headers are read and dropped: the board needs none of them.
    let mut header = String::new();
    let mut total = 0;
    while reader.read_line(&mut header).is_ok_and(|n| n > 0) {
        total += header.len();
        if header == "\r\n" || header == "\n" || total > 65_536 {
            break;
        }
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return respond(&stream, 400, "text/plain", "bad request\n");
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" {
        return respond(&stream, 405, "text/plain", "the board is read-only\n");
    }
    if let Some(token) = &settings.token {
        let given = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .unwrap_or_default();
        if !same(given.as_bytes(), token.as_bytes()) {
            return respond(
                &stream,
                403,
                "text/plain",
                "this board needs its access token: open the URL sidecar-lab printed (…?token=…)\n",
            );
        }
    }
    let query_suffix = settings
        .token
        .as_ref()
        .map(|t| format!("?token={t}"))
        .unwrap_or_default();
    let snapshot = match latest.lock() {
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
            respond(
                &stream,
                200,
                "text/html; charset=utf-8",
                &page::page(&results, &page_settings),
            );
        }
        ("/board.json", (Some(results), problem)) => {
            let body = serde_json::json!({
                "generatedAt": results.generated_at,
                "totals": page::totals(&results),
                "tiles": page::tiles(&results, settings.stuck_after_seconds),
                "problem": problem,
                "results": results,
            });
            respond(&stream, 200, "application/json", &body.to_string());
        }
        ("/" | "/index.html" | "/board.json", (None, problem)) => respond(
            &stream,
            503,
            "text/plain",
            &format!(
                "no read of the cluster yet{}\n",
                problem.map(|p| format!(": {p}")).unwrap_or_default()
            ),
        ),
        _ => respond(&stream, 404, "text/plain", "not found\n"),
    }
}

fn respond(mut stream: &TcpStream, code: u16, content_type: &str, body: &str) {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .and_then(|()| stream.flush());
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

    #[test]
    fn tokens_compare_whole_and_are_fresh() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        let (a, b) = (new_token().expect("random"), new_token().expect("random"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}

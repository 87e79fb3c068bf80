//! The board's request head, read a few bytes at a time as they arrive and never held
//! beyond its limits: the request line and each header line at most 8 KiB, at most 100
//! header lines, so a 1 GiB request line costs one line's buffer, not a gigabyte. Also
//! the `Host` check that keeps a DNS-rebinding page from reading the board (pure).

use std::net::{IpAddr, SocketAddr};

/// The longest request line or header line read, in bytes (with its line end).
pub(crate) const MAX_LINE: usize = 8 * 1024;
/// The most header lines read before the request is refused.
const MAX_HEADERS: usize = 100;

/// What the board needs of a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
}

/// Where reading a head stands after some bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The head is not complete yet: feed more.
    More,
    /// The whole head, up to its empty line.
    Done(Head),
    /// The request is refused with this status before it is complete.
    Refused(u16),
}

/// A head read as its bytes arrive. Holds at most one line (`MAX_LINE` bytes) of input,
/// plus the request line and the `Host` value.
#[derive(Debug, Default)]
pub(crate) struct HeadReader {
    line: Vec<u8>,
    request: Option<(String, String)>,
    host: Option<String>,
    headers: usize,
}

impl HeadReader {
    /// Takes the next bytes off the wire. Bytes after the head (a body) are ignored: the
    /// board answers GET only.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Progress {
        while !bytes.is_empty() {
            let (taken, ended) = match bytes.iter().position(|&b| b == b'\n') {
                Some(at) => (&bytes[..=at], true),
                None => (bytes, false),
            };
            if self.line.len() + taken.len() > MAX_LINE {
                // 414 for the request line, 431 for a header: what RFC 9110/6585 name.
                return Progress::Refused(if self.request.is_none() { 414 } else { 431 });
            }
            self.line.extend_from_slice(taken);
            bytes = &bytes[taken.len()..];
            if ended {
                let line = std::mem::take(&mut self.line);
                if let Some(progress) = self.line_done(&line) {
                    return progress;
                }
            }
        }
        Progress::More
    }

    fn line_done(&mut self, line: &[u8]) -> Option<Progress> {
        let Ok(text) = std::str::from_utf8(line) else {
            return Some(Progress::Refused(400));
        };
        let text = text.trim_end_matches(['\r', '\n']);
        if self.request.is_none() {
            // RFC 9112 §2.2: empty lines before the request line are ignored.
            if text.is_empty() {
                return None;
            }
            let mut parts = text.split(' ');
            let (Some(method), Some(target), Some(_version), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Some(Progress::Refused(400));
            };
            self.request = Some((method.to_owned(), target.to_owned()));
            return None;
        }
        if text.is_empty() {
            let (method, target) = self.request.take().unwrap_or_default();
            return Some(Progress::Done(Head {
                method,
                target,
                host: self.host.take(),
            }));
        }
        self.headers += 1;
        if self.headers > MAX_HEADERS {
            return Some(Progress::Refused(431));
        }
        if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("host") {
                // RFC 9112 §3.2: more than one Host is a bad request.
                if self.host.is_some() {
                    return Some(Progress::Refused(400));
                }
                self.host = Some(value.trim().to_owned());
            }
        }
        None
    }
}

/// Whether a request naming `host` may be answered by a board listening on `listening`.
/// A page on another site can point its own name at this machine (DNS rebinding) but
/// its requests still carry that name: only names that are this board's own address
/// pass — the address it listens on, `localhost` when that is loopback, and, when it
/// listens on every address, any IP address (an IP literal cannot be rebound).
pub(crate) fn host_allowed(host: &str, listening: SocketAddr) -> bool {
    let host = host.to_ascii_lowercase();
    let (name, port) = split_port(&host);
    let port_matches = match port {
        Some(port) => port.parse::<u16>().ok() == Some(listening.port()),
        None => listening.port() == 80,
    };
    if !port_matches {
        return false;
    }
    let named_ip = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name)
        .parse::<IpAddr>()
        .ok();
    let ip = listening.ip();
    match named_ip {
        Some(named) => ip.is_unspecified() || named == ip,
        None => name == "localhost" && (ip.is_loopback() || ip.is_unspecified()),
    }
}

/// `name:port` split at the port's colon (an IPv6 literal keeps its own colons).
fn split_port(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.split_once("]:") {
            Some((name, port)) => (&host[..=name.len()], Some(port)),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_head_in_pieces_is_read_whole() {
        let mut reader = HeadReader::default();
        assert_eq!(reader.feed(b"GET /board.json?token=x HT"), Progress::More);
        assert_eq!(reader.feed(b"TP/1.1\r\nhOsT: 127.0.0.1:8"), Progress::More);
        assert_eq!(
            reader.feed(b"080\r\nAccept: */*\r\n\r\nbody"),
            Progress::Done(Head {
                method: "GET".into(),
                target: "/board.json?token=x".into(),
                host: Some("127.0.0.1:8080".into()),
            })
        );
    }

    /// A 1 GiB request line, streamed: refused after one line's worth, and the reader
    /// never holds more than that.
    #[test]
    fn a_gigabyte_request_line_is_refused_after_one_line() {
        let mut stream = std::io::repeat(b'a').take(1 << 30);
        let mut reader = HeadReader::default();
        assert_eq!(reader.feed(b"GET /"), Progress::More);
        let mut chunk = [0u8; 4096];
        let mut fed = 0usize;
        let refused = loop {
            let n = stream.read(&mut chunk).expect("reads");
            assert!(n > 0, "the whole gigabyte was read");
            fed += n;
            match reader.feed(&chunk[..n]) {
                Progress::More => {}
                other => break other,
            }
        };
        assert_eq!(refused, Progress::Refused(414));
        assert!(fed <= MAX_LINE + chunk.len(), "{fed} bytes read");
        assert!(reader.line.capacity() <= 2 * MAX_LINE);
    }

    #[test]
    fn long_headers_many_headers_two_hosts_and_bad_lines_are_refused() {
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "b".repeat(MAX_LINE));
        assert_eq!(
            HeadReader::default().feed(long.as_bytes()),
            Progress::Refused(431)
        );
        let many = format!("GET / HTTP/1.1\r\n{}", "X: y\r\n".repeat(101));
        assert_eq!(
            HeadReader::default().feed(many.as_bytes()),
            Progress::Refused(431)
        );
        assert_eq!(
            HeadReader::default().feed(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            Progress::Refused(400)
        );
        assert_eq!(
            HeadReader::default().feed(b"GET /\r\n\r\n"),
            Progress::Refused(400)
        );
        assert_eq!(
            HeadReader::default().feed(b"GET /\xff HTTP/1.1\r\n"),
            Progress::Refused(400)
        );
    }

    #[test]
    fn only_the_boards_own_addresses_are_allowed_hosts() {
        let loopback: SocketAddr = "127.0.0.1:8080".parse().expect("address");
        assert!(host_allowed("127.0.0.1:8080", loopback));
        assert!(host_allowed("LocalHost:8080", loopback));
        assert!(!host_allowed("127.0.0.1:8081", loopback));
        assert!(!host_allowed("127.0.0.1", loopback));
        assert!(!host_allowed("evil.example:8080", loopback));
        assert!(!host_allowed("10.0.0.5:8080", loopback));
        let every: SocketAddr = "0.0.0.0:9000".parse().expect("address");
        assert!(host_allowed("192.168.1.20:9000", every));
        assert!(host_allowed("[fe80::1]:9000", every));
        assert!(host_allowed("localhost:9000", every));
        assert!(!host_allowed("rebound.example:9000", every));
        let one: SocketAddr = "192.168.1.20:80".parse().expect("address");
        assert!(host_allowed("192.168.1.20", one));
        assert!(!host_allowed("localhost", one));
        assert!(!host_allowed("192.168.1.21", one));
        let v6: SocketAddr = "[::1]:7000".parse().expect("address");
        assert!(host_allowed("[::1]:7000", v6));
        assert!(!host_allowed("[::2]:7000", v6));
    }
}

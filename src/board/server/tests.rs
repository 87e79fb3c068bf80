//! The board's server against real sockets: its own host only, a gigabyte request
//! line, slowloris, a full table of pending connections, no workers at all.

use super::*;
use std::io::{BufRead, BufReader};

#[test]
fn tokens_compare_whole() {
    assert!(same(b"abc", b"abc"));
    assert!(!same(b"abc", b"abd"));
    assert!(!same(b"abc", b"ab"));
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
    let chunk = vec![b'a'; 64 * 1024];
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

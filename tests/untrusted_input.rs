//! What a user hands over is bounded and shown as text: lab files, `report --merge`
//! files and `check` dumps go through one size and depth guard, and values in them that
//! carry terminal escapes are printed as visible text, never obeyed.
#![allow(
    clippy::disallowed_methods,
    reason = "tests set up files and processes directly"
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sidecar_lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sidecar-lab"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_lab_file_of_100k_nested_brackets_is_refused_within_a_second() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("deep.yaml");
    std::fs::write(&path, "[".repeat(100_000)).expect("write");
    let started = Instant::now();
    let output = sidecar_lab(&["render", "lab", "--lab", path.to_str().expect("utf-8")]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "lab file `{}` nests deeper than 256 levels",
            path.display()
        )),
        "{stderr}"
    );
}

/// A regular file of `bytes` bytes, sparse: past the cap without writing megabytes.
fn sparse(dir: &std::path::Path, name: &str, bytes: u64) -> String {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(bytes))
        .expect("sparse file");
    path.display().to_string()
}

#[test]
fn report_merge_of_a_file_past_the_cap_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sparse(dir.path(), "big.json", 17 << 20);
    let started = Instant::now();
    let output = sidecar_lab(&["report", "--merge", &path]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("results file `{path}` is larger than 16 MiB")),
        "{stderr}"
    );
}

#[test]
fn a_lab_file_past_the_cap_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sparse(dir.path(), "big.yaml", 2 << 20);
    let output = sidecar_lab(&["render", "lab", "--lab", &path]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains(&format!("lab file `{path}` is larger than 1 MiB")),
        "{}",
        text(&output.stderr)
    );
}

/// A FIFO nobody writes to, or a device, given where a file is read: refused at once
/// (opened without blocking, checked on the descriptor), not waited on for ever.
#[test]
fn a_fifo_or_a_device_is_refused_within_a_second() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let fifo = fifo.display().to_string();
    for input in [fifo.as_str(), "/dev/zero"] {
        let runs: [Vec<&str>; 3] = [
            vec!["render", "lab", "--lab", input],
            vec!["report", "--merge", input],
            vec!["check", "--variant", "native", "--from", input],
        ];
        for args in runs {
            let mut child = Command::new(env!("CARGO_BIN_EXE_sidecar-lab"))
                .args(&args)
                .env("NO_COLOR", "1")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the binary runs");
            let started = Instant::now();
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break Some(status);
                }
                if started.elapsed() > Duration::from_secs(1) {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            let Some(status) = status else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{args:?} still waits after a second");
            };
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
                .expect("read stderr");
            assert_ne!(status.code(), Some(0), "{args:?}");
            assert!(
                stderr.contains(&format!("`{input}`: not a regular file")),
                "{args:?}: {stderr}"
            );
        }
    }
}

/// A dump on standard input holding a 300 MB string: read up to the cap, refused, and
/// the process never holds much more than the cap (its peak RSS, read by Python's
/// `getrusage` for its child).
#[test]
fn a_300_mb_string_is_refused_without_taking_gigabytes() {
    let python = std::env::var("SIDECAR_LAB_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import resource, subprocess, sys
child = subprocess.Popen([sys.argv[1], "check", "--from", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
chunk = b"a" * (1 << 20)
try:
    child.stdin.write(b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"')
    for _ in range(300):
        child.stdin.write(chunk)
    child.stdin.write(b'"}}')
    child.stdin.close()
except BrokenPipeError:
    pass
stderr = child.stderr.read().decode()
code = child.wait()
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(stderr)
"#;
    let started = Instant::now();
    let output = Command::new(python)
        .args(["-c", script, env!("CARGO_BIN_EXE_sidecar-lab")])
        .stdin(Stdio::null())
        .output()
        .expect("python runs");
    let out = text(&output.stdout);
    let mut first = out.lines().next().unwrap_or_default().split(' ');
    let code: i32 = first.next().and_then(|c| c.parse().ok()).expect("code");
    let peak_kib: u64 = first.next().and_then(|c| c.parse().ok()).expect("peak");
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("dump `standard input` is larger than 128 MiB"),
        "{out}"
    );
    // The cap (128 MiB) and the program itself; without the cap it was 1.1 GB.
    assert!(peak_kib < 300 * 1024, "peak RSS {peak_kib} KiB");
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// A results file whose learner name sets the window title and whose message carries an
/// image name that clears the screen: `report --merge` prints them as text.
#[test]
fn report_merge_shows_terminal_escapes_as_text() {
    let results = serde_json::json!({
        "apiVersion": "sidecar-lab/v1alpha1",
        "kind": "LabResults",
        "generatedAt": "2026-11-26T10:00:00Z",
        "source": "report on vm-07",
        "suites": [{
            "name": "vm-07\u{1b}]0;owned\u{7}",
            "properties": {},
            "steps": [{
                "step": 3,
                "title": "native",
                "variant": "native",
                "state": "unexpected",
                "expect": "succeeded",
                "seconds": 12,
                "finding": "image\u{1b}[8m",
                "message": "container `main` uses image `postgres\u{1b}[2J\u{1b}]2;pwned\u{1b}\\:17`\u{9b}H"
            }]
        }]
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("vm-07.json");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(results.to_string().as_bytes()))
        .expect("write");
    let file = path.to_str().expect("utf-8");
    let output = sidecar_lab(&["report", "--merge", file, file]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for stream in [&output.stdout, &output.stderr] {
        let shown = text(stream);
        assert!(
            !shown.contains(['\u{1b}', '\u{9b}', '\u{7}']),
            "a control character got through: {shown:?}"
        );
    }
    assert!(
        text(&output.stderr).contains("`vm-07\\u001b]0;owned\\u0007` is in"),
        "{}",
        text(&output.stderr)
    );
    insta::assert_snapshot!("merge_hostile_names", text(&output.stdout));
    // As JSON the values are kept, escaped as JSON escapes them.
    let json = sidecar_lab(&["report", "--merge", file, "-o", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    assert!(!text(&json.stdout).contains(['\u{1b}', '\u{9b}']));
    let merged: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    for field in ["name", "steps"] {
        assert_eq!(merged["suites"][0][field], results["suites"][0][field]);
    }
}

//! The simulated cluster (tests/sim) from Rust: starts the simulator's control server for
//! one test, lays out a bin directory where `kubectl` is the real kubectl and `kind`,
//! `docker` and `sysctl` are the simulator's stand-ins, and stops everything on drop.
//!
//! The real kubectl and the Python that runs the simulator come from `scripts/test.sh`
//! (`SIDECAR_LAB_TEST_KUBECTL`, `SIDECAR_LAB_TEST_PYTHON`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the real kubectl the tests drive.
pub(crate) const KUBECTL_VAR: &str = "SIDECAR_LAB_TEST_KUBECTL";
/// The environment variable naming the Python with the simulator's packages.
pub(crate) const PYTHON_VAR: &str = "SIDECAR_LAB_TEST_PYTHON";

fn required(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(value) if Path::new(&value).is_file() => PathBuf::from(value),
        _ => panic!(
            "{var} does not name a file: run the tests with scripts/test.sh, which installs the real kubectl and the simulator's Python packages and sets it"
        ),
    }
}

/// The real kubectl (pinned by scripts/test.sh).
pub(crate) fn kubectl() -> PathBuf {
    required(KUBECTL_VAR)
}

/// The Python that runs the simulator and its stand-ins.
pub(crate) fn python() -> PathBuf {
    required(PYTHON_VAR)
}

/// tests/sim in the source tree.
pub(crate) fn sim_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sim")
}

/// One running simulator: its control server, its state directory and its bin directory.
pub(crate) struct Sim {
    child: Child,
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub url: String,
    client: reqwest::blocking::Client,
}

impl Sim {
    /// Starts the simulator in `root/sim`, with the tools in `root/bin`. `speed` scales the
    /// simulated clock (1.0 is real time).
    pub(crate) fn start(root: &Path, speed: f64) -> Self {
        Self::start_with_kubectl(root, speed, &kubectl())
    }

    /// The same, with `kubectl` as the kubectl on PATH (another client minor).
    pub(crate) fn start_with_kubectl(root: &Path, speed: f64, kubectl: &Path) -> Self {
        let dir = root.join("sim");
        let bin = root.join("bin");
        std::fs::create_dir_all(&dir).expect("sim dir");
        std::fs::create_dir_all(&bin).expect("bin dir");
        for tool in ["kind", "docker", "sysctl", "install"] {
            std::os::unix::fs::symlink(sim_root().join("bin").join(tool), bin.join(tool))
                .expect("link a stand-in");
        }
        std::os::unix::fs::symlink(kubectl, bin.join("kubectl")).expect("link kubectl");
        // Standard input stays open while the test runs: when the test process ends, in
        // any way, the simulator sees it close and stops.
        let child = Command::new(python())
            .args(["-m", "kubesim", "serve"])
            .arg(&dir)
            .args(["--speed", &speed.to_string()])
            .env("PYTHONPATH", sim_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the simulator");
        let url_file = dir.join("control.url");
        let start = Instant::now();
        let url = loop {
            if let Ok(url) = std::fs::read_to_string(&url_file) {
                break url.trim().to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the simulator did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Self {
            child,
            dir,
            bin,
            url,
            client: reqwest::blocking::Client::new(),
        }
    }

    /// A call to the control server; panics on anything but 2xx.
    pub(crate) fn control(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> serde_json::Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if !body.is_null() {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().expect("control server answers");
        let status = response.status();
        let text = response.text().expect("control answer");
        assert!(status.is_success(), "{path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }

    /// The stand-ins' calls so far (`docker …`, `kind …`, `sysctl …`), one per line.
    pub(crate) fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The API requests a cluster has served: `METHOD PATH?QUERY` with the user.
    pub(crate) fn requests(&self, cluster: &str) -> Vec<serde_json::Value> {
        match self.control(
            "GET",
            &format!("/clusters/{cluster}/requests"),
            &serde_json::Value::Null,
        ) {
            serde_json::Value::Array(items) => items,
            _ => Vec::new(),
        }
    }

    /// Sets the docker stand-in's modes (see tests/sim/kubesim/docker_cli.py).
    pub(crate) fn docker_mode(&self, mode: &serde_json::Value) {
        std::fs::write(self.dir.join("docker-mode.json"), mode.to_string()).expect("docker mode");
    }

    /// Sets the sysctl stand-in's values (`KEY=VALUE` lines).
    pub(crate) fn sysctl(&self, settings: &str) {
        std::fs::write(self.dir.join("sysctl.conf"), settings).expect("sysctl values");
    }

    /// Sets the kind stand-in's version.
    pub(crate) fn kind_version(&self, version: &str) {
        std::fs::write(
            self.dir.join("kind-version.json"),
            serde_json::json!({ "version": version }).to_string(),
        )
        .expect("kind version");
    }

    /// `command` with the environment of a machine whose tools are the simulator's: a
    /// clean environment, `home` as HOME, the stand-ins and the real kubectl first on PATH.
    pub(crate) fn prepare(&self, command: &mut Command, home: &Path) {
        command
            .env_clear()
            .env("HOME", home)
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("NO_COLOR", "1")
            .envs(self.env())
            .stdin(Stdio::null());
    }

    /// Environment every stand-in needs.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SIDECAR_SIM_DIR".into(), self.dir.display().to_string()),
            ("SIDECAR_SIM_PYTHON".into(), python().display().to_string()),
            ("SIDECAR_SIM_HOME".into(), sim_root().display().to_string()),
        ]
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

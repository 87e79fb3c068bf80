//! A machine whose tools are the simulator's: a temporary root with its own HOME, one
//! simulator, and `kind`, `docker` and the real kubectl first on PATH. The tests of the
//! simulation build their clusters on it.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;

use super::sim::Sim;
use super::{assert_ok, text};

pub(crate) struct SimMachine {
    pub root: tempfile::TempDir,
    pub sim: Sim,
}

impl SimMachine {
    /// A fresh machine; `speed` scales the simulated clock (1.0 is real time).
    pub(crate) fn new(speed: f64) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(root.path(), speed);
        let machine = Self { root, sim };
        std::fs::create_dir_all(machine.home()).expect("home");
        machine
    }

    /// The same, with `kubectl` as the machine's kubectl (another client minor).
    pub(crate) fn with_kubectl(speed: f64, kubectl: &std::path::Path) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start_with_kubectl(root.path(), speed, kubectl);
        let machine = Self { root, sim };
        std::fs::create_dir_all(machine.home()).expect("home");
        machine
    }

    pub(crate) fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// Writes `contents` to `name` under the root; its path.
    pub(crate) fn file(&self, name: &str, contents: &str) -> String {
        let path = self.root.path().join(name);
        std::fs::write(&path, contents).expect("write");
        path.display().to_string()
    }

    /// `program` with the machine's environment.
    pub(crate) fn command(&self, program: impl Into<PathBuf>) -> Command {
        let mut command = Command::new(program.into());
        self.sim.prepare(&mut command, &self.home());
        command
    }

    /// One of the machine's tools (`kind`, `docker`, `kubectl`, …).
    pub(crate) fn tool(&self, name: &str, args: &[&str]) -> Output {
        self.command(self.sim.bin.join(name))
            .args(args)
            .output()
            .expect("runs")
    }

    pub(crate) fn kubectl(&self, args: &[&str]) -> Output {
        self.tool("kubectl", args)
    }

    pub(crate) fn sidecar_lab(&self, args: &[&str]) -> Output {
        self.command(assert_cmd::cargo::cargo_bin("sidecar-lab"))
            .args(args)
            .output()
            .expect("runs")
    }

    /// `kind create cluster --name lab --image IMAGE` with the lab's image preloaded,
    /// ready once the default namespace has its ServiceAccount (a pod's create waits
    /// for it on a real cluster too).
    pub(crate) fn create_lab_cluster(&self, image: &str) {
        assert_ok(&self.tool(
            "kind",
            &["create", "cluster", "--name", "lab", "--image", image],
        ));
        self.sim.control(
            "POST",
            "/clusters/lab/images",
            &json!({"images": ["postgres:17.5-alpine"]}),
        );
        wait_for(
            || {
                self.kubectl(&["get", "serviceaccount", "default"])
                    .status
                    .success()
            },
            "the default namespace's ServiceAccount",
        );
    }

    /// `kubectl ARGS -o jsonpath=PATH`, which must succeed; its output.
    pub(crate) fn jsonpath(&self, args: &[&str], path: &str) -> String {
        let expression = format!("jsonpath={path}");
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", expression.as_str()]);
        let output = self.kubectl(&all);
        assert_ok(&output);
        text(&output.stdout)
    }
}

/// Polls `done` until it holds, for at most 30 s.
pub(crate) fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "never: {what}");
        std::thread::sleep(Duration::from_millis(150));
    }
}

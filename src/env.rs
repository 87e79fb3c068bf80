//! What the process learns from its environment, read once at start-up so the rest
//! of the program is a function of it (and tests can build one by hand).

use std::io::IsTerminal;
use std::path::PathBuf;

/// Terminal facts and the environment variables the lab reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub no_color: bool,
    pub stdout_is_terminal: bool,
    pub stderr_is_terminal: bool,
    pub stdin_is_terminal: bool,
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `PATH`.
    pub path: Option<String>,
    /// `USER` (or `LOGNAME`).
    pub user: Option<String>,
    /// `XDG_STATE_HOME`.
    pub xdg_state_home: Option<PathBuf>,
    /// `SIDECAR_LAB_MIRROR`: a download mirror for kind and kubectl.
    pub mirror: Option<String>,
    /// Proxy variables that are set (`HTTP_PROXY`, `https_proxy`, `NO_PROXY`, …), by name.
    pub proxy: Vec<(String, String)>,
    /// `SIDECAR_LAB_PLATFORM`: overrides the detected platform (`linux-arm64`), for tests
    /// and for preparing another machine's binaries.
    pub platform_override: Option<String>,
    /// `--allow-http`: bundles and unpinned downloads over plain http:// are accepted.
    pub allow_http: bool,
    /// `--allow-unpinned`: a bundle's kind, kubectl or node image that no compiled-in pin
    /// vouches for is taken on its manifest's word (with a warning).
    pub allow_unpinned: bool,
}

/// The proxy variables kind passes on to its nodes, in both spellings.
const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// The environment variables sidecar-lab itself defines.
pub mod vars {
    /// Overrides the detected platform, such as `linux-arm64`.
    pub const PLATFORM: &str = "SIDECAR_LAB_PLATFORM";
    /// A download mirror for kind and kubectl (the same as `--mirror`).
    pub const MIRROR: &str = "SIDECAR_LAB_MIRROR";
}

impl Environment {
    /// Reads the real process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            no_color: var("NO_COLOR").is_some(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            stderr_is_terminal: std::io::stderr().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            home: var("HOME").map(PathBuf::from),
            path: var("PATH"),
            user: var("USER").or_else(|| var("LOGNAME")),
            xdg_state_home: var("XDG_STATE_HOME").map(PathBuf::from),
            platform_override: var(vars::PLATFORM),
            mirror: var(vars::MIRROR),
            proxy: PROXY_VARIABLES
                .iter()
                .filter_map(|name| var(name).map(|value| ((*name).to_owned(), value)))
                .collect(),
            // Set from the command line's flags (`app::run`), never from the environment:
            // an opt-out of authentication is said where it is used.
            allow_http: false,
            allow_unpinned: false,
        }
    }

    /// Colour on standard output: only on a terminal, and never under `NO_COLOR`.
    pub const fn stdout_color(&self) -> bool {
        self.stdout_is_terminal && !self.no_color
    }

    /// Colour on standard error, by the same rule.
    pub const fn stderr_color(&self) -> bool {
        self.stderr_is_terminal && !self.no_color
    }

    /// `~/.local/bin`, where kind and kubectl go by default (no root needed).
    pub fn default_bin_dir(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|home| home.join(".local/bin"))
    }

    /// `$XDG_STATE_HOME/sidecar-lab`, or `~/.local/state/sidecar-lab`.
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.xdg_state_home
            .clone()
            .or_else(|| self.home.as_ref().map(|home| home.join(".local/state")))
            .map(|dir| dir.join("sidecar-lab"))
    }

    /// `~/.cache/sidecar-lab`: bundles fetched from a URL.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.home
            .as_ref()
            .map(|home| home.join(".cache/sidecar-lab"))
    }

    /// True when `dir` is one of the directories on PATH.
    pub fn on_path(&self, dir: &std::path::Path) -> bool {
        self.path
            .as_deref()
            .is_some_and(|path| std::env::split_paths(path).any(|entry| entry == dir))
    }
}

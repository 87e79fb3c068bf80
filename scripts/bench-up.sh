#!/usr/bin/env bash
# The wall time of `sidecar-lab up --yes` on a ready cluster with the lab's steps one by
# one (`--sequential`) against the steps at once (the unattended default), on the
# simulated cluster the tests use (tests/sim) with the built-in lab's own hold times.
# Prints seconds per run and the ratio (target: at most 0.6). Needs the test tools:
# run scripts/test.sh once first.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-2}
tools=target/test-tools/python/bin
if [ ! -x "$tools/kubectl" ] || [ ! -x "$tools/python" ]; then
  echo "bench-up.sh: the real kubectl and the simulator's Python are missing: run scripts/test.sh first" >&2
  exit 2
fi
cargo build --release --quiet
bin=$PWD/target/release/sidecar-lab
work=$(mktemp -d)
sim_pid=
cleanup() {
  [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bin" "$work/home" "$work/sim"
for tool in kind docker sysctl install; do ln -s "$PWD/tests/sim/bin/$tool" "$work/bin/$tool"; done
ln -s "$PWD/$tools/kubectl" "$work/bin/kubectl"
export HOME=$work/home PATH=$work/bin:/usr/bin:/bin NO_COLOR=1
export SIDECAR_SIM_DIR=$work/sim SIDECAR_SIM_PYTHON=$PWD/$tools/python SIDECAR_SIM_HOME=$PWD/tests/sim
# The simulator stops when its standard input closes: a fifo held open by this script.
mkfifo "$work/stdin"
PYTHONPATH=$PWD/tests/sim "$PWD/$tools/python" -m kubesim serve "$work/sim" <"$work/stdin" >/dev/null &
sim_pid=$!
exec 3>"$work/stdin"
for _ in $(seq 100); do [ -s "$work/sim/control.url" ] && break; sleep 0.1; done

"$bin" render config >"$work/kind.yaml"
kind create cluster --name sidecar-lab --config "$work/kind.yaml" 2>/dev/null
curl -sf -X POST "$(cat "$work/sim/control.url")/clusters/sidecar-lab/images" \
  -d '{"images": ["postgres:17.5-alpine"]}' >/dev/null
# One run first, so that the cluster, the config and the state are as a second `up` finds them.
"$bin" up --yes >/dev/null 2>&1

seconds() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$bin" up --yes "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  awk -v ns=$((end - start)) -v n="$runs" 'BEGIN { printf "%.1f", ns / n / 1e9 }'
}

one_by_one=$(seconds --sequential)
together=$(seconds)
echo "up --yes on a ready cluster, built-in lab (holds of 10 s), $runs run(s) each:"
echo "  steps one by one: ${one_by_one} s"
echo "  steps at once:    ${together} s"
awk -v a="$together" -v b="$one_by_one" 'BEGIN { printf "  ratio: %.2f (target <= 0.6)\n", a / b }'

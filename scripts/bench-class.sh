#!/usr/bin/env bash
# How long one `sidecar-lab class status` refresh takes for 30 learners with 3 steps
# each (90 Jobs and their pods, in 30 namespaces), against the obvious alternative: one
# `kubectl get jobs,pods -n learner-NN -o json` per learner. Both run against the
# simulated cluster (tests/sim) with the real kubectl; prints seconds per refresh and the
# ratio (target: at most 0.2, and one refresh under 1 s). Then the web board: its CPU use
# (its own and its kubectl reads') while a page polls it every second for 20 s, as a
# share of all cores (target: under 5%). Last, a flood against the board on 127.0.0.1:
# 1,000 connections trickling their heads in (slowloris, reopened as the board drops
# them) and a 1 GiB request line, for 8 s, while a normal request is timed every 0.2 s;
# it fails unless every normal request is answered within 2 s and the board's peak RSS
# stays under 50 MB.
#
# Needs the test tools: run scripts/test.sh once (it installs them under target/).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
tools=target/test-tools/python/bin
if [ ! -x "$tools/kubectl" ] || [ ! -x "$tools/python" ]; then
  echo "bench-class: the test tools are missing; run scripts/test.sh once first" >&2
  exit 2
fi
cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
bin=$target_dir/release/sidecar-lab
work=$(mktemp -d)
fifo="$work/stdin"
mkfifo "$fifo"
# The simulator stops when its standard input closes: closing fd 3 stops it.
cleanup() {
  exec 3>&- || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd tests/sim && exec "../../$tools/python" -m kubesim serve "$work/sim" <"$fifo") &
exec 3>"$fifo"
for _ in $(seq 100); do [ -f "$work/sim/control.url" ] && break; sleep 0.1; done
control=$(cat "$work/sim/control.url")

export PATH="$PWD/$tools:$PATH" KUBECONFIG="$work/kubeconfig"
answer=$(curl -sf -X POST "$control/clusters" -d '{"name":"bench","image":"kindest/node:v1.37.0","cpu":"64"}')
server=$("$tools/python" -c 'import json,sys; print(json.load(sys.stdin)["server"])' <<<"$answer")
"$tools/python" - "$work/kubeconfig" "$server" "$work/sim/pki/ca.crt" <<'PY'
import base64, sys, yaml
path, server, ca = sys.argv[1:]
data = base64.b64encode(open(ca, "rb").read()).decode()
yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "bench",
                "clusters": [{"name": "bench", "cluster": {"server": server, "certificate-authority-data": data}}],
                "users": [{"name": "admin", "user": {"token": "kubernetes-admin"}}],
                "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "admin"}}]},
               open(path, "w"))
PY
curl -sf -X POST "$control/clusters/bench/images" -d '{"images":["postgres:17.5-alpine"]}' >/dev/null
sleep 2.5  # the node becomes Ready

"$bin" class up --context bench --learners 30 --output-dir "$work/kubeconfigs" --yes >/dev/null 2>&1
for variant in init sidecar native; do
  "$bin" render job --variant "$variant" >"$work/$variant.yaml"
done
for n in $(seq -w 1 30); do
  for variant in init sidecar native; do
    kubectl apply -n "learner-$n" -f "$work/$variant.yaml" >/dev/null
  done
done
# Every Job has its pod.
for _ in $(seq 120); do
  pods=$(kubectl get pods -A -l app.kubernetes.io/part-of=sidecar-lab -o name | wc -l)
  [ "$pods" -ge 90 ] && break
  sleep 0.5
done
objects=$(kubectl get namespaces,jobs.batch,pods,configmaps -A -l app.kubernetes.io/part-of=sidecar-lab -o name | wc -l)

# Seconds per run of the command given, averaged over $runs runs.
per_run() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000 ))
}
per_learner() {
  for n in $(seq -w 1 30); do
    kubectl get jobs,pods -n "learner-$n" -o json
  done
}

"$bin" class status --context bench -o json >"$work/board.json"
judged=$("$tools/python" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(1 for s in r["suites"] for c in s["steps"] if c["state"]!="not-started"))' "$work/board.json")
ours_us=$(per_run "$bin" class status --context bench -o json)
theirs_us=$(per_run per_learner)

# The board: one read every 2 s, a page polling board.json every second.
"$bin" class board --context bench --listen 127.0.0.1:0 --refresh 2 >"$work/board.out" 2>/dev/null &
board=$!
for _ in $(seq 50); do grep -q http "$work/board.out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/board.out")
sleep 3
ticks() {  # utime + stime + cutime + cstime of the board (its kubectl reads included)
  awk '{print $14 + $15 + $16 + $17}' "/proc/$board/stat"
}
seconds=20
before=$(ticks)
for _ in $(seq "$seconds"); do
  curl -sf "${url%/}/board.json" >/dev/null || true
  sleep 1
done
after=$(ticks)

# The flood (scripts/flood-board.py): prints the normal requests' latencies; fails if one
# is not answered in time.
flood_status=0
flood_before=$(ticks)
"$tools/python" scripts/flood-board.py "$url" >"$work/flood.out" || flood_status=$?
flood_after=$(ticks)
peak_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$board/status")
kill -INT "$board"
wait "$board" || true
board_cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" -v cores="$(nproc)" \
  'BEGIN { printf "%.2f", 100 * t / hz / s / cores }')

awk -v objects="$objects" -v judged="$judged" -v ours="$ours_us" -v theirs="$theirs_us" -v runs="$runs" 'BEGIN {
  printf "class: 30 learners, %d objects read (namespaces, Jobs, pods), %d steps judged; %d runs each\n", objects, judged, runs
  printf "sidecar-lab class status (one read, judged):  %.3f s per refresh\n", ours / 1e6
  printf "30 x kubectl get jobs,pods -n (read only):     %.3f s per refresh\n", theirs / 1e6
  printf "ratio (sidecar-lab / per-namespace reads):     %.2f (target <= 0.2)\n", ours / theirs
}'
echo "class board, one page polling every second: ${board_cpu}% of $(nproc) cores (target < 5%)"
cat "$work/flood.out"
echo "class board under the flood: peak RSS $((peak_kb / 1024)) MB (target < 50 MB)"
# Its CPU during the flood (its refresh reads included), in CPU seconds: idle slow
# connections must cost nothing until they send a byte.
awk -v t=$((flood_after - flood_before)) -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "class board under the flood: %.2f CPU seconds\n", t / hz }'
if [ "$flood_status" -ne 0 ] || [ "$peak_kb" -ge $((50 * 1024)) ]; then
  echo "bench-class: the board did not hold up under the flood" >&2
  exit 1
fi

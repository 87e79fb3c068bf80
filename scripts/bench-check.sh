#!/usr/bin/env bash
# How long `sidecar-lab check` takes on a 150 KB multi-snapshot dump (a `kubectl get -w
# -o json` recording), against the obvious alternative of merely parsing the same stream
# with Python's json module. Prints milliseconds per run and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-50}
cargo build --release --quiet
bin=target/release/sidecar-lab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dump="$work/watch.json"
while [ "$(stat -c %s "$dump" 2>/dev/null || echo 0)" -lt $((150 * 1024)) ]; do
  cat tests/fixtures/dumps/native-watch.json >>"$dump"
done
size_kb=$(( $(stat -c %s "$dump") / 1024 ))

# Milliseconds per run of the command given, averaged over $runs runs.
per_run_ms() {
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null; done
  end=$(date +%s%N)
  echo $(( (end - start) / runs / 1000 ))
}

"$bin" check --variant native --from "$dump" >/dev/null
ours_us=$(per_run_ms "$bin" check --variant native --from "$dump" --output json)
python_us=$(per_run_ms python3 -c '
import json, sys
text = open(sys.argv[1]).read()
decoder, i, n = json.JSONDecoder(), 0, 0
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i == len(text): break
    _, i = decoder.raw_decode(text, i); n += 1
' "$dump")

awk -v kb="$size_kb" -v ours="$ours_us" -v py="$python_us" -v runs="$runs" 'BEGIN {
  printf "dump: %d KB, %d runs each\n", kb, runs
  printf "sidecar-lab check (parse, judge, report): %.1f ms per run\n", ours / 1000
  printf "python3 json parse only:                  %.1f ms per run\n", py / 1000
  printf "ratio (python / sidecar-lab):             %.2fx\n", py / ours
}'

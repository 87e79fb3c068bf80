#!/usr/bin/env bash
# Download-and-verify throughput and peak memory of `sidecar-lab install kind` against
# the obvious alternative, `curl -o` followed by `sha256sum`, on a 64 MiB file served on
# 127.0.0.1. Target: at least 0.95x their throughput, and under 40 MiB of peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=${SIZE_MIB:-64}
runs=${RUNS:-5}
if ! command -v curl >/dev/null || ! command -v sha256sum >/dev/null; then
  echo "needs curl and sha256sum" >&2
  exit 2
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/sidecar-lab
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A "kind" binary: a script that answers `kind version`, padded to the size.
release=$work/www/kubernetes-sigs/kind/releases/download/v0.99.2
mkdir -p "$release"
{ printf '#!/bin/sh\necho "kind v0.99.2 go1.26.7 linux/amd64"\nexit 0\n'; head -c $((size_mib * 1024 * 1024)) /dev/urandom; } >"$release/kind-linux-amd64"
(cd "$release" && sha256sum kind-linux-amd64 >kind-linux-amd64.sha256sum)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server_pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 50); do curl -fsS -o /dev/null "$url/" 2>/dev/null && break; sleep 0.1; done

# Runs the command given $runs times; prints the best wall time (s) and peak RSS (KiB).
measure() {
  local best=999999 peak=0 line seconds rss
  for _ in $(seq "$runs"); do
    rm -rf "$work/out" && mkdir -p "$work/out"
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    line=$(tail -n 1 "$work/time")
    seconds=${line% *}; rss=${line#* }
    best=$(awk -v a="$best" -v b="$seconds" 'BEGIN { print (b < a) ? b : a }')
    [ "$rss" -gt "$peak" ] && peak=$rss
  done
  echo "$best $peak"
}

ours=$(measure env HOME="$work" PATH="$work/out" "$bin" install kind --kind-version v0.99.2 \
  --mirror "$url" --allow-http --bin-dir "$work/out" --yes)
theirs=$(measure sh -c "curl -fsS -o '$work/out/kind' '$url/kubernetes-sigs/kind/releases/download/v0.99.2/kind-linux-amd64' && sha256sum '$work/out/kind'")

awk -v size="$size_mib" -v ours="$ours" -v theirs="$theirs" -v runs="$runs" 'BEGIN {
  split(ours, o, " "); split(theirs, t, " ")
  printf "file: %d MiB on 127.0.0.1, best of %d runs\n", size, runs
  printf "sidecar-lab install kind (download, sha256, place): %6.2f s  %7.1f MiB/s  peak %5.1f MiB\n", o[1], size / o[1], o[2] / 1024
  printf "curl -o && sha256sum:                               %6.2f s  %7.1f MiB/s  peak %5.1f MiB\n", t[1], size / t[1], t[2] / 1024
  printf "throughput ratio (sidecar-lab / curl+sha256sum): %.2fx\n", t[1] / o[1]
}'

#!/usr/bin/env bash
# Serves a 256 MiB bundle on 127.0.0.1 (python3 -m http.server, as an instructor would)
# to 8 concurrent `sidecar-lab bundle fetch` runs — the fetch phase of `up --bundle URL` —
# and to 8 concurrent runs of the obvious alternative, curl of every file then
# sha256sum. Prints the aggregate throughput of each and the ratio (target: >= 0.9).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=${CLIENTS:-8}
size_mib=${SIZE_MIB:-256}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/sidecar-lab
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A bundle of four files and its manifest, as `bundle create` lays them out.
python3 - "$work/bundle" "$size_mib" <<'PY'
import hashlib, json, os, sys
root, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
files = ["bin/linux-amd64/kind-v0.33.0", "bin/linux-amd64/kubectl-v1.37.0",
         "images/linux-amd64/kind-node-1.37.tar", "images/linux-amd64/lab-images.tar"]
shares = [size // 16, size // 8, size // 2]
shares.append(size - sum(shares))
entries = []
for path, n in zip(files, shares):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    digest = hashlib.sha256()
    with open(full, "wb") as f:
        left = n
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk); digest.update(chunk); left -= len(chunk)
    entries.append({"path": path, "size": n, "sha256": digest.hexdigest()})
manifest = {"format": 1, "sidecarLab": "bench", "platforms": ["linux-amd64"],
            "kubernetes": [{"minor": "1.37", "kind": "v0.33.0", "kubectl": "v1.37.0",
                            "nodeImage": "kindest/node:v1.37.0"}],
            "files": entries, "images": []}
with open(os.path.join(root, "manifest.json"), "w") as f:
    json.dump(manifest, f)
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/bundle" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/manifest.json" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
paths=$(python3 -c 'import json,sys; print(" ".join(f["path"] for f in json.load(open(sys.argv[1]))["files"]))' "$work/bundle/manifest.json")

seconds() {
  local start end
  start=$(date +%s%N)
  "$@"
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }'
}

ours() {
  for i in $(seq "$clients"); do
    # A test server on 127.0.0.1: plain http:// is allowed by the flag, as a room would.
    HOME=$work/home-$i "$bin" bundle fetch "$url" --output "$work/ours-$i" --allow-http >/dev/null 2>&1 &
  done
  wait
}

theirs() {
  for i in $(seq "$clients"); do
    (
      for p in $paths; do
        mkdir -p "$work/curl-$i/$(dirname "$p")"
        curl -sf -o "$work/curl-$i/$p" "$url/$p"
        sha256sum "$work/curl-$i/$p" >/dev/null
      done
    ) &
  done
  wait
}

ours_s=$(seconds ours)
for i in $(seq "$clients"); do
  HOME=$work/home-$i "$bin" bundle check "$work/ours-$i" >/dev/null
done
rm -rf "$work"/ours-*
theirs_s=$(seconds theirs)
rm -rf "$work"/curl-*
total=$((clients * size_mib))
echo "$clients concurrent fetches of a ${size_mib} MiB bundle from python3 -m http.server on 127.0.0.1:"
awk -v t="$total" -v s="$ours_s" 'BEGIN { printf "  sidecar-lab bundle fetch (verified, placed atomically): %.2f s, %.0f MiB/s\n", s, t / s }'
awk -v t="$total" -v s="$theirs_s" 'BEGIN { printf "  curl + sha256sum:                                      %.2f s, %.0f MiB/s\n", s, t / s }'
awk -v a="$ours_s" -v b="$theirs_s" 'BEGIN { printf "  ratio (throughput, sidecar-lab / curl+sha256sum): %.2f (target >= 0.9)\n", b / a }'

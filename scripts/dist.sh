#!/usr/bin/env bash
# Portable release binaries of sidecar-lab, built here without Docker:
#   x86_64-unknown-linux-gnu and aarch64-unknown-linux-gnu, linked against glibc 2.17,
#   with `cargo zigbuild` (cargo-zigbuild and ziglang from PyPI, in a virtual environment
#   under target/). aarch64 needs Debian's Rust with the arm64 standard library
#   (rustc-web, cargo-web, libstd-rust-web-dev:arm64); when those cannot be installed the
#   script says so and skips it.
# Each binary is checked (architecture, highest GLIBC symbol version, `--version`, under
# qemu-aarch64-static for aarch64 when present) and packed as
# sidecar-lab-<version>-<platform>.tar.gz with a .sha256 beside it and a SHA256SUMS.
#
# Cargo's output is looked for where cargo puts it: $CARGO_TARGET_DIR when set.
#
# Usage: scripts/dist.sh [--target x86_64|aarch64|all] [--out DIR]
set -euo pipefail
# Made absolute before the cd below, as cargo would read it from where the script started.
build_dir=${CARGO_TARGET_DIR:-}
case "$build_dir" in
  '') ;;
  /*) ;;
  *) build_dir=$PWD/$build_dir ;;
esac
cd "$(dirname "$0")/.."
build_dir=${build_dir:-$PWD/target}
export CARGO_TARGET_DIR=$build_dir

target=x86_64
out=target/dist
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "dist.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$target" in
  x86_64) targets="x86_64" ;;
  aarch64) targets="aarch64" ;;
  all) targets="x86_64 aarch64" ;;
  *) echo "dist.sh: --target is x86_64, aarch64 or all, not $target" >&2; exit 2 ;;
esac

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
tools=target/dist-tools
if [ ! -x "$tools/bin/cargo-zigbuild" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check \
    "cargo-zigbuild==0.24.1" "ziglang==0.17.1"
fi
mkdir -p "$out"
built=""

# check BINARY ARCH: the ELF machine, the glibc floor, and that it runs.
check() {
  local binary=$1 arch=$2 machine glibc runs
  machine=$(readelf -h "$binary" | sed -n 's/^ *Machine: *//p')
  case "$arch" in
    x86_64) [ "$machine" = "Advanced Micro Devices X86-64" ] ;;
    aarch64) [ "$machine" = "AArch64" ] ;;
  esac || { echo "dist.sh: $binary is built for $machine, not $arch" >&2; exit 1; }
  glibc=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sort -t. -k1,1 -k2,2n -k3,3n -u | tail -n 1)
  case "$glibc" in
    GLIBC_2.17|GLIBC_2.1[0-6]|GLIBC_2.[0-9]|GLIBC_2.[0-9].*) ;;
    *) echo "dist.sh: $binary needs $glibc, above GLIBC_2.17" >&2; exit 1 ;;
  esac
  if [ "$arch" = "$(uname -m)" ]; then
    runs=$("$binary" --version)
  elif [ "$arch" = aarch64 ] && command -v qemu-aarch64-static >/dev/null; then
    runs=$(qemu-aarch64-static "$binary" --version)
  else
    runs="(not run: no way to run $arch here)"
  fi
  echo "dist.sh: $arch: $(stat -c %s "$binary") bytes, needs at most $glibc; $runs"
}

pack() {
  local binary=$1 platform=$2 name stage
  name="sidecar-lab-$version-$platform"
  stage=$(mktemp -d)
  cp "$binary" "$stage/sidecar-lab"
  tar -C "$stage" -czf "$out/$name.tar.gz" sidecar-lab
  rm -rf "$stage"
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
  built="$built $name.tar.gz"
}

for arch in $targets; do
  start=$(date +%s)
  case "$arch" in
    x86_64)
      PATH="$PWD/$tools/bin:$PATH" cargo zigbuild --locked --release \
        --target x86_64-unknown-linux-gnu.2.17
      binary=$build_dir/x86_64-unknown-linux-gnu/release/sidecar-lab
      ;;
    aarch64)
      if [ "$(uname -m)" = aarch64 ]; then
        # An arm64 machine (the release runner) builds natively with its own toolchain.
        PATH="$PWD/$tools/bin:$PATH" cargo zigbuild --locked --release \
          --target aarch64-unknown-linux-gnu.2.17
        binary=$build_dir/aarch64-unknown-linux-gnu/release/sidecar-lab
        check "$binary" "$arch"
        pack "$binary" linux-arm64
        echo "dist.sh: $arch built in $(( $(date +%s) - start )) s"
        continue
      fi
      # Debian's Rust with the arm64 standard library: rustup has no other toolchain
      # to fetch here. Installed only when missing.
      if [ ! -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ]; then
        if ! { as_root dpkg --add-architecture arm64 &&
               as_root apt-get -o DPkg::Lock::Timeout=600 update -qq &&
               as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
                 install -y -qq rustc-web cargo-web libstd-rust-web-dev:arm64 qemu-user-static >/dev/null; }; then
          echo "dist.sh: aarch64 skipped: Debian's rustc-web with libstd-rust-web-dev:arm64 cannot be installed here" >&2
          continue
        fi
      fi
      # Debian's cargo and rustc, not rustup's: only they have the arm64 std.
      # Its own target directory: Debian's rustc cannot reuse rustup's artefacts.
      if ! PATH="$PWD/$tools/bin:/usr/bin:/bin" CARGO_TARGET_DIR=$build_dir/aarch64-build \
        cargo zigbuild --locked --release --target aarch64-unknown-linux-gnu.2.17; then
        echo "dist.sh: aarch64 skipped: Debian's Rust ($(/usr/bin/rustc --version 2>/dev/null || echo missing)) could not build it" >&2
        continue
      fi
      binary=$build_dir/aarch64-build/aarch64-unknown-linux-gnu/release/sidecar-lab
      ;;
  esac
  check "$binary" "$arch"
  pack "$binary" "linux-$([ "$arch" = x86_64 ] && echo amd64 || echo arm64)"
  echo "dist.sh: $arch built in $(( $(date +%s) - start )) s"
done

[ -n "$built" ] || { echo "dist.sh: nothing was built" >&2; exit 1; }
# shellcheck disable=SC2086 # one word per archive
(cd "$out" && sha256sum $built >SHA256SUMS)
echo "dist.sh: $out:$built (and SHA256SUMS)"

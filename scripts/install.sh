#!/bin/sh
# sidecar-lab's one-line installer for a workshop VM: no Rust toolchain needed.
#
#   curl -fsSL https://github.com/sidecar-lab/sidecar-lab/releases/latest/download/install.sh | sh
#
# It detects the OS and architecture, downloads SHA256SUMS and the matching archive from
# $SIDECAR_LAB_DOWNLOAD (default: the project's latest release), refuses anything whose
# SHA-256 differs (and refuses outright without sha256sum or shasum), and installs
# sidecar-lab into $SIDECAR_LAB_BIN_DIR (default ~/.local/bin).
set -eu

base=${SIDECAR_LAB_DOWNLOAD:-https://github.com/sidecar-lab/sidecar-lab/releases/latest/download}
bin_dir=${SIDECAR_LAB_BIN_DIR:-$HOME/.local/bin}

say() { printf 'install.sh: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  *) fail "sidecar-lab release binaries are for Linux; on $(uname -s) build it from source (see the README)" ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) fail "no sidecar-lab release binary for $(uname -m); build it from source (see the README)" ;;
esac
platform=$os-$arch

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  fail "neither sha256sum nor shasum is installed, so the download cannot be verified: install coreutils (or perl's shasum) and run this again"
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fail "neither curl nor wget is installed: install one and run this again"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || fail "cannot download $base/SHA256SUMS"
line=$(grep -E "  sidecar-lab-[^ ]+-$platform\.tar\.gz\$" "$work/SHA256SUMS" | tail -n 1 || true)
[ -n "$line" ] || fail "$base/SHA256SUMS lists no sidecar-lab for $platform"
expected=${line%% *}
archive=${line##* }
fetch "$base/$archive" "$work/$archive" || fail "cannot download $base/$archive"
actual=$(sha256 "$work/$archive")
if [ "$actual" != "$expected" ]; then
  fail "the SHA-256 of $archive is $actual, but SHA256SUMS says $expected: refusing to install it (nothing was installed)"
fi
mkdir -p "$work/unpacked"
tar -xzf "$work/$archive" -C "$work/unpacked" sidecar-lab
mkdir -p "$bin_dir"
# Beside the destination, then renamed: an existing sidecar-lab is replaced at once or not at all.
cp "$work/unpacked/sidecar-lab" "$bin_dir/.sidecar-lab.partial"
chmod 0755 "$bin_dir/.sidecar-lab.partial"
mv -f "$bin_dir/.sidecar-lab.partial" "$bin_dir/sidecar-lab"
say "installed $archive as $bin_dir/sidecar-lab (sha256 $actual)"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) say "$bin_dir is not on PATH: add  export PATH=\"$bin_dir:\$PATH\"  to ~/.profile, and run it in this shell" ;;
esac
say "next: sidecar-lab up"

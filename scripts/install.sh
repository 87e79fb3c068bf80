#!/bin/sh
# sidecar-lab's one-line installer for a workshop VM: no Rust toolchain needed.
#
#   curl -fsSL https://github.com/sidecar-lab/sidecar-lab/releases/latest/download/install.sh | sh
#
# It detects the OS and architecture, downloads SHA256SUMS and the matching archive from
# $SIDECAR_LAB_DOWNLOAD (default: the project's latest release), refuses anything whose
# SHA-256 differs (and refuses outright without sha256sum or shasum), and installs
# sidecar-lab into $SIDECAR_LAB_BIN_DIR (default ~/.local/bin).
#
# A plain http:// location is refused unless SIDECAR_LAB_ALLOW_HTTP=1: over http, whoever
# is on the network serves SHA256SUMS and the archive together, so the check proves nothing.
#
# Everything runs in main, called on the last line: a download cut short (`curl | sh`)
# runs nothing at all.
set -eu

say() { printf 'install.sh: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
dest_is_dir() {
  if [ -d "$1" ]; then
    fail "$1 is a directory (or a link to one), so the binary would land inside it: move it away (or set SIDECAR_LAB_BIN_DIR) and run this again"
  fi
}

main() {
  base=${SIDECAR_LAB_DOWNLOAD:-https://github.com/sidecar-lab/sidecar-lab/releases/latest/download}
  bin_dir=${SIDECAR_LAB_BIN_DIR:-$HOME/.local/bin}

  case "$base" in
    https://*) ;;
    http://*)
      [ "${SIDECAR_LAB_ALLOW_HTTP:-}" = 1 ] ||
        fail "$base is plain http://, where anyone on the network can replace SHA256SUMS and the archive together: use https://, or set SIDECAR_LAB_ALLOW_HTTP=1 to take that risk"
      say "WARNING: downloading over plain http:// (SIDECAR_LAB_ALLOW_HTTP=1): the SHA-256 check cannot tell a replaced archive"
      ;;
    *) fail "SIDECAR_LAB_DOWNLOAD is $base, not an https:// URL" ;;
  esac

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
    # From an https:// start, redirects may only go to https:// too.
    case "$base" in
      https://*) fetch() { curl -fsSL --proto-redir '=https' --retry 3 -o "$2" "$1"; } ;;
      *) fetch() { curl -fsSL --retry 3 -o "$2" "$1"; } ;;
    esac
  elif command -v wget >/dev/null 2>&1; then
    # wget has no way to keep redirects on https:// (GNU's --https-only applies only to
    # recursive downloads; BusyBox has none), and refusing redirects would break the
    # default location, which redirects to a CDN. So with wget a redirect to http:// is
    # followed: say so, and point to curl for the guarantee.
    case "$base" in
      https://*) say "WARNING: using wget, which cannot be kept from following a redirect to plain http://; install curl for that guarantee" ;;
    esac
    fetch() { wget -q -O "$2" "$1"; }
  else
    fail "neither curl nor wget is installed: install one and run this again"
  fi

  work=$(mktemp -d)
  partial=
  trap 'rm -rf "$work"; [ -z "$partial" ] || rm -f "$partial"' EXIT
  trap 'exit 1' INT TERM

  fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || fail "cannot download $base/SHA256SUMS"
  line=$(grep -E "  sidecar-lab-[^ ]+-$platform\.tar\.gz\$" "$work/SHA256SUMS" | tail -n 1 || true)
  [ -n "$line" ] || fail "$base/SHA256SUMS lists no sidecar-lab for $platform"
  expected=${line%% *}
  archive=${line##* }
  case "$archive" in
    */*|.*) fail "$base/SHA256SUMS names \`$archive\`, which is not a plain file name" ;;
  esac
  fetch "$base/$archive" "$work/$archive" || fail "cannot download $base/$archive"
  actual=$(sha256 "$work/$archive")
  if [ "$actual" != "$expected" ]; then
    fail "the SHA-256 of $archive is $actual, but SHA256SUMS says $expected: refusing to install it (nothing was installed)"
  fi
  mkdir -p "$work/unpacked"
  tar -xzf "$work/$archive" -C "$work/unpacked" sidecar-lab
  mkdir -p "$bin_dir"
  # mv into a directory (or a link to one) named sidecar-lab would put the binary inside
  # it; `mv -T` would refuse, but it is GNU-only. `[ -d ]` follows links, so both are seen.
  dest_is_dir "$bin_dir/sidecar-lab"
  # A fresh name beside the destination (mktemp creates it, so nothing planted there is
  # followed), then renamed: an existing sidecar-lab is replaced at once or not at all.
  partial=$(mktemp "$bin_dir/.sidecar-lab.XXXXXXXX") ||
    fail "cannot write in $bin_dir: set SIDECAR_LAB_BIN_DIR to a directory you own"
  cp "$work/unpacked/sidecar-lab" "$partial"
  chmod 0755 "$partial"
  # Again right before the rename: what matters is the destination as it is now.
  dest_is_dir "$bin_dir/sidecar-lab"
  mv -f "$partial" "$bin_dir/sidecar-lab"
  partial=
  say "installed $archive as $bin_dir/sidecar-lab (sha256 $actual)"
  case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) say "$bin_dir is not on PATH: add  export PATH=\"$bin_dir:\$PATH\"  to ~/.profile, and run it in this shell" ;;
  esac
  say "next: sidecar-lab up"
}

main "$@"

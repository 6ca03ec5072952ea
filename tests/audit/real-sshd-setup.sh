#!/usr/bin/env bash
# Fixture real_sshd: fetches Debian's openssh-server (and the libraries it needs that this host
# lacks) into BUILD_DIR/real-sshd/root with apt-get download + dpkg -x, so that tests can run the
# real `sshd -T` without installing the package (installing it would start a daemon here).
#
# Usage: real-sshd-setup.sh BUILD_DIR
# Idempotent: a root whose sshd already runs `sshd -V` is kept as is. Writes only under
# BUILD_DIR/real-sshd (apt-get download writes to the current directory), except that when a
# download fails it runs `apt-get update` once, which refreshes apt's lists. Never starts a
# daemon: the only sshd it runs is `sshd -V`, which prints the version and exits.
# Exit codes: 0 ready; 77 the Debian mirror could not be reached (ctest reports the fixture as
# skipped, and the tests that need it skip, naming this script); 1 anything else.
set -euo pipefail

die() {
  echo "real-sshd-setup: $*" >&2
  exit 1
}

[[ $# -eq 1 && -n "$1" ]] || die "usage: $0 BUILD_DIR"
[[ -d "$1" ]] || die "BUILD_DIR '$1' is not a directory"
build_dir=$(cd "$1" && pwd)
dir="$build_dir/real-sshd"
root="$dir/root"
sshd="$root/usr/sbin/sshd"
libpath="$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu"

for tool in apt-get dpkg dpkg-deb dpkg-query ldd flock; do
  command -v "$tool" >/dev/null || die "'$tool' not found: this fixture needs a Debian host"
done
[[ "$(dpkg --print-architecture)" == amd64 ]] || die "only amd64 is supported (lib/x86_64-linux-gnu)"

mkdir -p "$dir"
cd "$dir"
# Two ctest runs sharing a build directory must not extract into the same root at once.
exec 9>"$dir/.lock"
flock 9

sshd_runs() {
  [[ -x "$sshd" ]] && LD_LIBRARY_PATH="$libpath" "$sshd" -V >/dev/null 2>&1
}

if sshd_runs; then
  echo "real-sshd-setup: $sshd is ready ($(LD_LIBRARY_PATH="$libpath" "$sshd" -V 2>&1 | head -n 1))"
  exit 0
fi

updated=0
# download PACKAGE...: the .deb files of PACKAGEs not already in $dir; one `apt-get update` and
# a retry if apt-get cannot fetch them (stale lists, or lists never fetched on this host).
download() {
  local missing=() p
  for p in "$@"; do
    compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if apt-get download "${missing[@]}" >download.log 2>&1; then
    return 0
  fi
  if [[ $updated -eq 0 ]]; then
    updated=1
    echo "real-sshd-setup: apt-get download ${missing[*]} failed; running apt-get update" >&2
    if apt-get update >update.log 2>&1 && apt-get download "${missing[@]}" >download.log 2>&1; then
      return 0
    fi
  fi
  cat download.log >&2 || true
  if grep -Eqi "could not resolve|failed to fetch|temporary failure|unable to connect|could not connect|connection (refused|timed out)|network is unreachable" \
    download.log update.log 2>/dev/null; then
    echo "real-sshd-setup: cannot reach the Debian mirror to download ${missing[*]};" \
      "the real-sshd tests will skip" >&2
    exit 77
  fi
  die "apt-get download ${missing[*]} failed (see $dir/download.log)"
}

extract_all() {
  rm -rf "$root"
  mkdir -p "$root"
  local deb
  for deb in ./*.deb; do
    dpkg -x "$deb" "$root" || die "dpkg -x $deb failed"
  done
}

download openssh-server libwrap0
extract_all
[[ -x "$sshd" ]] || die "$sshd missing after extracting openssh-server"

# Libraries sshd links against that neither this host nor the extracted root provides: fetch the
# library packages openssh-server depends on that are not installed here, the same way.
not_found() {
  LD_LIBRARY_PATH="$libpath" ldd "$sshd" | awk '/not found/ {print $1}'
}
if [[ -n "$(not_found)" ]]; then
  deps=()
  for dep in $(dpkg-deb -f openssh-server_*.deb Depends | tr ',|' '\n\n' | sed 's/(.*//; s/:.*//' |
    awk '{print $1}' | grep '^lib' | sort -u); do
    status=$(dpkg-query -W -f='${Status}' "$dep" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || deps+=("$dep")
  done
  libs=$(not_found | paste -sd ' ')
  [[ ${#deps[@]} -gt 0 ]] || die "sshd needs $libs, but every library package it depends on is installed"
  echo "real-sshd-setup: sshd needs $libs; fetching ${deps[*]}" >&2
  download "${deps[@]}"
  extract_all
  libs=$(not_found | paste -sd ' ')
  [[ -z "$libs" ]] || die "sshd still cannot find: $libs"
fi

sshd_runs || die "$sshd -V fails: $(LD_LIBRARY_PATH="$libpath" "$sshd" -V 2>&1 | head -n 3)"
echo "real-sshd-setup: $sshd is ready ($(LD_LIBRARY_PATH="$libpath" "$sshd" -V 2>&1 | head -n 1))"

#!/usr/bin/env bash
# The systemd unit passes `systemd-analyze verify` with no error and no warning about itself.
# verify needs the ExecStart binary to exist, so a copy points at /bin/true. Exit 77 (skipped)
# without systemd-analyze. --self-test proves the check can fail: a copy with a misspelt key
# (only a warning to systemd, exit status 0) must be refused.
set -uo pipefail

self_test=0
if [ "${1:-}" = "--self-test" ]; then
  self_test=1
  shift
fi
unit=${1:?usage: $0 [--self-test] path/to/mailwarden-policyd.service}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
[ -r "$unit" ] || { echo "cannot read $unit"; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/mw-policyd-unit-XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
copy="$dir/$(basename "$unit")"
sed -e 's|/usr/bin/mailwarden|/bin/true|g' "$unit" >"$copy"
if [ "$self_test" = 1 ]; then
  sed -i -e 's|^NoNewPrivileges=|NoNewPrivilegs=|' "$copy"
fi
grep -q '^ExecStart=/bin/true policyd run --config ' "$copy" ||
  { echo "no ExecStart=/usr/bin/mailwarden policyd run --config ... in $unit"; exit 1; }

# Without a running systemd, verify loads the unit in its own manager instance; --man=no keeps
# it from looking up man pages that are not installed here.
out=$(systemd-analyze verify --man=no "$copy" 2>&1)
status=$?
name=$(basename "$unit")
# Lines about other units on this machine are not ours to judge.
ours=$(printf '%s\n' "$out" | grep -F -e "$name" -e "$copy" || true)

failed=0
if [ "$status" -ne 0 ]; then
  echo "systemd-analyze verify exited with $status"
  failed=1
fi
if [ -n "$ours" ]; then
  echo "systemd-analyze verify reported on $name:"
  printf '%s\n' "$ours"
  failed=1
fi

if [ "$self_test" = 1 ]; then
  if [ "$failed" = 1 ]; then
    echo "ok: the misspelt key was caught"
    exit 0
  fi
  echo "the check missed a misspelt key:"
  printf '%s\n' "$out"
  exit 1
fi
if [ "$failed" = 1 ]; then
  exit 1
fi
echo "ok: $name verifies cleanly"
exit 0

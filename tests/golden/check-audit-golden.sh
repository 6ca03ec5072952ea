#!/usr/bin/env bash
# Golden test of `mailwarden audit`: the report of one input (a snapshot, an IIS configuration)
# in one format, and its exit code, compared with tests/golden/audit/<name>.<format> and
# <name>.<format>.exit (text: <name>.exit).
# usage: check-audit-golden.sh MAILWARDEN NAME FORMAT EXPECTED_DIR AUDIT_ARGS...
# UPDATE_GOLDEN=1 rewrites the expected files instead (review the diff before committing).
set -uo pipefail
mailwarden=$1 name=$2 format=$3 expected_dir=$4
shift 4
# The exit code differs by format only for nagios (the plugin's codes).
exit_file="$expected_dir/$name.exit"
[ "$format" = nagios ] && exit_file="$expected_dir/$name.nagios.exit"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$mailwarden" audit "$@" --format "$format" >"$out"
code=$?
if [ "$code" -ge 4 ] || { [ "$format" = nagios ] && [ "$code" -ge 3 ]; }; then
  echo "golden: audit failed (exit $code)" >&2
  exit 1
fi

if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
  mkdir -p "$expected_dir"
  cp "$out" "$expected_dir/$name.$format"
  echo "$code" >"$exit_file"
  echo "golden: rewrote $expected_dir/$name.$format"
  exit 0
fi
if ! diff -u "$expected_dir/$name.$format" "$out"; then
  echo "golden: audit of $name ($format) differs (above); if intended: UPDATE_GOLDEN=1 ctest -L golden" >&2
  exit 1
fi
if [ "$(cat "$exit_file")" != "$code" ]; then
  echo "golden: exit code $code, expected $(cat "$exit_file")" >&2
  exit 1
fi
echo "golden: audit of $name ($format) identical, exit $code"

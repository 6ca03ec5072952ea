#!/usr/bin/env bash
# Golden test of `mailwarden audit`: the report of one example snapshot in one format, and its
# exit code, compared with tests/golden/audit/<snapshot>.<format> and <snapshot>.exit.
# UPDATE_GOLDEN=1 rewrites the expected files instead (review the diff before committing).
set -uo pipefail
mailwarden=$1 snapshot=$2 format=$3 expected_dir=$4
name=$(basename "$snapshot")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$mailwarden" audit --snapshot "$snapshot" --format "$format" >"$out"
code=$?
if [ "$code" -ge 4 ]; then echo "golden: audit failed (exit $code)" >&2; exit 1; fi

if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
  mkdir -p "$expected_dir"
  cp "$out" "$expected_dir/$name.$format"
  echo "$code" >"$expected_dir/$name.exit"
  echo "golden: rewrote $expected_dir/$name.$format"
  exit 0
fi
if ! diff -u "$expected_dir/$name.$format" "$out"; then
  echo "golden: audit of $snapshot ($format) differs (above); if intended: UPDATE_GOLDEN=1 ctest -L golden" >&2
  exit 1
fi
if [ "$(cat "$expected_dir/$name.exit")" != "$code" ]; then
  echo "golden: exit code $code, expected $(cat "$expected_dir/$name.exit")" >&2
  exit 1
fi
echo "golden: audit of $name ($format) identical, exit $code"

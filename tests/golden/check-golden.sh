#!/usr/bin/env bash
# Golden test: generates the firewall of one example policy into a temporary directory and
# compares it, file by file, with tests/golden/<example>/<backend>/. UPDATE_GOLDEN=1 rewrites
# the expected files instead (review the diff before committing).
set -euo pipefail
mailwarden=$1 policy=$2 backend=$3 expected=$4

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$mailwarden" firewall generate --policy "$policy" --backend "$backend" --out "$out" 2>"$out.stderr" || {
  cat "$out.stderr" >&2; rm -f "$out.stderr"; exit 1; }
rm -f "$out.stderr"

if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
  rm -rf "$expected"
  mkdir -p "$expected"
  cp -r "$out"/. "$expected"/
  echo "golden: rewrote $expected"
  exit 0
fi
if [ ! -d "$expected" ]; then
  echo "golden: $expected is missing; run with UPDATE_GOLDEN=1 to create it" >&2
  exit 1
fi
if ! diff -ru "$expected" "$out"; then
  echo "golden: output of $policy ($backend) differs from $expected (above);" >&2
  echo "golden: if the change is intended, regenerate with UPDATE_GOLDEN=1 ctest -L golden" >&2
  exit 1
fi
echo "golden: $(find "$out" -type f | wc -l) files identical to $expected"

#!/usr/bin/env bash
# `mailwarden audit` as an administrator meets it: usage errors, exit codes by the worst
# finding, a damaged snapshot, JSON that parses.
set -uo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
src=${2:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
export MAILWARDEN_CATALOG="$src/catalog"
snaps="$src/examples/snapshots"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() {  # NAME WANT_RC WANT_SUBSTRING(stdout+stderr) -- command...
  local name=$1 want_rc=$2 want=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want_rc" ] || ! cat "$tmp/out" "$tmp/err" | grep -qF -- "$want"; then
    echo "FAIL $name: exit $rc (want $want_rc, and '$want'); output:"
    cat "$tmp/out" "$tmp/err" | sed 's/^/  /' | head -20
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
}

check unhardened_is_critical 3 "FAIL network.admin-console" -- "$mw" audit --snapshot "$snaps/zimbra-default"
check hardened_is_clean 0 "score 100/100" -- "$mw" audit --snapshot "$snaps/zimbra-hardened"
check neither_option 2 "give --snapshot DIR or --collect" -- "$mw" audit
check both_options 2 "excludes" -- "$mw" audit --snapshot "$snaps/zimbra-default" --collect
check out_needs_collect 2 "requires" -- "$mw" audit --snapshot "$snaps/zimbra-default" --out "$tmp/x"
check not_a_directory 4 "$tmp/none: not a snapshot directory" -- "$mw" audit --snapshot "$tmp/none"
check bad_format 2 "json" -- "$mw" audit --snapshot "$snaps/zimbra-default" --format xml

# A damaged file is a warning and makes its controls not_checked; the audit still runs.
cp -r "$snaps/zimbra-hardened" "$tmp/damaged"
printf 'no equals sign here\n' >"$tmp/damaged/zmlocalconfig-s.txt"
check damaged_file 0 "web.samesite-cookie: does not parse" -- "$mw" audit --snapshot "$tmp/damaged"
grep -qF "warning: zmlocalconfig-s.txt:1" "$tmp/err" && pass=$((pass + 1)) || {
  echo "FAIL damaged_file_warning: no positioned warning"; fail=$((fail + 1)); }

# JSON parses and has one entry per control of the catalog.
"$mw" audit --snapshot "$snaps/zimbra-default" --format json >"$tmp/a.json" 2>/dev/null
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "mailwarden-audit/1"
ids = [c["id"] for c in d["controls"]]
assert len(ids) == len(set(ids)) and len(ids) >= 40, len(ids)
assert all(c["status"] in ("pass", "fail", "not_checked", "not_applicable") for c in d["controls"])
assert all(c["remediation"] for c in d["controls"] if c["status"] == "fail")
' "$tmp/a.json"; then pass=$((pass + 1)); else echo "FAIL json_schema"; fail=$((fail + 1)); fi

echo "audit cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

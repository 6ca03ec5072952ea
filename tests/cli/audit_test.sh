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
  if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$want" "$tmp/out" "$tmp/err"; then
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


# Nagios: the plugin's exit codes and one status line with perfdata.
check nagios_default_critical 2 "MAILWARDEN AUDIT CRITICAL - score 22/100" -- \
  "$mw" audit --snapshot "$snaps/zimbra-default" --format nagios
check nagios_hardened_ok 0 "MAILWARDEN AUDIT OK - score 100/100" -- \
  "$mw" audit --snapshot "$snaps/zimbra-hardened" --format nagios
# Known failures only alert when new: with itself as the baseline, the default example is OK.
"$mw" audit --snapshot "$snaps/zimbra-default" --format json >"$tmp/default.json" 2>/dev/null
check nagios_only_new_ok 0 "MAILWARDEN AUDIT OK - score 22/100, 46 failing" -- \
  "$mw" audit --snapshot "$snaps/zimbra-default" --format nagios --baseline "$tmp/default.json" \
  --nagios-only-new
check nagios_unknown_on_error 3 "MAILWARDEN AUDIT UNKNOWN - $tmp/none: not a snapshot directory" -- \
  "$mw" audit --snapshot "$tmp/none" --format nagios
check nagios_usage_error_is_unknown 3 "nagios-warning" -- \
  "$mw" audit --snapshot "$snaps/zimbra-default" --format nagios --nagios-warning severe
check nagios_no_input_is_unknown 3 "give --snapshot DIR or --collect" -- "$mw" audit --format nagios

# --baseline: an earlier JSON report; the default example as the baseline of the hardened one.
check baseline_text 0 "SINCE THE BASELINE $tmp/default.json ($snaps/zimbra-default" -- \
  "$mw" audit --snapshot "$snaps/zimbra-hardened" --baseline "$tmp/default.json"
check baseline_damaged 4 "$tmp/a.json:1:1: not JSON" -- sh -c \
  "printf 'x' >'$tmp/a.json'; exec '$mw' audit --snapshot '$snaps/zimbra-default' --baseline '$tmp/a.json'"
check baseline_missing 4 "cannot read the baseline report" -- \
  "$mw" audit --snapshot "$snaps/zimbra-default" --baseline "$tmp/none.json"

# HTML and SARIF come out whole (their own tests check them in depth).
check html_written 3 "</html>" -- "$mw" audit --snapshot "$snaps/zimbra-default" --format html
check sarif_written 3 '"version": "2.1.0"' -- "$mw" audit --snapshot "$snaps/zimbra-default" --format sarif

# --collect shows progress on a terminal and never in a pipe. It runs in a network namespace of
# its own, so that the firewall it reads is an empty one, not the host's.
if [ "$(id -u)" -eq 0 ] && command -v script >/dev/null && unshare -n true 2>/dev/null; then
  unshare -n script -qec "'$mw' audit --collect --out '$tmp/tty-snap'" /dev/null \
    </dev/null >"$tmp/tty.out" 2>&1
  if grep -q $'\rcollect: [0-9]* command(s) done' "$tmp/tty.out"; then pass=$((pass + 1)); else
    echo "FAIL progress_on_tty: no progress line"; sed 's/^/  /' "$tmp/tty.out" | head; fail=$((fail + 1)); fi
  # script's pty is stderr and stdout here; with stdout a pipe nothing is drawn.
  unshare -n script -qec "'$mw' audit --collect --out '$tmp/pipe-snap' | cat >/dev/null" /dev/null \
    </dev/null >"$tmp/pipe.out" 2>&1
  if [ -f "$tmp/pipe-snap/manifest.json" ] && ! grep -q "command(s) done" "$tmp/pipe.out"; then
    pass=$((pass + 1)); else echo "FAIL no_progress_in_pipe"; sed 's/^/  /' "$tmp/pipe.out" | head
    fail=$((fail + 1)); fi
else
  echo "SKIP progress tests: need root, script(1) and unshare -n"
fi

echo "audit cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

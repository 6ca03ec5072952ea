#!/usr/bin/env bash
# mailwarden audit of the bundled example snapshot next to `lynis audit system --quick` on this
# machine, in the same run. Different scope, stated as such: lynis runs ~250 generic host tests
# and checks almost nothing of a mail server; mailwarden checks the mail-server controls of the
# guides on a snapshot. The goal is the audit's CPU time: under 1 s. Prints both.
set -euo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY}
reps=${REPS:-10}
cd "$(dirname "$0")/.."
export MAILWARDEN_CATALOG=$PWD/catalog
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Wall time (best of $reps) and CPU time (user + system, mean) of the audit.
TIMEFORMAT='%3R %3U %3S'
best_ms=0 cpu_total=0
for _ in $(seq "$reps"); do
  { time "$mw" audit --snapshot examples/snapshots/zimbra-default --format json \
      >"$work/audit.json" 2>/dev/null || true; } 2>"$work/t"
  read -r real user sys <"$work/t"
  ms=$(awk -v r="$real" 'BEGIN { printf "%d", r * 1000 }')
  cpu_total=$(awk -v t="$cpu_total" -v u="$user" -v s="$sys" 'BEGIN { print t + u + s }')
  if [ "$best_ms" -eq 0 ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
done
cpu_ms=$(awk -v t="$cpu_total" -v n="$reps" 'BEGIN { printf "%d", t * 1000 / n }')
controls=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["controls"]))' "$work/audit.json")

if command -v lynis >/dev/null; then
  t0=$(date +%s%N)
  lynis audit system --quick --no-colors --logfile "$work/lynis.log" \
    --report-file "$work/lynis-report.dat" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  lynis_ms=$(( (t1 - t0) / 1000000 ))
  tests=$(grep -c '^tests_executed\|Performing test ID' "$work/lynis.log" || true)
else
  lynis_ms=0 tests=0
fi
ratio=$(awk -v a="$best_ms" -v b="$lynis_ms" 'BEGIN { if (b == 0) b = 1; printf "%.4f", a / b }')
echo "audit of examples/snapshots/zimbra-default (${controls} mail-server controls): ${best_ms} ms wall (best of $reps), ${cpu_ms} ms CPU (mean); goal < 1000 ms CPU"
echo "lynis audit system --quick (${tests} generic host tests; different scope): ${lynis_ms} ms wall; ratio mailwarden/lynis ${ratio}"

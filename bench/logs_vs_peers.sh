#!/usr/bin/env bash
# `mailwarden logs report` on a generated plain log of at least 1 GB (mw-loggen, the committed
# seed, 2,000 accounts), next to `LC_ALL=C grep -c sasl_username` on the same page-cached file
# (the floor any scan needs), pflogsumm on the same file, and fail2ban-regex with its
# postfix-sasl filter (on a prefix: it is ~100x slower; its MB/s is what counts). Compressed
# input (.zst, .gz) decodes on one thread and is reported separately. Ratios are of one run.
#
# usage: bench/logs_vs_peers.sh BUILD_DIR   (BUILD_DIR/mailwarden, BUILD_DIR/mw-loggen)
# SIZE=1G (the target size), KEEP=1 keeps the generated files in $WORK.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
mw=$build/mailwarden
gen=$build/mw-loggen
size=${SIZE:-1G}
cd "$(dirname "$0")/.."
export MAILWARDEN_CATALOG=$PWD/catalog
work=${WORK:-$(mktemp -d /var/tmp/mw-logs-bench.XXXXXX)}
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

seed=$(head -c 64 tools/loggen/seed | tr -dc 0-9)
if [ ! -f "$work/mail.log" ]; then
  "$gen" --out "$work" --seed "$seed" --flavor postfix --accounts 2000 --target-bytes "$size" \
    >/dev/null
fi
log=$work/mail.log
bytes=$(stat -c %s "$log")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
cat "$log" >/dev/null  # page cache

# seconds of wall time of a command; the best of $REPS runs. Its output goes to a file, not
# /dev/null: GNU grep stops at the first match when its output is /dev/null.
reps=${REPS:-3}
best() {
  local best_s=0 t0 t1 s
  for _ in $(seq "$reps"); do
    t0=$(date +%s%N)
    "$@" >"$work/out" 2>&1 || true
    t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if awk -v s="$s" -v b="$best_s" 'BEGIN { exit !(b == 0 || s < b) }'; then best_s=$s; fi
  done
  echo "$best_s"
}
mbps() { awk -v m="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", m / s }'; }

report=(logs report --format json --no-progress --no-geoip --tz UTC --mynetworks 198.51.100.0/28
        --local-domain example.com)
grep_s=$(best env LC_ALL=C grep -c sasl_username "$log")
mw_s=$(best "$mw" "${report[@]}" "$log")
mw1_s=$(best "$mw" "${report[@]}" --threads 1 "$log")
# Peak resident memory of one run (GNU time's %M, in KiB).
# (logs report exits 1-3 when it finds something: that is not a failure here.)
rss_kb=$({ /usr/bin/time -f %M "$mw" "${report[@]}" "$log" 2>&1 >/dev/null || true; } | tail -1)
findings=$({ "$mw" "${report[@]}" "$log" || true; } |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))')

reps=1
pflog_s=$(best pflogsumm --problems_first "$log")

# fail2ban-regex on the first 100 MB (its speed per MB is what is compared).
head -c $((100 * 1048576)) "$log" | sed '$d' >"$work/prefix.log"
prefix_mb=$(awk -v b="$(stat -c %s "$work/prefix.log")" 'BEGIN { printf "%.1f", b / 1048576 }')
f2b_s=$(best fail2ban-regex "$work/prefix.log" /etc/fail2ban/filter.d/postfix.conf[mode=auth])

# Compressed copies: one decoding thread.
zstd -q -T2 -f -o "$log.zst" "$log"
gzip -c -1 "$log" >"$log.gz"
zst_s=$(best "$mw" "${report[@]}" "$log.zst")
gz_s=$(best "$mw" "${report[@]}" "$log.gz")
rm -f "$log.zst" "$log.gz"

echo "logs report on ${mb} MB (mw-loggen seed $seed, 2000 accounts, postfix+dovecot+sshd; $findings findings):"
printf '  %-44s %8s s %8s MB/s\n' "LC_ALL=C grep -c sasl_username" "$grep_s" "$(mbps "$mb" "$grep_s")"
printf '  %-44s %8s s %8s MB/s\n' "mailwarden logs report (all cores)" "$mw_s" "$(mbps "$mb" "$mw_s")"
printf '  %-44s %8s s %8s MB/s\n' "mailwarden logs report --threads 1" "$mw1_s" "$(mbps "$mb" "$mw1_s")"
printf '  %-44s %8s s %8s MB/s\n' "mailwarden logs report, .zst input" "$zst_s" "$(mbps "$mb" "$zst_s")"
printf '  %-44s %8s s %8s MB/s\n' "mailwarden logs report, .gz input" "$gz_s" "$(mbps "$mb" "$gz_s")"
printf '  %-44s %8s s %8s MB/s\n' "pflogsumm" "$pflog_s" "$(mbps "$mb" "$pflog_s")"
printf '  %-44s %8s s %8s MB/s (on the first %s MB)\n' "fail2ban-regex postfix[mode=auth]" "$f2b_s" \
  "$(mbps "$prefix_mb" "$f2b_s")" "$prefix_mb"
awk -v g="$grep_s" -v m="$mw_s" -v p="$pflog_s" -v f="$f2b_s" -v pm="$prefix_mb" -v mb="$mb" 'BEGIN {
  printf "  ratios: mailwarden/grep throughput %.2f (goal >= 0.5), mailwarden/pflogsumm %.0fx (goal >= 40), mailwarden/fail2ban-regex %.0fx\n",
    g / m, p / m, (mb / m) / (pm / f) }'
echo "  peak resident memory: $((rss_kb / 1024)) MB (goal < 300 MB)"

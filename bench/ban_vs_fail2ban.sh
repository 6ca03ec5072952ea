#!/usr/bin/env bash
# `mailwarden logs watch --ban` against the kernel, in a network namespace this script creates:
#  (a) latency: from writing the threshold-crossing log line to the element being in the
#      kernel's ban set (seen by `nft monitor`), repeated; median and p95 in ms (goal < 100);
#  (b) throughput: lines/s that `logs watch --ban` sustains on a generated stream (5 M lines
#      by default, one attacker per 20,000 lines, real bans in the namespace), next to
#      fail2ban on the same stream with its stock postfix filter in mode=auth (the
#      postfix-sasl jail); the ratio (goal >= 50x). fail2ban reads the stream's first 1 M
#      lines (F2B_LINES): at ~100,000 lines/s the whole stream would take a minute, and its
#      speed per line is what is compared. The watcher's run includes its start (the
#      namespace, the catalogs, the allow-list) and its exit; 5 M lines keep that small.
#
# fail2ban is measured with fail2ban-regex, not fail2ban-server: fail2ban-regex runs the same
# filter code (date detection, prefregex, failregex) over the file with no jail bookkeeping,
# no ban actions and no polling delay, so it is an upper bound of what fail2ban-server can
# read; a server with backend=polling would also need a running daemon, a socket and a
# private jail.d, and its speed would be lower. It reads a private copy of the installed
# filters (-c), never /etc/fail2ban itself. Neither the host's fail2ban nor its firewall is
# touched: every nft command runs inside the namespace.
#
# usage: bench/ban_vs_fail2ban.sh MAILWARDEN_BINARY   (needs root: ip netns, nft)
# LINES=5000000 ATTACKERS=250 F2B_LINES=1000000 REPS=20; KEEP=1 keeps $WORK.
set -euo pipefail
mw=$(realpath "${1:?usage: $0 MAILWARDEN_BINARY}")
cd "$(dirname "$0")/.."
export MAILWARDEN_CATALOG=$PWD/catalog
lines=${LINES:-5000000}
attackers=${ATTACKERS:-250}
f2b_lines=${F2B_LINES:-1000000}
[ "$f2b_lines" -le "$lines" ] || f2b_lines=$lines
reps=${REPS:-20}
for tool in ip nft python3 fail2ban-regex; do
  command -v "$tool" >/dev/null || { echo "ban benchmark skipped: $tool missing"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "ban benchmark skipped: needs root for its network namespace"; exit 0; }

ns=mwb-$$
work=${WORK:-$(mktemp -d /var/tmp/mw-ban-bench.XXXXXX)}
mkdir -p "$work"
watcher=
cleanup() {
  if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || true; wait "$watcher" 2>/dev/null || true; fi
  ip netns del "$ns" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

# Small thresholds for the latency runs: the 5th failure on an account is a brute force.
sed 's/^failures = 20$/failures = 5/' catalog/detectors.toml >"$work/detectors-small.toml"
grep -q '^failures = 5$' "$work/detectors-small.toml"

common=(--ban --ban-rate 100000 --ban-for 1h --postconf "" --mynetworks 127.0.0.0/8 --no-geoip
        --tz UTC)

# ---- (a) latency ----------------------------------------------------------------------------
: >"$work/latency.log"
# The watcher runs inside the namespace (as it runs on a real host: nft without a prefix).
ip netns exec "$ns" "$mw" logs watch "$work/latency.log" "${common[@]}" \
  --state-dir "$work/state-a" --detectors "$work/detectors-small.toml" \
  >"$work/watch-a.out" 2>"$work/watch-a.err" &
watcher=$!

# (On a failure, the watcher's own words say why: its stderr is shown before the exit.)
python3 - "$ns" "$work/latency.log" "$reps" >"$work/latency.txt" <<'EOF' || {
# Appends 4 failures, then times the 5th (the threshold-crossing line) until `nft monitor`
# reports the element added to the ban set.
import atexit, subprocess, sys, time, select, os, statistics
ns, log, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
mon = subprocess.Popen(["ip", "netns", "exec", ns, "stdbuf", "-oL", "nft", "monitor", "new",
                        "elements"], stdout=subprocess.PIPE, bufsize=0)
# Whatever way this script ends (a failed warm-up too), the monitor goes with it: left running,
# it would outlive the namespace and hold the caller's pipe open.
atexit.register(mon.kill)
def line(ip, acct, pid):
    stamp = time.strftime("%b %e %H:%M:%S", time.gmtime())
    return (f"{stamp} mail postfix/submission/smtpd[{pid}]: warning: unknown[{ip}]: SASL LOGIN "
            f"authentication failed: (reason unavailable), sasl_username={acct}\n").encode()
def write(data):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, data)
    os.close(fd)
buf = b""
def wait_for(needle, limit):
    global buf
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if needle in buf:
            buf = buf[buf.index(needle) + len(needle):]
            return time.monotonic()
        r, _, _ = select.select([mon.stdout], [], [], 0.05)
        if r:
            buf += os.read(mon.stdout.fileno(), 65536)
    return None
# Warm-up: the watcher is following once a first ban went through (it also creates the table).
for attempt in range(100):
    write(b"".join(line("192.0.2.250", f"warm{attempt}@example.org", 900) for _ in range(5)))
    if wait_for(b"192.0.2.250", 0.5) is not None:
        break
else:
    sys.exit("the watcher never banned the warm-up address")
ms = []
for i in range(reps):
    ip, acct = f"203.0.113.{i + 1}", f"user{i}@example.org"
    write(b"".join(line(ip, acct, 1000 + i) for _ in range(4)))
    time.sleep(0.3)  # the 4 lines are read and below the threshold
    data = line(ip, acct, 1000 + i)
    t0 = time.monotonic()
    write(data)
    t1 = wait_for(ip.encode() + b" ", 5)
    if t1 is None:
        sys.exit(f"no ban of {ip} within 5 s")
    ms.append((t1 - t0) * 1000)
mon.terminate()
ms.sort()
p95 = ms[min(len(ms) - 1, int(round(0.95 * len(ms) + 0.5)) - 1)]
print(f"{statistics.median(ms):.1f} {p95:.1f} {ms[0]:.1f} {ms[-1]:.1f} {len(ms)}")
EOF
  echo "latency runs failed; the watcher's stderr:" >&2
  tail -n 20 "$work/watch-a.err" >&2
  exit 1
}
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
watcher=
read -r lat_med lat_p95 lat_min lat_max lat_n <"$work/latency.txt"

# ---- (b) throughput -------------------------------------------------------------------------
python3 - "$work/stream.log" "$lines" "$attackers" <<'EOF'
# A Postfix log of `lines` lines over one hour: messages from connect to removed, SASL
# typos from one address per 50 lines (2 failures each, one account: no detector fires), and
# `attackers` addresses each failing 30 times on an account of its own within ~2 minutes
# (over the stock brute-force threshold of 20 in 10 minutes).
import random, sys, time
out, n, attackers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(12)
start = 1_800_000_000
def stamp(k):
    return time.strftime("%b %e %H:%M:%S", time.gmtime(start + k * 3600 // n))
def noise(k):
    # Mail as Postfix logs it: each message's seven lines under one queue id, from the
    # connection to "removed" (a stream of queue ids that never end would be no real server).
    m, r = divmod(k, 7)
    q = f"{m:010X}"
    ip = f"198.51.100.{m % 200 + 1}"
    pid = m % 900 + 100
    if r == 0: return f"postfix/smtpd[{pid}]: connect from unknown[{ip}]"
    if r == 1: return f"postfix/smtpd[{pid}]: {q}: client=unknown[{ip}]"
    if r == 2: return f"postfix/cleanup[{pid + 1000}]: {q}: message-id=<{m}.{k}@example.net>"
    if r == 3: return f"postfix/qmgr[50]: {q}: from=<s{m % 3000}@example.net>, size={m % 9000 + 800}, nrcpt=1 (queue active)"
    if r == 4: return (f"postfix/lmtp[{m % 300 + 2000}]: {q}: to=<u{m % 5000}@example.com>, relay=127.0.0.1[127.0.0.1]:7025, "
                       "delay=0.2, delays=0.1/0/0/0.1, dsn=2.1.5, status=sent (250 2.1.5 Delivery OK)")
    if r == 5: return f"postfix/qmgr[50]: {q}: removed"
    return f"postfix/smtpd[{pid}]: disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"
def fail(ip, acct, k):
    return (f"postfix/submission/smtpd[{k % 900 + 100}]: warning: unknown[{ip}]: SASL LOGIN "
            f"authentication failed: (reason unavailable), sasl_username={acct}")
body = [None] * n
# As dense at any length: one typing address per 50 lines, among one account per 20 lines.
for i in range(n // 50):
    ip = f"10.{i // 250 % 250}.{i % 250}.{i // 62500 + 1}"
    acct = f"u{rng.randrange(max(1, n // 20))}@example.com"
    for _ in range(2):
        body[rng.randrange(n)] = fail(ip, acct, i)
for a in range(attackers):
    ip = f"203.0.{a // 250 % 250}.{a % 250 + 1}" if a < 60000 else None
    acct = f"victim{a}@example.com"
    base = rng.randrange(max(1, n - 30 * 50))
    for j in range(30):
        body[base + j * 50] = fail(ip, acct, a)
with open(out, "w") as f:
    for k in range(n):
        f.write(f"{stamp(k)} mail {body[k] or noise(k)}\n")
EOF
cat "$work/stream.log" >/dev/null  # page cache
bytes=$(stat -c %s "$work/stream.log")

# The watcher reads the stream from its start and stops when it is drained (a hidden flag for
# benchmarks), banning in the namespace's kernel as it goes.
t0=$(date +%s%N)
ip netns exec "$ns" "$mw" logs watch "$work/stream.log" "${common[@]}" --from-start \
  --exit-when-drained --state-dir "$work/state-b" >"$work/watch-b.out" 2>"$work/watch-b.err"
t1=$(date +%s%N)
mw_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
bans=$(grep -c '^ban: banned ' "$work/watch-b.out" || true)
in_kernel=$(ip netns exec "$ns" nft -j list set inet mailwarden_ban ban4 |
  python3 -c 'import json,sys; print(sum(len(x["set"].get("elem", [])) for x in json.load(sys.stdin)["nftables"] if "set" in x))')

# The same run with no detector banning: what reading and detecting cost alone (the rest of
# the first run is the bans: two nft runs and a state-file write each, in the loop).
t0=$(date +%s%N)
ip netns exec "$ns" "$mw" logs watch "$work/stream.log" "${common[@]}" --from-start \
  --exit-when-drained --ban-detectors none --state-dir "$work/state-c" >/dev/null 2>&1
t1=$(date +%s%N)
read_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')

mkdir -p "$work/f2b"
cp -r /etc/fail2ban/filter.d "$work/f2b/"
cp /etc/fail2ban/fail2ban.conf /etc/fail2ban/jail.conf "$work/f2b/" 2>/dev/null || true
head -n "$f2b_lines" "$work/stream.log" >"$work/f2b-prefix.log"
t0=$(date +%s%N)
fail2ban-regex -c "$work/f2b" --print-no-missed --print-no-ignored "$work/f2b-prefix.log" \
  'postfix[mode=auth]' >"$work/f2b.out" 2>&1
t1=$(date +%s%N)
f2b_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
f2b_matched=$(sed -n 's/^Lines: .* lines, .* ignored, \([0-9]*\) matched.*/\1/p' "$work/f2b.out")

echo "logs watch --ban (netns $ns, kernel nft sets):"
printf '  latency, threshold line written -> element in the kernel set (%s runs): median %s ms, p95 %s ms (min %s, max %s; goal < 100)\n' \
  "$lat_n" "$lat_med" "$lat_p95" "$lat_min" "$lat_max"
awk -v n="$lines" -v b="$bytes" -v m="$mw_s" -v f="$f2b_s" -v r="$read_s" -v fn="$f2b_lines" 'BEGIN {
  printf "  throughput on %d lines (%.1f MB):\n", n, b / 1048576
  printf "    %-48s %8.3f s %10.0f lines/s\n", "mailwarden logs watch --ban", m, n / m
  printf "    %-48s %8.3f s %10.0f lines/s\n", "  the same, --ban-detectors none (no ban)", r, n / r
  printf "    %-48s %8.3f s %10.0f lines/s (on the first %d lines)\n", "fail2ban-regex postfix[mode=auth]", f, fn / f, fn
  printf "    ratio mailwarden/fail2ban (lines/s): %.1fx with bans, %.1fx reading only (goal >= 50)\n", (n / m) / (fn / f), (n / r) / (fn / f) }'
echo "    bans by mailwarden: $bans ($in_kernel in the kernel set; $attackers attackers generated);" \
  "lines fail2ban's filter matched in its part: ${f2b_matched:-?}"

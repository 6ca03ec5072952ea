#!/usr/bin/env bash
# `mailwarden queue summary` and a selective `queue hold --sender X --yes` on a generated queue
# of 100,000 messages, next to the shell pipeline of postsuper(1)'s manual page
# (`postqueue -p | tail | grep | awk | tr | postsuper -h -`) and a shell summary by sender.
# No real queue is needed: a fake postqueue prints the generated `postqueue -j` / `-p` text and
# a fake postsuper counts the ids it reads. Both sides must select the same number of messages.
#
# usage: bench/queue_vs_shell.sh BUILD_DIR   (BUILD_DIR/mailwarden)
# MESSAGES=100000, REPS=3, KEEP=1 keeps $WORK.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
mw=$(cd "$build" && pwd)/mailwarden
n=${MESSAGES:-100000}
reps=${REPS:-3}
work=${WORK:-$(mktemp -d /var/tmp/mw-queue-bench.XXXXXX)}
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

# The queue: 2% from the "compromised" sender, the rest from 5,000 senders to 2,000 domains.
python3 - "$n" "$work" <<'PY'
import json, random, sys, time
n, work = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(11)
now = int(time.time())
days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
with open(f"{work}/queue.jsonl", "w") as j, open(f"{work}/queue.txt", "w") as p:
    p.write("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n")
    total = 0
    for i in range(n):
        qid = f"{i:05X}{rnd.randrange(16**6):06X}"
        sender = "spam@compromised.test" if rnd.random() < 0.02 else f"user{rnd.randrange(5000)}@corp{rnd.randrange(50)}.test"
        rcpts = [f"r{rnd.randrange(100000)}@dom{rnd.randrange(2000)}.example" for _ in range(rnd.choice((1, 1, 1, 2, 5)))]
        size = rnd.randrange(800, 60000)
        arrival = now - rnd.randrange(0, 5 * 86400)
        queue = "deferred" if rnd.random() < 0.9 else "active"
        reason = "connect to mx.dom.example[192.0.2.1]:25: Connection timed out"
        j.write(json.dumps({"queue_name": queue, "queue_id": qid, "arrival_time": arrival,
                            "message_size": size, "forced_expire": False, "sender": sender,
                            "recipients": [{"address": r, "delay_reason": reason} for r in rcpts]}) + "\n")
        t = time.gmtime(arrival)
        mark = "*" if queue == "active" else ""
        p.write(f"{qid + mark:<11} {size:>8} {days[(t.tm_wday + 1) % 7]} {months[t.tm_mon - 1]} {t.tm_mday:>2} {t.tm_hour:02}:{t.tm_min:02}:{t.tm_sec:02}  {sender}\n")
        if queue == "deferred":
            p.write(f"({reason})\n")
        for r in rcpts:
            p.write(f"{'':41}{r}\n")
        p.write("\n")
        total += size
    p.write(f"-- {total // 1024} Kbytes in {n} Requests.\n")
PY

mkdir -p "$work/bin"
cat >"$work/bin/postqueue" <<SH
#!/bin/sh
# fake postqueue: -j or -p of the generated queue (other options, e.g. -c DIR, ignored)
for a in "\$@"; do
  case "\$a" in -j) exec cat "$work/queue.jsonl" ;; -p) exec cat "$work/queue.txt" ;; esac
done
exit 64
SH
cat >"$work/bin/postsuper" <<SH
#!/bin/sh
# fake postsuper: counts the ids read from stdin, reports like the real one
n=\$(wc -l)
echo "\$n" >>"$work/postsuper.count"
echo "postsuper: Placed on hold: \$n messages" >&2
SH
chmod +x "$work/bin/postqueue" "$work/bin/postsuper"
export PATH=$work/bin:$PATH

best() {
  local best_s=0 t0 t1 s
  for _ in $(seq "$reps"); do
    : >"$work/postsuper.count"
    t0=$(date +%s%N)
    "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
    t1=$(date +%s%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    if awk -v s="$s" -v b="$best_s" 'BEGIN { exit !(b == 0 || s < b) }'; then best_s=$s; fi
  done
  echo "$best_s"
}
held() { awk '{ s += $1 } END { print s + 0 }' "$work/postsuper.count"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.001; printf "%.1f", a / b }'; }

tools=(--postqueue "$work/bin/postqueue" --postsuper "$work/bin/postsuper")
shell_hold() {
  postqueue -p | tail -n +2 | grep -v '^ *(' |
    awk 'BEGIN { RS = "" } { if ($7 == "spam@compromised.test") print $1 }' | tr -d '*!' |
    postsuper -h -
}
shell_summary() {
  postqueue -p | tail -n +2 | grep -v '^ *(' | awk 'BEGIN { RS = "" } NF > 7 { print $7 }' |
    sort | uniq -c | sort -rn | head -10
}
export -f shell_hold shell_summary

mw_sum=$(best "$mw" queue summary "${tools[@]}" --format json)
sh_sum=$(best bash -c shell_summary)
mw_hold=$(best "$mw" queue hold --sender spam@compromised.test --yes --no-syslog "${tools[@]}")
mw_held=$(held)
sh_hold=$(best bash -c shell_hold)
sh_held=$(held)
if [ "$mw_held" != "$sh_held" ]; then
  echo "queue bench: mailwarden held $mw_held, the shell pipeline $sh_held" >&2
  exit 1
fi
echo "queue: $n messages ($(du -m "$work/queue.jsonl" | cut -f1) MB of postqueue -j), best of $reps"
printf '  %-44s %8ss  (shell %ss, ratio %sx)\n' "summary (by status, sender, domain, age)" \
  "$mw_sum" "$sh_sum" "$(ratio "$sh_sum" "$mw_sum")"
printf '  %-44s %8ss  (shell %ss, ratio %sx)\n' "hold --sender X --yes ($mw_held held)" \
  "$mw_hold" "$sh_hold" "$(ratio "$sh_hold" "$mw_hold")"

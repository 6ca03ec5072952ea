#!/usr/bin/env bash
# `mailwarden policyd` under Postfix's load, next to its peers, as ratios of one run. The load:
# mw-policyd-loadgen, one persistent connection per smtpd process, per message RCPT x 1-5, DATA
# and END-OF-MESSAGE with every attribute Postfix sends, 1000 accounts, at 10 and 100
# connections. The servers, each on a free loopback port:
#   - the no-op C server (bench/policyd/noop_server.c): answers DUNNO, no logic; the ceiling;
#   - policyd in process (memory backend, persisted to a temp SQLite file), with its default
#     threads (half the cores) and with one thread per core;
#   - postfwd with the equivalent per-sasl_username rules (bench/policyd/postfwd.cf);
#   - policyd in redis mode against a private redis-server, and redis-benchmark running
#     policyd's own Lua script with EVALSHA (the ceiling of redis mode).
# Then policyd's resident memory once 100,000 accounts have sent one message each.
# The limits are far above what a run sends (the decision path is measured, not refusals); a
# probe account with 3 messages an hour checks first that each server enforces its rules.
#
# usage: bench/policyd_vs_peers.sh BUILD_DIR  (BUILD_DIR/mailwarden, BUILD_DIR/bench/mw-policyd-*)
# DURATION=5s and WARMUP=1s per run; ROUNDS=3: every server runs once per round, one after the
# other, and the table shows the median round, the ratios the median of each round's ratio (a
# neighbour's load on a shared machine then moves both sides of a ratio alike); CONNS="10 100";
# MEMORY_ACCOUNTS=100000; KEEP=1 keeps the work directory (configs, logs, JSON results).
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
cd "$(dirname "$0")/.."
mw=$build/mailwarden
loadgen=$build/bench/mw-policyd-loadgen
noop=$build/bench/mw-policyd-noop
duration=${DURATION:-5s}
warmup=${WARMUP:-1s}
rounds=${ROUNDS:-3}
conns_list=${CONNS:-10 100}
memory_accounts=${MEMORY_ACCOUNTS:-100000}
accounts=1000
probe=900000000  # the probe account: user900000000@example.com, 3 messages per hour

for f in "$loadgen" "$noop"; do
  [ -x "$f" ] || { echo "policyd benchmark skipped: $f not built (cmake -DMW_BENCH=ON)"; exit 0; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mw-policyd-bench.XXXXXX")
chmod 755 "$work"  # postfwd drops to nobody and reads its rules from here
mkdir "$work/res"
pids=()         # every process started here, ended by pid
postfwd_pid=""  # postfwd daemonizes: its master leads its own process group
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$postfwd_pid" ]; then kill -TERM -- "-$postfwd_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$postfwd_pid" ]; then
    for _ in $(seq 50); do kill -0 -- "-$postfwd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$postfwd_pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits until 127.0.0.1:PORT accepts connections (10 s), or the process PID has died.
wait_port() {
  local port=$1 pid=${2:-}
  for _ in $(seq 100); do
    if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()' \
      "$port" 2>/dev/null; then
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}
# jget FILE EXPR: a value from a JSON file, EXPR in Python over `j`.
jget() { python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# metric PORT NAME: a value from policyd's Prometheus endpoint ("?" when unreadable).
metric() {
  python3 -c 'import sys, urllib.request
for l in urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().splitlines():
    if l.split(" ")[0] == sys.argv[2]: print(int(float(l.split()[-1])))' \
    "http://127.0.0.1:$1/metrics" "$2" 2>/dev/null | grep . || echo "?"
}

# The probe: 5 messages of one recipient from the probe account; its limit refuses some.
probe_ok() {
  local name=$1 target=$2 out=$work/res/probe-$1.json
  if ! "$loadgen" --target "$target" --connections 1 --messages 5 --recipients 1 --accounts 1 \
    --account-base "$probe" --json >"$out" 2>"$work/res/probe-$name.err"; then
    echo "  $name: the probe failed: $(cat "$work/res/probe-$name.err")"
    return 1
  fi
  local refused
  refused=$(jget "$out" 'sum(v for k, v in j["answers"].items() if k in ("DEFER_IF_PERMIT", "DEFER", "REJECT") or k[:1] in "45")')
  if [ "$refused" -lt 1 ]; then
    echo "  $name: WARNING: the probe account's 4th and 5th messages were not refused: its limit is not enforced"
    return 1
  fi
  return 0
}

# measure NAME TARGET CONNS ROUND [loadgen options]: one run, res/NAME.CONNS.rROUND.json.
measure() {
  local name=$1 target=$2 conns=$3 round=$4
  shift 4
  local out=$work/res/$name.$conns.r$round.json
  if ! "$loadgen" --target "$target" --connections "$conns" --duration "$duration" \
    --warmup "$warmup" --accounts "$accounts" --recipients 1-5 --json "$@" >"$out.tmp" \
    2>"$work/res/run.err"; then
    echo "  $name at $conns connections: errors: $(cat "$work/res/run.err" "$out.tmp" 2>/dev/null | head -c 400)"
    mv "$out.tmp" "$work/res/$name.$conns.r$round.errors"
    return 0
  fi
  mv "$out.tmp" "$out"
}

servers=()  # NAME=TARGET of the servers that run, in table order

# ---- the no-op C server ---------------------------------------------------------------------
noop_port=$(free_port)
"$noop" "$noop_port" "${NOOP_THREADS:-1}" >"$work/noop.log" 2>&1 &
pids+=($!)
wait_port "$noop_port" $! || { echo "the no-op server did not start: $(cat "$work/noop.log")"; exit 1; }
servers+=("noop=inet:127.0.0.1:$noop_port")

# ---- mailwarden policyd, in process ---------------------------------------------------------
# policyd_config FILE PORT METRICS_PORT STATE_BLOCK [SERVER_LINE]
policyd_config() {
  cat >"$1" <<EOF
# generated by bench/policyd_vs_peers.sh
[server]
listen = ["inet:127.0.0.1:$2"]
metrics = "127.0.0.1:$3"
${5:-}

[counting]
stage = "end-of-message"

[action]
over_limit = "defer"

[[limit]]
scope = "account"
window = "1h"
messages = 1000000
recipients = 10000000

[[limit]]
scope = "account"
window = "1d"
messages = 10000000
recipients = 100000000

[[exception]]
match = "user$probe@example.com"
limit = [{window = "1h", messages = 3}]

[alerts]
syslog = false

$4
EOF
}
# start_policyd NAME CONFIG PORT: starts it; started_pid is its pid, empty when it did not start.
started_pid=""
start_policyd() {
  local name=$1 config=$2 port=$3
  "$mw" policyd run --config "$config" --no-syslog >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  started_pid=""
  if wait_port "$port" "$pid"; then started_pid=$pid; fi
}
have_policyd=0
if [ -x "$mw" ] && "$mw" policyd run --help >/dev/null 2>&1; then
  mem_port=$(free_port)
  mem_metrics=$(free_port)
  policyd_config "$work/policyd-memory.toml" "$mem_port" "$mem_metrics" \
    "[state]
backend = \"memory\"
path = \"$work/policyd-memory.sqlite\""
  start_policyd policyd-memory "$work/policyd-memory.toml" "$mem_port"
  if [ -n "$started_pid" ]; then
    have_policyd=1
    servers+=("policyd=inet:127.0.0.1:$mem_port")
  else
    echo "policyd (memory) did not start: $(tail -3 "$work/policyd-memory.log")"
  fi
  # The same with one worker per core: what more workers than the default cost or bring here.
  one_port=$(free_port)
  policyd_config "$work/policyd-1thread.toml" "$one_port" "$(free_port)" \
    "[state]
backend = \"memory\"
path = \"$work/policyd-1thread.sqlite\"" "threads = $(nproc)"
  start_policyd policyd-1thread "$work/policyd-1thread.toml" "$one_port"
  if [ -n "$started_pid" ]; then servers+=("policyd-1thread=inet:127.0.0.1:$one_port"); fi
else
  echo "policyd rows skipped: $mw has no 'policyd run' yet"
fi

# ---- postfwd --------------------------------------------------------------------------------
postfwd_bin=$(command -v postfwd2 || command -v postfwd || true)
if [ -n "$postfwd_bin" ]; then
  pf_port=$(free_port)
  mkdir "$work/postfwd"
  cp bench/policyd/postfwd.cf "$work/postfwd/postfwd.cf"
  # shellcheck disable=SC2086  # a list of numbers
  max_conns=$(printf '%s\n' $conns_list | sort -n | tail -1)
  pf_user=()
  if [ "$(id -u)" -eq 0 ]; then
    chown nobody "$work/postfwd"
    pf_user=(-u nobody -g "$(id -gn nobody)")
  else
    pf_user=(-u "$(id -un)" -g "$(id -gn)")
  fi
  # postfwd2 always daemonizes (rate limits live in its cache daemon): private pid file, cache
  # socket and port; one preforked child per connection, as Postfix's smtpd processes need;
  # --perfmon turns its logging off (its fastest setting).
  "$postfwd_bin" -f "$work/postfwd/postfwd.cf" -i 127.0.0.1 -p "$pf_port" "${pf_user[@]}" \
    --pidfile "$work/postfwd/master.pid" --cache_proto unix --cache_port "$work/postfwd/cache.sock" \
    --perfmon --min_servers "$((max_conns + 2))" --max_servers "$((max_conns + 20))" \
    --min_spare_servers 1 --max_spare_servers "$((max_conns + 10))" >"$work/postfwd.log" 2>&1 || true
  for _ in $(seq 50); do [ -s "$work/postfwd/master.pid" ] && break; sleep 0.1; done
  postfwd_pid=$(cat "$work/postfwd/master.pid" 2>/dev/null || true)
  if [ -n "$postfwd_pid" ] && wait_port "$pf_port" "$postfwd_pid"; then
    servers+=("postfwd=inet:127.0.0.1:$pf_port")
  else
    echo "postfwd did not start: $(grep -v Redundant "$work/postfwd.log" | head -3)"
  fi
else
  echo "postfwd skipped: package postfwd is not installed"
fi

# ---- redis-server, policyd in redis mode, redis-benchmark -----------------------------------
have_redis=0
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null &&
  command -v redis-cli >/dev/null; then
  redis_port=$(free_port)
  mkdir "$work/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --dir "$work/redis" --logfile "$work/redis/redis.log" --daemonize no &
  pids+=($!)
  if wait_port "$redis_port" $!; then
    have_redis=1
  else
    echo "redis-server did not start: $(tail -3 "$work/redis/redis.log")"
  fi
else
  echo "redis rows skipped: redis-server, redis-cli or redis-benchmark is not installed"
fi
if [ "$have_redis" = 1 ] && [ "$have_policyd" = 1 ]; then
  redis_policyd_port=$(free_port)
  redis_metrics=$(free_port)
  policyd_config "$work/policyd-redis.toml" "$redis_policyd_port" "$redis_metrics" \
    "[state]
backend = \"redis\"

[state.redis]
address = \"127.0.0.1:$redis_port\""
  start_policyd policyd-redis "$work/policyd-redis.toml" "$redis_policyd_port"
  if [ -n "$started_pid" ]; then
    servers+=("policyd-redis=inet:127.0.0.1:$redis_policyd_port")
  else
    echo "policyd (redis) did not start: $(tail -3 "$work/policyd-redis.log")"
  fi
fi

# ---- the probe ------------------------------------------------------------------------------
echo "checking that every server enforces its limit (probe account, 3 messages per hour):"
for s in "${servers[@]}"; do
  name=${s%%=*}
  [ "$name" = noop ] && continue
  probe_ok "$name" "${s#*=}" && echo "  $name: enforced"
done

# ---- redis-benchmark: policyd's script -------------------------------------------------------
# With the KEYS and ARGV policyd sends for one END-OF-MESSAGE of an account (1 bucket, the hour
# and the day windows, 3 recipients). Each __rand_int__ is drawn on its own: the account is one
# of 1000, the message (three draws) a new one.
lua_note=""
have_rb=0
if [ "$have_redis" = 1 ]; then
  script=$("$mw" policyd lua-script 2>/dev/null || true)
  if [ -z "$script" ]; then
    script=$(python3 -c 'import re, sys; print(re.search(r"R\"lua\((.*?)\)lua\"", open(sys.argv[1]).read(), re.S).group(1), end="")' \
      src/policyd/redis_store.cpp 2>/dev/null || true)
    lua_note=" (Lua script read from src/policyd/redis_store.cpp: no 'policyd lua-script')"
  fi
  if [ -n "$script" ]; then
    sha=$(redis-cli -p "$redis_port" SCRIPT LOAD "$script")
    p=mailwarden:policyd:
    msg="10.0.0.25|__rand_int____rand_int____rand_int__"
    now=$(date +%s)
    rb_args=(3 1 1 600 86400 1 2 3600 1000000 10000000 86400 10000000 100000000)
    # redis-benchmark does not look at the replies: the same arguments once, by hand.
    reply=$(redis-cli -p "$redis_port" EVALSHA "$sha" 5 "${p}dd:check" "${p}msg:check" "${p}keys" \
      "${p}w:a:check@example.com" "${p}al:a:check@example.com" "$now" "${rb_args[@]}" | tr '\n' ' ')
    if [ "$reply" = "0 1 1 -1 -1 0 0 0 0 " ]; then
      have_rb=1
    else
      echo "redis-benchmark skipped: policyd's script does not answer as expected ('$reply')"
    fi
  fi
fi
# rb_measure CONNS ROUND: redis-benchmark for about $duration, res/redis-benchmark.CONNS.rROUND.json.
rb_csv() {
  redis-benchmark -p "$redis_port" -c "$1" -n "$2" -r "$accounts" --csv \
    EVALSHA "$sha" 5 "${p}dd:$msg" "${p}msg:$msg" "${p}keys" \
    "${p}w:a:user__rand_int__@example.com" "${p}al:a:user__rand_int__@example.com" \
    "$now" "${rb_args[@]}" >"$work/res/rb.csv" 2>"$work/res/rb.err" || true
}
rb_measure() {
  # It counts requests, not time: a short run sizes one of about $duration.
  rb_csv "$1" 2000
  local n
  n=$(python3 -c 'import csv, re, sys
r = list(csv.reader(open(sys.argv[1])))
m = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", sys.argv[2])
seconds = int(m[1]) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
print(max(2000, int(float(dict(zip(r[0], r[-1]))["rps"]) * seconds)))' "$work/res/rb.csv" "$duration" \
    2>/dev/null || echo 2000)
  rb_csv "$1" "$n"
  if ! python3 - "$work/res/rb.csv" "$work/res/redis-benchmark.$1.r$2.json" <<'EOF'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
r = dict(zip(rows[0], rows[-1]))
json.dump({"requests_per_s": float(r["rps"]),
           "latency_us": {"p50": float(r["p50_latency_ms"]) * 1000,
                          "p99": float(r["p99_latency_ms"]) * 1000}}, open(sys.argv[2], "w"))
EOF
  then
    echo "  redis-benchmark at $1 connections failed: $(head -c 300 "$work/res/rb.err" "$work/res/rb.csv")"
  fi
}

# ---- the runs: every server once per round --------------------------------------------------
for round in $(seq "$rounds"); do
  for c in $conns_list; do
    for s in "${servers[@]}"; do
      measure "${s%%=*}" "${s#*=}" "$c" "$round"
      # Redis mode next to its ceiling: END-OF-MESSAGE only, so that each request is one EVALSHA.
      if [ "${s%%=*}" = policyd-redis ]; then
        measure policyd-redis-eom "${s#*=}" "$c" "$round" --stages eom
        if [ "$have_rb" = 1 ]; then rb_measure "$c" "$round"; fi
      fi
    done
  done
done

# ---- memory with many accounts --------------------------------------------------------------
mem_line=""
if [ "$have_policyd" = 1 ]; then
  fresh_port=$(free_port)
  fresh_metrics=$(free_port)
  policyd_config "$work/policyd-fresh.toml" "$fresh_port" "$fresh_metrics" \
    "[state]
backend = \"memory\"
path = \"$work/policyd-fresh.sqlite\""
  start_policyd policyd-fresh "$work/policyd-fresh.toml" "$fresh_port"
  fresh_pid=$started_pid
  if [ -n "$fresh_pid" ]; then
    before=$(rss_kb "$fresh_pid")
    if "$loadgen" --target "inet:127.0.0.1:$fresh_port" --connections 10 --accounts "$memory_accounts" \
      --pick cycle --messages "$memory_accounts" --recipients 1-5 --timeout 30s --json \
      >"$work/res/memory.json" 2>"$work/res/memory.err"; then
      sleep 2  # one flush to SQLite
      after=$(rss_kb "$fresh_pid")
      keys=$(metric "$fresh_metrics" mailwarden_policyd_active_keys)
      mem_line=$(awk -v b="$before" -v a="$after" -v n="$memory_accounts" -v k="$keys" 'BEGIN {
        printf "policyd resident memory after %d accounts sent one message each: %.1f MB (%.1f MB at start; %.0f bytes per account; active keys: %s)", n, a / 1024, b / 1024, (a - b) * 1024 / n, k }')
    else
      mem_line="memory run failed: $(head -c 300 "$work/res/memory.err" "$work/res/memory.json")"
    fi
  fi
fi

# Store errors would mean answers without a decision (fail-open): such rows would flatter policyd.
store_line=""
for pair in "policyd:${mem_metrics:-}" "policyd-redis:${redis_metrics:-}"; do
  [ -n "${pair#*:}" ] || continue
  errors=$(metric "${pair#*:}" mailwarden_policyd_store_errors_total)
  fail_open=$(metric "${pair#*:}" mailwarden_policyd_fail_open_total)
  store_line+="${pair%%:*}: store errors $errors, fail-open $fail_open; "
done

# ---- the table ------------------------------------------------------------------------------
python3 - "$work/res" "$duration" "$warmup" "$rounds" "$conns_list" "$(nproc)" "$lua_note" <<'EOF'
import json, os, statistics, sys
res, duration, warmup, rounds, conns, ncpu, lua_note = sys.argv[1:8]
rounds, conns = int(rounds), [int(c) for c in conns.split()]
def run(name, c, r):
    p = os.path.join(res, f"{name}.{c}.r{r}.json")
    return json.load(open(p)) if os.path.exists(p) else None
def median_run(name, c):
    runs = sorted((j for j in (run(name, c, r) for r in range(1, rounds + 1)) if j),
                  key=lambda j: j["requests_per_s"])
    return runs[(len(runs) - 1) // 2] if runs else None
rows = [("noop", "no-op C server (epoll, DUNNO, no logic)"),
        ("policyd", "mailwarden policyd, in process"),
        ("policyd-1thread", f"  the same, threads = {ncpu} (one per core)"),
        ("postfwd", "postfwd 1.35 (postfwd2), equivalent rules"),
        ("policyd-redis", "mailwarden policyd, redis mode"),
        ("policyd-redis-eom", "  the same, END-OF-MESSAGE only (1 EVALSHA each)"),
        ("redis-benchmark", "redis-benchmark, EVALSHA of policyd's script")]
print(f"policyd benchmark: per message RCPT x 1-5, DATA, END-OF-MESSAGE; 1000 accounts; "
      f"{duration} per run after {warmup} warm-up; median of {rounds} round(s); {ncpu} CPUs "
      f"shared by the load generator and the servers{lua_note}")
print(f"  {'server':<50} {'conns':>5} {'requests/s':>11} {'p50 us':>8} {'p99 us':>8}  answers")
for name, label in rows:
    for c in conns:
        j = median_run(name, c)
        failed = sum(os.path.exists(os.path.join(res, f"{name}.{c}.r{r}.errors"))
                     for r in range(1, rounds + 1))
        if j is None:
            if failed:
                print(f"  {label:<50} {c:>5} {'errors':>11}")
            continue
        answers = ", ".join(f"{k} {v}" for k, v in sorted(j.get("answers", {}).items()))
        if failed:
            answers += f" ({failed} run(s) with errors left out)"
        print(f"  {label:<50} {c:>5} {j['requests_per_s']:>11.0f} {j['latency_us']['p50']:>8.0f} "
              f"{j['latency_us']['p99']:>8.0f}  {answers}")
def ratio(a, b, c):
    per_round = []
    for r in range(1, rounds + 1):
        x, y = run(a, c, r), run(b, c, r)
        if x and y and y["requests_per_s"] > 0:
            per_round.append(x["requests_per_s"] / y["requests_per_s"])
    return statistics.median(per_round) if per_round else None
def fmt(v, digits, goal, unit=""):
    return "n/a" if v is None else f"{v:.{digits}f}{unit} ({'PASS' if v >= goal else 'MISS'})"
for c in conns:
    print(f"  ratios at {c} connections: policyd/noop {fmt(ratio('policyd', 'noop', c), 2, 0.7)}, "
          f"policyd/postfwd {fmt(ratio('policyd', 'postfwd', c), 0, 30, 'x')}, policyd-redis/"
          f"redis-benchmark {fmt(ratio('policyd-redis-eom', 'redis-benchmark', c), 2, 0.8)}; "
          f"with threads = {ncpu}: policyd/noop {fmt(ratio('policyd-1thread', 'noop', c), 2, 0.7)}")
print("  goals: policyd/noop >= 0.7, policyd/postfwd >= 30, policyd-redis/redis-benchmark >= 0.8")
for name in ("policyd", "policyd-redis"):
    j = median_run(name, 10)
    if j is not None:
        p99 = j["latency_us"]["p99"]
        print(f"  {name} p99 at 10 connections: {p99:.0f} us: {'PASS' if p99 < 1000 else 'MISS'} (goal < 1 ms)")
EOF
[ -n "$store_line" ] && echo "  ${store_line%; } (must be 0)"
[ -n "$mem_line" ] && echo "  $mem_line"
exit 0

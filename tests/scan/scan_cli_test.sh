#!/usr/bin/env bash
# `mailwarden scan` as an administrator meets it on any machine: usage errors and exit codes,
# and a scan of this machine's loopback (no root, no namespace).
set -uo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
src=${2:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
export MAILWARDEN_CATALOG="$src/catalog"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

check() {  # NAME WANT_RC WANT_SUBSTRING (stdout+stderr) -- command...
  local name=$1 want_rc=$2 want_out=$3
  shift 4
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$want_out" "$tmp/out"; then
    echo "FAIL $name: exit $rc (want $want_rc); output:"; sed 's/^/  /' "$tmp/out" | head -20
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
}

check cidr_refused 2 "is a prefix (CIDR)" -- "$mw" scan 192.0.2.0/24
check range_refused 2 "is a range" -- "$mw" scan 192.0.2.1-9
check list_refused 2 "is a list" -- "$mw" scan 192.0.2.1,192.0.2.2
check timeout_unit 2 "give a unit" -- "$mw" scan 127.0.0.1 --timeout 500
check bad_port 2 "--ports" -- "$mw" scan 127.0.0.1 --ports 70000
check source_family 2 "has no IPv6 address" -- "$mw" scan 127.0.0.1 --source ::1
check source_not_ours 1 "cannot bind" -- "$mw" scan 127.0.0.1 --ports 25 --source 192.0.2.77
check no_host 2 "host" -- "$mw" scan
# Loopback: a listener we start is open, a port nobody listens on is closed (RST), a UDP port
# without a probe is not checkable, memcached/udp with nobody there is closed (ICMP).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(8); time.sleep(10)" &
listener=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
check loopback_open 0 "$(printf '%-11s %-26s open' "$port/tcp" -)" -- \
  "$mw" scan 127.0.0.1 --ports "$port,1/tcp,514/udp,11211/udp" --timeout 500ms
check loopback_rst 0 "closed (RST)" -- "$mw" scan 127.0.0.1 --ports 1/tcp --timeout 500ms
check udp_not_checkable 0 "not checkable (no UDP probe)" -- \
  "$mw" scan 127.0.0.1 --ports 514/udp --timeout 500ms
check memcached_icmp 0 "closed (ICMP port unreachable)" -- \
  "$mw" scan 127.0.0.1 --ports 11211/udp --timeout 500ms
check json 0 '"state": "open"' -- "$mw" scan 127.0.0.1 --ports "$port" --format json
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null

echo "scan cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# mailwarden scan next to nmap -sT (TCP connect scan) on the catalog's TCP ports, against a
# default-drop namespace (every port filtered) and an accept-all one (no listener: every port
# closed by a RST), with the same per-port timeout and retries, hyperfine over $RUNS runs in the
# same run. Checks that both tools give identical verdicts, then prints the ratios. Root.
set -euo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY}
mw=$(realpath "$mw")
runs=${RUNS:-10}
timeout_ms=${TIMEOUT_MS:-500}  # nmap -T4's initial RTT timeout
retries=${RETRIES:-1}
cd "$(dirname "$0")/.."
export MAILWARDEN_CATALOG=$PWD/catalog
work=$(mktemp -d)
cli=mwscan-$$-cli drop=mwscan-$$-drop open=mwscan-$$-open
cleanup() {
  for ns in "$cli" "$drop" "$open"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

for ns in "$cli" "$drop" "$open"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
# client 192.0.2.2 <-> default-drop server 192.0.2.1; client 198.51.100.2 <-> accept-all .1
ip -n "$cli" link add v-drop type veth peer name v-cli netns "$drop"
ip -n "$cli" link add v-open type veth peer name v-cli netns "$open"
ip -n "$cli" addr add 192.0.2.2/24 dev v-drop
ip -n "$cli" addr add 198.51.100.2/24 dev v-open
ip -n "$drop" addr add 192.0.2.1/24 dev v-cli
ip -n "$open" addr add 198.51.100.1/24 dev v-cli
for l in v-drop v-open; do ip -n "$cli" link set "$l" up; done
for ns in "$drop" "$open"; do ip -n "$ns" link set v-cli up; done
ip netns exec "$drop" nft -f - <<'NFT'
table inet bench {
  chain input { type filter hook input priority 0; policy drop; ct state established,related accept; }
}
NFT
# Neighbours resolved before timing, as on a network the scanner already talks to.
ip netns exec "$cli" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 || true
ip netns exec "$cli" ping -c1 -W1 198.51.100.1 >/dev/null 2>&1 || true

ports=$(python3 - <<'PY'
import tomllib
with open("catalog/ports/zimbra.toml", "rb") as f:
    cat = tomllib.load(f)
print(",".join(str(p) for p in sorted({p["port"] for p in cat["port"] if p["protocol"] == "tcp"})))
PY
)
nports=$(tr ',' '\n' <<<"$ports" | wc -l)

mw_cmd() {  # TARGET [extra args]
  local t=$1; shift
  echo ip netns exec "$cli" "$mw" scan "$t" --ports "$ports" --timeout "${timeout_ms}ms" --retries "$retries" "$@"
}
nmap_cmd() {  # TARGET [extra args]
  local t=$1; shift
  echo ip netns exec "$cli" nmap -sT -T4 -n -Pn -p "$ports" --max-retries "$retries" \
    --initial-rtt-timeout "${timeout_ms}ms" --max-rtt-timeout "${timeout_ms}ms" "$@" "$t"
}

# Verdicts: identical open/closed/filtered per port.
compare_verdicts() {  # NAME TARGET
  local name=$1 t=$2
  $(mw_cmd "$t" --format json) >"$work/$name-mw.json"
  $(nmap_cmd "$t" -oG "$work/$name-nmap.gnmap") >/dev/null
  python3 - "$work/$name-mw.json" "$work/$name-nmap.gnmap" "$name" <<'PY'
import json, re, sys
mw = {p["port"]: p["ipv4"]["state"] for p in json.load(open(sys.argv[1]))["ports"]}
nm = {}
text = open(sys.argv[2]).read()
m = re.search(r"Ports: (.*?)(\t|$)", text, re.M)
for item in (m.group(1).split(", ") if m else []):
    f = item.split("/")
    if len(f) < 2:
        continue
    nm[int(f[0])] = f[1]
# nmap folds ports sharing a state into "Ignored State: filtered (N)" in -oG output.
ign = re.search(r"Ignored State: (\w+)", text)
for port in mw:
    if port not in nm and ign:
        nm[port] = ign.group(1)
diff = {p: (mw[p], nm.get(p)) for p in mw if mw[p] != nm.get(p)}
if diff:
    print(f"{sys.argv[3]}: verdicts differ (mailwarden, nmap): {diff}")
    sys.exit(1)
states = sorted(set(mw.values()))
print(f"{sys.argv[3]}: identical verdicts on {len(mw)} ports ({', '.join(states)})")
PY
}
compare_verdicts default-drop 192.0.2.1
compare_verdicts accept-all 198.51.100.1

bench() {  # NAME TARGET
  local name=$1 t=$2
  hyperfine -N --runs "$runs" --warmup 1 --export-json "$work/$name.json" \
    -n mailwarden "$(mw_cmd "$t")" -n nmap "$(nmap_cmd "$t")" >"$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; exit 1; }
  python3 - "$work/$name.json" "$name" "$nports" "$timeout_ms" "$retries" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
m, n = r["mailwarden"]["mean"], r["nmap"]["mean"]
print(f"scan {sys.argv[2]:<12} {sys.argv[3]} TCP ports, timeout {sys.argv[4]} ms, retries {sys.argv[5]}: "
      f"mailwarden {m:.3f} s ± {r['mailwarden']['stddev']:.3f}; nmap -sT -T4 {n:.3f} s ± {r['nmap']['stddev']:.3f}; "
      f"ratio {m / n:.2f} ({n / m:.1f}x {'faster' if m <= n else 'slower'})")
PY
}
bench default-drop 192.0.2.1
bench accept-all 198.51.100.1

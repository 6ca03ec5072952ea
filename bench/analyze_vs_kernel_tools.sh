#!/usr/bin/env bash
# firewall analyze (the full exposure matrix over the catalog's ports) next to the kernel tools'
# own parse of the same ruleset (iptables-restore --test, nft -c -f), timed in the same run,
# inside a throw-away network namespace. Prints the ratios.
set -euo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY}
reps=${REPS:-9}  # best of: the machine may be busy
cd "$(dirname "$0")/.."
work=$(mktemp -d)
ns=mwbench-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
python3 bench/gen_rulesets.py "$work"
ip netns add "$ns"
# The nft JSON dump the analyser reads is what the kernel gives back after loading.
ip netns exec "$ns" nft -f "$work/nft-10k.nft"
ip netns exec "$ns" nft -j list ruleset >"$work/nft-10k.json"
ip netns exec "$ns" nft flush ruleset
export MAILWARDEN_CATALOG=$PWD/catalog

# Best of $reps wall times, in milliseconds.
best() {
  local best_ms=0
  for _ in $(seq "$reps"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    if [ "$best_ms" -eq 0 ] || [ "$ms" -lt "$best_ms" ]; then best_ms=$ms; fi
  done
  echo "$best_ms"
}

a=$(best "$mw" firewall analyze "$work/iptables-10k.txt")
b=$(best ip netns exec "$ns" iptables-restore --test "$work/iptables-10k.txt")
c=$(best "$mw" firewall analyze "$work/nft-10k.json")
d=$(best ip netns exec "$ns" nft -c -f "$work/nft-10k.nft")
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y == 0) y = 1; printf "%.2f", x / y }'; }
echo "10,000-rule iptables dump: analyze (all catalog ports, v4+v6) ${a} ms; iptables-restore --test ${b} ms; ratio $(ratio "$a" "$b")"
echo "10,000-element nft set:    analyze (all catalog ports, v4+v6) ${c} ms; nft -c -f ${d} ms; ratio $(ratio "$c" "$d")"

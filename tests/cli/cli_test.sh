#!/usr/bin/env bash
# The command line as an administrator meets it: exit codes, messages, stdout versus --out.
set -uo pipefail
mw=${1:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
src=${2:?usage: $0 MAILWARDEN_BINARY PROJECT_SOURCE_DIR}
export MAILWARDEN_CATALOG="$src/catalog"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect NAME WANT_RC WANT_STDERR_SUBSTRING -- command...
expect() {
  local name=$1 want_rc=$2 want_err=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$want_err" "$tmp/err"; then
    echo "FAIL $name: exit $rc (want $want_rc), stderr:"; sed 's/^/  /' "$tmp/err"
    fail=$((fail + 1))
  else
    pass=$((pass + 1))
  fi
}

printf '[host]\nproduct = "zimbra"\nhostname = "m.example"\n[networks]\nadmin_ipv4 = ["10.0.0.1/33"]\n' >"$tmp/bad.toml"
expect invalid_policy 2 "$tmp/bad.toml:5:15: networks.admin_ipv4[0]: '10.0.0.1/33'" -- \
  "$mw" firewall generate --policy "$tmp/bad.toml"
expect missing_policy 2 "$tmp/none.toml" -- "$mw" firewall generate --policy "$tmp/none.toml"
expect unknown_backend 2 "--backend pf: unknown (available: nft, iptables, ip6tables, ufw, firewalld, iis)" -- \
  "$mw" firewall generate --policy "$src/examples/zimbra-single.toml" --backend pf
expect multi_needs_node 2 "mta1.example.com, proxy1.example.com, mbox1.example.com, ldap1.example.com" -- \
  "$mw" firewall generate --policy "$src/examples/zimbra-multi.toml"
expect unknown_node 2 "no node 'x.example'" -- \
  "$mw" firewall generate --policy "$src/examples/zimbra-multi.toml" --node x.example
expect linux_backend_for_exchange 2 "Exchange runs on Windows" -- \
  "$mw" firewall generate --policy "$src/examples/exchange.toml" --node ex1.example.com
expect iis_for_zimbra 2 "--backend iis is for Exchange" -- \
  "$mw" firewall generate --policy "$src/examples/zimbra-single.toml" --backend iis
expect unwritable_out 1 "/proc/mailwarden" -- \
  "$mw" firewall generate --policy "$src/examples/zimbra-single.toml" --out /proc/mailwarden
expect no_subcommand 2 "" -- "$mw"

# stdout: one artefact as is, loadable by nft -f -.
"$mw" firewall generate --policy "$src/examples/zimbra-single.toml" >"$tmp/out" 2>"$tmp/err"
if head -1 "$tmp/out" | grep -qx '#!/usr/sbin/nft -f' && grep -q '^note: ' "$tmp/err"; then
  pass=$((pass + 1))
else
  echo "FAIL stdout_nft: first line $(head -1 "$tmp/out")"; fail=$((fail + 1))
fi
# --out: one directory per node, fixed names, nothing on stdout.
"$mw" firewall generate --policy "$src/examples/zimbra-multi.toml" --backend iptables --out "$tmp/fw" >"$tmp/out" 2>"$tmp/err"
if [ -f "$tmp/fw/mta1.example.com/rules.v4" ] && [ -f "$tmp/fw/ldap1.example.com/mailwarden-owned.v4" ] && [ ! -s "$tmp/out" ]; then
  pass=$((pass + 1))
else
  echo "FAIL out_dir_per_node: $(find "$tmp/fw" -type f | head)"; fail=$((fail + 1))
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

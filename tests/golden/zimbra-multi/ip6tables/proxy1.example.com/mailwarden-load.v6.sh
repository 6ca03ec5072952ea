#!/bin/sh
# mailwarden firewall for proxy1.example.com (zimbra, multi server, roles: proxy): IPv6, loader of the owned chains
# Generated from examples/zimbra-multi.toml by `mailwarden firewall generate --backend ip6tables`.
# Do not edit: change the policy and generate again.
# Run as root: `sh mailwarden-load.v6.sh` (IP6TABLES=ip6tables-legacy or IP6TABLES=ip6tables-nft
#   picks a variant; the default is whatever `ip6tables` is). It loads mailwarden-owned.v6,
#   found beside this script, with `ip6tables-restore --noflush`, then makes sure that INPUT
#   jumps to MAILWARDEN-INPUT exactly once. Running it again is harmless.
# Why a script: the restore format has no 'add unless present'. An -I in the restore file would
#   add a second jump on every reload, and -D of an absent rule fails the whole load, so the
#   jump is checked here. A jump already in place stays where it is; extra copies are deleted; a
#   missing one goes after the ban chains (fail2ban's f2b-*, MAILWARDEN-BAN) at the head of the
#   chain, so that bans keep coming first.
set -eu
ipt=${IP6TABLES:-ip6tables}
dir=$(dirname -- "$0")

"$ipt-restore" -w --noflush "$dir/mailwarden-owned.v6"

# ensure_jump CHAIN TARGET: exactly one `-A CHAIN -j TARGET`.
ensure_jump() {
  n=$("$ipt" -w -S "$1" | grep -c -x -e "-A $1 -j $2" || true)
  while [ "$n" -gt 1 ]; do
    "$ipt" -w -D "$1" -j "$2"
    n=$((n - 1))
  done
  [ "$n" -eq 1 ] && return 0
  pos=$("$ipt" -w -S "$1" | awk '
    $1 != "-A" { next }
    { t = ""; for (i = 3; i < NF; i++) if ($i == "-j" || $i == "-g") t = $(i + 1) }
    t ~ /^f2b-/ || t == "MAILWARDEN-BAN" { n++; next }
    { exit }
    END { print n + 1 }')
  "$ipt" -w -I "$1" "$pos" -j "$2"
}

ensure_jump INPUT MAILWARDEN-INPUT

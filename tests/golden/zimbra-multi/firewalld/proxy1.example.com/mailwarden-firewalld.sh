#!/bin/bash
# mailwarden firewall for proxy1.example.com (zimbra, multi server, roles: proxy)
# Generated from examples/zimbra-multi.toml by `mailwarden firewall generate --backend
#   firewalld`. Do not edit: change the policy and generate again.
#
# CAUTION (Zimbra wiki): firewalld has no fail-safe. A wrong reload or default-zone change over
#   SSH locks you out, and nothing brings the old rules back by itself. Keep a console
#   (out-of-band) session open while applying this; check that the address you connect from is
#   in the admin networks of the policy; try a single rule at runtime first with --timeout
#   (firewall-cmd --zone=public --add-rich-rule=RULE --timeout=300 expires by itself), since
#   permanent changes and --reload have no such undo.
#
# What it does, in firewalld's permanent configuration: (1) zone mailwarden: created, or emptied
#   of its services, ports and rich rules (its interface and source bindings stay); (2) services
#   mailwarden-*: deleted and defined again; (3) zone mailwarden: target DROP, public services,
#   rich rules; (4) direct rules tagged mailwarden-egress-smtp: removed, and added again when
#   the policy restricts outbound SMTP; then firewall-cmd --check-config, --reload, and zone
#   mailwarden becomes the default zone: the cut-over, undone from a console with firewall-cmd
#   --set-default-zone=<the zone this script prints first>.
# The XML files generated beside this script (mailwarden.xml, mailwarden-*.xml) are the same
#   configuration as firewalld writes it, for installing by copying instead.
# NOTE: Zone mailwarden becomes the default zone and binds no interface. firewalld picks a
#   packet's zone by source binding first, then interface binding, then the default zone: an
#   interface bound to another zone (NetworkManager connection.zone, or <interface> in another
#   zone file) or a source bound to another zone bypasses this policy. Check `firewall-cmd
#   --get-active-zones` lists every interface under mailwarden only.
# NOTE: ICMP: with target DROP firewalld accepts no ICMP by itself (only the default target
#   accepts it at the end of a zone), so rich rules accept what the nft backend accepts.
#   Differences: no burst on the echo limit, ND accepted without the hop-limit-255 match (the
#   kernel checks it), and every ICMPv6 message from fe80::/10 to ff00::/8 instead of MLD alone.
#   firewalld's built-in policy allow-host-ipv6 also accepts ND and redirects.
# NOTE: Not expressible in firewalld: dropping NEW TCP packets without SYN (rich rules cannot
#   match TCP flags). They only reach ports that are open anyway; sysctl
#   net.netfilter.nf_conntrack_tcp_loose=0 makes conntrack classify them INVALID, which
#   firewalld drops.
# NOTE: Drops are logged by the zone's priority-32767 rich rule (prefix 'mailwarden-drop: ',
#   level info, 10/minute). firewalld's LogDenied setting is left alone: it is global to every
#   zone, has no rate limit and fixed prefixes (firewall-cmd --set-log-denied=unicast).
# NOTE: Admin console through the proxy on 9071 from the admin networks only; 7071 stays closed.
#   On proxy1.example.com as the zimbra user: /opt/zimbra/libexec/zmproxyconfig -e -w -C -H
#   proxy1.example.com && zmproxyctl restart (zimbraReverseProxyAdminEnabled is FALSE by
#   default)
#
# Listening here but closed to every other host:
#   3443/tcp https-client-cert: service 'client-cert' is off unless [services] client-cert =
#     true
#   7171/tcp zmconfigd: loopback only
#   161/udp snmp: loopback only
#   11211/udp memcached-udp: never opened: memcached over UDP: a traffic-amplification vector
#     (2018 DDoS). zmmemcachedctl starts memcached with -U 0, so nothing listens since bug
#     108867; kept closed should a custom start re-enable it

set -euo pipefail

echo 'mailwarden: CAUTION (Zimbra wiki): firewalld has no fail-safe. A wrong reload or default-zone change over SSH locks you out, and nothing brings the old rules back by itself. Keep a console (out-of-band) session open while applying this; check that the address you connect from is in the admin networks of the policy; try a single rule at runtime first with --timeout (firewall-cmd --zone=public --add-rich-rule=RULE --timeout=300 expires by itself), since permanent changes and --reload have no such undo.' >&2
firewall-cmd --state >/dev/null
previous_zone=$(firewall-cmd --get-default-zone)
echo "mailwarden: default zone before this run: ${previous_zone} (undo the cut-over: firewall-cmd --set-default-zone=${previous_zone})" >&2

# 1. Zone mailwarden: emptied when an earlier run created it, else created.
zones=" $(firewall-cmd --permanent --get-zones) "
if [[ $zones == *" mailwarden "* ]]; then
  listed=$(firewall-cmd --permanent --zone=mailwarden --list-rich-rules)
  args=()
  while IFS= read -r rule; do
    if [[ -n $rule ]]; then args+=("--remove-rich-rule=$rule"); fi
  done <<<"$listed"
  if ((${#args[@]})); then firewall-cmd --permanent --zone=mailwarden "${args[@]}"; fi
  listed=$(firewall-cmd --permanent --zone=mailwarden --list-services)
  args=()
  for item in $listed; do args+=("--remove-service=$item"); done
  if ((${#args[@]})); then firewall-cmd --permanent --zone=mailwarden "${args[@]}"; fi
  listed=$(firewall-cmd --permanent --zone=mailwarden --list-ports)
  args=()
  for item in $listed; do args+=("--remove-port=$item"); done
  if ((${#args[@]})); then firewall-cmd --permanent --zone=mailwarden "${args[@]}"; fi
else
  firewall-cmd --permanent --new-zone=mailwarden
fi

# 2. Services: those of earlier runs deleted, this policy's defined.
listed=$(firewall-cmd --permanent --get-services)
for item in $listed; do
  if [[ $item == mailwarden-* ]]; then firewall-cmd --permanent --delete-service="$item"; fi
done

# mailwarden-admin-ssh: 22/tcp (ssh), the admin networks only
firewall-cmd --permanent --new-service=mailwarden-admin-ssh
firewall-cmd --permanent --service=mailwarden-admin-ssh --set-short=ssh
firewall-cmd --permanent --service=mailwarden-admin-ssh --set-description='mailwarden: open to the admin networks only. 22/tcp ssh: policy [ssh] (examples/zimbra-multi.toml)'
firewall-cmd --permanent --service=mailwarden-admin-ssh --add-port=22/tcp

# mailwarden-public-http: 80/tcp (http), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-http
firewall-cmd --permanent --service=mailwarden-public-http --set-short=http
firewall-cmd --permanent --service=mailwarden-public-http --set-description='mailwarden: open to every address, IPv4 and IPv6. 80/tcp http: attrs.tsv: zimbraMailProxyPort GCV 0 and zimbraMailPort GCV 80; zmproxyconfig sets zimbraMailProxyPort 80 and moves mailboxd to 8080 when the proxy is enabled. Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-http --add-port=80/tcp

# mailwarden-public-pop3: 110/tcp (pop3), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-pop3
firewall-cmd --permanent --service=mailwarden-public-pop3 --set-short=pop3
firewall-cmd --permanent --service=mailwarden-public-pop3 --set-description='mailwarden: open to every address, IPv4 and IPv6. 110/tcp pop3: attrs.tsv: zimbraPop3ProxyBindPort GCV 110; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-pop3 --add-port=110/tcp

# mailwarden-public-imap: 143/tcp (imap), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-imap
firewall-cmd --permanent --service=mailwarden-public-imap --set-short=imap
firewall-cmd --permanent --service=mailwarden-public-imap --set-description='mailwarden: open to every address, IPv4 and IPv6. 143/tcp imap: attrs.tsv: zimbraImapProxyBindPort GCV 143; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-imap --add-port=143/tcp

# mailwarden-public-https: 443/tcp (https), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-https
firewall-cmd --permanent --service=mailwarden-public-https --set-short=https
firewall-cmd --permanent --service=mailwarden-public-https --set-description='mailwarden: open to every address, IPv4 and IPv6. 443/tcp https: attrs.tsv: zimbraMailSSLProxyPort GCV 0 (zmproxyconfig sets 443); Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-https --add-port=443/tcp

# mailwarden-public-imaps: 993/tcp (imaps), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-short=imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-description='mailwarden: open to every address, IPv4 and IPv6. 993/tcp imaps: attrs.tsv: zimbraImapSSLProxyBindPort GCV 993; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-imaps --add-port=993/tcp

# mailwarden-public-pop3s: 995/tcp (pop3s), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-pop3s
firewall-cmd --permanent --service=mailwarden-public-pop3s --set-short=pop3s
firewall-cmd --permanent --service=mailwarden-public-pop3s --set-description='mailwarden: open to every address, IPv4 and IPv6. 995/tcp pop3s: attrs.tsv: zimbraPop3SSLProxyBindPort GCV 995; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-pop3s --add-port=995/tcp

# mailwarden-admin-zimbra-admin-console-proxy: 9071/tcp (zimbra-admin-console-proxy), the admin
#   networks only
firewall-cmd --permanent --new-service=mailwarden-admin-zimbra-admin-console-proxy
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --set-short=zimbra-admin-console-proxy
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --set-description='mailwarden: open to the admin networks only. 9071/tcp zimbra-admin-console-proxy: attrs.tsv: zimbraAdminProxyPort GCV 9071, zimbraReverseProxyAdminEnabled GCV FALSE; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --add-port=9071/tcp

# mailwarden-cluster-memcached: 11211/tcp (memcached), the other nodes of this installation only
#   (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-memcached
firewall-cmd --permanent --service=mailwarden-cluster-memcached --set-short=memcached
firewall-cmd --permanent --service=mailwarden-cluster-memcached --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 11211/tcp memcached: attrs.tsv: zimbraMemcachedBindPort GCV 11211, zimbraMemcachedBindAddress no default; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-memcached --add-port=11211/tcp

# 3. Zone mailwarden: drop what no rule accepts.
firewall-cmd --permanent --zone=mailwarden --set-target=DROP
firewall-cmd --permanent --zone=mailwarden --set-short=mailwarden
firewall-cmd --permanent --zone=mailwarden --set-description='Mail server firewall of proxy1.example.com from examples/zimbra-multi.toml: public mail ports open to everyone, admin and cluster ports only from their networks (rich rules), everything else dropped.'
# Public ports: everyone, IPv4 and IPv6.
firewall-cmd --permanent --zone=mailwarden \
  --add-service=mailwarden-public-http \
  --add-service=mailwarden-public-pop3 \
  --add-service=mailwarden-public-imap \
  --add-service=mailwarden-public-https \
  --add-service=mailwarden-public-imaps \
  --add-service=mailwarden-public-pop3s
# Loopback addresses arriving on a real interface are spoofed (firewalld accepts the loopback
#   interface itself before any zone).
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" source address="127.0.0.0/8" drop' \
  --add-rich-rule='rule family="ipv6" source address="::1" drop'
# Never opened, whatever else is allowed (memcached over UDP: amplification). Drop rules sit in
#   the zone's deny chain, before every accept.
firewall-cmd --permanent --zone=mailwarden --add-rich-rule='rule port port="11211" protocol="udp" drop'
# ICMP: target DROP drops ICMP too. Errors keep path MTU discovery working
#   (destination-unreachable includes fragmentation-needed); echo is rate limited.
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" icmp-type name="destination-unreachable" accept' \
  --add-rich-rule='rule family="ipv4" icmp-type name="time-exceeded" accept' \
  --add-rich-rule='rule family="ipv4" icmp-type name="parameter-problem" accept' \
  --add-rich-rule='rule family="ipv4" icmp-type name="echo-request" accept limit value="10/s"'
# ICMPv6: IPv6 cannot work without packet-too-big and neighbour discovery (RFC 4890; the kernel
#   itself discards ND messages whose hop limit is not 255). firewalld has no ICMP type for MLD:
#   ICMPv6 from link-local sources to multicast addresses is accepted instead, so that MLD
#   queries keep this host's multicast groups alive on snooping switches.
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv6" icmp-type name="destination-unreachable" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="packet-too-big" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="time-exceeded" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="parameter-problem" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="router-solicitation" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="router-advertisement" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="neighbour-solicitation" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="neighbour-advertisement" accept' \
  --add-rich-rule='rule family="ipv6" source address="fe80::/10" destination address="ff00::/8" protocol value="ipv6-icmp" accept' \
  --add-rich-rule='rule family="ipv6" icmp-type name="echo-request" accept limit value="10/s"'
# Admin ports: the admin networks only. A rich rule per source network; never a plain service or
#   port, which would open them to everyone.
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" source address="198.51.100.0/28" service name="mailwarden-admin-ssh" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:ad::/120" service name="mailwarden-admin-ssh" accept' \
  --add-rich-rule='rule family="ipv4" source address="198.51.100.0/28" service name="mailwarden-admin-zimbra-admin-console-proxy" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:ad::/120" service name="mailwarden-admin-zimbra-admin-console-proxy" accept'
# Cluster ports: the other nodes of this installation only.
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-memcached" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-memcached" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-memcached" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-memcached" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-memcached" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-memcached" accept'
# Log what is about to be dropped, rate limited: priority 32767 puts the rule after every accept
#   of the zone, before its DROP target.
firewall-cmd --permanent --zone=mailwarden --add-rich-rule='rule priority="32767" log prefix="mailwarden-drop: " level="info" limit value="10/m"'

# 4. Direct rules tagged mailwarden-egress-smtp: removed (firewall-cmd prints each rule
#   shell-quoted, hence eval), then added when the policy asks.
listed=$(firewall-cmd --permanent --direct --get-all-rules)
while IFS= read -r rule; do
  if [[ $rule == *"--comment mailwarden-egress-smtp"* ]]; then eval "firewall-cmd --permanent --direct --remove-rule $rule"; fi
done <<<"$listed"

# 5. Check, load, cut over (see the CAUTION above), show the result.
firewall-cmd --check-config
firewall-cmd --reload
if [[ $(firewall-cmd --get-default-zone) != mailwarden ]]; then firewall-cmd --set-default-zone=mailwarden; fi
firewall-cmd --list-all --zone=mailwarden
echo 'mailwarden: every interface must be in zone mailwarden (interfaces and sources of another zone bypass it):' >&2
firewall-cmd --get-active-zones

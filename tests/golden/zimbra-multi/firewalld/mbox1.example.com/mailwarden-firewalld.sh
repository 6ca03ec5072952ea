#!/bin/bash
# mailwarden firewall for mbox1.example.com (zimbra, multi server, roles: mailbox)
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
#   On mbox1.example.com as the zimbra user: /opt/zimbra/libexec/zmproxyconfig -e -w -C -H
#   mbox1.example.com && zmproxyctl restart (zimbraReverseProxyAdminEnabled is FALSE by default)
#
# Listening here but closed to every other host:
#   5222/tcp xmpp-client: service 'chat' switched off in the policy
#   5223/tcp xmpp-client-tls: service 'chat' switched off in the policy
#   5269/tcp xmpp-server: service 'chat' switched off in the policy
#   7047/tcp zimbra-convertd: loopback only
#   7171/tcp zmconfigd: loopback only
#   7306/tcp mysql: loopback only
#   9443/tcp https-client-cert-backend: service 'client-cert' is off unless [services]
#     client-cert = true
#   161/udp snmp: loopback only

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

# mailwarden-cluster-lmtp: 7025/tcp (lmtp), the other nodes of this installation only (cluster
#   networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-lmtp
firewall-cmd --permanent --service=mailwarden-cluster-lmtp --set-short=lmtp
firewall-cmd --permanent --service=mailwarden-cluster-lmtp --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7025/tcp lmtp: attrs.tsv: zimbraLmtpBindPort GCV 7025; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-lmtp --add-port=7025/tcp

# mailwarden-cluster-zimbra-admin-console: 7071/tcp (zimbra-admin-console), the other nodes of
#   this installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-admin-console
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-admin-console --set-short=zimbra-admin-console
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-admin-console --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7071/tcp zimbra-admin-console: attrs.tsv: zimbraAdminPort GCV 7071 ('"'"'SSL port for admin UI'"'"'); Zimbra wiki '"'"'Ports'"'"' external and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-admin-console --add-port=7071/tcp

# mailwarden-cluster-zimbra-extension: 7072/tcp (zimbra-extension), the other nodes of this
#   installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-extension
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-extension --set-short=zimbra-extension
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-extension --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7072/tcp zimbra-extension: attrs.tsv: zimbraExtensionBindPort GCV 7072 ('"'"'HTTPs port on which zimbra extension server should listen'"'"'); Zimbra wiki '"'"'Ports'"'"' multi-server list'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-extension --add-port=7072/tcp

# mailwarden-cluster-zimbra-mta-auth: 7073/tcp (zimbra-mta-auth), the other nodes of this
#   installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-mta-auth
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-mta-auth --set-short=zimbra-mta-auth
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-mta-auth --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7073/tcp zimbra-mta-auth: attrs.tsv: zimbraMtaAuthPort GCV 7073 ('"'"'Internal port used by saslauthd to authenticate over SOAP'"'"'); Zimbra wiki '"'"'Ports'"'"' multi-server list'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-mta-auth --add-port=7073/tcp

# mailwarden-cluster-zimbra-docs-callback: 7074/tcp (zimbra-docs-callback), the other nodes of
#   this installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-docs-callback
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-docs-callback --set-short=zimbra-docs-callback
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-docs-callback --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7074/tcp zimbra-docs-callback: attrs.tsv: zimbraDocumentEditingCallbackPort GCV 7074 (since 10.0.0). Not in the guides'"'"' lists; the listening process was not verified'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-docs-callback --add-port=7074/tcp

# mailwarden-cluster-pop3-backend: 7110/tcp (pop3-backend), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-pop3-backend
firewall-cmd --permanent --service=mailwarden-cluster-pop3-backend --set-short=pop3-backend
firewall-cmd --permanent --service=mailwarden-cluster-pop3-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7110/tcp pop3-backend: attrs.tsv: zimbraPop3BindPort GCV 7110; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-pop3-backend --add-port=7110/tcp

# mailwarden-cluster-imap-backend: 7143/tcp (imap-backend), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-imap-backend
firewall-cmd --permanent --service=mailwarden-cluster-imap-backend --set-short=imap-backend
firewall-cmd --permanent --service=mailwarden-cluster-imap-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7143/tcp imap-backend: attrs.tsv: zimbraImapBindPort GCV 7143; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-imap-backend --add-port=7143/tcp

# mailwarden-cluster-zimbra-message-channel: 7285/tcp (zimbra-message-channel), the other nodes
#   of this installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-message-channel
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-message-channel --set-short=zimbra-message-channel
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-message-channel --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7285/tcp zimbra-message-channel: attrs.tsv: zimbraMessageChannelPort GCV 7285 (restart: mailbox), zimbraMessageChannelEnabled GCV FALSE. Not in the guides'"'"' lists'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-message-channel --add-port=7285/tcp

# mailwarden-cluster-zimbra-spell: 7780/tcp (zimbra-spell), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-spell
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-spell --set-short=zimbra-spell
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-spell --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7780/tcp zimbra-spell: Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists; attrs.tsv zimbraSpellCheckURL (multi, no default) holds the URL; no port attribute'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-spell --add-port=7780/tcp

# mailwarden-cluster-imaps-backend: 7993/tcp (imaps-backend), the other nodes of this
#   installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-imaps-backend
firewall-cmd --permanent --service=mailwarden-cluster-imaps-backend --set-short=imaps-backend
firewall-cmd --permanent --service=mailwarden-cluster-imaps-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7993/tcp imaps-backend: attrs.tsv: zimbraImapSSLBindPort GCV 7993; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-imaps-backend --add-port=7993/tcp

# mailwarden-cluster-pop3s-backend: 7995/tcp (pop3s-backend), the other nodes of this
#   installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-pop3s-backend
firewall-cmd --permanent --service=mailwarden-cluster-pop3s-backend --set-short=pop3s-backend
firewall-cmd --permanent --service=mailwarden-cluster-pop3s-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 7995/tcp pop3s-backend: attrs.tsv: zimbraPop3SSLBindPort GCV 7995; Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-pop3s-backend --add-port=7995/tcp

# mailwarden-cluster-http-backend: 8080/tcp (http-backend), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-http-backend
firewall-cmd --permanent --service=mailwarden-cluster-http-backend --set-short=http-backend
firewall-cmd --permanent --service=mailwarden-cluster-http-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8080/tcp http-backend: attrs.tsv: zimbraMailPort GCV 80; zmproxyconfig moves it to 8080 when the proxy is enabled. Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-http-backend --add-port=8080/tcp

# mailwarden-cluster-imap-remote: 8143/tcp (imap-remote), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-imap-remote
firewall-cmd --permanent --service=mailwarden-cluster-imap-remote --set-short=imap-remote
firewall-cmd --permanent --service=mailwarden-cluster-imap-remote --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8143/tcp imap-remote: attrs.tsv: zimbraRemoteImapBindPort GCV 8143 (since 8.8.1). Not in the guides'"'"' lists'
firewall-cmd --permanent --service=mailwarden-cluster-imap-remote --add-port=8143/tcp

# mailwarden-cluster-https-backend: 8443/tcp (https-backend), the other nodes of this
#   installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-https-backend
firewall-cmd --permanent --service=mailwarden-cluster-https-backend --set-short=https-backend
firewall-cmd --permanent --service=mailwarden-cluster-https-backend --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8443/tcp https-backend: attrs.tsv: zimbraMailSSLPort GCV 0; zmproxyconfig sets 8443 when the proxy is enabled. Zimbra wiki '"'"'Ports'"'"' internal and multi-server lists'
firewall-cmd --permanent --service=mailwarden-cluster-https-backend --add-port=8443/tcp

# mailwarden-cluster-zimbra-ne-internal-8735: 8735/tcp (zimbra-ne-internal-8735), the other
#   nodes of this installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-ne-internal-8735
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8735 --set-short=zimbra-ne-internal-8735
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8735 --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8735/tcp zimbra-ne-internal-8735: Zimbra wiki '"'"'Ports'"'"' multi-server list names it; not in attrs.tsv nor LC (no setting moves it); the shared snapshots show java listening on *:8735 but were synthesised, not captured'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8735 --add-port=8735/tcp

# mailwarden-cluster-zimbra-ne-internal-8736: 8736/tcp (zimbra-ne-internal-8736), the other
#   nodes of this installation only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-zimbra-ne-internal-8736
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8736 --set-short=zimbra-ne-internal-8736
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8736 --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8736/tcp zimbra-ne-internal-8736: Zimbra wiki '"'"'Ports'"'"' multi-server list names it; not in attrs.tsv nor LC; the shared snapshots show java listening on *:8736 but were synthesised, not captured'
firewall-cmd --permanent --service=mailwarden-cluster-zimbra-ne-internal-8736 --add-port=8736/tcp

# mailwarden-cluster-imaps-remote: 8993/tcp (imaps-remote), the other nodes of this installation
#   only (cluster networks)
firewall-cmd --permanent --new-service=mailwarden-cluster-imaps-remote
firewall-cmd --permanent --service=mailwarden-cluster-imaps-remote --set-short=imaps-remote
firewall-cmd --permanent --service=mailwarden-cluster-imaps-remote --set-description='mailwarden: open to the other nodes of this installation only (cluster networks). 8993/tcp imaps-remote: attrs.tsv: zimbraRemoteImapSSLBindPort GCV 8993 (since 8.8.1). Not in the guides'"'"' lists'
firewall-cmd --permanent --service=mailwarden-cluster-imaps-remote --add-port=8993/tcp

# 3. Zone mailwarden: drop what no rule accepts.
firewall-cmd --permanent --zone=mailwarden --set-target=DROP
firewall-cmd --permanent --zone=mailwarden --set-short=mailwarden
firewall-cmd --permanent --zone=mailwarden --set-description='Mail server firewall of mbox1.example.com from examples/zimbra-multi.toml: public mail ports open to everyone, admin and cluster ports only from their networks (rich rules), everything else dropped.'
# Loopback addresses arriving on a real interface are spoofed (firewalld accepts the loopback
#   interface itself before any zone).
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" source address="127.0.0.0/8" drop' \
  --add-rich-rule='rule family="ipv6" source address="::1" drop'
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
  --add-rich-rule='rule family="ipv6" source address="2001:db8:ad::/120" service name="mailwarden-admin-ssh" accept'
# Cluster ports: the other nodes of this installation only.
firewall-cmd --permanent --zone=mailwarden \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-lmtp" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-admin-console" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-extension" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-mta-auth" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-docs-callback" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-pop3-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-imap-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-message-channel" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-spell" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-imaps-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-pop3s-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-http-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-imap-remote" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-https-backend" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-ne-internal-8735" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-zimbra-ne-internal-8736" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.11/32" service name="mailwarden-cluster-imaps-remote" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.12/31" service name="mailwarden-cluster-imaps-remote" accept' \
  --add-rich-rule='rule family="ipv4" source address="192.0.2.14/32" service name="mailwarden-cluster-imaps-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::11/128" service name="mailwarden-cluster-imaps-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::12/127" service name="mailwarden-cluster-imaps-remote" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:c::14/128" service name="mailwarden-cluster-imaps-remote" accept'
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

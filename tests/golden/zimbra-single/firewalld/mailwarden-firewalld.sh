#!/bin/bash
# mailwarden firewall for mail.example.com (zimbra, single server)
# Generated from examples/zimbra-single.toml by `mailwarden firewall generate --backend
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
# The XML files generated beside this script (mailwarden.xml, mailwarden-*.xml, direct.xml) are
#   the same configuration as firewalld writes it, for installing by copying instead.
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
#   level info, 5/minute). firewalld's LogDenied setting is left alone: it is global to every
#   zone, has no rate limit and fixed prefixes (firewall-cmd --set-log-denied=unicast).
# NOTE: Outbound SMTP: rich rules and policies cannot match the sending user, so only a direct
#   rule (iptables OUTPUT, tagged mailwarden-egress-smtp) restricts new tcp/25 connections to
#   user 'postfix'. firewalld deprecates direct rules but still applies them; with
#   FirewallBackend=nftables a direct REJECT applies before firewalld's own rules. iptables
#   resolves the user when the rule loads: a missing user makes the reload fail. direct.xml
#   replaces /etc/firewalld/direct.xml whole: merge it by hand if the host has direct rules of
#   its own (the script adds and removes only tagged rules).
# NOTE: Admin console through the proxy on 9071 from the admin networks only; 7071 stays closed.
#   On mail.example.com as the zimbra user: /opt/zimbra/libexec/zmproxyconfig -e -w -C -H
#   mail.example.com && zmproxyctl restart (zimbraReverseProxyAdminEnabled is FALSE by default)
#
# Listening here but closed to every other host:
#   110/tcp pop3: service 'pop' switched off in the policy
#   389/tcp ldap: loopback only
#   514/tcp syslog-tcp: loopback only
#   636/tcp ldaps: loopback only
#   995/tcp pop3s: service 'pop' switched off in the policy
#   3310/tcp clamd: loopback only
#   3443/tcp https-client-cert: service 'client-cert' is off unless [services] client-cert =
#     true
#   5222/tcp xmpp-client: service 'chat' switched off in the policy
#   5223/tcp xmpp-client-tls: service 'chat' switched off in the policy
#   5269/tcp xmpp-server: service 'chat' switched off in the policy
#   7025/tcp lmtp: loopback only
#   7026/tcp zimbra-milter: loopback only
#   7047/tcp zimbra-convertd: loopback only
#   7071/tcp zimbra-admin-console: admin console mode 'proxy-9071'
#   7072/tcp zimbra-extension: loopback only
#   7073/tcp zimbra-mta-auth: loopback only
#   7074/tcp zimbra-docs-callback: loopback only
#   7110/tcp pop3-backend: service 'pop' switched off in the policy
#   7143/tcp imap-backend: loopback only
#   7171/tcp zmconfigd: loopback only
#   7285/tcp zimbra-message-channel: loopback only
#   7306/tcp mysql: loopback only
#   7780/tcp zimbra-spell: loopback only
#   7993/tcp imaps-backend: loopback only
#   7995/tcp pop3s-backend: service 'pop' switched off in the policy
#   8080/tcp http-backend: loopback only
#   8143/tcp imap-remote: loopback only
#   8443/tcp https-backend: loopback only
#   8465/tcp opendkim: loopback only
#   8735/tcp zimbra-ne-internal-8735: loopback only
#   8736/tcp zimbra-ne-internal-8736: loopback only
#   8993/tcp imaps-remote: loopback only
#   9443/tcp https-client-cert-backend: service 'client-cert' is off unless [services]
#     client-cert = true
#   10024/tcp amavisd: loopback only
#   10025/tcp postfix-reinject-amavis: loopback only
#   10026/tcp amavisd-originating: loopback only
#   10027/tcp postjournal: loopback only
#   10028/tcp postfix-reinject: loopback only
#   10029/tcp postfix-archive: loopback only
#   10030/tcp postfix-dkimmilter: loopback only
#   10031/tcp cbpolicyd: loopback only
#   10032/tcp amavisd-originating-post: loopback only
#   10663/tcp zmrrdfetch: loopback only
#   11211/tcp memcached: loopback only
#   23232/tcp amavis-zmq-forwarder: loopback only
#   23233/tcp amavis-zmq-snmp: loopback only
#   161/udp snmp: loopback only
#   514/udp syslog: loopback only
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
firewall-cmd --permanent --service=mailwarden-admin-ssh --set-description='mailwarden: open to the admin networks only. 22/tcp ssh: policy [ssh] (examples/zimbra-single.toml)'
firewall-cmd --permanent --service=mailwarden-admin-ssh --add-port=22/tcp

# mailwarden-public-smtp: 25/tcp (smtp), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-smtp
firewall-cmd --permanent --service=mailwarden-public-smtp --set-short=smtp
firewall-cmd --permanent --service=mailwarden-public-smtp --set-description='mailwarden: open to every address, IPv4 and IPv6. 25/tcp smtp: master.cf.in '"'"'smtp inet ... postscreen'"'"'; Zimbra wiki '"'"'Ports'"'"' external list. (zimbraSmtpPort GCV 25 is the port mailboxd sends to, not a listener setting)'
firewall-cmd --permanent --service=mailwarden-public-smtp --add-port=25/tcp

# mailwarden-public-http: 80/tcp (http), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-http
firewall-cmd --permanent --service=mailwarden-public-http --set-short=http
firewall-cmd --permanent --service=mailwarden-public-http --set-description='mailwarden: open to every address, IPv4 and IPv6. 80/tcp http: attrs.tsv: zimbraMailProxyPort GCV 0 and zimbraMailPort GCV 80; zmproxyconfig sets zimbraMailProxyPort 80 and moves mailboxd to 8080 when the proxy is enabled. Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-http --add-port=80/tcp

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

# mailwarden-public-smtps: 465/tcp (smtps), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-smtps
firewall-cmd --permanent --service=mailwarden-public-smtps --set-short=smtps
firewall-cmd --permanent --service=mailwarden-public-smtps --set-description='mailwarden: open to every address, IPv4 and IPv6. 465/tcp smtps: master.cf.in '"'"'465 inet ... -o smtpd_tls_wrappermode=yes'"'"'; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-smtps --add-port=465/tcp

# mailwarden-public-submission: 587/tcp (submission), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-submission
firewall-cmd --permanent --service=mailwarden-public-submission --set-short=submission
firewall-cmd --permanent --service=mailwarden-public-submission --set-description='mailwarden: open to every address, IPv4 and IPv6. 587/tcp submission: master.cf.in '"'"'submission inet ... smtpd_client_restrictions=permit_sasl_authenticated,reject'"'"'; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-submission --add-port=587/tcp

# mailwarden-public-imaps: 993/tcp (imaps), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-short=imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-description='mailwarden: open to every address, IPv4 and IPv6. 993/tcp imaps: attrs.tsv: zimbraImapSSLProxyBindPort GCV 993; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-public-imaps --add-port=993/tcp

# mailwarden-admin-zimbra-admin-console-proxy: 9071/tcp (zimbra-admin-console-proxy), the admin
#   networks only
firewall-cmd --permanent --new-service=mailwarden-admin-zimbra-admin-console-proxy
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --set-short=zimbra-admin-console-proxy
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --set-description='mailwarden: open to the admin networks only. 9071/tcp zimbra-admin-console-proxy: attrs.tsv: zimbraAdminProxyPort GCV 9071, zimbraReverseProxyAdminEnabled GCV FALSE; Zimbra wiki '"'"'Ports'"'"' external list'
firewall-cmd --permanent --service=mailwarden-admin-zimbra-admin-console-proxy --add-port=9071/tcp

# 3. Zone mailwarden: drop what no rule accepts.
firewall-cmd --permanent --zone=mailwarden --set-target=DROP
firewall-cmd --permanent --zone=mailwarden --set-short=mailwarden
firewall-cmd --permanent --zone=mailwarden --set-description='Mail server firewall of mail.example.com from examples/zimbra-single.toml: public mail ports open to everyone, admin and cluster ports only from their networks (rich rules), everything else dropped.'
# Public ports: everyone, IPv4 and IPv6.
firewall-cmd --permanent --zone=mailwarden \
  --add-service=mailwarden-public-smtp \
  --add-service=mailwarden-public-http \
  --add-service=mailwarden-public-imap \
  --add-service=mailwarden-public-https \
  --add-service=mailwarden-public-smtps \
  --add-service=mailwarden-public-submission \
  --add-service=mailwarden-public-imaps
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
# Log what is about to be dropped, rate limited: priority 32767 puts the rule after every accept
#   of the zone, before its DROP target.
firewall-cmd --permanent --zone=mailwarden --add-rich-rule='rule priority="32767" log prefix="mailwarden-drop: " level="info" limit value="5/m"'

# 4. Direct rules tagged mailwarden-egress-smtp: removed (firewall-cmd prints each rule
#   shell-quoted, hence eval), then added when the policy asks.
listed=$(firewall-cmd --permanent --direct --get-all-rules)
while IFS= read -r rule; do
  if [[ $rule == *"--comment mailwarden-egress-smtp"* ]]; then eval "firewall-cmd --permanent --direct --remove-rule $rule"; fi
done <<<"$listed"
# Only the MTA's user may open outbound SMTP: a web shell or a compromised webmail cannot send
#   around the MTA's rate limits.
firewall-cmd --permanent --direct --add-rule ipv4 filter OUTPUT 0 '!' -o lo -p tcp --dport 25 -m conntrack --ctstate NEW -m owner '!' --uid-owner postfix -m comment --comment mailwarden-egress-smtp -j REJECT --reject-with tcp-reset
firewall-cmd --permanent --direct --add-rule ipv6 filter OUTPUT 0 '!' -o lo -p tcp --dport 25 -m conntrack --ctstate NEW -m owner '!' --uid-owner postfix -m comment --comment mailwarden-egress-smtp -j REJECT --reject-with tcp-reset

# 5. Check, load, cut over (see the CAUTION above), show the result.
firewall-cmd --check-config
firewall-cmd --reload
if [[ $(firewall-cmd --get-default-zone) != mailwarden ]]; then firewall-cmd --set-default-zone=mailwarden; fi
firewall-cmd --list-all --zone=mailwarden
echo 'mailwarden: every interface must be in zone mailwarden (interfaces and sources of another zone bypass it):' >&2
firewall-cmd --get-active-zones

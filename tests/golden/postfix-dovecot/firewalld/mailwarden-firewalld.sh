#!/bin/bash
# mailwarden firewall for mx.example.org (postfix-dovecot, single server)
# Generated from examples/postfix-dovecot.toml by `mailwarden firewall generate --backend
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
# NOTE: Drop logging is off in the policy: no log rule; firewalld's LogDenied is left alone.
# NOTE: Outbound SMTP: rich rules and policies cannot match the sending user, so only a direct
#   rule (iptables OUTPUT, tagged mailwarden-egress-smtp) restricts new tcp/25 connections to
#   user 'postfix'. firewalld deprecates direct rules but still applies them; with
#   FirewallBackend=nftables a direct REJECT applies before firewalld's own rules. iptables
#   resolves the user when the rule loads: a missing user makes the reload fail. direct.xml
#   replaces /etc/firewalld/direct.xml whole: merge it by hand if the host has direct rules of
#   its own (the script adds and removes only tagged rules).
#
# Listening here but closed to every other host:
#   24/tcp lmtp: loopback only
#   110/tcp pop3: service 'pop' switched off in the policy
#   389/tcp ldap: loopback only
#   783/tcp spamd: loopback only
#   995/tcp pop3s: service 'pop' switched off in the policy
#   3306/tcp mysql: loopback only
#   3310/tcp clamd: loopback only
#   5432/tcp postgresql: loopback only
#   6379/tcp redis: loopback only
#   8891/tcp opendkim: loopback only
#   8893/tcp opendmarc: loopback only
#   10023/tcp postgrey: loopback only
#   10024/tcp amavisd: loopback only
#   10025/tcp postfix-reinject: loopback only
#   10031/tcp policyd: loopback only
#   11332/tcp rspamd-proxy: loopback only
#   11333/tcp rspamd-normal: loopback only
#   11334/tcp rspamd-controller: loopback only
#   12345/tcp doveadm: loopback only
#   12525/tcp policyd-weight: loopback only

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

# mailwarden-public-smtp: 25/tcp (smtp), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-smtp
firewall-cmd --permanent --service=mailwarden-public-smtp --set-short=smtp
firewall-cmd --permanent --service=mailwarden-public-smtp --set-description='mailwarden: open to every address, IPv4 and IPv6. 25/tcp smtp: RFC 5321; Debian postfix master.cf '"'"'smtp inet n - y - - smtpd'"'"''
firewall-cmd --permanent --service=mailwarden-public-smtp --add-port=25/tcp

# mailwarden-public-http: 80/tcp (http), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-http
firewall-cmd --permanent --service=mailwarden-public-http --set-short=http
firewall-cmd --permanent --service=mailwarden-public-http --set-description='mailwarden: open to every address, IPv4 and IPv6. 80/tcp http: RFC 9110; webmail installs serve it from the IMAP host'
firewall-cmd --permanent --service=mailwarden-public-http --add-port=80/tcp

# mailwarden-public-imap: 143/tcp (imap), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-imap
firewall-cmd --permanent --service=mailwarden-public-imap --set-short=imap
firewall-cmd --permanent --service=mailwarden-public-imap --set-description='mailwarden: open to every address, IPv4 and IPv6. 143/tcp imap: RFC 9051; Dovecot 10-master.conf default'
firewall-cmd --permanent --service=mailwarden-public-imap --add-port=143/tcp

# mailwarden-public-https: 443/tcp (https), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-https
firewall-cmd --permanent --service=mailwarden-public-https --set-short=https
firewall-cmd --permanent --service=mailwarden-public-https --set-description='mailwarden: open to every address, IPv4 and IPv6. 443/tcp https: RFC 9110'
firewall-cmd --permanent --service=mailwarden-public-https --add-port=443/tcp

# mailwarden-public-submissions: 465/tcp (submissions), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-submissions
firewall-cmd --permanent --service=mailwarden-public-submissions --set-short=submissions
firewall-cmd --permanent --service=mailwarden-public-submissions --set-description='mailwarden: open to every address, IPv4 and IPv6. 465/tcp submissions: RFC 8314 section 3.3 (submissions 465, preferred over STARTTLS); Debian master.cf ships it commented out'
firewall-cmd --permanent --service=mailwarden-public-submissions --add-port=465/tcp

# mailwarden-public-submission: 587/tcp (submission), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-submission
firewall-cmd --permanent --service=mailwarden-public-submission --set-short=submission
firewall-cmd --permanent --service=mailwarden-public-submission --set-description='mailwarden: open to every address, IPv4 and IPv6. 587/tcp submission: RFC 6409; Debian master.cf ships it commented out'
firewall-cmd --permanent --service=mailwarden-public-submission --add-port=587/tcp

# mailwarden-public-imaps: 993/tcp (imaps), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-short=imaps
firewall-cmd --permanent --service=mailwarden-public-imaps --set-description='mailwarden: open to every address, IPv4 and IPv6. 993/tcp imaps: RFC 8314; Dovecot 10-master.conf default'
firewall-cmd --permanent --service=mailwarden-public-imaps --add-port=993/tcp

# mailwarden-admin-ssh: 2222/tcp (ssh), the admin networks only
firewall-cmd --permanent --new-service=mailwarden-admin-ssh
firewall-cmd --permanent --service=mailwarden-admin-ssh --set-short=ssh
firewall-cmd --permanent --service=mailwarden-admin-ssh --set-description='mailwarden: open to the admin networks only. 2222/tcp ssh: policy [ssh] (examples/postfix-dovecot.toml)'
firewall-cmd --permanent --service=mailwarden-admin-ssh --add-port=2222/tcp

# mailwarden-public-managesieve: 4190/tcp (managesieve), every address, IPv4 and IPv6
firewall-cmd --permanent --new-service=mailwarden-public-managesieve
firewall-cmd --permanent --service=mailwarden-public-managesieve --set-short=managesieve
firewall-cmd --permanent --service=mailwarden-public-managesieve --set-description='mailwarden: open to every address, IPv4 and IPv6. 4190/tcp managesieve: RFC 5804 (IANA sieve 4190); Debian dovecot-managesieved 20-managesieve.conf'
firewall-cmd --permanent --service=mailwarden-public-managesieve --add-port=4190/tcp

# mailwarden-admin-prometheus-node-exporter: 9100/tcp (prometheus node exporter), the admin
#   networks only
firewall-cmd --permanent --new-service=mailwarden-admin-prometheus-node-exporter
firewall-cmd --permanent --service=mailwarden-admin-prometheus-node-exporter --set-short='prometheus node exporter'
firewall-cmd --permanent --service=mailwarden-admin-prometheus-node-exporter --set-description='mailwarden: open to the admin networks only. 9100/tcp prometheus node exporter: policy extra port (examples/postfix-dovecot.toml:19:1)'
firewall-cmd --permanent --service=mailwarden-admin-prometheus-node-exporter --add-port=9100/tcp

# 3. Zone mailwarden: drop what no rule accepts.
firewall-cmd --permanent --zone=mailwarden --set-target=DROP
firewall-cmd --permanent --zone=mailwarden --set-short=mailwarden
firewall-cmd --permanent --zone=mailwarden --set-description='Mail server firewall of mx.example.org from examples/postfix-dovecot.toml: public mail ports open to everyone, admin and cluster ports only from their networks (rich rules), everything else dropped.'
# Public ports: everyone, IPv4 and IPv6.
firewall-cmd --permanent --zone=mailwarden \
  --add-service=mailwarden-public-smtp \
  --add-service=mailwarden-public-http \
  --add-service=mailwarden-public-imap \
  --add-service=mailwarden-public-https \
  --add-service=mailwarden-public-submissions \
  --add-service=mailwarden-public-submission \
  --add-service=mailwarden-public-imaps \
  --add-service=mailwarden-public-managesieve
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
  --add-rich-rule='rule family="ipv4" source address="203.0.113.5/32" service name="mailwarden-admin-ssh" accept' \
  --add-rich-rule='rule family="ipv4" source address="203.0.113.6/32" service name="mailwarden-admin-ssh" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:1::/64" service name="mailwarden-admin-ssh" accept' \
  --add-rich-rule='rule family="ipv4" source address="203.0.113.5/32" service name="mailwarden-admin-prometheus-node-exporter" accept' \
  --add-rich-rule='rule family="ipv4" source address="203.0.113.6/32" service name="mailwarden-admin-prometheus-node-exporter" accept' \
  --add-rich-rule='rule family="ipv6" source address="2001:db8:1::/64" service name="mailwarden-admin-prometheus-node-exporter" accept'

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

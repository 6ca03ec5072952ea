#!/bin/sh
# mailwarden ufw commands for mail.example.com (zimbra, single server)
# Generated from examples/zimbra-single.toml by `mailwarden firewall generate --backend ufw`.
# Do not edit: change the policy and generate again.
# Before running (as root): install -m 0644 mailwarden /etc/ufw/applications.d/mailwarden
# For a host whose ufw has no rules of its own: these commands add rules and remove none, and
#   ufw evaluates rules in the order they were added. To apply a changed policy, start again
#   from `ufw --force reset` (which also restores ufw's stock before.rules); profiles whose
#   ports changed are refreshed by `ufw app update` below.
#
# Already done by ufw's stock /etc/ufw/before.rules and before6.rules, so not repeated here:
#   loopback accepted, established/related accepted, invalid dropped; ICMP
#   destination-unreachable, time-exceeded, parameter-problem and echo-request accepted (echo is
#   not rate limited); ICMPv6 errors including packet-too-big, echo, neighbour and router
#   discovery (hop limit 255) and MLD from fe80::/10 accepted (RFC 4890). They also accept DHCP
#   client replies, mDNS (224.0.0.251, ff02::fb) and SSDP multicast.
#
# Not covered by these commands:
# - spoofed loopback sources and new TCP connections without SYN are not dropped explicitly, as
#   nothing in ufw's command syntax expresses them: mailwarden-before.rules and
#   mailwarden-before6.rules do, pasted into before.rules and before6.rules by hand.
# - OUTBOUND SMTP IS NOT RESTRICTED by this script: only the MTA's user (postfix) should open
#   tcp/25, which needs iptables' owner match, which ufw rules cannot use. The rule is in
#   mailwarden-before.rules and mailwarden-before6.rules: paste them by hand.
# - drop logging is ufw's own (`ufw logging low`: prefix "[UFW BLOCK] ", 3/minute, burst 10),
#   not the policy's rate (5/minute) and prefix ("mailwarden-drop: ").
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

set -e

# Refuse to start half-way: without IPv6 in ufw, ip6tables is left open, and a missing profile
#   would stop the script after the default policy changed.
grep -Eiq '^IPV6="?yes"?[[:space:]]*$' /etc/default/ufw || { echo "$0: set IPV6=yes in /etc/default/ufw: IPv6 would not be filtered" >&2; exit 1; }
ufw app info 'mailwarden-public-tcp' >/dev/null
ufw app info 'mailwarden-admin-tcp' >/dev/null

ufw default deny incoming
ufw default allow outgoing

# Never opened (memcached UDP: amplification). The default policy drops it anyway; this first
#   rule says so in `ufw status`.
ufw deny 11211/udp

# SSH, by port: it must never depend on the profile file.
ufw allow from 198.51.100.0/28 to any port 22 proto tcp
ufw allow from 2001:db8:ad::/120 to any port 22 proto tcp

# Public profiles: everyone, IPv4 and IPv6.
ufw allow 'mailwarden-public-tcp'
# Admin profiles: the admin networks only.
ufw allow from 198.51.100.0/28 to any app 'mailwarden-admin-tcp'
ufw allow from 2001:db8:ad::/120 to any app 'mailwarden-admin-tcp'

ufw app update 'mailwarden-public-tcp'
ufw app update 'mailwarden-admin-tcp'
ufw logging low
ufw --force enable
ufw status verbose

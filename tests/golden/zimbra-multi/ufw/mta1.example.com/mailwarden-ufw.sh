#!/bin/sh
# mailwarden ufw commands for mta1.example.com (zimbra, multi server, roles: mta)
# Generated from examples/zimbra-multi.toml by `mailwarden firewall generate --backend ufw`.
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
# - drop logging is ufw's own (`ufw logging low`: prefix "[UFW BLOCK] ", 3/minute, burst 10),
#   not the policy's rate (10/minute) and prefix ("mailwarden-drop: ").
# NOTE: Admin console through the proxy on 9071 from the admin networks only; 7071 stays closed.
#   On mta1.example.com as the zimbra user: /opt/zimbra/libexec/zmproxyconfig -e -w -C -H
#   mta1.example.com && zmproxyctl restart (zimbraReverseProxyAdminEnabled is FALSE by default)
#
# Listening here but closed to every other host:
#   3310/tcp clamd: loopback only
#   7026/tcp zimbra-milter: loopback only
#   7171/tcp zmconfigd: loopback only
#   8465/tcp opendkim: loopback only
#   10024/tcp amavisd: loopback only
#   10025/tcp postfix-reinject-amavis: loopback only
#   10026/tcp amavisd-originating: loopback only
#   10027/tcp postjournal: loopback only
#   10028/tcp postfix-reinject: loopback only
#   10029/tcp postfix-archive: loopback only
#   10030/tcp postfix-dkimmilter: loopback only
#   10031/tcp cbpolicyd: loopback only
#   10032/tcp amavisd-originating-post: loopback only
#   23232/tcp amavis-zmq-forwarder: loopback only
#   23233/tcp amavis-zmq-snmp: loopback only
#   161/udp snmp: loopback only

set -e

# Refuse to start half-way: without IPv6 in ufw, ip6tables is left open, and a missing profile
#   would stop the script after the default policy changed.
grep -Eiq '^IPV6="?yes"?[[:space:]]*$' /etc/default/ufw || { echo "$0: set IPV6=yes in /etc/default/ufw: IPv6 would not be filtered" >&2; exit 1; }
ufw app info 'mailwarden-public-tcp' >/dev/null

ufw default deny incoming
ufw default allow outgoing

# SSH, by port: it must never depend on the profile file.
ufw allow from 198.51.100.0/28 to any port 22 proto tcp
ufw allow from 2001:db8:ad::/120 to any port 22 proto tcp
ufw allow from 192.0.2.11/32 to any port 22 proto tcp
ufw allow from 192.0.2.12/31 to any port 22 proto tcp
ufw allow from 192.0.2.14/32 to any port 22 proto tcp
ufw allow from 2001:db8:c::11/128 to any port 22 proto tcp
ufw allow from 2001:db8:c::12/127 to any port 22 proto tcp
ufw allow from 2001:db8:c::14/128 to any port 22 proto tcp

# Public profiles: everyone, IPv4 and IPv6.
ufw allow 'mailwarden-public-tcp'

ufw app update 'mailwarden-public-tcp'
ufw logging low
ufw --force enable
ufw status verbose

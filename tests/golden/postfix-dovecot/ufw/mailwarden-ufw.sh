#!/bin/sh
# mailwarden ufw commands for mx.example.org (postfix-dovecot, single server)
# Generated from examples/postfix-dovecot.toml by `mailwarden firewall generate --backend ufw`.
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

set -e

# Refuse to start half-way: without IPv6 in ufw, ip6tables is left open, and a missing profile
#   would stop the script after the default policy changed.
grep -Eiq '^IPV6="?yes"?[[:space:]]*$' /etc/default/ufw || { echo "$0: set IPV6=yes in /etc/default/ufw: IPv6 would not be filtered" >&2; exit 1; }
ufw app info 'mailwarden-public-tcp' >/dev/null
ufw app info 'mailwarden-admin-tcp' >/dev/null

ufw default deny incoming
ufw default allow outgoing

# SSH, by port: it must never depend on the profile file.
ufw allow from 203.0.113.5/32 to any port 2222 proto tcp
ufw allow from 203.0.113.6/32 to any port 2222 proto tcp
ufw allow from 2001:db8:1::/64 to any port 2222 proto tcp

# Public profiles: everyone, IPv4 and IPv6.
ufw allow 'mailwarden-public-tcp'
# Admin profiles: the admin networks only.
ufw allow from 203.0.113.5/32 to any app 'mailwarden-admin-tcp'
ufw allow from 203.0.113.6/32 to any app 'mailwarden-admin-tcp'
ufw allow from 2001:db8:1::/64 to any app 'mailwarden-admin-tcp'

ufw app update 'mailwarden-public-tcp'
ufw app update 'mailwarden-admin-tcp'
ufw logging off
ufw --force enable
ufw status verbose

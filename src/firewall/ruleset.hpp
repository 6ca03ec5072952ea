// The analysis model of a live firewall: iptables-save text and `nft -j` JSON both parse into
// this one form (tables of chains of rules: a conjunction of matches and a verdict), which the
// exposure analyser walks to say who reaches which port.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/address_set.hpp"
#include "core/port_set.hpp"

namespace mw::fw {

// Netfilter hooks a NEW inbound connection meets, in order, plus the output hook its reply
// (SYN-ACK) leaves through.
enum class Hook : std::uint8_t { ingress, prerouting, input, output, forward, postrouting };

// Where a table came from: its dump format and, for iptables, which table (raw, mangle, nat,
// filter). iptables-nft tables also appear in `nft -j` output (as ip/ip6 tables named filter,
// nat... whose rules carry xt expressions): `origin` tells the analyser not to count them twice.
enum class TableOrigin : std::uint8_t { iptables_save, nft_json };

// nft table families; iptables-save gives ip (iptables-save) or ip6 (ip6tables-save).
enum class TableFamily : std::uint8_t { ip, ip6, inet, arp, bridge, netdev };

// Connection-tracking states as a bit set (conntrack --ctstate, nft ct state).
enum CtState : std::uint8_t {
  kCtNew = 1,
  kCtEstablished = 2,
  kCtRelated = 4,
  kCtInvalid = 8,
  kCtUntracked = 16,
};

// The input interface condition of a rule (-i / iifname / iif).
struct IfaceMatch {
  std::vector<std::string> names;  // exact names, or with a trailing '+' (iptables) / '*' (nft)
                                   // as a prefix wildcard; stored with '+' for both
  bool negate = false;
};

// One rule's conditions: every present member must hold (conjunction). Absent = any. Negations
// the dump writes (`! -s`, `!=`) are folded in by the parser (complement of the set), so the
// analyser never sees a negation except for interfaces.
struct Match {
  // Address family the rule applies to within an inet table (`ip saddr` implies v4); absent =
  // both. iptables-save tables are single-family and leave this absent.
  std::optional<Family> family;
  std::optional<AddressSet> src;  // in the whole space of both families
  std::optional<AddressSet> dst;
  // Layer-4 protocol numbers matched (6 tcp, 17 udp, 1 icmp, 58 ipv6-icmp, ...), negation folded.
  std::optional<std::bitset<256>> l4proto;
  std::optional<PortSet> dport;  // only meaningful with tcp/udp/sctp/dccp
  std::optional<PortSet> sport;
  std::optional<IfaceMatch> iif;
  std::optional<IfaceMatch> oif;
  std::optional<std::uint8_t> ct_state;  // CtState bits matched
  // TCP flag tests, decided by the parser for the packet the analysis follows (a SYN without
  // ACK): true = a SYN satisfies every flag test of the rule, false = it satisfies none.
  std::optional<bool> tcp_syn_matches;
  // Address-type tests (-m addrtype, nft fib ... type): the types named ("LOCAL", "UNICAST",
  // "BROADCAST", "MULTICAST", "ANYCAST"...); the analyser knows the inbound packet goes to a
  // local unicast address from a remote unicast one (and the reply the other way).
  struct AddrType {
    std::vector<std::string> types;  // upper case, as iptables writes them
    bool negate = false;
  };
  std::optional<AddrType> src_type;
  std::optional<AddrType> dst_type;
  // The rule needs an IPv6 extension header (-m rt, -m frag, -m hbh, -m dst, nft exthdr): a
  // first SYN or datagram carries none, so the rule never matches it.
  bool needs_ipv6_extension_header = false;
  // ct status dnat (firewalld accepts what its own DNAT rules translated): true = matches
  // packets whose destination was translated, false = matches the others.
  std::optional<bool> ct_status_dnat;
  // ICMP type tests: the analysis is about TCP and UDP ports, so a rule with an ICMP type test
  // never matches them; kept to print.
  bool icmp_type_test = false;
  // Matches the model does not understand (recent, hashlimit, string, ct count, meta mark,
  // time, xt compat without arguments...): the rule's answer becomes uncertain for the packets
  // the known matches select. Each entry names the match as written ("-m recent --update").
  std::vector<std::string> unknown;
  // Matches that never change the verdict of a first SYN (limit on a LOG rule, comment,
  // counter) are dropped by the parser.
};

enum class Verdict : std::uint8_t {
  none,  // no verdict (LOG, counter, mark...): go on with the next rule
  accept,
  drop,
  reject,
  jump,      // to `target`, come back at RETURN or the chain's end
  goto_,     // to `target`, do not come back here
  return_,   // back to the caller, or the base chain's policy
  notrack,   // raw CT --notrack / nft notrack: untracked from here on, continue
  redirect,  // nat REDIRECT / DNAT to this host: the destination port becomes `to_port`
  unknown,   // a target the model does not know (queue, TPROXY...): uncertain
};

struct Rule {
  Match match;
  Verdict verdict = Verdict::none;
  std::string target;                    // jump/goto chain, or the unknown target's name
  std::optional<std::uint16_t> to_port;  // redirect/DNAT destination port (single port only)
  std::string origin;  // "rules.v4:17" (file:line) or "nft.json: handle 42" for messages
  std::string text;    // the rule as written, for reports
};

// A base chain is attached to a hook: it has a priority and a policy. Regular chains are only
// reached by jump/goto.
struct BaseChain {
  Hook hook = Hook::input;
  int priority = 0;  // iptables' tables map to their fixed priorities (raw -300, mangle -150,
                     // nat dstnat -100, filter 0)
  Verdict policy = Verdict::accept;  // accept or drop
  std::string type;                  // "filter", "nat", "route"; iptables: the table name
};

struct Chain {
  std::string name;
  std::optional<BaseChain> base;
  std::vector<Rule> rules;
  std::string origin;  // where it is declared
};

struct Table {
  TableOrigin origin = TableOrigin::iptables_save;
  TableFamily family = TableFamily::ip;
  std::string name;    // "filter", "nat", "mailwarden", "firewalld"...
  std::string source;  // the file it came from
  std::vector<Chain> chains;
  // nft: the table carries xt expressions (written by iptables-nft): its rules are opaque in
  // JSON and the same table should be read from the iptables-nft-save dump when given.
  bool iptables_nft_compat = false;

  const Chain* find(std::string_view chain) const;
};

// Everything loaded for one host: several dumps may be combined (iptables-save + ip6tables-save
// + nft -j). The analyser merges them, preferring iptables-save over xt-compat nft tables.
struct Ruleset {
  std::vector<Table> tables;
  std::vector<std::string> warnings;  // positioned, for the operator
};

}  // namespace mw::fw

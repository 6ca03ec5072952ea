// `nft -j list ruleset` reader: each construct on hand-written snippets shaped like real nft
// 1.0.6 output, positioned errors, and every real dump of tests/data/rulesets read in full.
#include "firewall/nft_json_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mw::fw {
namespace {

std::bitset<256> protos(std::initializer_list<int> ps) {
  std::bitset<256> b;
  for (int p : ps) b.set(static_cast<std::size_t>(p));
  return b;
}

AddressSet addrs(std::initializer_list<const char*> prefixes) {
  AddressSet s;
  for (const char* p : prefixes) {
    auto r = parse_prefix(p);
    EXPECT_TRUE(r.ok()) << p;
    if (r.ok()) s.add(*r);
  }
  return s;
}

PortSet ports(std::initializer_list<std::pair<int, int>> ranges) {
  PortSet s;
  for (auto [lo, hi] : ranges)
    s.add(static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi));
  return s;
}

// One table "t" of FAMILY with the named SETS (JSON objects, each followed by a comma), a base
// chain "input", a regular chain "other", and one rule in "input" made of EXPRS.
std::string one_rule(std::string_view family, std::string_view sets, std::string_view exprs) {
  const std::string f(family);
  std::string sets_text(sets);
  for (std::size_t p; (p = sets_text.find("FAM")) != std::string::npos;) sets_text.replace(p, 3, f);
  return R"({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
{"table": {"family": ")" +
         f + R"(", "name": "t", "handle": 1}},
)" + sets_text +
         R"(
{"chain": {"family": ")" +
         f +
         R"(", "table": "t", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
{"chain": {"family": ")" +
         f + R"(", "table": "t", "name": "other", "handle": 2}},
{"rule": {"family": ")" +
         f + R"(", "table": "t", "chain": "input", "handle": 7, "expr": [)" + std::string(exprs) +
         "]}}]}";
}

std::vector<Rule> rules_of(const std::string& json) {
  auto r = parse_nft_json(json, "t.json");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << json;
  if (!r.ok() || r->empty() || r->at(0).chains.empty()) return {};
  return r->at(0).chains[0].rules;
}

constexpr const char* kAccept = R"({"accept": null})";
std::string tcp_dport(std::string_view right, std::string_view op = "==") {
  return R"({"match": {"op": ")" + std::string(op) +
         R"(", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": )" +
         std::string(right) + "}}";
}
std::string ip_saddr(std::string_view right,
                     std::string_view op = "==", std::string_view proto = "ip") {
  return R"({"match": {"op": ")" + std::string(op) + R"(", "left": {"payload": {"protocol": ")" +
         std::string(proto) + R"(", "field": "saddr"}}, "right": )" + std::string(right) + "}}";
}
std::string ct_state(std::string_view right, std::string_view op = "in") {
  return R"({"match": {"op": ")" + std::string(op) +
         R"(", "left": {"ct": {"key": "state"}}, "right": )" + std::string(right) + "}}";
}
std::string tcp_flags(std::string_view left_mask, std::string_view right, std::string_view op) {
  const std::string flags = R"({"payload": {"protocol": "tcp", "field": "flags"}})";
  const std::string left =
      left_mask.empty() ? flags : R"({"&": [)" + flags + ", " + std::string(left_mask) + "]}";
  return R"({"match": {"op": ")" + std::string(op) + R"(", "left": )" + left + R"(, "right": )" +
         std::string(right) + "}}";
}
std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

struct Case {
  const char* name;
  std::string family;
  std::string sets;
  std::string exprs;
  std::function<void(const std::vector<Rule>&)> check;
};

const char* kAdminSet =
    R"({"set": {"family": "FAM", "name": "admin", "table": "t", "type": "ipv4_addr",
  "handle": 3, "flags": ["interval"], "elem": [{"prefix": {"addr": "198.51.100.0", "len": 24}},
  {"range": ["203.0.113.10", "203.0.113.20"]}, "192.0.2.7", {"elem": {"val": "192.0.2.9", "comment": "x"}}]}},)";
const char* kPortSet =
    R"({"set": {"family": "FAM", "name": "web", "table": "t", "type": "inet_service",
  "handle": 4, "flags": ["interval"], "elem": [80, 443, {"range": [8000, 8080]}]}},)";
const char* kVmap = R"({"map": {"family": "FAM", "name": "vm", "table": "t", "type": "inet_service",
  "handle": 5, "map": "verdict", "elem": [[22, {"accept": null}], [{"range": [6000, 6010]}, {"jump": {"target": "other"}}]]}},)";

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"single tcp dport accept", "inet", "", join({tcp_dport("7071"), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.dport, ports({{7071, 7071}}));
                 EXPECT_EQ(r[0].match.l4proto, protos({6}));
                 EXPECT_FALSE(r[0].match.family);
                 EXPECT_EQ(r[0].verdict, Verdict::accept);
                 EXPECT_EQ(r[0].text, "tcp dport 7071 accept");
                 EXPECT_EQ(r[0].origin, "t.json: table inet t chain input handle 7");
                 EXPECT_TRUE(r[0].match.unknown.empty());
               }});
  c.push_back({"anonymous port set with range", "inet", "",
               join({tcp_dport(R"({"set": [22, 53, {"range": [123, 125]}, 443]})"), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.dport, ports({{22, 22}, {53, 53}, {123, 125}, {443, 443}}));
               }});
  c.push_back({"negated port set", "inet", "",
               join({tcp_dport(R"({"set": [22, 80]})", "!="), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.dport, PortSet::all().subtract(ports({{22, 22}, {80, 80}})));
                 EXPECT_EQ(r[0].match.l4proto, protos({6}));
               }});
  c.push_back({"port comparison", "inet", "", join({tcp_dport("1024", "<"), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.dport, ports({{0, 1023}}));
               }});
  c.push_back({"named port set with interval", "inet", kPortSet,
               join({tcp_dport(R"("@web")"), kAccept}), [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.dport, ports({{80, 80}, {443, 443}, {8000, 8080}}));
               }});
  c.push_back({"named address set: prefix, range, host, elem wrapper", "inet", kAdminSet,
               join({ip_saddr(R"("@admin")"), kAccept}), [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.family, Family::v4);
                 EXPECT_EQ(r[0].match.src,
                           addrs({"198.51.100.0/24", "203.0.113.10/31", "203.0.113.12/30",
                                  "203.0.113.16/30", "203.0.113.20/32", "192.0.2.7", "192.0.2.9"}));
               }});
  c.push_back({"negated named set folds to the IPv4 complement", "inet", kAdminSet,
               join({ip_saddr(R"("@admin")", "!="), kAccept}), [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 const AddressSet admin =
                     addrs({"198.51.100.0/24", "203.0.113.10/31", "203.0.113.12/30",
                            "203.0.113.16/30", "203.0.113.20/32", "192.0.2.7", "192.0.2.9"});
                 EXPECT_EQ(r[0].match.src, AddressSet::any_of(Family::v4).subtract(admin));
                 EXPECT_TRUE(r[0].match.src->empty(Family::v6));
               }});
  c.push_back(
      {"ip6 prefix sets the IPv6 family", "inet", "",
       join({ip_saddr(R"({"prefix": {"addr": "fe80::", "len": 10}})", "==", "ip6"), kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].match.family, Family::v6);
         EXPECT_EQ(r[0].match.src, addrs({"fe80::/10"}));
       }});
  c.push_back({"family stays absent in an ip table", "ip", "",
               join({ip_saddr(R"({"prefix": {"addr": "10.0.0.0", "len": 8}})", "!="), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_FALSE(r[0].match.family);
                 EXPECT_EQ(r[0].match.src,
                           AddressSet::any_of(Family::v4).subtract(addrs({"10.0.0.0/8"})));
               }});
  c.push_back(
      {"ip and ip6 in one rule never match", "inet", "",
       join({ip_saddr(R"("192.0.2.1")"), ip_saddr(R"("2001:db8::1")", "==", "ip6"), kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         ASSERT_TRUE(r[0].match.l4proto);
         EXPECT_TRUE(r[0].match.l4proto->none());
       }});
  c.push_back({"ct state single, list and set", "inet", "",
               join({ct_state(R"(["established", "related"])"), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.ct_state, kCtEstablished | kCtRelated);
               }});
  c.push_back({"ct state == set", "inet", "",
               join({ct_state(R"({"set": ["established", "related"]})", "=="), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.ct_state, kCtEstablished | kCtRelated);
               }});
  c.push_back({"ct state != new", "inet", "", join({ct_state(R"("new")", "!="), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.ct_state,
                           kCtEstablished | kCtRelated | kCtInvalid | kCtUntracked);
               }});
  c.push_back({"tcp flags ! all six: a SYN has one", "ip", "",
               join({tcp_flags("", R"(["fin", "syn", "rst", "psh", "ack", "urg"])", "!"),
                     R"({"drop": null})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.tcp_syn_matches, false);
                 EXPECT_EQ(r[0].match.l4proto, protos({6}));
               }});
  c.push_back(
      {"tcp flags & (fin|syn|rst|ack) != syn: not a SYN", "ip", "",
       join({tcp_flags(R"(["fin", "syn", "rst", "ack"])", R"("syn")", "!="), R"({"drop": null})"}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].match.tcp_syn_matches, false);
       }});
  c.push_back({"tcp flags & (fin|syn|rst|ack) == syn: a SYN", "ip", "",
               join({tcp_flags(R"(["fin", "syn", "rst", "ack"])", R"("syn")", "=="), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.tcp_syn_matches, true);
               }});
  c.push_back(
      {"tcp flags syn,rst / syn,rst", "ip", "",
       join({tcp_flags(R"(["syn", "rst"])", R"(["syn", "rst"])", "=="), R"({"drop": null})"}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].match.tcp_syn_matches, false);
       }});
  c.push_back({"tcp flags implicit syn", "ip", "", join({tcp_flags("", R"("syn")", "in"), kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.tcp_syn_matches, true);
               }});
  c.push_back(
      {"icmp type set", "inet", "",
       join({R"({"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}},
                     "right": {"set": ["echo-request", "nd-neighbor-solicit"]}}})",
             kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_TRUE(r[0].match.icmp_type_test);
         EXPECT_EQ(r[0].match.l4proto, protos({58}));
         EXPECT_EQ(r[0].text, "icmpv6 type { echo-request, nd-neighbor-solicit } accept");
       }});
  c.push_back(
      {"meta l4proto != and meta nfproto", "inet", "",
       join({R"({"match": {"op": "!=", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}})",
             R"({"match": {"op": "==", "left": {"meta": {"key": "nfproto"}}, "right": "ipv6"}})",
             kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].match.l4proto, ~protos({6}));
         EXPECT_EQ(r[0].match.family, Family::v6);
       }});
  c.push_back(
      {"iifname wildcard and negation", "inet", "",
       join(
           {R"({"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "eth*"}})",
            R"({"match": {"op": "==", "left": {"meta": {"key": "oif"}}, "right": {"set": ["lo", "wg0"]}}})",
            kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         ASSERT_TRUE(r[0].match.iif);
         EXPECT_EQ(r[0].match.iif->names, std::vector<std::string>{"eth+"});
         EXPECT_TRUE(r[0].match.iif->negate);
         ASSERT_TRUE(r[0].match.oif);
         EXPECT_EQ(r[0].match.oif->names, (std::vector<std::string>{"lo", "wg0"}));
         EXPECT_FALSE(r[0].match.oif->negate);
       }});
  c.push_back({"verdicts: jump, goto, return, reject", "inet", "",
               join({R"({"jump": {"target": "other"}})"}), [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::jump);
                 EXPECT_EQ(r[0].target, "other");
               }});
  c.push_back(
      {"goto", "inet", "", R"({"goto": {"target": "other"}})", [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].verdict, Verdict::goto_);
       }});
  c.push_back({"reject with icmpx", "inet", "",
               R"({"reject": {"type": "icmpx", "expr": "admin-prohibited"}})",
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::reject);
                 EXPECT_EQ(r[0].text, "reject with icmpx admin-prohibited");
               }});
  c.push_back({"return and continue", "inet", "", R"({"counter": null}, {"return": null})",
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::return_);
               }});
  c.push_back({"continue is no verdict", "inet", "", R"({"continue": null})",
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::none);
               }});
  c.push_back({"notrack", "inet", "", join({tcp_dport("25"), R"({"notrack": null})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::notrack);
               }});
  c.push_back(
      {"limit + log without verdict is dropped", "inet", "",
       R"({"limit": {"rate": 5, "burst": 10, "per": "minute"}}, {"log": {"prefix": "x: "}})",
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].verdict, Verdict::none);
         EXPECT_TRUE(r[0].match.unknown.empty());
       }});
  c.push_back({"limit on a terminal rule is unknown", "inet", "",
               join({tcp_dport("22"), R"({"limit": {"rate": 5, "per": "second"}})", kAccept}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::accept);
                 EXPECT_EQ(r[0].match.unknown, std::vector<std::string>{"limit rate 5/second"});
               }});
  c.push_back({"redirect to port", "ip", "",
               join({tcp_dport("25"), R"({"redirect": {"port": 2525}})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::redirect);
                 EXPECT_EQ(r[0].to_port, 2525);
               }});
  c.push_back({"dnat with port keeps the address in target", "ip", "",
               join({tcp_dport("25"), R"({"dnat": {"addr": "192.0.2.1", "port": 2525}})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].verdict, Verdict::redirect);
                 EXPECT_EQ(r[0].to_port, 2525);
                 EXPECT_EQ(r[0].target, "192.0.2.1");
               }});
  c.push_back(
      {"dnat through a map is unknown", "ip", "",
       R"({"dnat": {"addr": {"map": {"key": {"payload": {"protocol": "tcp", "field": "dport"}},
                  "data": {"set": [[1000, "1.1.1.1"]]}}}}})",
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].verdict, Verdict::unknown);
       }});
  c.push_back({"anonymous vmap expands into one rule per element", "inet", "",
               join({ct_state(R"("new")"),
                     R"({"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}},
                     "data": {"set": [[22, {"accept": null}], [80, {"drop": null}]]}}})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 2u);
                 EXPECT_EQ(r[0].match.dport, ports({{22, 22}}));
                 EXPECT_EQ(r[0].match.ct_state, kCtNew);
                 EXPECT_EQ(r[0].verdict, Verdict::accept);
                 EXPECT_EQ(r[1].match.dport, ports({{80, 80}}));
                 EXPECT_EQ(r[1].verdict, Verdict::drop);
                 EXPECT_EQ(r[1].match.l4proto, protos({6}));
               }});
  c.push_back(
      {"named vmap with a range and a jump", "inet", kVmap,
       R"({"vmap": {"key": {"payload": {"protocol": "th", "field": "dport"}}, "data": "@vm"}})",
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 2u);
         EXPECT_EQ(r[0].match.dport, ports({{22, 22}}));
         EXPECT_FALSE(r[0].match.l4proto);
         EXPECT_EQ(r[1].match.dport, ports({{6000, 6010}}));
         EXPECT_EQ(r[1].verdict, Verdict::jump);
         EXPECT_EQ(r[1].target, "other");
       }});
  c.push_back(
      {"vmap on a concatenation is unknown", "inet", "",
       R"({"vmap": {"key": {"concat": [{"meta": {"key": "iifname"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]},
                  "data": {"set": [[{"concat": ["eth0", 22]}, {"accept": null}]]}}})",
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].verdict, Verdict::unknown);
         EXPECT_NE(r[0].target.find("vmap"), std::string::npos);
       }});
  c.push_back({"xt match is unknown by name", "ip", "",
               join({R"({"xt": {"type": "match", "name": "recent"}})", R"({"drop": null})"}),
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.unknown, std::vector<std::string>{"xt match recent"});
                 EXPECT_EQ(r[0].verdict, Verdict::drop);
               }});
  c.push_back(
      {"meta mark, fib go to unknown with text; ct status dnat is modelled", "inet", "",
       join(
           {R"({"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 1}})",
            R"({"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}})",
            R"({"match": {"op": "in", "left": {"ct": {"key": "status"}}, "right": "dnat"}})",
            kAccept}),
       [](const std::vector<Rule>& r) {
         ASSERT_EQ(r.size(), 1u);
         EXPECT_EQ(r[0].match.unknown,
                   (std::vector<std::string>{"meta mark 1", "fib daddr type local"}));
         EXPECT_EQ(r[0].match.ct_status_dnat, std::optional<bool>(true));
       }});
  c.push_back({"meta mark set is unknown", "inet", "",
               R"({"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}, {"accept": null})",
               [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_EQ(r[0].match.unknown, std::vector<std::string>{"meta mark set 1"});
               }});
  c.push_back({"service name instead of number is unknown", "inet", "",
               join({tcp_dport(R"("ssh")"), kAccept}), [](const std::vector<Rule>& r) {
                 ASSERT_EQ(r.size(), 1u);
                 EXPECT_FALSE(r[0].match.dport);
                 EXPECT_EQ(r[0].match.unknown, std::vector<std::string>{"tcp dport ssh"});
               }});
  return c;
}

TEST(NftJson, Constructs) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    c.check(rules_of(one_rule(c.family, c.sets, c.exprs)));
  }
}

TEST(NftJson, XtMarksTheTableCompat) {
  auto r = parse_nft_json(
      one_rule("ip", "", R"({"xt": {"type": "match", "name": "conntrack"}}, {"accept": null})"),
      "t.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->at(0).iptables_nft_compat);
  auto plain = parse_nft_json(one_rule("ip", "", R"({"accept": null})"), "t.json");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->at(0).iptables_nft_compat);
  EXPECT_EQ(plain->at(0).origin, TableOrigin::nft_json);
}

std::string chain_with_prio(std::string_view family, std::string_view prio) {
  return R"({"nftables": [{"table": {"family": ")" + std::string(family) +
         R"(", "name": "t"}}, {"chain": {"family": ")" + std::string(family) +
         R"(", "table": "t", "name": "c", "type": "filter", "hook": "prerouting", "prio": )" +
         std::string(prio) + R"(, "policy": "accept"}}]})";
}

// "LINE:COLUMN" of the first occurrence of needle, counted here independently of the parser.
std::string where(const std::string& json, std::string_view needle) {
  const auto at = json.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t i = 0; i < at && i < json.size(); ++i) {
    if (json[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

TEST(NftJson, BaseChainPriorities) {
  struct P {
    const char* family;
    const char* prio;
    int expected;
  };
  const P table[] = {
      {"inet", "-140", -140},
      {"inet", R"("raw")", -300},
      {"inet", R"("mangle + 10")", -140},
      {"inet", R"("dstnat - 5")", -105},
      {"inet", R"("filter")", 0},
      {"inet", R"("security")", 50},
      {"inet", R"("srcnat+10")", 110},
      {"bridge", R"("filter")", -200},
      {"ip", R"("-300")", -300},
  };
  for (const auto& p : table) {
    SCOPED_TRACE(p.prio);
    auto r = parse_nft_json(chain_with_prio(p.family, p.prio), "p.json");
    ASSERT_TRUE(r.ok()) << r.error().message;
    const Chain& c = r->at(0).chains.at(0);
    ASSERT_TRUE(c.base);
    EXPECT_EQ(c.base->priority, p.expected);
    EXPECT_EQ(c.base->hook, Hook::prerouting);
    EXPECT_EQ(c.base->policy, Verdict::accept);
    EXPECT_EQ(c.base->type, "filter");
  }
  const std::string typo = chain_with_prio("inet", R"("fliter")");
  auto bad = parse_nft_json(typo, "p.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "p.json:" + where(typo, "\"fliter\"") + ": chain 'c': bad priority 'fliter'");
}

TEST(NftJson, Errors) {
  struct E {
    const char* name;
    std::string json;
    std::string expected;  // the whole message; "@" stands for the position of `at`
    std::string at = {};
  };
  const std::string rule_in = R"({"nftables": [{"table": {"family": "inet", "name": "t"}},
{"chain": {"family": "inet", "table": "t", "name": "c"}},
{"rule": {"family": "inet", "table": "t", "chain": )";
  const E table[] = {
      {"empty", "", "e.json:1:1: empty input: expected the JSON of `nft -j list ruleset`"},
      {"missing comma", "{\"nftables\": [\n  {\"table\": {}}\n  {\"table\": {}}]}",
       "e.json:3:3: malformed JSON: missing or extra comma, colon, brace or bracket"},
      {"unclosed string", "{\"nftables\": [\n {\"table\": {\"name\": \"t}}]}",
       "e.json:2:21: string opened here is never closed"},
      {"cut short", "{\"nftables\": [\n", "e.json:2:1: unexpected end of input"},
      {"trailing text", "{\"nftables\": []}\n}",
       "e.json:2:1: unexpected text after the JSON document"},
      {"bad literal", "{\"nftables\": [tru]}",
       "e.json:1:15: malformed JSON value (expected true, false, "
       "null, a number, a string, an array or an object)"},
      {"not utf-8", "{\"nftables\": [\"\xff\"]}", "e.json:1:16: the input is not valid UTF-8"},
      {"control char", "{\"nftables\": [\"a\tb\"]}",
       "e.json:1:17: control character inside a string (must be escaped)"},
      {"duplicate key", "{\"nftables\": [], \"nftables\": []}",
       "e.json:1:18: duplicate key 'nftables'"},
      {"too deep", "{\"nftables\": " + std::string(70, '[') + std::string(70, ']') + "}",
       "e.json:1:78: nesting deeper than 64 levels"},  // the 65th '[' after the 13 first bytes
      {"top level array", "[]",
       "e.json:1:1: expected a JSON object {\"nftables\": [...]} at the top level"},
      {"no nftables", "{\"x\": 1}",
       "e.json:1:1: expected the member \"nftables\" of `nft -j` output"},
      {"schema 2", "{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 2}}]}",
       "e.json:1:52: json_schema_version '2' is not supported (only 1)"},
      {"rule in unknown chain", rule_in + R"("nope", "expr": []}}]})",
       "e.json:@: rule: unknown chain 'nope' in table inet t", "\"nope\""},
      {"rule in unknown table",
       R"({"nftables": [{"rule": {"family": "inet", "table": "x", "chain": "c", "expr": []}}]})",
       "e.json:1:24: rule: unknown table inet 'x'"},
      {"unknown set", rule_in + R"("c", "expr": [)" + ip_saddr(R"("@nope")") + "]}}]}",
       "e.json:@: unknown set '@nope' in table inet t", "\"@nope\""},
      {"bad prefix length",
       rule_in + R"("c", "expr": [)" + ip_saddr(R"({"prefix": {"addr": "10.0.0.0", "len": 33}})") +
           "]}}]}",
       "e.json:@: prefix: '10.0.0.0/33': prefix length 33 exceeds 32 for IPv4", "{\"prefix\""},
      {"IPv6 address on ip saddr",
       rule_in + R"("c", "expr": [)" + ip_saddr(R"("2001:db8::1")") + "]}}]}",
       "e.json:@: '2001:db8::1' is not an IPv4 address", "\"2001:db8::1\""},
      {"port too big", rule_in + R"("c", "expr": [)" + tcp_dport("70000") + "]}}]}",
       "e.json:@: port '70000' exceeds 65535", "70000"},
      {"jump to unknown chain", rule_in + R"("c", "expr": [{"jump": {"target": "zz"}}]}}]})",
       "e.json:@: jump to unknown chain 'zz'", "{\"target\""},
      {"match without op", rule_in + R"("c", "expr": [{"match": {"left": 1, "right": 2}}]}}]})",
       "e.json:@: match: expected \"op\", \"left\" and \"right\"", "{\"left\""},
  };
  for (const auto& e : table) {
    SCOPED_TRACE(e.name);
    auto r = parse_nft_json(e.json, "e.json");
    ASSERT_FALSE(r.ok());
    std::string expected = e.expected;
    if (!e.at.empty()) expected.replace(expected.find('@'), 1, where(e.json, e.at));
    EXPECT_EQ(r.error().message, expected);
  }
  std::string many = "{\"nftables\": [";
  for (int i = 0; i < 2'000'000; ++i) many += "0,";
  many += "0]}";
  auto values = parse_nft_json(many, "e.json");
  ASSERT_FALSE(values.ok());
  // The root object, the array, then 1999998 zeros: the next one, at byte 14 + 2 * 1999998.
  EXPECT_EQ(values.error().message, "e.json:1:" + std::to_string(14 + 2 * 1'999'998 + 1) +
                                        ": more than 2000000 JSON values");
  std::string wide = "{";
  for (int i = 0; i < 300; ++i) wide += "\"k" + std::to_string(i) + "\": 0, ";
  wide += "\"nftables\": []}";
  auto members = parse_nft_json(wide, "e.json");
  ASSERT_FALSE(members.ok());
  EXPECT_EQ(members.error().message,
            "e.json:" + where(wide, "\"k256\"") + ": object with more than 256 members");
  const std::string big(65 << 20, ' ');
  auto r = parse_nft_json(big, "big.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("big.json: input of"), std::string::npos);
}

// ---- the real dumps ----

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const char* const kRealDumps[] = {
    "a-ufw/nft.json",
    "b-nft-handwritten/nft.json",
    "c-iptables-classic/nft-from-iptables.json",
    "d-firewalld/nft.json",
    "e-nftables-examples/ct_helpers.nft.json",
    "e-nftables-examples/debian-default-nftables.conf.json",
    "e-nftables-examples/nat.nft.json",
    "e-nftables-examples/sets_and_maps.nft.json",
    "e-nftables-examples/workstation.nft.json",
};

std::string data_path(const char* rel) {
  return std::string(MW_SOURCE_DIR) + "/tests/data/rulesets/" + rel;
}

TEST(NftJson, RealDumpsParseWithTheCountsOfTheirJson) {
  for (const char* rel : kRealDumps) {
    SCOPED_TRACE(rel);
    const std::string text = read_file(data_path(rel));
    ASSERT_FALSE(text.empty());
    auto parsed = parse_nft_json(text, rel);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;

    // Expected counts straight from the JSON (nlohmann): a rule is one model rule, except a
    // verdict map, which becomes one rule per element (its elements inline or in the named map).
    const auto j = nlohmann::json::parse(text);
    std::map<std::string, std::size_t> chains_per_table;
    std::map<std::string, std::size_t> rules_per_chain;
    std::map<std::string, std::size_t> map_sizes;
    bool any_xt = false;
    for (const auto& item : j.at("nftables")) {
      if (item.contains("table")) {
        chains_per_table[item["table"]["family"].get<std::string>() + " " +
                         item["table"]["name"].get<std::string>()];
      }
      if (item.contains("chain")) {
        const auto& c = item["chain"];
        ++chains_per_table[c["family"].get<std::string>() + " " + c["table"].get<std::string>()];
        rules_per_chain[c["family"].get<std::string>() + " " + c["table"].get<std::string>() + " " +
                        c["name"].get<std::string>()];
      }
      if (item.contains("map")) {
        map_sizes["@" + item["map"]["name"].get<std::string>()] =
            item["map"].contains("elem") ? item["map"]["elem"].size() : 0;
      }
    }
    for (const auto& item : j.at("nftables")) {
      if (!item.contains("rule")) continue;
      const auto& r = item["rule"];
      std::size_t n = 1;
      for (const auto& e : r["expr"]) {
        if (e.contains("xt")) any_xt = true;
        if (e.contains("vmap")) {
          const auto& data = e["vmap"]["data"];
          n = data.is_string() ? map_sizes.at(data.get<std::string>()) : data["set"].size();
        }
      }
      rules_per_chain[r["family"].get<std::string>() + " " + r["table"].get<std::string>() + " " +
                      r["chain"].get<std::string>()] += n;
    }

    ASSERT_EQ(parsed->size(), chains_per_table.size());
    bool saw_xt_table = false;
    for (const Table& t : *parsed) {
      const char* fam = t.family == TableFamily::ip     ? "ip"
                        : t.family == TableFamily::ip6  ? "ip6"
                        : t.family == TableFamily::inet ? "inet"
                                                        : "other";
      const std::string key = std::string(fam) + " " + t.name;
      EXPECT_EQ(t.chains.size(), chains_per_table[key]) << key;
      EXPECT_EQ(t.origin, TableOrigin::nft_json);
      EXPECT_EQ(t.source, rel);
      saw_xt_table = saw_xt_table || t.iptables_nft_compat;
      for (const Chain& c : t.chains) {
        EXPECT_EQ(c.rules.size(), rules_per_chain[key + " " + c.name]) << key << " " << c.name;
      }
    }
    EXPECT_EQ(saw_xt_table, any_xt);
  }
}

const Rule* rule_with_handle(const Chain& c, int handle) {
  const std::string suffix = " handle " + std::to_string(handle);
  for (const Rule& r : c.rules) {
    if (r.origin.size() >= suffix.size() &&
        r.origin.compare(r.origin.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return &r;
    }
  }
  return nullptr;
}

TEST(NftJson, HandwrittenZimbraTable) {
  auto parsed = parse_nft_json(read_file(data_path("b-nft-handwritten/nft.json")), "nft.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  const Table& t = parsed->at(0);
  EXPECT_EQ(t.family, TableFamily::inet);
  EXPECT_EQ(t.name, "mailwarden");
  EXPECT_FALSE(t.iptables_nft_compat);
  const Chain& input = t.chains.at(0);
  ASSERT_EQ(input.name, "input");
  ASSERT_TRUE(input.base);
  EXPECT_EQ(input.base->hook, Hook::input);
  EXPECT_EQ(input.base->policy, Verdict::drop);
  EXPECT_EQ(input.base->priority, 0);
  ASSERT_EQ(input.rules.size(), 10u);

  const Rule* admin = rule_with_handle(input, 15);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->match.family, Family::v4);
  EXPECT_EQ(admin->match.src, addrs({"198.51.100.0/24"}));
  EXPECT_EQ(admin->match.dport, ports({{7071, 7071}}));
  EXPECT_EQ(admin->match.l4proto, protos({6}));
  EXPECT_EQ(admin->match.ct_state, kCtNew);
  EXPECT_EQ(admin->verdict, Verdict::accept);
  EXPECT_TRUE(admin->match.unknown.empty());
  EXPECT_EQ(admin->text, "ip saddr @admin_net4 tcp dport 7071 ct state new accept");
  EXPECT_EQ(admin->origin, "nft.json: table inet mailwarden chain input handle 15");

  const Rule* proxy = rule_with_handle(input, 16);
  ASSERT_NE(proxy, nullptr);
  EXPECT_EQ(proxy->match.src, addrs({"198.51.100.7/32"}));
  EXPECT_EQ(proxy->match.dport, ports({{9071, 9071}}));

  const Rule* pub = rule_with_handle(input, 14);
  ASSERT_NE(pub, nullptr);
  EXPECT_FALSE(pub->match.family);
  EXPECT_FALSE(pub->match.src);
  EXPECT_EQ(pub->match.dport, ports({{25, 25},
                                     {80, 80},
                                     {110, 110},
                                     {143, 143},
                                     {443, 443},
                                     {465, 465},
                                     {587, 587},
                                     {993, 993},
                                     {995, 995},
                                     {5222, 5223}}));

  const Rule* invalid = rule_with_handle(input, 7);
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->match.ct_state, kCtInvalid);
  EXPECT_EQ(invalid->verdict, Verdict::drop);

  const Rule* lo = rule_with_handle(input, 9);
  ASSERT_NE(lo, nullptr);
  ASSERT_TRUE(lo->match.iif);
  EXPECT_EQ(lo->match.iif->names, std::vector<std::string>{"lo"});

  const Rule* icmp = rule_with_handle(input, 11);
  ASSERT_NE(icmp, nullptr);
  EXPECT_TRUE(icmp->match.icmp_type_test);
  EXPECT_EQ(icmp->match.l4proto, protos({1}));

  // The rate-limited log rule has no verdict: its limit is dropped, nothing uncertain.
  const Rule* log = rule_with_handle(input, 17);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->verdict, Verdict::none);
  EXPECT_TRUE(log->match.unknown.empty());
  EXPECT_EQ(input.rules.back().verdict, Verdict::drop);
}

TEST(NftJson, IptablesNftCompatDump) {
  auto parsed =
      parse_nft_json(read_file(data_path("c-iptables-classic/nft-from-iptables.json")), "c.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  for (const Table& t : *parsed) EXPECT_TRUE(t.iptables_nft_compat) << t.name;
  const Table& v4 = parsed->at(0);
  const Chain* zimbra = nullptr;
  const Chain* bad_tcp = nullptr;
  for (const Chain& c : v4.chains) {
    if (c.name == "ZIMBRA-ADMIN") zimbra = &c;
    if (c.name == "BAD-TCP") bad_tcp = &c;
  }
  ASSERT_NE(zimbra, nullptr);
  ASSERT_NE(bad_tcp, nullptr);
  ASSERT_EQ(zimbra->rules.size(), 3u);
  EXPECT_EQ(zimbra->rules[0].match.src,
            AddressSet::any_of(Family::v4).subtract(addrs({"198.51.100.0/24"})));
  EXPECT_EQ(zimbra->rules[0].verdict, Verdict::return_);
  // Every flag test of BAD-TCP rejects malformed flag combinations: none matches a plain SYN.
  for (std::size_t i = 0; i + 1 < bad_tcp->rules.size(); ++i) {
    EXPECT_EQ(bad_tcp->rules[i].match.tcp_syn_matches, false) << bad_tcp->rules[i].text;
  }
  bool saw_recent = false;
  for (const Chain& c : v4.chains) {
    for (const Rule& r : c.rules) {
      for (const auto& u : r.match.unknown) saw_recent = saw_recent || u == "xt match recent";
    }
  }
  EXPECT_TRUE(saw_recent);
}

TEST(NftJson, FirewalldPrioritiesAndUnknowns) {
  auto parsed = parse_nft_json(read_file(data_path("d-firewalld/nft.json")), "d.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  std::map<std::string, int> prio;
  std::size_t fib_unknowns = 0;
  for (const Table& t : *parsed) {
    for (const Chain& c : t.chains) {
      if (c.base) prio[c.name] = c.base->priority;
      for (const Rule& r : c.rules) {
        for (const auto& u : r.match.unknown) fib_unknowns += u.rfind("fib ", 0) == 0;
      }
    }
  }
  EXPECT_EQ(prio["mangle_PREROUTING"], -140);
  EXPECT_EQ(prio["filter_INPUT"], 10);
  EXPECT_EQ(prio["nat_POSTROUTING"], 110);
  EXPECT_EQ(fib_unknowns, 1u);
}

}  // namespace
}  // namespace mw::fw

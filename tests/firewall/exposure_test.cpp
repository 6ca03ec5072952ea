// The exposure analyser on hand-built rulesets: each construct of the walk, with the deciding rule.
#include "firewall/exposure.hpp"

#include <gtest/gtest.h>

namespace mw::fw {
namespace {

AddressSet set(std::initializer_list<const char*> prefixes) {
  AddressSet s;
  for (const char* p : prefixes) s.add(*parse_prefix(p));
  return s;
}
Address addr(const char* a) {
  return *parse_address(a);
}

std::bitset<256> proto(int n) {
  std::bitset<256> b;
  b.set(static_cast<std::size_t>(n));
  return b;
}

Rule rule(std::string origin, Verdict v, Match m = {}, std::string target = "") {
  Rule r;
  r.match = std::move(m);
  r.verdict = v;
  r.target = std::move(target);
  r.origin = std::move(origin);
  return r;
}

Match tcp_dport(std::uint16_t port) {
  Match m;
  m.l4proto = proto(6);
  PortSet ps;
  ps.add(port);
  m.dport = ps;
  return m;
}

Chain base(std::string name, Hook hook, int prio, Verdict policy, std::string type,
           std::vector<Rule> rules) {
  Chain c;
  c.name = std::move(name);
  c.base = BaseChain{hook, prio, policy, std::move(type)};
  c.rules = std::move(rules);
  c.origin = "test";
  return c;
}

Chain user(std::string name, std::vector<Rule> rules) {
  Chain c;
  c.name = std::move(name);
  c.rules = std::move(rules);
  return c;
}

Table table(TableFamily fam, std::string name, std::vector<Chain> chains,
            TableOrigin origin = TableOrigin::iptables_save) {
  Table t;
  t.family = fam;
  t.name = std::move(name);
  t.origin = origin;
  t.chains = std::move(chains);
  return t;
}

Query tcp(std::uint16_t port, Family f = Family::v4) {
  Query q;
  q.family = f;
  q.port = port;
  return q;
}

std::string outcome_of(const ExposureResult& r, const char* a) {
  const Region* reg = r.region_of(addr(a));
  return reg ? std::string(outcome_name(reg->outcome)) + " by " + reg->rule : "no region";
}

TEST(Exposure, NoRulesMeansOpen) {
  Ruleset rs;
  auto r = analyse(rs, tcp(25));
  EXPECT_EQ(r.sources(Outcome::accept), AddressSet::any_of(Family::v4));
  EXPECT_TRUE(r.sources(Outcome::drop).empty());
}

TEST(Exposure, RegionsCoverTheWholeFamilySpaceDisjointly) {
  Match admin = tcp_dport(22);
  admin.src = set({"198.51.100.0/24"});
  Match weird = tcp_dport(22);
  weird.unknown = {"-m recent --update"};
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "filter",
            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                  {rule("r:1", Verdict::drop, weird), rule("r:2", Verdict::accept, admin)})}));
  auto r = analyse(rs, tcp(22));
  AddressSet all;
  for (const auto& reg : r.regions) {
    EXPECT_TRUE(all.intersect(reg.sources).empty()) << reg.rule;
    all = all.unite(reg.sources);
  }
  EXPECT_EQ(all, AddressSet::any_of(Family::v4));
}

TEST(Exposure, AdminOnlySshAndPolicyDrop) {
  Match admin = tcp_dport(22);
  admin.src = set({"198.51.100.0/24"});
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("rules.v4:7", Verdict::accept, admin)})}));
  auto r = analyse(rs, tcp(22));
  EXPECT_EQ(r.sources(Outcome::accept).to_string(), "198.51.100.0/24");
  EXPECT_EQ(outcome_of(r, "198.51.100.9"), "accept by rules.v4:7");
  EXPECT_EQ(outcome_of(r, "203.0.113.1"), "drop by policy drop of filter/INPUT (test)");
  EXPECT_TRUE(analyse(rs, tcp(25)).sources(Outcome::accept).empty());
  // An IPv4 table says nothing about IPv6: no ip6 rules, so IPv6 is open.
  EXPECT_EQ(analyse(rs, tcp(22, Family::v6)).sources(Outcome::accept),
            AddressSet::any_of(Family::v6));
}

TEST(Exposure, JumpReturnWithNegatedSource) {
  // The classic: -A ADMIN ! -s 198.51.100.0/24 -j RETURN ; -A ADMIN -j ACCEPT
  Match not_admin;
  not_admin.src = set({"198.51.100.0/24"}).complement().intersect(AddressSet::any_of(Family::v4));
  Ruleset rs;
  rs.tables.push_back(table(
      TableFamily::ip, "filter",
      {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
            {rule("r:1", Verdict::jump, tcp_dport(7071), "ADMIN")}),
       user("ADMIN", {rule("r:2", Verdict::return_, not_admin), rule("r:3", Verdict::accept)})}));
  auto r = analyse(rs, tcp(7071));
  EXPECT_EQ(r.sources(Outcome::accept).to_string(), "198.51.100.0/24");
  EXPECT_EQ(outcome_of(r, "198.51.100.1"), "accept by r:3");
  EXPECT_EQ(outcome_of(r, "192.0.2.1"), "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, GotoDoesNotComeBack) {
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "filter",
            {base("INPUT", Hook::input, 0, Verdict::accept, "filter",
                  {rule("r:1", Verdict::goto_, tcp_dport(25), "G"), rule("r:2", Verdict::drop)}),
             user("G", {})}));
  // Falling off G returns to INPUT's caller: the policy (accept), skipping r:2.
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25)), "192.0.2.1"),
            "accept by policy accept of filter/INPUT (test)");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(26)), "192.0.2.1"), "drop by r:2");
}

TEST(Exposure, UnknownMatchIsUncertainForTheSourcesItCouldMatch) {
  Match recent = tcp_dport(22);
  recent.src = set({"198.51.100.0/24"});
  recent.unknown = {"-m recent --update --seconds 60"};
  Match admin = tcp_dport(22);
  admin.src = set({"198.51.100.0/24"});
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "filter",
            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                  {rule("r:1", Verdict::drop, recent), rule("r:2", Verdict::accept, admin)})}));
  auto r = analyse(rs, tcp(22));
  EXPECT_EQ(r.sources(Outcome::uncertain).to_string(), "198.51.100.0/24");
  const Region* reg = r.region_of(addr("198.51.100.3"));
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(reg->rule, "r:1");
  EXPECT_NE(reg->reason.find("-m recent --update"), std::string::npos) << reg->reason;
  EXPECT_EQ(outcome_of(r, "203.0.113.3"), "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, EveryBaseChainMustAccept) {
  // An accept in one nft table does not override a drop in another.
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::inet, "a",
                            {base("in", Hook::input, 0, Verdict::accept, "filter",
                                  {rule("a:1", Verdict::accept, tcp_dport(25))})},
                            TableOrigin::nft_json));
  rs.tables.push_back(table(TableFamily::inet, "b",
                            {base("in", Hook::input, 10, Verdict::drop, "filter", {})},
                            TableOrigin::nft_json));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25)), "192.0.2.1"), "drop by policy drop of b/in (test)");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25, Family::v6)), "2001:db8::1"),
            "drop by policy drop of b/in (test)");
}

TEST(Exposure, NotrackedPacketsMissNewStateRules) {
  Match new_ssh = tcp_dport(22);
  new_ssh.ct_state = kCtNew;
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "raw",
                            {base("PREROUTING", Hook::prerouting, -300, Verdict::accept, "raw",
                                  {rule("raw:1", Verdict::notrack, tcp_dport(22))})}));
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("f:1", Verdict::accept, new_ssh)})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(22)), "192.0.2.1"),
            "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, RedirectChangesThePortTheFilterSees) {
  Rule redirect = rule("nat:1", Verdict::redirect, tcp_dport(443));
  redirect.to_port = 8443;
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "nat",
            {base("PREROUTING", Hook::prerouting, -100, Verdict::accept, "nat", {redirect})}));
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("f:1", Verdict::accept, tcp_dport(8443))})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(443)), "192.0.2.1"), "accept by f:1");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(8443)), "192.0.2.1"), "accept by f:1");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(80)), "192.0.2.1"),
            "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, ReplyDroppedOnOutputClosesThePort) {
  Match reply;
  reply.l4proto = proto(6);
  PortSet p25;
  p25.add(25);
  reply.sport = p25;
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("OUTPUT", Hook::output, 0, Verdict::accept, "filter",
                                  {rule("out:1", Verdict::drop, reply)})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25)), "192.0.2.1"), "drop by out:1");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(587)), "192.0.2.1"),
            "accept by no filtering on the input path");
}

TEST(Exposure, ReplyOfEstablishedConnectionsAccepted) {
  Match est;
  est.ct_state = kCtEstablished | kCtRelated;
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("OUTPUT", Hook::output, 0, Verdict::drop, "filter",
                                  {rule("out:1", Verdict::accept, est)})}));
  EXPECT_EQ(analyse(rs, tcp(25)).sources(Outcome::accept), AddressSet::any_of(Family::v4));
}

TEST(Exposure, InterfacesKnownAndUnknown) {
  Match lo;
  lo.iif = IfaceMatch{{"lo"}, false};
  Match eth;
  eth.iif = IfaceMatch{{"eth+"}, false};
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "filter",
            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                  {rule("f:1", Verdict::accept, lo), rule("f:2", Verdict::accept, eth)})}));
  auto unknown = analyse(rs, tcp(25));
  EXPECT_EQ(unknown.sources(Outcome::uncertain), AddressSet::any_of(Family::v4));
  EXPECT_EQ(unknown.region_of(addr("192.0.2.1"))->rule, "f:2");
  Query q = tcp(25);
  q.iface = "eth0";
  EXPECT_EQ(outcome_of(analyse(rs, q), "192.0.2.1"), "accept by f:2");
  q.iface = "wg0";
  EXPECT_EQ(outcome_of(analyse(rs, q), "192.0.2.1"), "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, DestinationNeedsTheHostAddress) {
  Match to_host = tcp_dport(25);
  to_host.dst = set({"192.0.2.1/32"});
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("f:1", Verdict::accept, to_host)})}));
  EXPECT_EQ(analyse(rs, tcp(25)).sources(Outcome::uncertain), AddressSet::any_of(Family::v4));
  Query q = tcp(25);
  q.to = addr("192.0.2.1");
  EXPECT_EQ(outcome_of(analyse(rs, q), "203.0.113.1"), "accept by f:1");
  q.to = addr("192.0.2.2");
  EXPECT_EQ(outcome_of(analyse(rs, q), "203.0.113.1"),
            "drop by policy drop of filter/INPUT (test)");
}

TEST(Exposure, TcpFlagTestsDecidedForASyn) {
  Match not_syn;
  not_syn.l4proto = proto(6);
  not_syn.tcp_syn_matches = false;
  Match syn;
  syn.l4proto = proto(6);
  syn.tcp_syn_matches = true;
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "filter",
            {base("INPUT", Hook::input, 0, Verdict::accept, "filter",
                  {rule("f:1", Verdict::drop, not_syn), rule("f:2", Verdict::drop, syn)})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25)), "192.0.2.1"), "drop by f:2");
  Query udp = tcp(53);
  udp.protocol = Protocol::udp;
  EXPECT_EQ(outcome_of(analyse(rs, udp), "192.0.2.1"),
            "accept by policy accept of filter/INPUT (test)");
}

TEST(Exposure, IptablesNftTablesAreNotCountedTwice) {
  Match opaque = tcp_dport(25);
  opaque.unknown = {"xt match conntrack"};
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("save:3", Verdict::accept, tcp_dport(25))})}));
  Table nft = table(TableFamily::ip, "filter",
                    {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                          {rule("nft: handle 4", Verdict::accept, opaque)})},
                    TableOrigin::nft_json);
  nft.iptables_nft_compat = true;
  rs.tables.push_back(nft);
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25)), "192.0.2.1"), "accept by save:3");
  // Without the iptables-save dump, the xt rules are opaque: uncertain, never a guess.
  rs.tables.erase(rs.tables.begin());
  EXPECT_EQ(analyse(rs, tcp(25)).sources(Outcome::uncertain), AddressSet::any_of(Family::v4));
}

TEST(Exposure, UnknownMatchOnARuleWithoutVerdictChangesNothing) {
  Match set_recent = tcp_dport(22);
  set_recent.unknown = {"-m recent --set --name SSH"};
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("f:1", Verdict::none, set_recent),
                                   rule("f:2", Verdict::accept, tcp_dport(22))})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(22)), "192.0.2.1"), "accept by f:2");
}

TEST(Exposure, AddressTypesExtensionHeadersAndDnatStatus) {
  // ufw: -A ufw-not-local -m addrtype --dst-type LOCAL -j RETURN ; then drop.
  Match local;
  local.dst_type = Match::AddrType{{"LOCAL"}, false};
  Match rt0;
  rt0.needs_ipv6_extension_header = true;
  Match dnatted;
  dnatted.ct_status_dnat = true;
  Ruleset rs;
  rs.tables.push_back(table(
      TableFamily::ip6, "filter",
      {base("INPUT", Hook::input, 0, Verdict::accept, "filter",
            {rule("f:1", Verdict::drop, rt0), rule("f:2", Verdict::jump, {}, "NOT-LOCAL"),
             rule("f:3", Verdict::accept, dnatted), rule("f:4", Verdict::drop, tcp_dport(25))}),
       user("NOT-LOCAL", {rule("n:1", Verdict::return_, local), rule("n:2", Verdict::drop)})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25, Family::v6)), "2001:db8::1"), "drop by f:4");
  EXPECT_EQ(outcome_of(analyse(rs, tcp(26, Family::v6)), "2001:db8::1"),
            "accept by policy accept of filter/INPUT (test)");
  Rule redirect = rule("nat:1", Verdict::redirect, tcp_dport(25));
  rs.tables.push_back(
      table(TableFamily::ip6, "nat",
            {base("PREROUTING", Hook::prerouting, -100, Verdict::accept, "nat", {redirect})}));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25, Family::v6)), "2001:db8::1"), "accept by f:3");
}

TEST(Exposure, CtStateBeforeConntrackIsInvalid) {
  // nft: chain at prerouting priority -300 (raw) with `ct state invalid drop`: no conntrack
  // entry exists yet, so every first packet is INVALID there and dropped.
  Match invalid;
  invalid.ct_state = kCtInvalid;
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip6, "t0",
                            {base("p", Hook::prerouting, -300, Verdict::accept, "filter",
                                  {rule("t0:1", Verdict::drop, invalid)})},
                            TableOrigin::nft_json));
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25, Family::v6)), "2001:db8::2"), "drop by t0:1");
  // After conntrack (-150), the same rule lets a NEW packet through.
  rs.tables[0].chains[0].base->priority = -150;
  EXPECT_EQ(outcome_of(analyse(rs, tcp(25, Family::v6)), "2001:db8::2"),
            "accept by policy accept of t0/p (test)");
}

TEST(Exposure, ReplyPathSkipsNatAndLeavesByTheInputInterface) {
  Match out_eth;
  out_eth.oif = IfaceMatch{{"eth0"}, false};
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::inet, "fw",
                            {base("nat_post", Hook::postrouting, 100, Verdict::accept, "nat",
                                  {rule("nat:1", Verdict::drop, out_eth)}),
                             base("out", Hook::output, 0, Verdict::accept, "filter",
                                  {rule("out:1", Verdict::drop, out_eth)})},
                            TableOrigin::nft_json));
  Query q = tcp(25);
  EXPECT_EQ(analyse(rs, q).sources(Outcome::uncertain), AddressSet::any_of(Family::v4));
  q.iface = "eth0";
  EXPECT_EQ(outcome_of(analyse(rs, q), "192.0.2.1"), "drop by out:1");
  q.iface = "eth1";
  EXPECT_EQ(outcome_of(analyse(rs, q), "192.0.2.1"), "accept by no filtering on the input path");
}

TEST(Exposure, JumpLoopIsUncertain) {
  Ruleset rs;
  rs.tables.push_back(table(TableFamily::ip, "filter",
                            {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
                                  {rule("f:1", Verdict::jump, {}, "A")}),
                             user("A", {rule("a:1", Verdict::jump, {}, "A")})}));
  EXPECT_EQ(analyse(rs, tcp(25)).sources(Outcome::uncertain), AddressSet::any_of(Family::v4));
}

// One ExposureAnalyser serves every port of a family and protocol (the port index of each chain,
// the rules' prepared answers): each port's answer is the one a fresh analyse() gives, in any
// order of the ports, and the index finds rules by the port a redirect leaves the flow with.
TEST(Exposure, PreparedAnalyserAnswersEveryPortAsAFreshAnalysis) {
  Rule redirect = rule("nat:1", Verdict::redirect, tcp_dport(25));
  redirect.to_port = 2525;
  Match admin = tcp_dport(7071);
  admin.src = set({"198.51.100.0/24"});
  Match range;
  range.l4proto = proto(6);
  PortSet ps;
  ps.add(7000, 7100);
  range.dport = ps;
  Match not_admin;
  not_admin.src = set({"198.51.100.0/25"}).complement().intersect(AddressSet::any_of(Family::v4));
  Match weird = tcp_dport(2525);
  weird.unknown = {"-m recent --update"};
  weird.src = set({"192.0.2.0/24"});
  Ruleset rs;
  rs.tables.push_back(
      table(TableFamily::ip, "nat",
            {base("PREROUTING", Hook::prerouting, -100, Verdict::accept, "nat", {redirect})}));
  rs.tables.push_back(table(
      TableFamily::ip, "filter",
      {base("INPUT", Hook::input, 0, Verdict::drop, "filter",
            {rule("f:1", Verdict::drop, weird), rule("f:2", Verdict::jump, range, "RANGE"),
             rule("f:3", Verdict::accept, tcp_dport(2525)), rule("f:4", Verdict::accept, admin)}),
       user("RANGE", {rule("r:1", Verdict::return_, not_admin), rule("r:2", Verdict::accept)})}));
  const std::vector<std::uint16_t> ports = {2525, 7071, 25, 7000, 80, 7100, 7101, 22, 25};
  for (Family f : {Family::v4, Family::v6}) {
    ExposureAnalyser prepared(rs, tcp(0, f));
    for (std::uint16_t p : ports) {
      const ExposureResult a = prepared.analyse(p), b = analyse(rs, tcp(p, f));
      ASSERT_EQ(a.regions.size(), b.regions.size()) << p;
      for (std::size_t k = 0; k < a.regions.size(); ++k) {
        EXPECT_EQ(a.regions[k].sources, b.regions[k].sources) << p;
        EXPECT_EQ(a.regions[k].outcome, b.regions[k].outcome) << p;
        EXPECT_EQ(a.regions[k].rule, b.regions[k].rule) << p;
        EXPECT_EQ(a.regions[k].reason, b.regions[k].reason) << p;
      }
    }
  }
  ExposureAnalyser v4(rs, tcp(0));
  EXPECT_EQ(outcome_of(v4.analyse(25), "203.0.113.1"), "accept by f:3");
  EXPECT_EQ(outcome_of(v4.analyse(25), "192.0.2.1"), "uncertain by f:1");
  EXPECT_EQ(outcome_of(v4.analyse(7071), "198.51.100.1"), "accept by r:2");
  EXPECT_EQ(outcome_of(v4.analyse(7071), "198.51.100.200"), "accept by f:4");
  EXPECT_EQ(outcome_of(v4.analyse(7071), "203.0.113.1"),
            "drop by policy drop of filter/INPUT (test)");
  EXPECT_EQ(outcome_of(v4.analyse(7101), "198.51.100.1"),
            "drop by policy drop of filter/INPUT (test)");
  EXPECT_EQ(v4.analyse(7050).sources(Outcome::accept).to_string(), "198.51.100.0/25");
}

}  // namespace
}  // namespace mw::fw

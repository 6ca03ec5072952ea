// iptables / ip6tables backends: the text they generate, rule by rule, for hand-made plans.
#include "firewall/iptables_backend.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "firewall/backends.hpp"

namespace mw {
namespace {

using P = Protocol;

PortOpening opening(P proto, std::uint16_t port, Exposure e) {
  return {proto, port, e, "svc" + std::to_string(port), "test"};
}

FirewallPlan sample_plan() {
  FirewallPlan plan;
  plan.policy_source = "t.toml";
  plan.product = "zimbra";
  plan.hostname = "mail.example.com";
  plan.admin = AddressSet::of({*parse_prefix("198.51.100.0/28"), *parse_prefix("203.0.113.5"),
                               *parse_prefix("2001:db8:ad::/120")});
  plan.openings = {opening(P::tcp, 22, Exposure::admin), opening(P::tcp, 25, Exposure::public_),
                   opening(P::tcp, 443, Exposure::public_), opening(P::tcp, 9071, Exposure::admin)};
  plan.closed = {{P::tcp, 389, "ldap", "loopback only"}};
  plan.never_udp.add(11211);
  plan.log_drops = true;
  plan.log_rate = "5/minute";
  plan.log_prefix = "mailwarden-drop: ";
  plan.egress_smtp_restricted = true;
  plan.egress_mta_user = "postfix";
  plan.notes = {"Admin console through the proxy on 9071 from the admin networks only."};
  return plan;
}

std::vector<Artefact> render(const FirewallPlan& plan, Family f) {
  auto r = render_iptables_family(plan, f);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<Artefact>{};
}

std::string file(const std::vector<Artefact>& as, const std::string& name) {
  for (const auto& a : as) {
    if (a.filename == name) return a.content;
  }
  ADD_FAILURE() << name << " not generated";
  return "";
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines(text)) {
    if (l == line) return true;
  }
  return false;
}

// The rules appended to one chain, in order.
std::vector<std::string> chain_rules(const std::string& text, const std::string& chain) {
  std::vector<std::string> out;
  const std::string lead = "-A " + chain + " ";
  for (const auto& l : lines(text)) {
    if (l.rfind(lead, 0) == 0) out.push_back(l.substr(lead.size()));
  }
  return out;
}

// The text of the comment lines, unwrapped: "# " and continuation indents dropped.
std::string comment_text(const std::string& text) {
  std::string out;
  for (const auto& l : lines(text)) {
    if (l.rfind("# ", 0) != 0) continue;
    auto start = l.find_first_not_of(' ', 2);
    if (start != std::string::npos) out += (out.empty() ? "" : " ") + l.substr(start);
  }
  return out;
}

PortSet ports_of(const std::string& text) {
  return *parse_port_set(text);
}

// Reads the port matches back into a set, checking each multiport list's size on the way.
PortSet parse_back(const std::vector<std::string>& matches) {
  PortSet out;
  for (const auto& m : matches) {
    std::string list;
    std::size_t slots = 0;
    if (m.rfind("--dport ", 0) == 0) {
      list = m.substr(8);
    } else {
      EXPECT_EQ(m.rfind("-m multiport --dports ", 0), 0u) << m;
      list = m.substr(22);
    }
    std::stringstream in(list);
    for (std::string e; std::getline(in, e, ',');) {
      auto colon = e.find(':');
      if (colon == std::string::npos) {
        out.add(*parse_port(e));
        slots += 1;
      } else {
        out.add(*parse_port(e.substr(0, colon)), *parse_port(e.substr(colon + 1)));
        slots += 2;
      }
    }
    EXPECT_LE(slots, 15u) << m;  // the multiport match's limit, not the constant under test
  }
  return out;
}

TEST(IptablesPorts, LoneEntryUsesDport) {
  EXPECT_EQ(iptables_port_matches(ports_of("25")), std::vector<std::string>{"--dport 25"});
  EXPECT_EQ(iptables_port_matches(ports_of("10024-10032")),
            std::vector<std::string>{"--dport 10024:10032"});
  EXPECT_TRUE(iptables_port_matches(PortSet()).empty());
}

TEST(IptablesPorts, MultiportSplitsAtFifteen) {
  PortSet fifteen, sixteen;
  for (std::uint16_t p = 1; p <= 15; ++p) fifteen.add(p * 10);
  sixteen = fifteen;
  sixteen.add(1000);
  auto one = iptables_port_matches(fifteen);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "-m multiport --dports 10,20,30,40,50,60,70,80,90,100,110,120,130,140,150");
  auto two = iptables_port_matches(sixteen);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1], "--dport 1000");
}

TEST(IptablesPorts, RangesCountAsTwo) {
  // 13 single ports + one range = 15 slots: one rule.
  auto fits = iptables_port_matches(ports_of("1,3,5,7,9,11,13,15,17,19,21,23,25,100-200"));
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0], "-m multiport --dports 1,3,5,7,9,11,13,15,17,19,21,23,25,100:200");
  // 14 single ports + one range = 16 slots: the range moves to a second rule.
  auto split = iptables_port_matches(ports_of("1,3,5,7,9,11,13,15,17,19,21,23,25,27,100-200"));
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[1], "--dport 100:200");
  // Eight ranges = 16 slots.
  auto ranges = iptables_port_matches(ports_of("10-11,20-21,30-31,40-41,50-51,60-61,70-71,80-81"));
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "-m multiport --dports 10:11,20:21,30:31,40:41,50:51,60:61,70:71");
  EXPECT_EQ(ranges[1], "--dport 80:81");
}

TEST(IptablesPorts, EveryPortSetSurvivesTheSplit) {
  // Deterministic pseudo-random sets: the matches cover exactly the set, each list <= 15 slots.
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) & 0xffff;
  };
  for (int round = 0; round < 200; ++round) {
    PortSet set;
    int entries = static_cast<int>(next() % 60);
    for (int i = 0; i < entries; ++i) {
      auto lo = static_cast<std::uint16_t>(1 + next() % 60000);
      auto len = static_cast<std::uint16_t>(next() % 3 == 0 ? next() % 50 : 0);
      set.add(lo, static_cast<std::uint16_t>(lo + len));
    }
    EXPECT_EQ(parse_back(iptables_port_matches(set)), set) << set.to_string();
  }
}

TEST(IptablesRate, PlanRatesInIptablesUnits) {
  EXPECT_EQ(*iptables_rate("5/minute"), "5/min");
  EXPECT_EQ(*iptables_rate("10/second"), "10/sec");
  EXPECT_EQ(*iptables_rate("3/hour"), "3/hour");
  EXPECT_EQ(*iptables_rate("1/day"), "1/day");
  EXPECT_EQ(*iptables_rate("10000/second"), "10000/sec");
  EXPECT_EQ(*iptables_rate("99999/minute"), "99999/min");
}

TEST(IptablesRate, RefusesWhatIsNoRateOrTooFast) {
  for (const char* bad : {"", "5", "5/min", "/minute", "05/minute", "5/minutes", "x/second",
                          "5/Minute", "1234567890/day"}) {
    auto r = iptables_rate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << r.error().message;
  }
  auto fast = iptables_rate("10001/second");
  ASSERT_FALSE(fast.ok());
  EXPECT_NE(fast.error().message.find("10000/second"), std::string::npos) << fast.error().message;
}

TEST(IptablesBackend, ArtefactNamesPerFamily) {
  auto v4 = render(sample_plan(), Family::v4);
  auto v6 = render(sample_plan(), Family::v6);
  ASSERT_EQ(v4.size(), 3u);
  ASSERT_EQ(v6.size(), 3u);
  EXPECT_EQ(v4[0].filename, "rules.v4");
  EXPECT_EQ(v4[1].filename, "mailwarden-owned.v4");
  EXPECT_EQ(v4[2].filename, "mailwarden-load.v4.sh");
  EXPECT_EQ(v6[0].filename, "rules.v6");
  EXPECT_EQ(v6[1].filename, "mailwarden-owned.v6");
  EXPECT_EQ(v6[2].filename, "mailwarden-load.v6.sh");
  for (const auto& a : v4) EXPECT_FALSE(a.description.empty()) << a.filename;
  // The backend table's entries are these renderers.
  auto by_name = find_backend("ip6tables")->render(sample_plan());
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ((*by_name)[0].content, v6[0].content);
}

TEST(IptablesBackend, CompleteFileIsTheWholeFilterTable) {
  auto rules = file(render(sample_plan(), Family::v4), "rules.v4");
  auto ls = lines(rules);
  ASSERT_FALSE(ls.empty());
  EXPECT_EQ(ls.back(), "COMMIT");
  EXPECT_TRUE(has_line(rules, "*filter"));
  EXPECT_TRUE(has_line(rules, ":INPUT DROP [0:0]"));
  EXPECT_TRUE(has_line(rules, ":FORWARD DROP [0:0]"));
  EXPECT_TRUE(has_line(rules, ":OUTPUT ACCEPT [0:0]"));
  auto input = chain_rules(rules, "INPUT");
  ASSERT_GE(input.size(), 3u);
  EXPECT_EQ(input.front(), "-i lo -j ACCEPT");
  EXPECT_EQ(input.back(), "-j DROP");
  EXPECT_EQ(rules.find("MAILWARDEN-"), std::string::npos);
  // The Zimbra wiki's scan protections, and NEW without SYN.
  for (const char* r : {"-p tcp --tcp-flags ALL NONE -j DROP", "-p tcp --tcp-flags ALL ALL -j DROP",
                        "-p tcp ! --syn -m conntrack --ctstate NEW -j DROP",
                        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                        "-m conntrack --ctstate INVALID -j DROP", "-s 127.0.0.0/8 -j DROP"}) {
    EXPECT_TRUE(has_line(rules, std::string("-A INPUT ") + r)) << r;
  }
  EXPECT_TRUE(has_line(rules,
                       "-A INPUT -p udp --dport 11211 -m comment --comment \"never opened "
                       "(memcached UDP: amplification)\" -j DROP"));
  EXPECT_TRUE(has_line(rules, "-A INPUT -p tcp -m multiport --dports 25,443 -j ACCEPT"));
}

TEST(IptablesBackend, OwnedFileTouchesOnlyItsChains) {
  auto owned = file(render(sample_plan(), Family::v4), "mailwarden-owned.v4");
  EXPECT_TRUE(has_line(owned, ":MAILWARDEN-INPUT - [0:0]"));
  EXPECT_TRUE(has_line(owned, ":MAILWARDEN-OUTPUT - [0:0]"));
  EXPECT_TRUE(has_line(owned, "-F MAILWARDEN-INPUT"));
  EXPECT_TRUE(has_line(owned, "-F MAILWARDEN-OUTPUT"));
  for (const auto& l : lines(owned)) {
    if (l.empty() || l[0] == '#' || l == "*filter" || l == "COMMIT") continue;
    EXPECT_NE(l.find("MAILWARDEN-"), std::string::npos) << "touches a foreign chain: " << l;
  }
  // No built-in chain is declared (that would reset its policy), no jump is added here.
  EXPECT_EQ(owned.find(":INPUT"), std::string::npos);
  EXPECT_EQ(owned.find("-j MAILWARDEN"), std::string::npos);
  auto input = chain_rules(owned, "MAILWARDEN-INPUT");
  ASSERT_FALSE(input.empty());
  EXPECT_EQ(input.back(), "-j DROP");
  EXPECT_EQ(lines(owned).back(), "COMMIT");
  // The same decisions as the complete file, chain name aside.
  EXPECT_EQ(input, chain_rules(file(render(sample_plan(), Family::v4), "rules.v4"), "INPUT"));
}

TEST(IptablesBackend, LoaderEnsuresOneJump) {
  auto loader = file(render(sample_plan(), Family::v6), "mailwarden-load.v6.sh");
  EXPECT_EQ(lines(loader).front(), "#!/bin/sh");
  EXPECT_TRUE(has_line(loader, "ipt=${IP6TABLES:-ip6tables}"));
  EXPECT_TRUE(has_line(loader, "\"$ipt-restore\" -w --noflush \"$dir/mailwarden-owned.v6\""));
  EXPECT_TRUE(has_line(loader, "ensure_jump INPUT MAILWARDEN-INPUT"));
  EXPECT_TRUE(has_line(loader, "ensure_jump OUTPUT MAILWARDEN-OUTPUT"));
  auto plan = sample_plan();
  plan.egress_smtp_restricted = false;
  auto no_egress = file(render(plan, Family::v6), "mailwarden-load.v6.sh");
  EXPECT_TRUE(has_line(no_egress, "ensure_jump INPUT MAILWARDEN-INPUT"));
  EXPECT_FALSE(has_line(no_egress, "ensure_jump OUTPUT MAILWARDEN-OUTPUT"));
}

TEST(IptablesBackend, Ip6tablesIsNotACopyOfIptables) {
  auto v6 = render(sample_plan(), Family::v6);
  for (const auto& a : v6) {
    EXPECT_EQ(a.content.find("icmp-host-prohibited"), std::string::npos) << a.filename;
    EXPECT_EQ(a.content.find("-p icmp "), std::string::npos) << a.filename;
    EXPECT_EQ(a.content.find("--icmp-type"), std::string::npos) << a.filename;
    EXPECT_EQ(a.content.find("127.0.0.0/8"), std::string::npos) << a.filename;
  }
  auto rules = file(v6, "rules.v6");
  EXPECT_TRUE(has_line(rules, "-A INPUT -s ::1/128 -j DROP"));
  for (const char* t :
       {"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"}) {
    EXPECT_TRUE(
        has_line(rules, std::string("-A INPUT -p ipv6-icmp --icmpv6-type ") + t + " -j ACCEPT"))
        << t;
  }
  for (const char* t : {"router-solicitation", "router-advertisement", "neighbour-solicitation",
                        "neighbour-advertisement"}) {
    EXPECT_TRUE(has_line(rules, std::string("-A INPUT -p ipv6-icmp --icmpv6-type ") + t +
                                    " -m hl --hl-eq 255 -j ACCEPT"))
        << t;
  }
  for (int t : {130, 131, 143}) {
    EXPECT_TRUE(has_line(rules, "-A INPUT -s fe80::/10 -p ipv6-icmp --icmpv6-type " +
                                    std::to_string(t) + " -j ACCEPT"))
        << t;
  }
  EXPECT_TRUE(has_line(rules,
                       "-A INPUT -p ipv6-icmp --icmpv6-type echo-request -m limit --limit 10/sec "
                       "--limit-burst 20 -j ACCEPT"));
  auto v4 = file(render(sample_plan(), Family::v4), "rules.v4");
  EXPECT_EQ(v4.find("ipv6-icmp"), std::string::npos);
  EXPECT_EQ(v4.find("icmp-host-prohibited"), std::string::npos);
  EXPECT_TRUE(has_line(v4,
                       "-A INPUT -p icmp --icmp-type echo-request -m limit --limit 10/sec "
                       "--limit-burst 20 -j ACCEPT"));
}

TEST(IptablesBackend, OneRulePerSourcePrefixPerFamily) {
  auto v4 = file(render(sample_plan(), Family::v4), "rules.v4");
  auto v6 = file(render(sample_plan(), Family::v6), "rules.v6");
  EXPECT_TRUE(
      has_line(v4, "-A INPUT -s 198.51.100.0/28 -p tcp -m multiport --dports 22,9071 -j ACCEPT"));
  EXPECT_TRUE(
      has_line(v4, "-A INPUT -s 203.0.113.5/32 -p tcp -m multiport --dports 22,9071 -j ACCEPT"));
  EXPECT_EQ(v4.find("2001:db8"), std::string::npos);
  EXPECT_TRUE(
      has_line(v6, "-A INPUT -s 2001:db8:ad::/120 -p tcp -m multiport --dports 22,9071 -j ACCEPT"));
  EXPECT_EQ(v6.find("198.51.100"), std::string::npos);
  EXPECT_EQ(v6.find("203.0.113"), std::string::npos);
  // An admin class with no prefix of the family is closed to it, and says so.
  auto plan = sample_plan();
  plan.admin = AddressSet::of(*parse_prefix("198.51.100.0/28"));
  auto closed = file(render(plan, Family::v6), "rules.v6");
  for (const auto& r : chain_rules(closed, "INPUT")) EXPECT_EQ(r.find("9071"), std::string::npos);
  EXPECT_NE(comment_text(closed).find("there is no IPv6 admin network"), std::string::npos);
  // Cluster sources, likewise one rule per prefix and port list.
  plan.openings.push_back(opening(P::tcp, 389, Exposure::cluster));
  plan.openings.push_back(opening(P::udp, 11212, Exposure::cluster));
  plan.cluster = AddressSet::of({*parse_prefix("192.0.2.11"), *parse_prefix("192.0.2.12")});
  auto cl = file(render(plan, Family::v4), "rules.v4");
  EXPECT_TRUE(has_line(cl, "-A INPUT -s 192.0.2.11/32 -p tcp --dport 389 -j ACCEPT"));
  EXPECT_TRUE(has_line(cl, "-A INPUT -s 192.0.2.12/32 -p tcp --dport 389 -j ACCEPT"));
  EXPECT_TRUE(has_line(cl, "-A INPUT -s 192.0.2.11/32 -p udp --dport 11212 -j ACCEPT"));
}

TEST(IptablesBackend, EgressOwnerRuleInOutputOnly) {
  const std::string reject =
      "-p tcp --dport 25 -m conntrack --ctstate NEW -m owner ! --uid-owner postfix -m comment "
      "--comment \"outbound SMTP only from the MTA\" -j REJECT --reject-with tcp-reset";
  for (Family f : {Family::v4, Family::v6}) {
    auto as = render(sample_plan(), f);
    auto names = iptables_file_names(f);
    auto rules = file(as, names.rules);
    auto owned = file(as, names.owned);
    EXPECT_EQ(chain_rules(rules, "OUTPUT"), (std::vector<std::string>{"-o lo -j ACCEPT", reject}));
    EXPECT_EQ(chain_rules(owned, "MAILWARDEN-OUTPUT"),
              (std::vector<std::string>{"-o lo -j RETURN", reject}));
    for (const auto& r : chain_rules(rules, "INPUT")) {
      EXPECT_EQ(r.find("owner"), std::string::npos) << r;
    }
  }
  auto plan = sample_plan();
  plan.egress_smtp_restricted = false;
  auto rules = file(render(plan, Family::v4), "rules.v4");
  EXPECT_TRUE(chain_rules(rules, "OUTPUT").empty());
  auto owned = file(render(plan, Family::v4), "mailwarden-owned.v4");
  // Still declared and flushed, so that an earlier restriction is lifted; but empty.
  EXPECT_TRUE(has_line(owned, ":MAILWARDEN-OUTPUT - [0:0]"));
  EXPECT_TRUE(chain_rules(owned, "MAILWARDEN-OUTPUT").empty());
}

TEST(IptablesBackend, RateLimitedLogBeforeTheDrop) {
  auto input = chain_rules(file(render(sample_plan(), Family::v4), "rules.v4"), "INPUT");
  ASSERT_GE(input.size(), 2u);
  EXPECT_EQ(input[input.size() - 2],
            "-m limit --limit 5/min --limit-burst 10 -j LOG --log-prefix \"mailwarden-drop: \" "
            "--log-level 6");
  auto plan = sample_plan();
  plan.log_drops = false;
  plan.log_rate = "nonsense";  // unused when nothing is logged
  auto quiet = file(render(plan, Family::v4), "rules.v4");
  EXPECT_EQ(quiet.find("-j LOG"), std::string::npos);
}

TEST(IptablesBackend, Header) {
  for (Family f : {Family::v4, Family::v6}) {
    auto as = render(sample_plan(), f);
    const char* backend = f == Family::v4 ? "iptables" : "ip6tables";
    for (const auto& a : as) {
      auto ls = lines(a.content);
      std::size_t first = ls.at(0) == "#!/bin/sh" ? 1 : 0;
      EXPECT_EQ(ls.at(first).rfind("# mailwarden firewall for mail.example.com (zimbra, single "
                                   "server): ",
                                   0),
                0u)
          << a.filename << ": " << ls.at(first);
      EXPECT_EQ(ls.at(first + 1), std::string("# Generated from t.toml by `mailwarden firewall "
                                              "generate --backend ") +
                                      backend + "`.")
          << a.filename;
      EXPECT_EQ(ls.at(first + 2), "# Do not edit: change the policy and generate again.");
    }
    for (const auto& name : {iptables_file_names(f).rules, iptables_file_names(f).owned}) {
      auto text = file(as, name);
      EXPECT_NE(text.find("# NOTE: Admin console through the proxy on 9071"), std::string::npos);
      EXPECT_TRUE(has_line(text, "#   389/tcp ldap: loopback only")) << name;
      // Everything before *filter is comment or blank: iptables-restore skips it.
      for (const auto& l : lines(text.substr(0, text.find("*filter")))) {
        EXPECT_TRUE(l.empty() || l[0] == '#') << name << ": " << l;
      }
    }
  }
  auto rules = file(render(sample_plan(), Family::v4), "rules.v4");
  EXPECT_NE(comment_text(rules).find("install as /etc/iptables/rules.v4"), std::string::npos);
  EXPECT_NE(comment_text(rules).find("FORWARD DROP: a mail server is not a router"),
            std::string::npos);
  auto owned = file(render(sample_plan(), Family::v6), "mailwarden-owned.v6");
  EXPECT_NE(comment_text(owned).find("`ip6tables-restore --noflush mailwarden-owned.v6`"),
            std::string::npos)
      << comment_text(owned);
}

TEST(IptablesBackend, Deterministic) {
  for (Family f : {Family::v4, Family::v6}) {
    auto a = render(sample_plan(), f);
    auto b = render(sample_plan(), f);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].content, b[i].content);
  }
}

TEST(IptablesBackend, RefusesExchange) {
  auto plan = sample_plan();
  plan.product = "exchange";
  auto v4 = render_iptables(plan);
  auto v6 = render_ip6tables(plan);
  ASSERT_FALSE(v4.ok());
  ASSERT_FALSE(v6.ok());
  EXPECT_EQ(v4.error().message.rfind("t.toml: --backend iptables: ", 0), 0u) << v4.error().message;
  EXPECT_EQ(v6.error().message.rfind("t.toml: --backend ip6tables: ", 0), 0u) << v6.error().message;
}

TEST(IptablesBackend, RefusesStringsThatWouldBreakTheRules) {
  auto plan = sample_plan();
  plan.log_prefix = "drop\" -j ACCEPT \"";
  auto r = render_iptables(plan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.toml: logging.prefix"), std::string::npos)
      << r.error().message;
  plan = sample_plan();
  plan.log_prefix = std::string(30, 'x');  // --log-prefix holds 29
  EXPECT_FALSE(render_iptables(plan).ok());
  plan = sample_plan();
  plan.egress_mta_user = "--uid-owner";
  r = render_ip6tables(plan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("egress.mta_user '--uid-owner'"), std::string::npos)
      << r.error().message;
  plan = sample_plan();
  plan.log_rate = "20000/second";
  r = render_iptables(plan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.toml: logging.rate: '20000/second'"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace mw

// ufw backend: profile split at ufw's 15-port limit, classes kept apart, command order, and
// the script's meaning (read back from its text) equal to the plan for every example.
#include "firewall/ufw_backend.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "firewall/backends.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

using P = Protocol;

// ---- reading the artefacts back, independently of the writer ----

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

// ufw's "25,7071:7074/tcp" back into a protocol and a port set.
std::pair<Protocol, PortSet> parse_ufw_ports(const std::string& text) {
  auto slash = text.rfind('/');
  EXPECT_NE(slash, std::string::npos) << text;
  auto proto = parse_protocol(text.substr(slash + 1));
  EXPECT_TRUE(proto.ok()) << text;
  PortSet ports;
  std::istringstream in(text.substr(0, slash));
  for (std::string item; std::getline(in, item, ',');) {
    auto colon = item.find(':');
    if (colon == std::string::npos) {
      ports.add(static_cast<std::uint16_t>(std::stoi(item)));
    } else {
      int lo = std::stoi(item.substr(0, colon)), hi = std::stoi(item.substr(colon + 1));
      EXPECT_LT(lo, hi) << "ufw refuses a range whose ends are equal or reversed: " << item;
      ports.add(static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi));
    }
  }
  return {proto.ok() ? *proto : P::tcp, ports};
}

struct ProfileText {
  std::map<std::string, std::string> fields;
};

// The profile file as ufw's RawConfigParser reads it: [section], key=value, '#' comments.
std::map<std::string, ProfileText> parse_profiles(const std::string& text) {
  std::map<std::string, ProfileText> out;
  std::string section;
  for (const auto& l : lines_of(text)) {
    if (l.empty() || l[0] == '#') continue;
    EXPECT_FALSE(l[0] == ' ' || l[0] == '\t') << "a continuation line: " << l;
    if (l[0] == '[') {
      section = l.substr(1, l.size() - 2);
      EXPECT_FALSE(out.count(section)) << "profile twice: " << section;
      out[section];
      continue;
    }
    auto eq = l.find('=');
    if (eq == std::string::npos) {
      ADD_FAILURE() << "not key=value: " << l;
      continue;
    }
    EXPECT_FALSE(section.empty()) << l;
    out[section].fields[l.substr(0, eq)] = l.substr(eq + 1);
  }
  return out;
}

const Artefact& artefact(const std::vector<Artefact>& all, std::string_view name) {
  for (const auto& a : all) {
    if (a.filename == name) return a;
  }
  ADD_FAILURE() << "no artefact " << name;
  static Artefact none;
  return none;
}

std::vector<std::string> ufw_commands(const std::string& script) {
  std::vector<std::string> out;
  for (const auto& l : lines_of(script)) {
    if (starts_with(l, "ufw ")) out.push_back(l);
  }
  return out;
}

// What the script lets in: for each (protocol, port), the sources of its allow rules, from
// the commands' text and the profiles' ports. ufw's `deny` rules come first and match
// nothing the plan opens, so only `allow` matters here.
std::map<std::pair<Protocol, std::uint16_t>, AddressSet> script_exposure(
    const std::vector<Artefact>& all) {
  auto profiles = parse_profiles(artefact(all, kUfwProfileFile).content);
  std::map<std::pair<Protocol, std::uint16_t>, AddressSet> out;
  auto open = [&](Protocol proto, const PortSet& ports, const AddressSet& from) {
    for (const auto& iv : ports.intervals().intervals()) {
      for (unsigned p = iv.lo; p <= iv.hi; ++p) {
        auto& s = out[{proto, static_cast<std::uint16_t>(p)}];
        s = s.unite(from);
      }
    }
  };
  auto app_ports = [&](std::string quoted) {
    EXPECT_TRUE(quoted.size() > 2 && quoted.front() == '\'' && quoted.back() == '\'') << quoted;
    std::string name = quoted.substr(1, quoted.size() - 2);
    EXPECT_TRUE(profiles.count(name)) << "no profile " << name;
    return parse_ufw_ports(profiles[name].fields["ports"]);
  };
  for (const auto& cmd : ufw_commands(artefact(all, kUfwScriptFile).content)) {
    std::istringstream in(cmd);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    if (w.size() < 3 || w[1] != "allow") continue;
    if (w.size() == 3 && w[2][0] == '\'') {  // ufw allow 'profile'
      auto [proto, ports] = app_ports(w[2]);
      open(proto, ports, AddressSet::any());
    } else if (w.size() == 3) {  // ufw allow 22/tcp
      auto [proto, ports] = parse_ufw_ports(w[2]);
      open(proto, ports, AddressSet::any());
    } else if (w.size() == 8 && w[2] == "from" && w[4] == "to" && w[5] == "any" && w[6] == "app") {
      auto prefix = parse_prefix(w[3]);
      if (!prefix.ok()) {
        ADD_FAILURE() << cmd;
        continue;
      }
      auto [proto, ports] = app_ports(w[7]);
      open(proto, ports, AddressSet::of(*prefix));
    } else if (w.size() == 10 && w[2] == "from" && w[4] == "to" && w[5] == "any" &&
               w[6] == "port" && w[8] == "proto") {
      auto prefix = parse_prefix(w[3]);
      if (!prefix.ok()) {
        ADD_FAILURE() << cmd;
        continue;
      }
      auto [proto, ports] = parse_ufw_ports(w[7] + "/" + w[9]);
      open(proto, ports, AddressSet::of(*prefix));
    } else {
      ADD_FAILURE() << "unexpected command: " << cmd;
    }
  }
  return out;
}

// ---- plans ----

FirewallPlan example(const std::string& file, const std::string& node = "") {
  auto loaded = load_policy(std::string(MW_SOURCE_DIR) + "/examples/" + file);
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  auto site = policy_for_node(loaded->policy, node);
  EXPECT_TRUE(site.ok()) << site.error().message;
  auto plan = make_plan(*site, loaded->catalog);
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return *plan;
}

struct Example {
  std::string file, node;
};
const std::vector<Example> kExamples = {
    {"zimbra-single.toml", ""},
    {"postfix-dovecot.toml", ""},
    {"zimbra-multi.toml", "mta1.example.com"},
    {"zimbra-multi.toml", "proxy1.example.com"},
    {"zimbra-multi.toml", "mbox1.example.com"},
    {"zimbra-multi.toml", "ldap1.example.com"},
};

FirewallPlan small_plan() {
  FirewallPlan plan;
  plan.policy_source = "t.toml";
  plan.product = "postfix-dovecot";
  plan.hostname = "mx.example.org";
  plan.admin = AddressSet::of({*parse_prefix("198.51.100.0/28"), *parse_prefix("2001:db8:ad::/64"),
                               *parse_prefix("203.0.113.5/32")});
  plan.cluster =
      AddressSet::of({*parse_prefix("192.0.2.11/32"), *parse_prefix("2001:db8:c::/120")});
  plan.openings = {{P::tcp, 22, Exposure::admin, "ssh", "policy"},
                   {P::tcp, 25, Exposure::public_, "smtp", "catalog"},
                   {P::tcp, 443, Exposure::public_, "https", "catalog"},
                   {P::tcp, 7025, Exposure::cluster, "lmtp", "catalog"},
                   {P::tcp, 9100, Exposure::admin, "node-exporter", "policy"},
                   {P::udp, 161, Exposure::admin, "snmp", "policy"}};
  plan.never_udp.add(11211);
  plan.log_drops = true;
  plan.log_rate = "5/minute";
  plan.log_prefix = "mailwarden-drop: ";
  return plan;
}

Result<std::vector<Artefact>> render(const FirewallPlan& plan) {
  return render_ufw(plan);
}

// ---- tests ----

TEST(UfwPorts, RangesTakeTwoSlotsAndUseColons) {
  PortSet s;
  s.add(25);
  s.add(465);
  s.add(7071, 7074);
  s.add(8735, 8736);
  EXPECT_EQ(ufw_port_slots(s), 6u);
  EXPECT_EQ(ufw_port_list(s, P::tcp), "25,465,7071:7074,8735:8736/tcp");
  PortSet one;
  one.add(11211);
  EXPECT_EQ(ufw_port_list(one, P::udp), "11211/udp");
}

TEST(UfwProfiles, SplitAtFifteenSlotsWithRangesCountingTwo) {
  FirewallPlan plan = small_plan();
  plan.openings.clear();
  // 14 single ports, then a range: 16 slots, so the range starts a second profile.
  for (std::uint16_t p = 1000; p < 1028; p += 2) {
    plan.openings.push_back({P::tcp, p, Exposure::public_, "s", ""});
  }
  for (std::uint16_t p = 2000; p <= 2009; ++p) {
    plan.openings.push_back({P::tcp, p, Exposure::public_, "r", ""});
  }
  // Then 20 more singles: 2 (the range) + 13 fill the second profile, 7 go to a third.
  for (std::uint16_t p = 3000; p < 3040; p += 2) {
    plan.openings.push_back({P::tcp, p, Exposure::public_, "t", ""});
  }
  auto profiles = ufw_profiles(plan);
  ASSERT_EQ(profiles.size(), 3u);
  EXPECT_EQ(profiles[0].name, "mailwarden-public-tcp");
  EXPECT_EQ(profiles[1].name, "mailwarden-public-tcp-2");
  EXPECT_EQ(profiles[2].name, "mailwarden-public-tcp-3");
  EXPECT_EQ(ufw_port_slots(profiles[0].ports), 14u);
  EXPECT_EQ(ufw_port_slots(profiles[1].ports), 15u);
  EXPECT_EQ(ufw_port_slots(profiles[2].ports), 7u);
  EXPECT_TRUE(profiles[1].ports.contains(2000) && profiles[1].ports.contains(2009));
  PortSet all;
  for (const auto& p : profiles) {
    EXPECT_LE(ufw_port_slots(p.ports), kUfwMaxPortSlots) << p.name;
    EXPECT_TRUE(all.intersect(p.ports).empty()) << p.name << " repeats a port";
    all = all.unite(p.ports);
  }
  EXPECT_EQ(all, plan.ports(P::tcp, Exposure::public_));

  // Exactly 15 slots (11 ports and 2 ranges, like a Zimbra mailbox node) stay one profile.
  plan.openings.clear();
  for (std::uint16_t p = 5000; p < 5022; p += 2) {
    plan.openings.push_back({P::tcp, p, Exposure::cluster, "c", ""});
  }
  for (std::uint16_t p : {6000, 6001, 6002, 6100, 6101}) {
    plan.openings.push_back({P::tcp, p, Exposure::cluster, "c", ""});
  }
  profiles = ufw_profiles(plan);
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(ufw_port_slots(profiles[0].ports), 15u);
}

TEST(UfwProfiles, EachProfileHoldsOneClassAndSshNone) {
  auto profiles = ufw_profiles(small_plan());
  std::map<std::string, std::string> got;
  for (const auto& p : profiles) got[p.name] = ufw_port_list(p.ports, p.protocol);
  std::map<std::string, std::string> want = {{"mailwarden-public-tcp", "25,443/tcp"},
                                             {"mailwarden-admin-tcp", "9100/tcp"},
                                             {"mailwarden-admin-udp", "161/udp"},
                                             {"mailwarden-cluster-tcp", "7025/tcp"}};
  EXPECT_EQ(got, want);
}

// Over every example: the profiles allowed from anywhere hold public ports only, and the
// script as a whole (commands + profiles, read back from text) opens each port to exactly the
// plan's sources.
TEST(UfwBackend, ScriptMeansThePlanForEveryExample) {
  for (const auto& ex : kExamples) {
    SCOPED_TRACE(ex.file + " " + ex.node);
    FirewallPlan plan = example(ex.file, ex.node);
    auto out = render(plan);
    ASSERT_TRUE(out.ok()) << out.error().message;
    auto profiles = parse_profiles(artefact(*out, kUfwProfileFile).content);
    EXPECT_FALSE(profiles.empty());
    for (auto& [name, p] : profiles) {
      EXPECT_TRUE(starts_with(name, "mailwarden-")) << name;
      EXPECT_LE(name.size(), 64u);
      for (const char* f : {"title", "description", "ports"}) {
        EXPECT_FALSE(p.fields[f].empty()) << name << " " << f;
        EXPECT_LE(p.fields[f].size(), 1024u) << name << " " << f;
      }
      auto [proto, ports] = parse_ufw_ports(p.fields["ports"]);
      EXPECT_LE(ufw_port_slots(ports), kUfwMaxPortSlots) << name;
    }
    auto script = artefact(*out, kUfwScriptFile).content;
    for (const auto& cmd : ufw_commands(script)) {
      if (!starts_with(cmd, "ufw allow '")) continue;
      std::string name = cmd.substr(11, cmd.size() - 12);
      auto [proto, ports] = parse_ufw_ports(profiles[name].fields["ports"]);
      EXPECT_TRUE(ports.subtract(plan.ports(proto, Exposure::public_)).empty())
          << name << " is allowed from anywhere but holds a non-public port: "
          << profiles[name].fields["ports"];
    }
    auto exposure = script_exposure(*out);
    std::set<std::pair<Protocol, std::uint16_t>> ports;
    for (const auto& o : plan.openings) ports.insert({o.protocol, o.port});
    for (const auto& [k, v] : exposure) ports.insert(k);
    for (const auto& c : plan.closed) ports.insert({c.protocol, c.port});
    for (auto [proto, port] : ports) {
      auto key = std::pair{proto, port};
      EXPECT_EQ(exposure[key].to_string(), plan.allowed_sources(proto, port).to_string())
          << port << "/" << protocol_name(proto);
    }
  }
}

TEST(UfwScript, CommandsInOrder) {
  auto out = render(small_plan());
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::vector<std::string> want = {
      "ufw app info 'mailwarden-public-tcp' >/dev/null",
      "ufw app info 'mailwarden-admin-tcp' >/dev/null",
      "ufw app info 'mailwarden-admin-udp' >/dev/null",
      "ufw app info 'mailwarden-cluster-tcp' >/dev/null",
      "ufw default deny incoming",
      "ufw default allow outgoing",
      "ufw deny 11211/udp",
      "ufw allow from 198.51.100.0/28 to any port 22 proto tcp",
      "ufw allow from 203.0.113.5/32 to any port 22 proto tcp",
      "ufw allow from 2001:db8:ad::/64 to any port 22 proto tcp",
      "ufw allow 'mailwarden-public-tcp'",
      "ufw allow from 198.51.100.0/28 to any app 'mailwarden-admin-tcp'",
      "ufw allow from 203.0.113.5/32 to any app 'mailwarden-admin-tcp'",
      "ufw allow from 2001:db8:ad::/64 to any app 'mailwarden-admin-tcp'",
      "ufw allow from 198.51.100.0/28 to any app 'mailwarden-admin-udp'",
      "ufw allow from 203.0.113.5/32 to any app 'mailwarden-admin-udp'",
      "ufw allow from 2001:db8:ad::/64 to any app 'mailwarden-admin-udp'",
      "ufw allow from 192.0.2.11/32 to any app 'mailwarden-cluster-tcp'",
      "ufw allow from 2001:db8:c::/120 to any app 'mailwarden-cluster-tcp'",
      "ufw app update 'mailwarden-public-tcp'",
      "ufw app update 'mailwarden-admin-tcp'",
      "ufw app update 'mailwarden-admin-udp'",
      "ufw app update 'mailwarden-cluster-tcp'",
      "ufw logging low",
      "ufw --force enable",
      "ufw status verbose",
  };
  EXPECT_EQ(ufw_commands(artefact(*out, kUfwScriptFile).content), want);
  // The shell stops at the first failing command, and the IPv6 guard runs before any ufw.
  auto script = artefact(*out, kUfwScriptFile).content;
  EXPECT_TRUE(starts_with(script, "#!/bin/sh\n"));
  auto set_e = script.find("\nset -e\n");
  auto guard = script.find("/etc/default/ufw ||");
  auto first_ufw = script.find("\nufw ");
  ASSERT_NE(set_e, std::string::npos);
  EXPECT_LT(set_e, guard);
  EXPECT_LT(guard, first_ufw);
}

TEST(UfwScript, EveryIpv6PrefixGetsItsOwnAllowFrom) {
  auto out = render(small_plan());
  ASSERT_TRUE(out.ok());
  auto cmds = ufw_commands(artefact(*out, kUfwScriptFile).content);
  int v6 = 0;
  for (const auto& c : cmds) {
    if (!starts_with(c, "ufw allow from ")) continue;
    std::string src = c.substr(15, c.find(' ', 15) - 15);
    auto p = parse_prefix(src);
    ASSERT_TRUE(p.ok()) << c;  // one prefix, not a list
    v6 += p->addr.family == Family::v6;
  }
  // 2001:db8:ad::/64 for SSH, both admin profiles; 2001:db8:c::/120 for the cluster profile.
  EXPECT_EQ(v6, 4);
}

TEST(UfwScript, PublicSshIsAPortRule) {
  FirewallPlan plan = small_plan();
  plan.openings[0].exposure = Exposure::public_;
  auto out = render(plan);
  ASSERT_TRUE(out.ok());
  auto cmds = ufw_commands(artefact(*out, kUfwScriptFile).content);
  EXPECT_NE(std::find(cmds.begin(), cmds.end(), "ufw allow 22/tcp"), cmds.end());
  for (const auto& c : cmds) EXPECT_EQ(c.find("port 22 "), std::string::npos) << c;
}

TEST(UfwScript, LoggingFollowsThePlan) {
  FirewallPlan plan = small_plan();
  auto on = render(plan);
  plan.log_drops = false;
  auto off = render(plan);
  ASSERT_TRUE(on.ok() && off.ok());
  auto on_cmds = ufw_commands(artefact(*on, kUfwScriptFile).content);
  auto off_cmds = ufw_commands(artefact(*off, kUfwScriptFile).content);
  EXPECT_NE(std::find(on_cmds.begin(), on_cmds.end(), "ufw logging low"), on_cmds.end());
  EXPECT_NE(std::find(off_cmds.begin(), off_cmds.end(), "ufw logging off"), off_cmds.end());
  EXPECT_EQ(std::find(off_cmds.begin(), off_cmds.end(), "ufw logging low"), off_cmds.end());
}

TEST(UfwBackend, EgressRuleOnlyInTheFragmentsAndSaidSo) {
  FirewallPlan plan = small_plan();
  auto plain = render(plan);
  plan.egress_smtp_restricted = true;
  plan.egress_mta_user = "postfix";
  auto restricted = render(plan);
  ASSERT_TRUE(plain.ok() && restricted.ok());
  const std::string rule =
      "-A ufw-before-output -p tcp --dport 25 -m conntrack --ctstate NEW -m owner ! "
      "--uid-owner postfix -j REJECT --reject-with tcp-reset\n";
  const std::string rule6 =
      "-A ufw6-before-output -p tcp --dport 25 -m conntrack --ctstate NEW -m owner ! "
      "--uid-owner postfix -j REJECT --reject-with tcp-reset\n";
  EXPECT_NE(artefact(*restricted, kUfwBeforeFragmentFile).content.find(rule), std::string::npos);
  EXPECT_NE(artefact(*restricted, kUfwBefore6FragmentFile).content.find(rule6), std::string::npos);
  EXPECT_EQ(artefact(*plain, kUfwBeforeFragmentFile).content.find("owner"), std::string::npos);
  EXPECT_EQ(artefact(*plain, kUfwBefore6FragmentFile).content.find("owner"), std::string::npos);
  EXPECT_NE(artefact(*restricted, kUfwScriptFile).content.find("OUTBOUND SMTP IS NOT RESTRICTED"),
            std::string::npos);
  EXPECT_EQ(artefact(*plain, kUfwScriptFile).content.find("OUTBOUND SMTP"), std::string::npos);
  // Fragments are iptables-restore lines: comments or rules of ufw's own before chains.
  for (const auto* f : {&kUfwBeforeFragmentFile, &kUfwBefore6FragmentFile}) {
    for (const auto& l : lines_of(artefact(*restricted, *f).content)) {
      EXPECT_TRUE(l.empty() || l[0] == '#' || starts_with(l, "-A ufw-before-") ||
                  starts_with(l, "-A ufw6-before-"))
          << *f << ": " << l;
    }
  }
  plan.egress_mta_user = "postfix -j ACCEPT";
  auto bad = render(plan);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.toml"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("not a user name"), std::string::npos);
}

// A service name from a policy comment cannot end a '#' comment and become a command.
TEST(UfwBackend, FreeTextStaysInComments) {
  FirewallPlan plan = small_plan();
  plan.openings[4].service = "exporter\nrm -rf /\r";
  plan.closed.push_back({P::tcp, 9200, "x\nreboot", "why\nhalt"});
  auto out = render(plan);
  ASSERT_TRUE(out.ok());
  for (const auto& a : *out) {
    for (const auto& l : lines_of(a.content)) {
      EXPECT_FALSE(starts_with(l, "rm ") || starts_with(l, "reboot") || starts_with(l, "halt"))
          << a.filename << ": " << l;
      EXPECT_EQ(l.find('\r'), std::string::npos) << a.filename;
    }
  }
  auto profiles = parse_profiles(artefact(*out, kUfwProfileFile).content);
  EXPECT_NE(profiles["mailwarden-admin-tcp"].fields["description"].find("exporter rm -rf /"),
            std::string::npos);
}

TEST(UfwBackend, ExchangeIsRefused) {
  FirewallPlan plan = small_plan();
  plan.product = "exchange";
  auto out = render(plan);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("--backend ufw"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("t.toml"), std::string::npos) << out.error().message;
  const Backend* b = find_backend("ufw");
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->render(plan).ok());
}

TEST(UfwBackend, FixedNamesAndDeterministic) {
  FirewallPlan plan = example("zimbra-single.toml");
  auto a = render(plan), b = render(plan);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 4u);
  EXPECT_EQ((*a)[0].filename, "mailwarden");
  EXPECT_EQ((*a)[1].filename, "mailwarden-ufw.sh");
  EXPECT_EQ((*a)[2].filename, "mailwarden-before.rules");
  EXPECT_EQ((*a)[3].filename, "mailwarden-before6.rules");
  for (std::size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].content, (*b)[i].content);
    EXPECT_FALSE((*a)[i].content.empty());
    EXPECT_EQ((*a)[i].content.back(), '\n');
    EXPECT_EQ((*a)[i].content[0], '#') << "each file opens with a comment";
  }
}

}  // namespace
}  // namespace mw

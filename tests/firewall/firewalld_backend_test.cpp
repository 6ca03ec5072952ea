// firewalld backend: who may reach each port according to the generated zone and services
// (read back as firewalld would), escaping of untrusted text, and the facts of real firewalld
// output that the design relies on.
#include "firewall/firewalld_backend.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "core/subprocess.hpp"
#include "firewall/backends.hpp"
#include "policy/policy.hpp"

namespace mw {
namespace {

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/tests/data/firewalld/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every (example, node) the golden tests cover, with its plan.
struct ExamplePlan {
  std::string name;
  FirewallPlan plan;
};

std::vector<ExamplePlan> example_plans() {
  std::vector<ExamplePlan> out;
  for (const char* ex : {"zimbra-single", "zimbra-multi", "postfix-dovecot"}) {
    auto loaded = load_policy(fmt::format("{}/examples/{}.toml", MW_SOURCE_DIR, ex));
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      continue;
    }
    std::vector<std::string> nodes = {""};
    if (loaded->policy.topology == Topology::multi) nodes = node_names(loaded->policy);
    for (const auto& node : nodes) {
      auto site = policy_for_node(loaded->policy, node);
      if (!site.ok()) {
        ADD_FAILURE() << site.error().message;
        continue;
      }
      auto plan = make_plan(*site, loaded->catalog);
      if (!plan.ok()) {
        ADD_FAILURE() << plan.error().message;
        continue;
      }
      out.push_back({node.empty() ? ex : fmt::format("{}/{}", ex, node), *plan});
    }
  }
  return out;
}

std::vector<Artefact> render_ok(const FirewallPlan& plan) {
  auto r = render_firewalld(plan);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::vector<Artefact>{};
}

const Artefact* find(const std::vector<Artefact>& as, const std::string& name) {
  for (const auto& a : as) {
    if (a.filename == name) return &a;
  }
  return nullptr;
}

// The generated configuration read back the way firewalld reads it: services by name, the
// zone's own services, its rich rules.
struct ReadBack {
  std::map<std::string, std::pair<PortSet, PortSet>> services;  // name -> tcp, udp
  std::vector<std::string> zone_services;
  std::vector<std::string> zone_ports;  // plain <port>s: must stay empty
  std::string target;
  pugi::xml_document zone;
};

std::unique_ptr<ReadBack> read_back(const std::vector<Artefact>& artefacts) {
  auto rb = std::make_unique<ReadBack>();
  for (const auto& a : artefacts) {
    if (!a.filename.ends_with(".xml") || a.filename == kFirewalldZoneFile ||
        a.filename == kFirewalldDirectFile) {
      continue;
    }
    pugi::xml_document doc;
    auto res = doc.load_string(a.content.c_str());
    EXPECT_TRUE(res) << a.filename << ": " << res.description();
    auto& [tcp, udp] = rb->services[a.filename.substr(0, a.filename.size() - 4)];
    for (auto port : doc.child("service").children("port")) {
      std::string id = port.attribute("port").value();
      auto dash = id.find('-');
      auto lo = static_cast<std::uint16_t>(std::stoi(id.substr(0, dash)));
      auto hi = dash == std::string::npos
                    ? lo
                    : static_cast<std::uint16_t>(std::stoi(id.substr(dash + 1)));
      (std::string(port.attribute("protocol").value()) == "tcp" ? tcp : udp).add(lo, hi);
    }
  }
  const Artefact* zone = find(artefacts, kFirewalldZoneFile);
  EXPECT_NE(zone, nullptr);
  if (!zone) return rb;
  auto res = rb->zone.load_string(zone->content.c_str());
  EXPECT_TRUE(res) << res.description();
  auto z = rb->zone.child("zone");
  rb->target = z.attribute("target").value();
  for (auto s : z.children("service")) rb->zone_services.push_back(s.attribute("name").value());
  for (auto p : z.children("port")) rb->zone_ports.push_back(p.attribute("port").value());
  return rb;
}

bool service_has(const ReadBack& rb, const std::string& name, Protocol proto, std::uint16_t port) {
  auto it = rb.services.find(name);
  if (it == rb.services.end()) return false;
  return (proto == Protocol::tcp ? it->second.first : it->second.second).contains(port);
}

// Who may open a connection to (proto, port), by firewalld's evaluation order for what we
// write: drop rules (deny chain) first, then the zone's services and accept rules (allow
// chain), then target DROP.
AddressSet reachable(const ReadBack& rb, Protocol proto, std::uint16_t port) {
  auto z = rb.zone.child("zone");
  for (auto rule : z.children("rule")) {
    auto p = rule.child("port");
    if (!rule.child("drop") || !p) continue;
    std::string id = p.attribute("port").value();
    auto dash = id.find('-');
    int lo = std::stoi(id.substr(0, dash));
    int hi = dash == std::string::npos ? lo : std::stoi(id.substr(dash + 1));
    if (std::string(p.attribute("protocol").value()) == protocol_name(proto) && port >= lo &&
        port <= hi && !rule.child("source")) {
      return {};
    }
  }
  for (const auto& s : rb.zone_services) {
    if (service_has(rb, s, proto, port)) return AddressSet::any();
  }
  AddressSet out;
  for (auto rule : z.children("rule")) {
    auto svc = rule.child("service");
    if (!svc || !rule.child("accept")) continue;
    if (!service_has(rb, svc.attribute("name").value(), proto, port)) continue;
    auto src = rule.child("source");
    EXPECT_TRUE(src) << "an accept rule without a source opens " << svc.attribute("name").value()
                     << " to everyone";
    auto prefix = parse_prefix(src.attribute("address").value());
    EXPECT_TRUE(prefix.ok()) << src.attribute("address").value();
    if (!prefix.ok()) continue;
    std::string family = rule.attribute("family").value();
    EXPECT_EQ(family, prefix->addr.family == Family::v4 ? "ipv4" : "ipv6")
        << "rule family and source address disagree: " << src.attribute("address").value();
    out = out.unite(AddressSet::of(*prefix));
  }
  return out;
}

TEST(FirewalldBackend, EveryPortReachableExactlyAsThePlanSays) {
  auto examples = example_plans();
  ASSERT_EQ(examples.size(), 6u);
  for (const auto& [name, plan] : examples) {
    SCOPED_TRACE(name);
    auto artefacts = render_ok(plan);
    auto rb = read_back(artefacts);
    EXPECT_EQ(rb->target, "DROP");
    EXPECT_TRUE(rb->zone_ports.empty()) << "plain <port> in the zone opens it to everyone";
    for (const auto& s : rb->zone_services) {
      EXPECT_TRUE(s.starts_with("mailwarden-public-")) << s << " is open to everyone";
    }
    std::set<std::pair<Protocol, std::uint16_t>> ports = {{Protocol::tcp, 12345}};
    for (const auto& o : plan.openings) ports.insert({o.protocol, o.port});
    for (const auto& c : plan.closed) ports.insert({c.protocol, c.port});
    for (const auto& iv : plan.never_udp.intervals().intervals())
      ports.insert({Protocol::udp, iv.lo});
    for (const auto& [proto, port] : ports) {
      EXPECT_EQ(reachable(*rb, proto, port).to_string(),
                plan.allowed_sources(proto, port).to_string())
          << port << "/" << protocol_name(proto);
    }
  }
}

TEST(FirewalldBackend, ArtefactsOfZimbraSingle) {
  auto examples = example_plans();
  ASSERT_FALSE(examples.empty());
  const FirewallPlan& plan = examples[0].plan;
  ASSERT_EQ(plan.hostname, "mail.example.com");
  auto artefacts = render_ok(plan);
  std::vector<std::string> names;
  for (const auto& a : artefacts) names.push_back(a.filename);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "mailwarden-firewalld.sh", "mailwarden.xml", "mailwarden-admin-ssh.xml",
                       "mailwarden-public-smtp.xml", "mailwarden-public-http.xml",
                       "mailwarden-public-imap.xml", "mailwarden-public-https.xml",
                       "mailwarden-public-smtps.xml", "mailwarden-public-submission.xml",
                       "mailwarden-public-imaps.xml",
                       "mailwarden-admin-zimbra-admin-console-proxy.xml", "direct.xml"}));
  const std::string& zone = artefacts[1].content;
  // memcached's UDP port: an explicit drop rule, which firewalld puts before every accept.
  EXPECT_NE(zone.find("<port port=\"11211\" protocol=\"udp\" />\n    <drop />"), std::string::npos);
  EXPECT_NE(zone.find("<source address=\"2001:db8:ad::/120\" />\n    <service "
                      "name=\"mailwarden-admin-ssh\" />"),
            std::string::npos);
  EXPECT_NE(zone.find("<log prefix=\"mailwarden-drop: \" level=\"info\">\n      <limit "
                      "value=\"5/m\" />"),
            std::string::npos);
  const std::string& script = artefacts[0].content;
  EXPECT_TRUE(script.starts_with("#!/bin/bash\n"));
  EXPECT_NE(script.find("# CAUTION (Zimbra wiki): firewalld has no fail-safe."), std::string::npos);
  EXPECT_NE(script.find("--uid-owner postfix"), std::string::npos);
  EXPECT_NE(
      find(artefacts, "direct.xml")
          ->content.find(
              "'!' --uid-owner postfix -m comment --comment mailwarden-egress-smtp -j REJECT"),
      std::string::npos);
}

TEST(FirewalldBackend, ScriptAndZoneHoldTheSameRichRules) {
  for (const auto& [name, plan] : example_plans()) {
    SCOPED_TRACE(name);
    auto artefacts = render_ok(plan);
    auto rb = read_back(artefacts);
    std::vector<std::string> from_script;
    const std::string& script = find(artefacts, kFirewalldScript)->content;
    const std::string opt = "--add-rich-rule='";
    for (auto at = script.find(opt); at != std::string::npos; at = script.find(opt, at)) {
      at += opt.size();
      from_script.push_back(script.substr(at, script.find('\'', at) - at));
    }
    std::size_t rules = 0;
    for (auto r : rb->zone.child("zone").children("rule")) {
      (void)r;
      ++rules;
    }
    EXPECT_EQ(from_script.size(), rules);
    for (const auto& s : rb->zone_services) {
      EXPECT_NE(script.find("--add-service=" + s), std::string::npos) << s;
    }
  }
}

TEST(FirewalldBackend, RichRuleTextAsFirewalldPrintsIt) {
  // The one rich rule in the real firewalld output, rebuilt with our formatter.
  std::string listed = data_file("firewall-cmd-zimbra-admin.txt");
  FirewalldRichRule r;
  r.family = "ipv4";
  r.source = "198.51.100.7";
  r.element = FirewalldRichRule::Element::port;
  r.value = "9071";
  r.protocol = Protocol::tcp;
  r.action = FirewalldRichRule::Action::accept;
  EXPECT_NE(listed.find("\t" + firewalld_rich_rule_text(r) + "\n"), std::string::npos) << listed;

  FirewalldRichRule log;
  log.priority = 32767;
  log.log_prefix = "x: ";
  log.log_level = "info";
  log.log_limit = "5/m";
  EXPECT_EQ(firewalld_rich_rule_text(log),
            "rule priority=\"32767\" log prefix=\"x: \" level=\"info\" limit value=\"5/m\"");
  FirewalldRichRule echo;
  echo.family = "ipv6";
  echo.element = FirewalldRichRule::Element::icmp_type;
  echo.value = "echo-request";
  echo.action = FirewalldRichRule::Action::accept;
  echo.action_limit = "10/s";
  EXPECT_EQ(firewalld_rich_rule_text(echo),
            "rule family=\"ipv6\" icmp-type name=\"echo-request\" accept limit value=\"10/s\"");
}

// The ICMP design rests on what firewalld 1.3.3 put in the kernel for a zone with target DROP.
TEST(FirewalldBackend, RealRulesetShowsWhyTheZoneAcceptsIcmpItself) {
  std::string nft = data_file("nft.txt");
  auto chain = [&](const std::string& name) {
    auto start = nft.find("\tchain " + name + " {");
    EXPECT_NE(start, std::string::npos) << name;
    return nft.substr(start, nft.find("\t}", start) - start);
  };
  std::string zone = chain("filter_IN_public");
  EXPECT_NE(zone.find("\t\tdrop\n"), std::string::npos);  // target DROP ends the zone
  EXPECT_EQ(zone.find("icmp"), std::string::npos);        // and accepts no ICMP before it
  EXPECT_EQ(chain("filter_IN_public_allow").find("icmp"), std::string::npos);
  std::string nd = chain("filter_IN_policy_allow-host-ipv6_allow");
  EXPECT_NE(nd.find("nd-neighbor-solicit accept"), std::string::npos);
  EXPECT_EQ(nd.find("mld"), std::string::npos);  // hence the link-local-to-multicast rule
  EXPECT_EQ(nd.find("packet-too-big"), std::string::npos);
}

TEST(FirewalldBackend, ExchangeIsRefused) {
  FirewallPlan plan;
  plan.policy_source = "exchange.toml";
  plan.product = "exchange";
  auto r = render_firewalld(plan);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exchange.toml: --backend firewalld: Exchange runs on Windows"),
            std::string::npos)
      << r.error().message;
}

FirewallPlan hostile_plan() {
  FirewallPlan p;
  p.policy_source = "t.toml";
  p.product = "postfix-dovecot";
  p.hostname = "mx.example.org";
  p.admin = AddressSet::of(*parse_prefix("203.0.113.5/32"));
  p.openings = {{Protocol::tcp, 9100, Exposure::admin, "node <exporter> & \"co\" 'x'",
                 "policy extra port -- with\ttab and \x01 control"}};
  p.closed = {{Protocol::tcp, 9200, "x--y-", "why --- not-"}};
  p.log_rate = "5/minute";
  p.log_prefix = "mailwarden-drop: ";
  return p;
}

void expect_no_double_dash_in_comments(pugi::xml_node n, const std::string& file) {
  for (auto c : n.children()) {
    if (c.type() == pugi::node_comment) {
      std::string v = c.value();
      EXPECT_EQ(v.find("--"), std::string::npos) << file << ": " << v;
      EXPECT_FALSE(v.ends_with("-")) << file;
    }
    expect_no_double_dash_in_comments(c, file);
  }
}

TEST(FirewalldBackend, UntrustedTextIsEscaped) {
  auto artefacts = render_ok(hostile_plan());
  const Artefact* svc = find(artefacts, "mailwarden-admin-node-exporter-co-x.xml");
  ASSERT_NE(svc, nullptr);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svc->content.c_str()));
  EXPECT_EQ(std::string(doc.child("service").child_value("short")), "node <exporter> & \"co\" 'x'");
  EXPECT_NE(std::string(doc.child("service").child_value("description"))
                .find("policy extra port -- with tab and   control"),
            std::string::npos);
  for (const auto& a : artefacts) {
    if (!a.filename.ends_with(".xml")) continue;
    pugi::xml_document d;
    auto res = d.load_string(a.content.c_str(), pugi::parse_default | pugi::parse_comments);
    ASSERT_TRUE(res) << a.filename << ": " << res.description();
    expect_no_double_dash_in_comments(d, a.filename);
  }

  // The script's quoting, checked by bash itself: the arguments firewall-cmd would receive.
  const std::string& script = find(artefacts, kFirewalldScript)->content;
  auto start = script.find(
      "firewall-cmd --permanent --service=mailwarden-admin-node-exporter-co-x "
      "--set-short=");
  ASSERT_NE(start, std::string::npos) << script;
  std::string line = script.substr(start, script.find('\n', start) - start);
  auto run = run_command({"bash", "-c", "firewall-cmd() { printf '%s\\n' \"$@\"; }\n" + line});
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->out,
            "--permanent\n--service=mailwarden-admin-node-exporter-co-x\n"
            "--set-short=node <exporter> & \"co\" 'x'\n");
  auto syntax = run_command({"bash", "-n", "-c", script});
  ASSERT_TRUE(syntax.ok());
  EXPECT_TRUE(syntax->success()) << syntax->err;
}

TEST(FirewalldBackend, ServiceNames) {
  EXPECT_EQ(firewalld_service_name(Exposure::public_, "smtp"), "mailwarden-public-smtp");
  EXPECT_EQ(firewalld_service_name(Exposure::admin, "Prometheus node exporter"),
            "mailwarden-admin-prometheus-node-exporter");
  EXPECT_EQ(firewalld_service_name(Exposure::cluster, "--ldap--"), "mailwarden-cluster-ldap");
  EXPECT_EQ(firewalld_service_name(Exposure::admin, "\xc3\xa9\xc3\xa9"), "mailwarden-admin-extra");
  EXPECT_EQ(firewalld_service_name(Exposure::admin, std::string(80, 'a')),
            "mailwarden-admin-" + std::string(40, 'a'));
}

TEST(FirewalldBackend, LogRateAndSwitch) {
  EXPECT_EQ(*firewalld_limit("5/minute"), "5/m");
  EXPECT_EQ(*firewalld_limit("10/second"), "10/s");
  EXPECT_EQ(*firewalld_limit("2/day"), "2/d");
  EXPECT_FALSE(firewalld_limit("5/fortnight").ok());
  EXPECT_FALSE(firewalld_limit("05/minute").ok());

  FirewallPlan p = hostile_plan();
  p.log_rate = "1/day";
  auto r = render_firewalld(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "t.toml: --backend firewalld: logging.rate: '1/day' is too slow for firewalld, which "
            "refuses limits below 2/day");

  p.log_drops = false;
  auto quiet = render_ok(p);
  ASSERT_FALSE(quiet.empty());
  EXPECT_EQ(find(quiet, kFirewalldZoneFile)->content.find("<log"), std::string::npos);
  EXPECT_EQ(find(quiet, kFirewalldScript)->content.find(" log prefix="), std::string::npos);
}

TEST(FirewalldBackend, EgressOnlyWhenRestricted) {
  FirewallPlan p = hostile_plan();
  auto off = render_ok(p);
  EXPECT_EQ(find(off, kFirewalldDirectFile), nullptr);
  EXPECT_EQ(find(off, kFirewalldScript)->content.find("--add-rule"), std::string::npos);
  // Stale rules of an earlier run are removed either way.
  EXPECT_NE(find(off, kFirewalldScript)->content.find("--remove-rule"), std::string::npos);

  p.egress_smtp_restricted = true;
  p.egress_mta_user = "postfix";
  auto on = render_ok(p);
  ASSERT_NE(find(on, kFirewalldDirectFile), nullptr);
  const std::string& script = find(on, kFirewalldScript)->content;
  for (const char* family : {"ipv4", "ipv6"}) {
    EXPECT_NE(script.find(fmt::format(
                  "firewall-cmd --permanent --direct --add-rule {} filter OUTPUT 0 '!' -o lo -p "
                  "tcp --dport 25 -m conntrack --ctstate NEW -m owner '!' --uid-owner postfix",
                  family)),
              std::string::npos);
  }
}

TEST(FirewalldBackend, Deterministic) {
  for (const auto& [name, plan] : example_plans()) {
    auto a = render_ok(plan);
    auto b = render_ok(plan);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].content, b[i].content) << name;
  }
}

}  // namespace
}  // namespace mw

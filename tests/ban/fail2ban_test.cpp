// The fail2ban generator: ignoreip from the allow-list, log paths by flavour and option, the
// actions, recidive as bantime.multipliers, and bad options named.
#include "ban/fail2ban.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace mw::ban::fail2ban {
namespace {

const GeneratedFile* file(const Generated& g, std::string_view path) {
  for (const auto& f : g.files)
    if (f.path == path) return &f;
  return nullptr;
}

// The value of `key` in section [jail] of an INI text, or "" when absent.
std::string ini_value(const std::string& text, std::string_view jail, std::string_view key) {
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const std::string prefix = std::string(key) + " = ";
    if (section == jail && line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "";
}

AllowList allow_list(const AllowSources& src) {
  PrefixedRunner runner;  // never started: no host addresses, no postconf
  auto a = build_allow_list(src, runner);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : AllowList{};
}

AllowSources quiet_sources() {
  AllowSources s;
  s.host_addresses = false;
  s.postconf = "";
  return s;
}

TEST(Fail2banConfig, IgnoreipHoldsLoopbackPolicyMynetworksAndAllow) {
  auto src = quiet_sources();
  src.policy_file = std::string(MW_SOURCE_DIR) + "/examples/zimbra-multi.toml";
  src.mynetworks = std::vector<std::string>{"127.0.0.0/8 [::1]/128, 10.20.0.0/16"};
  src.extra = {"203.0.113.64/26", "2001:db8:beef::/48", "10.20.0.0/16"};
  const auto allow = allow_list(src);
  auto g = generate(Options{}, allow);
  ASSERT_TRUE(g.ok()) << g.error().message;

  const std::vector<std::string> must{"127.0.0.0/8",       "::1/128",      "198.51.100.0/28",
                                      "2001:db8:ad::/120", "10.20.0.0/16", "203.0.113.64/26",
                                      "2001:db8:beef::/48"};
  for (const auto& m : must)
    EXPECT_NE(std::find(g->ignoreip.begin(), g->ignoreip.end(), m), g->ignoreip.end()) << m;
  // Every entry once, loopback first.
  auto sorted = g->ignoreip;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_EQ(g->ignoreip.at(0), "127.0.0.0/8");
  EXPECT_EQ(g->ignoreip.at(1), "::1/128");
  // The cluster nodes of the policy are there too.
  bool node = false;
  for (const auto& e : g->ignoreip) node |= e.rfind("192.0.2.11", 0) == 0;
  EXPECT_TRUE(node);

  // Each jail carries the same ignoreip line, with every entry.
  const auto* jail = file(*g, "jail.d/mailwarden.local");
  ASSERT_NE(jail, nullptr);
  std::string joined;
  for (const auto& e : g->ignoreip) joined += (joined.empty() ? "" : " ") + e;
  for (auto name : {kPostfixSasl, kZimbraAudit, kZimbraMailbox, kZimbraAdmin}) {
    EXPECT_EQ(ini_value(jail->content, name, "ignoreip"), joined) << name;
    EXPECT_EQ(ini_value(jail->content, name, "ignoreself"), "true") << name;
  }
  // Why each entry is there, for the person reading the file.
  EXPECT_NE(jail->content.find("#   198.51.100.0/28: admin network"), std::string::npos);
  EXPECT_NE(jail->content.find("#   203.0.113.64/26: --allow"), std::string::npos);
}

TEST(Fail2banConfig, ZimbraFlavourDefaultsAndPathOptions) {
  const auto allow = allow_list(quiet_sources());
  auto g = generate(Options{}, allow);
  ASSERT_TRUE(g.ok());
  const auto& jail = file(*g, "jail.d/mailwarden.local")->content;
  EXPECT_EQ(ini_value(jail, kPostfixSasl, "logpath"), "/var/log/zimbra.log");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "logpath"), "/opt/zimbra/log/audit.log");
  EXPECT_EQ(ini_value(jail, kZimbraMailbox, "logpath"), "/opt/zimbra/log/mailbox.log");
  EXPECT_EQ(ini_value(jail, kZimbraAdmin, "logpath"), "/opt/zimbra/log/audit.log");
  EXPECT_EQ(ini_value(jail, kPostfixSasl, "port"), "25,465,587");
  EXPECT_EQ(ini_value(jail, kZimbraAdmin, "port"), "7071,9071");
  EXPECT_EQ(ini_value(jail, kZimbraAdmin, "maxretry"), "3");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "maxretry"), "5");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "filter"), kZimbraAudit);
  for (auto f :
       {"filter.d/mailwarden-postfix-sasl.conf", "filter.d/mailwarden-zimbra-audit.conf",
        "filter.d/mailwarden-zimbra-mailbox.conf", "filter.d/mailwarden-zimbra-admin.conf"})
    EXPECT_NE(file(*g, f), nullptr) << f;

  Options o;
  o.zimbra_log = "/srv/log/zimbra.log";
  o.audit_log = "/srv/zimbra/audit.log";
  o.mailbox_log = "/srv/zimbra/mailbox 100%.log";
  auto h = generate(o, allow);
  ASSERT_TRUE(h.ok());
  const auto& j2 = file(*h, "jail.d/mailwarden.local")->content;
  EXPECT_EQ(ini_value(j2, kPostfixSasl, "logpath"), "/srv/log/zimbra.log");
  EXPECT_EQ(ini_value(j2, kZimbraAudit, "logpath"), "/srv/zimbra/audit.log");
  EXPECT_EQ(ini_value(j2, kZimbraAdmin, "logpath"), "/srv/zimbra/audit.log");
  // '%' is fail2ban's interpolation character: doubled.
  EXPECT_EQ(ini_value(j2, kZimbraMailbox, "logpath"), "/srv/zimbra/mailbox 100%%.log");
}

TEST(Fail2banConfig, PostfixFlavourHasOnlyTheSaslJail) {
  Options o;
  o.flavour = Flavour::postfix;
  auto g = generate(o, allow_list(quiet_sources()));
  ASSERT_TRUE(g.ok());
  const auto& jail = file(*g, "jail.d/mailwarden.local")->content;
  EXPECT_EQ(ini_value(jail, kPostfixSasl, "logpath"), "/var/log/mail.log");
  EXPECT_EQ(jail.find("[mailwarden-zimbra"), std::string::npos);
  EXPECT_EQ(g->files.size(), 2u);  // one filter, the jails
  o.maillog = "/var/log/postfix/mail.log";
  auto h = generate(o, allow_list(quiet_sources()));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(ini_value(file(*h, "jail.d/mailwarden.local")->content, kPostfixSasl, "logpath"),
            "/var/log/postfix/mail.log");
}

TEST(Fail2banConfig, Actions) {
  const auto allow = allow_list(quiet_sources());
  Options o;
  o.action = BanAction::nftables;
  auto n = generate(o, allow);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(ini_value(file(*n, "jail.d/mailwarden.local")->content, kPostfixSasl, "action"),
            "nftables-multiport[name=mailwarden-postfix-sasl, port=\"25,465,587\", protocol=tcp]");
  o.action = BanAction::iptables;
  auto i = generate(o, allow);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(ini_value(file(*i, "jail.d/mailwarden.local")->content, kZimbraAdmin, "action"),
            "iptables-multiport[name=mailwarden-zimbra-admin, port=\"7071,9071\", protocol=tcp]");
  // route: fail2ban's own route.conf when it is installed...
  o.action = BanAction::route;
  o.have_route_action = true;
  auto r = generate(o, allow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ini_value(file(*r, "jail.d/mailwarden.local")->content, kZimbraAudit, "action"),
            "route[blocktype=unreachable]");
  EXPECT_EQ(file(*r, "action.d/mailwarden-route.conf"), nullptr);
  // ...else our own, written beside the filters.
  o.have_route_action = false;
  auto m = generate(o, allow);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(ini_value(file(*m, "jail.d/mailwarden.local")->content, kZimbraAudit, "action"),
            "mailwarden-route[blocktype=unreachable]");
  const auto* a = file(*m, "action.d/mailwarden-route.conf");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a->content.find("actionban = ip route add <blocktype> <ip>"), std::string::npos);
  EXPECT_NE(a->content.find("actionunban = ip route del <blocktype> <ip>"), std::string::npos);
}

TEST(Fail2banConfig, RecidiveFromTheBanCatalog) {
  Options o;
  o.recidive.steps = {Seconds(3600), Seconds(6 * 3600), Seconds(86400), Seconds(7 * 86400)};
  auto g = generate(o, allow_list(quiet_sources()));
  ASSERT_TRUE(g.ok());
  const auto& jail = file(*g, "jail.d/mailwarden.local")->content;
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "bantime"), "3600");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "bantime.increment"), "true");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "bantime.multipliers"), "1 6 24 168");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "bantime.maxtime"), "604800");
  EXPECT_EQ(ini_value(jail, kZimbraAudit, "findtime"), "600");
  EXPECT_TRUE(g->notes.empty());

  BanConfig odd;
  odd.steps = {Seconds(3600), Seconds(5400)};  // 1.5 times: fail2ban takes whole multipliers
  std::vector<std::string> notes;
  EXPECT_EQ(bantime_multipliers(odd, &notes), (std::vector<long long>{1, 2}));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("not a multiple"), std::string::npos);
}

TEST(Fail2banConfig, BadOptionsAreNamed) {
  const auto allow = allow_list(quiet_sources());
  Options o;
  o.audit_log = "relative/audit.log";
  auto g = generate(o, allow);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("--audit-log 'relative/audit.log'"), std::string::npos);
  o = Options{};
  o.zimbra_log = "/var/log/zimbra.log\n[sshd]\nenabled = false";
  g = generate(o, allow);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("--zimbra-log"), std::string::npos);
  EXPECT_NE(g.error().message.find("control character at position 20"), std::string::npos);
  o = Options{};
  o.maxretry = 0;
  EXPECT_FALSE(generate(o, allow).ok());
  EXPECT_FALSE(parse_flavour("exim").ok());
  EXPECT_EQ(parse_flavour("exim").error().message, "--flavour 'exim': expected zimbra or postfix");
  EXPECT_FALSE(parse_ban_action("ufw").ok());
  EXPECT_EQ(*parse_ban_action("route"), BanAction::route);
}

TEST(Fail2banConfig, FiltersPreferOipAndLeaveAdminThreadsToTheAdminJail) {
  // The structure the fail2ban-regex test proves on real lines: the oip regex comes first, the
  // ip regex refuses a context that has an oip pair, and user jails skip admin threads.
  for (const auto& text : {zimbra_audit_filter(), zimbra_mailbox_filter()}) {
    const auto oip = text.find("failregex = %(_level)s%(_thread)s %(_oip)s");
    const auto ip = text.find("            %(_level)s%(_thread)s %(_ip)s");
    ASSERT_NE(oip, std::string::npos);
    ASSERT_NE(ip, std::string::npos);
    EXPECT_LT(oip, ip);
    EXPECT_NE(text.find("_noproxy_pair = (?!oip=[^;])%(_pair)s"), std::string::npos);
    EXPECT_NE(text.find(":[79]071/|/service/admin/"), std::string::npos);
  }
  EXPECT_NE(zimbra_admin_filter().find("cmd=AdminAuth;"), std::string::npos);
  EXPECT_EQ(zimbra_admin_filter().find("[79]071"), std::string::npos);
  // The same input gives the same text: the CLI compares files before overwriting.
  EXPECT_EQ(postfix_sasl_filter(), postfix_sasl_filter());
}

}  // namespace
}  // namespace mw::ban::fail2ban

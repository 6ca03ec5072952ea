// The incident engine: logins and attacker addresses from events, the account's queued mail
// through a fake QueueTools, the outbound DNSBL check through a fake resolver, the plan of
// commands per flavour, --act through a fake runner, and the policy gaps of the fixture.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../queue/fake_tools.hpp"
#include "incident/incident.hpp"
#include "logs/detector_catalog.hpp"

namespace mw::incident {
namespace {

const std::string kSnapshot = std::string(MW_SOURCE_DIR) + "/tests/data/incident/snapshot";

logs::Event login(const char* account, const char* ip, bool ok, std::int64_t t,
                  logs::Protocol p = logs::Protocol::imap) {
  logs::Event e;
  e.line_kind = logs::LineKind::parsed;
  e.has_time = true;
  e.time = {t, 0};
  e.facts.kind = logs::EventKind::auth;
  e.facts.outcome = ok ? logs::Outcome::success : logs::Outcome::failure;
  e.facts.account = account;
  e.facts.client_ip = ip;
  e.facts.protocol = p;
  return e;
}

struct LoginFixture {
  logs::DetectorCatalog catalog;
  LoginFixture() {
    auto c = logs::load_default_detector_catalog();
    EXPECT_TRUE(c) << c.error().message;
    if (c) catalog = *c;
  }
};

TEST(Logins, FailuresThenSuccessIsAnAttackerATypoIsNot) {
  LoginFixture fx;
  AccountLogs logs("alice@example.com", fx.catalog, {});
  std::uint64_t line = 0;
  auto add = [&](const logs::Event& e) { logs.add(e, {0, ++line}); };
  std::int64_t t = 1'800'000'000;
  add(login("alice@example.com", "198.51.100.23", false, t++));  // a typo
  add(login("alice@example.com", "198.51.100.23", true, t++));
  for (std::uint32_t i = 0; i < fx.catalog.compromised_login.min_failures; ++i)
    add(login("alice", "203.0.113.66", false, t++));  // Zimbra's bare name counts too
  add(login("ALICE@example.com", "203.0.113.66", true, t++, logs::Protocol::http));
  add(login("bob@example.com", "203.0.113.99", true, t++));  // someone else
  auto r = logs.finish({"audit.log"}, nullptr, {});
  ASSERT_TRUE(r.checked);
  EXPECT_EQ(r.successes, 2u);
  EXPECT_EQ(r.failures, 1u + fx.catalog.compromised_login.min_failures);
  EXPECT_EQ(r.attacker_ips, std::vector<std::string>{"203.0.113.66"});
  ASSERT_EQ(r.ips.size(), 2u);
  EXPECT_EQ(r.ips[0].ip, "203.0.113.66");
  EXPECT_TRUE(r.ips[0].attacker);
  EXPECT_EQ(r.ips[0].protocols, (std::set<std::string>{"http", "imap"}));
  EXPECT_FALSE(r.ips[1].attacker);
}

TEST(Logins, AllowListedAttackerIsNeverOfferedForABan) {
  LoginFixture fx;
  AccountLogs logs("alice@example.com", fx.catalog, {});
  std::int64_t t = 1'800'000'000;
  std::uint64_t line = 0;
  for (std::uint32_t i = 0; i < fx.catalog.compromised_login.min_failures; ++i)
    logs.add(login("alice@example.com", "192.0.2.10", false, t++), {0, ++line});
  logs.add(login("alice@example.com", "192.0.2.10", true, t++), {0, ++line});
  ban::AllowList allow;
  allow.entries.push_back({*parse_prefix("192.0.2.0/24"), "admin network"});
  auto r = logs.finish({"x"}, &allow, {});
  EXPECT_TRUE(r.attacker_ips.empty());
  EXPECT_EQ(r.protected_attackers, std::vector<std::string>{"192.0.2.10"});
  PlanInput in;
  in.account = "alice@example.com";
  in.logins = &r;
  const auto steps = plan_steps(in);
  for (const auto& s : steps)
    for (const auto& c : s.commands) {
      if (c.argv.size() > 1 && c.argv[1] == "ban") ADD_FAILURE() << c.text;
    }
}

TEST(Logins, AdminCommandOnTheAccountFromOutsideTheAdminNetworks) {
  LoginFixture fx;
  AccountLogs logs("alice@example.com", fx.catalog, {});
  logs::Event e;
  e.line_kind = logs::LineKind::parsed;
  e.has_time = true;
  e.time = {1'800'000'000, 0};
  e.message =
      "security - cmd=ModifyAccount; name=alice@example.com; zimbraPrefMailForwardingAddress=x;";
  e.facts.kind = logs::EventKind::admin_command;
  e.facts.reason = "ModifyAccount";
  e.facts.account = "admin@example.com";  // the parser keeps the admin (context name=)
  e.facts.client_ip = "203.0.113.7";
  logs.add(e, {0, 12});
  auto r = logs.finish({"audit.log"}, nullptr, {*parse_prefix("192.0.2.0/24")});
  ASSERT_EQ(r.admin_actions.size(), 1u);
  EXPECT_EQ(r.admin_actions[0].command, "ModifyAccount");
  EXPECT_EQ(r.admin_actions[0].where, "audit.log:12");
  EXPECT_TRUE(r.admin_actions[0].unusual);
}

TEST(Queue, TheAccountsMessagesByLoginAndSender) {
  queue::testing::FakeTools tools;
  auto msg = [](std::string id, std::string queue, std::string sender, std::string sasl,
                std::vector<std::string> rcpts) {
    queue::testing::FakeMessage m;
    m.id = std::move(id);
    m.queue = std::move(queue);
    m.sender = std::move(sender);
    m.sasl = std::move(sasl);
    m.rcpts = std::move(rcpts);
    return m;
  };
  tools.messages = {
      msg("A1", "deferred", "ceo@example.org", "alice@example.com",
          {"x@example.net", "y@example.net"}),
      msg("A2", "deferred", "alice@example.com", "alice@example.com", {"z@example.org"}),
      msg("A3", "active", "alice@example.com", "", {"w@example.net"}),
      msg("B1", "deferred", "bob@example.com", "bob@example.com", {"x@example.net"}),
  };
  auto r = account_queue("alice@example.com", tools, nullptr, true, 1'800'000'100);
  ASSERT_TRUE(r.checked);
  EXPECT_EQ(r.queue_messages, 4u);
  EXPECT_EQ(r.messages, 3u);
  EXPECT_EQ(r.by_login, 2u);
  EXPECT_EQ(r.by_sender, 2u);
  EXPECT_EQ(r.by_status.at("deferred"), 2u);
  EXPECT_EQ(r.by_status.at("active"), 1u);
  ASSERT_FALSE(r.top_domains.empty());
  EXPECT_EQ(r.top_domains[0], (std::pair<std::string, std::uint64_t>{"example.net", 3}));
}

// Answers every lookup from a table; anything else is NXDOMAIN.
class FakeResolver final : public dnsbl::Resolver {
 public:
  std::map<std::string, std::uint32_t> listed;
  std::vector<dnsbl::DnsAnswer> resolve(std::span<const dnsbl::Lookup> lookups) override {
    std::vector<dnsbl::DnsAnswer> out;
    for (const auto& l : lookups) {
      dnsbl::DnsAnswer a;
      // "5.113.0.203.zen.example" is listed when a key is its reversed-address prefix.
      auto it = std::find_if(listed.begin(), listed.end(),
                             [&](const auto& kv) { return l.name.rfind(kv.first + ".", 0) == 0; });
      if (l.type == dnsbl::QueryType::a && it != listed.end()) {
        a.rcode = dnsbl::Rcode::noerror;
        a.a = {it->second};
      } else {
        a.rcode = dnsbl::Rcode::nxdomain;
      }
      out.push_back(a);
    }
    return out;
  }
};

TEST(Dnsbl, NotCheckedWithoutOutboundAddresses) {
  FakeResolver res;
  auto cat = dnsbl::load_default_dnsbl_catalog();
  ASSERT_TRUE(cat) << cat.error().message;
  auto r = check_outbound({}, *cat, res);
  EXPECT_FALSE(r.checked);
  EXPECT_EQ(r.note, "not checked: give --outbound-ip (the server's sending addresses)");
}

TEST(Dnsbl, ListedAddressNamesTheListAndHowToDelist) {
  auto cat = dnsbl::load_default_dnsbl_catalog();
  ASSERT_TRUE(cat) << cat.error().message;
  FakeResolver res;
  res.listed["2.0.0.127"] = 0x7f000002;    // every list's test entry answers
  res.listed["5.113.0.203"] = 0x7f000002;  // 203.0.113.5 is listed everywhere
  auto r =
      check_outbound({*parse_address("203.0.113.5"), *parse_address("198.51.100.7")}, *cat, res);
  ASSERT_TRUE(r.checked);
  ASSERT_EQ(r.ips.size(), 2u);
  EXPECT_FALSE(r.ips[0].listed.empty());
  EXPECT_FALSE(r.ips[0].listed[0].delist_url.empty());
  EXPECT_TRUE(r.ips[1].listed.empty());
  EXPECT_GT(r.ips[1].clean, 0u);
}

const Step* step(const std::vector<Step>& steps, std::string_view id) {
  for (const auto& s : steps)
    if (s.id == id) return &s;
  return nullptr;
}

TEST(Plan, ZimbraFlushesEveryMailboxServerAndBumpsTheTokenValue) {
  auto snap = load_account_snapshot(kSnapshot, "alice@example.com");
  ASSERT_TRUE(snap);
  PlanInput in;
  in.account = "alice@example.com";
  in.snapshot = &*snap;
  in.now = 1'800'000'000;
  auto steps = plan_steps(in);
  ASSERT_NE(step(steps, "lock"), nullptr);
  EXPECT_EQ(step(steps, "lock")->commands[0].text,
            "zmprov ma alice@example.com zimbraAccountStatus locked");
  EXPECT_EQ(step(steps, "expire_sessions")->commands[0].text,
            "zmprov ma alice@example.com zimbraAuthTokenValidityValue 4");
  const auto* flush = step(steps, "flush_cache");
  ASSERT_EQ(flush->commands.size(), 2u);
  EXPECT_EQ(flush->commands[1].text,
            "zmprov -s mbox2.example.com flushCache account alice@example.com");
  EXPECT_TRUE(flush->act);
  EXPECT_FALSE(step(steps, "password")->act);
  EXPECT_FALSE(step(steps, "end_sessions")->act);
  EXPECT_TRUE(step(steps, "hold_queue")->act);
  // Without a server list: one command for every server.
  snap->mailbox_servers.clear();
  steps = plan_steps(in);
  EXPECT_EQ(step(steps, "flush_cache")->commands.at(0).text,
            "zmprov flushCache -a account alice@example.com");
}

TEST(Plan, PostfixFlavourUsesDoveadm) {
  PlanInput in;
  in.account = "carol@example.org";
  in.flavour = Flavour::postfix;
  auto steps = plan_steps(in);
  EXPECT_EQ(step(steps, "expire_sessions")->commands.at(0).text, "doveadm kick carol@example.org");
  EXPECT_TRUE(step(steps, "flush_cache")->act);
  EXPECT_FALSE(step(steps, "lock")->act);  // site-specific: guidance only
  for (const auto& s : steps)
    for (const auto& c : s.commands) EXPECT_NE(c.text.find("zmprov"), 0u) << c.text;
}

class RecordingRunner final : public Runner {
 public:
  std::vector<std::vector<std::string>> calls;
  std::string fail_program;
  Result<CommandOutput> run(const std::vector<std::string>& argv) override {
    calls.push_back(argv);
    CommandOutput o;
    o.exit_code = argv.front() == fail_program ? 1 : 0;
    if (o.exit_code != 0) o.err = "boom\n";
    return o;
  }
};

TEST(Act, RunsOnlyTheNonDestructiveStepsAndLogsThem) {
  auto snap = load_account_snapshot(kSnapshot, "alice@example.com");
  ASSERT_TRUE(snap);
  auto mailbox = mailbox_findings(*snap);
  PlanInput in;
  in.account = "alice@example.com";
  in.snapshot = &*snap;
  in.mailbox = &mailbox;
  auto steps = plan_steps(in);
  RecordingRunner runner;
  runner.fail_program = "mailwarden";
  const auto dir =
      std::filesystem::temp_directory_path() / ("mw-incident-act-" + std::to_string(::getpid()));
  FakeClock clock;
  auto r = act(steps, runner, dir / "incident.log", clock, "alice@example.com");
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> ran;
  for (const auto& c : runner.calls) ran.push_back(shell_line(c));
  EXPECT_EQ(ran, (std::vector<std::string>{
                     "zmprov ma alice@example.com zimbraAccountStatus locked",
                     "zmprov ma alice@example.com zimbraAuthTokenValidityValue 4",
                     "zmprov -s mbox1.example.com flushCache account alice@example.com",
                     "zmprov -s mbox2.example.com flushCache account alice@example.com",
                     "mailwarden queue hold --sasl-user alice@example.com --yes",
                     "mailwarden queue hold --sender alice@example.com --yes"}));
  EXPECT_FALSE(r->ok());  // the fake hold failed, and the rest still ran
  EXPECT_EQ(r->entries.back().result, "exit 1: boom");
  std::ifstream in_log(dir / "incident.log");
  std::stringstream log;
  log << in_log.rdbuf();
  EXPECT_NE(log.str().find("step=lock run: zmprov ma alice@example.com zimbraAccountStatus locked"),
            std::string::npos);
  EXPECT_NE(log.str().find("step=hold_queue result: exit 1: boom"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Policy, FailedControlsOfTheDefaultInstall) {
  const char* env = std::getenv("MAILWARDEN_CATALOG");
  ASSERT_NE(env, nullptr);
  auto p = policy_gaps(kSnapshot, env);
  ASSERT_TRUE(p.checked) << p.note;
  auto has = [&](std::string_view id) {
    return std::any_of(p.failed.begin(), p.failed.end(),
                       [&](const PolicyGap& g) { return g.id == id; });
  };
  EXPECT_TRUE(has("accounts.password.min-length"));
  EXPECT_TRUE(has("accounts.lockout.enabled"));
  for (const auto& g : p.failed) EXPECT_FALSE(g.remediation.empty()) << g.id;
  auto none = policy_gaps(std::string(MW_SOURCE_DIR) + "/tests/data/incident", env);
  EXPECT_FALSE(none.checked);
}

}  // namespace
}  // namespace mw::incident

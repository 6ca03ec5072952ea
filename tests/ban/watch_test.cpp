// The ban driver of `logs watch --ban` with a fake nft and a fake clock: which detectors ban,
// one request per address, the allow-list, the rate limit, dry run, de-duplication, errors,
// and the Prometheus text and its endpoint.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ban/watch.hpp"
#include "fakes.hpp"

namespace mw::ban {
namespace {

using namespace std::chrono_literals;
using logs::Detector;

using fakes::FakeRunner;
using fakes::TempDir;

logs::Finding finding(Detector d, std::vector<std::string> ips, std::string account = "") {
  logs::Finding f;
  f.detector = d;
  f.key = account.empty() ? (ips.empty() ? "" : ips.front()) : account;
  f.account = std::move(account);
  f.source_ips = std::move(ips);
  f.source_ip_count = f.source_ips.size();
  return f;
}

// One driver over a fake kernel, a fake clock and a temp state dir.
struct Rig {
  TempDir dir;
  FakeRunner runner;
  FakeClock clock;
  WatchMetrics metrics;
  std::unique_ptr<BanEngine> engine;
  std::unique_ptr<BanDriver> driver;
  explicit Rig(WatchBanOptions o = {}, std::vector<std::string> allow = {"198.51.100.77/32"}) {
    EngineOptions eo;
    eo.state_dir = dir.path;
    engine = std::make_unique<BanEngine>(eo, runner, clock);
    AllowSources s;
    s.host_addresses = false;
    s.postconf = "";
    s.mynetworks = std::vector<std::string>{"192.0.2.0/24"};
    s.extra = std::move(allow);
    auto al = build_allow_list(s, runner);
    EXPECT_TRUE(al.ok()) << al.error().message;
    driver = std::make_unique<BanDriver>(*engine, *al, clock, o, metrics);
  }
  std::size_t scripts_with(const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& s : runner.scripts) n += s.find(needle) != std::string::npos;
    return n;
  }
};

std::vector<BanAction::Kind> kinds(const std::vector<BanAction>& v) {
  std::vector<BanAction::Kind> out;
  for (const auto& a : v) out.push_back(a.kind);
  return out;
}

TEST(BanSelection, DefaultsBanAttackersOnly) {
  const auto s = BanSelection::defaults();
  EXPECT_TRUE(s[Detector::brute_force]);
  EXPECT_TRUE(s[Detector::password_spray]);
  EXPECT_TRUE(s[Detector::compromised_login]);
  for (auto d : {Detector::impossible_travel, Detector::outbound_burst, Detector::bounce_ratio,
                 Detector::baseline_exceeded, Detector::mynetworks_relay, Detector::queue_flood})
    EXPECT_FALSE(s[d]) << logs::name_of(d);
  EXPECT_EQ(s.to_string(), "brute_force,password_spray,compromised_login");
}

TEST(BanSelection, ParsesListsAndNamesBadEntries) {
  auto s = BanSelection::parse("password_spray");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE((*s)[Detector::brute_force]);
  EXPECT_TRUE((*s)[Detector::password_spray]);
  EXPECT_EQ(BanSelection::parse("none")->to_string(), "none");
  auto bad = BanSelection::parse("brute_force,brute_farce");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'brute_farce' at position 13"), std::string::npos)
      << bad.error().message;
  auto empty = BanSelection::parse("brute_force,");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("position 13"), std::string::npos);
}

TEST(BanDriver, BansEachSourceOnceWithDetectorAndAccount) {
  Rig r;
  const auto f =
      finding(Detector::brute_force, {"203.0.113.7", "203.0.113.8"}, "alice@example.org");
  auto acts = r.driver->on_finding(f);
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned, BanAction::Kind::banned}));
  EXPECT_EQ(to_string(acts[0].prefix), "203.0.113.7/32");
  EXPECT_EQ(acts[0].duration, 3600s);  // the first recidive step
  EXPECT_EQ(acts[0].account, "alice@example.org");
  EXPECT_EQ(r.scripts_with("203.0.113.7/32 timeout 3600s comment \"brute_force; alice@example.org; "
                           "offence 1\""),
            1u);
  EXPECT_EQ(describe(acts[1], 30),
            "banned 203.0.113.8/32 for 1h (brute_force, account alice@example.org, offence 1)");
  EXPECT_EQ(r.metrics.added(Detector::brute_force), 2u);
  EXPECT_EQ(r.driver->active(), 2u);

  // The same finding again (a poll later, or a spray naming the same address): no new ban.
  const std::size_t before = r.runner.scripts.size();
  EXPECT_TRUE(r.driver->on_finding(f).empty());
  EXPECT_TRUE(r.driver->on_finding(finding(Detector::password_spray, {"203.0.113.7"})).empty());
  EXPECT_EQ(r.runner.scripts.size(), before);

  // Once the ban has run out the address may be banned again, for the next recidive step.
  r.clock.advance(3601s);
  r.driver->tick();
  EXPECT_EQ(r.metrics.active(), 0u);
  acts = r.driver->on_finding(finding(Detector::brute_force, {"203.0.113.7"}, "alice@example.org"));
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned}));
  EXPECT_EQ(acts[0].offence, 2u);
  EXPECT_EQ(acts[0].duration, 6 * 3600s);
}

// A burst of findings handed over at once (the watch loop drains its queue this way): every
// ban in one nft script, an address named by two findings banned once, the allow-list
// refusing as always.
TEST(BanDriver, ABurstOfFindingsIsOneKernelTransaction) {
  Rig r;
  const std::vector<logs::Finding> burst = {
      finding(Detector::brute_force, {"203.0.113.7"}, "alice@example.org"),
      finding(Detector::password_spray, {"203.0.113.7", "203.0.113.8", "192.0.2.9"}),
      finding(Detector::outbound_burst, {"203.0.113.20"}, "bob@example.org"),  // alerts only
      finding(Detector::compromised_login, {"2001:db8:1:2::5"}, "carol@example.org"),
  };
  auto acts = r.driver->on_findings(burst);
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned, BanAction::Kind::banned,
                                      BanAction::Kind::refused, BanAction::Kind::banned}));
  EXPECT_EQ(acts[0].detector, Detector::brute_force);
  EXPECT_EQ(acts[1].address, "203.0.113.8");
  EXPECT_EQ(to_string(acts[3].prefix), "2001:db8:1:2::/64");
  ASSERT_EQ(r.runner.scripts.size(), 1u);
  EXPECT_EQ(r.scripts_with("203.0.113.7/32 timeout"), 1u);
  EXPECT_EQ(r.scripts_with("203.0.113.8/32 timeout"), 1u);
  EXPECT_EQ(r.scripts_with("203.0.113.20"), 0u);
  EXPECT_EQ(r.metrics.added(Detector::brute_force), 1u);
  EXPECT_EQ(r.metrics.added(Detector::password_spray), 1u);
  EXPECT_EQ(r.metrics.refused_count(), 1u);
  EXPECT_EQ(r.driver->active(), 3u);
}

// A botnet that grows after its finding was reported: the Analyzer reports the finding again
// with the newcomers in new_source_ips (past the 50 listed); they are banned, the finding is
// not counted twice.
TEST(BanDriver, AGrownFindingBansItsNewSources) {
  Rig r;
  auto f = finding(Detector::password_spray, {"203.0.113.7"}, "");
  f.alert_count = 1;
  ASSERT_EQ(kinds(r.driver->on_finding(f)), (std::vector{BanAction::Kind::banned}));
  f.alert_count = 2;
  f.new_source_ips = {"198.51.100.60", "198.51.100.61"};
  auto acts = r.driver->on_finding(f);
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned, BanAction::Kind::banned}));
  EXPECT_EQ(to_string(acts[0].prefix), "198.51.100.60/32");
  EXPECT_EQ(to_string(acts[1].prefix), "198.51.100.61/32");
  EXPECT_NE(r.metrics.render().find("mailwarden_findings_total{detector=\"password_spray\"} 1"),
            std::string::npos)
      << r.metrics.render();
}

TEST(BanDriver, NonBanningDetectorsOnlyCount) {
  Rig r;
  for (auto d : {Detector::impossible_travel, Detector::outbound_burst, Detector::queue_flood})
    EXPECT_TRUE(r.driver->on_finding(finding(d, {"203.0.113.9"}, "bob@example.org")).empty());
  EXPECT_TRUE(r.runner.scripts.empty());
  EXPECT_NE(r.metrics.render().find("mailwarden_findings_total{detector=\"impossible_travel\"} 1"),
            std::string::npos);

  WatchBanOptions o;
  o.detectors = *BanSelection::parse("impossible_travel");
  Rig chosen(o);
  auto acts =
      chosen.driver->on_finding(finding(Detector::impossible_travel, {"203.0.113.9"}, "bob"));
  EXPECT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned}));
  EXPECT_TRUE(chosen.driver->on_finding(finding(Detector::brute_force, {"203.0.113.10"})).empty());
}

TEST(BanDriver, AllowListedAddressIsRefusedOnceAndNeverReachesNft) {
  Rig r;
  const auto f =
      finding(Detector::brute_force, {"198.51.100.77", "192.0.2.5"}, "admin@example.org");
  auto acts = r.driver->on_finding(f);
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::refused, BanAction::Kind::refused}));
  EXPECT_NE(describe(acts[0], 30).find("refused to ban 198.51.100.77/32"), std::string::npos);
  EXPECT_NE(acts[1].message.find("mynetworks"), std::string::npos) << acts[1].message;
  EXPECT_TRUE(r.runner.scripts.empty());
  EXPECT_EQ(r.metrics.refused_count(), 2u);
  // Repeated findings: not logged or counted again, and do not use up the rate limit.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.driver->on_finding(f).empty());
  EXPECT_EQ(r.metrics.refused_count(), 2u);
  EXPECT_TRUE(r.runner.scripts.empty());
}

TEST(BanDriver, RateLimitDropsAndCountsThenRefills) {
  WatchBanOptions o;
  o.bans_per_minute = 2;
  Rig r(o);
  auto acts = r.driver->on_finding(finding(
      Detector::password_spray, {"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"}));
  EXPECT_EQ(kinds(acts),
            (std::vector{BanAction::Kind::banned, BanAction::Kind::banned,
                         BanAction::Kind::rate_limited, BanAction::Kind::rate_limited}));
  EXPECT_EQ(describe(acts[2], 2),
            "dropped the ban of 203.0.113.3/32 (password_spray): over the limit of 2 bans per "
            "minute");
  EXPECT_EQ(r.metrics.rate_limited_count(), 2u);
  // Dropped, not queued: nothing happens for them later by itself...
  r.clock.advance(30s);                    // one token back (2 per minute)
  ASSERT_EQ(r.runner.scripts.size(), 1u);  // the two bans, in one transaction
  EXPECT_EQ(r.scripts_with("203.0.113.3"), 0u);
  // ...but a new finding naming one of them may ban it now.
  acts = r.driver->on_finding(finding(Detector::password_spray, {"203.0.113.3", "203.0.113.4"}));
  EXPECT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned, BanAction::Kind::rate_limited}));
  EXPECT_EQ(r.metrics.rate_limited_count(), 3u);
}

TEST(BanDriver, DryRunPrintsWouldBanAndChangesNothing) {
  WatchBanOptions o;
  o.dry_run = true;
  Rig r(o);
  auto acts = r.driver->on_finding(finding(Detector::brute_force, {"203.0.113.7"}, "alice"));
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::would_ban}));
  EXPECT_EQ(describe(acts[0], 30),
            "would ban 203.0.113.7/32 for 1h (brute_force, account alice, offence 1) [dry run]");
  EXPECT_TRUE(r.runner.scripts.empty());  // nft only listed the set
  EXPECT_FALSE(std::filesystem::exists(r.engine->state_file()));
  EXPECT_EQ(r.metrics.added(Detector::brute_force), 0u);
  EXPECT_TRUE(r.driver->on_finding(finding(Detector::brute_force, {"203.0.113.7"})).empty());
}

TEST(BanDriver, Ipv6BansTheSlash64Once) {
  Rig r;
  auto acts = r.driver->on_finding(
      finding(Detector::password_spray, {"2001:db8:bad:1::10", "2001:db8:bad:1::99"}));
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned}));
  EXPECT_EQ(to_string(acts[0].prefix), "2001:db8:bad:1::/64");
  EXPECT_EQ(r.scripts_with("add element inet mailwarden_ban ban6 { 2001:db8:bad:1::/64 timeout"),
            1u);
}

TEST(BanDriver, ForcedDurationIsUsed) {
  WatchBanOptions o;
  o.duration = 5s;
  Rig r(o);
  auto acts = r.driver->on_finding(finding(Detector::brute_force, {"203.0.113.7"}, "a"));
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::banned}));
  EXPECT_EQ(r.scripts_with("203.0.113.7/32 timeout 5s"), 1u);
  r.clock.advance(6s);
  EXPECT_EQ(r.driver->active(), 0u);
}

TEST(BanDriver, NftErrorsAreCountedAndBackedOff) {
  Rig r;
  r.runner.nft_fails = true;
  const auto f = finding(Detector::brute_force, {"203.0.113.7"}, "a");
  auto acts = r.driver->on_finding(f);
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::error}));
  EXPECT_NE(acts[0].message.find("Could not process rule"), std::string::npos);
  EXPECT_EQ(r.metrics.error_count(), 1u);
  EXPECT_TRUE(r.driver->on_finding(f).empty());  // not retried in a loop
  EXPECT_EQ(r.runner.scripts.size(), 1u);
  r.runner.nft_fails = false;
  r.clock.advance(61s);
  EXPECT_EQ(kinds(r.driver->on_finding(f)), (std::vector{BanAction::Kind::banned}));
}

TEST(BanDriver, UnreadableAddressIsReported) {
  Rig r;
  auto acts = r.driver->on_finding(finding(Detector::brute_force, {"unknown"}, "a"));
  ASSERT_EQ(kinds(acts), (std::vector{BanAction::Kind::invalid}));
  EXPECT_NE(describe(acts[0], 30).find("cannot ban 'unknown'"), std::string::npos);
  EXPECT_TRUE(r.runner.scripts.empty());
}

TEST(BanDriver, RememberedTableIsBounded) {
  WatchBanOptions o;
  o.max_remembered = 3;
  o.bans_per_minute = 100;
  Rig r(o);
  for (int i = 1; i <= 5; ++i)
    r.driver->on_finding(finding(Detector::brute_force, {"203.0.113." + std::to_string(i)}));
  EXPECT_LE(r.driver->active(), 3u);
}

TEST(WatchMetrics, PrometheusText) {
  WatchMetrics m;
  m.line_read(10);
  m.finding(Detector::brute_force);
  m.ban_added(Detector::brute_force);
  m.ban_added(Detector::password_spray);
  m.refused();
  m.rate_limited();
  m.error();
  m.set_active(2);
  const std::string t = m.render();
  for (const char* line : {
           "# TYPE mailwarden_lines_read_total counter\nmailwarden_lines_read_total 10\n",
           "mailwarden_findings_total{detector=\"brute_force\"} 1\n",
           "# TYPE mailwarden_bans_added_total counter\n",
           "mailwarden_bans_added_total{detector=\"brute_force\"} 1\n",
           "mailwarden_bans_added_total{detector=\"password_spray\"} 1\n",
           "mailwarden_bans_added_total{detector=\"queue_flood\"} 0\n",
           "mailwarden_bans_refused_total 1\n",
           "mailwarden_bans_rate_limited_total 1\n",
           "mailwarden_ban_errors_total 1\n",
           "# TYPE mailwarden_bans_active gauge\nmailwarden_bans_active 2\n",
       })
    EXPECT_NE(t.find(line), std::string::npos) << line << "\nin:\n" << t;
  // Every sample line is "name{labels} value" or "name value" with a known name.
  std::size_t samples = 0;
  std::size_t pos = 0;
  while (pos < t.size()) {
    const auto nl = t.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "no final newline";
    const std::string line = t.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("# ", 0) == 0) continue;
    ++samples;
    EXPECT_EQ(line.rfind("mailwarden_", 0), 0u) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
  EXPECT_EQ(samples, 5u + 2 * logs::kDetectors);
}

TEST(MetricsServer, ServesMetricsOnLoopback) {
  WatchMetrics m;
  m.ban_added(Detector::password_spray);
  auto s = MetricsServer::start("127.0.0.1:0", m);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_GT((*s)->port(), 0);
  httplib::Client c("127.0.0.1", (*s)->port());
  c.set_connection_timeout(5);
  auto res = c.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_NE(res->body.find("mailwarden_bans_added_total{detector=\"password_spray\"} 1"),
            std::string::npos)
      << res->body;
  m.set_active(7);  // read at scrape time, not at start
  res = c.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("mailwarden_bans_active 7\n"), std::string::npos);
  EXPECT_EQ(c.Get("/other")->status, 404);
}

TEST(MetricsServer, BadListenAddressesAreErrors) {
  WatchMetrics m;
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:9x", "127.0.0.1:70000", ":80"}) {
    auto s = MetricsServer::start(bad, m);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find(bad), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace mw::ban
